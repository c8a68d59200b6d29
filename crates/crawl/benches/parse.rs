//! Parse + sanitise throughput of [`kith_crawl::parse_feed`] against bare
//! `feed_rs::parser::parse` on the same bytes, in the same run.
//!
//! `cargo bench -p kith-crawl --bench parse` reads, from the shared corpus (`KITH_CORPUS`):
//! - `feeds`: the feed files of `feeds/` that bare feed-rs reads without error, so both
//!   sides do the whole job on every file (about 1 KB each: per-feed and per-entry costs);
//! - `blogosphere`: the 33 real blog feeds of `blogosphere/sites/`, full HTML posts (per-byte
//!   costs, what a hub sees).
//!
//! Without the corpus it generates a few feeds (`synthetic`). Criterion reports each
//! side's throughput (bytes/s); after each group the ratio of ours to feed-rs's is measured
//! by timing both over the same feeds in alternating rounds. The goal is a ratio of at
//! least 0.5: repairing, sanitising, reducing to text and guessing the language may cost at
//! most as much again as parsing.
//!
//! Under `cargo bench`, each group ends with the time spent in each stage of parsing
//! ([`kith_crawl::parse::stages`]), against bare feed-rs.
//!
//! For a profiler: `KITH_PARSE_PROFILE=feeds/kith` (group `/` side: `feed-rs`, `kith` or
//! `kith+language`) runs only that side over that group's feeds for ten seconds, without
//! criterion, e.g. under `perf record` or `valgrind --tool=callgrind`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kith_crawl::parse::parse_feed_without_language;
use kith_crawl::parse_feed;
use url::Url;

/// The closing ratio measurement: at least this many rounds, alternating between the two
/// parsers, and at least this long.
const RATIO_ROUNDS: u32 = 5;
const RATIO_TIME: Duration = Duration::from_secs(4);
/// How long `KITH_PARSE_PROFILE` runs.
const PROFILE_TIME: Duration = Duration::from_secs(10);

struct Feed {
    url: Url,
    content_type: &'static str,
    body: Vec<u8>,
}

/// Bare feed-rs reads it: a feed it refuses costs it nothing, which is no comparison.
fn feed(path: &str, body: Vec<u8>) -> Option<Feed> {
    feed_rs::parser::parse(&body[..]).ok()?;
    Some(Feed {
        url: Url::parse(&format!("http://bench.example/{path}")).ok()?,
        content_type: if path.ends_with(".json") {
            "application/feed+json"
        } else {
            "application/xml"
        },
        body,
    })
}

