//! The index against a real SQLite store and a real tantivy directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::*;
use chrono::{Duration, Utc};
use kith_model::{
    BlogId, BlogStatus, FeedState, NewBlog, NewPost, NewTag, PollResult, PostId, TagSource,
    content_hash,
};
use kith_store::{DynStore, SqliteStore};
use std::sync::Arc;

struct Fixture {
    dir: tempfile::TempDir,
    store: DynStore,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("kith.sqlite3"))
            .await
            .unwrap();
        Fixture {
            dir,
            store: Arc::new(store),
        }
    }

    fn index_root(&self) -> std::path::PathBuf {
        self.dir.path().join("index")
    }

    async fn blog(&self, n: usize, status: BlogStatus) -> BlogId {
        self.store
            .add_blog(NewBlog {
                homepage_url: format!("https://blog{n}.example/"),
                feed_url: format!("https://blog{n}.example/feed.xml"),
                title: format!("Blog {n}"),
                status,
                verification_token: format!("token{n}"),
            })
            .await
            .unwrap()
            .id
    }

    async fn post(&self, blog: BlogId, p: NewPost) {
        let mut poll = PollResult::new(blog, FeedState::default());
        poll.posts = vec![p];
        self.store.record_poll(poll).await.unwrap();
    }

    async fn indexer(&self, opts: IndexerOptions) -> Indexer {
        Indexer::open(&self.index_root(), Arc::clone(&self.store), opts)
            .await
            .unwrap()
    }
}

fn small_opts() -> IndexerOptions {
    IndexerOptions {
        memory_budget: 20 << 20,
        threads: 1,
        ..IndexerOptions::default()
    }
}

struct P<'a> {
    guid: &'a str,
    title: &'a str,
    text: &'a str,
    tags: &'a [&'a str],
    hours_ago: i64,
    backfill: bool,
    lang: &'a str,
}

impl Default for P<'_> {
    fn default() -> Self {
        P {
            guid: "g",
            title: "A post",
            text: "some words",
            tags: &[],
            hours_ago: 1,
            backfill: false,
            lang: "eng",
        }
    }
}

fn new_post(p: P<'_>) -> NewPost {
    NewPost {
        guid: p.guid.into(),
        url: Some(format!("https://example.org/{}", p.guid)),
        title: p.title.into(),
        author: Some("Ada".into()),
        published: Utc::now() - Duration::hours(p.hours_ago),
        updated: None,
        content_html: format!("<p>{}</p>", p.text),
        text: p.text.into(),
        content_hash: content_hash(p.title, p.text),
        language: Some(p.lang.into()),
        categories: Vec::new(),
        backfill: p.backfill,
        tags: p
            .tags
            .iter()
            .map(|t| NewTag {
                tag: t.to_string(),
                display: t.to_string(),
                source: TagSource::Author,
                score: 1.0,
                reason: "test".into(),
            })
            .collect(),
    }
}

fn q(text: &str) -> SearchQuery {
    SearchQuery {
        q: text.into(),
        public_only: false,
        ..SearchQuery::default()
    }
}

fn ids(r: &SearchResults) -> Vec<i64> {
    let mut v: Vec<i64> = r.hits.iter().map(|h| h.post_id.0).collect();
    v.sort();
    v
}

#[test]
fn the_schema_has_every_field_and_is_recognised() {
    let s = schema::schema();
    assert!(schema::Fields::of(&s).is_some());
    let idx = tantivy::Index::create_in_ram(s);
    assert!(schema::is_current(&idx));
    let mut other = tantivy::schema::Schema::builder();
    other.add_u64_field("id", tantivy::schema::FAST);
    assert!(schema::Fields::of(&other.build()).is_none());
}

