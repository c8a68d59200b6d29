//! The embedded SQLite backend.

pub(crate) mod hubs;
mod index_feed;
pub mod migrate;
mod retag;
#[cfg(test)]
mod tests;

use crate::ingest::{
    CrossPost, Outcome, author_tags, is_authors_copy, notes_text, skipped_note, tally,
};
use crate::{Counts, Error, IngestStats, PollResult, PostQuery, Result, Store};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use kith_model::{
    Blog, BlogId, BlogStatus, FeedState, NewBlog, NewPost, Post, PostId, PostTag, Subscription,
    SubscriptionState, TagSource, identity_key, normalize_url,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Writes queued for the writer thread before callers wait.
const WRITE_QUEUE: usize = 256;
/// Hub snapshots kept besides the newest (a node loading one as the next is stored).
pub(crate) const KEPT_HUB_SNAPSHOTS: i64 = 2;
/// Idle read connections kept for reuse.
const READ_POOL: usize = 8;
/// How long a connection waits on a lock before failing (only checkpoints and the
/// migration at open can contend).
pub(crate) const BUSY_TIMEOUT_MS: u64 = 5_000;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// SQLite behind the [`Store`] trait: one writer thread, pooled readers, WAL.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Job>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies pending migrations and
    /// starts the writer thread. Must be called inside a Tokio runtime.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_owned();
        let open_err = |message: String| Error::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let p = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            let mut conn = Connection::open(&p).map_err(|e| Error::Open {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            configure(&conn, false)?;
            migrate::apply(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| open_err(e.to_string()))??;

        let (tx, mut rx) = mpsc::channel::<Job>(WRITE_QUEUE);
        std::thread::Builder::new()
            .name("kith-sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Some(job) = rx.blocking_recv() {
                    job(&mut conn);
                }
                // All handles dropped: checkpoint so the WAL does not outlive us.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            })
            .map_err(|e| open_err(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: tx,
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the writer thread, in order with every other write.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.inner
            .writer
            .send(job)
            .await
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Runs `f` on a pooled read connection on the blocking pool. Readers see the last
    /// committed state and never wait for the writer (WAL).
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut p| p.pop());
            let conn = match pooled {
                Some(c) => c,
                None => open_reader(&inner.path)?,
            };
            let out = f(&conn);
            if let Ok(mut pool) = inner.readers.lock()
                && pool.len() < READ_POOL
            {
                pool.push(conn);
            }
            out
        })
        .await
        .map_err(|_| Error::Closed)?
    }
}

fn configure(conn: &Connection, reader: bool) -> Result<()> {
    let ctx = "configuring the connection";
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(Error::backend(ctx))?;
    if !reader {
        // WAL: readers keep reading while the writer commits. NORMAL sync is durable
        // against a killed process (not a power cut), which is the promise we make.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(Error::backend(ctx))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Backend {
                context: ctx,
                message: format!("journal_mode is {mode}, not wal"),
            });
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(Error::backend(ctx))?;
    } else {
        conn.pragma_update(None, "query_only", "ON")
            .map_err(Error::backend(ctx))?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(Error::backend(ctx))?;
    Ok(())
}

fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| Error::Open {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    configure(&conn, true)?;
    Ok(conn)
}

/// Fixed-width RFC 3339 UTC, so that text order is time order.
pub(crate) fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(idx: usize, s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
        })
}

pub(crate) fn get_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = row.get(idx)?;
    parse_time(idx, &s)
}

fn get_opt_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let s: Option<String> = row.get(idx)?;
    s.map(|s| parse_time(idx, &s)).transpose()
}

pub(crate) const BLOG_COLUMNS: &str =
    "b.id, b.homepage_url, b.feed_url, b.title, b.status, b.verification_token, b.added_at,
     f.etag, f.last_modified, f.next_check_at, f.consecutive_errors, f.last_status, f.last_error,
     f.last_checked_at, f.last_success_at, f.interval_secs, f.redirect_to, f.redirect_count,
     f.notes";

fn blog_from_row(row: &Row<'_>) -> rusqlite::Result<Blog> {
    let status: String = row.get(4)?;
    let status = status.parse::<BlogStatus>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Blog {
        id: BlogId(row.get(0)?),
        homepage_url: row.get(1)?,
        feed_url: row.get(2)?,
        title: row.get(3)?,
        status,
        verification_token: row.get(5)?,
        added_at: get_time(row, 6)?,
        feed: FeedState {
            etag: row.get(7)?,
            last_modified: row.get(8)?,
            next_check_at: get_opt_time(row, 9)?,
            consecutive_errors: row.get::<_, Option<u32>>(10)?.unwrap_or(0),
            last_status: row.get(11)?,
            last_error: row.get(12)?,
            last_checked_at: get_opt_time(row, 13)?,
            last_success_at: get_opt_time(row, 14)?,
            interval_secs: row
                .get::<_, Option<i64>>(15)?
                .and_then(|s| u64::try_from(s).ok()),
            redirect_to: row.get(16)?,
            redirect_count: row.get::<_, Option<u32>>(17)?.unwrap_or(0),
            notes: row
                .get::<_, Option<String>>(18)?
                .map(|n| n.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
        },
    })
}

