//! Re-tagging stored posts (`kith retag`) and the surface forms tags are shown in.
//!
//! The types here are the [`Store`](crate::Store) trait's vocabulary for re-tagging; the
//! functions are the SQLite side of it, called on the writer thread or a reader.
//!
//! A re-tag replaces a post's tags in batches, one write transaction per batch, and
//! records a checkpoint (the last post done, the rules' fingerprint, running totals) in
//! the same transaction: a killed run resumes after the last committed batch and never
//! applies half a batch.

use crate::sqlite::fmt_time;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use kith_model::{NewTag, PostId, TagSource};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeSet, HashMap};

/// The new tags of one post, as a re-tag decided them.
#[derive(Debug, Clone, PartialEq)]
pub struct RetagPost {
    pub post: PostId,
    /// The post's content hash when it was read (`kith_model::content_hash(title, text)`):
    /// a post edited since (and so tagged afresh at ingestion) is left alone.
    pub content_hash: String,
    /// Best first, as the tagger returned them.
    pub tags: Vec<NewTag>,
}

/// Where a re-tag is after a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetagProgress {
    /// Fingerprint of the rules in force (see [`RetagCheckpoint::fingerprint`]).
    pub fingerprint: String,
    /// The last post id of this batch: the next batch starts after it.
    pub last_post: PostId,
    /// This was the last batch: the checkpoint is removed instead of updated.
    pub done: bool,
}

/// What a re-tag did, over the whole run (resumed parts included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetagStats {
    /// Posts looked at.
    pub checked: u64,
    /// Posts whose set of tags (name and source) changed; their `changed_at` was bumped.
    pub changed: u64,
    /// Posts whose tag rows were rewritten: the changed ones and those where only scores,
    /// reasons or surface forms moved.
    pub rewritten: u64,
    /// Posts removed or edited since they were read (an edit is tagged at ingestion).
    pub skipped: u64,
    /// Tags put on posts that did not have them.
    pub tags_added: u64,
    /// Tags taken off posts.
    pub tags_removed: u64,
}

impl std::ops::AddAssign for RetagStats {
    fn add_assign(&mut self, o: RetagStats) {
        self.checked += o.checked;
        self.changed += o.changed;
        self.rewritten += o.rewritten;
        self.skipped += o.skipped;
        self.tags_added += o.tags_added;
        self.tags_removed += o.tags_removed;
    }
}

/// An unfinished re-tag.
#[derive(Debug, Clone, PartialEq)]
pub struct RetagCheckpoint {
    /// Identifies the rules the run applies; a run under other rules starts over.
    pub fingerprint: String,
    /// Posts up to this id are done.
    pub last_post: PostId,
    pub totals: RetagStats,
    pub started_at: DateTime<Utc>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

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

/// One stored tag row of a post, in a form that compares exactly.
type Row = (String, &'static str, u64, String, Option<String>);

fn source_str(s: &str) -> &'static str {
    TagSource::parse(s).map_or("extracted", TagSource::as_str)
}

fn stored_rows(tx: &Connection, post: i64) -> Result<Vec<Row>> {
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
    // Deduplicated the way the insert's primary key would (first decision per tag and
    // source wins), so that a post re-tagged to the same result compares equal.
    let mut seen = BTreeSet::new();
    let new: Vec<&NewTag> = p
        .tags
        .iter()
        .filter(|t| seen.insert((t.tag.as_str(), t.source.as_str())))
        .collect();
    let mut wanted: Vec<Row> = new
        .iter()
        .map(|t| {
            (
                t.tag.clone(),
                t.source.as_str(),
                t.score.to_bits(),
                t.reason.clone(),
                Some(t.display.trim().to_owned()),
            )
        })
        .collect();
    wanted.sort();
    let old = stored_rows(tx, p.post.0)?;
    if old == wanted {
        return Ok(());
    }
    let names = |rows: &[Row]| -> BTreeSet<(String, &'static str)> {
        rows.iter().map(|r| (r.0.clone(), r.1)).collect()
    };
    let (old_set, new_set) = (names(&old), names(&wanted));
    let tag_names = |s: &BTreeSet<(String, &'static str)>| -> BTreeSet<String> {
        s.iter().map(|(n, _)| n.clone()).collect()
    };
    let (old_tags, new_tags) = (tag_names(&old_set), tag_names(&new_set));
    stats.rewritten += 1;
    stats.tags_added += new_tags.difference(&old_tags).count() as u64;
    stats.tags_removed += old_tags.difference(&new_tags).count() as u64;
    tx.prepare_cached("DELETE FROM post_tags WHERE post_id = ?1")
        .and_then(|mut s| s.execute([p.post.0]))
        .map_err(Error::backend(ctx))?;
    for t in new {
        insert_post_tag(tx, p.post.0, t)?;
    }
    if old_set != new_set {
        stats.changed += 1;
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

    use crate::{RetagPost, RetagProgress, RetagStats};
    use crate::{SqliteStore, Store};
    use chrono::Utc;
    use kith_model::{
        BlogId, BlogStatus, FeedState, NewBlog, NewPost, NewTag, PollResult, PostId, TagSource,
        content_hash,
    };

    fn tag(name: &str, display: &str, source: TagSource, score: f64) -> NewTag {
        NewTag {
            tag: name.into(),
            display: display.into(),
            source,
            score,
            reason: format!("because {name}"),
        }
    }

    fn post(guid: &str, cats: &[&str], tags: Vec<NewTag>) -> NewPost {
        let title = format!("Post {guid}");
        let text = format!("text of {guid}");
        NewPost {
            guid: guid.into(),
            url: Some(format!("https://a.example/{guid}")),
            content_hash: content_hash(&title, &text),
            title,
            author: None,
            published: Utc::now(),
            updated: None,
            content_html: format!("<p>{text}</p>"),
            text,
            language: Some("eng".into()),
            categories: cats.iter().map(|c| (*c).to_owned()).collect(),
            backfill: false,
            tags,
        }
    }

    async fn store_with(posts: Vec<NewPost>) -> (tempfile::TempDir, SqliteStore, BlogId) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("kith.sqlite3"))
            .await
            .unwrap();
        let blog = store
            .add_blog(NewBlog {
                homepage_url: "https://a.example/".into(),
                feed_url: "https://a.example/feed.xml".into(),
                title: "A".into(),
                status: BlogStatus::Verified,
                verification_token: "t".into(),
            })
            .await
            .unwrap();
        store
            .record_poll(PollResult {
                blog_id: blog.id,
                state: FeedState::default(),
                title: None,
                status: None,
                feed_url: None,
                posts,
            })
            .await
            .unwrap();
        (dir, store, blog.id)
    }

