//! What hubs and communities are computed from: per-tag, per-blog aggregates, weekly
//! activity, tags that co-occur on a hub's posts, and links between posts.
//!
//! Everything here is an aggregate the database computes, so the caller holds thousands of
//! rows, not millions: the hub computation (crate `kith-hubs`) works on these.

use crate::Result;
use chrono::{DateTime, Utc};
use kith_model::{BlogId, PostId};
use serde::Serialize;
use std::collections::HashMap;

/// Which posts count, and the two windows hub statistics use.
#[derive(Debug, Clone, Copy)]
pub struct HubStatsQuery {
    /// Posts published at or after this are "recent" (members' engagement, roles).
    pub recent_since: DateTime<Utc>,
    /// Weekly activity and co-tag growth are counted from here on.
    pub weeks_since: DateTime<Utc>,
    /// Posts published at or after this are the co-tags' "now" (rising tags).
    pub rising_since: DateTime<Utc>,
    /// Only posts of verified blogs (what the public sees).
    pub public_only: bool,
    /// Also count the links between blogs ([`HubStats::blog_links`], for kin).
    pub links: bool,
}

/// A tag as stored: its normal form and a surface form people wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagName {
    pub name: String,
    pub display: String,
}

/// One blog's posts under one tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagBlogCell {
    /// Index into [`HubStats::tags`].
    pub tag: u32,
    pub blog: BlogId,
    /// Distinct posts, all time.
    pub posts: u32,
    /// Distinct posts published since [`HubStatsQuery::recent_since`].
    pub recent: u32,
    pub last: DateTime<Utc>,
}

/// Posts under one tag in one week (weeks start on Monday; `week` counts weeks since
/// Monday 1969-12-29, so `week * 7 - 3` is the Monday's day number since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagWeek {
    pub tag: u32,
    pub week: i64,
    pub posts: u32,
}

/// Posts carrying both `tag` and `other` within [`HubStatsQuery::weeks_since`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoTag {
    pub tag: u32,
    pub other: u32,
    /// Of which published since [`HubStatsQuery::rising_since`].
    pub recent: u32,
    pub posts: u32,
}

/// Posts of `from` linking to posts of `to` (another blog): a bond between two bloggers
/// beside the tags they share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlogLink {
    pub from: BlogId,
    pub to: BlogId,
    /// Distinct (linking post, linked post) pairs.
    pub links: u32,
}

/// The aggregates a hub computation starts from.
#[derive(Debug, Clone, Default)]
pub struct HubStats {
    pub tags: Vec<TagName>,
    pub cells: Vec<TagBlogCell>,
    pub weeks: Vec<TagWeek>,
    pub co_tags: Vec<CoTag>,
    /// Distinct posts per blog (all tags), for how concentrated a blogger is.
    pub blog_posts: HashMap<BlogId, u32>,
    /// Links between blogs (both counted by the filter, each from and to a post with a
    /// tag), sorted by (from, to); empty unless [`HubStatsQuery::links`].
    pub blog_links: Vec<BlogLink>,
}

/// A post as a conversation shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PostRef {
    pub id: PostId,
    pub blog_id: BlogId,
    pub title: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
}

/// `from` links to `to`, a post of another blog.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Reply {
    pub from: PostRef,
    pub to: PostRef,
}

/// A [`Reply`] with the tags of both its posts (normal forms, sorted, each once): it
/// belongs to the hub of each.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TaggedReply {
    pub reply: Reply,
    pub tags: Vec<String>,
}

/// Day number (since the Unix epoch) of the Monday starting week `week`.
pub fn week_start_day(week: i64) -> i64 {
    week * 7 - 3
}

/// The week number of a time, as [`TagWeek::week`] counts.
pub fn week_of(t: DateTime<Utc>) -> i64 {
    (t.timestamp().div_euclid(86_400) + 3).div_euclid(7)
}

pub(crate) fn status_filter(public_only: bool) -> &'static str {
    if public_only {
        "AND b.status = 'verified'"
    } else {
        "AND b.status IN ('verified', 'pending', 'paused', 'gone')"
    }
}

/// A post's publication time as a backend reads it (SQLite's fixed-width RFC 3339 text,
/// PostgreSQL's timestamps), compared with the query's thresholds in that same form so the
/// pass over every (post, tag) pair converts nothing but what it keeps.
pub(crate) trait Stamp: Ord + Clone {
    fn from_time(t: DateTime<Utc>) -> Self;
    fn to_time(&self) -> Result<DateTime<Utc>>;
    /// [`week_of`] this time.
    fn week(&self) -> Option<i64>;
}

