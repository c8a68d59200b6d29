//! The index feed on PostgreSQL: posts in commit-safe order.
//!
//! Many writers commit at once, and a transaction that began earlier can commit later. A
//! cursor of (`changed_at`, id), or of a plain sequence, would then hand out a mark past a
//! post that is not committed yet, and that post would never be read: a web node's index
//! would miss it for good.
//!
//! Here every write of a post stamps it with the id of its top-level transaction
//! (`posts.change_seq`, set by a trigger, so no write path can forget). A reader takes
//! only posts whose transaction is older than every transaction still running
//! (`change_seq < pg_snapshot_xmin(pg_current_snapshot())`, computed in the same
//! statement as the read): all of those have committed or aborted, so no post can later
//! appear at or below any mark handed out. Posts of transactions still running, and of any
//! newer ones, wait for the next read. The price: a transaction that stays open (a long
//! re-tag batch, a session left idle in a transaction) holds the feed back until it ends;
//! `/readyz` shows that as index lag.

use super::{attach_tags, col, pg_err, post_from_row};
use crate::sqlite::POST_COLUMNS;
use crate::{BlogPostCount, ChangeMark, ChangedPost, Error, Result};
use deadpool_postgres::GenericClient;
use kith_model::{BlogId, BlogStatus, Post, PostId};
use std::collections::HashMap;
use tokio_postgres::types::ToSql;

/// Below this transaction id, every transaction has ended.
const HORIZON: &str = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

fn status(s: &str) -> Result<BlogStatus> {
    s.parse::<BlogStatus>().map_err(|e| Error::Backend {
        context: "reading changed posts",
        message: e.to_string(),
    })
}

async fn select_changed(
    c: &impl GenericClient,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<ChangedPost>> {
    let ctx = "reading changed posts";
    let sql = format!(
        "SELECT {POST_COLUMNS}, p.changed_at, b.status, p.change_seq
         FROM posts p JOIN blogs b ON b.id = p.blog_id {filter}"
    );
    let stmt = c.prepare_cached(&sql).await.map_err(pg_err(ctx))?;
    let rows = c.query(&stmt, params).await.map_err(pg_err(ctx))?;
    let n = POST_COLUMNS.split(',').count();
    let mut meta = Vec::with_capacity(rows.len());
    let mut posts = Vec::with_capacity(rows.len());
    for r in &rows {
        let post = post_from_row(r)?;
        meta.push((
            ChangeMark {
                seq: col(r, n + 2)?,
                id: post.id,
                changed_at: col(r, n)?,
            },
            status(&col::<String>(r, n + 1)?)?,
        ));
        posts.push(post);
    }
    attach_tags(c, &mut posts).await?;
    Ok(meta
        .into_iter()
        .zip(posts)
        .map(|((mark, blog_status), post)| ChangedPost {
            mark,
            blog_status,
            post,
        })
        .collect())
}

pub(crate) async fn posts_changed_since(
    c: &impl GenericClient,
    mark: Option<ChangeMark>,
    limit: usize,
) -> Result<Vec<ChangedPost>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (seq, id) = mark.map_or((i64::MIN, 0), |m| (m.seq, m.id.0));
    select_changed(
        c,
        &format!(
            "WHERE (p.change_seq, p.id) > ($1, $2) AND p.change_seq < {HORIZON}
             ORDER BY p.change_seq, p.id LIMIT $3"
        ),
        &[&seq, &id, &limit],
    )
    .await
}

pub(crate) async fn blog_posts_for_index(
    c: &impl GenericClient,
    blog: BlogId,
    after: Option<PostId>,
    limit: usize,
) -> Result<Vec<ChangedPost>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let after = after.map_or(0, |p| p.0);
    select_changed(
        c,
        "WHERE p.blog_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3",
        &[&blog.0, &after, &limit],
    )
    .await
}

pub(crate) async fn posts_by_ids(c: &impl GenericClient, ids: &[PostId]) -> Result<Vec<Post>> {
    let raw: Vec<i64> = ids.iter().map(|p| p.0).collect();
    let found = super::select_posts(c, "WHERE p.id = ANY($1)", &[&raw]).await?;
    let mut found: HashMap<i64, Post> = found.into_iter().map(|p| (p.id.0, p)).collect();
    Ok(ids.iter().filter_map(|id| found.remove(&id.0)).collect())
}

pub(crate) async fn latest_change_mark(c: &impl GenericClient) -> Result<Option<ChangeMark>> {
    let row = c
        .query_opt(
            "SELECT change_seq, id, changed_at FROM posts
             ORDER BY change_seq DESC, id DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(pg_err("reading the latest change"))?;
    row.map(|r| {
        Ok(ChangeMark {
            seq: col(&r, 0)?,
            id: PostId(col(&r, 1)?),
            changed_at: col(&r, 2)?,
        })
    })
    .transpose()
}

pub(crate) async fn post_counts_by_blog(c: &impl GenericClient) -> Result<Vec<BlogPostCount>> {
    let rows = c
        .query(
            "SELECT b.id, b.status, (SELECT COUNT(*) FROM posts p WHERE p.blog_id = b.id)
             FROM blogs b ORDER BY b.id",
            &[],
        )
        .await
        .map_err(pg_err("counting posts per blog"))?;
    rows.iter()
        .map(|r| {
            Ok(BlogPostCount {
                blog: BlogId(col(r, 0)?),
                status: status(&col::<String>(r, 1)?)?,
                posts: u64::try_from(col::<i64>(r, 2)?).unwrap_or(0),
            })
        })
        .collect()
}