#[tokio::test]
async fn upserts_are_idempotent_and_an_uncommitted_tail_is_redone_after_reopen() {
    let fx = Fixture::new().await;
    let b = fx.blog(1, BlogStatus::Verified).await;
    for (i, text) in ["alpha one", "beta two", "gamma three"].iter().enumerate() {
        let guid = format!("p{i}");
        fx.post(
            b,
            new_post(P {
                guid: &guid,
                text,
                ..P::default()
            }),
        )
        .await;
    }
    // Batches of 2, committed at 2 docs: the third post stays uncommitted...
    let opts = IndexerOptions {
        batch: 2,
        commit_docs: 2,
        commit_every: std::time::Duration::from_secs(3600),
        ..small_opts()
    };
    let ix = fx.indexer(opts.clone()).await;
    assert_eq!(ix.catch_up().await.unwrap(), 3);
    let search = ix.search_index();
    assert_eq!(search.num_docs(), 2, "only the first batch is committed");
    let committed = search.committed_mark().unwrap().unwrap();
    // ... and is lost with the process (dropping an uncommitted writer is a kill here).
    drop(search);
    drop(ix);

    let ix = fx.indexer(opts).await;
    assert_eq!(
        ix.mark(),
        Some(committed),
        "resumes from the committed mark"
    );
    assert_eq!(
        ix.catch_up().await.unwrap(),
        1,
        "only the tail is read again"
    );
    ix.commit().await.unwrap();
    let search = ix.search_index();
    assert_eq!(search.num_docs(), 3);

    // An edit re-indexes the post in place: no duplicate, the new text is found.
    fx.post(
        b,
        new_post(P {
            guid: "p1",
            text: "beta rewritten with delta",
            ..P::default()
        }),
    )
    .await;
    assert_eq!(ix.catch_up().await.unwrap(), 1);
    ix.commit().await.unwrap();
    assert_eq!(search.num_docs(), 3);
    assert_eq!(search.search(&q("delta")).unwrap().total, 1);
    assert_eq!(search.search(&q("two")).unwrap().total, 0);
    // A second catch-up finds nothing new.
    assert_eq!(ix.catch_up().await.unwrap(), 0);
}

#[tokio::test]
async fn malformed_queries_are_bad_queries_with_a_reason() {
    let fx = Fixture::new().await;
    let b = fx.blog(1, BlogStatus::Verified).await;
    fx.post(b, new_post(P::default())).await;
    let ix = fx.indexer(small_opts()).await;
    ix.catch_up().await.unwrap();
    ix.commit().await.unwrap();
    let s = ix.search_index();
    for bad in ["\"unclosed", "-words", "nosuchfield:x", "blog:abc", "(a OR"] {
        match s.search(&q(bad)) {
            Err(Error::BadQuery { message }) => {
                assert!(message.len() > 10, "{bad}: {message}")
            }
            other => panic!("{bad:?} should be a bad query, got {other:?}"),
        }
    }
    let msg = match s.search(&q("nosuchfield:x")) {
        Err(e) => e.to_string(),
        Ok(_) => unreachable!(),
    };
    assert!(msg.contains("nosuchfield") && msg.contains("tag:"), "{msg}");
    assert!(s.search(&q("words")).is_ok());
}

