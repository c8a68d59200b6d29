//! The SQLite backend against a real file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::sqlite::BUSY_TIMEOUT_MS;
use chrono::Duration;
use kith_model::{FeedState, NewPost, TagSource, content_hash};
use rusqlite::Connection;

fn new_blog(n: usize) -> NewBlog {
    NewBlog {
        homepage_url: format!("https://blog{n}.example/"),
        feed_url: format!("https://blog{n}.example/feed.xml"),
        title: format!("Blog {n}"),
        status: BlogStatus::Verified,
        verification_token: format!("token{n}"),
    }
}

fn post(guid: &str, body: &str, hours_ago: i64, cats: &[&str]) -> NewPost {
    let title = format!("Post {guid}");
    NewPost {
        guid: guid.into(),
        url: Some(format!("https://blog.example/{guid}")),
        content_hash: content_hash(&title, body),
        title,
        author: Some("Ada".into()),
        published: Utc::now() - Duration::hours(hours_ago),
        updated: None,
        content_html: format!("<p>{body}</p>"),
        text: body.into(),
        language: Some("eng".into()),
        categories: cats.iter().map(|c| c.to_string()).collect(),
        backfill: false,
        tags: Vec::new(),
    }
}

fn polled(blog: BlogId, posts: Vec<NewPost>) -> PollResult {
    let now = Utc::now();
    PollResult {
        blog_id: blog,
        state: FeedState {
            etag: Some("\"v1\"".into()),
            last_checked_at: Some(now),
            last_success_at: Some(now),
            last_status: Some(200),
            next_check_at: Some(now + Duration::minutes(30)),
            ..FeedState::default()
        },
        title: Some("Polled title".into()),
        status: None,
        feed_url: None,
        posts,
    }
}

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

#[tokio::test]
async fn the_same_feed_under_another_spelling_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let first = store.add_blog(new_blog(1)).await.unwrap();
    let mut again = new_blog(1);
    again.feed_url = "http://www.blog1.example/feed.xml/".into();
    again.title = "Other".into();
    match store.add_blog(again).await {
        Err(Error::Duplicate { existing, .. }) => assert_eq!(existing, first.id),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let blogs = store.blogs().await.unwrap();
    assert_eq!(blogs.len(), 1);
    assert_eq!(blogs[0].title, "Blog 1", "the duplicate changed nothing");
    let found = store.find_blog("https://blog1.example").await.unwrap();
    assert_eq!(found.map(|b| b.id), Some(first.id), "found by homepage");
    let found = store
        .find_blog("http://blog1.example/feed.xml")
        .await
        .unwrap();
    assert_eq!(found.map(|b| b.id), Some(first.id), "found by feed");
}

