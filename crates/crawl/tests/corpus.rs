//! The shared feed corpus, end to end: every feed file served over loopback HTTP, fetched by
//! the real [`Fetcher`] and read by [`parse_feed`] (the production path), then compared with
//! what Python feedparser read from the same bytes (`feeds/oracle.jsonl`).
//!
//! The corpus lives outside the repository; `KITH_CORPUS` points at it (the folder holding
//! `feeds/`; a relative path is also tried from the workspace root, so
//! `KITH_CORPUS=../shared/corpus cargo test` works from the top of the checkout). Without it
//! every test here says it is skipped and passes. The figures go to stderr on every run;
//! `-- --nocapture` adds the per-category table.
//!
//! On this corpus a file that reads differently from feedparser and is not in
//! [`KNOWN_DIFFERENCES`] fails the test, so a regression shows by name. On another corpus
//! of the same kind (one that does not hold the files listed there), the differences are
//! printed and only the agreement floor applies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use kith_config::CrawlConfig;
use kith_crawl::sanitize::html_to_text;
use kith_crawl::{Fetcher, ParsedFeed, Validators, parse_feed};
use kith_testkit::StaticSite;
use serde_json::Value;
use url::Url;

/// Share of comparable files that must agree with feedparser.
const MIN_AGREEMENT: f64 = 0.99;
/// Share of dated entries whose date must agree with feedparser's (to the second). Not
/// higher: feed-rs and feedparser read some odd formats differently on purpose.
const MIN_DATE_AGREEMENT: f64 = 0.95;
/// Fetch and parse of one file; far above what any file needs.
const PER_FILE_TIMEOUT: Duration = Duration::from_secs(20);
/// Files fetched at once.
const IN_FLIGHT: usize = 16;

/// Comparable files where we read something other than feedparser, and why. A file listed
/// here that starts agreeing fails the test too: take it off the list.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "atom-crate/tests/data/text_html.xml",
        "a type=\"html\" title holding a naked <b> and a CDATA `</p>`: feedparser keeps the \
         CDATA end tag as literal text; we read the element's text as the HTML it is \
         (RFC 4287), so `</p>` closes the paragraph and the title is \"Feed Title\"",
    ),
    (
        "gofeed/testdata/parser/atom/entry_id_xml_base.xml",
        "a relative atom:id (\"relative/link\", resolved by xml:base): feedparser takes any \
         id as the link; only an absolute http(s) id stands in for a missing link here",
    ),
    (
        "gofeed/testdata/parser/rss/rdf_item_links.xml",
        "several links in one item: feedparser takes the last, an Atom-style \
         `<link href=\"...\"/>`; we take the first `<link>` text, the RSS way",
    ),
    (
        "gofeed/testdata/parser/rss/rss_channel_item_links.xml",
        "several links in one item: as rdf_item_links.xml",
    ),
    (
        "gofeed/testdata/translator/rss/feed_item_links_-_rss_channel_item_links.xml",
        "several links in one item: as rdf_item_links.xml",
    ),
    (
        "gofeed/testdata/parser/rss/rss_channel_item_uri_at_protocol.xml",
        "the first link is an at:// URI (Bluesky); posts link to web pages only, so we \
         take the item's http link",
    ),
    (
        "miniflux/internal/reader/encoding/testdata/windows-1252-incorrect-prolog.xml",
        "the prolog says windows-1252 but the bytes are valid UTF-8: feedparser follows the \
         prolog (\"Euro â‚¬\"), we follow the bytes (\"Euro €\"), as miniflux does",
    ),
];

