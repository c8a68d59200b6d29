//! The one error type of this crate: rules that compile in `kith-config`'s eyes but not
//! in the tagger's.

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a set of rules cannot be used, phrased for the curator who has to fix `tags.toml`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tag in a rule has nothing left after normalising.
    #[error("rule {rule}: {value:?} is not a usable tag (nothing left after normalising)")]
    BadTag { rule: String, value: String },
    /// Aliases and merges together form a loop (each kind alone is checked by
    /// `kith-config`).
    #[error("aliases and merges form a loop: {chain}; point every link at the final tag")]
    Cycle { chain: String },
    #[error("regex rule {pattern:?} does not compile: {source}")]
    Regex {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("phrase rules cannot be compiled: {0}")]
    Phrases(String),
    #[error("blog {url:?}: {reason}")]
    BlogUrl { url: String, reason: String },
}