#[tokio::test]
async fn polls_insert_update_and_skip_posts_with_their_tags() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let blog = store.add_blog(new_blog(1)).await.unwrap();
    let stats = store
        .record_poll(polled(
            blog.id,
            vec![
                post("a", "one", 2, &["Rust", "Async IO"]),
                post("b", "two", 1, &[]),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(
        stats,
        IngestStats {
            new: 2,
            updated: 0,
            unchanged: 0,
            cross_posted: 0,
        }
    );
    let stats = store
        .record_poll(polled(
            blog.id,
            vec![
                post("a", "one, edited", 2, &["rust"]),
                post("b", "two", 1, &[]),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(
        stats,
        IngestStats {
            new: 0,
            updated: 1,
            unchanged: 1,
            cross_posted: 0,
        }
    );

    let posts = store.latest_posts(PostQuery::default()).await.unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].guid, "b", "newest first");
    let a = &posts[1];
    assert_eq!(a.text, "one, edited");
    let tags: Vec<_> = a.tags.iter().map(|t| (t.tag.as_str(), t.source)).collect();
    assert_eq!(
        tags,
        vec![("rust", TagSource::Author)],
        "edit replaced the author tags"
    );

    let b = store.blog(blog.id).await.unwrap().unwrap();
    assert_eq!(b.title, "Polled title");
    assert_eq!(b.feed.etag.as_deref(), Some("\"v1\""));
    assert_eq!(b.health(), kith_model::Health::Ok);
    assert_eq!(
        store.counts().await.unwrap(),
        Counts {
            blogs: 1,
            posts: 2,
            tags: 2
        }
    );
}

#[tokio::test]
async fn posts_of_unverified_blogs_are_not_public() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let mut nb = new_blog(1);
    nb.status = BlogStatus::Pending;
    let blog = store.add_blog(nb).await.unwrap();
    store
        .record_poll(polled(blog.id, vec![post("a", "x", 1, &[])]))
        .await
        .unwrap();
    assert!(
        store
            .latest_posts(PostQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    let all = PostQuery {
        public_only: false,
        ..PostQuery::default()
    };
    assert_eq!(store.latest_posts(all).await.unwrap().len(), 1);
    store
        .set_status(blog.id, BlogStatus::Verified)
        .await
        .unwrap();
    assert_eq!(
        store
            .latest_posts(PostQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn keyset_pages_walk_every_post_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let blog = store.add_blog(new_blog(1)).await.unwrap();
    let posts: Vec<_> = (0..25)
        .map(|i| post(&format!("p{i}"), "x", i % 7, &[]))
        .collect();
    store.record_poll(polled(blog.id, posts)).await.unwrap();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .latest_posts(PostQuery {
                limit: 10,
                before,
                ..PostQuery::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some((last.published, last.id));
        seen.extend(page.iter().map(|p| (p.published, p.id)));
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
    let mut walked = 0;
    let mut after = None;
    while let Some(last) = store.posts_after(after, 7).await.unwrap().last() {
        walked += store.posts_after(after, 7).await.unwrap().len();
        after = Some(last.id);
    }
    assert_eq!(walked, 25);
}

#[tokio::test]
async fn due_blogs_skip_paused_and_future_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let a = store.add_blog(new_blog(1)).await.unwrap();
    let b = store.add_blog(new_blog(2)).await.unwrap();
    let c = store.add_blog(new_blog(3)).await.unwrap();
    store.set_status(c.id, BlogStatus::Paused).await.unwrap();
    let due: Vec<_> = store
        .due_blogs(Utc::now(), 10)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(due, vec![a.id, b.id]);
    store.record_poll(polled(a.id, vec![])).await.unwrap();
    let due: Vec<_> = store
        .due_blogs(Utc::now(), 10)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(due, vec![b.id], "a is scheduled 30 minutes out");
    let later = Utc::now() + Duration::hours(1);
    assert_eq!(store.due_blogs(later, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn removing_a_blog_removes_its_posts() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let a = store.add_blog(new_blog(1)).await.unwrap();
    store
        .record_poll(polled(a.id, vec![post("a", "x", 1, &["t"])]))
        .await
        .unwrap();
    assert!(store.remove_blog(a.id).await.unwrap());
    assert!(!store.remove_blog(a.id).await.unwrap());
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.blogs, counts.posts), (0, 0));
    let err = store.record_poll(polled(a.id, vec![])).await.unwrap_err();
    assert!(matches!(err, Error::NoSuchBlog(_)), "{err}");
}

#[tokio::test]
async fn committed_posts_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(&dir).await;
        let a = store.add_blog(new_blog(1)).await.unwrap();
        store
            .record_poll(polled(a.id, vec![post("a", "x", 1, &["t"])]))
            .await
            .unwrap();
    }
    let store = open(&dir).await;
    assert_eq!(store.counts().await.unwrap().posts, 1);
    assert_eq!(
        store.latest_posts(PostQuery::default()).await.unwrap()[0]
            .tags
            .len(),
        1
    );
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

/// A planet carrying a blogger's post, crawled before the blogger: one post, owned by the
/// blogger once their feed is read, with the planet noted as a second source.
#[tokio::test]
async fn cross_posts_are_stored_once_and_owned_by_their_author() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let planet = store
        .add_blog(NewBlog {
            homepage_url: "https://planet.example/".into(),
            feed_url: "https://planet.example/rss".into(),
            ..new_blog(9)
        })
        .await
        .unwrap();
    let author = store.add_blog(new_blog(1)).await.unwrap();
    let mut via_planet = post("planet-guid-1", "x", 1, &["aggregated"]);
    via_planet.url = Some("https://blog1.example/posts/1".into());
    let mut original = post("author-guid-1", "x", 1, &["rust"]);
    original.url = via_planet.url.clone();

    let s = store
        .record_poll(polled(planet.id, vec![via_planet.clone()]))
        .await
        .unwrap();
    assert_eq!(s.new, 1);
    let s = store
        .record_poll(polled(author.id, vec![original.clone()]))
        .await
        .unwrap();
    assert_eq!((s.new, s.cross_posted), (0, 1));
    let posts = store.latest_posts(PostQuery::default()).await.unwrap();
    assert_eq!(posts.len(), 1, "stored once");
    assert_eq!(posts[0].blog_id, author.id, "owned by the author");
    assert_eq!(posts[0].guid, "author-guid-1");

    // Later polls of either feed change nothing.
    let s = store
        .record_poll(polled(planet.id, vec![via_planet]))
        .await
        .unwrap();
    assert_eq!(
        s,
        IngestStats {
            unchanged: 1,
            ..IngestStats::default()
        }
    );
    let s = store
        .record_poll(polled(author.id, vec![original]))
        .await
        .unwrap();
    assert_eq!(
        s,
        IngestStats {
            unchanged: 1,
            ..IngestStats::default()
        }
    );
    assert_eq!(store.counts().await.unwrap().posts, 1);
    // The planet's entry is skipped, and its health says whose post it is.
    let notes = store.blog(planet.id).await.unwrap().unwrap().feed.notes;
    assert_eq!(
        notes,
        [format!(
            "1 entry skipped: it is already stored as blog #{}'s post (the same guid or \
             address), which this feed may not overwrite",
            author.id
        )]
    );
    assert!(
        store
            .blog(author.id)
            .await
            .unwrap()
            .unwrap()
            .feed
            .notes
            .is_empty()
    );
}

/// A feed whose entries are all other blogs' posts stores nothing, and its notes say so on
/// every read (not only the first), beside the crawler's own notes; a read without them
/// clears them, and a poll that read nothing keeps them.
#[tokio::test]
async fn skipped_entries_are_noted_in_the_feed_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let a = store.add_blog(new_blog(1)).await.unwrap();
    let b = store.add_blog(new_blog(2)).await.unwrap();
    let copier = store.add_blog(new_blog(3)).await.unwrap();
    let mine = |guid: &str| post(guid, "mine", 2, &[]);
    store
        .record_poll(polled(a.id, vec![mine("a1"), mine("a2")]))
        .await
        .unwrap();
    store
        .record_poll(polled(b.id, vec![mine("b1")]))
        .await
        .unwrap();
    // The copier's entries: other guids, the same addresses.
    let copy = |guid: &str, of: &str| {
        let mut p = post(guid, "copied", 1, &[]);
        p.url = Some(format!("https://blog.example/{of}"));
        p
    };
    let entries = vec![copy("c1", "a1"), copy("c2", "a2"), copy("c3", "b1")];
    let expected = format!(
        "3 entries skipped: they are already stored as posts of blog #{} (2), blog #{} (1) \
         (the same guid or address), which this feed may not overwrite",
        a.id, b.id
    );
    for round in 0..2 {
        let mut poll = polled(copier.id, entries.clone());
        poll.state.notes = vec!["a title was cut to 1000 characters".into()];
        let s = store.record_poll(poll).await.unwrap();
        assert_eq!(s.new, 0, "round {round}");
        let notes = store.blog(copier.id).await.unwrap().unwrap().feed.notes;
        assert_eq!(
            notes,
            [
                "a title was cut to 1000 characters".to_owned(),
                expected.clone()
            ],
            "round {round}"
        );
    }
    // A poll that read nothing (a 304 keeps the notes it had) changes nothing.
    let mut nothing = polled(copier.id, Vec::new());
    nothing.state.notes = store.blog(copier.id).await.unwrap().unwrap().feed.notes;
    store.record_poll(nothing).await.unwrap();
    assert_eq!(
        store
            .blog(copier.id)
            .await
            .unwrap()
            .unwrap()
            .feed
            .notes
            .len(),
        2
    );
    // The feed now holds its own post only: nothing left out.
    store
        .record_poll(polled(copier.id, vec![mine("c9")]))
        .await
        .unwrap();
    assert!(
        store
            .blog(copier.id)
            .await
            .unwrap()
            .unwrap()
            .feed
            .notes
            .is_empty()
    );
    assert_eq!(store.counts().await.unwrap().posts, 4);
}

#[tokio::test]
async fn a_confirmed_move_rewrites_the_feed_url_unless_taken() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let a = store.add_blog(new_blog(1)).await.unwrap();
    let b = store.add_blog(new_blog(2)).await.unwrap();
    let mut moved = polled(a.id, vec![]);
    moved.feed_url = Some("https://new.example/feed".into());
    store.record_poll(moved).await.unwrap();
    assert_eq!(
        store.blog(a.id).await.unwrap().unwrap().feed_url,
        "https://new.example/feed"
    );
    assert!(
        store
            .find_blog("http://new.example/feed/")
            .await
            .unwrap()
            .is_some()
    );

    let mut onto_b = polled(a.id, vec![]);
    onto_b.feed_url = Some(b.feed_url.clone());
    store.record_poll(onto_b).await.unwrap();
    assert_eq!(
        store.blog(a.id).await.unwrap().unwrap().feed_url,
        "https://new.example/feed",
        "b's feed URL is not taken over"
    );
}

#[tokio::test]
async fn backfill_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let a = store.add_blog(new_blog(1)).await.unwrap();
    let mut old = post("old", "x", 24 * 400, &[]);
    old.backfill = true;
    store
        .record_poll(polled(a.id, vec![old, post("new", "y", 1, &[])]))
        .await
        .unwrap();
    let all = store.latest_posts(PostQuery::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|p| p.backfill));
    let live = PostQuery {
        include_backfill: false,
        ..PostQuery::default()
    };
    let live: Vec<_> = store
        .latest_posts(live)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.guid)
        .collect();
    assert_eq!(live, ["new"]);
}

