//! Re-grading in child processes: the workers that claim jobs and the child that grades
//! them. What a result means (flags, the lease, giving up) is decided in
//! `crate::domain::regrade`.

mod child;
mod worker;

pub use child::{GraderCommand, GraderError, child_main};
pub use worker::Regrader;
