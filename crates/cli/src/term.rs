//! Every human-readable line the CLI prints goes through these macros, which escape control
//! and bidirectional-formatting characters (`sqlexam_core::encoding::terminal_safe`): cells,
//! names and SQLite messages come from candidates and files, and must not drive the
//! terminal. JSON output is printed with the plain macros: it must stay exact.

/// `println!` for people.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", sqlexam_core::encoding::terminal_safe(&format!($($arg)*), true))
    };
}

/// `print!` for people.
macro_rules! say_part {
    ($($arg:tt)*) => {
        print!("{}", sqlexam_core::encoding::terminal_safe(&format!($($arg)*), true))
    };
}

/// `eprintln!` for people.
macro_rules! say_err {
    ($($arg:tt)*) => {
        eprintln!("{}", sqlexam_core::encoding::terminal_safe(&format!($($arg)*), true))
    };
}

/// `eprint!` for people.
macro_rules! say_err_part {
    ($($arg:tt)*) => {
        eprint!("{}", sqlexam_core::encoding::terminal_safe(&format!($($arg)*), true))
    };
}
