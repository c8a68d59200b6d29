//! What hubs and communities are computed from: per-tag, per-blog aggregates, weekly
//! activity, tags that co-occur on a hub's posts, and links between posts.
//!
//! Everything here is an aggregate the database computes, so the caller holds thousands of
//! rows, not millions: the hub computation (crate `kith-hubs`) works on these.

use crate::sqlite::{fmt_time, get_time};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use kith_model::{BlogId, PostId};
use rusqlite::{Connection, params};
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostRef {
    pub id: PostId,
    pub blog_id: BlogId,
    pub title: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
}

/// `from` links to `to`, a post of another blog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub from: PostRef,
    pub to: PostRef,
}

/// A [`Reply`] with the tags of both its posts (normal forms, sorted, each once): it
/// belongs to the hub of each.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// One pass over every (post, tag) pair of the posts that count, blog by blog and each
/// blog's posts newest first, folding them into the aggregates in memory: a blog's cells
/// are complete when the pass leaves the blog, and a post's tags are at hand together for
/// its co-tag pairs. (Four SQL aggregates over the same join took 25 times as long at a
/// million posts.)
pub(crate) fn hub_stats(conn: &Connection, q: &HubStatsQuery) -> Result<HubStats> {
    let ctx = "computing hub statistics";
    let filter = status_filter(q.public_only);
    // Times are stored as fixed-width RFC 3339 in UTC, so they compare as strings.
    let recent_since = fmt_time(q.recent_since);
    let weeks_since = fmt_time(q.weeks_since);
    let rising_since = fmt_time(q.rising_since);

    // (tag id, cell with a placeholder tag index), sorted and numbered at the end.
    let mut cells: Vec<(i64, TagBlogCell)> = Vec::new();
    // The current blog's cells by tag id.
    let mut blog_cells: HashMap<i64, TagBlogCell> = HashMap::new();
    let mut weeks: HashMap<(i64, i64), u32> = HashMap::new();
    let mut co: HashMap<(i64, i64), (u32, u32)> = HashMap::new();

    // Every post counted, with its blog: links between blogs are read through it.
    let mut post_blog: Vec<(i64, i64)> = Vec::new();
    // The post being read: its id, blog, date and distinct tags.
    let mut post: Option<(i64, i64, String)> = None;
    let mut tags: Vec<i64> = Vec::new();
    let mut fold = |post: &(i64, i64, String),
                    tags: &[i64],
                    blog_cells: &mut HashMap<i64, TagBlogCell>|
     -> Result<()> {
        let (_, blog, published) = post;
        let is_recent = u32::from(*published >= recent_since);
        for &t in tags {
            if let Some(c) = blog_cells.get_mut(&t) {
                c.posts += 1;
                c.recent += is_recent;
            } else {
                // The blog's posts come newest first: the first is the last.
                let last = DateTime::parse_from_rfc3339(published)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| Error::Backend {
                        context: ctx,
                        message: format!("post date {published:?}: {e}"),
                    })?;
                blog_cells.insert(
                    t,
                    TagBlogCell {
                        tag: 0,
                        blog: BlogId(*blog),
                        posts: 1,
                        recent: is_recent,
                        last,
                    },
                );
            }
        }
        if *published < weeks_since {
            return Ok(());
        }
        if let Some(week) = week_of_stored(published) {
            for &t in tags {
                *weeks.entry((t, week)).or_default() += 1;
            }
        }
        let rising = u32::from(*published >= rising_since);
        for &a in tags {
            for &b in tags {
                if a != b {
                    let e = co.entry((a, b)).or_default();
                    e.0 += rising;
                    e.1 += 1;
                }
            }
        }
        Ok(())
    };
    let sql = format!(
        "SELECT p.id, p.blog_id, p.published, pt.tag_id
         FROM posts p JOIN blogs b ON b.id = p.blog_id JOIN post_tags pt ON pt.post_id = p.id
         WHERE 1 {filter}
         ORDER BY p.blog_id, p.published DESC, p.id, pt.tag_id"
    );
    let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
    let mut rows = stmt.query([]).map_err(Error::backend(ctx))?;
    while let Some(r) = rows.next().map_err(Error::backend(ctx))? {
        let id: i64 = r.get(0).map_err(Error::backend(ctx))?;
        if post.as_ref().is_none_or(|p| p.0 != id) {
            let blog: i64 = r.get(1).map_err(Error::backend(ctx))?;
            if let Some(p) = &post {
                fold(p, &tags, &mut blog_cells)?;
                if p.1 != blog {
                    cells.extend(blog_cells.drain());
                }
            }
            tags.clear();
            post_blog.push((id, blog));
            let published = r
                .get_ref(2)
                .and_then(|v| Ok(v.as_str()?.to_owned()))
                .map_err(Error::backend(ctx))?;
            post = Some((id, blog, published));
        }
        // A tag both written by the author and extracted is one row per source.
        let tag: i64 = r.get(3).map_err(Error::backend(ctx))?;
        if tags.last() != Some(&tag) {
            tags.push(tag);
        }
    }
    if let Some(p) = &post {
        fold(p, &tags, &mut blog_cells)?;
        cells.extend(blog_cells.drain());
    }
    drop(rows);
    drop(stmt);

    let mut stats = HubStats::default();
    let names = tag_names(conn)?;
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
    let mut weeks: Vec<_> = weeks.into_iter().collect();
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
    let mut co: Vec<_> = co.into_iter().collect();
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

    stats.blog_posts = blog_post_counts(conn, filter)?;
    if q.links {
        post_blog.sort_unstable();
        stats.blog_links = links_between(conn, &post_blog)?;
    }
    Ok(stats)
}

