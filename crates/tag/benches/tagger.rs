//! Tagging throughput on posts of about 600 words, end to end (normalisation, language
//! detection, extraction, rules), against a baseline in the same run: a plain
//! tokenise-and-count-words loop over the same posts, the least any keyword extractor has
//! to do. Language detection is measured against its own baseline, alone and end to end:
//! whatlang on the title and the first 300 characters, the detector the tagger used before
//! the stop-word vote (`kith_tag::language`).
//!
//! ```sh
//! cargo bench -p kith-tag --bench tagger
//! KITH_CORPUS=../shared/corpus cargo bench -p kith-tag --bench tagger   # real posts
//! ```
//!
//! Posts come from the blogosphere corpus when `KITH_CORPUS` points at it (each cut or
//! repeated to 600 words), otherwise they are generated deterministically. After
//! criterion's report, a summary prints posts per second for each and the ratios.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group};
use kith_config::TagRules;
use kith_tag::{DfTable, PostInput, Tagger};
use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const POSTS: usize = 200;
const WORDS: usize = 600;

struct Post {
    title: String,
    text: String,
    categories: Vec<String>,
}

/// A small deterministic generator (xorshift64*), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const FUNCTION: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "with", "as", "on", "this",
    "we", "by", "be", "are", "from", "at", "or", "an", "but", "not", "which", "have", "can", "our",
    "when", "into", "more", "all", "so", "they", "about", "using", "also",
];
const TOPICS: &[&[&str]] = &[
    &[
        "container",
        "containers",
        "kubernetes",
        "cluster",
        "pod",
        "scheduler",
        "node",
        "helm",
        "deployment",
        "service mesh",
        "sidecar",
        "ingress",
    ],
    &[
        "rust",
        "borrow checker",
        "lifetime",
        "ownership",
        "trait",
        "async",
        "tokio",
        "crate",
        "compiler",
        "unsafe",
        "macro",
        "iterator",
    ],
    &[
        "python",
        "pandas",
        "dataframe",
        "numpy",
        "notebook",
        "matplotlib",
        "plot",
        "jupyter",
        "package",
        "pip",
        "wheel",
        "virtual environment",
    ],
    &[
        "sourdough",
        "starter",
        "flour",
        "hydration",
        "oven",
        "crumb",
        "crust",
        "dough",
        "fermentation",
        "loaf",
        "bread",
        "baking",
    ],
    &[
        "survey",
        "community",
        "contributor",
        "release",
        "conference",
        "talk",
        "meetup",
        "maintainer",
        "governance",
        "roadmap",
        "feedback",
        "security",
    ],
];
const COMMON: &[&str] = &[
    "time",
    "work",
    "people",
    "way",
    "year",
    "system",
    "problem",
    "example",
    "version",
    "code",
    "data",
    "change",
    "team",
    "project",
    "question",
    "result",
    "idea",
    "number",
    "part",
    "case",
    "first",
    "new",
    "good",
    "different",
    "important",
    "large",
    "small",
    "simple",
    "fast",
    "better",
    "run",
    "build",
    "write",
    "read",
    "test",
    "show",
    "make",
    "find",
    "think",
    "start",
];

