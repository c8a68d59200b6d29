//! The PostgreSQL backend, for a hub that outgrows one machine: many crawl workers and web
//! nodes share one database.
//!
//! ## Why tokio-postgres + deadpool-postgres (and not sqlx)
//! - The queries are ours and few; sqlx's compile-time checking needs a database (or an
//!   offline cache kept in sync) at build time, which every contributor and CI would pay
//!   for, and its runtime API adds little over tokio-postgres for hand-written SQL.
//! - sqlx's SQLite driver would bring a second libsqlite3 beside rusqlite's; with
//!   tokio-postgres the two backends share nothing but the contract.
//! - tokio-postgres pipelines statements on one connection, streams large results
//!   (`query_raw`: the hubs' pass over every (post, tag) pair never holds them all), and
//!   deadpool-postgres adds a small, well-kept pool with a per-connection statement cache.
//!
//! ## Concurrency
//! Every method takes a pooled connection; writes are transactions, so several processes
//! can write at once. What SQLite gets from its one writer, PostgreSQL gets from:
//! - tags created in name order at the start of a write that creates any, so two writers
//!   never wait on each other's new tags in opposite orders;
//! - a write that still loses a deadlock or a serialisation check is run again (a few
//!   times) before it fails;
//! - the index feed reads posts in commit-safe order (`index_feed`).

mod hubs;
mod index_feed;
pub mod migrate;
mod retag;
#[cfg(test)]
mod tests;

use crate::ingest::{
    CrossPost, Outcome, author_tags, is_authors_copy, notes_text, skipped_note, tally,
};
use crate::sqlite::{BLOG_COLUMNS, POST_COLUMNS, SUB_COLUMNS};
use crate::{Counts, Error, IngestStats, PollResult, PostQuery, Result, Store};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use kith_model::{
    Blog, BlogId, BlogStatus, FeedState, NewBlog, NewPost, Post, PostId, PostTag, Subscription,
    SubscriptionState, TagSource, identity_key, normalize_url,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};

/// Connections a process keeps open at most.
pub const DEFAULT_POOL_SIZE: usize = 16;
/// The advisory lock claims are made under ("kith" + 1).
const CLAIM_LOCK: i64 = 0x6b69_7469;
/// How many times a write that lost a deadlock or a serialisation check is tried.
const WRITE_ATTEMPTS: usize = 4;

/// PostgreSQL behind the [`Store`] trait.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// The URL without its password, for messages.
    shown: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.shown)
            .finish()
    }
}

/// `url` without its password.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(an unreadable PostgreSQL URL)".to_owned(),
    }
}

/// A PostgreSQL error in words: the server's message with its detail, or the client's.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {} ({detail})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => match std::error::Error::source(e) {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

pub(crate) fn pg_err(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |e| Error::Backend {
        context,
        message: describe(&e),
    }
}

/// Whether an error is worth trying the whole write again for.
fn is_retryable(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

/// A column, or a backend error that names it.
pub(crate) fn col<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T> {
    row.try_get(idx).map_err(|e| Error::Backend {
        context: "reading a row",
        message: format!("column {idx}: {}", describe(&e)),
    })
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), applies pending
    /// migrations under an advisory lock, and keeps a pool of up to `pool_size`
    /// connections.
    pub async fn open(url: &str, pool_size: usize) -> Result<PostgresStore> {
        let shown = redact(url);
        let open_err = |message: String| Error::Open {
            path: shown.clone(),
            message,
        };
        let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
            open_err(format!("not a PostgreSQL URL: {}", describe(&e)))
        })?;
        let (mut client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| open_err(describe(&e)))?;
        let driver = tokio::spawn(connection);
        let migrated = migrate::apply(&mut client).await;
        drop(client);
        let _ = driver.await;
        migrated?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        Ok(PostgresStore { pool, shown })
    }

    /// The URL this store was opened with, password hidden.
    pub fn url(&self) -> &str {
        &self.shown
    }

    async fn conn(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| Error::Backend {
            context: "connecting to PostgreSQL",
            message: match &e {
                deadpool_postgres::PoolError::Backend(pg) => describe(pg),
                other => other.to_string(),
            },
        })
    }

    /// Runs a write transaction on `data`, again when it lost a deadlock or a
    /// serialisation check.
    async fn write<D, T, F>(&self, context: &'static str, data: &D, f: F) -> Result<T>
    where
        D: Sync + ?Sized,
        F: for<'t> Fn(
                &'t deadpool_postgres::Transaction<'t>,
                &'t D,
            ) -> futures::future::BoxFuture<'t, WResult<T>>
            + Send
            + Sync,
        T: Send,
    {
        let mut conn = self.conn().await?;
        let mut attempt = 1;
        loop {
            let tx = conn.transaction().await.map_err(pg_err(context))?;
            let outcome = match f(&tx, data).await {
                Ok(v) => tx.commit().await.map(|()| v).map_err(WriteError::Pg),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(WriteError::Pg(e)) if is_retryable(&e) && attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(context, attempt, error = %describe(&e), "write conflict; trying again");
                    attempt += 1;
                }
                Err(WriteError::Pg(e)) => return Err(pg_err(context)(e)),
                Err(WriteError::Store(e)) => return Err(e),
            }
        }
    }
}

/// A write's failure: a PostgreSQL error (maybe worth a retry) or one of ours.
pub(crate) enum WriteError {
    Pg(tokio_postgres::Error),
    Store(Error),
}

impl From<tokio_postgres::Error> for WriteError {
    fn from(e: tokio_postgres::Error) -> Self {
        WriteError::Pg(e)
    }
}

impl From<Error> for WriteError {
    fn from(e: Error) -> Self {
        WriteError::Store(e)
    }
}

type WResult<T> = std::result::Result<T, WriteError>;