fn select_blogs(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Blog>> {
    let sql = format!(
        "SELECT {BLOG_COLUMNS} FROM blogs b LEFT JOIN feed_state f ON f.blog_id = b.id {filter}"
    );
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(Error::backend("reading blogs"))?;
    let rows = stmt
        .query_map(params, blog_from_row)
        .map_err(Error::backend("reading blogs"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(Error::backend("reading blogs"))
}

pub(crate) const SUB_COLUMNS: &str =
    "blog_id, hub, topic, secret, state, requested_at, lease_expires_at, last_error";

fn sub_from_row(row: &Row<'_>) -> rusqlite::Result<Subscription> {
    let state: String = row.get(4)?;
    Ok(Subscription {
        blog_id: BlogId(row.get(0)?),
        hub: row.get(1)?,
        topic: row.get(2)?,
        secret: row.get(3)?,
        state: SubscriptionState::parse(&state).unwrap_or(SubscriptionState::Failed),
        requested_at: get_opt_time(row, 5)?,
        lease_expires_at: get_opt_time(row, 6)?,
        last_error: row.get(7)?,
    })
}

pub(crate) const POST_COLUMNS: &str =
    "p.id, p.blog_id, b.title, b.homepage_url, b.feed_url, p.guid, p.url, p.title, p.author,
     p.published, p.updated, p.content_html, p.text, p.language, p.backfill";

pub(crate) fn post_from_row(row: &Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: PostId(row.get(0)?),
        blog_id: BlogId(row.get(1)?),
        blog_title: row.get(2)?,
        blog_url: row.get(3)?,
        feed_url: row.get(4)?,
        guid: row.get(5)?,
        url: row.get(6)?,
        title: row.get(7)?,
        author: row.get(8)?,
        published: get_time(row, 9)?,
        updated: get_opt_time(row, 10)?,
        content_html: row.get(11)?,
        text: row.get(12)?,
        language: row.get(13)?,
        backfill: row.get(14)?,
        tags: Vec::new(),
    })
}

/// Fills in the tags of `posts` with one query, best first within each source order.
pub(crate) fn attach_tags(conn: &Connection, posts: &mut [Post]) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    let ctx = "reading post tags";
    let placeholders = vec!["?"; posts.len()].join(",");
    let sql = format!(
        "SELECT pt.post_id, t.name, pt.source, pt.score, pt.reason FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
         WHERE pt.post_id IN ({placeholders})
         ORDER BY pt.post_id, CASE pt.source WHEN 'author' THEN 0 WHEN 'rule' THEN 1 ELSE 2 END,
             pt.score DESC, t.name"
    );
    let mut stmt = conn.prepare(&sql).map_err(Error::backend(ctx))?;
    let ids: Vec<i64> = posts.iter().map(|p| p.id.0).collect();
    let mut by_post: HashMap<i64, Vec<PostTag>> = HashMap::new();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(ids.iter()), |r| {
            let source: String = r.get(2)?;
            Ok((
                r.get::<_, i64>(0)?,
                PostTag {
                    tag: r.get(1)?,
                    source: TagSource::parse(&source).unwrap_or(TagSource::Extracted),
                    score: r.get(3)?,
                    reason: r.get(4)?,
                },
            ))
        })
        .map_err(Error::backend(ctx))?;
    for row in rows {
        let (id, tag) = row.map_err(Error::backend(ctx))?;
        by_post.entry(id).or_default().push(tag);
    }
    for p in posts.iter_mut() {
        p.tags = by_post.remove(&p.id.0).unwrap_or_default();
    }
    Ok(())
}