#[tokio::test]
async fn hub_stats_count_distinct_posts_per_tag_and_blog_and_links_join_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let a = store.add_blog(new_blog(1)).await.unwrap();
    let b = store.add_blog(new_blog(2)).await.unwrap();
    let mut pending = new_blog(3);
    pending.status = BlogStatus::Pending;
    let c = store.add_blog(pending).await.unwrap();
    store
        .record_poll(polled(
            a.id,
            vec![
                post("a1", "one", 2, &["Rust", "rust"]),
                post("a2", "two", 24 * 200, &["Rust", "WebAssembly"]),
            ],
        ))
        .await
        .unwrap();
    let mut reply = post("b1", "answering", 1, &["Rust"]);
    reply.content_html = r#"<p>As <a href="https://blog.example/a1#fn1">a1</a> said.</p>"#.into();
    store.record_poll(polled(b.id, vec![reply])).await.unwrap();
    let mut hidden = post("c1", "hidden", 1, &["Rust"]);
    hidden.content_html =
        r#"<a href="https://blog.example/a1">a1</a>, <a href="https://blog.example/a2">a2</a>"#
            .into();
    store.record_poll(polled(c.id, vec![hidden])).await.unwrap();

    let now = Utc::now();
    let q = HubStatsQuery {
        recent_since: now - Duration::days(90),
        weeks_since: now - Duration::weeks(26),
        rising_since: now - Duration::weeks(4),
        public_only: true,
        links: true,
    };
    let stats = store.hub_stats(q).await.unwrap();
    let cell = |tag: &str, blog: BlogId| {
        stats
            .cells
            .iter()
            .find(|c| stats.tags[c.tag as usize].name == tag && c.blog == blog)
            .map(|c| (c.posts, c.recent))
    };
    // "Rust" and "rust" on one post are one tag on one post.
    assert_eq!(cell("rust", a.id), Some((2, 1)));
    assert_eq!(cell("webassembly", a.id), Some((1, 0)));
    assert_eq!(cell("rust", b.id), Some((1, 1)));
    assert_eq!(cell("rust", c.id), None, "pending blogs are not public");
    assert_eq!(stats.blog_posts[&a.id], 2);
    // Weekly activity only inside the 26 weeks: the 200-day-old post is not there.
    let rust = stats.tags.iter().position(|t| t.name == "rust").unwrap() as u32;
    let weekly: u32 = stats
        .weeks
        .iter()
        .filter(|w| w.tag == rust)
        .map(|w| w.posts)
        .sum();
    assert_eq!(weekly, 2);
    // Co-tags within the weeks window: a2 (rust + webassembly) is too old.
    assert!(stats.co_tags.is_empty(), "{:?}", stats.co_tags);
    let all = store
        .hub_stats(HubStatsQuery {
            public_only: false,
            ..q
        })
        .await
        .unwrap();
    assert!(all.blog_posts.contains_key(&c.id));
    // Links between blogs: b's reply to a; c's two links only when pending blogs count.
    let link = |from: BlogId, to: BlogId, links: u32| BlogLink { from, to, links };
    assert_eq!(stats.blog_links, [link(b.id, a.id, 1)]);
    assert_eq!(all.blog_links, [link(b.id, a.id, 1), link(c.id, a.id, 2)]);

    let replies = store.tagged_replies(true, 10).await.unwrap();
    assert_eq!(replies.len(), 1, "{replies:?}");
    let r = &replies[0];
    assert_eq!((r.reply.from.blog_id, r.reply.to.blog_id), (b.id, a.id));
    assert_eq!(r.reply.to.title, "Post a1");
    assert_eq!(r.tags, ["rust"]);
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
        plan(crate::hubs::REPLY_LINKS_SQL),
        ["SCAN l", "SEARCH q USING COVERING INDEX posts_url (url=?)"]
    );
    let post = plan(crate::hubs::REPLY_POST_SQL);
    assert!(
        post[0].starts_with("SEARCH p USING INTEGER PRIMARY KEY"),
        "{post:#?}"
    );
    assert!(
        post.iter()
            .any(|d| d.starts_with("SEARCH pt USING COVERING INDEX")),
        "{post:#?}"
    );
    let by_id = plan(crate::hubs::REPLY_REF_SQL);
    assert_eq!(by_id.len(), 1, "{by_id:#?}");
    assert!(by_id[0].starts_with("SEARCH posts USING INTEGER PRIMARY KEY"));
}

