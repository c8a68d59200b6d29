//! Start-up benchmark (a bench binary, not a timed test): what a `kith crawl --once` from
//! cron costs before it polls anything, on a small store and a large one.
//!
//! Two stores are filled with synthetic posts (20,000, and KITH_BENCH_POSTS, default
//! 1,000,000; words drawn log-uniformly from a 20,000-word vocabulary), every feed
//! already polled and not due for a month, so the process has nothing to fetch: no
//! request leaves this machine. A first run of each builds its search index (not timed).
//! Then, alternating between the two stores so drift hits both:
//!
//! 1. `kith crawl --once` with nothing due, the real binary, wall time (KITH_BENCH_ROUNDS
//!    rounds, default 5): the goal is the same time (± 20%) on both stores;
//! 2. reading the tagger's document frequencies as a process does when a post first needs
//!    them: from the table saved in the store and the posts stored after it, against
//!    counting every stored post (what every start-up did before the table was saved).
//!
//! Run: `cargo bench --bench startup -- --bench`. With KITH_BENCH_KEEP set, the two
//! stores are kept (their paths printed) and the document-frequency part is skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;
use chrono::{Duration, Utc};
use kith_model::{BlogStatus, FeedState, NewBlog, NewPost, PollResult, content_hash};
use kith_store::{DynStore, SqliteStore};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;
use support::{env_usize, median};

/// A small deterministic generator (xorshift64*): the bench needs words, not quality.
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A word of a 20,000-word vocabulary, rank drawn log-uniformly (a few words in most
    /// posts, a long tail in few).
    fn word(&mut self) -> String {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let rank = 20_000f64.powf(u) as u64;
        // Letters only: numbers are not counted as terms.
        let mut w = String::from("w");
        let mut r = rank;
        loop {
            w.push(char::from(b'a' + (r % 26) as u8));
            r /= 26;
            if r == 0 {
                break w;
            }
        }
    }

    fn words(&mut self, n: usize) -> String {
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

async fn fill(dir: &Path, posts: usize) {
    let store: DynStore = Arc::new(SqliteStore::open(dir.join("kith.sqlite3")).await.unwrap());
    let blogs = (posts / 100).max(1);
    let mut words = Words(0x9E37_79B9_7F4A_7C15);
    let now = Utc::now();
    let mut made = 0;
    for b in 0..blogs {
        // Addresses on loopback's discard port: never due during the bench, and nothing
        // would answer if they were.
        let blog = store
            .add_blog(NewBlog {
                homepage_url: format!("http://127.0.0.1:9/b{b}/"),
                feed_url: format!("http://127.0.0.1:9/b{b}/feed"),
                title: format!("Blog {b}"),
                status: BlogStatus::Verified,
                verification_token: String::new(),
            })
            .await
            .unwrap();
        let state = FeedState {
            last_checked_at: Some(now),
            last_success_at: Some(now),
            last_status: Some(200),
            next_check_at: Some(now + Duration::days(30)),
            ..FeedState::default()
        };
        let mut poll = PollResult::new(blog.id, state);
        for i in 0..(posts - made).min(posts.div_ceil(blogs)) {
            let (title, text) = (words.words(6), words.words(80));
            poll.posts.push(NewPost {
                guid: format!("{b}-{i}"),
                url: Some(format!("http://127.0.0.1:9/b{b}/{i}")),
                content_hash: content_hash(&title, &text),
                content_html: String::new(),
                title,
                text,
                author: None,
                published: now - Duration::minutes((made + i) as i64),
                updated: None,
                language: Some("eng".into()),
                categories: Vec::new(),
                backfill: false,
                tags: Vec::new(),
            });
        }
        made += poll.posts.len();
        store.record_poll(poll).await.unwrap();
    }
}

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("kith.toml");
    std::fs::write(
        &path,
        format!("data_dir = {:?}\n", dir.display().to_string()),
    )
    .unwrap();
    path
}

/// One `kith crawl --once`, wall time in seconds.
fn crawl_once(dir: &Path) -> f64 {
    let t = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("--config")
        .arg(config(dir))
        .args(["crawl", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "kith crawl --once failed in {}",
        dir.display()
    );
    t.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("startup bench: run with `cargo bench --bench startup -- --bench`");
        return;
    }
    let large = env_usize("KITH_BENCH_POSTS", 1_000_000);
    let rounds = env_usize("KITH_BENCH_ROUNDS", 5);
    let sizes = [20_000, large];
    let dirs: Vec<tempfile::TempDir> = sizes.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    if std::env::var_os("KITH_BENCH_KEEP").is_some() {
        for (dir, n) in dirs.iter().zip(&sizes) {
            println!("{n} posts: kept in {}", dir.path().display());
        }
    }
    for (dir, &n) in dirs.iter().zip(&sizes) {
        let t = Instant::now();
        fill(dir.path(), n).await;
        let filled = t.elapsed().as_secs_f64();
        let first = crawl_once(dir.path());
        println!(
            "{n} posts: filled in {filled:.1} s; first kith crawl --once (builds the search index) {first:.1} s"
        );
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); sizes.len()];
    for _ in 0..rounds {
        for (i, dir) in dirs.iter().enumerate() {
            times[i].push(crawl_once(dir.path()));
        }
    }
    let medians: Vec<f64> = times.iter().map(|t| median(t.clone())).collect();
    for (n, (m, t)) in sizes.iter().zip(medians.iter().zip(&times)) {
        println!(
            "kith crawl --once, nothing due, {n} posts: median {:.0} ms (runs: {})",
            m * 1000.0,
            t.iter()
                .map(|s| format!("{:.0}", s * 1000.0))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "start-up on {large} posts / on 20000: {:.2}x (goal: 0.8x to 1.2x)",
        medians[1] / medians[0]
    );

    if std::env::var_os("KITH_BENCH_KEEP").is_some() {
        // Left for a closer look (a profiler, RUST_LOG=debug): removed by hand.
        dirs.into_iter().for_each(|d| drop(d.keep()));
        return;
    }

    // The document frequencies, read as a process does when a post first needs them.
    for (dir, &n) in dirs.iter().zip(&sizes) {
        let store: DynStore = Arc::new(
            SqliteStore::open(dir.path().join("kith.sqlite3"))
                .await
                .unwrap(),
        );
        // No table saved yet: every post is counted (the cost every start-up paid before).
        let t = Instant::now();
        let df = kith::enrich::stored_df(store.as_ref()).await.unwrap();
        let scan = t.elapsed().as_secs_f64();
        let through = store.last_post_id().await.unwrap();
        store
            .save_df(kith_model::StoredDf {
                through,
                bytes: df.to_bytes(),
                saved_at: Utc::now(),
            })
            .await
            .unwrap();
        let mut saved = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            let again = kith::enrich::stored_df(store.as_ref()).await.unwrap();
            saved.push(t.elapsed().as_secs_f64());
            assert_eq!(again.len(), df.len());
        }
        let saved = median(saved);
        println!(
            "document frequencies over {n} posts ({} terms): counting every post {:.0} ms, \
             reading the saved table {:.0} ms ({:.1}x faster)",
            df.len(),
            scan * 1000.0,
            saved * 1000.0,
            scan / saved
        );
    }
}
