//! Why an engine operation failed: one error type, each variant with a stable code.

use std::sync::Arc;

use crate::ErrorCode;

/// The error a failure came from (SQLite's, the file system's, a pack's), kept so the edge
/// (CLI, app, logs) can show the whole chain.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Why an engine operation failed. Messages are sentences; the [`ErrorCode`] is for
/// translation.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// `what` names the file or the step; `cause` is what failed there.
    #[error("the session store cannot be used: {what}")]
    Store {
        what: String,
        #[source]
        cause: Option<Cause>,
    },
    #[error("the session store is damaged and was not changed: {0}")]
    Damaged(String),
    #[error("the session store has been tampered with and was not changed: {0}")]
    Tampered(String),
    #[error("the pack was refused: {what}")]
    Pack {
        what: String,
        #[source]
        cause: Option<Cause>,
    },
    /// The pack given to start a session was refused (its code says why: a wrong start
    /// code, an expired or downgraded pack …).
    #[error("{0}")]
    PackRefused(crate::pack::PackError),
    #[error("no session {0}")]
    NoSession(String),
    #[error("no problem {0} in this exam")]
    NoProblem(String),
    #[error("the exam time is over: submissions are no longer accepted")]
    TimeUp,
    #[error("the exam has ended for this candidate")]
    Ended,
    #[error("the exam is paused until a proctor resumes it")]
    Interrupted,
    #[error("the proctor passphrase is wrong")]
    WrongPassphrase,
    #[error("this pack allows no proctor actions (it was built without a proctor passphrase)")]
    NoProctor,
    #[error(
        "the session store {0} is in use by another sqlexam program (the app?); close it first"
    )]
    Busy(String),
    #[error("candidate {0} has already taken this exam on this computer")]
    AlreadyStarted(String),
    /// The pack has a roster: the candidate's admission code, or a proctor, must admit them.
    #[error(
        "this exam has a roster: candidate {0} checks in with the admission code on their slip, or a proctor admits them"
    )]
    AdmissionNeeded(String),
    #[error("that admission code is not candidate {0}'s, or {0} is not on this exam's roster")]
    WrongAdmissionCode(String),
    #[error("{0}")]
    Invalid(String),
}

impl SessionError {
    /// The store failed at `what` (a path, a step), because of `cause`.
    pub fn store(
        what: impl std::fmt::Display,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SessionError::Store {
            what: what.to_string(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// The store cannot be used, for a reason of its own (no cause below it).
    pub fn store_says(what: impl Into<String>) -> Self {
        SessionError::Store {
            what: what.into(),
            cause: None,
        }
    }

    /// A pack at `what` was refused, because of `cause`.
    pub fn pack(
        what: impl std::fmt::Display,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SessionError::Pack {
            what: what.to_string(),
            cause: Some(Arc::new(cause)),
        }
    }
}

impl ErrorCode for SessionError {
    fn code(&self) -> &'static str {
        match self {
            SessionError::Store { .. } => "store",
            SessionError::Damaged(_) => "store_damaged",
            SessionError::Tampered(_) => "store_tampered",
            SessionError::Pack { .. } => "pack",
            SessionError::PackRefused(e) => e.code(),
            SessionError::NoSession(_) => "no_session",
            SessionError::NoProblem(_) => "no_problem",
            SessionError::TimeUp => "time_up",
            SessionError::Ended => "ended",
            SessionError::Interrupted => "interrupted",
            SessionError::WrongPassphrase => "wrong_passphrase",
            SessionError::NoProctor => "no_proctor",
            SessionError::Busy(_) => "store_busy",
            SessionError::AlreadyStarted(_) => "already_started",
            SessionError::AdmissionNeeded(_) => "admission_needed",
            SessionError::WrongAdmissionCode(_) => "wrong_admission_code",
            SessionError::Invalid(_) => "invalid",
        }
    }

    /// Only a store another program holds: once that program closes, the same call
    /// succeeds. A damaged or tampered store, or a refused pack, stays refused.
    fn retryable(&self) -> bool {
        match self {
            SessionError::Busy(_) => true,
            SessionError::PackRefused(e) => e.retryable(),
            _ => false,
        }
    }
}
