//! The tagger's document frequencies as a store keeps them between runs.

use crate::PostId;
use chrono::{DateTime, Utc};

/// A saved table of document frequencies (opaque bytes the tagger writes and reads) and
/// the last post it counts: a process that starts reads it and counts only the posts
/// stored after `through`, instead of every stored post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDf {
    /// Every post up to this id is counted (none when the store held no post).
    pub through: Option<PostId>,
    pub bytes: Vec<u8>,
    pub saved_at: DateTime<Utc>,
}