fn blog_from_row(row: &Row) -> Result<Blog> {
    let status: String = col(row, 4)?;
    let status = status.parse::<BlogStatus>().map_err(|e| Error::Backend {
        context: "reading blogs",
        message: e.to_string(),
    })?;
    Ok(Blog {
        id: BlogId(col(row, 0)?),
        homepage_url: col(row, 1)?,
        feed_url: col(row, 2)?,
        title: col(row, 3)?,
        status,
        verification_token: col(row, 5)?,
        added_at: col(row, 6)?,
        feed: FeedState {
            etag: col(row, 7)?,
            last_modified: col(row, 8)?,
            next_check_at: col(row, 9)?,
            consecutive_errors: col::<Option<i32>>(row, 10)?
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            last_status: col::<Option<i32>>(row, 11)?.and_then(|n| u16::try_from(n).ok()),
            last_error: col(row, 12)?,
            last_checked_at: col(row, 13)?,
            last_success_at: col(row, 14)?,
            interval_secs: col::<Option<i64>>(row, 15)?.and_then(|s| u64::try_from(s).ok()),
            redirect_to: col(row, 16)?,
            redirect_count: col::<Option<i32>>(row, 17)?
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            notes: col::<Option<String>>(row, 18)?
                .map(|n| n.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
        },
    })
}

async fn select_blogs(
    c: &impl GenericClient,
    filter: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Blog>> {
    let sql = format!(
        "SELECT {BLOG_COLUMNS} FROM blogs b LEFT JOIN feed_state f ON f.blog_id = b.id {filter}"
    );
    let stmt = c
        .prepare_cached(&sql)
        .await
        .map_err(pg_err("reading blogs"))?;
    let rows = c
        .query(&stmt, params)
        .await
        .map_err(pg_err("reading blogs"))?;
    rows.iter().map(blog_from_row).collect()
}

fn sub_from_row(row: &Row) -> Result<Subscription> {
    let state: String = col(row, 4)?;
    Ok(Subscription {
        blog_id: BlogId(col(row, 0)?),
        hub: col(row, 1)?,
        topic: col(row, 2)?,
        secret: col(row, 3)?,
        state: SubscriptionState::parse(&state).unwrap_or(SubscriptionState::Failed),
        requested_at: col(row, 5)?,
        lease_expires_at: col(row, 6)?,
        last_error: col(row, 7)?,
    })
}

pub(crate) fn post_from_row(row: &Row) -> Result<Post> {
    Ok(Post {
        id: PostId(col(row, 0)?),
        blog_id: BlogId(col(row, 1)?),
        blog_title: col(row, 2)?,
        blog_url: col(row, 3)?,
        feed_url: col(row, 4)?,
        guid: col(row, 5)?,
        url: col(row, 6)?,
        title: col(row, 7)?,
        author: col(row, 8)?,
        published: col(row, 9)?,
        updated: col(row, 10)?,
        content_html: col(row, 11)?,
        text: col(row, 12)?,
        language: col(row, 13)?,
        backfill: col(row, 14)?,
        tags: Vec::new(),
    })
}

/// Fills in the tags of `posts` with one query, best first within each source order.
pub(crate) async fn attach_tags(c: &impl GenericClient, posts: &mut [Post]) -> Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    let ctx = "reading post tags";
    let ids: Vec<i64> = posts.iter().map(|p| p.id.0).collect();
    let stmt = c
        .prepare_cached(
            "SELECT pt.post_id, t.name, pt.source, pt.score, pt.reason
             FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.post_id = ANY($1)
             ORDER BY pt.post_id,
                 CASE pt.source WHEN 'author' THEN 0 WHEN 'rule' THEN 1 ELSE 2 END,
                 pt.score DESC, t.name COLLATE \"C\"",
        )
        .await
        .map_err(pg_err(ctx))?;
    let rows = c.query(&stmt, &[&ids]).await.map_err(pg_err(ctx))?;
    let mut by_post: HashMap<i64, Vec<PostTag>> = HashMap::new();
    for r in &rows {
        let source: String = col(r, 2)?;
        by_post.entry(col(r, 0)?).or_default().push(PostTag {
            tag: col(r, 1)?,
            source: TagSource::parse(&source).unwrap_or(TagSource::Extracted),
            score: col(r, 3)?,
            reason: col(r, 4)?,
        });
    }
    for p in posts.iter_mut() {
        p.tags = by_post.remove(&p.id.0).unwrap_or_default();
    }
    Ok(())
}

pub(crate) async fn select_posts(
    c: &impl GenericClient,
    filter: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Post>> {
    let ctx = "reading posts";
    let sql =
        format!("SELECT {POST_COLUMNS} FROM posts p JOIN blogs b ON b.id = p.blog_id {filter}");
    let stmt = c.prepare_cached(&sql).await.map_err(pg_err(ctx))?;
    let rows = c.query(&stmt, params).await.map_err(pg_err(ctx))?;
    let mut posts = rows.iter().map(post_from_row).collect::<Result<Vec<_>>>()?;
    attach_tags(c, &mut posts).await?;
    Ok(posts)
}

/// Creates the tags a write is about to use, in name order, before anything else: two
/// writers that create tags then never wait on each other's in opposite orders.
async fn create_tags<'a>(
    tx: &impl GenericClient,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> WResult<()> {
    // The first surface form seen for a new tag, as SQLite keeps it.
    let mut by_name: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, display) in tags {
        by_name.entry(name).or_insert(display);
    }
    if by_name.is_empty() {
        return Ok(());
    }
    let (names, displays): (Vec<&str>, Vec<&str>) = by_name.into_iter().unzip();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO tags (name, display)
             SELECT n, d FROM unnest($1::text[], $2::text[]) AS x (n, d)
             ORDER BY n COLLATE \"C\"
             ON CONFLICT (name) DO NOTHING",
        )
        .await?;
    tx.execute(&stmt, &[&names, &displays]).await?;
    Ok(())
}

