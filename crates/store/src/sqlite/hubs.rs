//! Hubs' aggregates and conversations read from SQLite (see [`crate::hubs`] for what they
//! are and the passes shared with PostgreSQL).

use super::{fmt_time, get_time};
use crate::hubs::{
    BlogLink, End, HubFold, HubStats, HubStatsQuery, PostRef, Reply, Stamp, TaggedReply,
    choose_exchanges, links_between_posts, links_of, status_filter, tagged_replies_of,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use kith_model::{BlogId, PostId};
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// Stored times are fixed-width RFC 3339 in UTC, so they compare as strings.
impl Stamp for String {
    fn from_time(t: DateTime<Utc>) -> Self {
        fmt_time(t)
    }
    fn to_time(&self) -> Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(self)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Error::Backend {
                context: "computing hub statistics",
                message: format!("post date {self:?}: {e}"),
            })
    }
    fn week(&self) -> Option<i64> {
        week_of_stored(self)
    }
}

/// [`crate::hubs::HubFold`] over one ordered pass of SQLite's rows.
pub(crate) fn hub_stats(conn: &Connection, q: &HubStatsQuery) -> Result<HubStats> {
    let ctx = "computing hub statistics";
    let filter = status_filter(q.public_only);
    let mut fold: HubFold<String> = HubFold::new(q);
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
        let blog: i64 = r.get(1).map_err(Error::backend(ctx))?;
        let tag: i64 = r.get(3).map_err(Error::backend(ctx))?;
        fold.row(
            id,
            blog,
            || {
                r.get_ref(2)
                    .and_then(|v| Ok(v.as_str()?.to_owned()))
                    .map_err(Error::backend(ctx))
            },
            tag,
        )?;
    }
    drop(rows);
    drop(stmt);
    let (mut stats, post_blog) = fold.finish(&tag_names(conn)?)?;
    stats.blog_posts = blog_post_counts(conn, filter)?;
    if q.links {
        stats.blog_links = links_between(conn, &post_blog)?;
    }
    Ok(stats)
}

/// Links between blogs among the posts counted: the links come from `post_links` through
/// `posts_url` alone ([`REPLY_LINKS_SQL`]), see [`links_between_posts`].
fn links_between(conn: &Connection, post_blog: &[(i64, i64)]) -> Result<Vec<BlogLink>> {
    let ctx = "counting links between blogs";
    let mut stmt = conn.prepare(REPLY_LINKS_SQL).map_err(Error::backend(ctx))?;
    let links = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(Error::backend(ctx))?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()
        .map_err(Error::backend(ctx))?;
    Ok(links_between_posts(post_blog, links))
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

    let mut ends: HashMap<i64, End<String>> = HashMap::with_capacity(ids.len());
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
    let (kept, blog_links) = choose_exchanges(&pairs_of_links, &ends, &shown, per_tag, links);
    drop(ends);
    if kept.is_empty() {
        return Ok((Vec::new(), blog_links));
    }

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
    Ok((tagged_replies_of(kept, &refs, &names), blog_links))
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
    use crate::hubs::{CoTag, TagBlogCell, TagName, TagWeek};

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
