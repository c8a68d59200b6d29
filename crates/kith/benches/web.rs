//! Web load benchmark (a bench binary, not a timed test): `kith serve --no-crawl` on a
//! store of a million posts, loaded by `wrk` from a separate process.
//!
//! Measured, each as a ratio to a plaintext route of the same server in the same run
//! (`/healthz`: the same middleware, no work), alternating rounds so drift hits both:
//! - a popular hub's page (`/hubs/{tag}`: river, members, related hubs, chart,
//!   conversations) and its second page;
//! - the hub's Atom feed answered 200, and answered 304 to `If-None-Match`;
//! - the hub page and feed to a client that accepts gzip (as browsers and feed readers
//!   do; wrk by itself asks for no encoding).
//!
//! For each: throughput and latency as wrk sees them, and what a request costs the
//! server, in CPU time (user + system, all threads, from `/proc`) per request. wrk and the
//! server share the machine, so throughput also carries wrk's own cost; CPU per request
//! is the server's alone.
//!
//! The store comes from the index benchmark, which keeps it where `KITH_BENCH_DIR` says:
//!
//! ```text
//! KITH_BENCH_DIR=/tmp/kith-1m cargo bench -p kith-index --bench index -- --bench
//! KITH_BENCH_DIR=/tmp/kith-1m cargo bench --bench web -- --bench
//! ```
//!
//! Needs `wrk` (`apt-get install wrk`). KITH_BENCH_SECS sets each round's length (default
//! 10), KITH_BENCH_CONNECTIONS the open connections (default 16), KITH_BENCH_ROUNDS the
//! rounds (default 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Load, Server, env_usize, free_port, median, rss_mib, write_script, wrk};

fn start_server(data_dir: &Path, work: &Path) -> Server {
    let port = free_port();
    let config = work.join("kith.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[web]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/\"\n",
            data_dir.display().to_string()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(work.join("serve.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("--config")
        .arg(&config)
        .args(["serve", "--no-crawl"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs bench targets without `--bench`: only check it starts.
    if !std::env::args().any(|a| a == "--bench") {
        println!("web bench: run with `cargo bench --bench web -- --bench` (see its doc)");
        return;
    }
    let Some(data_dir) = std::env::var_os("KITH_BENCH_DIR").map(PathBuf::from) else {
        eprintln!(
            "KITH_BENCH_DIR must name a store made by the index benchmark:\n  \
             KITH_BENCH_DIR=/tmp/kith-1m cargo bench -p kith-index --bench index -- --bench"
        );
        std::process::exit(2);
    };
    assert!(
        data_dir.join("kith.sqlite3").exists() && data_dir.join("index").exists(),
        "{} holds no store and index: run the index benchmark with KITH_BENCH_DIR first",
        data_dir.display()
    );
    let secs = env_usize("KITH_BENCH_SECS", 10);
    let connections = env_usize("KITH_BENCH_CONNECTIONS", 16);
    let rounds = env_usize("KITH_BENCH_ROUNDS", 3);
    let work = tempfile::tempdir().unwrap();
    let server = start_server(&data_dir, work.path());
    let http = reqwest::Client::new();

    // Ready means the hubs are computed: the hub pages show them.
    let t = Instant::now();
    loop {
        let ready = http
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "kith serve not ready after 10 minutes; see {}",
            work.path().join("serve.log").display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "kith serve --no-crawl ready in {:.1} s (store, index check, hubs), RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        rss_mib(&server.child.id().to_string())
    );

    // The biggest hub, and the link to its second page.
    let hubs: serde_json::Value = serde_json::from_str(
        &http
            .get(format!("{}/api/v1/hubs", server.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let hub = hubs["hubs"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|h| h["posts"].as_u64().unwrap_or(0))
        .expect("the store has hubs")
        .clone();
    let tag = hub["tag"].as_str().unwrap().to_owned();
    let hub_url = format!("{}/hubs/{tag}", server.base);
    let page: String = http
        .get(&hub_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let older = page
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("before="))
        .map(|h| format!("{}{}", server.base, h.replace("&amp;", "&")))
        .expect("the hub page links to older posts");
    let feed_url = format!("{hub_url}/feed.atom");
    let feed = http.get(&feed_url).send().await.unwrap();
    let etag = feed.headers()["etag"].to_str().unwrap().to_owned();
    println!(
        "hub {tag:?}: {} posts, {} bloggers; {} s per round, {connections} connections, {rounds} rounds",
        hub["posts"], hub["bloggers"], secs
    );

    let scripts = work.path();
    let ok = write_script(scripts, "ok", None, &[], &[200]);
    let not_modified = write_script(scripts, "nm", Some(("If-None-Match", &etag)), &[], &[304]);
    let gzip = write_script(
        scripts,
        "gzip",
        Some(("Accept-Encoding", "gzip")),
        &[],
        &[200],
    );
    let cases: [(&str, String, &Path); 7] = [
        (
            "plaintext /healthz",
            format!("{}/healthz", server.base),
            &ok,
        ),
        ("hub page", hub_url.clone(), &ok),
        ("hub page 2 (older posts)", older, &ok),
        ("hub Atom feed, 200", feed_url.clone(), &ok),
        ("hub Atom feed, 304", feed_url.clone(), &not_modified),
        ("hub page, gzip", hub_url.clone(), &gzip),
        ("hub Atom feed, gzip", feed_url, &gzip),
    ];
    let mut results: Vec<Vec<Load>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        for (i, (_, url, script)) in cases.iter().enumerate() {
            let load = wrk(url, script, secs, connections, server.child.id());
            assert_eq!(
                load.errors, 0,
                "{url}: unexpected statuses or socket errors"
            );
            results[i].push(load);
        }
        println!("round {} done", round + 1);
    }
    let base_rps = median(results[0].iter().map(|l| l.rps).collect());
    let base_p99 = median(results[0].iter().map(|l| l.p99_ms).collect());
    let base_cpu = median(results[0].iter().map(|l| l.cpu_us).collect());
    let header = [
        "route (medians of rounds)",
        "req/s",
        "p50 ms",
        "p99 ms",
        "CPU us",
        "req/s",
        "p99",
        "CPU/req",
    ];
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>9} {:>9}  {:>5} {:>8}",
        header[0], header[1], header[2], header[3], header[4], header[5], header[6], header[7]
    );
    let under = [
        "", "", "", "", "per req", "vs plain", "vs plain", "vs plain",
    ];
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>9} {:>9}  {:>5} {:>8}",
        under[0], under[1], under[2], under[3], under[4], under[5], under[6], under[7]
    );
    for ((label, _, _), loads) in cases.iter().zip(&results) {
        let rps = median(loads.iter().map(|l| l.rps).collect());
        let p50 = median(loads.iter().map(|l| l.p50_ms).collect());
        let p99 = median(loads.iter().map(|l| l.p99_ms).collect());
        let cpu = median(loads.iter().map(|l| l.cpu_us).collect());
        println!(
            "{label:<28} {rps:>10.0} {p50:>9.2} {p99:>9.2} {cpu:>9.1} {:>8.0}%  {:>4.2}x {:>7.2}x",
            100.0 * rps / base_rps,
            p99 / base_p99,
            cpu / base_cpu
        );
    }
    println!(
        "kith serve RSS after the load: {:.0} MiB",
        rss_mib(&server.child.id().to_string())
    );
}