fn blogosphere_feeds(root: &Path) -> Option<Vec<Feed>> {
    let sites = root.join("blogosphere/sites");
    let mut dirs: Vec<_> = std::fs::read_dir(&sites)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dirs.sort();
    let out: Vec<Feed> = dirs
        .iter()
        .flat_map(|dir| ["feed.xml", "atom.xml", "feed.json"].map(|name| dir.join(name)))
        .filter_map(|path| {
            let body = std::fs::read(&path).ok()?;
            let rel = path.strip_prefix(root).ok()?.to_str()?.to_owned();
            feed(&rel, body)
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

fn corpus_feeds(root: &Path) -> Option<Vec<Feed>> {
    let feeds = root.join("feeds");
    let manifest = std::fs::read_to_string(feeds.join("manifest.jsonl")).ok()?;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some("feed"), Some(path)) = (
            entry.get("role").and_then(|v| v.as_str()),
            entry.get("path").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        if let Some(f) = std::fs::read(feeds.join(path))
            .ok()
            .and_then(|body| feed(path, body))
        {
            out.push(f);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Three feeds of 30 entries each (RSS 2.0, Atom 1.0, JSON Feed 1.1), with the kind of
/// HTML blogs publish: paragraphs, links, images, code, the odd script to remove.
fn synthetic_feeds() -> Vec<Feed> {
    let body = |i: usize| {
        format!(
            "<p>Post {i} is about <a href=\"/posts/{i}\">parsing</a> feeds &amp; the \
             <em>sanitiser</em>.</p><p><img src=\"/img/{i}.png\" alt=\"figure\"> \
             {}</p><pre><code class=\"language-rust\">fn main() {{ println!(\"{i}\"); }}</code></pre>\
             <script>alert({i})</script><ul><li>one</li><li>two</li></ul>",
            "A sentence of plain English text that goes on for a while. ".repeat(8)
        )
    };
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut rss = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>\
         <title>Synthetic RSS</title><link>http://bench.example/</link>",
    );
    let mut atom = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>Synthetic Atom</title><link href=\"http://bench.example/\"/><id>urn:bench</id>",
    );
    let mut items = Vec::new();
    for i in 0..30 {
        rss.push_str(&format!(
            "<item><title>Post {i}</title><link>http://bench.example/posts/{i}</link>\
             <guid>http://bench.example/posts/{i}</guid><pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate>\
             <category>rust</category><description>{}</description></item>",
            escape(&body(i))
        ));
        atom.push_str(&format!(
            "<entry><title type=\"html\">Post {i}</title><link href=\"/posts/{i}\"/>\
             <id>urn:bench:{i}</id><updated>2025-06-10T04:00:00Z</updated>\
             <content type=\"html\">{}</content></entry>",
            escape(&body(i))
        ));
        items.push(format!(
            "{{\"id\":\"{i}\",\"url\":\"http://bench.example/posts/{i}\",\"title\":\"Post {i}\",\
             \"date_published\":\"2025-06-10T04:00:00Z\",\"content_html\":\"{}\"}}",
            body(i).replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    rss.push_str("</channel></rss>");
    atom.push_str("</feed>");
    let json = format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"Synthetic JSON\",\"items\":[{}]}}",
        items.join(",")
    );
    [
        (rss, "application/rss+xml"),
        (atom, "application/atom+xml"),
        (json, "application/feed+json"),
    ]
    .into_iter()
    .enumerate()
    .filter_map(|(i, (text, content_type))| {
        Some(Feed {
            url: Url::parse(&format!("http://bench.example/feed{i}")).ok()?,
            content_type,
            body: text.into_bytes(),
        })
    })
    .collect()
}

/// (group name, feeds): the corpus groups when `KITH_CORPUS` has them, else synthetic.
fn groups() -> Vec<(&'static str, Vec<Feed>)> {
    // Relative paths are read from the workspace root too: cargo runs benches in the
    // package's folder.
    let root = std::env::var_os("KITH_CORPUS").map(|given| {
        let given = PathBuf::from(given);
        let from_workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(&given);
        if given.exists() {
            given
        } else {
            from_workspace
        }
    });
    let root = root.as_deref();
    let mut groups = Vec::new();
    if let Some(feeds) = root.and_then(corpus_feeds) {
        groups.push(("feeds", feeds));
    }
    if let Some(feeds) = root.and_then(blogosphere_feeds) {
        groups.push(("blogosphere", feeds));
    }
    if groups.is_empty() {
        groups.push(("synthetic", synthetic_feeds()));
    }
    groups
}

fn run_feed_rs(feeds: &[Feed]) {
    for f in feeds {
        let _ = black_box(feed_rs::parser::parse(black_box(&f.body[..])));
    }
}

/// What the crawler does per poll: parse and sanitise (languages are detected later, only
/// for entries the store does not have).
fn run_kith(feeds: &[Feed], now: DateTime<Utc>) {
    for f in feeds {
        let _ = black_box(parse_feed_without_language(
            black_box(&f.body),
            Some(f.content_type),
            &f.url,
            now,
        ));
    }
}

/// Parse, sanitise and detect every entry's language (a blog's first crawl).
fn run_kith_with_language(feeds: &[Feed], now: DateTime<Utc>) {
    for f in feeds {
        let _ = black_box(parse_feed(
            black_box(&f.body),
            Some(f.content_type),
            &f.url,
            now,
        ));
    }
}

/// The `KITH_PARSE_PROFILE` loop: one side, one group, for a profiler to watch.
fn profile(which: &str) {
    let now = Utc::now();
    let Some((group, side)) = which.split_once('/') else {
        eprintln!("KITH_PARSE_PROFILE wants group/side, e.g. feeds/kith");
        return;
    };
    let Some((_, feeds)) = groups().into_iter().find(|(name, _)| *name == group) else {
        eprintln!("no group {group}");
        return;
    };
    let run: &dyn Fn() = match side {
        "feed-rs" => &|| run_feed_rs(&feeds),
        "kith" => &|| run_kith(&feeds, now),
        "kith+language" => &|| run_kith_with_language(&feeds, now),
        other => {
            eprintln!("no side {other}: feed-rs, kith or kith+language");
            return;
        }
    };
    let started = Instant::now();
    let mut rounds = 0u32;
    while started.elapsed() < PROFILE_TIME {
        run();
        rounds += 1;
    }
    println!(
        "{which}: {rounds} rounds in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn parse_throughput(c: &mut Criterion) {
    if let Ok(which) = std::env::var("KITH_PARSE_PROFILE") {
        profile(&which);
        return;
    }
    let now = Utc::now();
    for (name, feeds) in groups() {
        let bytes: u64 = feeds.iter().map(|f| f.body.len() as u64).sum();
        println!("{name}: {} feeds, {bytes} bytes", feeds.len());
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(bytes));
        // Big groups take long per iteration: criterion's minimum sample count will do.
        if bytes > 2_000_000 {
            group.sample_size(10);
        }
        group.bench_function("feed-rs", |b| b.iter(|| run_feed_rs(&feeds)));
        group.bench_function("kith", |b| b.iter(|| run_kith(&feeds, now)));
        group.bench_function("kith+language", |b| {
            b.iter(|| run_kith_with_language(&feeds, now))
        });
        group.finish();
        // In `cargo test` mode criterion runs each benchmark once; the ratio is for
        // `cargo bench`.
        if std::env::args().any(|a| a == "--bench") {
            ratio(name, &feeds, bytes, now);
            let pairs: Vec<(&[u8], &Url)> = feeds.iter().map(|f| (&f.body[..], &f.url)).collect();
            let rounds = if bytes > 2_000_000 { 5 } else { 20 };
            println!(
                "{name}: time by stage, {rounds} rounds\n{}",
                kith_crawl::parse::stages::measure(&pairs, rounds)
            );
        }
    }
}

/// Ours against feed-rs, timed in alternating rounds so that both see the same machine.
fn ratio(name: &str, feeds: &[Feed], bytes: u64, now: DateTime<Utc>) {
    let (mut theirs, mut ours, mut with_language, mut rounds) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO, 0u32);
    while rounds < RATIO_ROUNDS || theirs + ours < RATIO_TIME {
        let t = Instant::now();
        run_feed_rs(feeds);
        theirs += t.elapsed();
        let t = Instant::now();
        run_kith(feeds, now);
        ours += t.elapsed();
        let t = Instant::now();
        run_kith_with_language(feeds, now);
        with_language += t.elapsed();
        rounds += 1;
    }
    let mib_per_s =
        |d: Duration| (bytes as f64 * f64::from(rounds)) / d.as_secs_f64() / (1024.0 * 1024.0);
    let ratio = theirs.as_secs_f64() / ours.as_secs_f64();
    println!(
        "{name}: parse + sanitise {:.1} MiB/s, bare feed-rs {:.1} MiB/s; ratio {ratio:.2} (goal >= 0.5); \
         with language detection on every entry {:.1} MiB/s (ratio {:.2})",
        mib_per_s(ours),
        mib_per_s(theirs),
        mib_per_s(with_language),
        theirs.as_secs_f64() / with_language.as_secs_f64(),
    );
}

criterion_group!(benches, parse_throughput);
criterion_main!(benches);