/// A post's tags, stored with their surface forms (the tags exist: [`create_tags`]).
pub(crate) async fn insert_post_tags(
    tx: &impl GenericClient,
    post: i64,
    tags: &[&kith_model::NewTag],
) -> WResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = tags.iter().map(|t| t.tag.as_str()).collect();
    let sources: Vec<&str> = tags.iter().map(|t| t.source.as_str()).collect();
    let scores: Vec<f64> = tags.iter().map(|t| t.score).collect();
    let reasons: Vec<&str> = tags.iter().map(|t| t.reason.as_str()).collect();
    let displays: Vec<&str> = tags.iter().map(|t| t.display.trim()).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO post_tags (post_id, tag_id, source, score, reason, display)
             SELECT $1, t.id, x.s, x.sc, x.r, x.d
             FROM unnest($2::text[], $3::text[], $4::float8[], $5::text[], $6::text[])
                  WITH ORDINALITY AS x (n, s, sc, r, d, i)
             JOIN tags t ON t.name = x.n
             ORDER BY x.i
             ON CONFLICT DO NOTHING",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&post, &names, &sources, &scores, &reasons, &displays],
    )
    .await?;
    Ok(())
}

/// Replaces a post's outgoing links (`fresh`: a new post, nothing to delete).
async fn store_links(
    tx: &impl GenericClient,
    post: i64,
    html: &str,
    own_url: Option<&str>,
    fresh: bool,
) -> WResult<()> {
    if !fresh {
        let stmt = tx
            .prepare_cached("DELETE FROM post_links WHERE post_id = $1")
            .await?;
        tx.execute(&stmt, &[&post]).await?;
    }
    let links = crate::hubs::links_of(html, own_url);
    if links.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO post_links (post_id, target_url)
             SELECT $1, u FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING",
        )
        .await?;
    tx.execute(&stmt, &[&post, &links]).await?;
    Ok(())
}

/// Replaces a post's feed categories, in feed order (`fresh`: a new post).
async fn save_categories(
    tx: &impl GenericClient,
    post: i64,
    categories: &[String],
    fresh: bool,
) -> WResult<()> {
    if !fresh {
        let stmt = tx
            .prepare_cached("DELETE FROM post_categories WHERE post_id = $1")
            .await?;
        tx.execute(&stmt, &[&post]).await?;
    }
    if categories.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO post_categories (post_id, position, raw)
             SELECT $1, (i - 1)::int, raw FROM unnest($2::text[]) WITH ORDINALITY AS x (raw, i)",
        )
        .await?;
    tx.execute(&stmt, &[&post, &categories]).await?;
    Ok(())
}

/// What storing a poll's entries needs to know beforehand, read in three statements for
/// the whole poll rather than three per entry (round trips are what a PostgreSQL writer
/// waits on), and kept up to date as the entries are stored.
struct Known {
    /// This blog's stored posts by guid: (id, content hash).
    posts: HashMap<String, (i64, String)>,
    /// Entries of this feed already noted as copies of another blog's post, by guid: that
    /// blog.
    copies: HashMap<String, i64>,
    /// Posts of other blogs at the entries' addresses: (id, blog, guid, blog's homepage).
    elsewhere: HashMap<String, (i64, i64, String, String)>,
    /// This blog's homepage.
    home: Option<String>,
}

impl Known {
    async fn read(tx: &impl GenericClient, blog: BlogId, posts: &[NewPost]) -> WResult<Known> {
        let guids: Vec<&str> = posts.iter().map(|p| p.guid.as_str()).collect();
        let urls: Vec<&str> = posts.iter().filter_map(|p| p.url.as_deref()).collect();
        let mine = tx
            .prepare_cached(
                "SELECT guid, id, content_hash FROM posts WHERE blog_id = $1 AND guid = ANY($2)",
            )
            .await?;
        let copies = tx
            .prepare_cached(
                "SELECT s.guid, p.blog_id FROM post_sources s JOIN posts p ON p.id = s.post_id
                 WHERE s.blog_id = $1 AND s.guid = ANY($2)",
            )
            .await?;
        let elsewhere = tx
            .prepare_cached(
                "SELECT DISTINCT ON (p.url) p.url, p.id, p.blog_id, p.guid, b.homepage_url
                 FROM posts p JOIN blogs b ON b.id = p.blog_id
                 WHERE p.url = ANY($1) AND p.blog_id != $2
                 ORDER BY p.url, p.id",
            )
            .await?;
        let home = tx
            .prepare_cached("SELECT homepage_url FROM blogs WHERE id = $1")
            .await?;
        // Pipelined: the four go out together on the connection.
        let by_guid: [&(dyn ToSql + Sync); 2] = [&blog.0, &guids];
        let by_url: [&(dyn ToSql + Sync); 2] = [&urls, &blog.0];
        let by_id: [&(dyn ToSql + Sync); 1] = [&blog.0];
        let (mine, copies, elsewhere, home) = futures::try_join!(
            tx.query(&mine, &by_guid),
            tx.query(&copies, &by_guid),
            tx.query(&elsewhere, &by_url),
            tx.query_opt(&home, &by_id),
        )?;
        Ok(Known {
            posts: mine
                .iter()
                .map(|r| Ok((col(r, 0)?, (col(r, 1)?, col(r, 2)?))))
                .collect::<Result<_>>()?,
            copies: copies
                .iter()
                .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
                .collect::<Result<_>>()?,
            elsewhere: elsewhere
                .iter()
                .map(|r| Ok((col(r, 0)?, (col(r, 1)?, col(r, 2)?, col(r, 3)?, col(r, 4)?))))
                .collect::<Result<_>>()?,
            home: home.map(|r| col(&r, 0)).transpose()?,
        })
    }
}

/// When another blog already has a post at this URL, notes this feed as a second source
/// instead of storing the post twice. The post belongs to the blog whose homepage is on
/// the post's host (its author), not to an aggregator that saw it first.
async fn note_cross_post(
    tx: &impl GenericClient,
    blog: BlogId,
    post: &NewPost,
    known: &mut Known,
) -> WResult<CrossPost> {
    let Some(url) = post.url.as_deref() else {
        return Ok(CrossPost::No);
    };
    let Some((post_id, owner, owner_guid, owner_home)) = known.elsewhere.get(url).cloned() else {
        return Ok(CrossPost::No);
    };
    let we_are_the_author = is_authors_copy(url, known.home.as_deref(), &owner_home);
    let (source_blog, source_guid) = if we_are_the_author {
        // The aggregator saw it first: the post moves to its author, and the aggregator
        // becomes a source.
        tx.execute(
            "UPDATE posts SET blog_id = $2, guid = $3 WHERE id = $1",
            &[&post_id, &blog.0, &post.guid],
        )
        .await?;
        known.elsewhere.remove(url);
        (owner, owner_guid)
    } else {
        known.copies.insert(post.guid.clone(), owner);
        (blog.0, post.guid.clone())
    };
    tx.execute(
        "INSERT INTO post_sources (post_id, blog_id, guid) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        &[&post_id, &source_blog, &source_guid],
    )
    .await?;
    Ok(if we_are_the_author {
        CrossPost::Adopted(post_id)
    } else {
        CrossPost::Noted(owner)
    })
}