fn select_posts(
    conn: &Connection,
    filter: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Post>> {
    let ctx = "reading posts";
    let sql =
        format!("SELECT {POST_COLUMNS} FROM posts p JOIN blogs b ON b.id = p.blog_id {filter}");
    let mut stmt = conn.prepare_cached(&sql).map_err(Error::backend(ctx))?;
    let mut posts = stmt
        .query_map(params, post_from_row)
        .map_err(Error::backend(ctx))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(Error::backend(ctx))?;
    attach_tags(conn, &mut posts)?;
    Ok(posts)
}

/// Whether this feed's entry is already noted as another source of a stored post.
/// The blog whose post this feed's entry `guid` was noted as a copy of, if it was.
fn known_cross_post(tx: &Connection, blog: BlogId, guid: &str) -> Result<Option<i64>> {
    tx.prepare_cached(
        "SELECT p.blog_id FROM post_sources s JOIN posts p ON p.id = s.post_id
         WHERE s.blog_id = ?1 AND s.guid = ?2",
    )
    .and_then(|mut s| s.query_row(params![blog.0, guid], |r| r.get(0)).optional())
    .map_err(Error::backend("looking up a cross-post"))
}

/// When another blog already has a post at this URL, notes this feed as a second source
/// instead of storing the post twice, and returns true. The post belongs to the blog whose
/// homepage is on the post's host (its author), not to an aggregator that saw it first.
fn note_cross_post(tx: &Connection, blog: BlogId, post: &NewPost) -> Result<CrossPost> {
    let ctx = "noting a cross-post";
    let Some(url) = post.url.as_deref() else {
        return Ok(CrossPost::No);
    };
    let existing: Option<(i64, i64, String, String)> = tx
        .prepare_cached(
            "SELECT p.id, p.blog_id, p.guid, b.homepage_url FROM posts p JOIN blogs b ON b.id = p.blog_id
             WHERE p.url = ?1 AND p.blog_id != ?2 LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(params![url, blog.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()
        })
        .map_err(Error::backend(ctx))?;
    let Some((post_id, owner, owner_guid, owner_home)) = existing else {
        return Ok(CrossPost::No);
    };
    let this_home: Option<String> = tx
        .query_row(
            "SELECT homepage_url FROM blogs WHERE id = ?1",
            [blog.0],
            |r| r.get(0),
        )
        .optional()
        .map_err(Error::backend(ctx))?;
    let we_are_the_author = is_authors_copy(url, this_home.as_deref(), &owner_home);
    let (source_blog, source_guid) = if we_are_the_author {
        // The aggregator saw it first: the post moves to its author, and the aggregator
        // becomes a source.
        tx.execute(
            "UPDATE posts SET blog_id = ?2, guid = ?3 WHERE id = ?1",
            params![post_id, blog.0, post.guid],
        )
        .map_err(Error::backend(ctx))?;
        (owner, owner_guid)
    } else {
        (blog.0, post.guid.clone())
    };
    tx.execute(
        "INSERT OR IGNORE INTO post_sources (post_id, blog_id, guid) VALUES (?1, ?2, ?3)",
        params![post_id, source_blog, source_guid],
    )
    .map_err(Error::backend(ctx))?;
    Ok(if we_are_the_author {
        CrossPost::Adopted(post_id)
    } else {
        CrossPost::Noted(owner)
    })
}

/// One poll's outcome, its crawl state and its posts, inside the caller's transaction.
fn record_poll_in(tx: &Connection, poll: &PollResult, now: &str) -> Result<IngestStats> {
    let ctx = "recording a poll";
    let s = &poll.state;
    let n = tx
        .execute(
            "UPDATE feed_state SET etag = ?2, last_modified = ?3, next_check_at = ?4,
                 consecutive_errors = ?5, last_status = ?6, last_error = ?7,
                 last_checked_at = ?8, last_success_at = ?9, interval_secs = ?10,
                 redirect_to = ?11, redirect_count = ?12, notes = ?13,
                 lease_owner = NULL, lease_until = NULL
             WHERE blog_id = ?1",
            params![
                poll.blog_id.0,
                s.etag,
                s.last_modified,
                s.next_check_at.map(fmt_time),
                s.consecutive_errors,
                s.last_status,
                s.last_error,
                s.last_checked_at.map(fmt_time),
                s.last_success_at.map(fmt_time),
                s.interval_secs.and_then(|v| i64::try_from(v).ok()),
                s.redirect_to,
                s.redirect_count,
                notes_text(&s.notes)
            ],
        )
        .map_err(Error::backend(ctx))?;
    if n == 0 {
        // Removed while it was being polled: drop the result.
        return Err(Error::NoSuchBlog(poll.blog_id));
    }
    if let Some(title) = poll
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        tx.execute(
            "UPDATE blogs SET title = ?2 WHERE id = ?1",
            params![poll.blog_id.0, title],
        )
        .map_err(Error::backend(ctx))?;
    }
    if let Some(moved) = &poll.feed_url {
        move_feed(tx, poll.blog_id, moved)?;
    }
    if let Some(status) = poll.status {
        tx.execute(
            "UPDATE blogs SET status = ?2 WHERE id = ?1",
            params![poll.blog_id.0, status.as_str()],
        )
        .map_err(Error::backend(ctx))?;
    }
    let mut stats = IngestStats::default();
    // Entries left to another blog's post, by that blog: said in the notes.
    let mut skipped: BTreeMap<i64, usize> = BTreeMap::new();
    for post in &poll.posts {
        tally(
            upsert_post(tx, poll.blog_id, post, now)?,
            &mut stats,
            &mut skipped,
        );
    }
    // A poll that read the feed says what it left out (a 304 or an error read
    // nothing, and keeps the notes it was given).
    if !skipped.is_empty() {
        let mut notes = poll.state.notes.clone();
        notes.push(skipped_note(&skipped));
        tx.execute(
            "UPDATE feed_state SET notes = ?2 WHERE blog_id = ?1",
            params![poll.blog_id.0, notes_text(&notes)],
        )
        .map_err(Error::backend(ctx))?;
    }
    Ok(stats)
}

/// Inserts or updates one post and its author tags; returns what happened.
fn upsert_post(tx: &Connection, blog: BlogId, post: &NewPost, now: &str) -> Result<Outcome> {
    let ctx = "storing a post";
    let existing: Option<(i64, String)> = tx
        .prepare_cached("SELECT id, content_hash FROM posts WHERE blog_id = ?1 AND guid = ?2")
        .and_then(|mut s| {
            s.query_row(params![blog.0, post.guid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(Error::backend(ctx))?;
    let mut adopted = false;
    let existing = match existing {
        Some(e) => Some(e),
        None => match known_cross_post(tx, blog, &post.guid)? {
            Some(owner) => return Ok(Outcome::KnownCrossPost(owner)),
            None => match note_cross_post(tx, blog, post)? {
                CrossPost::No => None,
                CrossPost::Noted(owner) => return Ok(Outcome::CrossPosted(Some(owner))),
                // Now ours: fall through to the update so the author's version wins.
                CrossPost::Adopted(id) => {
                    adopted = true;
                    Some((id, String::new()))
                }
            },
        },
    };
    let (id, outcome) = match existing {
        Some((_, hash)) if hash == post.content_hash => return Ok(Outcome::Unchanged),
        Some((id, _)) => {
            tx.prepare_cached(
                "UPDATE posts SET url = ?2, title = ?3, author = ?4, updated = ?5, content_html = ?6,
                     text = ?7, content_hash = ?8, language = ?9, changed_at = ?10
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    post.url,
                    post.title,
                    post.author,
                    post.updated.map(fmt_time),
                    post.content_html,
                    post.text,
                    post.content_hash,
                    post.language,
                    now
                ])
            })
            .map_err(Error::backend(ctx))?;
            tx.prepare_cached("DELETE FROM post_tags WHERE post_id = ?1")
                .and_then(|mut s| s.execute([id]))
                .map_err(Error::backend(ctx))?;
            (id, Outcome::Updated)
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO posts (blog_id, guid, url, title, author, published, updated, content_html,
                     text, content_hash, language, first_seen_at, changed_at, backfill)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    blog.0,
                    post.guid,
                    post.url,
                    post.title,
                    post.author,
                    fmt_time(post.published),
                    post.updated.map(fmt_time),
                    post.content_html,
                    post.text,
                    post.content_hash,
                    post.language,
                    now,
                    post.backfill
                ])
            })
            .map_err(Error::backend(ctx))?;
            (tx.last_insert_rowid(), Outcome::New)
        }
    };
    hubs::store_links(tx, id, &post.content_html, post.url.as_deref())?;
    for t in author_tags(post).iter() {
        // With the surface form, for the tag's most common display (see `retag`).
        retag::insert_post_tag(tx, id, t)?;
    }
    retag::save_categories(tx, id, &post.categories)?;
    Ok(if adopted {
        Outcome::CrossPosted(None)
    } else {
        outcome
    })
}