    fn changed_at(store: &SqliteStore, id: PostId) -> String {
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        conn.query_row("SELECT changed_at FROM posts WHERE id = ?1", [id.0], |r| {
            r.get(0)
        })
        .unwrap()
    }

    fn progress(last: PostId, done: bool) -> RetagProgress {
        RetagProgress {
            fingerprint: "f1".into(),
            last_post: last,
            done,
        }
    }

    #[tokio::test]
    async fn categories_are_kept_in_feed_order_and_replaced_on_edit() {
        let (_dir, store, blog) = store_with(vec![post("1", &["Zeta", "Alpha"], vec![])]).await;
        let stored = store.posts_after(None, 10).await.unwrap();
        let id = stored[0].id;
        let cats = store.post_categories(vec![id]).await.unwrap();
        assert_eq!(cats[&id], vec!["Zeta".to_owned(), "Alpha".to_owned()]);

        let mut edited = post("1", &["Beta"], vec![]);
        edited.text = "new text".into();
        edited.content_hash = content_hash(&edited.title, &edited.text);
        store
            .record_poll(PollResult {
                blog_id: blog,
                state: FeedState::default(),
                title: None,
                status: None,
                feed_url: None,
                posts: vec![edited],
            })
            .await
            .unwrap();
        let cats = store.post_categories(vec![id]).await.unwrap();
        assert_eq!(cats[&id], vec!["Beta".to_owned()]);
    }

    #[tokio::test]
    async fn a_batch_replaces_tags_and_bumps_only_changed_posts() {
        let keep = vec![tag("rust", "Rust", TagSource::Author, 1.0)];
        let (_dir, store, _) = store_with(vec![
            post("1", &["Rust"], keep.clone()),
            post("2", &[], vec![tag("go", "Go", TagSource::Extracted, 0.5)]),
            post("3", &[], vec![tag("sql", "SQL", TagSource::Extracted, 0.5)]),
        ])
        .await;
        let posts = store.posts_after(None, 10).await.unwrap();
        let before: Vec<String> = posts.iter().map(|p| changed_at(&store, p.id)).collect();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let batch: Vec<RetagPost> = vec![
            // Same tags: nothing to do.
            RetagPost {
                post: posts[0].id,
                content_hash: content_hash(&posts[0].title, &posts[0].text),
                tags: keep,
            },
            // A tag swapped for another: changed.
            RetagPost {
                post: posts[1].id,
                content_hash: content_hash(&posts[1].title, &posts[1].text),
                tags: vec![
                    tag("golang", "Golang", TagSource::Rule, 0.9),
                    tag("golang", "Golang", TagSource::Rule, 0.9),
                ],
            },
            // Only the score moved: rewritten, not changed.
            RetagPost {
                post: posts[2].id,
                content_hash: content_hash(&posts[2].title, &posts[2].text),
                tags: vec![tag("sql", "SQL", TagSource::Extracted, 0.7)],
            },
        ];
        let totals = store
            .replace_post_tags_batch(batch, progress(posts[2].id, false))
            .await
            .unwrap();
        assert_eq!(
            totals,
            RetagStats {
                checked: 3,
                changed: 1,
                rewritten: 2,
                skipped: 0,
                tags_added: 1,
                tags_removed: 1,
            }
        );
        let after: Vec<String> = posts.iter().map(|p| changed_at(&store, p.id)).collect();
        assert_eq!(after[0], before[0]);
        assert!(after[1] > before[1], "{after:?} vs {before:?}");
        assert_eq!(after[2], before[2]);
        let now = store.posts_after(None, 10).await.unwrap();
        assert_eq!(now[1].tags.len(), 1);
        assert_eq!(now[1].tags[0].tag, "golang");
        assert_eq!(now[1].tags[0].source, TagSource::Rule);
        assert!((now[2].tags[0].score - 0.7).abs() < 1e-12);

        let cp = store.retag_checkpoint().await.unwrap().unwrap();
        assert_eq!(cp.last_post, posts[2].id);
        assert_eq!(cp.fingerprint, "f1");
        assert_eq!(cp.totals, totals);
    }

