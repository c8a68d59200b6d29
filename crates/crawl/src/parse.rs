//! Bytes from the network to [`ParsedFeed`]: charset, feed-rs, sanitising, plain text,
//! language, dates.
//!
//! One bad byte must not lose the whole feed: the body is decoded to UTF-8 lossily first
//! (BOM, then the HTTP charset, then the XML declaration), so feed-rs only ever sees valid
//! UTF-8.

use crate::sanitize::{Sanitizer, html_to_text};
use chrono::{DateTime, Utc};
use encoding_rs::Encoding;
use kith_model::{NewPost, content_hash};
use std::borrow::Cow;
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

/// Most characters of text used to guess a post's language; more adds time, not accuracy.
const LANGUAGE_SAMPLE: usize = 2_000;
/// Titles made from text are cut at this many characters.
const DERIVED_TITLE_CHARS: usize = 80;

/// Whether a body looks like a feed (RSS, Atom, RDF or JSON Feed) rather than a web page.
pub fn looks_like_feed(body: &[u8]) -> bool {
    let head = &body[..body.len().min(2048)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        return t.contains("jsonfeed.org/version");
    }
    let lower = t.to_ascii_lowercase();
    lower.starts_with('<')
        && (lower.contains("<rss") || lower.contains("<feed") || lower.contains("<rdf:rdf"))
        && !lower.contains("<html")
}

/// Decodes a feed body to UTF-8 text.
///
/// A byte-order mark wins, then the charset of the HTTP `Content-Type`, then the XML
/// declaration; UTF-8 otherwise. Undecodable bytes become U+FFFD instead of failing.
pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        return enc
            .decode_without_bom_handling(&body[bom_len..])
            .0
            .into_owned();
    }
    let from_header = content_type
        .and_then(|ct| {
            ct.split(';')
                .skip(1)
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        })
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let enc = from_header
        .or_else(|| xml_declared_encoding(body).and_then(|l| Encoding::for_label(l.as_bytes())))
        .unwrap_or(encoding_rs::UTF_8);
    // UTF-16 declared in a document that is not UTF-16 on the wire is a lie we can see.
    let enc = if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        encoding_rs::UTF_8
    } else {
        enc
    };
    let (text, _) = enc.decode_without_bom_handling(body);
    text.into_owned()
}

/// The `encoding="..."` of an XML declaration at the start of the body.
fn xml_declared_encoding(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(512)];
    let head = std::str::from_utf8(head).ok().or_else(|| {
        // Non-ASCII bytes later in the window: the declaration itself is ASCII.
        let end = head.iter().position(|&b| b == b'>')?;
        std::str::from_utf8(&head[..=end]).ok()
    })?;
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

/// The XML declaration rewritten to say UTF-8, since that is what we hand the parser.
fn declare_utf8(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<?xml")
        && let Some(end) = rest.find("?>")
    {
        return Cow::Owned(format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>{}",
            &rest[end + 2..]
        ));
    }
    Cow::Borrowed(text)
}