impl Stamp for DateTime<Utc> {
    fn from_time(t: DateTime<Utc>) -> Self {
        t
    }
    fn to_time(&self) -> Result<DateTime<Utc>> {
        Ok(*self)
    }
    fn week(&self) -> Option<i64> {
        Some(week_of(*self))
    }
}

/// What [`HubFold`] keeps of one post while it reads the post's tags.
struct FoldPost<S> {
    id: i64,
    blog: i64,
    published: S,
}

/// One pass over every (post, tag) pair of the posts that count, blog by blog and each
/// blog's posts newest first, folding them into the aggregates in memory: a blog's cells
/// are complete when the pass leaves the blog, and a post's tags are at hand together for
/// its co-tag pairs. (Four SQL aggregates over the same join took 25 times as long at a
/// million posts.) Each backend streams its rows into [`HubFold::row`].
pub(crate) struct HubFold<S: Stamp> {
    recent_since: S,
    weeks_since: S,
    rising_since: S,
    /// (tag id, cell with a placeholder tag index), sorted and numbered at the end.
    cells: Vec<(i64, TagBlogCell)>,
    /// The current blog's cells by tag id.
    blog_cells: HashMap<i64, TagBlogCell>,
    weeks: HashMap<(i64, i64), u32>,
    co: HashMap<(i64, i64), (u32, u32)>,
    /// Every post counted, with its blog: links between blogs are read through it.
    post_blog: Vec<(i64, i64)>,
    /// The post being read and its distinct tags.
    post: Option<FoldPost<S>>,
    tags: Vec<i64>,
}

impl<S: Stamp> HubFold<S> {
    pub(crate) fn new(q: &HubStatsQuery) -> Self {
        HubFold {
            recent_since: S::from_time(q.recent_since),
            weeks_since: S::from_time(q.weeks_since),
            rising_since: S::from_time(q.rising_since),
            cells: Vec::new(),
            blog_cells: HashMap::new(),
            weeks: HashMap::new(),
            co: HashMap::new(),
            post_blog: Vec::new(),
            post: None,
            tags: Vec::new(),
        }
    }

    /// One (post, tag) row, in (blog, published descending, post, tag) order; `published`
    /// is asked for only on a post's first row.
    pub(crate) fn row(
        &mut self,
        post: i64,
        blog: i64,
        published: impl FnOnce() -> Result<S>,
        tag: i64,
    ) -> Result<()> {
        if self.post.as_ref().is_none_or(|p| p.id != post) {
            if let Some(p) = self.post.take() {
                self.fold(&p)?;
                if p.blog != blog {
                    self.cells.extend(self.blog_cells.drain());
                }
            }
            self.tags.clear();
            self.post_blog.push((post, blog));
            self.post = Some(FoldPost {
                id: post,
                blog,
                published: published()?,
            });
        }
        // A tag both written by the author and extracted is one row per source.
        if self.tags.last() != Some(&tag) {
            self.tags.push(tag);
        }
        Ok(())
    }

    fn fold(&mut self, post: &FoldPost<S>) -> Result<()> {
        let published = &post.published;
        let is_recent = u32::from(*published >= self.recent_since);
        for &t in &self.tags {
            if let Some(c) = self.blog_cells.get_mut(&t) {
                c.posts += 1;
                c.recent += is_recent;
            } else {
                // The blog's posts come newest first: the first is the last.
                self.blog_cells.insert(
                    t,
                    TagBlogCell {
                        tag: 0,
                        blog: BlogId(post.blog),
                        posts: 1,
                        recent: is_recent,
                        last: published.to_time()?,
                    },
                );
            }
        }
        if *published < self.weeks_since {
            return Ok(());
        }
        if let Some(week) = published.week() {
            for &t in &self.tags {
                *self.weeks.entry((t, week)).or_default() += 1;
            }
        }
        let rising = u32::from(*published >= self.rising_since);
        for &a in &self.tags {
            for &b in &self.tags {
                if a != b {
                    let e = self.co.entry((a, b)).or_default();
                    e.0 += rising;
                    e.1 += 1;
                }
            }
        }
        Ok(())
    }