/// Inserts or updates one post and its tags; returns what happened.
async fn upsert_post(
    tx: &impl GenericClient,
    blog: BlogId,
    post: &NewPost,
    now: DateTime<Utc>,
    known: &mut Known,
) -> WResult<Outcome> {
    let mut adopted = false;
    let existing = match known.posts.get(&post.guid).cloned() {
        Some(e) => Some(e),
        None => match known.copies.get(&post.guid) {
            Some(&owner) => return Ok(Outcome::KnownCrossPost(owner)),
            None => match note_cross_post(tx, blog, post, known).await? {
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
            let stmt = tx
                .prepare_cached(
                    "UPDATE posts SET url = $2, title = $3, author = $4, updated = $5,
                         content_html = $6, text = $7, content_hash = $8, language = $9,
                         changed_at = $10
                     WHERE id = $1",
                )
                .await?;
            let tags = tx
                .prepare_cached("DELETE FROM post_tags WHERE post_id = $1")
                .await?;
            let fields: [&(dyn ToSql + Sync); 10] = [
                &id,
                &post.url,
                &post.title,
                &post.author,
                &post.updated,
                &post.content_html,
                &post.text,
                &post.content_hash,
                &post.language,
                &now,
            ];
            let of_post: [&(dyn ToSql + Sync); 1] = [&id];
            futures::try_join!(tx.execute(&stmt, &fields), tx.execute(&tags, &of_post))?;
            (id, Outcome::Updated)
        }
        None => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO posts (blog_id, guid, url, title, author, published, updated,
                         content_html, text, content_hash, language, first_seen_at, changed_at,
                         backfill, change_seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, 0)
                     RETURNING id",
                )
                .await?;
            let row = tx
                .query_one(
                    &stmt,
                    &[
                        &blog.0,
                        &post.guid,
                        &post.url,
                        &post.title,
                        &post.author,
                        &post.published,
                        &post.updated,
                        &post.content_html,
                        &post.text,
                        &post.content_hash,
                        &post.language,
                        &now,
                        &post.backfill,
                    ],
                )
                .await?;
            (col(&row, 0)?, Outcome::New)
        }
    };
    known
        .posts
        .insert(post.guid.clone(), (id, post.content_hash.clone()));
    let tags = author_tags(post);
    // Deduplicated as the primary key would (first decision per tag and source wins).
    let mut seen = BTreeSet::new();
    let tags: Vec<&kith_model::NewTag> = tags
        .iter()
        .filter(|t| seen.insert((t.tag.as_str(), t.source.as_str())))
        .collect();
    // A new post has no links, categories or tags to replace.
    let fresh = matches!(outcome, Outcome::New);
    futures::try_join!(
        store_links(tx, id, &post.content_html, post.url.as_deref(), fresh),
        insert_post_tags(tx, id, &tags),
        save_categories(tx, id, &post.categories, fresh),
    )?;
    Ok(if adopted {
        Outcome::CrossPosted(None)
    } else {
        outcome
    })
}

/// Rewrites a blog's feed URL after the feed moved for good, unless another registered
/// blog already has that feed.
async fn move_feed(tx: &impl GenericClient, blog: BlogId, new_url: &str) -> WResult<()> {
    let key = normalize_url(new_url)
        .map(|u| identity_key(&u))
        .unwrap_or_else(|_| new_url.to_owned());
    let owner: Option<i64> = tx
        .query_opt("SELECT id FROM blogs WHERE feed_key = $1", &[&key])
        .await?
        .map(|r| col(&r, 0))
        .transpose()?;
    match owner {
        Some(id) if id != blog.0 => {
            tracing::warn!(blog_id = %blog, other_blog_id = id, feed_url = new_url, "feed moved to a URL another blog is registered with");
        }
        _ => {
            tx.execute(
                "UPDATE blogs SET feed_url = $2, feed_key = $3 WHERE id = $1",
                &[&blog.0, &new_url, &key],
            )
            .await?;
            tracing::info!(blog_id = %blog, feed_url = new_url, "feed moved permanently; URL updated");
        }
    }
    Ok(())
}