    #[tokio::test]
    async fn checkpoint_totals_accumulate_reset_under_other_rules_and_end_when_done() {
        let (_dir, store, _) =
            store_with(vec![post("1", &[], vec![]), post("2", &[], vec![])]).await;
        let posts = store.posts_after(None, 10).await.unwrap();
        let one = |i: usize| RetagPost {
            post: posts[i].id,
            content_hash: content_hash(&posts[i].title, &posts[i].text),
            tags: vec![tag("x", "x", TagSource::Extracted, 0.5)],
        };
        store
            .replace_post_tags_batch(vec![one(0)], progress(posts[0].id, false))
            .await
            .unwrap();
        let t = store
            .replace_post_tags_batch(vec![one(1)], progress(posts[1].id, false))
            .await
            .unwrap();
        assert_eq!((t.checked, t.changed), (2, 2));
        // Other rules: the old run's totals are not carried over.
        let other = RetagProgress {
            fingerprint: "f2".into(),
            ..progress(posts[1].id, false)
        };
        let t = store
            .replace_post_tags_batch(vec![one(1)], other)
            .await
            .unwrap();
        assert_eq!((t.checked, t.changed), (1, 0));
        assert_eq!(
            store.retag_checkpoint().await.unwrap().unwrap().fingerprint,
            "f2"
        );
        store
            .replace_post_tags_batch(vec![], progress(posts[1].id, true))
            .await
            .unwrap();
        assert!(store.retag_checkpoint().await.unwrap().is_none());
        store
            .replace_post_tags_batch(vec![], progress(posts[1].id, false))
            .await
            .unwrap();
        store.clear_retag_checkpoint().await.unwrap();
        assert!(store.retag_checkpoint().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_post_edited_since_it_was_read_is_skipped() {
        let (_dir, store, _) = store_with(vec![post(
            "1",
            &[],
            vec![tag("a", "a", TagSource::Extracted, 0.5)],
        )])
        .await;
        let posts = store.posts_after(None, 10).await.unwrap();
        let t = store
            .replace_post_tags_batch(
                vec![
                    RetagPost {
                        post: posts[0].id,
                        content_hash: "stale".into(),
                        tags: vec![],
                    },
                    RetagPost {
                        post: PostId(9999),
                        content_hash: "gone".into(),
                        tags: vec![],
                    },
                ],
                progress(posts[0].id, true),
            )
            .await
            .unwrap();
        assert_eq!((t.checked, t.skipped, t.rewritten), (2, 2, 0));
        let now = store.posts_after(None, 10).await.unwrap();
        assert_eq!(
            now[0].tags.len(),
            1,
            "tags of an edited post are left alone"
        );
    }

    #[tokio::test]
    async fn a_tag_shows_its_most_common_surface_form() {
        let t = |d: &str| vec![tag("postgresql", d, TagSource::Author, 1.0)];
        let (_dir, store, _) = store_with(vec![
            post("1", &[], t("postgresql")),
            post("2", &[], t("PostgreSQL")),
            post("3", &[], t("PostgreSQL")),
            post("4", &[], vec![tag("go", "Go", TagSource::Author, 1.0)]),
        ])
        .await;
        assert_eq!(
            store.tag_display("postgresql").await.unwrap().as_deref(),
            Some("PostgreSQL"),
            "the form two posts use beats the first one seen"
        );
        let all = store
            .tag_displays(vec!["go".into(), "postgresql".into(), "nope".into()])
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all["go"], "Go");
        assert_eq!(store.tag_display("nope").await.unwrap(), None);
    }

    /// A store written before migration 0002 keeps its authors' categories, recovered from
    /// the reasons of their author tags.
    #[test]
    fn the_migration_recovers_categories_from_author_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = rusqlite::Connection::open(dir.path().join("old.sqlite3")).unwrap();
        conn.execute_batch(crate::migrate::MIGRATIONS[0].sql)
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
        tx.execute_batch(crate::migrate::MIGRATIONS[1].sql).unwrap();
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
