//! The one error type of this crate.

use kith_model::BlogId;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The blog is already registered (its feed, after normalisation, is known).
    #[error("this blog is already registered as #{existing} ({feed_url})")]
    Duplicate { existing: BlogId, feed_url: String },
    #[error("no blog #{0}")]
    NoSuchBlog(BlogId),
    /// The database was written by a newer Kith.
    #[error(
        "the database is at schema version {found}, newer than this kith knows ({known}); upgrade kith"
    )]
    TooNew { found: i64, known: i64 },
    #[error("cannot open the database at {path}: {message}")]
    Open { path: String, message: String },
    #[error("migration {version} ({name}) failed: {message}")]
    Migration {
        version: i64,
        name: &'static str,
        message: String,
    },
    /// Any other backend failure, with what we were doing.
    #[error("database error while {context}: {message}")]
    Backend {
        context: &'static str,
        message: String,
    },
    /// The writer is gone (the process is shutting down).
    #[error("the store is closed")]
    Closed,
}

impl Error {
    pub(crate) fn backend(context: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
        move |e| Error::Backend {
            context,
            message: e.to_string(),
        }
    }
}
