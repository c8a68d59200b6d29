//! What a change of rules does to a post's tags, for `kith rules preview`.

use crate::TagDecision;
use serde::Serialize;

/// The difference between two tag lists of one post.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TagDiff {
    /// In `new` only, in `new`'s order.
    pub added: Vec<TagDecision>,
    /// In `old` only, in `old`'s order.
    pub removed: Vec<TagDecision>,
    /// In both, with another source (`(old, new)`), in `new`'s order.
    pub changed: Vec<(TagDecision, TagDecision)>,
}

impl TagDiff {
    /// No tag added, removed or changed in source.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Tags added and removed from `old` to `new` (compared by normal form), and those whose
/// source changed. Scores and reasons alone do not count as a change.
pub fn diff(old: &[TagDecision], new: &[TagDecision]) -> TagDiff {
    let find = |list: &[TagDecision], tag: &str| list.iter().find(|d| d.tag == tag).cloned();
    let mut out = TagDiff::default();
    for n in new {
        match find(old, &n.tag) {
            None => out.added.push(n.clone()),
            Some(o) if o.source != n.source => out.changed.push((o, n.clone())),
            Some(_) => {}
        }
    }
    out.removed = old
        .iter()
        .filter(|o| !new.iter().any(|n| n.tag == o.tag))
        .cloned()
        .collect();
    out
}
