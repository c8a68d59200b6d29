//! Re-tagging stored posts (`kith retag`) and the surface forms tags are shown in.
//!
//! The types here are the [`Store`](crate::Store) trait's vocabulary for re-tagging, and
//! `plan_retag` decides what a re-tag does to one post; each backend reads and writes
//! the rows (`sqlite::retag`, `postgres`).
//!
//! A re-tag replaces a post's tags in batches, one write transaction per batch, and
//! records a checkpoint (the last post done, the rules' fingerprint, running totals) in
//! the same transaction: a killed run resumes after the last committed batch and never
//! applies half a batch.

use chrono::{DateTime, Utc};
use kith_model::{NewTag, PostId, TagSource};
use std::collections::BTreeSet;

/// The new tags of one post, as a re-tag decided them.
#[derive(Debug, Clone, PartialEq)]
pub struct RetagPost {
    pub post: PostId,
    /// The post's content hash when it was read (`kith_model::content_hash(title, text)`):
    /// a post edited since (and so tagged afresh at ingestion) is left alone.
    pub content_hash: String,
    /// Best first, as the tagger returned them.
    pub tags: Vec<NewTag>,
}

/// Where a re-tag is after a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetagProgress {
    /// Fingerprint of the rules in force (see [`RetagCheckpoint::fingerprint`]).
    pub fingerprint: String,
    /// The last post id of this batch: the next batch starts after it.
    pub last_post: PostId,
    /// This was the last batch: the checkpoint is removed instead of updated.
    pub done: bool,
}

/// What a re-tag did, over the whole run (resumed parts included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetagStats {
    /// Posts looked at.
    pub checked: u64,
    /// Posts whose set of tags (name and source) changed; their `changed_at` was bumped.
    pub changed: u64,
    /// Posts whose tag rows were rewritten: the changed ones and those where only scores,
    /// reasons or surface forms moved.
    pub rewritten: u64,
    /// Posts removed or edited since they were read (an edit is tagged at ingestion).
    pub skipped: u64,
    /// Tags put on posts that did not have them.
    pub tags_added: u64,
    /// Tags taken off posts.
    pub tags_removed: u64,
}

impl std::ops::AddAssign for RetagStats {
    fn add_assign(&mut self, o: RetagStats) {
        self.checked += o.checked;
        self.changed += o.changed;
        self.rewritten += o.rewritten;
        self.skipped += o.skipped;
        self.tags_added += o.tags_added;
        self.tags_removed += o.tags_removed;
    }
}

/// An unfinished re-tag.
#[derive(Debug, Clone, PartialEq)]
pub struct RetagCheckpoint {
    /// Identifies the rules the run applies; a run under other rules starts over.
    pub fingerprint: String,
    /// Posts up to this id are done.
    pub last_post: PostId,
    pub totals: RetagStats,
    pub started_at: DateTime<Utc>,
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// One stored tag row of a post (name, source, score bits, reason, display), in a form
/// that compares exactly.
pub(crate) type TagRow = (String, &'static str, u64, String, Option<String>);

/// A stored source in its canonical spelling.
pub(crate) fn source_str(s: &str) -> &'static str {
    TagSource::parse(s).map_or("extracted", TagSource::as_str)
}

/// What a re-tag does to one post.
pub(crate) struct RetagPlan<'a> {
    /// The tags to store, deduplicated the way the insert's primary key would (first
    /// decision per tag and source wins).
    pub(crate) new: Vec<&'a NewTag>,
    /// Whether its set of (tag, source) changed: then its change mark moves on, so the
    /// index and the hubs see it.
    pub(crate) changed: bool,
}

/// Compares a post's stored tag rows (`old`, any order) with what the re-tag decided and
/// counts the difference in `stats`; `None` when nothing is to be written.
pub(crate) fn plan_retag<'a>(
    mut old: Vec<TagRow>,
    p: &'a RetagPost,
    stats: &mut RetagStats,
) -> Option<RetagPlan<'a>> {
    let mut seen = BTreeSet::new();
    let new: Vec<&NewTag> = p
        .tags
        .iter()
        .filter(|t| seen.insert((t.tag.as_str(), t.source.as_str())))
        .collect();
    let mut wanted: Vec<TagRow> = new
        .iter()
        .map(|t| {
            (
                t.tag.clone(),
                t.source.as_str(),
                t.score.to_bits(),
                t.reason.clone(),
                Some(t.display.trim().to_owned()),
            )
        })
        .collect();
    wanted.sort();
    old.sort();
    if old == wanted {
        return None;
    }
    let names = |rows: &[TagRow]| -> BTreeSet<(String, &'static str)> {
        rows.iter().map(|r| (r.0.clone(), r.1)).collect()
    };
    let (old_set, new_set) = (names(&old), names(&wanted));
    let tag_names = |s: &BTreeSet<(String, &'static str)>| -> BTreeSet<String> {
        s.iter().map(|(n, _)| n.clone()).collect()
    };
    let (old_tags, new_tags) = (tag_names(&old_set), tag_names(&new_set));
    stats.rewritten += 1;
    stats.tags_added += new_tags.difference(&old_tags).count() as u64;
    stats.tags_removed += old_tags.difference(&new_tags).count() as u64;
    let changed = old_set != new_set;
    if changed {
        stats.changed += 1;
    }
    Some(RetagPlan { new, changed })
}