/// Links between blogs among the posts counted (`post_blog`: (post, blog), sorted by
/// post): each link that lands on another blog's post, counted per (linking blog, linked
/// blog). The links come from `post_links` through `posts_url` alone ([`REPLY_LINKS_SQL`]),
/// and each end's blog from the pass that was made anyway: joining every link to its two
/// posts in SQL read the posts table at random (1.6 s of 7 at a million posts).
fn links_between(conn: &Connection, post_blog: &[(i64, i64)]) -> Result<Vec<BlogLink>> {
    let ctx = "counting links between blogs";
    let blog_of = |post: i64| {
        post_blog
            .binary_search_by_key(&post, |&(p, _)| p)
            .ok()
            .map(|i| post_blog[i].1)
    };
    let mut ends: Vec<(i64, i64)> = Vec::new();
    let mut stmt = conn.prepare(REPLY_LINKS_SQL).map_err(Error::backend(ctx))?;
    let mut rows = stmt.query([]).map_err(Error::backend(ctx))?;
    while let Some(r) = rows.next().map_err(Error::backend(ctx))? {
        let (from, to): (i64, i64) = (
            r.get(0).map_err(Error::backend(ctx))?,
            r.get(1).map_err(Error::backend(ctx))?,
        );
        if let (Some(a), Some(b)) = (blog_of(from), blog_of(to)) {
            ends.push((a, b));
        }
    }
    Ok(count_blog_links(ends))
}

