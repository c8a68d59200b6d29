//! The one error type of this crate.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A configuration problem, phrased for the person who has to fix the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed, a key is unknown or a value has the wrong type. `message`
    /// comes from the TOML parser and names the key and the line.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// The file parsed but a value makes no sense.
    #[error("{path}: `{key}` {reason}")]
    Invalid {
        path: PathBuf,
        key: String,
        reason: String,
    },
    /// A curator rule is wrong; `line` is 1-based.
    #[error("{path}:{line}: {rule}: {reason}")]
    Rule {
        path: PathBuf,
        line: usize,
        rule: String,
        reason: String,
    },
    #[error("environment variable {var}={value:?}: {reason}")]
    Env {
        var: &'static str,
        value: String,
        reason: String,
    },
}