#[tokio::test]
async fn syntax_phrases_and_filters() {
    let fx = Fixture::new().await;
    let a = fx.blog(1, BlogStatus::Verified).await;
    let b = fx.blog(2, BlogStatus::Verified).await;
    let pending = fx.blog(3, BlogStatus::Pending).await;
    let posts = [
        (
            a,
            "a1",
            "Borrow checker",
            "the borrow checker rejects this code",
            &["rust"][..],
            2,
            "eng",
        ),
        (
            a,
            "a2",
            "Checker games",
            "this code is a checker board borrow",
            &["games"][..],
            30,
            "eng",
        ),
        (
            b,
            "b1",
            "Async Rust",
            "tokio runs async code",
            &["rust", "async"][..],
            5,
            "eng",
        ),
        (
            b,
            "b2",
            "Le code",
            "le code est beau",
            &["rust"][..],
            50,
            "fra",
        ),
        (
            pending,
            "c1",
            "Hidden code",
            "pending code is private",
            &["rust"][..],
            1,
            "eng",
        ),
    ];
    for (blog, guid, title, text, tags, hours_ago, lang) in posts {
        fx.post(
            blog,
            new_post(P {
                guid,
                title,
                text,
                tags,
                hours_ago,
                lang,
                ..P::default()
            }),
        )
        .await;
    }
    let ix = fx.indexer(small_opts()).await;
    ix.catch_up().await.unwrap();
    ix.commit().await.unwrap();
    let s = ix.search_index();
    let id_of = |guid: &str| {
        let all = fx.store.clone();
        let guid = guid.to_owned();
        async move {
            all.posts_after(None, 100)
                .await
                .unwrap()
                .into_iter()
                .find(|p| p.guid == guid)
                .unwrap()
                .id
                .0
        }
    };
    let (a1, a2, b1, b2, c1) = (
        id_of("a1").await,
        id_of("a2").await,
        id_of("b1").await,
        id_of("b2").await,
        id_of("c1").await,
    );
    let sorted = |mut v: Vec<i64>| {
        v.sort();
        v
    };

    // Words are all required; phrases need adjacency.
    assert_eq!(
        ids(&s.search(&q("borrow checker")).unwrap()),
        sorted(vec![a1, a2])
    );
    assert_eq!(ids(&s.search(&q("\"borrow checker\"")).unwrap()), vec![a1]);
    // OR, NOT, -term, tag:
    assert_eq!(
        ids(&s.search(&q("tokio OR beau")).unwrap()),
        sorted(vec![b1, b2])
    );
    assert_eq!(
        ids(&s.search(&q("code -checker")).unwrap()),
        sorted(vec![b1, b2, c1])
    );
    assert_eq!(ids(&s.search(&q("code -tag:rust")).unwrap()), vec![a2]);
    assert_eq!(ids(&s.search(&q("code NOT tag:rust")).unwrap()), vec![a2]);
    assert_eq!(
        ids(&s.search(&q("code AND NOT tag:rust")).unwrap()),
        vec![a2]
    );
    assert_eq!(
        ids(&s.search(&q("\"code AND NOT\" OR beau")).unwrap()),
        vec![b2]
    );
    assert_eq!(
        ids(&s.search(&q("tag:Rust AND code")).unwrap()),
        sorted(vec![a1, b1, b2, c1])
    );

    // Filters.
    let filtered = |f: &dyn Fn(&mut SearchQuery)| {
        let mut query = q("code");
        f(&mut query);
        ids(&s.search(&query).unwrap())
    };
    assert_eq!(filtered(&|q| q.tags = vec!["async".into()]), vec![b1]);
    assert_eq!(
        filtered(&|q| q.tags = vec!["rust".into(), "async".into()]),
        vec![b1]
    );
    assert_eq!(filtered(&|q| q.blog = Some(a)), sorted(vec![a1, a2]));
    assert_eq!(filtered(&|q| q.language = Some("fra".into())), vec![b2]);
    assert_eq!(
        filtered(&|q| {
            q.from = Some(Utc::now() - Duration::hours(40));
            q.to = Some(Utc::now() - Duration::hours(3));
        }),
        sorted(vec![a2, b1])
    );
    assert_eq!(
        filtered(&|q| q.public_only = true),
        sorted(vec![a1, a2, b1, b2])
    );

    // Newest first; pages.
    let mut newest = q("code");
    newest.sort = SearchSort::Newest;
    let order: Vec<i64> = s
        .search(&newest)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.post_id.0)
        .collect();
    assert_eq!(order, vec![c1, a1, b1, a2, b2]);
    newest.limit = 2;
    newest.offset = 2;
    let page = s.search(&newest).unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.hits.iter().map(|h| h.post_id.0).collect::<Vec<_>>(),
        vec![b1, a2]
    );

    // Relevance: the title match ranks first.
    let top = s.search(&q("code")).unwrap();
    assert!(
        [b2, c1].contains(&top.hits[0].post_id.0),
        "title matches weigh more"
    );
    assert!(top.hits[0].snippet_html.contains("<b>code</b>"));

    // An empty query with a filter lists the filter's posts.
    let mut all_rust = q("");
    all_rust.tags = vec!["rust".into()];
    assert_eq!(s.search(&all_rust).unwrap().total, 4);
}

#[tokio::test]
async fn hostile_html_in_titles_and_text_is_escaped() {
    let fx = Fixture::new().await;
    let b = fx.blog(1, BlogStatus::Verified).await;
    fx.post(
        b,
        new_post(P {
            title: "<script>alert(1)</script> rust & co",
            text: "rust <img src=x onerror=alert(2)> \"quoted\"",
            ..P::default()
        }),
    )
    .await;
    let ix = fx.indexer(small_opts()).await;
    ix.catch_up().await.unwrap();
    ix.commit().await.unwrap();
    let r = ix.search_index().search(&q("rust")).unwrap();
    let h = &r.hits[0];
    assert!(!h.title_html.contains("<script"), "{}", h.title_html);
    assert!(h.title_html.contains("&lt;script&gt;"), "{}", h.title_html);
    assert!(h.title_html.contains("<b>rust</b>"), "{}", h.title_html);
    assert!(!h.snippet_html.contains("<img"), "{}", h.snippet_html);
    assert!(h.snippet_html.contains("&lt;img"), "{}", h.snippet_html);
    // Without highlights (an empty query), the plain escape is used.
    let r = ix.search_index().search(&q("")).unwrap();
    assert!(!r.hits[0].title_html.contains("<script"));
}