/// One poll's outcome, its crawl state and its posts, inside the caller's transaction.
async fn record_poll_in(
    tx: &impl GenericClient,
    poll: &PollResult,
    now: DateTime<Utc>,
) -> WResult<IngestStats> {
    let s = &poll.state;
    let stmt = tx
        .prepare_cached(
            "UPDATE feed_state SET etag = $2, last_modified = $3, next_check_at = $4,
                 consecutive_errors = $5, last_status = $6, last_error = $7,
                 last_checked_at = $8, last_success_at = $9, interval_secs = $10,
                 redirect_to = $11, redirect_count = $12, notes = $13,
                 lease_owner = NULL, lease_until = NULL
             WHERE blog_id = $1",
        )
        .await?;
    let n = tx
        .execute(
            &stmt,
            &[
                &poll.blog_id.0,
                &s.etag,
                &s.last_modified,
                &s.next_check_at,
                &to_i32(s.consecutive_errors),
                &s.last_status.map(i32::from),
                &s.last_error,
                &s.last_checked_at,
                &s.last_success_at,
                &s.interval_secs.and_then(|v| i64::try_from(v).ok()),
                &s.redirect_to,
                &to_i32(s.redirect_count),
                &notes_text(&s.notes),
            ],
        )
        .await?;
    if n == 0 {
        // Removed while it was being polled: drop the result.
        return Err(Error::NoSuchBlog(poll.blog_id).into());
    }
    if let Some(title) = poll
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        tx.execute(
            "UPDATE blogs SET title = $2 WHERE id = $1 AND title IS DISTINCT FROM $2",
            &[&poll.blog_id.0, &title],
        )
        .await?;
    }
    if let Some(moved) = &poll.feed_url {
        move_feed(tx, poll.blog_id, moved).await?;
    }
    if let Some(status) = poll.status {
        tx.execute(
            "UPDATE blogs SET status = $2 WHERE id = $1",
            &[&poll.blog_id.0, &status.as_str()],
        )
        .await?;
    }
    let mut stats = IngestStats::default();
    let mut skipped: BTreeMap<i64, usize> = BTreeMap::new();
    if !poll.posts.is_empty() {
        let mut known = Known::read(tx, poll.blog_id, &poll.posts).await?;
        for post in &poll.posts {
            tally(
                upsert_post(tx, poll.blog_id, post, now, &mut known).await?,
                &mut stats,
                &mut skipped,
            );
        }
    }
    if !skipped.is_empty() {
        let mut notes = poll.state.notes.clone();
        notes.push(skipped_note(&skipped));
        tx.execute(
            "UPDATE feed_state SET notes = $2 WHERE blog_id = $1",
            &[&poll.blog_id.0, &notes_text(&notes)],
        )
        .await?;
    }
    Ok(stats)
}

/// Every tag the polls will store, with a surface form for new ones.
fn tags_of_polls(polls: &[PollResult]) -> Vec<(String, String)> {
    polls
        .iter()
        .flat_map(|p| &p.posts)
        .flat_map(|post| author_tags(post).into_owned())
        .map(|t| {
            let display = t.display.trim().to_owned();
            (t.tag, display)
        })
        .collect()
}

#[async_trait]
impl Store for PostgresStore {
    async fn add_blog(&self, blog: NewBlog) -> Result<Blog> {
        let key = normalize_url(&blog.feed_url)
            .map(|u| identity_key(&u))
            .unwrap_or_else(|_| blog.feed_url.clone());
        self.write("adding a blog", &(blog, key), |tx, (blog, key)| {
            Box::pin(async move {
                // ON CONFLICT: another process may register the same feed meanwhile.
                let inserted = tx
                    .query_opt(
                        "INSERT INTO blogs (homepage_url, feed_url, feed_key, title, status,
                             verification_token, added_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (feed_key) DO NOTHING RETURNING id",
                        &[
                            &blog.homepage_url,
                            &blog.feed_url,
                            key,
                            &blog.title,
                            &blog.status.as_str(),
                            &blog.verification_token,
                            &Utc::now(),
                        ],
                    )
                    .await?;
                let Some(row) = inserted else {
                    let r = tx
                        .query_one("SELECT id, feed_url FROM blogs WHERE feed_key = $1", &[key])
                        .await?;
                    return Err(Error::Duplicate {
                        existing: BlogId(col(&r, 0)?),
                        feed_url: col(&r, 1)?,
                    }
                    .into());
                };
                let id: i64 = col(&row, 0)?;
                tx.execute("INSERT INTO feed_state (blog_id) VALUES ($1)", &[&id])
                    .await?;
                Ok(select_blogs(tx, "WHERE b.id = $1", &[&id])
                    .await?
                    .pop()
                    .ok_or(Error::NoSuchBlog(BlogId(id)))?)
            })
        })
        .await
    }

    async fn blog(&self, id: BlogId) -> Result<Option<Blog>> {
        let c = self.conn().await?;
        Ok(select_blogs(&c, "WHERE b.id = $1", &[&id.0]).await?.pop())
    }

    async fn find_blog(&self, url: &str) -> Result<Option<Blog>> {
        let Ok(u) = normalize_url(url) else {
            return Ok(None);
        };
        let key = identity_key(&u);
        let homepage = u.to_string();
        let c = self.conn().await?;
        Ok(select_blogs(
            &c,
            "WHERE b.feed_key = $1 OR b.homepage_url = $2
             ORDER BY (b.feed_key = $1) DESC, b.id LIMIT 1",
            &[&key, &homepage],
        )
        .await?
        .pop())
    }

    async fn blogs(&self) -> Result<Vec<Blog>> {
        let c = self.conn().await?;
        select_blogs(&c, "ORDER BY b.id", &[]).await
    }

    async fn remove_blog(&self, id: BlogId) -> Result<bool> {
        let c = self.conn().await?;
        let n = c
            .execute("DELETE FROM blogs WHERE id = $1", &[&id.0])
            .await
            .map_err(pg_err("removing a blog"))?;
        Ok(n > 0)
    }

    async fn set_status(&self, id: BlogId, status: BlogStatus) -> Result<()> {
        let c = self.conn().await?;
        let n = c
            .execute(
                "UPDATE blogs SET status = $2 WHERE id = $1",
                &[&id.0, &status.as_str()],
            )
            .await
            .map_err(pg_err("changing a blog's status"))?;
        if n == 0 {
            Err(Error::NoSuchBlog(id))
        } else {
            Ok(())
        }
    }

