//! What only the SQLite backend has: its file, its single writer's lock, its query plans,
//! and the reference SQL the one-pass aggregates are checked against.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::migrate;
use crate::sqlite::BUSY_TIMEOUT_MS;
use crate::tests::{new_blog, polled, post};
use crate::*;
use chrono::{Duration, Utc};
use kith_model::BlogStatus;
use rusqlite::Connection;

async fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(dir.path().join("kith.sqlite3"))
        .await
        .unwrap()
}

#[tokio::test]
async fn migrations_run_once_and_refuse_a_newer_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kith.sqlite3");
    drop(SqliteStore::open(&path).await.unwrap());
    let mut conn = Connection::open(&path).unwrap();
    assert_eq!(
        migrate::current_version(&conn).unwrap(),
        migrate::latest_version()
    );
    assert_eq!(
        migrate::apply(&mut conn).unwrap(),
        0,
        "a second open applies nothing"
    );
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, Error::TooNew { found: 999, .. }), "{err}");
}

/// Another connection holds the write lock mid-transaction; our readers still answer, with
/// the last committed state, and our next write goes through once the lock is released.
#[tokio::test]
async fn readers_do_not_wait_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    store.add_blog(new_blog(1)).await.unwrap();

    let raw = Connection::open(store.path()).unwrap();
    raw.execute_batch("BEGIN IMMEDIATE").unwrap();
    raw.execute(
        "INSERT INTO blogs (homepage_url, feed_url, feed_key, title, status, verification_token, added_at)
         VALUES ('h', 'f', 'k', 't', 'verified', 'x', '2026-01-01T00:00:00.000000Z')",
        [],
    )
    .unwrap();
    let started = std::time::Instant::now();
    let blogs = store.blogs().await.unwrap();
    assert_eq!(blogs.len(), 1, "uncommitted rows are invisible");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(BUSY_TIMEOUT_MS / 2),
        "the read waited for the lock: {:?}",
        started.elapsed()
    );
    let pending_write = tokio::spawn({
        let store = store.clone();
        async move { store.add_blog(new_blog(2)).await }
    });
    raw.execute_batch("COMMIT").unwrap();
    pending_write.await.unwrap().unwrap();
    assert_eq!(store.blogs().await.unwrap().len(), 3);
}

/// The conversations' queries are driven by the links: they never scan the posts (the
/// per-tag query did, and took seconds at a million posts), and find each post by URL, id
/// and tag through indexes.
#[tokio::test]
async fn tagged_replies_go_from_links_to_posts_through_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let conn = Connection::open(store.path()).unwrap();
    let plan = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let ids = rusqlite::params_from_iter(vec![1; stmt.parameter_count()]);
        stmt.query_map(ids, |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(
        plan(crate::sqlite::hubs::REPLY_LINKS_SQL),
        ["SCAN l", "SEARCH q USING COVERING INDEX posts_url (url=?)"]
    );
    let post = plan(crate::sqlite::hubs::REPLY_POST_SQL);
    assert!(
        post[0].starts_with("SEARCH p USING INTEGER PRIMARY KEY"),
        "{post:#?}"
    );
    assert!(
        post.iter()
            .any(|d| d.starts_with("SEARCH pt USING COVERING INDEX")),
        "{post:#?}"
    );
    let by_id = plan(crate::sqlite::hubs::REPLY_REF_SQL);
    assert_eq!(by_id.len(), 1, "{by_id:#?}");
    assert!(by_id[0].starts_with("SEARCH posts USING INTEGER PRIMARY KEY"));
}

/// The one-pass aggregates equal the four SQL aggregates on a varied store: many blogs,
/// overlapping tags, duplicate sources, pending blogs, dates across every window.
#[tokio::test]
async fn hub_stats_in_one_pass_equal_the_sql_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let tags = ["rust", "go", "wasm", "db", "ops", "ml", "css"];
    // A small deterministic generator (no dependency needed for a fixture).
    let mut seed = 42u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for b in 0..12 {
        let mut blog = new_blog(b);
        if b % 5 == 4 {
            blog.status = BlogStatus::Pending;
        }
        let blog = store.add_blog(blog).await.unwrap();
        let posts = (0..20)
            .map(|i| {
                let cats: Vec<&str> = (0..1 + next(4)).map(|_| tags[next(7) as usize]).collect();
                let mut p = post(&format!("{b}-{i}"), "text", next(24 * 400) as i64, &cats);
                // Links to earlier posts, some of them the blog's own, some to nowhere.
                if next(3) == 0 {
                    let to = format!("https://blog.example/{}-{}", next(12), next(25));
                    p.content_html = format!(r#"<p><a href="{to}">that</a></p>"#);
                }
                // Some tags twice, by two sources.
                if next(3) == 0 {
                    p.tags.push(kith_model::NewTag {
                        tag: cats[0].to_owned(),
                        display: cats[0].to_uppercase(),
                        source: kith_model::TagSource::Extracted,
                        score: 0.5,
                        reason: String::new(),
                    });
                }
                p
            })
            .collect();
        store.record_poll(polled(blog.id, posts)).await.unwrap();
    }
    let now = Utc::now();
    for public_only in [true, false] {
        let q = HubStatsQuery {
            recent_since: now - Duration::days(28),
            weeks_since: now - Duration::weeks(26),
            rising_since: now - Duration::weeks(4),
            public_only,
            links: true,
        };
        let fast = store.hub_stats(q).await.unwrap();
        let conn = Connection::open(dir.path().join("kith.sqlite3")).unwrap();
        let reference = crate::sqlite::hubs::reference::hub_stats_sql(&conn, &q).unwrap();
        assert!(fast.co_tags.len() > 10 && fast.weeks.len() > 10 && fast.cells.len() > 30);
        assert_eq!(fast.tags, reference.tags);
        assert_eq!(fast.cells, reference.cells);
        assert_eq!(fast.weeks, reference.weeks);
        assert_eq!(fast.co_tags, reference.co_tags);
        assert_eq!(fast.blog_posts, reference.blog_posts);
        assert!(fast.blog_links.len() > 5, "{:?}", fast.blog_links);
        assert_eq!(fast.blog_links, reference.blog_links);
        // The conversations' pass counts the same links (what `kith serve` reads).
        for per_tag in [0, 3] {
            let (_, links) = store.replies_and_links(public_only, per_tag).await.unwrap();
            assert_eq!(links, fast.blog_links, "per_tag {per_tag}");
        }
    }
}
