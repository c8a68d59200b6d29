//! What only the PostgreSQL backend has: many processes at once on one database, writers
//! committing out of order, migrations under a lock. (The `Store` contract itself is the
//! conformance suite in `crate::tests`, run on both backends.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::PostgresStore;
use crate::testing::TestDatabase;
use crate::tests::new_blog;
use crate::{ChangeMark, Error, PollResult, Store};
use chrono::Utc;
use kith_model::{BlogId, FeedState, NewPost, NewTag, TagSource};
use std::collections::BTreeSet;
use std::sync::Arc;

fn post(guid: &str, tags: &[&str]) -> NewPost {
    NewPost {
        guid: guid.into(),
        url: Some(format!("https://x.example/{guid}")),
        content_hash: guid.into(),
        title: format!("Post {guid}"),
        author: None,
        published: Utc::now(),
        updated: None,
        content_html: "<p>x</p>".into(),
        text: "x".into(),
        language: None,
        categories: Vec::new(),
        backfill: false,
        tags: tags
            .iter()
            .map(|t| NewTag {
                tag: (*t).into(),
                display: (*t).into(),
                source: TagSource::Extracted,
                score: 0.5,
                reason: String::new(),
            })
            .collect(),
    }
}

fn polled(blog: BlogId, posts: Vec<NewPost>) -> PollResult {
    PollResult {
        blog_id: blog,
        state: FeedState::default(),
        title: None,
        status: None,
        feed_url: None,
        posts,
    }
}

