//! The index feed on SQLite: keyset-paginated reads on an index of `posts` (see
//! [`crate::index_feed`]).

use super::{POST_COLUMNS, attach_tags, fmt_time, get_time, post_from_row};
use crate::{BlogPostCount, ChangeMark, ChangedPost, Error, Result, StoreEpoch};
use kith_model::{BlogId, BlogStatus, Post, PostId};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;

fn status_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<BlogStatus> {
    let s: String = row.get(idx)?;
    s.parse::<BlogStatus>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn select_changed(
    conn: &Connection,
    filter: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<ChangedPost>> {
    let ctx = "reading changed posts";
    let sql = format!(
        "SELECT {POST_COLUMNS}, p.changed_at, b.status FROM posts p JOIN blogs b ON b.id = p.blog_id {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(Error::backend(ctx))?;
    let n = POST_COLUMNS.split(',').count();
    let rows = stmt
        .query_map(params, |r| {
            let post = post_from_row(r)?;
            Ok((
                ChangeMark::at(get_time(r, n)?, post.id),
                status_at(r, n + 1)?,
                post,
            ))
        })
        .map_err(Error::backend(ctx))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(Error::backend(ctx))?;
    let (meta, mut posts): (Vec<_>, Vec<_>) = rows.into_iter().map(|(m, s, p)| ((m, s), p)).unzip();
    attach_tags(conn, &mut posts)?;
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

pub(crate) fn posts_changed_since(
    conn: &Connection,
    mark: Option<ChangeMark>,
    limit: usize,
) -> Result<Vec<ChangedPost>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match mark {
        None => select_changed(
            conn,
            "ORDER BY p.changed_at, p.id LIMIT ?1",
            &[&limit as &dyn rusqlite::ToSql],
        ),
        Some(m) => select_changed(
            conn,
            "WHERE (p.changed_at, p.id) > (?1, ?2) ORDER BY p.changed_at, p.id LIMIT ?3",
            &[&fmt_time(m.changed_at), &m.id.0, &limit],
        ),
    }
}

pub(crate) fn blog_posts_for_index(
    conn: &Connection,
    blog: BlogId,
    after: Option<PostId>,
    limit: usize,
) -> Result<Vec<ChangedPost>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let after = after.map_or(0, |p| p.0);
    select_changed(
        conn,
        "WHERE p.blog_id = ?1 AND p.id > ?2 ORDER BY p.id LIMIT ?3",
        &[&blog.0, &after, &limit],
    )
}

pub(crate) fn posts_by_ids(conn: &Connection, ids: &[PostId]) -> Result<Vec<Post>> {
    let ctx = "reading posts by id";
    let mut found: HashMap<i64, Post> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let placeholders = vec!["?"; chunk.len()].join(",");
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM posts p JOIN blogs b ON b.id = p.blog_id WHERE p.id IN ({placeholders})"
        );
        let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
        let mut posts = stmt
            .query_map(
                rusqlite::params_from_iter(chunk.iter().map(|p| p.0)),
                post_from_row,
            )
            .map_err(Error::backend(ctx))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::backend(ctx))?;
        attach_tags(conn, &mut posts)?;
        found.extend(posts.into_iter().map(|p| (p.id.0, p)));
    }
    Ok(ids.iter().filter_map(|id| found.remove(&id.0)).collect())
}

pub(crate) fn latest_change_mark(conn: &Connection) -> Result<Option<ChangeMark>> {
    conn.query_row(
        "SELECT changed_at, id FROM posts ORDER BY changed_at DESC, id DESC LIMIT 1",
        [],
        |r| Ok(ChangeMark::at(get_time(r, 0)?, PostId(r.get(1)?))),
    )
    .optional()
    .map_err(Error::backend("reading the latest change"))
}

pub(crate) fn store_epoch(conn: &Connection) -> Result<StoreEpoch> {
    conn.query_row(
        "SELECT store_id, visibility_epoch FROM store_meta WHERE id = 1",
        [],
        |r| {
            Ok(StoreEpoch {
                store_id: r.get(0)?,
                epoch: r.get(1)?,
            })
        },
    )
    .map_err(Error::backend("reading the store's epoch"))
}

pub(crate) fn post_counts_by_blog(conn: &Connection) -> Result<Vec<BlogPostCount>> {
    let ctx = "counting posts per blog";
    let mut stmt = conn
        .prepare_cached(
            "SELECT b.id, b.status, (SELECT COUNT(*) FROM posts p WHERE p.blog_id = b.id)
             FROM blogs b ORDER BY b.id",
        )
        .map_err(Error::backend(ctx))?;
    stmt.query_map(params![], |r| {
        Ok(BlogPostCount {
            blog: BlogId(r.get(0)?),
            status: status_at(r, 1)?,
            posts: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
        })
    })
    .map_err(Error::backend(ctx))?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(Error::backend(ctx))
}