/// The edge cases the crawler promises to handle: each one in the corpus must have at
/// least one file that is read.
const REQUIRED_CATEGORIES: &[&str] = &[
    "enc:bom-utf8",
    "enc:declared-non-utf8",
    "enc:declared-vs-detected-mismatch",
    "enc:invalid-utf8-bytes",
    "enc:no-declaration-non-ascii",
    "enc:cp1252-bytes-in-latin1",
    "url:xml-base",
    "url:relative",
    "xml:cdata",
    "xml:cdata-containing-escaped-markup",
    "xml:not-well-formed",
    "xml:html-named-entities(undeclared)",
    "format:atom0.3",
    "format:atom1.0",
    "format:rss0.90-rdf",
    "format:rss1.0-rdf",
    "format:rss-0.91",
    "format:rss-0.92",
    "format:rss-2.0",
    "format:jsonfeed",
    "html:markup-in-text-fields(escaped-or-cdata)",
    "html:entity-or-markup-left-in-title",
    "entry:no-date",
    "entry:missing-id",
];

/// What happened to one feed file.
struct Outcome {
    /// Path inside `feeds/`.
    path: String,
    /// The URL given to the parser.
    url: Url,
    read: Result<ParsedFeed, Failure>,
}

enum Failure {
    Fetch(String),
    Parse(String),
    Panic(String),
    Timeout,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Fetch(e) => write!(f, "fetch failed: {e}"),
            Failure::Parse(e) => write!(f, "not read: {e}"),
            Failure::Panic(e) => write!(f, "panicked: {e}"),
            Failure::Timeout => write!(f, "no answer in {PER_FILE_TIMEOUT:?}"),
        }
    }
}

struct Corpus {
    now: DateTime<Utc>,
    outcomes: Vec<Outcome>,
    oracle: HashMap<String, Value>,
    /// Edge-case tags per file (`categories.jsonl`).
    categories: BTreeMap<String, Vec<String>>,
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A line on stderr that the test harness does not capture: the figures belong in the log of
/// every run, not only of failing ones.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `KITH_CORPUS`, as given or (when relative) from the workspace root: cargo runs tests
/// in the package's folder, and people write the path from the top of the checkout.
/// `Err` says why there is none.
fn corpus_root() -> Result<PathBuf, String> {
    let given = PathBuf::from(std::env::var_os("KITH_CORPUS").ok_or("KITH_CORPUS is not set")?);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [given.clone(), workspace.join(&given)]
        .into_iter()
        .find(|root| root.join("feeds/oracle.jsonl").is_file())
        .ok_or_else(|| {
            format!(
                "no feeds/oracle.jsonl under KITH_CORPUS={}",
                given.display()
            )
        })
}

/// The corpus, fetched and parsed once for all the tests in this file; `None` (and a line
/// saying so) when `KITH_CORPUS` is unset or does not hold the corpus.
fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Result<Corpus, String>> = OnceLock::new();
    static SAID: std::sync::Once = std::sync::Once::new();
    match CORPUS.get_or_init(|| corpus_root().map(|root| load(&root))) {
        Ok(corpus) => Some(corpus),
        Err(why) => {
            SAID.call_once(|| say(&format!("skipped: {why}")));
            None
        }
    }
}

