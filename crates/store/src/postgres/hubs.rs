//! Hubs' aggregates and conversations read from PostgreSQL (see [`crate::hubs`] for what
//! they are and the passes shared with SQLite).

use super::{col, pg_err};
use crate::hubs::{
    BlogLink, End, HubFold, HubStats, HubStatsQuery, PostRef, Reply, TaggedReply, choose_exchanges,
    links_between_posts, status_filter, tagged_replies_of,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use futures::TryStreamExt;
use kith_model::{BlogId, PostId};
use std::collections::{HashMap, HashSet};
use tokio_postgres::Row;

/// Each link that lands on a stored post, as (linking post, linked post).
const REPLY_LINKS_SQL: &str = "SELECT l.post_id, q.id
     FROM post_links l JOIN posts q ON q.url = l.target_url
     WHERE q.id != l.post_id";

/// [`HubFold`] over one ordered pass, streamed: the rows are never all in memory.
pub(crate) async fn hub_stats(c: &impl GenericClient, q: &HubStatsQuery) -> Result<HubStats> {
    let ctx = "computing hub statistics";
    let filter = status_filter(q.public_only);
    let mut fold: HubFold<DateTime<Utc>> = HubFold::new(q);
    let sql = format!(
        "SELECT p.id, p.blog_id, p.published, pt.tag_id
         FROM posts p JOIN blogs b ON b.id = p.blog_id JOIN post_tags pt ON pt.post_id = p.id
         WHERE TRUE {filter}
         ORDER BY p.blog_id, p.published DESC, p.id, pt.tag_id"
    );
    let stmt = c.prepare_cached(&sql).await.map_err(pg_err(ctx))?;
    let rows = c
        .query_raw(&stmt, std::iter::empty::<i64>())
        .await
        .map_err(pg_err(ctx))?;
    futures::pin_mut!(rows);
    while let Some(r) = rows.try_next().await.map_err(pg_err(ctx))? {
        fold.row(col(&r, 0)?, col(&r, 1)?, || col(&r, 2), col(&r, 3)?)?;
    }
    let (mut stats, post_blog) = fold.finish(&tag_names(c).await?)?;
    stats.blog_posts = blog_post_counts(c, filter).await?;
    if q.links {
        let links = c.query(REPLY_LINKS_SQL, &[]).await.map_err(pg_err(ctx))?;
        let links = links
            .iter()
            .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
            .collect::<Result<Vec<(i64, i64)>>>()?;
        stats.blog_links = links_between_posts(&post_blog, links);
    }
    Ok(stats)
}

/// Distinct posts per blog among the blogs `filter` keeps.
async fn blog_post_counts(c: &impl GenericClient, filter: &str) -> Result<HashMap<BlogId, u32>> {
    let ctx = "counting posts per blog";
    let rows = c
        .query(
            &format!(
                "SELECT p.blog_id, COUNT(*) FROM posts p JOIN blogs b ON b.id = p.blog_id
                 WHERE TRUE {filter} GROUP BY p.blog_id"
            ),
            &[],
        )
        .await
        .map_err(pg_err(ctx))?;
    rows.iter()
        .map(|r| {
            Ok((
                BlogId(col(r, 0)?),
                u32::try_from(col::<i64>(r, 1)?).unwrap_or(u32::MAX),
            ))
        })
        .collect()
}

async fn tag_names(c: &impl GenericClient) -> Result<HashMap<i64, (String, String)>> {
    let rows = c
        .query("SELECT id, name, display FROM tags", &[])
        .await
        .map_err(pg_err("reading tag names"))?;
    rows.iter()
        .map(|r| Ok((col(r, 0)?, (col(r, 1)?, col(r, 2)?))))
        .collect()
}

fn post_ref(r: &Row, at: usize) -> Result<PostRef> {
    Ok(PostRef {
        id: PostId(col(r, at)?),
        blog_id: BlogId(col(r, at + 1)?),
        title: col(r, at + 2)?,
        url: col(r, at + 3)?,
        published: col(r, at + 4)?,
    })
}

/// Conversations as [`crate::Store::replies_and_links`] gives them, driven by the links:
/// the posts at either end are read by id, all at once.
pub(crate) async fn tagged_replies(
    c: &impl GenericClient,
    public_only: bool,
    per_tag: usize,
    links: bool,
) -> Result<(Vec<TaggedReply>, Vec<BlogLink>)> {
    let ctx = "reading conversations";
    if per_tag == 0 && !links {
        return Ok((Vec::new(), Vec::new()));
    }
    let pairs_of_links: Vec<(i64, i64)> = c
        .query(REPLY_LINKS_SQL, &[])
        .await
        .map_err(pg_err(ctx))?
        .iter()
        .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
        .collect::<Result<_>>()?;
    let mut ids: Vec<i64> = pairs_of_links
        .iter()
        .flat_map(|&(from, to)| [from, to])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = c
        .query(
            "SELECT p.id, p.blog_id, p.published,
                    COALESCE((SELECT array_agg(DISTINCT pt.tag_id ORDER BY pt.tag_id)
                              FROM post_tags pt WHERE pt.post_id = p.id), '{}')
             FROM posts p WHERE p.id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(pg_err(ctx))?;
    let mut ends: HashMap<i64, End<DateTime<Utc>>> = HashMap::with_capacity(rows.len());
    for r in &rows {
        ends.insert(
            col(r, 0)?,
            End {
                blog: col(r, 1)?,
                published: col(r, 2)?,
                tags: col(r, 3)?,
            },
        );
    }
    let filter = if public_only {
        "WHERE status = 'verified'"
    } else {
        ""
    };
    let shown: HashSet<i64> = c
        .query(&format!("SELECT id FROM blogs {filter}"), &[])
        .await
        .map_err(pg_err(ctx))?
        .iter()
        .map(|r| col(r, 0))
        .collect::<Result<_>>()?;
    let (kept, blog_links) = choose_exchanges(&pairs_of_links, &ends, &shown, per_tag, links);
    drop(ends);
    if kept.is_empty() {
        return Ok((Vec::new(), blog_links));
    }
    let mut ids: Vec<i64> = kept.iter().flat_map(|k| [k.0, k.1]).collect();
    ids.sort_unstable();
    ids.dedup();
    let refs: HashMap<i64, PostRef> = c
        .query(
            "SELECT id, blog_id, title, url, published FROM posts WHERE id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(pg_err(ctx))?
        .iter()
        .map(|r| Ok((col(r, 0)?, post_ref(r, 0)?)))
        .collect::<Result<_>>()?;
    let names = tag_names(c).await?;
    Ok((tagged_replies_of(kept, &refs, &names), blog_links))
}

/// The links between `post` and other posts, either way, newest first (by the linking
/// post); with `public_only`, both sides of verified blogs.
pub(crate) async fn post_replies(
    c: &impl GenericClient,
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
    let cols = "p.id AS p_id, p.blog_id AS p_blog, p.title AS p_title, p.url AS p_url,
                p.published AS p_published, q.id AS q_id, q.blog_id AS q_blog,
                q.title AS q_title, q.url AS q_url, q.published AS q_published";
    let sql = format!(
        "SELECT * FROM (
           SELECT {cols}
           FROM post_links l JOIN posts p ON p.id = l.post_id JOIN posts q ON q.url = l.target_url
                JOIN blogs bp ON bp.id = p.blog_id JOIN blogs bq ON bq.id = q.blog_id
           WHERE l.post_id = $1 AND q.id != $1 {filter}
           UNION
           SELECT {cols}
           FROM posts q JOIN post_links l ON l.target_url = q.url JOIN posts p ON p.id = l.post_id
                JOIN blogs bp ON bp.id = p.blog_id JOIN blogs bq ON bq.id = q.blog_id
           WHERE q.id = $1 AND p.id != $1 {filter}
         ) AS x
         ORDER BY p_published DESC, p_id DESC
         LIMIT $2"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = c
        .query(&sql, &[&post.0, &limit])
        .await
        .map_err(pg_err(ctx))?;
    rows.iter()
        .map(|r| {
            Ok(Reply {
                from: post_ref(r, 0)?,
                to: post_ref(r, 5)?,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map_err(|e: Error| e)
}
