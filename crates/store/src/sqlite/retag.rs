//! Re-tagging on SQLite: the rows [`crate::retag`] decides about, read and written on the
//! writer thread or a reader.

use super::fmt_time;
use crate::retag::{TagRow, plan_retag, source_str, to_i64, to_u64};
use crate::{Error, Result, RetagCheckpoint, RetagPost, RetagProgress, RetagStats};
use chrono::{DateTime, Utc};
use kith_model::{NewTag, PostId};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// Replaces the stored categories of a post (called whenever a post is stored).
pub(crate) fn save_categories(tx: &Connection, post: i64, categories: &[String]) -> Result<()> {
    let ctx = "storing a post's categories";
    tx.prepare_cached("DELETE FROM post_categories WHERE post_id = ?1")
        .and_then(|mut s| s.execute([post]))
        .map_err(Error::backend(ctx))?;
    let mut insert = tx
        .prepare_cached("INSERT INTO post_categories (post_id, position, raw) VALUES (?1, ?2, ?3)")
        .map_err(Error::backend(ctx))?;
    for (i, raw) in categories.iter().enumerate() {
        insert
            .execute(params![post, to_i64(i as u64), raw])
            .map_err(Error::backend(ctx))?;
    }
    Ok(())
}

/// The stored categories of `posts`, in feed order; posts without any are absent.
pub(crate) fn post_categories(
    conn: &Connection,
    posts: &[PostId],
) -> Result<HashMap<PostId, Vec<String>>> {
    let ctx = "reading post categories";
    let mut out: HashMap<PostId, Vec<String>> = HashMap::new();
    for chunk in posts.chunks(500) {
        let placeholders = vec!["?"; chunk.len()].join(",");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT post_id, raw FROM post_categories WHERE post_id IN ({placeholders})
                 ORDER BY post_id, position"
            ))
            .map_err(Error::backend(ctx))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(chunk.iter().map(|p| p.0)), |r| {
                Ok((PostId(r.get(0)?), r.get::<_, String>(1)?))
            })
            .map_err(Error::backend(ctx))?;
        for row in rows {
            let (post, raw) = row.map_err(Error::backend(ctx))?;
            out.entry(post).or_default().push(raw);
        }
    }
    Ok(out)
}

const CHECKPOINT_COLUMNS: &str =
    "rules_fingerprint, last_post_id, checked, changed, rewritten, skipped,
     tags_added, tags_removed, started_at";

fn checkpoint_in(conn: &Connection) -> Result<Option<RetagCheckpoint>> {
    conn.query_row(
        &format!("SELECT {CHECKPOINT_COLUMNS} FROM retag_checkpoint WHERE id = 1"),
        [],
        |r| {
            Ok(RetagCheckpoint {
                fingerprint: r.get(0)?,
                last_post: PostId(r.get(1)?),
                totals: RetagStats {
                    checked: to_u64(r.get(2)?),
                    changed: to_u64(r.get(3)?),
                    rewritten: to_u64(r.get(4)?),
                    skipped: to_u64(r.get(5)?),
                    tags_added: to_u64(r.get(6)?),
                    tags_removed: to_u64(r.get(7)?),
                },
                started_at: {
                    let s: String = r.get(8)?;
                    DateTime::parse_from_rfc3339(&s)
                        .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc))
                },
            })
        },
    )
    .optional()
    .map_err(Error::backend("reading the retag checkpoint"))
}

/// The unfinished re-tag, if any.
pub(crate) fn checkpoint(conn: &Connection) -> Result<Option<RetagCheckpoint>> {
    checkpoint_in(conn)
}

/// Forgets an unfinished re-tag (`kith retag --restart`).
pub(crate) fn clear_checkpoint(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM retag_checkpoint", [])
        .map_err(Error::backend("clearing the retag checkpoint"))?;
    Ok(())
}

