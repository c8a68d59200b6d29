//! The one error type of this crate.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's query cannot be read; `message` says why in plain words.
    #[error("bad search query: {message}")]
    BadQuery { message: String },
    /// Another process (a running `kith serve`, say) holds the index writer.
    #[error("the index in {path} is being written by another Kith process")]
    Busy { path: String },
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Store(#[from] kith_store::Error),
    #[error("index directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A blocking task died (the process is shutting down).
    #[error("index task failed: {0}")]
    Task(String),
}

impl Error {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Task(e.to_string())
    }
}