/// Exchanges carry the tags of both posts, only between blogs, newest first; each tag
/// keeps its newest `per_tag`, and a post of a pending blog is only there when asked.
#[tokio::test]
async fn tagged_replies_keep_each_tags_newest_exchanges() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let a = store.add_blog(new_blog(1)).await.unwrap();
    let b = store.add_blog(new_blog(2)).await.unwrap();
    let mut pending = new_blog(3);
    pending.status = BlogStatus::Pending;
    let c = store.add_blog(pending).await.unwrap();
    let linking = |guid: &str, hours: i64, tags: &[&str], to: &str| {
        let mut p = post(guid, guid, hours, tags);
        p.content_html = format!(r#"<p>See <a href="https://blog.example/{to}">this</a>.</p>"#);
        p
    };
    store
        .record_poll(polled(
            a.id,
            vec![
                post("a1", "one", 50, &["Go"]),
                post("a2", "two", 50, &["Rust"]),
                post("a3", "three", 50, &[]),
            ],
        ))
        .await
        .unwrap();
    store
        .record_poll(polled(
            b.id,
            vec![
                linking("b1", 1, &["rust"], "a1"),
                linking("b2", 2, &[], "a2"),
                linking("b3", 3, &[], "a1"),
                // Its own blog, and an untagged exchange: not conversations of any hub.
                linking("b4", 4, &["rust"], "b1"),
                linking("b5", 5, &[], "a3"),
            ],
        ))
        .await
        .unwrap();
    store
        .record_poll(polled(c.id, vec![linking("c1", 0, &["go"], "a2")]))
        .await
        .unwrap();
    let seen = |replies: &[TaggedReply]| -> Vec<(String, String, Vec<String>)> {
        replies
            .iter()
            .map(|r| {
                (
                    r.reply.from.title.clone(),
                    r.reply.to.title.clone(),
                    r.tags.clone(),
                )
            })
            .collect()
    };
    let row = |from: &str, to: &str, tags: &[&str]| {
        (
            format!("Post {from}"),
            format!("Post {to}"),
            tags.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        seen(&store.tagged_replies(true, 2).await.unwrap()),
        [
            row("b1", "a1", &["go", "rust"]),
            row("b2", "a2", &["rust"]),
            row("b3", "a1", &["go"]),
        ]
    );
    // One per tag: b1 is the newest of both go and rust; b2 and b3 are not needed.
    assert_eq!(
        seen(&store.tagged_replies(true, 1).await.unwrap()),
        [row("b1", "a1", &["go", "rust"])]
    );
    assert!(store.tagged_replies(true, 0).await.unwrap().is_empty());
    // With pending blogs, c1 is the newest of both tags and takes their one place.
    assert_eq!(
        seen(&store.tagged_replies(false, 1).await.unwrap()),
        [row("c1", "a2", &["go", "rust"])]
    );
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
        let reference = crate::hubs::reference::hub_stats_sql(&conn, &q).unwrap();
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

/// robots.txt decisions: one row per origin, replaced whole, read back as stored.
#[tokio::test]
async fn robots_decisions_are_kept_per_origin() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    assert_eq!(store.robots("https://a.example").await.unwrap(), None);
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let first = kith_model::StoredRobots {
        origin: "https://a.example".into(),
        status: 200,
        body: b"User-agent: *\nDisallow: /x\n".to_vec(),
        etag: Some("\"1\"".into()),
        last_modified: None,
        fetched_at: now,
        expires_at: now + Duration::hours(24),
    };
    store.save_robots(first.clone()).await.unwrap();
    assert_eq!(
        store.robots("https://a.example").await.unwrap(),
        Some(first.clone())
    );
    let second = kith_model::StoredRobots {
        status: 404,
        body: Vec::new(),
        etag: None,
        last_modified: Some("Thu, 03 Dec 2026 10:00:00 GMT".into()),
        ..first.clone()
    };
    store.save_robots(second.clone()).await.unwrap();
    assert_eq!(
        store.robots("https://a.example").await.unwrap(),
        Some(second)
    );
    assert_eq!(store.robots("https://b.example").await.unwrap(), None);
}

/// The saved document frequencies: none at first, replaced whole, read back as saved; the
/// last post id follows what is stored.
#[tokio::test]
async fn document_frequencies_are_saved_whole_with_their_last_post() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    assert_eq!(store.stored_df().await.unwrap(), None);
    assert_eq!(store.last_post_id().await.unwrap(), None);
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let empty = kith_model::StoredDf {
        through: None,
        bytes: b"KDF\x01".to_vec(),
        saved_at: now,
    };
    store.save_df(empty.clone()).await.unwrap();
    assert_eq!(store.stored_df().await.unwrap(), Some(empty));

    let blog = store.add_blog(new_blog(1)).await.unwrap();
    store
        .record_poll(polled(
            blog.id,
            vec![post("a", "one", 2, &[]), post("b", "two", 1, &[])],
        ))
        .await
        .unwrap();
    let last = store.last_post_id().await.unwrap().unwrap();
    let all = store.posts_after(None, 10).await.unwrap();
    assert_eq!(Some(last), all.iter().map(|p| p.id).max());
    let full = kith_model::StoredDf {
        through: Some(last),
        bytes: vec![7; 100_000],
        saved_at: now + Duration::minutes(1),
    };
    store.save_df(full.clone()).await.unwrap();
    assert_eq!(store.stored_df().await.unwrap(), Some(full));
}

