//! Re-tagging on PostgreSQL: the rows [`crate::retag`] decides about.

use super::{WResult, col, create_tags, insert_post_tags, pg_err};
use crate::retag::{TagRow, plan_retag, source_str, to_i64, to_u64};
use crate::{Result, RetagCheckpoint, RetagPost, RetagProgress, RetagStats};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use kith_model::PostId;
use std::collections::HashMap;

pub(crate) async fn post_categories(
    c: &impl GenericClient,
    posts: &[PostId],
) -> Result<HashMap<PostId, Vec<String>>> {
    let ids: Vec<i64> = posts.iter().map(|p| p.0).collect();
    let rows = c
        .query(
            "SELECT post_id, raw FROM post_categories WHERE post_id = ANY($1)
             ORDER BY post_id, position",
            &[&ids],
        )
        .await
        .map_err(pg_err("reading post categories"))?;
    let mut out: HashMap<PostId, Vec<String>> = HashMap::new();
    for r in &rows {
        out.entry(PostId(col(r, 0)?)).or_default().push(col(r, 1)?);
    }
    Ok(out)
}

pub(crate) async fn checkpoint(c: &impl GenericClient) -> Result<Option<RetagCheckpoint>> {
    let row = c
        .query_opt(
            "SELECT rules_fingerprint, last_post_id, checked, changed, rewritten, skipped,
                    tags_added, tags_removed, started_at
             FROM retag_checkpoint WHERE id = 1",
            &[],
        )
        .await
        .map_err(pg_err("reading the retag checkpoint"))?;
    row.map(|r| {
        let n = |i| col::<i64>(&r, i).map(to_u64);
        Ok(RetagCheckpoint {
            fingerprint: col(&r, 0)?,
            last_post: PostId(col(&r, 1)?),
            totals: RetagStats {
                checked: n(2)?,
                changed: n(3)?,
                rewritten: n(4)?,
                skipped: n(5)?,
                tags_added: n(6)?,
                tags_removed: n(7)?,
            },
            started_at: col(&r, 8)?,
        })
    })
    .transpose()
}

async fn stored_rows(tx: &impl GenericClient, post: i64) -> WResult<Vec<TagRow>> {
    let stmt = tx
        .prepare_cached(
            "SELECT t.name, pt.source, pt.score, pt.reason, pt.display
             FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = $1",
        )
        .await?;
    let rows = tx.query(&stmt, &[&post]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok((
                col::<String>(r, 0)?,
                source_str(&col::<String>(r, 1)?),
                col::<f64>(r, 2)?.to_bits(),
                col::<Option<String>>(r, 3)?.unwrap_or_default(),
                col::<Option<String>>(r, 4)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?)
}

async fn retag_one(
    tx: &impl GenericClient,
    p: &RetagPost,
    now: DateTime<Utc>,
    stats: &mut RetagStats,
) -> WResult<()> {
    stats.checked += 1;
    let stmt = tx
        .prepare_cached("SELECT content_hash FROM posts WHERE id = $1")
        .await?;
    let hash: Option<String> = match tx.query_opt(&stmt, &[&p.post.0]).await? {
        Some(r) => Some(col(&r, 0)?),
        None => None,
    };
    if hash.as_deref() != Some(p.content_hash.as_str()) {
        stats.skipped += 1;
        return Ok(());
    }
    let Some(plan) = plan_retag(stored_rows(tx, p.post.0).await?, p, stats) else {
        return Ok(());
    };
    let stmt = tx
        .prepare_cached("DELETE FROM post_tags WHERE post_id = $1")
        .await?;
    tx.execute(&stmt, &[&p.post.0]).await?;
    insert_post_tags(tx, p.post.0, &plan.new).await?;
    if plan.changed {
        let stmt = tx
            .prepare_cached("UPDATE posts SET changed_at = $2 WHERE id = $1")
            .await?;
        tx.execute(&stmt, &[&p.post.0, &now]).await?;
    }
    Ok(())
}

/// One batch of a re-tag and its checkpoint, in the caller's transaction.
pub(crate) async fn replace_batch(
    tx: &impl GenericClient,
    posts: &[RetagPost],
    progress: &RetagProgress,
    now: DateTime<Utc>,
) -> WResult<RetagStats> {
    create_tags(
        tx,
        posts
            .iter()
            .flat_map(|p| &p.tags)
            .map(|t| (t.tag.as_str(), t.display.trim())),
    )
    .await?;
    let mut batch = RetagStats::default();
    for p in posts {
        retag_one(tx, p, now, &mut batch).await?;
    }
    let previous = checkpoint(tx)
        .await?
        .filter(|c| c.fingerprint == progress.fingerprint);
    let started_at = previous.as_ref().map_or(now, |c| c.started_at);
    let mut totals = previous.map(|c| c.totals).unwrap_or_default();
    totals += batch;
    if progress.done {
        tx.execute("DELETE FROM retag_checkpoint", &[]).await?;
    } else {
        tx.execute(
            "INSERT INTO retag_checkpoint (id, rules_fingerprint, last_post_id, checked, changed,
                 rewritten, skipped, tags_added, tags_removed, started_at, updated_at)
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (id) DO UPDATE SET rules_fingerprint = $1, last_post_id = $2,
                 checked = $3, changed = $4, rewritten = $5, skipped = $6, tags_added = $7,
                 tags_removed = $8, started_at = $9, updated_at = $10",
            &[
                &progress.fingerprint,
                &progress.last_post.0,
                &to_i64(totals.checked),
                &to_i64(totals.changed),
                &to_i64(totals.rewritten),
                &to_i64(totals.skipped),
                &to_i64(totals.tags_added),
                &to_i64(totals.tags_removed),
                &started_at,
                &now,
            ],
        )
        .await?;
    }
    Ok(totals)
}

pub(crate) async fn tag_displays(
    c: &impl GenericClient,
    tags: &[String],
) -> Result<HashMap<String, String>> {
    let rows = c
        .query(
            "SELECT t.name, COALESCE(
                 (SELECT pt.display FROM post_tags pt
                  WHERE pt.tag_id = t.id AND pt.display IS NOT NULL AND pt.display != ''
                  GROUP BY pt.display
                  ORDER BY COUNT(*) DESC, pt.display COLLATE \"C\" LIMIT 1),
                 t.display)
             FROM tags t WHERE t.name = ANY($1)",
            &[&tags],
        )
        .await
        .map_err(pg_err("reading tag display forms"))?;
    rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
}