/// Parses a feed body fetched from `feed_url`. `now` is the first-seen time given to
/// entries without a date, and the ceiling for dates in the future.
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    feed_url: &Url,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, ParseError> {
    let text = decode(body, content_type);
    let text = declare_utf8(&text);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url.as_str()))
        // Our own fallback ids (link, then content hash) are stable across polls; the
        // default generator can fall back to random UUIDs, which would duplicate posts.
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build();
    let feed = parser.parse(text.as_bytes()).map_err(|e| ParseError {
        reason: describe_parse_error(&e),
    })?;
    let sanitizer = Sanitizer::new(Some(feed_url));
    let feed_author = feed
        .authors
        .iter()
        .find_map(|p| nonempty(p.name.as_deref()));
    let entries = feed
        .entries
        .into_iter()
        .map(|e| entry_to_post(e, feed_url, feed_author.as_deref(), &sanitizer, now))
        .collect();
    Ok(ParsedFeed {
        title: feed.title.map(|t| text_of(&t)).filter(|t| !t.is_empty()),
        description: feed
            .description
            .map(|t| text_of(&t))
            .filter(|t| !t.is_empty()),
        site_url: pick_link(&feed.links, feed_url).map(|u| u.to_string()),
        ttl_minutes: feed.ttl,
        entries,
    })
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

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The text of a feed `Text`: HTML titles (Atom `type="html"`) lose their markup.
fn text_of(t: &feed_rs::model::Text) -> String {
    if t.content_type.subty() == "html" || t.content.contains('<') {
        html_to_text(&t.content)
    } else {
        t.content.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The best "this is the page" link: `alternate` or no rel, resolved, http(s) only.
fn pick_link(links: &[feed_rs::model::Link], base: &Url) -> Option<Url> {
    let rank = |l: &feed_rs::model::Link| match l.rel.as_deref() {
        None | Some("alternate") => 0,
        Some("self" | "hub" | "enclosure" | "replies" | "edit") => 9,
        Some(_) => 5,
    };
    let mut candidates: Vec<_> = links.iter().filter(|l| rank(l) < 9).collect();
    candidates.sort_by_key(|l| rank(l));
    candidates.into_iter().find_map(|l| {
        base.join(l.href.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    })
}

fn entry_to_post(
    e: feed_rs::model::Entry,
    feed_url: &Url,
    feed_author: Option<&str>,
    feed_sanitizer: &Sanitizer,
    now: DateTime<Utc>,
) -> NewPost {
    let url = pick_link(&e.links, feed_url);
    let raw_html = e
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .filter(|b| !b.trim().is_empty())
        .or_else(|| {
            e.summary.as_ref().map(|s| {
                if s.content_type.subty() == "plain" {
                    escape_text(&s.content)
                } else {
                    s.content.clone()
                }
            })
        })
        .unwrap_or_default();
    // xml:base on the entry changes what relative links mean inside it.
    let entry_base = e.base.as_deref().and_then(|b| feed_url.join(b).ok());
    let content_html = match &entry_base {
        Some(base) if base != feed_url => Sanitizer::new(Some(base)).clean(&raw_html),
        _ => feed_sanitizer.clean(&raw_html),
    };
    let text = html_to_text(&content_html);
    let mut title = e.title.as_ref().map(text_of).unwrap_or_default();
    if title.is_empty() {
        title = derived_title(&text);
    }
    let hash = content_hash(&title, &text);
    let guid = Some(e.id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .or_else(|| url.as_ref().map(|u| u.to_string()))
        .unwrap_or_else(|| format!("sha256:{hash}"));
    let clamp = |t: DateTime<Utc>| t.min(now);
    let published = e.published.or(e.updated).map(clamp).unwrap_or(now);
    let updated = e.updated.map(clamp).filter(|u| *u != published);
    let author = e
        .authors
        .iter()
        .find_map(|p| nonempty(p.name.as_deref()))
        .or_else(|| feed_author.map(str::to_owned));
    let mut categories: Vec<String> = Vec::new();
    for c in &e.categories {
        let name = nonempty(Some(&c.term)).or_else(|| nonempty(c.label.as_deref()));
        if let Some(name) = name
            && !categories.iter().any(|x| x.eq_ignore_ascii_case(&name))
        {
            categories.push(name);
        }
    }
    NewPost {
        guid,
        url: url.map(|u| u.to_string()),
        language: detect_language(&title, &text),
        title,
        author,
        published,
        updated,
        content_html,
        text,
        content_hash: hash,
        categories,
    }
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn derived_title(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("").trim();
    if first_line.is_empty() {
        return "(untitled)".into();
    }
    if first_line.chars().count() <= DERIVED_TITLE_CHARS {
        return first_line.to_owned();
    }
    let cut: String = first_line.chars().take(DERIVED_TITLE_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// ISO 639-3 code of the post's language, when the text says so with confidence.
pub fn detect_language(title: &str, text: &str) -> Option<String> {
    let mut sample = String::with_capacity(LANGUAGE_SAMPLE + title.len() + 1);
    sample.push_str(title);
    sample.push('\n');
    sample.extend(text.chars().take(LANGUAGE_SAMPLE));
    let info = whatlang::detect(&sample)?;
    (info.is_reliable() || info.confidence() > 0.5).then(|| info.lang().code().to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example/feed.xml").unwrap()
    }

    #[test]
    fn rss_entries_become_posts() {
        let xml = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>My &amp; blog</title>
            <link>https://blog.example/</link><ttl>60</ttl>
            <item><title>First</title><link>/first</link><guid isPermaLink="false">g1</guid>
              <pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate><category>Rust</category><category>rust</category>
              <description>&lt;p&gt;Hello &lt;a href="/x"&gt;world&lt;/a&gt;&lt;script&gt;bad()&lt;/script&gt;&lt;/p&gt;</description></item>
            <item><title>No date, no guid</title><link>https://blog.example/second</link></item>
            <item><description>Only a body, no title or link</description></item>
            </channel></rss>"#;
        let now = Utc::now();
        let f = parse_feed(xml.as_bytes(), Some("application/rss+xml"), &base(), now).unwrap();
        assert_eq!(f.title.as_deref(), Some("My & blog"));
        assert_eq!(f.site_url.as_deref(), Some("https://blog.example/"));
        assert_eq!(f.ttl_minutes, Some(60));
        assert_eq!(f.entries.len(), 3);
        let a = &f.entries[0];
        assert_eq!(a.guid, "g1");
        assert_eq!(a.url.as_deref(), Some("https://blog.example/first"));
        assert_eq!(a.categories, vec!["Rust"]);
        assert_eq!(a.published.to_rfc3339(), "2025-06-10T04:00:00+00:00");
        assert!(
            a.content_html.contains("https://blog.example/x"),
            "{}",
            a.content_html
        );
        assert!(!a.content_html.contains("bad()"));
        assert_eq!(a.text, "Hello world");
        let b = &f.entries[1];
        assert_eq!(
            b.guid, "https://blog.example/second",
            "link stands in for a missing guid"
        );
        assert_eq!(b.published, now, "no date: first seen");
        let c = &f.entries[2];
        assert!(c.guid.starts_with("sha256:"), "{}", c.guid);
        assert_eq!(c.title, "Only a body, no title or link");
    }

    #[test]
    fn future_dates_are_clamped() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
            <entry><id>e</id><title>x</title><updated>2999-01-01T00:00:00Z</updated></entry></feed>"#;
        let now = Utc::now();
        let f = parse_feed(xml.as_bytes(), None, &base(), now).unwrap();
        assert_eq!(f.entries[0].published, now);
    }

    #[test]
    fn latin1_feed_with_a_bad_byte_still_parses() {
        let mut xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title><item><title>na\xefve \xff</title><guid>1</guid></item></channel></rss>".to_vec();
        let f = parse_feed(&xml, None, &base(), Utc::now()).unwrap();
        assert_eq!(f.title.as_deref(), Some("Café"));
        assert!(f.entries[0].title.starts_with("naïve"));
        // Declared UTF-8 but with a stray Latin-1 byte: lossy, not lost.
        xml = b"<rss version=\"2.0\"><channel><title>Caf\xe9</title><item><title>ok</title><guid>1</guid></item></channel></rss>".to_vec();
        let f = parse_feed(&xml, Some("text/xml; charset=utf-8"), &base(), Utc::now()).unwrap();
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.title.as_deref(), Some("Caf\u{fffd}"));
    }

    #[test]
    fn json_feed_and_language() {
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
            {"id":"1","url":"https://blog.example/1","title":"Un article","tags":["Cuisine"],
             "content_html":"<p>Ceci est un article écrit en français sur la cuisine et le pain au levain que je fais chaque semaine à la maison.</p>"}]}"#;
        let f = parse_feed(
            json.as_bytes(),
            Some("application/feed+json"),
            &base(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.entries[0].categories, vec!["Cuisine"]);
        assert_eq!(f.entries[0].language.as_deref(), Some("fra"));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err =
            parse_feed(b"<html><body>hi</body></html>", None, &base(), Utc::now()).unwrap_err();
        assert!(err.to_string().contains("not a readable feed"), "{err}");
        let err = parse_feed(b"{\"nope\":1}", None, &base(), Utc::now()).unwrap_err();
        assert!(!err.reason.is_empty());
    }

    #[test]
    fn sniffing_tells_feeds_from_pages() {
        assert!(looks_like_feed(
            b"\xef\xbb\xbf<?xml version='1.0'?>\n<rss version='2.0'>"
        ));
        assert!(looks_like_feed(
            b"<feed xmlns='http://www.w3.org/2005/Atom'>"
        ));
        assert!(looks_like_feed(
            br#"{"version": "https://jsonfeed.org/version/1.1"}"#
        ));
        assert!(!looks_like_feed(
            b"<!doctype html><html><head><link rel=alternate href=/feed>"
        ));
        assert!(!looks_like_feed(b"{\"a\": 1}"));
    }
}