fn generated(n: usize) -> Vec<Post> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let topic = TOPICS[i % TOPICS.len()];
            let other = TOPICS[(i / TOPICS.len() + 1) % TOPICS.len()];
            let mut text = String::with_capacity(WORDS * 7);
            let mut words = 0;
            let mut sentence = 0u32;
            while words < WORDS {
                let len = 8 + (rng.next() % 14) as usize;
                for k in 0..len {
                    let r = rng.next() % 100;
                    let w = if r < 48 {
                        rng.pick(FUNCTION)
                    } else if r < 70 {
                        rng.pick(COMMON)
                    } else if r < 92 {
                        rng.pick(topic)
                    } else if r < 96 {
                        rng.pick(other)
                    } else {
                        ["2024", "v1.2", "12", "Monday"][(rng.next() % 4) as usize]
                    };
                    if k == 0 {
                        let mut c = w.chars();
                        if let Some(f) = c.next() {
                            text.extend(f.to_uppercase());
                            text.push_str(c.as_str());
                        }
                    } else {
                        text.push(' ');
                        text.push_str(w);
                    }
                    words += w.split(' ').count();
                }
                text.push_str(if rng.next().is_multiple_of(5) {
                    ", "
                } else {
                    ". "
                });
                sentence += 1;
                if sentence.is_multiple_of(6) {
                    text.push_str("\n\n");
                }
            }
            Post {
                title: format!("Notes on {} and {}", topic[0], topic[1]),
                text,
                categories: if i.is_multiple_of(2) {
                    vec![topic[0].to_owned(), "Uncategorized".to_owned()]
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// Blogosphere posts, each cut or repeated to [`WORDS`] words of plain text.
fn from_corpus(n: usize) -> Option<Vec<Post>> {
    let root = std::path::PathBuf::from(std::env::var_os("KITH_CORPUS")?);
    let manifest = std::fs::read_to_string(root.join("blogosphere/manifest.jsonl")).ok()?;
    let bloggers = std::fs::read_to_string(root.join("blogosphere/bloggers.jsonl")).ok()?;
    let tag = regex::Regex::new(r"(?s)<[^>]*>").ok()?;
    let entity = regex::Regex::new(r"&[a-z#0-9]+;").ok()?;
    let mut texts = Vec::new();
    for line in bloggers.lines() {
        let b: serde_json::Value = serde_json::from_str(line).ok()?;
        let path = root.join("blogosphere").join(b["feed_path"].as_str()?);
        let feed = std::fs::read_to_string(path).ok()?;
        // Good enough for timing: markup out (the feed's, then the escaped HTML of its
        // entries), words in.
        let outer = tag.replace_all(&feed, " ");
        let inner = outer
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        let plain = tag.replace_all(&inner, " ");
        let plain = entity.replace_all(&plain, " ");
        let words: Vec<&str> = plain.split_whitespace().collect();
        for chunk in words.chunks(WORDS) {
            if chunk.len() == WORDS {
                texts.push(chunk.join(" "));
            }
        }
    }
    let titles: Vec<String> = manifest
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["title"].as_str().map(str::to_owned))
        .collect();
    if texts.is_empty() || titles.is_empty() {
        return None;
    }
    Some(
        (0..n)
            .map(|i| Post {
                title: titles[i % titles.len()].clone(),
                text: texts[i % texts.len()].clone(),
                categories: Vec::new(),
            })
            .collect(),
    )
}

fn rules() -> TagRules {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/tags.example.toml");
    TagRules::from_file(&example).unwrap_or_default()
}

/// The baseline: split into words, lower-case, count.
fn count_words(text: &str) -> usize {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(w.to_lowercase()).or_default() += 1;
    }
    counts.len()
}

fn tag_all(tagger: &Tagger, posts: &[Post], df: &DfTable, language: Option<&str>) -> usize {
    posts
        .iter()
        .map(|p| {
            tagger
                .tag(
                    &PostInput {
                        title: &p.title,
                        text: &p.text,
                        categories: &p.categories,
                        blog_url: Some("https://example.com/"),
                        language,
                        ..PostInput::default()
                    },
                    df,
                )
                .len()
        })
        .sum()
}

fn posts() -> (Vec<Post>, &'static str) {
    match from_corpus(POSTS) {
        Some(p) => (p, "blogosphere"),
        None => (generated(POSTS), "generated"),
    }
}

fn bench(c: &mut Criterion) {
    let (posts, _) = posts();
    let tagger = Tagger::new(&rules()).unwrap();
    let df = DfTable::from_docs(posts.iter().map(|p| (p.title.as_str(), p.text.as_str())));
    let mut g = c.benchmark_group("600-word posts");
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.bench_function("baseline: tokenise + count words", |b| {
        b.iter(|| {
            posts
                .iter()
                .map(|p| count_words(black_box(&p.text)))
                .sum::<usize>()
        })
    });
    g.bench_function("kith-tag: tag (language given)", |b| {
        b.iter(|| tag_all(&tagger, black_box(&posts), &df, Some("eng")))
    });
    g.bench_function("kith-tag: tag (language detected)", |b| {
        b.iter(|| tag_all(&tagger, black_box(&posts), &df, None))
    });
    g.bench_function(
        "kith-tag: tag (former detector: whatlang, 300 characters)",
        |b| b.iter(|| tag_all_former(&tagger, black_box(&posts), &df)),
    );
    g.bench_function("language: whatlang, 300 characters (former)", |b| {
        b.iter(|| whatlang_300(black_box(&posts)))
    });
    g.bench_function("language: kith-tag detect_language", |b| {
        b.iter(|| detect_all(black_box(&posts)))
    });
    g.finish();
}

