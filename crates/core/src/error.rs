//! The error of problem loading, and the one contract every error of sqlexam-core keeps
//! ([`ErrorCode`]). Each message is a sentence an organizer can act on, naming the file
//! (and line) where there is one.

use std::path::PathBuf;

/// Errors of problem loading and grading infrastructure (a candidate's bad SQL is not an
/// error: it is a verdict).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A TOML file that does not parse or does not match the format.
    #[error("{path}:{line}:{column}: {message}")]
    Toml {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A file or folder that breaks a rule of the problem format.
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// SQL in a schema, dataset or reference file that SQLite refused.
    #[error("{path}:{line}:{column}: {message}")]
    Sql {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The reference solution did not produce a result on a dataset.
    #[error("{path}: the reference solution fails on dataset {dataset}: {message}")]
    Reference {
        path: PathBuf,
        dataset: String,
        message: String,
    },
    /// SQLite failed where it should not (out of memory while building an image, …).
    #[error("SQLite failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What every error of sqlexam-core offers besides its sentence: a stable code that the
/// CLI (its exit code), the app (its UI text) and a server translate and act on, and
/// whether the same request may succeed later unchanged. Codes are part of the interface
/// (docs/cli.md and the UI translate by them): never change one.
pub trait ErrorCode: std::error::Error {
    /// A stable snake_case code for the kind of failure.
    fn code(&self) -> &'static str;
    /// Whether the failure is transient: the same call may succeed once something else lets
    /// go (a store another program holds), as opposed to input or state that is refused
    /// every time until someone changes it.
    fn retryable(&self) -> bool {
        false
    }
}

impl ErrorCode for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Toml { .. } => "toml",
            Error::Invalid { .. } => "invalid",
            Error::Sql { .. } => "sql",
            Error::Reference { .. } => "reference",
            Error::Sqlite(_) => "sqlite",
        }
    }
}

impl Error {
    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// An error's sentence followed by each of its causes (`a: b: c`): how an edge (the CLI,
/// a log line, an HTTP body) shows an error whose variants keep their sources.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        // A variant that already says its cause in its own sentence is not repeated.
        if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("日本\nx", 7), (2, 1));
    }
}