    /// The aggregates, tags numbered in tag id order and named from `names` (tag id ->
    /// (name, display)); and every post counted with its blog, sorted by post.
    pub(crate) fn finish(
        mut self,
        names: &HashMap<i64, (String, String)>,
    ) -> Result<(HubStats, Vec<(i64, i64)>)> {
        if let Some(p) = self.post.take() {
            self.fold(&p)?;
            self.cells.extend(self.blog_cells.drain());
        }
        let mut stats = HubStats::default();
        let mut cells = self.cells;
        cells.sort_unstable_by_key(|(t, c)| (*t, c.blog));
        let mut index: HashMap<i64, u32> = HashMap::new();
        stats.cells = cells
            .into_iter()
            .map(|(tag_id, mut cell)| {
                cell.tag = *index.entry(tag_id).or_insert_with(|| {
                    let (name, display) = names.get(&tag_id).cloned().unwrap_or_default();
                    stats.tags.push(TagName { name, display });
                    u32::try_from(stats.tags.len() - 1).unwrap_or(u32::MAX)
                });
                cell
            })
            .collect();
        let mut weeks: Vec<_> = self.weeks.into_iter().collect();
        weeks.sort_unstable();
        stats.weeks = weeks
            .into_iter()
            .filter_map(|((t, week), posts)| {
                Some(TagWeek {
                    tag: *index.get(&t)?,
                    week,
                    posts,
                })
            })
            .collect();
        let mut co: Vec<_> = self.co.into_iter().collect();
        co.sort_unstable();
        stats.co_tags = co
            .into_iter()
            .filter_map(|((a, b), (recent, posts))| {
                Some(CoTag {
                    tag: *index.get(&a)?,
                    other: *index.get(&b)?,
                    recent,
                    posts,
                })
            })
            .collect();
        let mut post_blog = self.post_blog;
        post_blog.sort_unstable();
        Ok((stats, post_blog))
    }
}

/// Links between blogs among the posts counted (`post_blog`: (post, blog), sorted by
/// post), from each stored link that lands on a post ((linking post, linked post)): each
/// end's blog comes from the pass that was made anyway, not from joining every link to its
/// two posts (which read the posts table at random: 1.6 s of 7 at a million posts).
pub(crate) fn links_between_posts(
    post_blog: &[(i64, i64)],
    links: impl IntoIterator<Item = (i64, i64)>,
) -> Vec<BlogLink> {
    let blog_of = |post: i64| {
        post_blog
            .binary_search_by_key(&post, |&(p, _)| p)
            .ok()
            .map(|i| post_blog[i].1)
    };
    count_blog_links(
        links
            .into_iter()
            .filter_map(|(from, to)| Some((blog_of(from)?, blog_of(to)?))),
    )
}

/// What choosing a conversation's exchanges needs of each post at either end of a link.
pub(crate) struct End<S> {
    pub(crate) blog: i64,
    pub(crate) published: S,
    /// Distinct tag ids, sorted.
    pub(crate) tags: Vec<i64>,
}

/// Conversations from the links ((linking post, linked post)) and their ends: the links
/// between blogs as [`HubStats::blog_links`] counts them (both posts with a tag, both
/// blogs `shown`) when `links`, and of each tag's exchanges between two shown blogs the
/// `per_tag` newest (by the replying post; an exchange stays while any of its tags wants
/// it), as (from, to, tag ids).
#[allow(clippy::type_complexity)]
pub(crate) fn choose_exchanges<S: Stamp>(
    pairs_of_links: &[(i64, i64)],
    ends: &HashMap<i64, End<S>>,
    shown: &std::collections::HashSet<i64>,
    per_tag: usize,
    links: bool,
) -> (Vec<(i64, i64, Vec<i64>)>, Vec<BlogLink>) {
    let blog_links = if links {
        count_blog_links(
            pairs_of_links
                .iter()
                .filter_map(|(from, to)| Some((ends.get(from)?, ends.get(to)?)))
                .filter(|(p, q)| {
                    !p.tags.is_empty()
                        && !q.tags.is_empty()
                        && shown.contains(&p.blog)
                        && shown.contains(&q.blog)
                })
                .map(|(p, q)| (p.blog, q.blog)),
        )
    } else {
        Vec::new()
    };
    if per_tag == 0 {
        return (Vec::new(), blog_links);
    }
    let mut exchanges: Vec<(&End<S>, i64, &End<S>, i64)> = pairs_of_links
        .iter()
        .filter_map(|&(from, to)| Some((ends.get(&from)?, from, ends.get(&to)?, to)))
        .filter(|(p, _, q, _)| {
            p.blog != q.blog
                && shown.contains(&p.blog)
                && shown.contains(&q.blog)
                && !(p.tags.is_empty() && q.tags.is_empty())
        })
        .collect();
    exchanges.sort_unstable_by(|a, b| {
        b.0.published
            .cmp(&a.0.published)
            .then(b.1.cmp(&a.1))
            .then(a.3.cmp(&b.3))
    });
    let mut taken: HashMap<i64, usize> = HashMap::new();
    let mut kept: Vec<(i64, i64, Vec<i64>)> = Vec::new();
    for (p, from, q, to) in exchanges {
        let mut tags: Vec<i64> = p.tags.iter().chain(&q.tags).copied().collect();
        // A tag on both posts counts once.
        tags.sort_unstable();
        tags.dedup();
        if tags
            .iter()
            .any(|t| taken.get(t).is_none_or(|&n| n < per_tag))
        {
            for &t in &tags {
                *taken.entry(t).or_default() += 1;
            }
            kept.push((from, to, tags));
        }
    }
    (kept, blog_links)
}

