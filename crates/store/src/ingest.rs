//! What storing a poll decides whatever the backend: the notes a feed's health shows, the
//! tags a post is stored with when the crawler decided none, what happened to each entry.

use kith_model::{NewPost, NewTag, TagSource, normalize_tag};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// What storing one entry did.
pub(crate) enum Outcome {
    New,
    Updated,
    Unchanged,
    /// Newly noted as another feed's copy of a stored post; `Some(owner)` when the post
    /// stays another blog's (this entry is skipped), `None` when it became this blog's.
    CrossPosted(Option<i64>),
    /// Already noted as a copy of the post of blog `owner`: skipped again.
    KnownCrossPost(i64),
}

/// The notes column: one note per line, NULL for none.
pub(crate) fn notes_text(notes: &[String]) -> Option<String> {
    let lines: Vec<String> = notes
        .iter()
        .map(|n| n.replace(['\n', '\r'], " "))
        .filter(|n| !n.trim().is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// "12 entries skipped: they are already stored as blog #7's posts".
pub(crate) fn skipped_note(by_owner: &BTreeMap<i64, usize>) -> String {
    let total: usize = by_owner.values().sum();
    let entries = if total == 1 { "entry" } else { "entries" };
    let whose = match by_owner.iter().collect::<Vec<_>>().as_slice() {
        [(owner, _)] => format!(
            "blog #{owner}'s {}",
            if total == 1 { "post" } else { "posts" }
        ),
        many => {
            let parts: Vec<String> = many
                .iter()
                .map(|(owner, n)| format!("blog #{owner} ({n})"))
                .collect();
            format!("posts of {}", parts.join(", "))
        }
    };
    format!(
        "{total} {entries} skipped: {} already stored as {whose} (the same guid or address), \
         which this feed may not overwrite",
        if total == 1 { "it is" } else { "they are" }
    )
}

/// The tags a post is stored with: the crawler's decision, or else (a post stored without
/// the tagger) its feed categories as author tags.
pub(crate) fn author_tags(post: &NewPost) -> Cow<'_, [NewTag]> {
    if !post.tags.is_empty() {
        return Cow::Borrowed(&post.tags);
    }
    Cow::Owned(
        post.categories
            .iter()
            .filter_map(|raw| {
                Some(NewTag {
                    tag: normalize_tag(raw)?,
                    display: raw.trim().to_owned(),
                    source: TagSource::Author,
                    score: 1.0,
                    reason: format!("feed category {:?}", raw.trim()),
                })
            })
            .collect(),
    )
}

/// Counts one entry's outcome in a poll's stats, and in `skipped` the entries left to
/// another blog's post, by that blog (said in the feed's notes).
pub(crate) fn tally(
    outcome: Outcome,
    stats: &mut kith_model::IngestStats,
    skipped: &mut BTreeMap<i64, usize>,
) {
    match outcome {
        Outcome::New => stats.new += 1,
        Outcome::Updated => stats.updated += 1,
        Outcome::Unchanged => stats.unchanged += 1,
        Outcome::KnownCrossPost(owner) => {
            stats.unchanged += 1;
            *skipped.entry(owner).or_default() += 1;
        }
        Outcome::CrossPosted(owner) => {
            stats.cross_posted += 1;
            if let Some(owner) = owner {
                *skipped.entry(owner).or_default() += 1;
            }
        }
    }
}

/// Whether a post at `post_url`, already stored under the blog at `owner_home`, belongs to
/// the blog at `this_home` instead: the post is on this blog's host and not on the
/// owner's (an aggregator saw it first).
pub(crate) fn is_authors_copy(post_url: &str, this_home: Option<&str>, owner_home: &str) -> bool {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    };
    let post_host = host(post_url);
    post_host.is_some() && this_home.and_then(host) == post_host && host(owner_home) != post_host
}

/// What looking for an entry under another blog (by its address) found.
pub(crate) enum CrossPost {
    /// Not stored under another blog.
    No,
    /// Stored under its author (that blog); this feed is noted as another source.
    Noted(i64),
    /// Stored under an aggregator; it now belongs to this blog (its author).
    Adopted(i64),
}
