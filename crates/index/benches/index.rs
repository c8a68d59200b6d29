//! Index benchmark (a bench binary, not a timed test), on N synthetic posts from B blogs
//! with tags drawn Zipf-like from T tags, stored in a real SQLite file:
//!
//! 1. reading every post from the store in change order (the floor under everything else);
//! 2. a bare tantivy loop: the same posts read the same way, the same schema, one commit;
//! 3. our [`Indexer`] following the store from an empty index (upserts, commits by count
//!    and time, the change mark as payload): ratio to (2);
//! 4. `kith reindex`'s path: [`Indexer::rebuild`] into a new generation, swapped in;
//! 5. hub rivers (a popular, a middling and a rare tag) and searches: p50/p99 over many
//!    queries, with a fresh searcher each time as the web does;
//! 6. the resident memory of a process that opened the index for serving.
//!
//! Run: `cargo bench -p kith-index --bench index -- --bench` (KITH_BENCH_POSTS, default
//! 1,000,000; KITH_BENCH_BLOGS, default 10,000; KITH_BENCH_TAGS, default 3,000).
//! `KITH_BENCH_DIR=path` keeps the filled store (and the index) there and reuses them on
//! the next run (filling 1,000,000 posts takes minutes); with `KITH_BENCH_SERVE_ONLY=1` as
//! well, a run with an index already built skips the build phases (1–4) and measures
//! only the serving side (5–6).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use chrono::{Duration, TimeZone, Utc};
use kith_index::{Indexer, IndexerOptions, SearchIndex, SearchQuery, SearchSort, schema};
use kith_model::{
    BlogStatus, FeedState, NewBlog, NewPost, NewTag, PollResult, TagSource, content_hash,
};
use kith_store::{DynStore, SqliteStore};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Anonymous resident memory (heap, stacks), without the index's memory-mapped file pages
/// that RSS also counts and the kernel can drop under pressure.
fn anon_mib() -> f64 {
    status_kib("RssAnon:") / 1024.0
}

fn status_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

fn rss_mib() -> f64 {
    status_kib("VmRSS:") / 1024.0
}

/// Draws ranks 0..n with probability ~ 1/(rank+1) (Zipf, s = 1), by inverting the
/// cumulative weights.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut acc = 0.0;
        let cumulative = (0..n)
            .map(|r| {
                acc += 1.0 / (r as f64 + 1.0);
                acc
            })
            .collect();
        Zipf { cumulative }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = *self.cumulative.last().unwrap();
        let x = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.cumulative.len() - 1)
    }
}

const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "sta", "ver", "qui", "don", "pel", "tar", "gon", "fi", "zu",
    "bre", "wex",
];

/// A pronounceable word per rank, so searches look like searches.
fn word(rank: usize) -> String {
    let mut n = rank + 1;
    let mut w = String::new();
    while n > 0 {
        w.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    w
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn timings(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} runs)",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().unwrap(),
        ms.len()
    )
}

