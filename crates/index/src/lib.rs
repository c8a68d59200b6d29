//! # kith-index: full-text search and hub rivers over the store's posts
//!
//! Consumes posts from the store (the source of truth) through the store's index feed
//! ([`kith_store::Store::posts_changed_since`] and friends); produces search results and
//! rivers (newest first, a blog's first-crawl history kept off the top) for the CLI and the
//! web.
//!
//! - One task owns the tantivy `IndexWriter` ([`Indexer`]): it follows the store by
//!   [`ChangeMark`](kith_store::ChangeMark), commits in batches (by count and by time) and
//!   writes the mark it reached as the commit payload, so after a kill it resumes from the
//!   last commit. At start-up it checks the index against the store (per-blog post counts
//!   and statuses) and repairs what differs; a full rebuild is the last resort.
//! - Readers share a [`SearchIndex`] (cheap to clone): a fresh searcher per request.
//! - On disk, `<dir>/CURRENT` names the live generation (`<dir>/gen-N`); a rebuild writes
//!   a new generation and swaps `CURRENT` atomically, so no reader ever sees half an index.
//!
//! ## Layout
//! - [`schema`] — the fields, the tokenizers, a post as a document.
//! - [`search`] — [`SearchIndex`]: [`SearchQuery`] -> [`SearchResults`], rivers, census.
//! - [`indexer`] — [`Indexer`]: the one writer, catch-up, consistency check, rebuild.
//! - [`dir`] — generations on disk.
//! - [`error`] — [`Error`] and [`Result`].

pub mod dir;
pub mod error;
pub mod indexer;
pub mod schema;
pub mod search;

#[cfg(test)]
mod tests;

pub use error::{Error, Result};
pub use indexer::{CheckReport, Indexer, IndexerOptions, RebuildReport, rebuild_offline};
pub use search::{
    RiverCursor, RiverHit, SearchHit, SearchIndex, SearchQuery, SearchResults, SearchSort,
};

/// The river key of a post: its publication time in Unix seconds, plus [`LIVE_BONUS`]
/// when it was published after its blog joined (not backfill). Sorting by it, newest first,
/// puts live posts above a newly registered blog's history.
pub fn river_key(published: chrono::DateTime<chrono::Utc>, backfill: bool) -> i64 {
    published.timestamp() + if backfill { 0 } else { LIVE_BONUS }
}

/// 2^40 seconds is about 35,000 years: far more than any publication date spans.
pub const LIVE_BONUS: i64 = 1 << 40;