/// Rewrites a blog's feed URL after the feed moved for good, unless another registered
/// blog already has that feed (then the two are one feed under two registrations, which a
/// person should sort out; we keep polling the old URL and say so in the log).
fn move_feed(tx: &Connection, blog: BlogId, new_url: &str) -> Result<()> {
    let ctx = "moving a feed";
    let key = normalize_url(new_url)
        .map(|u| identity_key(&u))
        .unwrap_or_else(|_| new_url.to_owned());
    let owner: Option<i64> = tx
        .query_row("SELECT id FROM blogs WHERE feed_key = ?1", [&key], |r| {
            r.get(0)
        })
        .optional()
        .map_err(Error::backend(ctx))?;
    match owner {
        Some(id) if id != blog.0 => {
            tracing::warn!(blog_id = %blog, other_blog_id = id, feed_url = new_url, "feed moved to a URL another blog is registered with");
        }
        _ => {
            tx.execute(
                "UPDATE blogs SET feed_url = ?2, feed_key = ?3 WHERE id = ?1",
                params![blog.0, new_url, key],
            )
            .map_err(Error::backend(ctx))?;
            tracing::info!(blog_id = %blog, feed_url = new_url, "feed moved permanently; URL updated");
        }
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn add_blog(&self, blog: NewBlog) -> Result<Blog> {
        let key = normalize_url(&blog.feed_url)
            .map(|u| identity_key(&u))
            .unwrap_or_else(|_| blog.feed_url.clone());
        self.write(move |conn| {
            let ctx = "adding a blog";
            let tx = conn.transaction().map_err(Error::backend(ctx))?;
            let existing: Option<(i64, String)> = tx
                .query_row(
                    "SELECT id, feed_url FROM blogs WHERE feed_key = ?1",
                    [&key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(Error::backend(ctx))?;
            if let Some((id, feed_url)) = existing {
                return Err(Error::Duplicate {
                    existing: BlogId(id),
                    feed_url,
                });
            }
            tx.execute(
                "INSERT INTO blogs (homepage_url, feed_url, feed_key, title, status, verification_token, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    blog.homepage_url,
                    blog.feed_url,
                    key,
                    blog.title,
                    blog.status.as_str(),
                    blog.verification_token,
                    fmt_time(Utc::now())
                ],
            )
            .map_err(Error::backend(ctx))?;
            let id = tx.last_insert_rowid();
            tx.execute("INSERT INTO feed_state (blog_id) VALUES (?1)", [id])
                .map_err(Error::backend(ctx))?;
            let blog = select_blogs(&tx, "WHERE b.id = ?1", [id])?
                .pop()
                .ok_or(Error::NoSuchBlog(BlogId(id)))?;
            tx.commit().map_err(Error::backend(ctx))?;
            Ok(blog)
        })
        .await
    }

    async fn blog(&self, id: BlogId) -> Result<Option<Blog>> {
        self.read(move |c| Ok(select_blogs(c, "WHERE b.id = ?1", [id.0])?.pop()))
            .await
    }

    async fn find_blog(&self, url: &str) -> Result<Option<Blog>> {
        let Ok(u) = normalize_url(url) else {
            return Ok(None);
        };
        let key = identity_key(&u);
        let homepage = u.to_string();
        self.read(move |c| {
            Ok(select_blogs(
                c,
                "WHERE b.feed_key = ?1 OR b.homepage_url = ?2 ORDER BY b.feed_key = ?1 DESC, b.id LIMIT 1",
                params![key, homepage],
            )?
            .pop())
        })
        .await
    }

    async fn blogs(&self) -> Result<Vec<Blog>> {
        self.read(|c| select_blogs(c, "ORDER BY b.id", [])).await
    }

    async fn remove_blog(&self, id: BlogId) -> Result<bool> {
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM blogs WHERE id = ?1", [id.0])
                .map_err(Error::backend("removing a blog"))?;
            Ok(n > 0)
        })
        .await
    }

    async fn set_status(&self, id: BlogId, status: BlogStatus) -> Result<()> {
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE blogs SET status = ?2 WHERE id = ?1",
                    params![id.0, status.as_str()],
                )
                .map_err(Error::backend("changing a blog's status"))?;
            if n == 0 {
                Err(Error::NoSuchBlog(id))
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn due_blogs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Blog>> {
        let now = fmt_time(now);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Two range reads of the next_check_at index (never polled, then due by now),
        // so finding nothing due costs the same at 100 or 100,000 blogs; an OR in one
        // WHERE made SQLite read every blog. NULLs sort first: never-polled feeds lead.
        self.read(move |c| {
            let sql = format!(
                "SELECT {BLOG_COLUMNS} FROM feed_state f JOIN blogs b ON b.id = f.blog_id
                  WHERE f.next_check_at IS NULL AND b.status IN ('pending', 'verified')
                 UNION ALL
                 SELECT {BLOG_COLUMNS} FROM feed_state f JOIN blogs b ON b.id = f.blog_id
                  WHERE f.next_check_at <= ?1 AND b.status IN ('pending', 'verified')
                 ORDER BY next_check_at, id
                 LIMIT ?2"
            );
            let mut stmt = c
                .prepare_cached(&sql)
                .map_err(Error::backend("reading due blogs"))?;
            let rows = stmt
                .query_map(params![now, limit], blog_from_row)
                .map_err(Error::backend("reading due blogs"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(Error::backend("reading due blogs"))
        })
        .await
    }

    async fn claim_due_blogs(
        &self,
        owner: &str,
        due_by: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<Blog>> {
        let owner = owner.to_owned();
        let (due_by, now, until) = (fmt_time(due_by), fmt_time(now), fmt_time(now + lease));
        self.write(move |conn| {
            let ctx = "claiming due blogs";
            let tx = conn.transaction().map_err(Error::backend(ctx))?;
            let held: std::collections::HashSet<String> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT b.feed_url FROM feed_state f JOIN blogs b ON b.id = f.blog_id
                         WHERE f.lease_until > ?1 AND f.lease_owner != ?2",
                    )
                    .map_err(Error::backend(ctx))?;
                stmt.query_map(params![now, owner], |r| r.get::<_, String>(0))
                    .map_err(Error::backend(ctx))?
                    .map(|u| u.map(|u| crate::lease::host_of(&u)))
                    .collect::<rusqlite::Result<_>>()
                    .map_err(Error::backend(ctx))?
            };
            let want = crate::lease::candidates_for(limit, held.len());
            // Unclaimed (or claims run out) and due: never polled first, then most overdue.
            let candidates = {
                let sql = format!(
                    "SELECT {BLOG_COLUMNS} FROM feed_state f JOIN blogs b ON b.id = f.blog_id
                      WHERE f.next_check_at IS NULL AND b.status IN ('pending', 'verified')
                        AND (f.lease_until IS NULL OR f.lease_until <= ?2)
                     UNION ALL
                     SELECT {BLOG_COLUMNS} FROM feed_state f JOIN blogs b ON b.id = f.blog_id
                      WHERE f.next_check_at <= ?1 AND b.status IN ('pending', 'verified')
                        AND (f.lease_until IS NULL OR f.lease_until <= ?2)
                     ORDER BY next_check_at, id
                     LIMIT ?3"
                );
                let mut stmt = tx.prepare_cached(&sql).map_err(Error::backend(ctx))?;
                stmt.query_map(
                    params![due_by, now, i64::try_from(want).unwrap_or(i64::MAX)],
                    blog_from_row,
                )
                .map_err(Error::backend(ctx))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(Error::backend(ctx))?
            };
            let claimed = crate::lease::pick(candidates, &held, limit);
            {
                let mut stmt = tx
                    .prepare_cached(
                        "UPDATE feed_state SET lease_owner = ?2, lease_until = ?3 WHERE blog_id = ?1",
                    )
                    .map_err(Error::backend(ctx))?;
                for b in &claimed {
                    stmt.execute(params![b.id.0, owner, until])
                        .map_err(Error::backend(ctx))?;
                }
            }
            tx.commit().map_err(Error::backend(ctx))?;
            Ok(claimed)
        })
        .await
    }

    async fn release_claims(&self, owner: &str) -> Result<u64> {
        let owner = owner.to_owned();
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE feed_state SET lease_owner = NULL, lease_until = NULL
                     WHERE lease_owner = ?1",
                    [owner],
                )
                .map_err(Error::backend("releasing claims"))?;
            Ok(n as u64)
        })
        .await
    }

    async fn claim_holders(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        let now = fmt_time(now);
        self.read(move |c| {
            let ctx = "reading claim holders";
            let mut stmt = c
                .prepare_cached(
                    "SELECT DISTINCT lease_owner FROM feed_state
                     WHERE lease_until > ?1 AND lease_owner IS NOT NULL ORDER BY 1",
                )
                .map_err(Error::backend(ctx))?;
            stmt.query_map([now], |r| r.get(0))
                .map_err(Error::backend(ctx))?
                .collect::<rusqlite::Result<_>>()
                .map_err(Error::backend(ctx))
        })
        .await
    }

    async fn make_all_due(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = fmt_time(now);
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE feed_state SET next_check_at = ?1
                     WHERE next_check_at > ?1
                       AND blog_id IN (SELECT id FROM blogs WHERE status IN ('pending', 'verified'))",
                    [now],
                )
                .map_err(Error::backend("making every blog due"))?;
            Ok(n as u64)
        })
        .await
    }

    async fn record_poll(&self, poll: PollResult) -> Result<IngestStats> {
        self.write(move |conn| {
            let tx = conn
                .transaction()
                .map_err(Error::backend("recording a poll"))?;
            let stats = record_poll_in(&tx, &poll, &fmt_time(Utc::now()))?;
            tx.commit().map_err(Error::backend("recording a poll"))?;
            Ok(stats)
        })
        .await
    }

    async fn record_polls(&self, polls: Vec<PollResult>) -> Result<Vec<Result<IngestStats>>> {
        self.write(move |conn| {
            let ctx = "recording polls";
            let now = fmt_time(Utc::now());
            let mut tx = conn.transaction().map_err(Error::backend(ctx))?;
            let mut out = Vec::with_capacity(polls.len());
            for poll in &polls {
                // Each poll in a savepoint: one that fails leaves nothing behind and the
                // others are still committed.
                let sp = tx.savepoint().map_err(Error::backend(ctx))?;
                let r = record_poll_in(&sp, poll, &now);
                if r.is_ok() {
                    sp.commit().map_err(Error::backend(ctx))?;
                } else {
                    // Dropping a savepoint rolls it back.
                    drop(sp);
                }
                out.push(r);
            }
            tx.commit().map_err(Error::backend(ctx))?;
            Ok(out)
        })
        .await
    }

    async fn latest_posts(&self, q: PostQuery) -> Result<Vec<Post>> {
        self.read(move |c| {
            let mut filter = String::from("WHERE 1 = 1");
            let mut args: Vec<Box<dyn rusqlite::ToSql + Send>> = Vec::new();
            if q.public_only {
                filter.push_str(" AND b.status = 'verified'");
            }
            if !q.include_backfill {
                filter.push_str(" AND p.backfill = 0");
            }
            if let Some(blog) = q.blog {
                args.push(Box::new(blog.0));
                filter.push_str(&format!(" AND p.blog_id = ?{}", args.len()));
            }
            if let Some((published, id)) = q.before {
                args.push(Box::new(fmt_time(published)));
                args.push(Box::new(id.0));
                let (a, b) = (args.len() - 1, args.len());
                filter.push_str(&format!(" AND (p.published, p.id) < (?{a}, ?{b})"));
            }
            args.push(Box::new(i64::try_from(q.limit).unwrap_or(i64::MAX)));
            filter.push_str(&format!(
                " ORDER BY p.published DESC, p.id DESC LIMIT ?{}",
                args.len()
            ));
            let refs: Vec<&dyn rusqlite::ToSql> = args
                .iter()
                .map(|a| a.as_ref() as &dyn rusqlite::ToSql)
                .collect();
            select_posts(c, &filter, &refs)
        })
        .await
    }

    async fn posts_after(&self, after: Option<PostId>, limit: usize) -> Result<Vec<Post>> {
        let after = after.map_or(0, |p| p.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            select_posts(
                c,
                "WHERE p.id > ?1 ORDER BY p.id LIMIT ?2",
                &[&after, &limit],
            )
        })
        .await
    }

    async fn counts(&self) -> Result<Counts> {
        self.read(|c| {
            c.query_row(
                "SELECT (SELECT COUNT(*) FROM blogs), (SELECT COUNT(*) FROM posts), (SELECT COUNT(*) FROM tags)",
                [],
                |r| {
                    Ok(Counts {
                        blogs: r.get::<_, i64>(0)?.try_into().unwrap_or(0),
                        posts: r.get::<_, i64>(1)?.try_into().unwrap_or(0),
                        tags: r.get::<_, i64>(2)?.try_into().unwrap_or(0),
                    })
                },
            )
            .map_err(Error::backend("counting"))
        })
        .await
    }

    async fn content_hashes(
        &self,
        blog: BlogId,
        guids: Vec<String>,
    ) -> Result<HashMap<String, String>> {
        self.read(move |c| {
            let ctx = "reading content hashes";
            let mut out = HashMap::with_capacity(guids.len());
            for chunk in guids.chunks(500) {
                let placeholders = vec!["?"; chunk.len()].join(",");
                let mut stmt = c
                    .prepare(&format!(
                        "SELECT guid, content_hash FROM posts WHERE blog_id = ? AND guid IN ({placeholders})"
                    ))
                    .map_err(Error::backend(ctx))?;
                let mut args: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() + 1);
                args.push(&blog.0);
                args.extend(chunk.iter().map(|g| g as &dyn rusqlite::ToSql));
                let rows = stmt
                    .query_map(args.as_slice(), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                    .map_err(Error::backend(ctx))?;
                for row in rows {
                    let (g, h) = row.map_err(Error::backend(ctx))?;
                    out.insert(g, h);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn subscription(&self, blog: BlogId) -> Result<Option<Subscription>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {SUB_COLUMNS} FROM websub WHERE blog_id = ?1"),
                [blog.0],
                sub_from_row,
            )
            .optional()
            .map_err(Error::backend("reading a subscription"))
        })
        .await
    }

    async fn save_subscription(&self, sub: Subscription) -> Result<()> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO websub (blog_id, hub, topic, secret, state, requested_at, lease_expires_at, last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (blog_id) DO UPDATE SET hub = ?2, topic = ?3, secret = ?4, state = ?5,
                     requested_at = ?6, lease_expires_at = ?7, last_error = ?8",
                params![
                    sub.blog_id.0,
                    sub.hub,
                    sub.topic,
                    sub.secret,
                    sub.state.as_str(),
                    sub.requested_at.map(fmt_time),
                    sub.lease_expires_at.map(fmt_time),
                    sub.last_error
                ],
            )
            .map_err(Error::backend("saving a subscription"))?;
            Ok(())
        })
        .await
    }

    async fn subscriptions_to_request(
        &self,
        now: DateTime<Utc>,
        retry_after: chrono::Duration,
        renew_within: chrono::Duration,
    ) -> Result<Vec<Subscription>> {
        let retry_before = fmt_time(now - retry_after);
        let renew_before = fmt_time(now + renew_within);
        // A renewal that got no verification is asked again a few times before the end.
        let renew_retry_before = fmt_time(now - renew_within / 4);
        self.read(move |c| {
            let ctx = "reading subscriptions to request";
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {SUB_COLUMNS} FROM websub w JOIN blogs b ON b.id = w.blog_id
                     WHERE b.status IN ('pending', 'verified') AND (
                         w.state = 'wanted'
                         OR (w.state IN ('requested', 'failed') AND w.requested_at < ?1)
                         OR (w.state = 'active' AND w.lease_expires_at < ?2
                             AND (w.requested_at IS NULL OR w.requested_at < ?3)))
                     ORDER BY w.blog_id"
                ))
                .map_err(Error::backend(ctx))?;
            let rows = stmt
                .query_map(
                    params![retry_before, renew_before, renew_retry_before],
                    sub_from_row,
                )
                .map_err(Error::backend(ctx))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(Error::backend(ctx))
        })
        .await
    }

    // --- robots.txt decisions ---

    async fn robots(&self, origin: &str) -> Result<Option<kith_model::StoredRobots>> {
        let origin = origin.to_owned();
        self.read(move |c| {
            let ctx = "reading a robots.txt decision";
            c.prepare_cached(
                "SELECT origin, status, body, etag, last_modified, fetched_at, expires_at
                 FROM robots WHERE origin = ?1",
            )
            .and_then(|mut s| {
                s.query_row([&origin], |r| {
                    Ok(kith_model::StoredRobots {
                        origin: r.get(0)?,
                        status: r.get(1)?,
                        body: r.get(2)?,
                        etag: r.get(3)?,
                        last_modified: r.get(4)?,
                        fetched_at: get_time(r, 5)?,
                        expires_at: get_time(r, 6)?,
                    })
                })
                .optional()
            })
            .map_err(Error::backend(ctx))
        })
        .await
    }

    async fn save_robots(&self, robots: kith_model::StoredRobots) -> Result<()> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO robots (origin, status, body, etag, last_modified, fetched_at,
                     expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (origin) DO UPDATE SET status = excluded.status,
                     body = excluded.body, etag = excluded.etag,
                     last_modified = excluded.last_modified,
                     fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
                params![
                    robots.origin,
                    robots.status,
                    robots.body,
                    robots.etag,
                    robots.last_modified,
                    fmt_time(robots.fetched_at),
                    fmt_time(robots.expires_at)
                ],
            )
            .map(|_| ())
            .map_err(Error::backend("storing a robots.txt decision"))
        })
        .await
    }

    // --- the tagger's document frequencies ---

    async fn stored_df(&self) -> Result<Option<kith_model::StoredDf>> {
        self.read(|c| {
            c.query_row(
                "SELECT through_post, terms, saved_at FROM df_snapshot WHERE id = 1",
                [],
                |r| {
                    Ok(kith_model::StoredDf {
                        through: r.get::<_, Option<i64>>(0)?.map(PostId),
                        bytes: r.get(1)?,
                        saved_at: get_time(r, 2)?,
                    })
                },
            )
            .optional()
            .map_err(Error::backend("reading the saved document frequencies"))
        })
        .await
    }

    async fn save_df(&self, df: kith_model::StoredDf) -> Result<()> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO df_snapshot (id, through_post, terms, saved_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET through_post = excluded.through_post,
                     terms = excluded.terms, saved_at = excluded.saved_at",
                params![df.through.map(|p| p.0), df.bytes, fmt_time(df.saved_at)],
            )
            .map(|_| ())
            .map_err(Error::backend("saving the document frequencies"))
        })
        .await
    }

    async fn last_post_id(&self) -> Result<Option<PostId>> {
        self.read(|c| {
            c.query_row("SELECT MAX(id) FROM posts", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map(|id| id.map(PostId))
            .map_err(Error::backend("reading the last post id"))
        })
        .await
    }

    // --- hubs and communities ---

    async fn hub_stats(&self, query: crate::HubStatsQuery) -> Result<crate::HubStats> {
        self.read(move |conn| hubs::hub_stats(conn, &query)).await
    }

    async fn tagged_replies(
        &self,
        public_only: bool,
        per_tag: usize,
    ) -> Result<Vec<crate::TaggedReply>> {
        self.read(move |conn| hubs::tagged_replies(conn, public_only, per_tag, false))
            .await
            .map(|(replies, _)| replies)
    }

    async fn replies_and_links(
        &self,
        public_only: bool,
        per_tag: usize,
    ) -> Result<(Vec<crate::TaggedReply>, Vec<crate::BlogLink>)> {
        self.read(move |conn| hubs::tagged_replies(conn, public_only, per_tag, true))
            .await
    }

    async fn post_replies(
        &self,
        post: PostId,
        public_only: bool,
        limit: usize,
    ) -> Result<Vec<crate::Reply>> {
        self.read(move |conn| hubs::post_replies(conn, post, public_only, limit))
            .await
    }

    // --- index feed ---

    async fn posts_changed_since(
        &self,
        mark: Option<crate::ChangeMark>,
        limit: usize,
    ) -> Result<Vec<crate::ChangedPost>> {
        self.read(move |c| index_feed::posts_changed_since(c, mark, limit))
            .await
    }

    async fn blog_posts_for_index(
        &self,
        blog: BlogId,
        after: Option<PostId>,
        limit: usize,
    ) -> Result<Vec<crate::ChangedPost>> {
        self.read(move |c| index_feed::blog_posts_for_index(c, blog, after, limit))
            .await
    }

    async fn posts_by_ids(&self, ids: &[PostId]) -> Result<Vec<Post>> {
        let ids = ids.to_vec();
        self.read(move |c| index_feed::posts_by_ids(c, &ids)).await
    }

    async fn latest_change_mark(&self) -> Result<Option<crate::ChangeMark>> {
        self.read(index_feed::latest_change_mark).await
    }

    async fn post_counts_by_blog(&self) -> Result<Vec<crate::BlogPostCount>> {
        self.read(index_feed::post_counts_by_blog).await
    }

    async fn store_epoch(&self) -> Result<crate::StoreEpoch> {
        self.read(index_feed::store_epoch).await
    }

    // --- hubs computed once ---

    async fn lead(
        &self,
        role: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<bool> {
        let (role, owner) = (role.to_owned(), owner.to_owned());
        let (now, until) = (fmt_time(now), fmt_time(now + lease));
        self.write(move |c| {
            let n = c
                .execute(
                    "INSERT INTO leaders (role, owner, until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, until = excluded.until
                     WHERE leaders.owner = excluded.owner OR leaders.until <= ?4",
                    params![role, owner, until, now],
                )
                .map_err(Error::backend("taking a lease"))?;
            Ok(n > 0)
        })
        .await
    }

    async fn save_hubs(&self, computed_at: DateTime<Utc>, body: Vec<u8>) -> Result<i64> {
        let computed_at = fmt_time(computed_at);
        self.write(move |c| {
            let ctx = "storing hubs";
            let tx = c.transaction().map_err(Error::backend(ctx))?;
            tx.execute(
                "INSERT INTO hub_snapshots (computed_at, body) VALUES (?1, ?2)",
                params![computed_at, body],
            )
            .map_err(Error::backend(ctx))?;
            let generation = tx.last_insert_rowid();
            tx.execute(
                "DELETE FROM hub_snapshots WHERE generation <= ?1",
                [generation - KEPT_HUB_SNAPSHOTS],
            )
            .map_err(Error::backend(ctx))?;
            tx.commit().map_err(Error::backend(ctx))?;
            Ok(generation)
        })
        .await
    }

    async fn hubs_generation(&self) -> Result<Option<i64>> {
        self.read(|c| {
            c.query_row("SELECT MAX(generation) FROM hub_snapshots", [], |r| {
                r.get(0)
            })
            .map_err(Error::backend("reading the hubs generation"))
        })
        .await
    }

    async fn load_hubs(&self) -> Result<Option<(i64, Vec<u8>)>> {
        self.read(|c| {
            c.query_row(
                "SELECT generation, body FROM hub_snapshots ORDER BY generation DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(Error::backend("reading hubs"))
        })
        .await
    }

    // --- re-tagging and tag display forms (issue 4) ---

    async fn post_categories(&self, posts: Vec<PostId>) -> Result<HashMap<PostId, Vec<String>>> {
        self.read(move |c| retag::post_categories(c, &posts)).await
    }

    async fn retag_checkpoint(&self) -> Result<Option<crate::RetagCheckpoint>> {
        self.read(retag::checkpoint).await
    }

    async fn clear_retag_checkpoint(&self) -> Result<()> {
        self.write(|c| retag::clear_checkpoint(c)).await
    }

    async fn replace_post_tags_batch(
        &self,
        posts: Vec<crate::RetagPost>,
        progress: crate::RetagProgress,
    ) -> Result<crate::RetagStats> {
        self.write(move |c| retag::replace_batch(c, &posts, &progress))
            .await
    }

    async fn tag_displays(&self, tags: Vec<String>) -> Result<HashMap<String, String>> {
        self.read(move |c| retag::tag_displays(c, &tags)).await
    }
}