async fn fill(store: &DynStore, posts: usize, blogs: usize, tags: usize) {
    let words = Zipf::new(20_000);
    let tag_ranks = Zipf::new(tags);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Links between blogs come from a generator of their own, so the posts and tags drawn
    // above stay what they were before links were added.
    let mut links_rng = ChaCha8Rng::seed_from_u64(8);
    let base = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
    let per_blog = posts.div_ceil(blogs);
    let mut made = 0;
    for b in 0..blogs {
        let status = if b % 10 == 9 {
            BlogStatus::Pending
        } else {
            BlogStatus::Verified
        };
        let blog = store
            .add_blog(NewBlog {
                homepage_url: format!("https://b{b}.example/"),
                feed_url: format!("https://b{b}.example/feed"),
                title: format!("Blog {b}"),
                status,
                verification_token: format!("t{b}"),
            })
            .await
            .unwrap();
        let mut poll = PollResult::new(blog.id, FeedState::default());
        for i in 0..per_blog.min(posts - made) {
            let title: Vec<String> = (0..6).map(|_| word(words.draw(&mut rng))).collect();
            let text: Vec<String> = (0..80).map(|_| word(words.draw(&mut rng))).collect();
            let (title, text) = (title.join(" "), text.join(" "));
            let n_tags = 1 + rng.random_range(0..4);
            let mut post_tags: Vec<String> = (0..n_tags)
                .map(|_| format!("tag{}", tag_ranks.draw(&mut rng)))
                .collect();
            post_tags.sort();
            post_tags.dedup();
            // One post in ten links to a post of another blog (a conversation; kin).
            let content_html = if links_rng.random_range(0..10) == 0 {
                let other = links_rng.random_range(0..blogs);
                let post = links_rng.random_range(0..per_blog);
                format!("<p>As <a href=\"https://b{other}.example/{post}\">they</a> said.</p>")
            } else {
                String::new()
            };
            poll.posts.push(NewPost {
                guid: format!("{b}-{i}"),
                url: Some(format!("https://b{b}.example/{i}")),
                content_hash: content_hash(&title, &text),
                content_html,
                title,
                text,
                author: None,
                published: base + Duration::minutes(rng.random_range(0..1_500_000)),
                updated: None,
                language: Some("eng".into()),
                categories: Vec::new(),
                backfill: i < per_blog / 3,
                tags: post_tags
                    .into_iter()
                    .map(|t| NewTag {
                        display: t.clone(),
                        tag: t,
                        source: TagSource::Author,
                        score: 1.0,
                        reason: String::new(),
                    })
                    .collect(),
            });
        }
        made += poll.posts.len();
        store.record_poll(poll).await.unwrap();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(PROBE) {
        probe(
            std::path::Path::new(&args[2]),
            std::path::Path::new(&args[3]),
        )
        .await;
        return;
    }
    // `cargo test --all-targets` runs bench targets without `--bench`: only check it starts.
    if !std::env::args().any(|a| a == "--bench") {
        println!("index bench: run with `cargo bench -p kith-index --bench index -- --bench`");
        return;
    }
    let posts = env_usize("KITH_BENCH_POSTS", 1_000_000);
    let blogs = env_usize("KITH_BENCH_BLOGS", 10_000).min(posts);
    let tags = env_usize("KITH_BENCH_TAGS", 3_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var_os("KITH_BENCH_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => tmp.path().to_owned(),
    };
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("kith.sqlite3");
    let reuse = db.exists();
    let store: DynStore = Arc::new(SqliteStore::open(&db).await.unwrap());
    let root = dir.join("index");

    if reuse {
        println!("== reusing the store in {}", dir.display());
    } else {
        println!("== {posts} synthetic posts from {blogs} blogs, {tags} tags (Zipf)");
        let t = Instant::now();
        fill(&store, posts, blogs, tags).await;
        println!("filled SQLite in {:.1} s", t.elapsed().as_secs_f64());
    }
    let serve_only = std::env::var_os("KITH_BENCH_SERVE_ONLY").is_some() && root.exists();
    if !serve_only {
        build(&store, &dir, &root).await;
    }
    serve(&root, &dir).await;
}

/// Phases 1–4: reading, the bare loop, our indexer from empty, the rebuild.
async fn build(store: &DynStore, dir: &std::path::Path, root: &std::path::Path) {
    // 1. Reading alone.
    let t = Instant::now();
    let mut mark = None;
    let mut n = 0usize;
    loop {
        let batch = store.posts_changed_since(mark, 2_000).await.unwrap();
        let Some(last) = batch.last() else { break };
        mark = Some(last.mark);
        n += batch.len();
    }
    let read_s = t.elapsed().as_secs_f64();
    println!(
        "store read: {n} posts in {read_s:.1} s ({:.0} posts/s)",
        n as f64 / read_s
    );

    // 2. Bare tantivy loop: same reads, same schema, add and one commit.
    let bare_dir = dir.join("bare");
    let _ = std::fs::remove_dir_all(&bare_dir);
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(&bare_dir).unwrap();
    let t = Instant::now();
    {
        let index = tantivy::Index::create_in_dir(&bare_dir, schema::schema()).unwrap();
        schema::register_tokenizers(&index);
        let fields = schema::Fields::of(&index.schema()).unwrap();
        let opts = IndexerOptions::default();
        let mut writer: tantivy::IndexWriter = index
            .writer_with_num_threads(opts.threads, opts.memory_budget)
            .unwrap();
        let mut mark = None;
        loop {
            let batch = store.posts_changed_since(mark, 2_000).await.unwrap();
            let Some(last) = batch.last() else { break };
            mark = Some(last.mark);
            for c in &batch {
                writer.add_document(schema::document(&fields, c)).unwrap();
            }
        }
        writer.commit().unwrap();
        writer.wait_merging_threads().unwrap();
    }
    let bare_s = t.elapsed().as_secs_f64();
    println!(
        "bare tantivy loop: {:.1} s ({:.0} docs/s)",
        bare_s,
        n as f64 / bare_s
    );

    // 3. Our indexer following the store from empty.
    let ix = Indexer::open(root, Arc::clone(store), IndexerOptions::default())
        .await
        .unwrap();
    let t = Instant::now();
    let caught = ix.catch_up().await.unwrap();
    ix.commit().await.unwrap();
    let inc_s = t.elapsed().as_secs_f64();
    println!(
        "Indexer catch-up (upserts, commits every 5,000): {caught} docs in {inc_s:.1} s ({:.0} docs/s) = {:.2}x the bare loop's rate",
        caught as f64 / inc_s,
        bare_s / inc_s
    );

    // 4. Rebuild (`kith reindex`).
    let report = ix.rebuild(&|_, _| {}).await.unwrap();
    println!(
        "rebuild (kith reindex): {} docs in {:.1} s ({:.0} docs/s) = {:.2}x the bare loop's rate",
        report.docs,
        report.elapsed.as_secs_f64(),
        report.docs_per_sec(),
        bare_s / report.elapsed.as_secs_f64()
    );
    drop(ix);
    let _ = std::fs::remove_dir_all(&bare_dir);
}

/// Phases 5–6: rivers and searches on the built index, then a fresh serving process.
async fn serve(root: &std::path::Path, dir: &std::path::Path) {
    // 6 (first, so the figure is the serving process's, not the builder's): a fresh
    // process would only open the index; here the builder's memory is already counted, so
    // report both the RSS before opening and the growth from opening and querying.
    let rss_before = rss_mib();
    let search = SearchIndex::open(root).unwrap().unwrap();

    // 5. Rivers and searches.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let words = Zipf::new(20_000);
    for (label, tag) in [
        ("popular", "tag0"),
        ("middling", "tag30"),
        ("rare", "tag2000"),
    ] {
        let mut ms = Vec::new();
        let mut cursor = None;
        for i in 0..300 {
            let t = Instant::now();
            let page = search.river(Some(tag), None, cursor, 30, true).unwrap();
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            // Every third request is a next page, the others a first page.
            cursor = if i % 3 == 2 {
                None
            } else {
                page.last().map(|h| h.cursor())
            };
        }
        println!(
            "river of a {label} tag ({tag}), 30 per page: {}",
            timings(ms)
        );
    }
    for (label, n_words) in [("one word", 1usize), ("two words", 2), ("three words", 3)] {
        let mut ms = Vec::new();
        for _ in 0..300 {
            let q: Vec<String> = (0..n_words)
                .map(|_| word(words.draw(&mut rng) % 2_000))
                .collect();
            let t = Instant::now();
            search
                .search(&SearchQuery {
                    q: q.join(" "),
                    ..SearchQuery::default()
                })
                .unwrap();
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "search, {label}, relevance, 20 hits with snippets: {}",
            timings(ms)
        );
    }
    let mut ms = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        search
            .search(&SearchQuery {
                q: word(words.draw(&mut rng) % 500),
                tags: vec!["tag1".into()],
                sort: SearchSort::Newest,
                ..SearchQuery::default()
            })
            .unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "search, one word + tag filter, newest first: {}",
        timings(ms)
    );
    let mut ms = Vec::new();
    for _ in 0..300 {
        let q = format!(
            "\"{} {}\"",
            word(words.draw(&mut rng) % 50),
            word(words.draw(&mut rng) % 50)
        );
        let t = Instant::now();
        search
            .search(&SearchQuery {
                q,
                ..SearchQuery::default()
            })
            .unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("search, phrase of two common words: {}", timings(ms));
    println!(
        "this process (builder included): {:.0} MiB before opening for serving, {:.0} MiB after the queries",
        rss_before,
        rss_mib()
    );
    // 6. A fresh process that only opens the index and serves queries.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg(PROBE)
        .arg(root)
        .arg(dir.join("kith.sqlite3"))
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let bytes: u64 = walk_size(root);
    println!("index on disk: {:.0} MiB", bytes as f64 / (1024.0 * 1024.0));
}

const PROBE: &str = "--serve-probe";

/// What kin (issue 18) add to the hubs computation, in one process, alternating, best of
/// 3 each: `kith serve`'s refresh (aggregates, conversations, computation), where the
/// links between blogs come from the conversations' pass, and the aggregates alone as the
/// commands compute them (the links counted there).
async fn kin_cost(store: &DynStore, window: &kith_hubs::Window) {
    let without_kin = kith_hubs::Params {
        kin: kith_hubs::KinParams {
            limit: 0,
            ..kith_hubs::KinParams::default()
        },
        ..kith_hubs::Params::default()
    };
    let no_links = kith_store::HubStatsQuery {
        links: false,
        ..window.query(true)
    };
    let per_tag = kith_hubs::Params::default().conversations;
    let best = |v: &mut f64, t: Instant| *v = v.min(t.elapsed().as_secs_f64());
    let [
        mut agg,
        mut agg_links,
        mut replies,
        mut replies_links,
        mut plain,
        mut full,
    ] = [f64::INFINITY; 6];
    let mut judged = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut stats = store.hub_stats(no_links).await.unwrap();
        best(&mut agg, t);
        let t = Instant::now();
        drop(store.hub_stats(window.query(true)).await.unwrap());
        best(&mut agg_links, t);
        let t = Instant::now();
        drop(store.tagged_replies(true, per_tag).await.unwrap());
        best(&mut replies, t);
        let t = Instant::now();
        let (_, links) = store.replies_and_links(true, per_tag).await.unwrap();
        best(&mut replies_links, t);
        let t = Instant::now();
        drop(kith_hubs::compute(&stats, window, &without_kin));
        best(&mut plain, t);
        stats.blog_links = links;
        let t = Instant::now();
        let snapshot = kith_hubs::compute(&stats, window, &kith_hubs::Params::default());
        best(&mut full, t);
        judged = snapshot
            .kin_index
            .blogs()
            .iter()
            .filter(|&&b| matches!(snapshot.kin(b), Some(kith_hubs::BlogKin::Kin { .. })))
            .count();
    }
    let before = agg + replies + plain;
    let after = agg + replies_links + full;
    println!(
        "kin of {judged} blogs (best of 3, alternating): computation {plain:.2} s without \
         kin, {full:.2} s with; conversations {replies:.2} s, {replies_links:.2} s with the \
         links between blogs; kith serve's hubs refresh {before:.2} s -> {after:.2} s = \
         {:.2}x; the commands' aggregates {agg:.2} s -> {agg_links:.2} s with the links, \
         their hubs computation {:.2} s -> {:.2} s = {:.2}x",
        after / before,
        agg + plain,
        agg_links + full,
        (agg_links + full) / (agg + plain)
    );
}

/// A serving process: open the store and compute hubs and communities as `kith serve`
/// does (timed), open the index, run rivers and searches; report VmRSS along the way.
async fn probe(root: &std::path::Path, db: &std::path::Path) {
    let idle = rss_mib();
    let store: DynStore = Arc::new(SqliteStore::open(db).await.unwrap());
    let newest = store
        .latest_posts(kith_store::PostQuery {
            limit: 1,
            ..kith_store::PostQuery::default()
        })
        .await
        .unwrap()
        .first()
        .map_or_else(Utc::now, |p| p.published);
    // The windows `kith serve` uses: 28 days of engagement, 4 weeks rising, 26 weeks shown.
    let window = kith_hubs::Window::ending(newest, 28, 4, 26);
    let t = Instant::now();
    let stats = store.hub_stats(window.query(true)).await.unwrap();
    let queried = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let snapshot = kith_hubs::compute(&stats, &window, &kith_hubs::Params::default());
    let computed = t.elapsed().as_secs_f64();
    let links = stats.blog_links.len();
    drop(stats);
    println!(
        "hubs and communities: {} hubs, {} communities; store aggregates {queried:.2} s \
         (links between blogs included: {links} pairs), computation (roles, related hubs, \
         Leiden, kin) {computed:.2} s",
        snapshot.hubs.len(),
        snapshot.communities.len(),
    );
    let with_hubs = rss_mib();
    let search = SearchIndex::open(root).unwrap().unwrap();
    let opened = rss_mib();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let words = Zipf::new(20_000);
    for i in 0..500 {
        let tag = format!("tag{}", i % 100);
        search.river(Some(&tag), None, None, 30, true).unwrap();
        search
            .search(&SearchQuery {
                q: word(words.draw(&mut rng) % 2_000),
                ..SearchQuery::default()
            })
            .unwrap();
    }
    println!(
        "serving process: {idle:.0} MiB at start, {with_hubs:.0} MiB holding the hubs snapshot, \
         {opened:.0} MiB with the index open too, {:.0} MiB after 500 rivers and 500 searches \
         ({:.0} MiB of it anonymous, the rest the index's mapped file pages)",
        rss_mib(),
        anon_mib()
    );
    kin_cost(&store, &window).await;
    drop(snapshot);
}

fn walk_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        walk_size(&path)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