#[tokio::test]
async fn the_store_epoch_moves_when_visibility_changes_outside_change_marks() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir).await;
    let start = s.store_epoch().await.unwrap();
    assert_eq!(start.store_id.len(), 32, "{start:?}");
    assert_eq!(StoreEpoch::decode(&start.encode()), Some(start.clone()));
    let a = s.add_blog(new_blog(1)).await.unwrap().id;
    let b = s.add_blog(new_blog(2)).await.unwrap().id;
    s.record_poll(polled(a, vec![post("a1", "x", 1, &[])]))
        .await
        .unwrap();
    s.record_poll(polled(b, vec![post("b1", "y", 1, &[])]))
        .await
        .unwrap();
    assert_eq!(
        s.store_epoch().await.unwrap(),
        start,
        "new blogs and posts come with change marks"
    );
    s.set_status(a, BlogStatus::Verified).await.unwrap();
    assert_eq!(s.store_epoch().await.unwrap(), start, "status unchanged");

    s.set_status(a, BlogStatus::Pending).await.unwrap();
    let e1 = s.store_epoch().await.unwrap();
    assert_eq!(e1.store_id, start.store_id);
    assert!(e1.epoch > start.epoch, "{e1:?} after a status change");
    s.remove_blog(b).await.unwrap();
    let e2 = s.store_epoch().await.unwrap();
    assert!(e2.epoch > e1.epoch, "{e2:?} after a removal");

    drop(s);
    let s = open(&dir).await;
    assert_eq!(s.store_epoch().await.unwrap(), e2, "kept across a reopen");
    let other = tempfile::tempdir().unwrap();
    assert_ne!(
        open(&other).await.store_epoch().await.unwrap().store_id,
        e2.store_id,
        "every store has its own id"
    );
    assert_eq!(StoreEpoch::decode("no-epoch"), None);
    assert_eq!(StoreEpoch::decode(":3"), None);
}

