//! Soak benchmark (a bench binary, not a timed test): ten minutes of mixed load on one
//! `kith serve` that crawls while it serves.
//!
//! - A simulated blogosphere of 2,000 blogs, each on its own loopback address, in a child
//!   process (this binary in simulator mode); every minute a tenth of its blogs publish.
//! - `kith serve` (the real binary, web site and crawler in one process) polls every feed
//!   once a minute (`min_interval_secs = max_interval_secs = 60`, due feeds looked for
//!   every 5 s), so each minute is a sweep of 2,000 conditional GETs, about 200 of them
//!   with new posts to store, tag and index.
//! - Three `wrk` processes at once, in windows of 30 s: the busiest hub's page; a mix of
//!   every other kind of page, feed, search and API answer; and `/healthz`, the same
//!   server's plaintext route, as the baseline the hub page's latency is compared with.
//!
//! Reported per window: requests, errors, latency p99 of the hub page (and as a ratio to
//! `/healthz` in the same window), feed requests the simulator served, the server's RSS.
//! At the end: errors in all (wrk's socket errors and timeouts, any status other than
//! 200, and feeds whose health is not ok), the RSS slope after warm-up by least squares
//! (MiB per minute), and the hub page's p99 in the first and last thirds of the run.
//!
//! Run: `cargo bench --bench soak -- --bench`. Needs `wrk` (`apt-get install wrk`).
//! KITH_SOAK_SECS sets the length (default 600), KITH_SOAK_BLOGS the blogosphere
//! (default 2,000), KITH_SOAK_WARMUP the seconds left out of the slope (default 120).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;
use kith_testkit::BlogosphereConfig;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{
    Server, env_usize, finish_wrk, free_port, median, rss_mib, spawn_sphere, spawn_wrk, status_mib,
    write_script,
};

/// Length of one wrk window, in seconds.
const WINDOW_SECS: usize = 30;

fn kith(config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kith"));
    cmd.arg("--config").arg(config);
    cmd
}

/// Least-squares slope of `points` (x, y).
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

/// The slope of memory samples after warm-up, by least squares.
fn report_memory(what: &str, samples: &[(f64, f64)], warmup: f64) {
    let after: Vec<(f64, f64)> = samples
        .iter()
        .copied()
        .filter(|(t, _)| *t >= warmup)
        .collect();
    let per_min = slope(&after) * 60.0;
    let mean_rss = after.iter().map(|(_, r)| r).sum::<f64>() / after.len().max(1) as f64;
    println!(
        "{what} after {warmup:.0} s of warm-up: mean {mean_rss:.0} MiB, slope {per_min:+.2} MiB/min \
         ({:+.2}% of the mean per minute), min {:.0}, max {:.0} MiB",
        100.0 * per_min / mean_rss.max(1.0),
        after.iter().map(|(_, r)| *r).fold(f64::MAX, f64::min),
        after.iter().map(|(_, r)| *r).fold(0.0, f64::max),
    );
}