/// The exchanges kept as conversations show them: each end's [`PostRef`] from `refs`, the
/// tags by name (sorted).
pub(crate) fn tagged_replies_of(
    kept: Vec<(i64, i64, Vec<i64>)>,
    refs: &HashMap<i64, PostRef>,
    names: &HashMap<i64, (String, String)>,
) -> Vec<TaggedReply> {
    kept.into_iter()
        .filter_map(|(from, to, tags)| {
            let mut tags: Vec<String> = tags
                .iter()
                .filter_map(|t| names.get(t).map(|(name, _)| name.clone()))
                .collect();
            tags.sort_unstable();
            Some(TaggedReply {
                reply: Reply {
                    from: refs.get(&from)?.clone(),
                    to: refs.get(&to)?.clone(),
                },
                tags,
            })
        })
        .collect()
}

/// Links between blogs from the (linking blog, linked blog) of each link: a blog's links
/// to itself left out, sorted by (from, to).
pub(crate) fn count_blog_links(ends: impl IntoIterator<Item = (i64, i64)>) -> Vec<BlogLink> {
    let mut pairs: HashMap<(i64, i64), u32> = HashMap::new();
    for (a, b) in ends {
        if a != b {
            *pairs.entry((a, b)).or_default() += 1;
        }
    }
    let mut links: Vec<BlogLink> = pairs
        .into_iter()
        .map(|((from, to), links)| BlogLink {
            from: BlogId(from),
            to: BlogId(to),
            links,
        })
        .collect();
    links.sort_unstable_by_key(|l| (l.from, l.to));
    links
}

/// Most links kept per post: a link roundup should not flood the table.
const MAX_LINKS_PER_POST: usize = 200;

/// The distinct http(s) links of sanitised HTML (the sanitiser writes every attribute as
/// `href="..."` with `&amp;` escaping), without fragments, excluding `own_url`.
pub fn links_of(html: &str, own_url: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("href=\"") {
        rest = &rest[at + 6..];
        let Some(end) = rest.find('"') else { break };
        let raw = rest[..end].replace("&amp;", "&");
        rest = &rest[end..];
        let url = raw.split('#').next().unwrap_or_default().trim();
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            continue;
        }
        if Some(url) == own_url || out.iter().any(|u| u == url) {
            continue;
        }
        out.push(url.to_owned());
        if out.len() == MAX_LINKS_PER_POST {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn links_are_distinct_absolute_and_without_fragments() {
        let html = r#"<p><a href="https://a.example/x#y" rel="nofollow">a</a>
            <a href="https://a.example/x">again</a> <a href="mailto:me@example.com">m</a>
            <a href="https://b.example/?q=1&amp;r=2">b</a> <a href="https://self.example/p">me</a>"#;
        assert_eq!(
            links_of(html, Some("https://self.example/p")),
            vec!["https://a.example/x", "https://b.example/?q=1&r=2"]
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        use chrono::TimeZone;
        let monday = Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap();
        let sunday = Utc.with_ymd_and_hms(2026, 11, 22, 23, 59, 59).unwrap();
        let next = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
        assert_eq!(week_of(monday), week_of(sunday));
        assert_eq!(week_of(next), week_of(monday) + 1);
        assert_eq!(week_start_day(week_of(monday)), monday.timestamp() / 86_400);
    }
}