#[tokio::test]
async fn polls_stored_together_are_each_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir).await;
    let a = s.add_blog(new_blog(1)).await.unwrap().id;
    let b = s.add_blog(new_blog(2)).await.unwrap().id;
    let gone = s.add_blog(new_blog(3)).await.unwrap().id;
    s.remove_blog(gone).await.unwrap();
    let out = s
        .record_polls(vec![
            polled(a, vec![post("a1", "x", 1, &["t"]), post("a2", "y", 2, &[])]),
            polled(gone, vec![post("g1", "z", 1, &[])]),
            polled(b, vec![post("b1", "w", 1, &[])]),
        ])
        .await
        .unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].as_ref().unwrap().new, 2);
    assert!(
        matches!(out[1], Err(Error::NoSuchBlog(id)) if id == gone),
        "{:?}",
        out[1]
    );
    assert_eq!(out[2].as_ref().unwrap().new, 1);
    assert_eq!(s.counts().await.unwrap().posts, 3, "the others are stored");
    let state = s.blog(b).await.unwrap().unwrap();
    assert_eq!(state.title, "Polled title");
    // The same polls again: each unchanged, as one by one.
    let again = s
        .record_polls(vec![polled(a, vec![post("a1", "x", 1, &["t"])])])
        .await
        .unwrap();
    assert_eq!(again[0].as_ref().unwrap().unchanged, 1);
}
