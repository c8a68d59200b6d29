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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{env_usize, rss_mib};

/// What one wrk run reports.
#[derive(Debug, Clone, Copy)]
struct Load {
    requests: u64,
    /// Server CPU time per request, in microseconds.
    cpu_us: f64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// wrk prints latencies as `812.00us`, `1.23ms` or `1.02s`.
fn parse_duration_ms(s: &str) -> Option<f64> {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        "m" => v * 60_000.0,
        _ => return None,
    })
}

fn parse_wrk(out: &str) -> Option<Load> {
    let mut load = Load {
        requests: 0,
        cpu_us: 0.0,
        rps: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in out.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => load.rps = v.parse().ok()?,
            // `123456 requests in 10.00s, 1.2MB read`
            (Some(n), Some("requests")) => load.requests = n.parse().ok()?,
            (Some("50%"), Some(v)) => load.p50_ms = parse_duration_ms(v)?,
            (Some("99%"), Some(v)) => load.p99_ms = parse_duration_ms(v)?,
            (Some("Non-2xx"), _) => {
                load.errors += line.rsplit(' ').next()?.parse::<u64>().ok()?;
            }
            (Some("Socket"), Some("errors:")) => {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                load.errors += line
                    .split(',')
                    .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (load.rps > 0.0).then_some(load)
}

/// A wrk script that sends one extra header (wrk's `-H` would do, but 304s count as
/// "Non-2xx" there; the script's `response` hook accepts them).
fn write_script(dir: &Path, name: &str, header: Option<(&str, &str)>, expect: u16) -> PathBuf {
    let path = dir.join(format!("{name}.lua"));
    let header = header
        .map(|(k, v)| format!("wrk.headers[\"{k}\"] = {v:?}\n"))
        .unwrap_or_default();
    std::fs::write(
        &path,
        format!(
            "{header}unexpected = 0\n\
             function response(status, headers, body)\n\
               if status ~= {expect} then unexpected = unexpected + 1 end\n\
             end\n\
             function done(summary, latency, requests)\n\
               io.write(string.format(\"Unexpected statuses: %d\\n\", unexpected))\n\
             end\n"
        ),
    )
    .unwrap();
    path
}

/// CPU time a process has used (user + system, all its threads), in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let ticks = *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) in parentheses: utime and
    // stime are the 14th and 15th fields of the line, the 12th and 13th after it.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let used: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    used / ticks
}

fn wrk(url: &str, script: &Path, secs: usize, connections: usize, server: u32) -> Load {
    let cpu_before = cpu_seconds(server);
    let out = Command::new("wrk")
        .args(["--latency", "-t", "2", "-c", &connections.to_string()])
        .args(["-d", &format!("{secs}s"), "-s"])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut load = parse_wrk(&text).unwrap_or_else(|| panic!("cannot read wrk's report:\n{text}"));
    // With a script, unexpected statuses (304 included) come from the `done` hook.
    load.errors = text
        .lines()
        .find_map(|l| l.strip_prefix("Unexpected statuses: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(load.errors);
    let requests = load.requests.max(1) as f64;
    load.cpu_us = (cpu_seconds(server) - cpu_before) * 1e6 / requests;
    load
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data_dir: &Path, work: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let ok = write_script(scripts, "ok", None, 200);
    let not_modified = write_script(scripts, "nm", Some(("If-None-Match", &etag)), 304);
    let gzip = write_script(scripts, "gzip", Some(("Accept-Encoding", "gzip")), 200);
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