    async fn due_blogs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Blog>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.conn().await?;
        let sql = format!(
            "SELECT {BLOG_COLUMNS} FROM feed_state f JOIN blogs b ON b.id = f.blog_id
             WHERE (f.next_check_at IS NULL OR f.next_check_at <= $1)
               AND b.status IN ('pending', 'verified')
             ORDER BY f.next_check_at NULLS FIRST, b.id
             LIMIT $2"
        );
        let ctx = "reading due blogs";
        let stmt = c.prepare_cached(&sql).await.map_err(pg_err(ctx))?;
        let rows = c.query(&stmt, &[&now, &limit]).await.map_err(pg_err(ctx))?;
        rows.iter().map(blog_from_row).collect()
    }

    async fn claim_due_blogs(
        &self,
        owner: &str,
        due_by: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<Blog>> {
        let data = (owner.to_owned(), due_by, now, now + lease, limit);
        self.write(
            "claiming due blogs",
            &data,
            |tx, (owner, due_by, now, until, limit)| {
                Box::pin(async move {
                    // Claims are made one process at a time (a transaction-scoped lock): two
                    // workers then never take two feeds of one host at the same moment.
                    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CLAIM_LOCK])
                        .await?;
                    let held: std::collections::HashSet<String> = tx
                        .query(
                            "SELECT b.feed_url FROM feed_state f JOIN blogs b ON b.id = f.blog_id
                         WHERE f.lease_until > $1 AND f.lease_owner != $2",
                            &[now, owner],
                        )
                        .await?
                        .iter()
                        .map(|r| col::<String>(r, 0).map(|u| crate::lease::host_of(&u)))
                        .collect::<Result<_>>()?;
                    let want = i64::try_from(crate::lease::candidates_for(*limit, held.len()))
                        .unwrap_or(i64::MAX);
                    let candidates = select_blogs(
                        tx,
                        "WHERE (f.next_check_at IS NULL OR f.next_check_at <= $1)
                       AND b.status IN ('pending', 'verified')
                       AND (f.lease_until IS NULL OR f.lease_until <= $2)
                     ORDER BY f.next_check_at NULLS FIRST, b.id
                     LIMIT $3",
                        &[due_by, now, &want],
                    )
                    .await?;
                    let claimed = crate::lease::pick(candidates, &held, *limit);
                    let ids: Vec<i64> = claimed.iter().map(|b| b.id.0).collect();
                    tx.execute(
                        "UPDATE feed_state SET lease_owner = $2, lease_until = $3
                     WHERE blog_id = ANY($1)",
                        &[&ids, owner, until],
                    )
                    .await?;
                    Ok(claimed)
                })
            },
        )
        .await
    }

    async fn release_claims(&self, owner: &str) -> Result<u64> {
        let c = self.conn().await?;
        c.execute(
            "UPDATE feed_state SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
            &[&owner],
        )
        .await
        .map_err(pg_err("releasing claims"))
    }

    async fn claim_holders(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        let c = self.conn().await?;
        c.query(
            "SELECT DISTINCT lease_owner FROM feed_state
             WHERE lease_until > $1 AND lease_owner IS NOT NULL ORDER BY 1",
            &[&now],
        )
        .await
        .map_err(pg_err("reading claim holders"))?
        .iter()
        .map(|r| col(r, 0))
        .collect()
    }

    async fn make_all_due(&self, now: DateTime<Utc>) -> Result<u64> {
        let c = self.conn().await?;
        c.execute(
            "UPDATE feed_state SET next_check_at = $1
             WHERE next_check_at > $1
               AND blog_id IN (SELECT id FROM blogs WHERE status IN ('pending', 'verified'))",
            &[&now],
        )
        .await
        .map_err(pg_err("making every blog due"))
    }

    async fn record_poll(&self, poll: PollResult) -> Result<IngestStats> {
        let mut out = self.record_polls(vec![poll]).await?;
        out.pop().unwrap_or(Err(Error::Closed))
    }

    async fn record_polls(&self, polls: Vec<PollResult>) -> Result<Vec<Result<IngestStats>>> {
        let tags = tags_of_polls(&polls);
        let data = (polls, tags, Utc::now());
        self.write("recording polls", &data, |tx, (polls, tags, now)| {
            Box::pin(async move {
                create_tags(tx, tags.iter().map(|(n, d)| (n.as_str(), d.as_str()))).await?;
                let mut out = Vec::with_capacity(polls.len());
                for poll in polls {
                    // Each poll in a savepoint: one that fails leaves nothing behind and
                    // the others are still committed.
                    tx.batch_execute("SAVEPOINT poll").await?;
                    match record_poll_in(tx, poll, *now).await {
                        Ok(stats) => {
                            tx.batch_execute("RELEASE SAVEPOINT poll").await?;
                            out.push(Ok(stats));
                        }
                        Err(WriteError::Store(e)) => {
                            tx.batch_execute("ROLLBACK TO SAVEPOINT poll").await?;
                            out.push(Err(e));
                        }
                        // A deadlock: the whole batch again (or it fails).
                        Err(WriteError::Pg(e)) if is_retryable(&e) => {
                            return Err(WriteError::Pg(e));
                        }
                        Err(WriteError::Pg(e)) => {
                            tx.batch_execute("ROLLBACK TO SAVEPOINT poll").await?;
                            out.push(Err(pg_err("recording a poll")(e)));
                        }
                    }
                }
                Ok(out)
            })
        })
        .await
    }

    async fn latest_posts(&self, q: PostQuery) -> Result<Vec<Post>> {
        let mut filter = String::from("WHERE TRUE");
        let mut args: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = Vec::new();
        if q.public_only {
            filter.push_str(" AND b.status = 'verified'");
        }
        if !q.include_backfill {
            filter.push_str(" AND NOT p.backfill");
        }
        if let Some(blog) = q.blog {
            args.push(Box::new(blog.0));
            filter.push_str(&format!(" AND p.blog_id = ${}", args.len()));
        }
        if let Some((published, id)) = q.before {
            args.push(Box::new(published));
            args.push(Box::new(id.0));
            let (a, b) = (args.len() - 1, args.len());
            filter.push_str(&format!(" AND (p.published, p.id) < (${a}, ${b})"));
        }
        args.push(Box::new(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        filter.push_str(&format!(
            " ORDER BY p.published DESC, p.id DESC LIMIT ${}",
            args.len()
        ));
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
            .iter()
            .map(|a| a.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let c = self.conn().await?;
        select_posts(&c, &filter, &refs).await
    }

    async fn posts_after(&self, after: Option<PostId>, limit: usize) -> Result<Vec<Post>> {
        let after = after.map_or(0, |p| p.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.conn().await?;
        select_posts(
            &c,
            "WHERE p.id > $1 ORDER BY p.id LIMIT $2",
            &[&after, &limit],
        )
        .await
    }

    async fn counts(&self) -> Result<Counts> {
        let c = self.conn().await?;
        let r = c
            .query_one(
                "SELECT (SELECT COUNT(*) FROM blogs), (SELECT COUNT(*) FROM posts),
                        (SELECT COUNT(*) FROM tags)",
                &[],
            )
            .await
            .map_err(pg_err("counting"))?;
        let n = |i| col::<i64>(&r, i).map(|v| u64::try_from(v).unwrap_or(0));
        Ok(Counts {
            blogs: n(0)?,
            posts: n(1)?,
            tags: n(2)?,
        })
    }

    async fn content_hashes(
        &self,
        blog: BlogId,
        guids: Vec<String>,
    ) -> Result<HashMap<String, String>> {
        let ctx = "reading content hashes";
        let c = self.conn().await?;
        let stmt = c
            .prepare_cached(
                "SELECT guid, content_hash FROM posts WHERE blog_id = $1 AND guid = ANY($2)",
            )
            .await
            .map_err(pg_err(ctx))?;
        let rows = c
            .query(&stmt, &[&blog.0, &guids])
            .await
            .map_err(pg_err(ctx))?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    async fn subscription(&self, blog: BlogId) -> Result<Option<Subscription>> {
        let c = self.conn().await?;
        c.query_opt(
            &format!("SELECT {SUB_COLUMNS} FROM websub WHERE blog_id = $1"),
            &[&blog.0],
        )
        .await
        .map_err(pg_err("reading a subscription"))?
        .map(|r| sub_from_row(&r))
        .transpose()
    }

    async fn save_subscription(&self, sub: Subscription) -> Result<()> {
        let c = self.conn().await?;
        c.execute(
            "INSERT INTO websub (blog_id, hub, topic, secret, state, requested_at,
                 lease_expires_at, last_error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (blog_id) DO UPDATE SET hub = $2, topic = $3, secret = $4, state = $5,
                 requested_at = $6, lease_expires_at = $7, last_error = $8",
            &[
                &sub.blog_id.0,
                &sub.hub,
                &sub.topic,
                &sub.secret,
                &sub.state.as_str(),
                &sub.requested_at,
                &sub.lease_expires_at,
                &sub.last_error,
            ],
        )
        .await
        .map_err(pg_err("saving a subscription"))?;
        Ok(())
    }

    async fn subscriptions_to_request(
        &self,
        now: DateTime<Utc>,
        retry_after: chrono::Duration,
        renew_within: chrono::Duration,
    ) -> Result<Vec<Subscription>> {
        let retry_before = now - retry_after;
        let renew_before = now + renew_within;
        // A renewal that got no verification is asked again a few times before the end.
        let renew_retry_before = now - renew_within / 4;
        let c = self.conn().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {SUB_COLUMNS} FROM websub w JOIN blogs b ON b.id = w.blog_id
                     WHERE b.status IN ('pending', 'verified') AND (
                         w.state = 'wanted'
                         OR (w.state IN ('requested', 'failed') AND w.requested_at < $1)
                         OR (w.state = 'active' AND w.lease_expires_at < $2
                             AND (w.requested_at IS NULL OR w.requested_at < $3)))
                     ORDER BY w.blog_id"
                ),
                &[&retry_before, &renew_before, &renew_retry_before],
            )
            .await
            .map_err(pg_err("reading subscriptions to request"))?;
        rows.iter().map(sub_from_row).collect()
    }

    async fn robots(&self, origin: &str) -> Result<Option<kith_model::StoredRobots>> {
        let c = self.conn().await?;
        let Some(r) = c
            .query_opt(
                "SELECT origin, status, body, etag, last_modified, fetched_at, expires_at
                 FROM robots WHERE origin = $1",
                &[&origin],
            )
            .await
            .map_err(pg_err("reading a robots.txt decision"))?
        else {
            return Ok(None);
        };
        Ok(Some(kith_model::StoredRobots {
            origin: col(&r, 0)?,
            status: u16::try_from(col::<i32>(&r, 1)?).unwrap_or(0),
            body: col(&r, 2)?,
            etag: col(&r, 3)?,
            last_modified: col(&r, 4)?,
            fetched_at: col(&r, 5)?,
            expires_at: col(&r, 6)?,
        }))
    }

    async fn save_robots(&self, robots: kith_model::StoredRobots) -> Result<()> {
        let c = self.conn().await?;
        c.execute(
            "INSERT INTO robots (origin, status, body, etag, last_modified, fetched_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (origin) DO UPDATE SET status = excluded.status,
                 body = excluded.body, etag = excluded.etag,
                 last_modified = excluded.last_modified,
                 fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
            &[
                &robots.origin,
                &i32::from(robots.status),
                &robots.body,
                &robots.etag,
                &robots.last_modified,
                &robots.fetched_at,
                &robots.expires_at,
            ],
        )
        .await
        .map_err(pg_err("storing a robots.txt decision"))?;
        Ok(())
    }

    async fn stored_df(&self) -> Result<Option<kith_model::StoredDf>> {
        let c = self.conn().await?;
        let Some(r) = c
            .query_opt(
                "SELECT through_post, terms, saved_at FROM df_snapshot WHERE id = 1",
                &[],
            )
            .await
            .map_err(pg_err("reading the saved document frequencies"))?
        else {
            return Ok(None);
        };
        Ok(Some(kith_model::StoredDf {
            through: col::<Option<i64>>(&r, 0)?.map(PostId),
            bytes: col(&r, 1)?,
            saved_at: col(&r, 2)?,
        }))
    }

    async fn save_df(&self, df: kith_model::StoredDf) -> Result<()> {
        let c = self.conn().await?;
        c.execute(
            "INSERT INTO df_snapshot (id, through_post, terms, saved_at) VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET through_post = excluded.through_post,
                 terms = excluded.terms, saved_at = excluded.saved_at",
            &[&df.through.map(|p| p.0), &df.bytes, &df.saved_at],
        )
        .await
        .map_err(pg_err("saving the document frequencies"))?;
        Ok(())
    }

    async fn last_post_id(&self) -> Result<Option<PostId>> {
        let c = self.conn().await?;
        let r = c
            .query_one("SELECT MAX(id) FROM posts", &[])
            .await
            .map_err(pg_err("reading the last post id"))?;
        Ok(col::<Option<i64>>(&r, 0)?.map(PostId))
    }

    async fn hub_stats(&self, query: crate::HubStatsQuery) -> Result<crate::HubStats> {
        let c = self.conn().await?;
        hubs::hub_stats(&c, &query).await
    }

    async fn replies_and_links(
        &self,
        public_only: bool,
        per_tag: usize,
    ) -> Result<(Vec<crate::TaggedReply>, Vec<crate::BlogLink>)> {
        let c = self.conn().await?;
        hubs::tagged_replies(&c, public_only, per_tag, true).await
    }

    async fn tagged_replies(
        &self,
        public_only: bool,
        per_tag: usize,
    ) -> Result<Vec<crate::TaggedReply>> {
        let c = self.conn().await?;
        Ok(hubs::tagged_replies(&c, public_only, per_tag, false)
            .await?
            .0)
    }

    async fn post_replies(
        &self,
        post: PostId,
        public_only: bool,
        limit: usize,
    ) -> Result<Vec<crate::Reply>> {
        let c = self.conn().await?;
        hubs::post_replies(&c, post, public_only, limit).await
    }

    async fn lead(
        &self,
        role: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<bool> {
        let c = self.conn().await?;
        let until = now + lease;
        let row = c
            .query_opt(
                "INSERT INTO leaders (role, owner, until) VALUES ($1, $2, $3)
                 ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, until = excluded.until
                 WHERE leaders.owner = excluded.owner OR leaders.until <= $4
                 RETURNING owner",
                &[&role, &owner, &until, &now],
            )
            .await
            .map_err(pg_err("taking a lease"))?;
        Ok(row.is_some())
    }

    async fn save_hubs(&self, computed_at: DateTime<Utc>, body: Vec<u8>) -> Result<i64> {
        self.write(
            "storing hubs",
            &(computed_at, body),
            |tx, (computed_at, body)| {
                Box::pin(async move {
                    let row = tx
                        .query_one(
                            "INSERT INTO hub_snapshots (computed_at, body) VALUES ($1, $2)
                         RETURNING generation",
                            &[computed_at, body],
                        )
                        .await?;
                    let generation: i64 = col(&row, 0)?;
                    tx.execute(
                        "DELETE FROM hub_snapshots WHERE generation <= $1",
                        &[&(generation - crate::sqlite::KEPT_HUB_SNAPSHOTS)],
                    )
                    .await?;
                    Ok(generation)
                })
            },
        )
        .await
    }

    async fn hubs_generation(&self) -> Result<Option<i64>> {
        let c = self.conn().await?;
        let r = c
            .query_one("SELECT MAX(generation) FROM hub_snapshots", &[])
            .await
            .map_err(pg_err("reading the hubs generation"))?;
        col(&r, 0)
    }

    async fn load_hubs(&self) -> Result<Option<(i64, Vec<u8>)>> {
        let c = self.conn().await?;
        c.query_opt(
            "SELECT generation, body FROM hub_snapshots ORDER BY generation DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(pg_err("reading hubs"))?
        .map(|r| Ok((col(&r, 0)?, col(&r, 1)?)))
        .transpose()
    }

    async fn post_categories(&self, posts: Vec<PostId>) -> Result<HashMap<PostId, Vec<String>>> {
        let c = self.conn().await?;
        retag::post_categories(&c, &posts).await
    }

    async fn retag_checkpoint(&self) -> Result<Option<crate::RetagCheckpoint>> {
        let c = self.conn().await?;
        retag::checkpoint(&c).await
    }

    async fn clear_retag_checkpoint(&self) -> Result<()> {
        let c = self.conn().await?;
        c.execute("DELETE FROM retag_checkpoint", &[])
            .await
            .map_err(pg_err("clearing the retag checkpoint"))?;
        Ok(())
    }

    async fn replace_post_tags_batch(
        &self,
        posts: Vec<crate::RetagPost>,
        progress: crate::RetagProgress,
    ) -> Result<crate::RetagStats> {
        let data = (posts, progress, Utc::now());
        self.write("re-tagging a batch", &data, |tx, (posts, progress, now)| {
            Box::pin(retag::replace_batch(tx, posts, progress, *now))
        })
        .await
    }

    async fn tag_displays(&self, tags: Vec<String>) -> Result<HashMap<String, String>> {
        let c = self.conn().await?;
        retag::tag_displays(&c, &tags).await
    }

    async fn posts_changed_since(
        &self,
        mark: Option<crate::ChangeMark>,
        limit: usize,
    ) -> Result<Vec<crate::ChangedPost>> {
        let c = self.conn().await?;
        index_feed::posts_changed_since(&c, mark, limit).await
    }

    async fn blog_posts_for_index(
        &self,
        blog: BlogId,
        after: Option<PostId>,
        limit: usize,
    ) -> Result<Vec<crate::ChangedPost>> {
        let c = self.conn().await?;
        index_feed::blog_posts_for_index(&c, blog, after, limit).await
    }

    async fn posts_by_ids(&self, ids: &[PostId]) -> Result<Vec<Post>> {
        let c = self.conn().await?;
        index_feed::posts_by_ids(&c, ids).await
    }

    async fn latest_change_mark(&self) -> Result<Option<crate::ChangeMark>> {
        let c = self.conn().await?;
        index_feed::latest_change_mark(&c).await
    }

    async fn post_counts_by_blog(&self) -> Result<Vec<crate::BlogPostCount>> {
        let c = self.conn().await?;
        index_feed::post_counts_by_blog(&c).await
    }

    async fn store_epoch(&self) -> Result<crate::StoreEpoch> {
        let c = self.conn().await?;
        let r = c
            .query_one(
                "SELECT store_id, visibility_epoch FROM store_meta WHERE id = 1",
                &[],
            )
            .await
            .map_err(pg_err("reading the store's epoch"))?;
        Ok(crate::StoreEpoch {
            store_id: col(&r, 0)?,
            epoch: col(&r, 1)?,
        })
    }
}
