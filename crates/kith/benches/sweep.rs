//! Crawl sweep benchmark (a bench binary, not a timed test):
//!
//! 1. 10,000 feeds (2,500 simulated hosts, four feed URLs each) swept once cold, then
//!    swept again after ~10% of the blogs published (so ~90% answer 304), ten times,
//!    with the crawler's memory after each sweep;
//! 2. 1,000 feeds with 20 new posts each;
//! 3. a baseline in the same run: bare reqwest GETs of the same 10,000 URLs at the same
//!    concurrency, without conditional headers, parsing or storage.
//!
//! The simulated blogosphere runs in a child process (this binary again, in the
//! `kith_testkit::control` simulator mode), so the memory figures are the crawler's alone:
//! the simulator keeps every post it publishes and a log of every request. Two figures
//! per sweep: live heap bytes, counted by this binary's global allocator (exact, but blind
//! to SQLite's own allocations), and the resident set size from `/proc/self/status`
//! (everything, allocator slack included).
//!
//! Run: `cargo bench --bench sweep -- --bench` (KITH_BENCH_HOSTS / KITH_BENCH_FEEDS_PER_HOST
//! scale it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;
use cap::Cap;
use futures::StreamExt;
use kith::App;
use kith::enrich::Enricher;
use kith::pipeline::crawl_once;
use kith_model::{BlogStatus, NewBlog};
use kith_store::testing::TestDatabase;
use kith_testkit::BlogosphereConfig;
use std::alloc::System;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;
use support::{env_usize, rss_mib, spawn_sphere};
use tokio_util::sync::CancellationToken;

/// The system allocator, counting the bytes live in it (no limit set).
#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

fn live_heap_mib() -> f64 {
    ALLOCATOR.allocated() as f64 / (1024.0 * 1024.0)
}

async fn open_app(dir: &std::path::Path) -> App {
    open_app_on(dir, None).await
}

/// The app on SQLite in `dir`, or on the PostgreSQL database `pg`.
async fn open_app_on(dir: &std::path::Path, pg: Option<&TestDatabase>) -> App {
    let mut config = kith_config::Config {
        data_dir: dir.to_owned(),
        ..kith_config::Config::default()
    };
    config.store.url = pg.map(|db| db.url().to_owned());
    config.crawl.allowed_networks = vec!["127.0.0.0/8".parse().unwrap()];
    App::open(config).await.unwrap()
}

async fn register(app: &App, urls: &[String]) {
    for u in urls {
        app.store
            .add_blog(NewBlog {
                homepage_url: u.clone(),
                feed_url: u.clone(),
                title: String::new(),
                status: BlogStatus::Verified,
                verification_token: String::new(),
            })
            .await
            .unwrap();
    }
}

