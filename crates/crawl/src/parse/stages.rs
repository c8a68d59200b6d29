//! Where parsing spends its time, stage by stage. The parse bench prints it after each
//! group (`cargo bench -p kith-crawl --bench parse`); it is here, in the
//! library, because the stages are private to it.
//!
//! Each stage is timed on its own over the same feeds as [`super::parse_feed`] would run
//! them. Sanitising is done inside turning items into posts; it is timed a second time on
//! its own, split between the one-pass fast path and ammonia (for the bodies the fast path
//! refuses), with the content hash that follows it.

use super::entry::RawFeed;
use super::{charset, json_feed, xml_repair};
use chrono::Utc;
use std::fmt;
use std::time::{Duration, Instant};
use url::Url;

/// Time spent in each stage over all rounds.
#[derive(Debug, Default, Clone)]
pub struct StageTimes {
    pub rounds: u32,
    /// Bytes to UTF-8.
    pub decode: Duration,
    /// The XML repair pass.
    pub repair: Duration,
    /// feed-rs reading the repaired XML.
    pub feed_rs: Duration,
    /// Our lenient JSON Feed reader.
    pub json: Duration,
    /// feed-rs's model to ours.
    pub from_feed_rs: Duration,
    /// Items to posts: links, ids, dates, sanitising, plain text, content hashes.
    pub into_posts: Duration,
    /// Of `into_posts`, timed again alone: bodies the fast path sanitised, and its time.
    pub fast_bodies: usize,
    pub sanitize_fast: Duration,
    /// Bodies the fast path refused, and ammonia's time on them.
    pub ammonia_bodies: usize,
    pub sanitize_ammonia: Duration,
    /// Content hashes of the posts' text.
    pub hash: Duration,
    /// Bare `feed_rs::parser::parse` on the original bytes: the baseline.
    pub bare_feed_rs: Duration,
}

/// Times every stage over `feeds` (body, address), `rounds` times.
pub fn measure(feeds: &[(&[u8], &Url)], rounds: u32) -> StageTimes {
    let now = Utc::now();
    let mut t = StageTimes {
        rounds,
        ..StageTimes::default()
    };
    let time = |slot: &mut Duration, s: Instant| *slot += s.elapsed();
    for round in 0..rounds {
        for &(body, url) in feeds {
            let s = Instant::now();
            let text = charset::decode_borrowed(body, None);
            time(&mut t.decode, s);
            let raw = if text.trim_start().starts_with('{') {
                let s = Instant::now();
                let raw = json_feed::read(&text);
                time(&mut t.json, s);
                match raw {
                    Ok(raw) => raw,
                    Err(_) => continue,
                }
            } else {
                let s = Instant::now();
                let (repaired, hints) = xml_repair::repair(&text);
                time(&mut t.repair, s);
                let s = Instant::now();
                let feed = feed_rs::parser::Builder::new()
                    .id_generator(|_, _, _| String::new())
                    .sanitize_content(false)
                    .build()
                    .parse(repaired.as_bytes());
                time(&mut t.feed_rs, s);
                let Ok(feed) = feed else { continue };
                let s = Instant::now();
                let raw = RawFeed::from_feed_rs(feed, hints);
                time(&mut t.from_feed_rs, s);
                raw
            };
            let bodies: Vec<String> = raw.items.iter().filter_map(|i| i.body.clone()).collect();
            let s = Instant::now();
            drop(raw.into_parsed(url, now));
            time(&mut t.into_posts, s);

            let sanitizer = crate::sanitize::Sanitizer::new(Some(url));
            for b in &bodies {
                let s = Instant::now();
                let text = match sanitizer.clean_fast(b) {
                    Some((_, text)) => {
                        time(&mut t.sanitize_fast, s);
                        t.fast_bodies += usize::from(round == 0);
                        text
                    }
                    None => {
                        let s = Instant::now();
                        let (_, text) = sanitizer.clean_with_text(b);
                        time(&mut t.sanitize_ammonia, s);
                        t.ammonia_bodies += usize::from(round == 0);
                        text
                    }
                };
                let s = Instant::now();
                std::hint::black_box(kith_model::content_hash("title", &text));
                time(&mut t.hash, s);
            }
        }
        for &(body, _) in feeds {
            let s = Instant::now();
            std::hint::black_box(feed_rs::parser::parse(body).ok());
            time(&mut t.bare_feed_rs, s);
        }
    }
    t
}

impl fmt::Display for StageTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.bare_feed_rs.as_secs_f64().max(f64::MIN_POSITIVE);
        let line = |f: &mut fmt::Formatter<'_>, name: &str, d: Duration| {
            writeln!(
                f,
                "  {name:<34} {:>9.2} ms per round  {:>5.2}x bare feed-rs",
                d.as_secs_f64() * 1000.0 / f64::from(self.rounds.max(1)),
                d.as_secs_f64() / base
            )
        };
        line(f, "bare feed-rs (baseline)", self.bare_feed_rs)?;
        line(f, "decode to UTF-8", self.decode)?;
        line(f, "XML repair", self.repair)?;
        line(f, "feed-rs on the repaired XML", self.feed_rs)?;
        line(f, "JSON Feed reader", self.json)?;
        line(f, "feed-rs model to ours", self.from_feed_rs)?;
        line(f, "items to posts, of which (alone):", self.into_posts)?;
        line(
            f,
            &format!("  sanitise, fast path ({} bodies)", self.fast_bodies),
            self.sanitize_fast,
        )?;
        line(
            f,
            &format!("  sanitise, ammonia ({} bodies)", self.ammonia_bodies),
            self.sanitize_ammonia,
        )?;
        line(f, "  content hash", self.hash)
    }
}
