//! The index feed: what `kith-index` reads to follow the store.
//!
//! The full-text index is derived data. It remembers the [`ChangeMark`] of the last post it
//! indexed (`posts.changed_at`, then the post id to break ties) and asks for the posts
//! changed after it; a consistency check compares per-blog post counts and statuses with
//! what the index holds. Every query here is keyset-paginated on an index of `posts`.

use crate::sqlite::{POST_COLUMNS, attach_tags, fmt_time, get_time, post_from_row};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use kith_model::{BlogId, BlogStatus, Post, PostId};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;

/// A position in the store's change order: posts are ordered by (`changed_at`, `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeMark {
    pub changed_at: DateTime<Utc>,
    pub id: PostId,
}

impl ChangeMark {
    /// A compact text form (`RFC 3339 micros` + `/` + id), e.g. for an index commit payload.
    pub fn encode(&self) -> String {
        format!("{}/{}", fmt_time(self.changed_at), self.id.0)
    }

    /// The inverse of [`ChangeMark::encode`]; `None` for anything else.
    pub fn decode(s: &str) -> Option<ChangeMark> {
        let (t, id) = s.trim().rsplit_once('/')?;
        Some(ChangeMark {
            changed_at: DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc),
            id: PostId(id.parse().ok()?),
        })
    }
}

/// A post as the index needs it: with its change mark and its blog's status.
#[derive(Debug, Clone)]
pub struct ChangedPost {
    pub mark: ChangeMark,
    pub blog_status: BlogStatus,
    pub post: Post,
}

/// Which store, and how far what is public in it has changed outside the posts' change
/// marks (see [`crate::Store::store_epoch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEpoch {
    /// Random, made when the store was created.
    pub store_id: String,
    pub epoch: i64,
}

impl StoreEpoch {
    /// `store_id:epoch`, as an index keeps it in its commit payload.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.store_id, self.epoch)
    }

    /// The inverse of [`StoreEpoch::encode`]; `None` for anything else.
    pub fn decode(s: &str) -> Option<StoreEpoch> {
        let (id, epoch) = s.trim().rsplit_once(':')?;
        (!id.is_empty() && !id.contains(char::is_whitespace)).then_some(())?;
        Some(StoreEpoch {
            store_id: id.to_owned(),
            epoch: epoch.parse().ok()?,
        })
    }
}

/// One blog's status and how many posts it has in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlogPostCount {
    pub blog: BlogId,
    pub status: BlogStatus,
    pub posts: u64,
}

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
                ChangeMark {
                    changed_at: get_time(r, n)?,
                    id: post.id,
                },
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
        |r| {
            Ok(ChangeMark {
                changed_at: get_time(r, 0)?,
                id: PostId(r.get(1)?),
            })
        },
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn change_marks_round_trip_and_reject_junk() {
        let m = ChangeMark {
            changed_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            id: PostId(42),
        };
        assert_eq!(ChangeMark::decode(&m.encode()), Some(m));
        assert_eq!(ChangeMark::decode(""), None);
        assert_eq!(ChangeMark::decode("yesterday/1"), None);
        assert_eq!(ChangeMark::decode("2026-01-02T03:04:05Z/x"), None);
    }
}