async fn sweep(app: &App, enricher: &Arc<Enricher>) -> (f64, kith::pipeline::SweepSummary) {
    let opts = kith::sweep_options(&app.config, false, Some(Arc::clone(enricher)));
    let started = Instant::now();
    let s = crawl_once(
        &app.store,
        &app.crawler,
        &opts,
        true,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .unwrap();
    (started.elapsed().as_secs_f64(), s)
}

#[tokio::main]
async fn main() {
    if support::serve_sphere_if_asked().await {
        return;
    }
    // `cargo test --all-targets` builds and runs bench targets too (without `--bench`):
    // then only check that it starts, and leave the long run to `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("sweep bench: run with `cargo bench --bench sweep`");
        return;
    }
    let hosts = env_usize("KITH_BENCH_HOSTS", 2_500);
    let per_host = env_usize("KITH_BENCH_FEEDS_PER_HOST", 4);
    println!("== sweep of {} feeds on {hosts} hosts", hosts * per_host);
    let t = Instant::now();
    let mut sphere = spawn_sphere(&BlogosphereConfig {
        blogs: hosts,
        posts_per_blog: 3..=6,
        feed_limit: 10,
        first_ip: Ipv4Addr::new(127, 100, 0, 1),
        ..BlogosphereConfig::default()
    });
    let sim = sphere.id().to_string();
    println!(
        "blogosphere up in {:.1} s (process {sim}); this process: live heap {:.1} MiB, RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        live_heap_mib(),
        rss_mib("self")
    );
    // Host-interleaved, so the baseline is not held up by per-host queues either.
    let urls: Vec<String> = (0..per_host)
        .flat_map(|k| (0..hosts).map(move |i| (i, k)))
        .map(|(i, k)| format!("{}?copy={k}", sphere.feed_urls()[i]))
        .collect();

    // Baseline: bare GETs, same URLs, same global concurrency.
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(2)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let concurrency = kith_config::CrawlConfig::default().concurrency;
    let t = Instant::now();
    let ok = futures::stream::iter(urls.iter().cloned())
        .map(|u| {
            let c = client.clone();
            async move { c.get(u).send().await.ok().map(|r| r.bytes()) }
        })
        .buffer_unordered(concurrency)
        .filter_map(|r| async move { r })
        .then(|b| b)
        .filter(|b| std::future::ready(b.is_ok()))
        .count()
        .await;
    let baseline = t.elapsed().as_secs_f64();
    println!(
        "baseline: bare reqwest GET of {} URLs at concurrency {concurrency}: {baseline:.2} s ({ok} ok)",
        urls.len()
    );
    drop(client);

    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path()).await;
    register(&app, &urls).await;
    let enricher = Arc::new(Enricher::open(&app.config, &app.store).await.unwrap());
    let (cold, s) = sweep(&app, &enricher).await;
    println!(
        "cold sweep: {cold:.2} s ({:.2}x baseline): {s}; live heap {:.1} MiB, RSS {:.0} MiB",
        cold / baseline,
        live_heap_mib(),
        rss_mib("self")
    );
    let mut warm = Vec::new();
    let mut heap = Vec::new();
    for round in 1..=10 {
        // The simulator logs every request it serves; keep its own memory in check too.
        sphere.reset_requests().unwrap();
        let published = sphere.tick(0.1).unwrap();
        let (secs, s) = sweep(&app, &enricher).await;
        warm.push(secs);
        heap.push(live_heap_mib());
        println!(
            "sweep {round:2}: {secs:.2} s ({:.2}x baseline), {published} blogs had published: {} fetched, {} not modified, {} new posts, {} errors; \
             crawler: live heap {:.1} MiB, RSS {:.0} MiB (simulator RSS {:.0} MiB)",
            secs / baseline,
            s.fetched,
            s.not_modified,
            s.new_posts,
            s.error_count(),
            live_heap_mib(),
            rss_mib("self"),
            rss_mib(&sim),
        );
    }
    println!(
        "live heap over the warm sweeps: first {:.1} MiB, last {:.1} MiB, max {:.1} MiB; growth from sweep 2 to 10: {:+.1} MiB",
        heap[0],
        heap[heap.len() - 1],
        heap.iter().copied().fold(0.0, f64::max),
        heap[heap.len() - 1] - heap[1]
    );
    warm.sort_by(f64::total_cmp);
    println!(
        "warm sweeps (~90% 304): median {:.2} s, max {:.2} s (goal <= 10 s); median {:.2}x the bare-GET baseline",
        warm[warm.len() / 2],
        warm[warm.len() - 1],
        warm[warm.len() / 2] / baseline
    );
    drop(app);
    sphere.shutdown().unwrap();

    // The same ingest on each backend, in this run: SQLite, then PostgreSQL when
    // KITH_TEST_POSTGRES names a server (a database made for the run).
    let sqlite = ingest_1000(None, Ipv4Addr::new(127, 120, 0, 1)).await;
    if let Some(db) = TestDatabase::create("the sweep bench").await {
        let pg = ingest_1000(Some(&db), Ipv4Addr::new(127, 124, 0, 1)).await;
        println!(
            "PostgreSQL / SQLite, same run: cold ingest {:.2}x the time ({:.0} vs {:.0} new posts/s), warm sweep {:.2}x",
            pg.0 / sqlite.0,
            pg.1,
            sqlite.1,
            pg.2 / sqlite.2
        );
    }
}

/// 1,000 feeds with 20 new posts each, swept once cold (after a first sweep read their
/// one post), then once warm (all 304): (cold seconds, new posts/s, warm seconds).
async fn ingest_1000(pg: Option<&TestDatabase>, first_ip: Ipv4Addr) -> (f64, f64, f64) {
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("== 1,000 feeds with 20 new posts each, on {backend}");
    let mut sphere = spawn_sphere(&BlogosphereConfig {
        blogs: 1_000,
        posts_per_blog: 1..=1,
        feed_limit: 25,
        first_ip,
        ..BlogosphereConfig::default()
    });
    let urls: Vec<String> = sphere.feed_urls().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(open_app_on(dir.path(), pg).await);
    register(&app, &urls).await;
    let enricher = Arc::new(Enricher::open(&app.config, &app.store).await.unwrap());
    sweep(&app, &enricher).await;
    sphere.publish_all(20).unwrap();
    let (secs, s) = sweep(&app, &enricher).await;
    let rate = s.new_posts as f64 / secs;
    println!(
        "{secs:.2} s: {s}; {rate:.0} new posts/s; live heap {:.1} MiB, RSS {:.0} MiB",
        live_heap_mib(),
        rss_mib("self")
    );
    let (warm, s) = sweep(&app, &enricher).await;
    println!("warm sweep (all 304): {warm:.2} s: {s}");
    sphere.shutdown().unwrap();
    (secs, rate, warm)
}