async fn raw(db: &TestDatabase) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_processes_starting_at_once_migrate_once_and_a_newer_schema_is_refused() {
    let Some(db) = TestDatabase::create("migrations").await else {
        return;
    };
    let opens: Vec<_> = (0..10)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { PostgresStore::open(&url, 2).await })
        })
        .collect();
    for o in opens {
        o.await.unwrap().unwrap();
    }
    let c = raw(&db).await;
    let rows = c
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let want: Vec<i64> = (1..=super::migrate::latest_version()).collect();
    assert_eq!(versions, want, "each migration applied once");

    c.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')",
        &[],
    )
    .await
    .unwrap();
    let err = PostgresStore::open(db.url(), 2).await.unwrap_err();
    assert!(matches!(err, Error::TooNew { found: 999, .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_clear_error_without_the_password() {
    let err = PostgresStore::open("postgres://kith:s3cret@127.0.0.1:1/kith", 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let err = PostgresStore::open("postgres://[bad", 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
}

/// Many registrations of one feed at once, from many connections: one blog, and every
/// other attempt is told which blog has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_feed_make_one_blog() {
    let Some(db) = TestDatabase::create("registrations").await else {
        return;
    };
    let store = Arc::new(PostgresStore::open(db.url(), 8).await.unwrap());
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let s = Arc::clone(&store);
            tokio::spawn(async move { s.add_blog(new_blog(1)).await })
        })
        .collect();
    let mut made = Vec::new();
    let mut told = Vec::new();
    for t in tries {
        match t.await.unwrap() {
            Ok(b) => made.push(b.id),
            Err(Error::Duplicate { existing, .. }) => told.push(existing),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(made.len(), 1, "{made:?} {told:?}");
    assert!(told.iter().all(|id| *id == made[0]));
    assert_eq!(store.blogs().await.unwrap().len(), 1);
}

/// Writers storing polls at once whose posts bring the same new tags in opposite orders
/// neither deadlock nor lose a poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_with_the_same_new_tags_all_commit() {
    let Some(db) = TestDatabase::create("tag races").await else {
        return;
    };
    let store = Arc::new(PostgresStore::open(db.url(), 8).await.unwrap());
    let mut blogs = Vec::new();
    for n in 0..8 {
        blogs.push(store.add_blog(new_blog(n)).await.unwrap().id);
    }
    let names: Vec<String> = (0..40).map(|i| format!("tag{i:02}")).collect();
    let writers: Vec<_> = blogs
        .iter()
        .enumerate()
        .map(|(w, &blog)| {
            let s = Arc::clone(&store);
            let mut order: Vec<String> = names.clone();
            if w % 2 == 1 {
                order.reverse();
            }
            tokio::spawn(async move {
                for round in 0..5 {
                    let posts = (0..10)
                        .map(|i| {
                            let tags: Vec<&str> = order[(i * 4)..(i * 4 + 4)]
                                .iter()
                                .map(String::as_str)
                                .collect();
                            post(&format!("{w}-{round}-{i}"), &tags)
                        })
                        .collect();
                    let out = s.record_polls(vec![polled(blog, posts)]).await.unwrap();
                    assert_eq!(out[0].as_ref().unwrap().new, 10);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.posts, counts.tags), (8 * 5 * 10, 40));
}

/// The change feed's promise under concurrent writers: a post whose transaction began
/// before others but commits after them is not skipped by a follower that has read past
/// the others meanwhile (a cursor of (changed_at, id), or of a sequence, would skip it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_misses_no_post_committed_out_of_order() {
    let Some(db) = TestDatabase::create("change feed").await else {
        return;
    };
    let store = Arc::new(PostgresStore::open(db.url(), 8).await.unwrap());
    let mut blogs = Vec::new();
    for n in 0..6 {
        blogs.push(store.add_blog(new_blog(n)).await.unwrap().id);
    }
    // A slow writer: its transaction takes a transaction id first, writes a post, and
    // commits only after the others have committed theirs and the follower has read them.
    let mut slow = raw(&db).await;
    let slow_tx = slow.transaction().await.unwrap();
    let slow_id: i64 = slow_tx
        .query_one(
            "INSERT INTO posts (blog_id, guid, title, published, content_html, text,
                 content_hash, first_seen_at, changed_at, change_seq)
             VALUES ($1, 'slow', 'Slow', now(), '', '', 'h', now(), now(), 0) RETURNING id",
            &[&blogs[0].0],
        )
        .await
        .unwrap()
        .get(0);

    // Followers and writers at once.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Read passes the follower has finished (each to the end of what it may read).
    let passes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let passed = Arc::new(tokio::sync::Notify::new());
    let follower = {
        let (s, done) = (Arc::clone(&store), Arc::clone(&done));
        let (passes, passed) = (Arc::clone(&passes), Arc::clone(&passed));
        tokio::spawn(async move {
            let mut mark: Option<ChangeMark> = None;
            let mut seen: BTreeSet<i64> = BTreeSet::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                loop {
                    let page = s.posts_changed_since(mark, 7).await.unwrap();
                    let Some(last) = page.last() else { break };
                    for c in &page {
                        assert!(mark.is_none_or(|m| c.mark > m), "order goes back");
                        seen.insert(c.post.id.0);
                    }
                    mark = Some(last.mark);
                }
                passes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                passed.notify_waiters();
                if finished {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    let writers: Vec<_> = blogs
        .iter()
        .enumerate()
        .map(|(w, &blog)| {
            let s = Arc::clone(&store);
            tokio::spawn(async move {
                for round in 0..10 {
                    let posts = (0..3)
                        .map(|i| post(&format!("{w}-{round}-{i}"), &["t"]))
                        .collect();
                    s.record_polls(vec![polled(blog, posts)]).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    // The others are all committed; once the follower has read to the end twice more
    // (past everything it may see), commit the slow transaction, then let it finish.
    let after_writers = passes.load(std::sync::atomic::Ordering::SeqCst);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while passes.load(std::sync::atomic::Ordering::SeqCst) < after_writers + 2 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "the follower stalled");
        let _ = tokio::time::timeout(left, passed.notified()).await;
    }
    slow_tx.commit().await.unwrap();
    // An edit of an old post, after everything: it comes again, later in the order.
    let first = store.posts_after(None, 1).await.unwrap()[0].clone();
    let mut edited = post(&first.guid, &["t"]);
    edited.content_hash = "edited".into();
    store
        .record_polls(vec![polled(first.blog_id, vec![edited])])
        .await
        .unwrap();
    // Until the follower has read everything (other tests' transactions on the same
    // server hold the feed back a little).
    let total = store.counts().await.unwrap().posts;
    assert_eq!(total, 6 * 10 * 3 + 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let all = store.posts_changed_since(None, 10_000).await.unwrap();
        if all.len() as u64 == total && all.last().map(|c| c.post.id) == Some(first.id) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = follower.await.unwrap();
    let all: BTreeSet<i64> = store
        .posts_after(None, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id.0)
        .collect();
    assert!(
        seen.contains(&slow_id),
        "the post committed late was skipped"
    );
    assert_eq!(seen, all, "the follower saw every post");
    let latest = store.latest_change_mark().await.unwrap().unwrap();
    assert_eq!(latest.id, first.id, "the edit is the latest change");
    assert_eq!(
        store
            .posts_changed_since(Some(latest), 10)
            .await
            .unwrap()
            .len(),
        0
    );
}