fn stored_rows(tx: &Connection, post: i64) -> Result<Vec<TagRow>> {
    let ctx = "reading a post's tags";
    let mut stmt = tx
        .prepare_cached(
            "SELECT t.name, pt.source, pt.score, pt.reason, pt.display
             FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = ?1",
        )
        .map_err(Error::backend(ctx))?;
    let rows = stmt
        .query_map([post], |r| {
            Ok((
                r.get::<_, String>(0)?,
                source_str(&r.get::<_, String>(1)?),
                r.get::<_, f64>(2)?.to_bits(),
                r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(Error::backend(ctx))?;
    let mut out = rows
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(Error::backend(ctx))?;
    out.sort();
    Ok(out)
}

/// Inserts one decided tag of a post (the tag itself first, when new).
pub(crate) fn insert_post_tag(tx: &Connection, post: i64, t: &NewTag) -> Result<()> {
    let ctx = "storing a post's tags";
    let display = t.display.trim();
    tx.prepare_cached(
        "INSERT INTO tags (name, display) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
    )
    .and_then(|mut s| s.execute(params![t.tag, display]))
    .map_err(Error::backend(ctx))?;
    tx.prepare_cached(
        "INSERT INTO post_tags (post_id, tag_id, source, score, reason, display)
         SELECT ?1, id, ?3, ?4, ?5, ?6 FROM tags WHERE name = ?2
         ON CONFLICT DO NOTHING",
    )
    .and_then(|mut s| {
        s.execute(params![
            post,
            t.tag,
            t.source.as_str(),
            t.score,
            t.reason,
            display
        ])
    })
    .map_err(Error::backend(ctx))?;
    Ok(())
}

/// Re-tags one post inside the batch's transaction.
fn retag_one(tx: &Connection, p: &RetagPost, now: &str, stats: &mut RetagStats) -> Result<()> {
    let ctx = "re-tagging a post";
    stats.checked += 1;
    let hash: Option<String> = tx
        .prepare_cached("SELECT content_hash FROM posts WHERE id = ?1")
        .and_then(|mut s| s.query_row([p.post.0], |r| r.get(0)).optional())
        .map_err(Error::backend(ctx))?;
    if hash.as_deref() != Some(p.content_hash.as_str()) {
        stats.skipped += 1;
        return Ok(());
    }
    let Some(plan) = plan_retag(stored_rows(tx, p.post.0)?, p, stats) else {
        return Ok(());
    };
    tx.prepare_cached("DELETE FROM post_tags WHERE post_id = ?1")
        .and_then(|mut s| s.execute([p.post.0]))
        .map_err(Error::backend(ctx))?;
    for t in plan.new {
        insert_post_tag(tx, p.post.0, t)?;
    }
    if plan.changed {
        tx.prepare_cached("UPDATE posts SET changed_at = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![p.post.0, now]))
            .map_err(Error::backend(ctx))?;
    }
    Ok(())
}

/// Applies one batch and moves the checkpoint, in one transaction; returns the run's
/// totals so far.
pub(crate) fn replace_batch(
    conn: &mut Connection,
    posts: &[RetagPost],
    progress: &RetagProgress,
) -> Result<RetagStats> {
    let ctx = "re-tagging a batch";
    let now = Utc::now();
    let now_s = fmt_time(now);
    let tx = conn.transaction().map_err(Error::backend(ctx))?;
    let mut batch = RetagStats::default();
    for p in posts {
        retag_one(&tx, p, &now_s, &mut batch)?;
    }
    let previous = checkpoint_in(&tx)?.filter(|c| c.fingerprint == progress.fingerprint);
    let started_at = previous.as_ref().map_or(now, |c| c.started_at);
    let mut totals = previous.map(|c| c.totals).unwrap_or_default();
    totals += batch;
    if progress.done {
        tx.execute("DELETE FROM retag_checkpoint", [])
            .map_err(Error::backend(ctx))?;
    } else {
        tx.execute(
            "INSERT INTO retag_checkpoint (id, rules_fingerprint, last_post_id, checked, changed,
                 rewritten, skipped, tags_added, tags_removed, started_at, updated_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET rules_fingerprint = ?1, last_post_id = ?2,
                 checked = ?3, changed = ?4, rewritten = ?5, skipped = ?6, tags_added = ?7,
                 tags_removed = ?8, started_at = ?9, updated_at = ?10",
            params![
                progress.fingerprint,
                progress.last_post.0,
                to_i64(totals.checked),
                to_i64(totals.changed),
                to_i64(totals.rewritten),
                to_i64(totals.skipped),
                to_i64(totals.tags_added),
                to_i64(totals.tags_removed),
                fmt_time(started_at),
                now_s
            ],
        )
        .map_err(Error::backend(ctx))?;
    }
    tx.commit().map_err(Error::backend(ctx))?;
    Ok(totals)
}

/// The most common surface form of each of `tags` (normal forms) across the posts that
/// carry it; the tag's first-seen form when no post row records one. Unknown tags are
/// absent.
pub(crate) fn tag_displays(conn: &Connection, tags: &[String]) -> Result<HashMap<String, String>> {
    let ctx = "reading tag display forms";
    let mut out = HashMap::with_capacity(tags.len());
    for chunk in tags.chunks(500) {
        let placeholders = vec!["?"; chunk.len()].join(",");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT t.name, COALESCE(
                     (SELECT pt.display FROM post_tags pt
                      WHERE pt.tag_id = t.id AND pt.display IS NOT NULL AND pt.display != ''
                      GROUP BY pt.display ORDER BY COUNT(*) DESC, pt.display LIMIT 1),
                     t.display)
                 FROM tags t WHERE t.name IN ({placeholders})"
            ))
            .map_err(Error::backend(ctx))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(chunk.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(Error::backend(ctx))?;
        for row in rows {
            let (name, display) = row.map_err(Error::backend(ctx))?;
            out.insert(name, display);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    /// A store written before migration 0002 keeps its authors' categories, recovered from
    /// the reasons of their author tags.
    #[test]
    fn the_migration_recovers_categories_from_author_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = rusqlite::Connection::open(dir.path().join("old.sqlite3")).unwrap();
        conn.execute_batch(crate::sqlite::migrate::MIGRATIONS[0].sql)
            .unwrap();
        conn.execute_batch(
            r#"INSERT INTO blogs VALUES (1, 'h', 'f', 'k', 't', 'verified', 'tok', 'x');
               INSERT INTO posts (id, blog_id, guid, title, published, content_html, text,
                   content_hash, first_seen_at, changed_at) VALUES
                   (1, 1, 'g', 't', 'x', '', '', 'h', 'x', 'x');
               INSERT INTO tags VALUES (1, 'rust', 'Rust'), (2, 'go', 'Go'), (3, 'say', 'x'),
                   (4, 'kw', 'kw');
               INSERT INTO post_tags VALUES
                   (1, 2, 'author', 1, 'feed category "Golang" (alias of go); also keyword: 2x'),
                   (1, 1, 'author', 1, 'feed category "Rust"'),
                   (1, 3, 'author', 1, 'feed category "say \"hi\"; ok"; also rule x'),
                   (1, 4, 'extracted', 0.5, 'keyword: 3x in text');"#,
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(crate::sqlite::migrate::MIGRATIONS[1].sql)
            .unwrap();
        tx.commit().unwrap();
        let mut stmt = conn
            .prepare("SELECT raw FROM post_categories WHERE post_id = 1 ORDER BY position")
            .unwrap();
        let raws: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(raws, vec!["Golang", "Rust", "say \"hi\"; ok"]);
    }
}