fn load(root: &Path) -> Corpus {
    let feeds = root.join("feeds");
    let manifest = read_jsonl(&feeds.join("manifest.jsonl"));
    let oracle: HashMap<String, Value> = read_jsonl(&feeds.join("oracle.jsonl"))
        .into_iter()
        .map(|o| (str_of(&o, "file").unwrap().to_owned(), o))
        .collect();
    let categories_file = feeds.join("categories.jsonl");
    let categories = if categories_file.is_file() {
        read_jsonl(&categories_file)
            .into_iter()
            .map(|c| {
                let tags = c["tags"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (str_of(&c, "file").unwrap().to_owned(), tags)
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let files: Vec<FeedFile> = manifest
        .iter()
        .filter(|m| str_of(m, "role") == Some("feed"))
        .map(|m| {
            let path = str_of(m, "path").unwrap().to_owned();
            // feedparser was handed the upstream test's feed URL as Content-Location (the
            // oracle says `bytes+content-location`); the parser gets the same URL, so that
            // relative links resolve to the same absolute URLs on both sides.
            let given_base = oracle
                .get(&path)
                .and_then(|o| str_of(o, "fetched_as"))
                .is_some_and(|f| f.contains("content-location"));
            let base = str_of(m, "base_url")
                .filter(|_| given_base)
                .and_then(|b| Url::parse(b.trim()).ok());
            FeedFile { path, base }
        })
        .collect();
    let now = Utc::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let outcomes = rt.block_on(fetch_and_parse(feeds, files, now));
    // A parse stuck in a blocking thread has been reported as a timeout; do not wait for it.
    rt.shutdown_timeout(Duration::from_secs(1));
    Corpus {
        now,
        outcomes,
        oracle,
        categories,
    }
}

struct FeedFile {
    path: String,
    /// The feed's own URL, when the upstream test gave one.
    base: Option<Url>,
}

async fn fetch_and_parse(feeds: PathBuf, files: Vec<FeedFile>, now: DateTime<Utc>) -> Vec<Outcome> {
    let site = StaticSite::serve(feeds, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let cfg = CrawlConfig {
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        per_host_delay_ms: 0,
        concurrency: 64,
        per_host: 64,
        ..CrawlConfig::default()
    };
    let fetcher = Fetcher::new(&cfg).unwrap();
    let origin = Url::parse(&site.url("/")).unwrap();
    let fetcher = &fetcher;
    let mut outcomes: Vec<Outcome> = futures::stream::iter(files)
        .map(|file| {
            let mut fetch_url = origin.clone();
            fetch_url
                .path_segments_mut()
                .unwrap()
                .pop_if_empty()
                .extend(file.path.split('/'));
            async move {
                let url = file.base.unwrap_or_else(|| fetch_url.clone());
                let read = tokio::time::timeout(
                    PER_FILE_TIMEOUT,
                    fetch_one(fetcher, fetch_url, url.clone(), now),
                )
                .await
                .unwrap_or(Err(Failure::Timeout));
                Outcome {
                    path: file.path,
                    url,
                    read,
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    site.shutdown().await;
    outcomes.sort_by(|a, b| a.path.cmp(&b.path));
    outcomes
}

/// A real GET, then [`parse_feed`] on the body and content type it brought.
async fn fetch_one(
    fetcher: &Fetcher,
    fetch_url: Url,
    feed_url: Url,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, Failure> {
    let resp = fetcher
        .get(&fetch_url, &Validators::default())
        .await
        .map_err(|e| Failure::Fetch(e.to_string()))?;
    let parsed = tokio::task::spawn_blocking(move || {
        parse_feed(&resp.body, resp.content_type.as_deref(), &feed_url, now)
    })
    .await;
    match parsed {
        Ok(Ok(feed)) => Ok(feed),
        Ok(Err(e)) => Err(Failure::Parse(e.reason)),
        Err(e) => Err(Failure::Panic(e.to_string())),
    }
}

/// White space collapsed; control characters (which XML does not allow, and we drop)
/// dropped.
fn collapse(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether our title (plain text) says what feedparser's does. feedparser keeps HTML
/// titles as (sanitised) HTML and plain ones as text, and does not say which it kept: the
/// titles agree when ours is feedparser's as text, or feedparser's read as HTML.
fn same_title(ours: &str, feedparser: &str) -> bool {
    let ours = collapse(ours);
    ours == collapse(feedparser) || ours == collapse(&html_to_text(feedparser))
}

/// A link compared as a URL: resolved against the feed URL as we resolve ours (feedparser
/// leaves links relative when it has no base) and parsed, so that `http://host` and
/// `http://host/` (feed-rs adds the `/`) are the same.
fn norm_link(s: &str, base: &Url) -> String {
    let s = s.trim();
    match base.join(s) {
        Ok(u) => u.to_string(),
        Err(_) => s.to_owned(),
    }
}

/// How `ours` reads differently from feedparser's `oracle`; empty when they agree.
fn differences(oracle: &Value, ours: &ParsedFeed, base: &Url) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(want) = str_of(oracle, "title").filter(|t| !t.trim().is_empty()) {
        let got = ours.title.as_deref().unwrap_or("");
        if !same_title(got, want) {
            diffs.push(format!("feed title {got:?}, feedparser {want:?}"));
        }
    }
    let entries = oracle["entries"].as_array().cloned().unwrap_or_default();
    if entries.len() != ours.entries.len() {
        diffs.push(format!(
            "{} entries, feedparser {}",
            ours.entries.len(),
            entries.len()
        ));
        return diffs;
    }
    for (i, (want, got)) in entries.iter().zip(&ours.entries).enumerate() {
        // Without a title feedparser has none and we make one from the text.
        if let Some(t) = str_of(want, "title").filter(|t| !t.trim().is_empty())
            && !same_title(&got.title, t)
        {
            diffs.push(format!("entry {i} title {:?}, feedparser {t:?}", got.title));
        }
        let mut want_link = str_of(want, "link").map(|l| norm_link(l, base));
        let got_link = got.url.as_deref().map(|l| norm_link(l, base));
        // feedparser resolves a link without an address (`<link rel="self"/>`) to the
        // document itself; we have no link then.
        if want_link.as_deref() == Some(base.as_str()) && got_link.is_none() {
            want_link = None;
        }
        // feedparser takes any id for the link when there is none (`<guid>abc123</guid>`,
        // `mailto:`); only an absolute web address stands in for one here.
        if want["link_from_id"] == Value::Bool(true)
            && !str_of(want, "link").is_some_and(|l| l.starts_with("http"))
        {
            want_link = None;
        }
        if want_link != got_link {
            diffs.push(format!(
                "entry {i} link {got_link:?}, feedparser {want_link:?}"
            ));
        }
    }
    diffs
}

/// Files feedparser read without error, or read entries from anyway.
fn comparable(oracle: &Value) -> bool {
    oracle["bozo"] == Value::Bool(false) || oracle["n_entries"].as_u64().unwrap_or(0) > 0
}

/// Not a feed for feedparser either: it says so with an empty result and no version.
fn not_a_feed(oracle: &Value) -> bool {
    str_of(oracle, "version").unwrap_or("").is_empty() && oracle["n_entries"].as_u64() == Some(0)
}

#[test]
fn every_file_is_fetched_and_read_without_panic_or_hang() {
    let Some(c) = corpus() else { return };
    let mut failed = Vec::new();
    let mut refused = 0;
    for o in &c.outcomes {
        match &o.read {
            Ok(_) => {}
            Err(Failure::Parse(_)) => refused += 1,
            Err(e) => failed.push(format!("{}: {e}", o.path)),
        }
    }
    say(&format!(
        "corpus: {} feed files fetched, {} read, {refused} refused as not a feed",
        c.outcomes.len(),
        c.outcomes.len() - refused - failed.len()
    ));
    assert!(!c.outcomes.is_empty(), "the manifest lists no feed files");
    assert!(
        failed.is_empty(),
        "{} files failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn agrees_with_feedparser() {
    let Some(c) = corpus() else { return };
    let known: BTreeMap<&str, &str> = KNOWN_DIFFERENCES.iter().copied().collect();
    // The table is about this corpus; on another one it cannot name the files.
    let strict = known.keys().all(|path| c.oracle.contains_key(*path));
    let mut comparable_files = 0usize;
    let mut agreeing = 0usize;
    let mut unexpected = Vec::new();
    let mut listed_but_agreeing = Vec::new();
    for o in &c.outcomes {
        let Some(oracle) = c.oracle.get(&o.path) else {
            continue;
        };
        if !comparable(oracle) {
            continue;
        }
        comparable_files += 1;
        let diffs = match &o.read {
            Ok(feed) => differences(oracle, feed, &o.url),
            Err(Failure::Parse(_)) if not_a_feed(oracle) => Vec::new(),
            Err(e) => vec![e.to_string()],
        };
        if diffs.is_empty() {
            agreeing += 1;
            if known.contains_key(o.path.as_str()) {
                listed_but_agreeing.push(o.path.clone());
            }
        } else if !strict || !known.contains_key(o.path.as_str()) {
            unexpected.push(format!("{}:\n    {}", o.path, diffs.join("\n    ")));
        }
    }
    let share = agreeing as f64 / comparable_files.max(1) as f64;
    say(&format!(
        "corpus: {} files, {comparable_files} comparable, {agreeing} agree with feedparser \
         ({:.1}%); {} known differences",
        c.outcomes.len(),
        share * 100.0,
        if strict { known.len() } else { 0 },
    ));
    if !strict {
        say(&format!(
            "not the corpus KNOWN_DIFFERENCES describes; differences:\n{}",
            unexpected.join("\n")
        ));
    }
    assert!(
        share >= MIN_AGREEMENT,
        "agreement {:.2}% < {}%:\n{}",
        share * 100.0,
        MIN_AGREEMENT * 100.0,
        unexpected.join("\n")
    );
    if strict {
        assert!(
            unexpected.is_empty(),
            "{} files read differently from feedparser and are not in KNOWN_DIFFERENCES:\n{}",
            unexpected.len(),
            unexpected.join("\n")
        );
        assert!(
            listed_but_agreeing.is_empty(),
            "these agree now; take them off KNOWN_DIFFERENCES: {listed_but_agreeing:?}"
        );
    }
}

/// Dates feedparser read agree with ours to the second (feedparser drops fractions);
/// entries without one get the first-seen time, and none is in the future.
#[test]
fn dates_agree_and_are_never_in_the_future() {
    let Some(c) = corpus() else { return };
    let (mut dated, mut agreeing, mut undated_ok, mut undated) = (0usize, 0usize, 0usize, 0usize);
    let mut differing = Vec::new();
    for o in &c.outcomes {
        let Ok(feed) = &o.read else { continue };
        for e in &feed.entries {
            assert!(
                e.published <= c.now,
                "{}: published {}",
                o.path,
                e.published
            );
            assert!(
                e.updated.is_none_or(|u| u <= c.now),
                "{}: updated {:?}",
                o.path,
                e.updated
            );
            assert!(!e.guid.trim().is_empty(), "{}: an empty guid", o.path);
        }
        let Some(oracle) = c.oracle.get(&o.path) else {
            continue;
        };
        let entries = oracle["entries"].as_array().cloned().unwrap_or_default();
        if entries.len() != feed.entries.len() {
            continue;
        }
        for (want, got) in entries.iter().zip(&feed.entries) {
            let when = str_of(want, "published")
                .or(str_of(want, "updated"))
                .and_then(|d| DateTime::parse_from_rfc3339(d).ok());
            match when {
                Some(d) => {
                    dated += 1;
                    let d = d.with_timezone(&Utc).min(c.now);
                    if (d - got.published).num_seconds().abs() < 1 {
                        agreeing += 1;
                    } else {
                        differing.push(format!(
                            "{}: {} (feedparser {d}, written {:?})",
                            o.path,
                            got.published,
                            str_of(want, "published_raw").or(str_of(want, "updated_raw"))
                        ));
                    }
                }
                None => {
                    undated += 1;
                    undated_ok += usize::from(got.published == c.now);
                }
            }
        }
    }
    let share = agreeing as f64 / dated.max(1) as f64;
    say(&format!(
        "corpus: {dated} dated entries, {agreeing} agree with feedparser ({:.1}%); \
         {undated_ok} of {undated} undated ones first seen now; differing:\n{}",
        share * 100.0,
        differing.join("\n")
    ));
    assert!(
        share >= MIN_DATE_AGREEMENT,
        "date agreement {:.2}% < {}%",
        share * 100.0,
        MIN_DATE_AGREEMENT * 100.0
    );
}

#[test]
fn sanitised_html_has_nothing_active_and_its_text_is_right() {
    let Some(c) = corpus() else { return };
    let mut entries = 0usize;
    let mut bad = Vec::new();
    for o in &c.outcomes {
        let Ok(feed) = &o.read else { continue };
        for (i, e) in feed.entries.iter().enumerate() {
            entries += 1;
            if let Some(why) = hazard(&e.content_html) {
                bad.push(format!("{} entry {i}: {why}", o.path));
            }
            // The text is read from the sanitised HTML without a second parse; it must be
            // what a parse reads.
            if e.text != html_to_text(&e.content_html) {
                bad.push(format!(
                    "{} entry {i}: text {:?} is not the HTML's",
                    o.path, e.text
                ));
            }
        }
    }
    say(&format!("corpus: {entries} entries sanitised"));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The first thing in sanitised HTML that could run code, load a frame, restyle the page
/// or submit a form, or a link without our `rel`.
fn hazard(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    for tag in [
        "<script", "<style", "<iframe", "<object", "<embed", "<svg", "<math", "<form",
    ] {
        if lower.contains(tag) {
            return Some(format!("{tag} survived"));
        }
    }
    if lower.contains("javascript:") {
        return Some("a javascript: URL survived".into());
    }
    // An attribute named on*: after white space inside a tag, letters, then `=`.
    let bytes = lower.as_bytes();
    for (at, _) in lower.match_indices("on") {
        if !at
            .checked_sub(1)
            .is_some_and(|i| bytes[i].is_ascii_whitespace() || bytes[i] == b'/')
        {
            continue;
        }
        let rest = &lower[at + 2..];
        let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        if name_len > 0 && rest[name_len..].trim_start().starts_with('=') && inside_tag(&lower, at)
        {
            return Some(format!("event attribute on{}", &rest[..name_len]));
        }
    }
    for (at, _) in lower.match_indices("<a") {
        let tag_end = lower[at..].find('>').map_or(lower.len(), |e| at + e);
        let tag = &lower[at..tag_end];
        if tag.len() > 2 && !tag.as_bytes()[2].is_ascii_whitespace() {
            continue; // <abbr>, <aside>
        }
        if !tag.contains(r#"rel="nofollow ugc noopener""#) {
            return Some(format!("a link without rel: {}", &html[at..tag_end]));
        }
    }
    None
}

/// Whether byte `at` is inside a tag (after a `<` not yet closed by `>`), not in text.
fn inside_tag(html: &str, at: usize) -> bool {
    let before = &html[..at];
    matches!((before.rfind('<'), before.rfind('>')), (Some(lt), gt) if gt.is_none_or(|gt| gt < lt))
}

#[test]
fn every_edge_case_category_is_exercised() {
    let Some(c) = corpus() else { return };
    let read: HashMap<&str, &Outcome> = c.outcomes.iter().map(|o| (o.path.as_str(), o)).collect();
    let mut per_tag: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut missing = Vec::new();
    for (file, tags) in &c.categories {
        let Some(o) = read.get(file.as_str()) else {
            missing.push(file.as_str());
            continue;
        };
        for t in tags {
            let e = per_tag.entry(t).or_default();
            e.0 += 1;
            e.1 += usize::from(o.read.is_ok());
        }
    }
    if !missing.is_empty() {
        // A data issue (categories.jsonl lists a file the manifest does not call a feed),
        // not a parser one.
        say(&format!(
            "categorised but not in the manifest as feeds: {missing:?}"
        ));
    }
    println!("{:<50} {:>5} {:>5}", "category", "files", "read");
    for (tag, (files, ok)) in &per_tag {
        println!("{tag:<50} {files:>5} {ok:>5}");
    }
    for needed in REQUIRED_CATEGORIES {
        if let Some((files, ok)) = per_tag.get(needed) {
            assert!(
                *ok > 0,
                "none of the {files} files tagged {needed} was read"
            );
        }
    }
}