async fn get_json(http: &reqwest::Client, url: &str) -> serde_json::Value {
    let text = http.get(url).send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

#[tokio::main]
async fn main() {
    if support::serve_sphere_if_asked().await {
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    // `cargo test --all-targets` runs bench targets without `--bench`: only check it starts.
    if !args.iter().any(|a| a == "--bench") {
        println!("soak bench: run with `cargo bench --bench soak -- --bench` (see its doc)");
        return;
    }
    let total_secs = env_usize("KITH_SOAK_SECS", 600);
    let blogs = env_usize("KITH_SOAK_BLOGS", 2_000);
    let warmup = env_usize("KITH_SOAK_WARMUP", 120) as f64;

    let sphere_config = BlogosphereConfig {
        blogs,
        posts_per_blog: 3..=6,
        feed_limit: 10,
        first_ip: Ipv4Addr::new(127, 140, 0, 1),
        ..BlogosphereConfig::default()
    };
    let mut sphere = spawn_sphere(&sphere_config);

    let work = tempfile::tempdir().unwrap();
    let opml = work.path().join("blogroll.opml");
    let outlines: String = sphere
        .feed_urls()
        .iter()
        .map(|u| format!("<outline type=\"rss\" text=\"\" xmlUrl=\"{u}\"/>\n"))
        .collect();
    std::fs::write(
        &opml,
        format!("<?xml version=\"1.0\"?>\n<opml version=\"2.0\"><head/><body>\n{outlines}</body></opml>\n"),
    )
    .unwrap();
    let port = free_port();
    let config = work.path().join("kith.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n\
             [web]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/\"\n\
             [crawl]\nallowed_networks = [\"127.0.0.0/8\"]\nmin_interval_secs = 60\nmax_interval_secs = 60\nsweep_every_secs = 5\n\
             [registration]\nrequire_verification = false\n",
            work.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let status = kith(&config)
        .args(["opml", "import"])
        .arg(&opml)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "kith opml import failed");

    let log = std::fs::File::create(work.path().join("serve.log")).unwrap();
    let server = Server {
        child: kith(&config)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let pid = server.child.id().to_string();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Ready, and the first sweep stored: the hubs are computed from crawled posts.
    let t = Instant::now();
    let hubs = loop {
        let ready = http
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            let hubs = get_json(&http, &format!("{}/api/v1/hubs", server.base)).await;
            if hubs["hubs"].as_array().is_some_and(|h| !h.is_empty()) {
                break hubs;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "kith serve shows no hubs after 10 minutes; see {}",
            work.path().join("serve.log").display()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "{blogs} feeds imported; kith serve ready with hubs in {:.1} s, RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        rss_mib(&pid)
    );
    let hub = hubs["hubs"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|h| h["posts"].as_u64().unwrap_or(0))
        .unwrap()
        .clone();
    let tag = hub["tag"].as_str().unwrap().to_owned();
    let communities = get_json(&http, &format!("{}/api/v1/communities", server.base)).await;
    let community = communities["communities"]
        .as_array()
        .and_then(|c| c.first())
        .map(|c| c["id"].to_string().trim_matches('"').to_owned());
    let blog_list = get_json(&http, &format!("{}/api/v1/blogs?limit=1", server.base)).await;
    let blog = blog_list["blogs"][0]["id"].as_u64().unwrap();
    let mut mixed: Vec<String> = vec![
        "/".into(),
        "/hubs".into(),
        "/communities".into(),
        format!("/hubs/{tag}/feed.atom"),
        format!("/hubs/{tag}/feed.json"),
        format!("/hubs/{tag}/blogroll.opml"),
        "/feed.atom".into(),
        format!("/search?q={tag}"),
        format!("/api/v1/search?q={tag}"),
        format!("/api/v1/hubs/{tag}"),
        format!("/api/v1/hubs/{tag}/posts"),
        format!("/blogs/{blog}"),
        format!("/blogs/{blog}/kin"),
    ];
    if let Some(id) = &community {
        mixed.push(format!("/communities/{id}"));
        mixed.push(format!("/communities/{id}/feed.atom"));
    }
    for path in &mixed {
        let status = http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{path}");
    }
    let scripts = work.path();
    let single = write_script(scripts, "single", None, &[], &[200]);
    // A community is called after its largest hub, which may change as people write: its
    // old address then answers 307 to the new one (followed by browsers, not by wrk).
    let mix = write_script(scripts, "mixed", None, &mixed, &[200, 307]);
    println!(
        "hub {tag:?} ({} posts, {} bloggers); {} other routes in the mix; windows of {WINDOW_SECS} s",
        hub["posts"],
        hub["bloggers"],
        mixed.len()
    );
    println!(
        "{:>6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>9} {:>8}",
        "t s",
        "hub req",
        "hub p99",
        "vs plain",
        "mix req",
        "mix p99",
        "errors",
        "feed GETs",
        "RSS MiB"
    );

    let start = Instant::now();
    let mut next_tick = 0.0;
    let mut rss: Vec<(f64, f64)> = Vec::new();
    // Anonymous memory (heap, stacks) apart: RSS also counts the pages of the index files
    // the server maps, which grow with the index and which the kernel may drop.
    let mut anon: Vec<(f64, f64)> = Vec::new();
    let mut hub_p99 = Vec::new();
    let mut ratios = Vec::new();
    let (mut requests, mut errors, mut published) = (0u64, 0u64, 0usize);
    let mut error_kinds: Vec<String> = Vec::new();
    sphere.reset_requests().unwrap();
    while start.elapsed().as_secs_f64() + 1.0 < total_secs as f64 {
        let window_start = start.elapsed().as_secs_f64();
        let hub_run = spawn_wrk(
            &format!("{}/hubs/{tag}", server.base),
            &single,
            WINDOW_SECS,
            2,
        );
        let mix_run = spawn_wrk(&format!("{}/", server.base), &mix, WINDOW_SECS, 4);
        let plain_run = spawn_wrk(&format!("{}/healthz", server.base), &single, WINDOW_SECS, 1);
        while start.elapsed().as_secs_f64() < window_start + WINDOW_SECS as f64 {
            let now = start.elapsed().as_secs_f64();
            if now >= next_tick {
                // A tenth of the blogs publish; the crawler finds them within the minute.
                published += sphere.tick(0.1).unwrap();
                next_tick += 60.0;
            }
            rss.push((now, rss_mib(&pid)));
            anon.push((now, status_mib(&pid, "RssAnon:")));
            std::thread::sleep(Duration::from_secs(5));
        }
        let (hub_load, mix_load, plain_load) = (
            finish_wrk(hub_run),
            finish_wrk(mix_run),
            finish_wrk(plain_run),
        );
        let feed_gets = sphere.total_requests().unwrap();
        sphere.reset_requests().unwrap();
        let window_errors = hub_load.errors + mix_load.errors + plain_load.errors;
        for (what, load) in [
            ("hub", &hub_load),
            ("mix", &mix_load),
            ("plain", &plain_load),
        ] {
            for kind in &load.error_kinds {
                error_kinds.push(format!("{what} at {window_start:.0} s: {kind}"));
            }
        }
        requests += hub_load.requests + mix_load.requests + plain_load.requests;
        errors += window_errors;
        let ratio = hub_load.p99_ms / plain_load.p99_ms.max(0.001);
        hub_p99.push(hub_load.p99_ms);
        ratios.push(ratio);
        println!(
            "{:>6.0} {:>9} {:>7.1}ms {:>8.2}x {:>9} {:>6.1}ms {:>7} {:>9} {:>8.0}",
            window_start,
            hub_load.requests,
            hub_load.p99_ms,
            ratio,
            mix_load.requests,
            mix_load.p99_ms,
            window_errors,
            feed_gets,
            rss_mib(&pid)
        );
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Feeds whose last poll failed count as errors too.
    let mut unhealthy = Vec::new();
    let mut offset = 0;
    loop {
        let page = get_json(
            &http,
            &format!(
                "{}/api/v1/blogs?status=all&limit=100&offset={offset}",
                server.base
            ),
        )
        .await;
        let list = page["blogs"].as_array().unwrap();
        for b in list {
            if b["health"] != "ok" {
                unhealthy.push(format!("{} {}", b["feed_url"], b["health"]));
            }
        }
        offset += list.len();
        if list.is_empty() || offset >= page["total"].as_u64().unwrap() as usize {
            break;
        }
    }
    if !error_kinds.is_empty() {
        println!("errors: {}", error_kinds.join("; "));
    }
    // What the server logged as going wrong, for the errors above.
    let log = std::fs::read_to_string(work.path().join("serve.log")).unwrap_or_default();
    let problems: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" ERROR ") || l.contains(" WARN "))
        .collect();
    println!("kith serve logged {} warnings and errors", problems.len());
    for line in problems.iter().take(10) {
        println!("  {line}");
    }
    let third = (hub_p99.len() / 3).max(1);
    let first = median(hub_p99[..third].to_vec());
    let last = median(hub_p99[hub_p99.len() - third..].to_vec());
    println!(
        "{elapsed:.0} s of load: {requests} requests, {errors} errors; {published} posts published by the blogosphere; \
         {} of {blogs} feeds not ok{}",
        unhealthy.len(),
        unhealthy
            .first()
            .map(|u| format!(" (first: {u})"))
            .unwrap_or_default()
    );
    for (what, samples) in [("RSS", &rss), ("anonymous RSS", &anon)] {
        report_memory(what, samples, warmup);
    }
    println!(
        "hub page p99: median {:.1} ms in the first third, {:.1} ms in the last ({:.2}x); \
         vs /healthz in the same window: median {:.2}x, max {:.2}x",
        first,
        last,
        last / first.max(0.001),
        median(ratios.clone()),
        ratios.iter().copied().fold(0.0, f64::max)
    );
    drop(server);
    sphere.shutdown().unwrap();
}
