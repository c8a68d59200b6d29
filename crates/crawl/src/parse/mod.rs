//! Bytes from the network to [`ParsedFeed`]: charset, feed-rs, sanitising, plain text,
//! language, dates.
//!
//! One bad byte must not lose the whole feed:
//! - the body is decoded to UTF-8 lossily first (BOM, then the zero bytes of UTF-16 and
//!   UTF-32, then the HTTP charset, then the XML declaration; a label the bytes contradict
//!   is overruled), so feed-rs only ever sees valid UTF-8 (and the repair pass rewrites the
//!   XML declaration to say so, so that quick-xml never decodes the text a second time);
//! - XML is then repaired (`xml_repair`) before feed-rs reads it: mismatched and stray end
//!   tags, bare `&` and `<`, HTML entities, markup inside titles, Atom 0.3, unknown RSS
//!   versions and Atom text types that feed-rs would otherwise reject whole;
//! - JSON Feed is read by a lenient reader of our own (`json_feed`): feed-rs refuses a
//!   whole feed for one field of an unexpected type.
//!
//! Both paths meet in `RawFeed`, which becomes posts the same way whatever the format.
//!
//! # Layout
//! - `charset`: bytes to UTF-8 ([`decode`]).
//! - `xml_repair`: the repair pass over RSS, RDF and Atom before feed-rs reads them.
//! - `json_feed`: the lenient JSON Feed reader.
//! - `entry`: `RawFeed` and how its items become [`NewPost`]s (links, sanitising, ids).
//! - `text`: plain text from feed text and HTML titles.
//! - `dates`: dates feed-rs does not parse for us.
//! - `language`: [`detect_language`].
//! - [`stages`]: time spent in each of these, for the parse bench.

mod charset;
mod dates;
mod entry;
mod json_feed;
mod language;
pub mod stages;
mod text;
mod xml_repair;

#[cfg(test)]
mod tests;

pub use charset::decode;

/// The XML repair pass alone (for [`crate::fuzzing`]).
pub(crate) fn repair_xml(text: &str) -> String {
    xml_repair::repair(text).0
}

/// Whether the JSON Feed reader reads `text` (for [`crate::fuzzing`]).
pub(crate) fn reads_json_feed(text: &str) -> bool {
    json_feed::read(text).is_ok()
}
pub use language::detect_language;

use chrono::{DateTime, Utc};
use entry::RawFeed;
use kith_model::NewPost;
use url::Url;

/// A feed, read and cleaned, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub description: Option<String>,
    /// The site the feed belongs to (its `alternate` link).
    pub site_url: Option<String>,
    /// RSS `<ttl>`, in minutes: the publisher's hint for how often to poll.
    pub ttl_minutes: Option<u32>,
    pub entries: Vec<NewPost>,
}

/// Why a body is not a feed we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable feed: {reason}")]
pub struct ParseError {
    pub reason: String,
}

/// Whether a body looks like a feed (RSS, Atom, RDF or JSON Feed) rather than a web page.
pub fn looks_like_feed(body: &[u8]) -> bool {
    // UTF-16 and UTF-32 too: the head is decoded the way the whole body would be.
    let head = &body[..body.len().min(2048)];
    let text = charset::decode_borrowed(head, None);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        return t.contains("jsonfeed.org/version");
    }
    let lower = t.to_ascii_lowercase();
    lower.starts_with('<')
        && (lower.contains("<rss") || lower.contains("<feed") || lower.contains("<rdf:rdf"))
        && !lower.contains("<html")
}

/// Parses a feed body fetched from `feed_url`. `now` is the first-seen time given to
/// entries without a date, and the ceiling for dates in the future. Every entry's
/// language is detected.
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    feed_url: &Url,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, ParseError> {
    let mut feed = parse_feed_without_language(body, content_type, feed_url, now)?;
    detect_languages(&mut feed.entries, |_| true);
    Ok(feed)
}

/// Fills in the language of the entries `wanted` selects. Language detection costs about
/// as much as the rest of parsing put together, so the crawler asks for it only for
/// entries the store does not already have unchanged.
pub fn detect_languages(entries: &mut [NewPost], wanted: impl Fn(&NewPost) -> bool) {
    for e in entries.iter_mut().filter(|e| wanted(e)) {
        e.language = detect_language(&e.title, &e.text);
    }
}

/// [`parse_feed`] without language detection (every `language` is `None`); see
/// [`detect_languages`].
pub fn parse_feed_without_language(
    body: &[u8],
    content_type: Option<&str>,
    feed_url: &Url,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, ParseError> {
    let text = charset::decode_borrowed(body, content_type);
    let raw = if text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
    {
        json_feed::read(&text)?
    } else {
        read_xml(&text, feed_url)?
    };
    Ok(raw.into_parsed(feed_url, now))
}

/// RSS, RDF or Atom: repaired, then read by feed-rs.
fn read_xml(text: &str, feed_url: &Url) -> Result<RawFeed, ParseError> {
    let (repaired, hints) = xml_repair::repair(text);
    // feed-rs resolves links against the document's URL only to let `xml:base` build on
    // it; we resolve every link we keep ourselves (`entry::pick_link`). Without `xml:base`
    // in the document, the base would only cost a URL clone per element.
    let base = repaired.contains("xml:base").then_some(feed_url.as_str());
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base)
        // Our own fallback ids (link, then content hash) are stable across polls; the
        // default generator can fall back to random UUIDs, which would duplicate posts.
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build();
    // feed-rs can panic on odd input (3.0.0 slices an author's name inside a character
    // when a non-ASCII letter stands right before an address: found by the `feed` fuzz
    // target). A panic is this feed's error, never the caller's.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parser.parse(repaired.as_bytes())
    }))
    .map_err(|_| ParseError {
        reason: "the feed reader failed on this feed (a defect in feed-rs, not in the \
                 feed's syntax)"
            .into(),
    })?;
    match parsed {
        Ok(feed) => Ok(RawFeed::from_feed_rs(feed, hints)),
        // `<rss version="2.0"/>` and friends: a feed that has nothing in it yet.
        Err(feed_rs::parser::ParseFeedError::ParseError(
            feed_rs::parser::ParseErrorKind::NoFeedRoot,
        )) if hints.root != xml_repair::Root::Other => Ok(RawFeed::default()),
        Err(e) => Err(ParseError {
            reason: describe_parse_error(&e),
        }),
    }
}

fn describe_parse_error(e: &feed_rs::parser::ParseFeedError) -> String {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            "no RSS, Atom or JSON Feed root element".into()
        }
        ParseFeedError::JsonSerde(e) => format!("malformed JSON: {e}"),
        ParseFeedError::JsonUnsupportedVersion(v) => format!("unsupported JSON Feed version {v}"),
        ParseFeedError::XmlReader(e) => format!("malformed XML: {e}"),
        other => other.to_string(),
    }
}
