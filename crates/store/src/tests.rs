//! The `Store` contract, one suite for both backends: every test here runs on a fresh
//! SQLite file and on a fresh PostgreSQL database (`KITH_TEST_POSTGRES`). What only one
//! backend has (SQLite's query plans, its file and lock; PostgreSQL's concurrent writers)
//! is tested beside that backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::testing::TestDatabase;
use chrono::Duration;
use kith_model::{FeedState, NewPost, NewTag, TagSource, content_hash};

/// A backend to run a test on; every [`Backend::open`] opens the same store again.
pub(crate) enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

impl Backend {
    pub(crate) fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    pub(crate) async fn postgres(test: &str) -> Option<Backend> {
        TestDatabase::create(test).await.map(Backend::Postgres)
    }

    pub(crate) async fn open(&self) -> DynStore {
        match self {
            Backend::Sqlite(dir) => Arc::new(
                SqliteStore::open(dir.path().join("kith.sqlite3"))
                    .await
                    .unwrap(),
            ),
            Backend::Postgres(db) => Arc::new(
                PostgresStore::open(db.url(), crate::postgres::DEFAULT_POOL_SIZE)
                    .await
                    .unwrap(),
            ),
        }
    }

    /// Another, empty store of the same kind.
    pub(crate) async fn other(&self) -> Backend {
        match self {
            Backend::Sqlite(_) => Backend::sqlite(),
            Backend::Postgres(_) => Backend::postgres("another store").await.unwrap(),
        }
    }
}

pub(crate) fn new_blog(n: usize) -> NewBlog {
    NewBlog {
        homepage_url: format!("https://blog{n}.example/"),
        feed_url: format!("https://blog{n}.example/feed.xml"),
        title: format!("Blog {n}"),
        status: BlogStatus::Verified,
        verification_token: format!("token{n}"),
    }
}