#[tokio::test]
async fn rivers_put_live_posts_above_backfill_and_page_by_keyset() {
    let fx = Fixture::new().await;
    let old = fx.blog(1, BlogStatus::Verified).await;
    let newcomer = fx.blog(2, BlogStatus::Verified).await;
    let hidden = fx.blog(3, BlogStatus::Pending).await;
    // The old blog's live posts, 10-14 h ago; the newcomer's history, 1-5 h ago (backfill).
    for i in 0..5 {
        let guid = format!("live{i}");
        fx.post(
            old,
            new_post(P {
                guid: &guid,
                tags: &["rust"],
                hours_ago: 10 + i,
                ..P::default()
            }),
        )
        .await;
        let guid = format!("back{i}");
        fx.post(
            newcomer,
            new_post(P {
                guid: &guid,
                tags: &["rust"],
                hours_ago: 1 + i,
                backfill: true,
                ..P::default()
            }),
        )
        .await;
    }
    fx.post(
        hidden,
        new_post(P {
            guid: "h",
            tags: &["rust"],
            hours_ago: 0,
            ..P::default()
        }),
    )
    .await;
    fx.post(
        old,
        new_post(P {
            guid: "other",
            tags: &["go"],
            hours_ago: 0,
            ..P::default()
        }),
    )
    .await;
    let ix = fx.indexer(small_opts()).await;
    ix.catch_up().await.unwrap();
    ix.commit().await.unwrap();
    let s = ix.search_index();

    let river = s.river(Some("rust"), None, None, 100, true).unwrap();
    assert_eq!(river.len(), 10);
    let posts = fx
        .store
        .posts_by_ids(&river.iter().map(|h| h.post_id).collect::<Vec<_>>())
        .await
        .unwrap();
    let flags: Vec<bool> = posts.iter().map(|p| p.backfill).collect();
    assert_eq!(
        flags,
        [vec![false; 5], vec![true; 5]].concat(),
        "live posts first"
    );
    assert!(
        posts
            .windows(2)
            .all(|w| w[0].backfill != w[1].backfill || w[0].published >= w[1].published)
    );
    assert!(river.windows(2).all(|w| w[0].river >= w[1].river));

    // Keyset pages of 3 walk the same river.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.river(Some("rust"), None, cursor, 3, true).unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(last.cursor());
        paged.extend(page);
    }
    assert_eq!(paged, river);

    // Blog filter; the pending blog only without public_only.
    assert_eq!(s.river(None, Some(old), None, 100, true).unwrap().len(), 6);
    // Several blogs: their posts alone, in river order, paged by the same keyset.
    let both = s.river_of_blogs(&[old, newcomer], None, 100, true).unwrap();
    assert_eq!(both.len(), 11);
    let mut expect = s.river(None, None, None, 100, true).unwrap();
    expect.retain(|h| both.contains(h));
    assert_eq!(both, expect, "river order");
    let one = s.river_of_blogs(&[newcomer], None, 100, true).unwrap();
    assert_eq!(one.len(), 5);
    let page2 = s
        .river_of_blogs(&[old, newcomer, hidden], Some(both[3].cursor()), 100, true)
        .unwrap();
    assert_eq!(page2, both[4..], "keyset page; the pending blog stays out");
    assert_eq!(
        s.river_of_blogs(&[old, hidden], None, 100, false)
            .unwrap()
            .len(),
        7
    );
    assert!(s.river_of_blogs(&[], None, 100, true).unwrap().is_empty());
    assert_eq!(
        s.river(Some("rust"), None, None, 100, false).unwrap().len(),
        11
    );
    // Same river key: the id breaks the tie, and paging over the tie loses nothing.
    let river_keys: Vec<i64> = s
        .river(None, None, None, 100, false)
        .unwrap()
        .iter()
        .map(|h| h.river)
        .collect();
    assert!(river_keys.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn the_check_repairs_removals_and_status_changes_made_behind_its_back() {
    let fx = Fixture::new().await;
    let a = fx.blog(1, BlogStatus::Verified).await;
    let b = fx.blog(2, BlogStatus::Verified).await;
    for i in 0..4 {
        let g = format!("a{i}");
        fx.post(
            a,
            new_post(P {
                guid: &g,
                ..P::default()
            }),
        )
        .await;
        let g = format!("b{i}");
        fx.post(
            b,
            new_post(P {
                guid: &g,
                ..P::default()
            }),
        )
        .await;
    }
    let ix = fx.indexer(small_opts()).await;
    let report = ix.check(true).await.unwrap();
    assert_eq!(report.caught_up, 8);
    assert_eq!((report.removed_blogs, report.reindexed_blogs), (0, 0));
    drop(ix);

    // While no indexer runs: blog a is removed, blog b loses its verification.
    fx.store.remove_blog(a).await.unwrap();
    fx.store.set_status(b, BlogStatus::Pending).await.unwrap();
    let ix = fx.indexer(small_opts()).await;
    let report = ix.check(true).await.unwrap();
    assert_eq!((report.removed_blogs, report.reindexed_blogs), (1, 1));
    assert!(!report.rebuilt);
    let s = ix.search_index();
    assert_eq!(s.num_docs(), 4);
    let mut public = q("");
    public.public_only = true;
    assert_eq!(s.search(&public).unwrap().total, 0, "b is no longer public");
    // Nothing left to repair.
    let again = ix.check(false).await.unwrap();
    assert_eq!(again, CheckReport::default());

    // Told directly: removal and status change.
    fx.store.set_status(b, BlogStatus::Verified).await.unwrap();
    ix.reindex_blog(b).await.unwrap();
    assert_eq!(s.search(&public).unwrap().total, 4);
    fx.store.remove_blog(b).await.unwrap();
    ix.remove_blog(b).await.unwrap();
    assert_eq!(s.num_docs(), 0);
}

#[tokio::test]
async fn a_rebuild_equals_the_incremental_index_and_swaps_generations() {
    let fx = Fixture::new().await;
    let words = [
        "rust", "async", "tokio", "borrow", "lifetime", "trait", "macro",
    ];
    for n in 0..3 {
        let blog = fx.blog(n, BlogStatus::Verified).await;
        for i in 0..20usize {
            let guid = format!("{n}-{i}");
            let text = format!(
                "{} {} {} post {i}",
                words[i % 7],
                words[(i * 3 + n) % 7],
                words[(i + 2) % 7]
            );
            fx.post(
                blog,
                new_post(P {
                    guid: &guid,
                    text: &text,
                    tags: &[words[i % 3]],
                    hours_ago: i as i64,
                    ..P::default()
                }),
            )
            .await;
        }
    }
    let ix = fx.indexer(small_opts()).await;
    ix.catch_up().await.unwrap();
    ix.commit().await.unwrap();
    let s = ix.search_index();
    let before_dir = s.dir();
    let queries = [
        "rust",
        "tokio async",
        "\"borrow lifetime\"",
        "tag:async OR macro",
    ];
    let snapshot = |s: &SearchIndex| {
        let ids = s.all_ids().unwrap();
        let tops: Vec<Vec<(i64, String)>> = queries
            .iter()
            .map(|text| {
                s.search(&q(text))
                    .unwrap()
                    .hits
                    .iter()
                    .map(|h| (h.post_id.0, format!("{:.4}", h.score)))
                    .collect()
            })
            .collect();
        (
            ids,
            tops,
            s.river(Some("rust"), None, None, 50, true).unwrap(),
        )
    };
    let incremental = snapshot(&s);
    assert_eq!(incremental.0.len(), 60);

    let seen = std::sync::Mutex::new(Vec::new());
    let report = ix
        .rebuild(&|done, total| seen.lock().unwrap().push((done, total)))
        .await
        .unwrap();
    assert_eq!(report.docs, 60);
    assert_eq!(seen.lock().unwrap().last(), Some(&(60, 60)));
    assert_ne!(s.dir(), before_dir, "the handle follows the new generation");
    assert!(!before_dir.exists(), "the old generation is removed");
    assert_eq!(snapshot(&s), incremental);
    // The writer follows the store on the new generation.
    let blog = fx.blog(9, BlogStatus::Verified).await;
    fx.post(
        blog,
        new_post(P {
            guid: "late",
            text: "zebra",
            ..P::default()
        }),
    )
    .await;
    ix.catch_up().await.unwrap();
    ix.commit().await.unwrap();
    assert_eq!(s.search(&q("zebra")).unwrap().total, 1);

    // A second process cannot take the writer.
    match Indexer::open(&fx.index_root(), Arc::clone(&fx.store), small_opts()).await {
        Err(Error::Busy { .. }) => {}
        other => panic!("expected Busy, got {other:?}"),
    }
    let _ = PostId(0);
}

#[test]
fn payloads_carry_the_mark_and_the_verified_epoch_and_read_old_ones() {
    use crate::indexer::Payload;
    use kith_store::{ChangeMark, StoreEpoch};
    let mark = ChangeMark::at(Utc::now(), PostId(42));
    // A PostgreSQL store's mark: its order is not time order.
    let pg_mark = ChangeMark {
        seq: 987_654,
        ..mark
    };
    let epoch = StoreEpoch {
        store_id: "ab12".into(),
        epoch: 7,
    };
    for p in [
        Payload::default(),
        Payload {
            mark: Some(mark),
            verified: None,
        },
        Payload {
            mark: None,
            verified: Some(epoch.clone()),
        },
        Payload {
            mark: Some(mark),
            verified: Some(epoch.clone()),
        },
        Payload {
            mark: Some(pg_mark),
            verified: Some(epoch.clone()),
        },
    ] {
        let back = Payload::decode(&p.encode());
        assert_eq!(back.encode(), p.encode());
        assert_eq!(
            back.mark.map(|m| (m.seq, m.id)),
            p.mark.map(|m| (m.seq, m.id))
        );
        assert_eq!(back.verified, p.verified);
    }
    // A payload written before epochs existed: the mark alone.
    let old = Payload::decode(&mark.encode());
    assert_eq!(old.mark.map(|m| m.id), Some(PostId(42)));
    assert_eq!(old.verified, None);
    assert_eq!(Payload::decode("garbage"), Payload::default());
}

#[tokio::test]
async fn a_start_up_skips_the_full_comparison_only_while_the_store_epoch_holds() {
    let fx = Fixture::new().await;
    let a = fx.blog(1, BlogStatus::Verified).await;
    let b = fx.blog(2, BlogStatus::Verified).await;
    for (blog, g) in [(a, "a0"), (a, "a1"), (b, "b0")] {
        fx.post(
            blog,
            new_post(P {
                guid: g,
                ..P::default()
            }),
        )
        .await;
    }
    let start = |fx: &Fixture| {
        let root = fx.index_root();
        let store = Arc::clone(&fx.store);
        async move {
            let ix = Indexer::open(&root, store, small_opts()).await.unwrap();
            let report = ix.check(true).await.unwrap();
            let docs = ix.search_index().num_docs();
            (report, docs)
        }
    };
    let (first, docs) = start(&fx).await;
    assert!(!first.skipped, "a new index has never matched the store");
    assert_eq!((first.caught_up, docs), (3, 3));

    // Nothing changed: the start-up only catches up.
    let (second, _) = start(&fx).await;
    assert!(second.skipped, "{second:?}");
    assert_eq!(second.caught_up, 0);

    // New posts come with change marks: still no comparison needed.
    fx.post(
        b,
        new_post(P {
            guid: "b1",
            ..P::default()
        }),
    )
    .await;
    let (third, docs) = start(&fx).await;
    assert!(third.skipped, "{third:?}");
    assert_eq!((third.caught_up, docs), (1, 4));

    // A status change and a removal made by another process move the epoch on: the next
    // start-up compares, repairs, and trusts the index again afterwards.
    fx.store.set_status(b, BlogStatus::Pending).await.unwrap();
    fx.store.remove_blog(a).await.unwrap();
    let (fourth, docs) = start(&fx).await;
    assert!(!fourth.skipped, "{fourth:?}");
    assert_eq!((fourth.removed_blogs, fourth.reindexed_blogs), (1, 1));
    assert_eq!(docs, 2);
    let (fifth, _) = start(&fx).await;
    assert!(fifth.skipped, "{fifth:?}");

    // The same index in front of another store (its own id) is compared in full.
    let other = SqliteStore::open(fx.dir.path().join("other.sqlite3"))
        .await
        .unwrap();
    let ix = Indexer::open(&fx.index_root(), Arc::new(other), small_opts())
        .await
        .unwrap();
    let report = ix.check(true).await.unwrap();
    assert!(!report.skipped);
    assert_eq!(
        report.removed_blogs, 1,
        "b's documents are not in that store"
    );
    assert_eq!(ix.search_index().num_docs(), 0);
}