/// Links between blogs from the (linking blog, linked blog) of each link: a blog's links
/// to itself left out, sorted by (from, to).
fn count_blog_links(ends: impl IntoIterator<Item = (i64, i64)>) -> Vec<BlogLink> {
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

/// Distinct posts per blog (all tags or none) among the blogs `filter` keeps.
fn blog_post_counts(conn: &Connection, filter: &str) -> Result<HashMap<BlogId, u32>> {
    let ctx = "counting posts per blog";
    let sql = format!(
        "SELECT p.blog_id, COUNT(*) FROM posts p JOIN blogs b ON b.id = p.blog_id
         WHERE 1 {filter} GROUP BY p.blog_id"
    );
    let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
    stmt.query_map([], |r| Ok((BlogId(r.get(0)?), r.get::<_, u32>(1)?)))
        .map_err(Error::backend(ctx))?
        .collect::<rusqlite::Result<_>>()
        .map_err(Error::backend(ctx))
}

fn tag_names(conn: &Connection) -> Result<HashMap<i64, (String, String)>> {
    let ctx = "reading tag names";
    let mut stmt = conn
        .prepare("SELECT id, name, display FROM tags")
        .map_err(Error::backend(ctx))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .map_err(Error::backend(ctx))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(Error::backend(ctx))
}

/// [`week_of`] of a stored time, from its date alone (`YYYY-MM-DD...`).
fn week_of_stored(t: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
    let days = date
        .signed_duration_since(chrono::NaiveDate::default())
        .num_days();
    Some((days + 3).div_euclid(7))
}

fn post_ref(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<PostRef> {
    Ok(PostRef {
        id: PostId(r.get(at)?),
        blog_id: BlogId(r.get(at + 1)?),
        title: r.get(at + 2)?,
        url: r.get(at + 3)?,
        published: get_time(r, at + 4)?,
    })
}

/// Every exchange between two blogs (a post linking to a post of another blog) where either
/// post has a tag, newest first (by the replying post), with the tags of both posts; of
/// each tag's exchanges only the `per_tag` newest are kept (an exchange stays while any of
/// its tags wants it), so every tag's `per_tag` newest are there and little else.
///
/// Driven by the links, never a scan of the posts (asked per tag, the planner scanned every
/// post and took seconds a request at a million posts):
/// 1. each link's two post ids, from `post_links` through `posts_url` alone
///    ([`REPLY_LINKS_SQL`]);
/// 2. each post at either end, its blog, date and tags, looked up by id in id order
///    ([`REPLY_POST_SQL`]): the table's own order, so its pages are read in one forward
///    sweep rather than once per link at random (at a million posts and 100,000 links, from
///    a cold page cache: 4.6 s, where one joined statement took 324 s; warm, both ~2 s);
/// 3. titles and addresses only for the exchanges kept ([`REPLY_REF_SQL`]).
///
/// With `links`, also the links between blogs as [`HubStats::blog_links`] counts them
/// (between posts with a tag, of blogs shown), from the same pass: `kith serve` reads them
/// here rather than once more in [`hub_stats`].
pub(crate) fn tagged_replies(
    conn: &Connection,
    public_only: bool,
    per_tag: usize,
    links: bool,
) -> Result<(Vec<TaggedReply>, Vec<BlogLink>)> {
    let ctx = "reading conversations";
    if per_tag == 0 && !links {
        return Ok((Vec::new(), Vec::new()));
    }
    let pairs_of_links: Vec<(i64, i64)> = {
        let mut stmt = conn.prepare(REPLY_LINKS_SQL).map_err(Error::backend(ctx))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(Error::backend(ctx))?
            .collect::<rusqlite::Result<_>>()
            .map_err(Error::backend(ctx))?
    };
    let mut ids: Vec<i64> = pairs_of_links
        .iter()
        .flat_map(|&(from, to)| [from, to])
        .collect();
    ids.sort_unstable();
    ids.dedup();

    /// What choosing the exchanges needs of a post.
    struct End {
        blog: i64,
        published: String,
        tags: Vec<i64>,
    }
    let mut ends: HashMap<i64, End> = HashMap::with_capacity(ids.len());
    {
        let mut stmt = conn.prepare(REPLY_POST_SQL).map_err(Error::backend(ctx))?;
        for &id in &ids {
            let mut rows = stmt.query([id]).map_err(Error::backend(ctx))?;
            if let Some(r) = rows.next().map_err(Error::backend(ctx))? {
                let tags: Option<String> = r.get(2).map_err(Error::backend(ctx))?;
                let mut tags: Vec<i64> = tags
                    .iter()
                    .flat_map(|s| s.split(','))
                    .filter_map(|t| t.parse().ok())
                    .collect();
                tags.sort_unstable();
                tags.dedup();
                ends.insert(
                    id,
                    End {
                        blog: r.get(0).map_err(Error::backend(ctx))?,
                        published: r.get(1).map_err(Error::backend(ctx))?,
                        tags,
                    },
                );
            }
        }
    }
    let shown: std::collections::HashSet<i64> = {
        let filter = if public_only {
            "WHERE status = 'verified'"
        } else {
            ""
        };
        let mut stmt = conn
            .prepare(&format!("SELECT id FROM blogs {filter}"))
            .map_err(Error::backend(ctx))?;
        stmt.query_map([], |r| r.get(0))
            .map_err(Error::backend(ctx))?
            .collect::<rusqlite::Result<_>>()
            .map_err(Error::backend(ctx))?
    };

    // Between blogs, both shown, with a tag; newest first (stored times compare as strings).
    // Links between blogs as `hub_stats` counts them: both posts with a tag, both shown.
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
        return Ok((Vec::new(), blog_links));
    }
    let mut exchanges: Vec<(&End, i64, &End, i64)> = pairs_of_links
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
    drop(ends);

    let mut ids: Vec<i64> = kept.iter().flat_map(|k| [k.0, k.1]).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut refs: HashMap<i64, PostRef> = HashMap::with_capacity(ids.len());
    {
        let mut stmt = conn.prepare(REPLY_REF_SQL).map_err(Error::backend(ctx))?;
        for id in ids {
            let r = stmt
                .query_row([id], |r| post_ref(r, 0))
                .map_err(Error::backend(ctx))?;
            refs.insert(id, r);
        }
    }
    let names = tag_names(conn)?;
    let replies = kept
        .into_iter()
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
        .collect();
    Ok((replies, blog_links))
}

/// Each link that lands on a stored post, as (linking post, linked post): from the links
/// through the `posts_url` index alone.
pub(crate) const REPLY_LINKS_SQL: &str = "SELECT l.post_id, q.id
     FROM post_links l CROSS JOIN posts q ON q.url = l.target_url
     WHERE q.id != l.post_id";

/// A post's blog, date and tag ids (comma-separated, repeated when a tag has two sources).
pub(crate) const REPLY_POST_SQL: &str = "SELECT p.blog_id, p.published,
            (SELECT group_concat(pt.tag_id) FROM post_tags pt WHERE pt.post_id = p.id)
     FROM posts p WHERE p.id = ?1";

/// A post as a conversation shows it ([`post_ref`]).
pub(crate) const REPLY_REF_SQL: &str =
    "SELECT id, blog_id, title, url, published FROM posts WHERE id = ?1";

/// The links between `post` and other posts, either way: posts linking to it and posts it
/// links to, newest first (by the linking post). Same-blog links count too (a follow-up
/// is part of the thread). With `public_only`, both sides belong to verified blogs.
pub(crate) fn post_replies(
    conn: &Connection,
    post: PostId,
    public_only: bool,
    limit: usize,
) -> Result<Vec<Reply>> {
    let ctx = "reading a post's conversations";
    let filter = if public_only {
        "AND bp.status = 'verified' AND bq.status = 'verified'"
    } else {
        ""
    };
    // Two arms so each uses its index: outgoing links by `post_links`' key, incoming ones
    // through the post's URL and `post_links_target_url`.
    let sql = format!(
        "SELECT * FROM (
           SELECT p.id, p.blog_id, p.title, p.url, p.published,
                  q.id, q.blog_id, q.title, q.url, q.published
           FROM post_links l JOIN posts p ON p.id = l.post_id JOIN posts q ON q.url = l.target_url
                JOIN blogs bp ON bp.id = p.blog_id JOIN blogs bq ON bq.id = q.blog_id
           WHERE l.post_id = ?1 AND q.id != ?1 {filter}
           UNION
           SELECT p.id, p.blog_id, p.title, p.url, p.published,
                  q.id, q.blog_id, q.title, q.url, q.published
           FROM posts q JOIN post_links l ON l.target_url = q.url JOIN posts p ON p.id = l.post_id
                JOIN blogs bp ON bp.id = p.blog_id JOIN blogs bq ON bq.id = q.blog_id
           WHERE q.id = ?1 AND p.id != ?1 {filter}
         )
         ORDER BY 5 DESC, 1 DESC
         LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    stmt.query_map(params![post.0, limit], |r| {
        Ok(Reply {
            from: post_ref(r, 0)?,
            to: post_ref(r, 5)?,
        })
    })
    .map_err(Error::backend(ctx))?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(Error::backend(ctx))
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

/// Replaces a post's outgoing links.
pub(crate) fn store_links(
    tx: &Connection,
    post: i64,
    html: &str,
    own_url: Option<&str>,
) -> Result<()> {
    let ctx = "storing a post's links";
    tx.prepare_cached("DELETE FROM post_links WHERE post_id = ?1")
        .and_then(|mut s| s.execute([post]))
        .map_err(Error::backend(ctx))?;
    let mut insert = tx
        .prepare_cached("INSERT OR IGNORE INTO post_links (post_id, target_url) VALUES (?1, ?2)")
        .map_err(Error::backend(ctx))?;
    for url in links_of(html, own_url) {
        insert
            .execute(params![post, url])
            .map_err(Error::backend(ctx))?;
    }
    Ok(())
}

/// The aggregates as four SQL queries: slow at scale, plain to read; the reference the
/// one-pass [`hub_stats`] is tested against.
#[cfg(test)]
pub(crate) mod reference {
    use super::*;

    /// [`blog_links`]' statement under a blog `filter` ([`status_filter`]).
    pub(crate) fn blog_links_sql(filter: &str) -> String {
        let (filter_p, filter_q) = (filter.replace("b.", "bp."), filter.replace("b.", "bq."));
        format!(
            "SELECT p.blog_id, q.blog_id, COUNT(*)
             FROM post_links l CROSS JOIN posts q ON q.url = l.target_url
                  JOIN posts p ON p.id = l.post_id
                  JOIN blogs bp ON bp.id = p.blog_id JOIN blogs bq ON bq.id = q.blog_id
             WHERE p.blog_id != q.blog_id {filter_p} {filter_q}
               AND EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = p.id)
               AND EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = q.id)
             GROUP BY p.blog_id, q.blog_id
             ORDER BY p.blog_id, q.blog_id"
        )
    }

    /// Links between blogs in one joined statement: each stored link that lands on a post
    /// of another blog, counted per (linking blog, linked blog), both blogs among those
    /// `filter` keeps (what [`super::links_between`] counts for posts with a tag).
    pub(crate) fn blog_links(conn: &Connection, filter: &str) -> Result<Vec<BlogLink>> {
        let ctx = "counting links between blogs";
        let sql = blog_links_sql(filter);
        let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
        stmt.query_map([], |r| {
            Ok(BlogLink {
                from: BlogId(r.get(0)?),
                to: BlogId(r.get(1)?),
                links: r.get(2)?,
            })
        })
        .map_err(Error::backend(ctx))?
        .collect::<rusqlite::Result<_>>()
        .map_err(Error::backend(ctx))
    }

    pub(crate) fn hub_stats_sql(conn: &Connection, q: &HubStatsQuery) -> Result<HubStats> {
        let ctx = "computing hub statistics";
        let filter = status_filter(q.public_only);
        let mut stats = HubStats::default();
        let mut index: HashMap<i64, u32> = HashMap::new();
        let mut local = |stats: &mut HubStats, id: i64, name: String, display: String| -> u32 {
            *index.entry(id).or_insert_with(|| {
                stats.tags.push(TagName { name, display });
                u32::try_from(stats.tags.len() - 1).unwrap_or(u32::MAX)
            })
        };

        // Distinct (post, tag) pairs: a tag both written by the author and extracted counts once.
        let sql = format!(
            "WITH pt AS (SELECT DISTINCT post_id, tag_id FROM post_tags)
             SELECT pt.tag_id, t.name, t.display, p.blog_id, COUNT(*),
                    SUM(p.published >= ?1), MAX(p.published)
             FROM pt JOIN posts p ON p.id = pt.post_id JOIN blogs b ON b.id = p.blog_id
                  JOIN tags t ON t.id = pt.tag_id
             WHERE 1 {filter}
             GROUP BY pt.tag_id, p.blog_id"
        );
        let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
        let mut rows = stmt
            .query(params![fmt_time(q.recent_since)])
            .map_err(Error::backend(ctx))?;
        while let Some(r) = rows.next().map_err(Error::backend(ctx))? {
            let tag = local(
                &mut stats,
                r.get(0).map_err(Error::backend(ctx))?,
                r.get(1).map_err(Error::backend(ctx))?,
                r.get(2).map_err(Error::backend(ctx))?,
            );
            stats.cells.push(TagBlogCell {
                tag,
                blog: BlogId(r.get(3).map_err(Error::backend(ctx))?),
                posts: r.get(4).map_err(Error::backend(ctx))?,
                recent: r
                    .get::<_, Option<u32>>(5)
                    .map_err(Error::backend(ctx))?
                    .unwrap_or(0),
                last: get_time(r, 6).map_err(Error::backend(ctx))?,
            });
        }
        drop(rows);
        drop(stmt);

        stats.blog_posts = blog_post_counts(conn, filter)?;
        if q.links {
            stats.blog_links = blog_links(conn, filter)?;
        }

        // Unix day 0 was a Thursday: +3 makes weeks start on Monday.
        let sql = format!(
            "WITH pt AS (SELECT DISTINCT post_id, tag_id FROM post_tags)
             SELECT pt.tag_id,
                    CAST((julianday(substr(p.published, 1, 10)) - 2440587.5 + 3) / 7 AS INTEGER) AS wk,
                    COUNT(*)
             FROM pt JOIN posts p ON p.id = pt.post_id JOIN blogs b ON b.id = p.blog_id
             WHERE p.published >= ?1 {filter}
             GROUP BY pt.tag_id, wk"
        );
        let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
        let weeks = stmt
            .query_map(params![fmt_time(q.weeks_since)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })
            .map_err(Error::backend(ctx))?;
        for w in weeks {
            let (id, week, posts) = w.map_err(Error::backend(ctx))?;
            // A tag with posts only in the window has a cell too, so it is always known.
            if let Some(&tag) = index.get(&id) {
                stats.weeks.push(TagWeek { tag, week, posts });
            }
        }
        drop(stmt);

        let sql = format!(
            "WITH pt AS (SELECT DISTINCT pt.post_id, pt.tag_id FROM post_tags pt
                         JOIN posts p ON p.id = pt.post_id JOIN blogs b ON b.id = p.blog_id
                         WHERE p.published >= ?1 {filter})
             SELECT a.tag_id, c.tag_id, SUM(p.published >= ?2), COUNT(*)
             FROM pt a JOIN pt c ON c.post_id = a.post_id AND c.tag_id != a.tag_id
                  JOIN posts p ON p.id = a.post_id
             GROUP BY a.tag_id, c.tag_id"
        );
        let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
        let co = stmt
            .query_map(
                params![fmt_time(q.weeks_since), fmt_time(q.rising_since)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<u32>>(2)?.unwrap_or(0),
                        r.get::<_, u32>(3)?,
                    ))
                },
            )
            .map_err(Error::backend(ctx))?;
        for c in co {
            let (a, b, recent, posts) = c.map_err(Error::backend(ctx))?;
            if let (Some(&tag), Some(&other)) = (index.get(&a), index.get(&b)) {
                stats.co_tags.push(CoTag {
                    tag,
                    other,
                    recent,
                    posts,
                });
            }
        }
        Ok(stats)
    }
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