pub(crate) fn post(guid: &str, body: &str, hours_ago: i64, cats: &[&str]) -> NewPost {
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

pub(crate) fn polled(blog: BlogId, posts: Vec<NewPost>) -> PollResult {
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

async fn the_same_feed_under_another_spelling_is_a_duplicate(backend: Backend) {
    let store = backend.open().await;
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

async fn polls_insert_update_and_skip_posts_with_their_tags(backend: Backend) {
    let store = backend.open().await;
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

async fn posts_of_unverified_blogs_are_not_public(backend: Backend) {
    let store = backend.open().await;
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

async fn keyset_pages_walk_every_post_once(backend: Backend) {
    let store = backend.open().await;
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

async fn due_blogs_skip_paused_and_future_ones(backend: Backend) {
    let store = backend.open().await;
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

async fn removing_a_blog_removes_its_posts(backend: Backend) {
    let store = backend.open().await;
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

async fn committed_posts_survive_a_reopen(backend: Backend) {
    {
        let store = backend.open().await;
        let a = store.add_blog(new_blog(1)).await.unwrap();
        store
            .record_poll(polled(a.id, vec![post("a", "x", 1, &["t"])]))
            .await
            .unwrap();
    }
    let store = backend.open().await;
    assert_eq!(store.counts().await.unwrap().posts, 1);
    assert_eq!(
        store.latest_posts(PostQuery::default()).await.unwrap()[0]
            .tags
            .len(),
        1
    );
}

/// A planet carrying a blogger's post, crawled before the blogger: one post, owned by the
/// blogger once their feed is read, with the planet noted as a second source.
async fn cross_posts_are_stored_once_and_owned_by_their_author(backend: Backend) {
    let store = backend.open().await;
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
async fn skipped_entries_are_noted_in_the_feed_state(backend: Backend) {
    let store = backend.open().await;
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

async fn a_confirmed_move_rewrites_the_feed_url_unless_taken(backend: Backend) {
    let store = backend.open().await;
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

async fn backfill_can_be_left_out(backend: Backend) {
    let store = backend.open().await;
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

async fn hub_stats_count_distinct_posts_per_tag_and_blog_and_links_join_up(backend: Backend) {
    let store = backend.open().await;
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

/// Exchanges carry the tags of both posts, only between blogs, newest first; each tag
/// keeps its newest `per_tag`, and a post of a pending blog is only there when asked.
async fn tagged_replies_keep_each_tags_newest_exchanges(backend: Backend) {
    let store = backend.open().await;
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

/// robots.txt decisions: one row per origin, replaced whole, read back as stored.
async fn robots_decisions_are_kept_per_origin(backend: Backend) {
    let store = backend.open().await;
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
async fn document_frequencies_are_saved_whole_with_their_last_post(backend: Backend) {
    let store = backend.open().await;
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

async fn the_store_epoch_moves_when_visibility_changes_outside_change_marks(backend: Backend) {
    let s = backend.open().await;
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
    let s = backend.open().await;
    assert_eq!(s.store_epoch().await.unwrap(), e2, "kept across a reopen");
    let other = backend.other().await;
    assert_ne!(
        other.open().await.store_epoch().await.unwrap().store_id,
        e2.store_id,
        "every store has its own id"
    );
    assert_eq!(StoreEpoch::decode("no-epoch"), None);
    assert_eq!(StoreEpoch::decode(":3"), None);
}

async fn polls_stored_together_are_each_atomic(backend: Backend) {
    let s = backend.open().await;
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

/// Crawl processes sharing a store: each claim takes due blogs nobody holds, on hosts no
/// other process holds; a stored poll ends its claim, a claim runs out at its lease's end
/// (its process died) and can be released; `--all` makes every blog due.
async fn claims_split_due_blogs_and_hold_hosts(backend: Backend) {
    let store = backend.open().await;
    let mut ids = Vec::new();
    for (n, feed) in [
        (1, "https://shared.example/a.xml"),
        (2, "https://shared.example/b.xml"),
        (3, "https://blog3.example/feed.xml"),
        (4, "https://blog4.example/feed.xml"),
        (5, "https://blog5.example/feed.xml"),
    ] {
        let blog = NewBlog {
            feed_url: feed.into(),
            ..new_blog(n)
        };
        ids.push(store.add_blog(blog).await.unwrap().id);
    }
    let paused = store.add_blog(new_blog(6)).await.unwrap().id;
    store.set_status(paused, BlogStatus::Paused).await.unwrap();
    let now = Utc::now();
    let lease = Duration::minutes(10);
    let claim = |owner: &'static str, at: chrono::DateTime<Utc>, limit: usize| {
        let store = Arc::clone(&store);
        async move {
            let mut got: Vec<BlogId> = store
                .claim_due_blogs(owner, at, at, lease, limit)
                .await
                .unwrap()
                .iter()
                .map(|b| b.id)
                .collect();
            got.sort();
            got
        }
    };
    assert_eq!(claim("a", now, 1).await, vec![ids[0]], "most overdue first");
    assert_eq!(
        claim("b", now, 10).await,
        vec![ids[2], ids[3], ids[4]],
        "not the blog a holds, nor another on its host, nor a paused one"
    );
    assert_eq!(
        claim("a", now, 10).await,
        vec![ids[1]],
        "a's own host is a's"
    );
    assert_eq!(claim("c", now, 10).await, vec![], "everything is held");
    assert_eq!(store.claim_holders(now).await.unwrap(), vec!["a", "b"]);

    // A stored poll ends its claim; the blog is not due again until its next check.
    store
        .record_poll(polled(ids[0], vec![post("p", "x", 1, &[])]))
        .await
        .unwrap();
    assert_eq!(claim("c", now, 10).await, vec![]);
    // Leases run out: another process takes what is still due.
    let later = now + Duration::minutes(11);
    assert_eq!(
        claim("d", later, 10).await,
        vec![ids[1], ids[2], ids[3], ids[4]]
    );
    assert_eq!(store.release_claims("d").await.unwrap(), 4);
    assert_eq!(
        claim("e", now, 10).await,
        vec![ids[1], ids[2], ids[3], ids[4]],
        "released"
    );
    assert_eq!(store.release_claims("e").await.unwrap(), 4);
    // `--all`: the polled blog is due again (the paused one stays out).
    assert_eq!(store.make_all_due(now).await.unwrap(), 1);
    assert_eq!(claim("f", now, 10).await.len(), 5);
}

/// One leader per role at a time, until its lease runs out; hubs snapshots by generation,
/// the newest loaded, the oldest dropped.
async fn a_leader_at_a_time_and_hubs_by_generation(backend: Backend) {
    let store = backend.open().await;
    let now = Utc::now();
    let lease = Duration::seconds(60);
    assert!(store.lead("hubs", "a", now, lease).await.unwrap());
    assert!(
        !store.lead("hubs", "b", now, lease).await.unwrap(),
        "a holds it"
    );
    assert!(
        store.lead("other", "b", now, lease).await.unwrap(),
        "roles are apart"
    );
    let later = now + Duration::seconds(30);
    assert!(
        store.lead("hubs", "a", later, lease).await.unwrap(),
        "renewed"
    );
    assert!(
        !store
            .lead("hubs", "b", now + Duration::seconds(61), lease)
            .await
            .unwrap(),
        "the renewal moved the end"
    );
    let after = now + Duration::seconds(91);
    assert!(
        store.lead("hubs", "b", after, lease).await.unwrap(),
        "a stopped renewing"
    );
    assert!(!store.lead("hubs", "a", after, lease).await.unwrap());

    assert_eq!(store.hubs_generation().await.unwrap(), None);
    assert_eq!(store.load_hubs().await.unwrap(), None);
    let mut generations = Vec::new();
    for i in 0..5u8 {
        generations.push(store.save_hubs(now, vec![i; 3]).await.unwrap());
    }
    assert!(
        generations.windows(2).all(|w| w[1] > w[0]),
        "{generations:?}"
    );
    let newest = *generations.last().unwrap();
    assert_eq!(store.hubs_generation().await.unwrap(), Some(newest));
    assert_eq!(store.load_hubs().await.unwrap(), Some((newest, vec![4; 3])));
}

/// A feed that lists one entry twice (an edit appended, a broken generator): one post, the
/// later version stored.
async fn an_entry_twice_in_one_poll_is_one_post(backend: Backend) {
    let store = backend.open().await;
    let blog = store.add_blog(new_blog(1)).await.unwrap();
    let first = post("a", "first text", 2, &["rust"]);
    let mut second = post("a", "second text", 2, &["go"]);
    second.content_hash = content_hash(&second.title, "second text");
    let stats = store
        .record_poll(polled(blog.id, vec![first.clone(), second, first]))
        .await
        .unwrap();
    assert_eq!((stats.new, stats.updated), (1, 2), "{stats:?}");
    let posts = store.posts_after(None, 10).await.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "first text", "the last listed version wins");
}

// --- re-tagging ---

fn rtag(name: &str, display: &str, source: TagSource, score: f64) -> NewTag {
    NewTag {
        tag: name.into(),
        display: display.into(),
        source,
        score,
        reason: format!("because {name}"),
    }
}

fn rpost(guid: &str, cats: &[&str], tags: Vec<NewTag>) -> NewPost {
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

async fn store_with(backend: &Backend, posts: Vec<NewPost>) -> (DynStore, BlogId) {
    let store = backend.open().await;
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
    (store, blog.id)
}

/// Where the post stands in the store's change order. On PostgreSQL the feed hands a post
/// out once every older transaction on the server has ended (other tests' included), so
/// this waits for it a little.
async fn change_mark(store: &DynStore, id: PostId) -> ChangeMark {
    for _ in 0..200 {
        let all = store.posts_changed_since(None, 1000).await.unwrap();
        if let Some(c) = all.iter().find(|c| c.post.id == id) {
            return c.mark;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("post {id} never reached the change feed")
}

fn progress(last: PostId, done: bool) -> RetagProgress {
    RetagProgress {
        fingerprint: "f1".into(),
        last_post: last,
        done,
    }
}

async fn categories_are_kept_in_feed_order_and_replaced_on_edit(backend: Backend) {
    let (store, blog) = store_with(&backend, vec![rpost("1", &["Zeta", "Alpha"], vec![])]).await;
    let stored = store.posts_after(None, 10).await.unwrap();
    let id = stored[0].id;
    let cats = store.post_categories(vec![id]).await.unwrap();
    assert_eq!(cats[&id], vec!["Zeta".to_owned(), "Alpha".to_owned()]);

    let mut edited = rpost("1", &["Beta"], vec![]);
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

async fn a_batch_replaces_tags_and_bumps_only_changed_posts(backend: Backend) {
    let keep = vec![rtag("rust", "Rust", TagSource::Author, 1.0)];
    let (store, _) = store_with(
        &backend,
        vec![
            rpost("1", &["Rust"], keep.clone()),
            rpost("2", &[], vec![rtag("go", "Go", TagSource::Extracted, 0.5)]),
            rpost(
                "3",
                &[],
                vec![rtag("sql", "SQL", TagSource::Extracted, 0.5)],
            ),
        ],
    )
    .await;
    let posts = store.posts_after(None, 10).await.unwrap();
    let mut before = Vec::new();
    for p in &posts {
        before.push(change_mark(&store, p.id).await);
    }
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
                rtag("golang", "Golang", TagSource::Rule, 0.9),
                rtag("golang", "Golang", TagSource::Rule, 0.9),
            ],
        },
        // Only the score moved: rewritten, not changed.
        RetagPost {
            post: posts[2].id,
            content_hash: content_hash(&posts[2].title, &posts[2].text),
            tags: vec![rtag("sql", "SQL", TagSource::Extracted, 0.7)],
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
    let mut after = Vec::new();
    for p in &posts {
        after.push(change_mark(&store, p.id).await);
    }
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

async fn checkpoint_totals_accumulate_reset_under_other_rules_and_end_when_done(backend: Backend) {
    let (store, _) = store_with(
        &backend,
        vec![rpost("1", &[], vec![]), rpost("2", &[], vec![])],
    )
    .await;
    let posts = store.posts_after(None, 10).await.unwrap();
    let one = |i: usize| RetagPost {
        post: posts[i].id,
        content_hash: content_hash(&posts[i].title, &posts[i].text),
        tags: vec![rtag("x", "x", TagSource::Extracted, 0.5)],
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

async fn a_post_edited_since_it_was_read_is_skipped(backend: Backend) {
    let (store, _) = store_with(
        &backend,
        vec![rpost(
            "1",
            &[],
            vec![rtag("a", "a", TagSource::Extracted, 0.5)],
        )],
    )
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

async fn a_tag_shows_its_most_common_surface_form(backend: Backend) {
    let t = |d: &str| vec![rtag("postgresql", d, TagSource::Author, 1.0)];
    let (store, _) = store_with(
        &backend,
        vec![
            rpost("1", &[], t("postgresql")),
            rpost("2", &[], t("PostgreSQL")),
            rpost("3", &[], t("PostgreSQL")),
            rpost("4", &[], vec![rtag("go", "Go", TagSource::Author, 1.0)]),
        ],
    )
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

/// Every test above, on each backend: a fresh SQLite file, and a fresh PostgreSQL database
/// when `KITH_TEST_POSTGRES` names a server (see [`crate::testing`]).
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::sqlite()).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(b) = super::Backend::postgres(stringify!($name)).await {
                        super::$name(b).await
                    }
                }
            )*
        }
    };
}

conformance!(
    an_entry_twice_in_one_poll_is_one_post,
    a_leader_at_a_time_and_hubs_by_generation,
    claims_split_due_blogs_and_hold_hosts,
    the_same_feed_under_another_spelling_is_a_duplicate,
    polls_insert_update_and_skip_posts_with_their_tags,
    posts_of_unverified_blogs_are_not_public,
    keyset_pages_walk_every_post_once,
    due_blogs_skip_paused_and_future_ones,
    removing_a_blog_removes_its_posts,
    committed_posts_survive_a_reopen,
    cross_posts_are_stored_once_and_owned_by_their_author,
    skipped_entries_are_noted_in_the_feed_state,
    a_confirmed_move_rewrites_the_feed_url_unless_taken,
    backfill_can_be_left_out,
    hub_stats_count_distinct_posts_per_tag_and_blog_and_links_join_up,
    tagged_replies_keep_each_tags_newest_exchanges,
    robots_decisions_are_kept_per_origin,
    document_frequencies_are_saved_whole_with_their_last_post,
    the_store_epoch_moves_when_visibility_changes_outside_change_marks,
    polls_stored_together_are_each_atomic,
    categories_are_kept_in_feed_order_and_replaced_on_edit,
    a_batch_replaces_tags_and_bumps_only_changed_posts,
    checkpoint_totals_accumulate_reset_under_other_rules_and_end_when_done,
    a_post_edited_since_it_was_read_is_skipped,
    a_tag_shows_its_most_common_surface_form,
);
