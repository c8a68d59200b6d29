//! Crawl leases: which due feeds a crawl process may claim (see
//! [`crate::Store::claim_due_blogs`]). Each backend reads the candidates and the hosts
//! other processes hold, and writes the claims; the choice is made here.

use kith_model::Blog;
use std::collections::HashSet;

/// The host of a feed URL (what per-host politeness counts), lowercased; the URL itself
/// when it has none.
pub(crate) fn host_of(feed_url: &str) -> String {
    url::Url::parse(feed_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_else(|| feed_url.to_owned())
}

/// How many candidates to read for `limit` claims: some may be on hosts others hold.
pub(crate) fn candidates_for(limit: usize, held_hosts: usize) -> usize {
    limit.saturating_mul(2).saturating_add(held_hosts).max(16)
}

/// Of `candidates` (most overdue first), at most `limit` whose hosts no other process
/// holds.
pub(crate) fn pick(
    candidates: Vec<Blog>,
    held_by_others: &HashSet<String>,
    limit: usize,
) -> Vec<Blog> {
    candidates
        .into_iter()
        .filter(|b| !held_by_others.contains(&host_of(&b.feed_url)))
        .take(limit)
        .collect()
}