/// Posts the former detector is sure about.
fn whatlang_300(posts: &[Post]) -> usize {
    posts
        .iter()
        .filter(|p| former_language(p).is_some())
        .count()
}

/// The former detector: whatlang on the title and the first 300 characters of the text.
fn former_language(p: &Post) -> Option<&'static str> {
    let cut = p
        .text
        .char_indices()
        .nth(300)
        .map_or(p.text.len(), |(i, _)| i);
    whatlang::detect(&format!("{}\n{}", p.title, &p.text[..cut]))
        .filter(|i| i.is_reliable() || i.confidence() > 0.5)
        .map(|i| i.lang().code())
}

/// End to end as before the stop-word vote: the former detector, then the tagger with its
/// answer (what `tag` did inside when no language was given).
fn tag_all_former(tagger: &Tagger, posts: &[Post], df: &DfTable) -> usize {
    posts
        .iter()
        .map(|p| {
            let language = former_language(p);
            tagger
                .tag(
                    &PostInput {
                        title: &p.title,
                        text: &p.text,
                        categories: &p.categories,
                        blog_url: Some("https://example.com/"),
                        language: Some(language.unwrap_or("eng")),
                        ..PostInput::default()
                    },
                    df,
                )
                .len()
        })
        .sum()
}

fn detect_all(posts: &[Post]) -> usize {
    posts
        .iter()
        .filter(|p| kith_tag::detect_language(&p.title, &p.text).is_some())
        .count()
}

/// Posts per second of each of `fs` over `posts`, best of several passes of at least
/// `min` each. The passes take turns (one of each per round), so that a spell of load from
/// elsewhere on the machine slows all of them alike rather than one.
fn rates(posts: usize, min: Duration, fs: &mut [&mut dyn FnMut() -> usize]) -> Vec<f64> {
    let mut best = vec![0.0f64; fs.len()];
    for _ in 0..5 {
        for (f, best) in fs.iter_mut().zip(&mut best) {
            let start = Instant::now();
            let mut n = 0usize;
            while start.elapsed() < min {
                black_box(f());
                n += posts;
            }
            *best = best.max(n as f64 / start.elapsed().as_secs_f64());
        }
    }
    best
}

fn summary() {
    let (posts, source) = posts();
    let tagger = Tagger::new(&rules()).unwrap();
    let df = DfTable::from_docs(posts.iter().map(|p| (p.title.as_str(), p.text.as_str())));
    let min = Duration::from_millis(400);
    let r = rates(
        posts.len(),
        min,
        &mut [
            &mut || posts.iter().map(|p| count_words(&p.text)).sum(),
            &mut || tag_all(&tagger, &posts, &df, Some("eng")),
            &mut || tag_all(&tagger, &posts, &df, None),
            &mut || whatlang_300(&posts),
            &mut || detect_all(&posts),
            &mut || tag_all_former(&tagger, &posts, &df),
        ],
    );
    let (base, given, detected, old_lang, new_lang, former) = (r[0], r[1], r[2], r[3], r[4], r[5]);
    let by_vote = posts
        .iter()
        .filter(|p| {
            kith_tag::language::detect(&p.title, &p.text)
                .is_some_and(|d| d.method() == kith_tag::language::Method::StopWords)
        })
        .count();
    println!(
        "\nsummary ({} {source} posts of {WORDS} words, one core):\n  \
         baseline tokenise+count:     {base:>8.0} posts/s\n  \
         kith-tag, language given:    {given:>8.0} posts/s ({:.2}x the baseline's time)\n  \
         kith-tag, language detected: {detected:>8.0} posts/s ({:.2}x the baseline's time)\n  \
         kith-tag, former detector:   {former:>8.0} posts/s ({:.2}x the baseline's time; \
         now {:.2}x as many posts/s)\n  \
         language alone, whatlang 300 chars (former): {:>6.1} µs/post\n  \
         language alone, kith-tag detect_language:    {:>6.1} µs/post ({:.1}x faster; the stop-word vote decided {by_vote} of {})",
        posts.len(),
        base / given,
        base / detected,
        base / former,
        detected / former,
        1e6 / old_lang,
        1e6 / new_lang,
        new_lang / old_lang,
        posts.len(),
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --all-targets` runs benches once as tests (without `--bench`): criterion
    // then checks that each runs, and the timed summary would only cost CI time.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
