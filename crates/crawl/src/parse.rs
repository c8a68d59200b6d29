//! Bytes from the network to [`ParsedFeed`]: charset, feed-rs, sanitising, plain text,
//! language, dates.
//!
//! One bad byte must not lose the whole feed:
//! - the body is decoded to UTF-8 lossily first (BOM, then the HTTP charset, then the XML
//!   declaration; a label the bytes contradict is overruled), so feed-rs only ever sees
//!   valid UTF-8;
//! - XML is then repaired (`xml_repair`) before feed-rs reads it: mismatched and stray end
//!   tags, bare `&` and `<`, HTML entities, markup inside titles, Atom 0.3, unknown RSS
//!   versions and Atom text types that feed-rs would otherwise reject whole;
//! - JSON Feed is read by a lenient reader of our own (`json_feed`): feed-rs refuses a
//!   whole feed for one field of an unexpected type.
//!
//! Both paths meet in `RawFeed`, which becomes posts the same way whatever the format.

use crate::sanitize::{Sanitizer, html_to_text, text_of_clean};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use encoding_rs::Encoding;
use kith_model::{NewPost, content_hash};
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
/// Fewer letters than this (title and text together) say nothing reliable about the
/// language (whatlang is never confident below about 30), and asking costs as much as
/// parsing a small feed.
const LANGUAGE_MIN_LETTERS: usize = 20;
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
/// declaration; UTF-8 otherwise. Two labels are overruled by the bytes, as feedparser and
/// browsers do: a legacy label on a body that is valid UTF-8 with non-ASCII text (a server
/// or template default nobody changed), and UTF-8 (said or assumed) on a body without a
/// single valid multi-byte sequence, which is Windows-1252 that never said so. Otherwise
/// undecodable bytes become U+FFFD instead of failing.
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
                .map(|(_, v)| v.trim().trim_matches(['"', '\'']).to_owned())
        })
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let declared = from_header
        .or_else(|| xml_declared_encoding(body).and_then(|l| Encoding::for_label(l.as_bytes())));
    // UTF-16 declared in a document that is not UTF-16 on the wire is a lie we can see.
    let declared = declared.map(|enc| {
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            encoding_rs::UTF_8
        } else {
            enc
        }
    });
    match declared {
        Some(enc) if enc != encoding_rs::UTF_8 => match std::str::from_utf8(body) {
            Ok(utf8) if !utf8.is_ascii() => utf8.to_owned(),
            _ => enc.decode_without_bom_handling(body).0.into_owned(),
        },
        _ => match std::str::from_utf8(body) {
            Ok(utf8) => utf8.to_owned(),
            Err(_) if mostly_not_utf8(body) => encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(body)
                .0
                .into_owned(),
            Err(_) => String::from_utf8_lossy(body).into_owned(),
        },
    }
}

/// Whether invalid UTF-8 sequences outnumber valid multi-byte ones: Latin-1 text, where a
/// few letter pairs happen to form UTF-8 (`é` + no-break space + `»` does), rather than
/// UTF-8 with a stray byte.
fn mostly_not_utf8(body: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    for chunk in body.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    invalid > valid
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
    let text = decode(body, content_type);
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
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url.as_str()))
        // Our own fallback ids (link, then content hash) are stable across polls; the
        // default generator can fall back to random UUIDs, which would duplicate posts.
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build();
    match parser.parse(repaired.as_bytes()) {
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

/// A feed as read from any format, before sanitising: what the formats have in common.
#[derive(Debug, Default)]
struct RawFeed {
    /// Plain text.
    title: Option<String>,
    /// Plain text.
    description: Option<String>,
    links: Vec<RawLink>,
    ttl: Option<u32>,
    author: Option<String>,
    items: Vec<RawItem>,
}

#[derive(Debug, Default)]
struct RawItem {
    id: String,
    /// Whether `id` may stand in for a missing link (RSS `isPermaLink="false"` says not).
    id_is_permalink: bool,
    /// Plain text.
    title: Option<String>,
    links: Vec<RawLink>,
    /// HTML.
    body: Option<String>,
    /// `xml:base` in effect for the item's content.
    base: Option<String>,
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    authors: Vec<String>,
    categories: Vec<String>,
}

#[derive(Debug)]
struct RawLink {
    href: String,
    rel: Option<String>,
    /// A link to the comments (RSS `<comments>`, `wfw:commentRss`), not to the post.
    comments: bool,
}

impl RawFeed {
    fn from_feed_rs(feed: feed_rs::model::Feed, hints: xml_repair::Hints) -> RawFeed {
        let link = |l: feed_rs::model::Link| RawLink {
            href: l.href,
            rel: l.rel,
            comments: l.target.is_some(),
        };
        // The hints were counted the way feed-rs counts entries; if that ever differs, a
        // hint would land on the wrong post, so none are used.
        let entry_hints = if hints.entries.len() == feed.entries.len() {
            hints.entries
        } else {
            tracing::debug!(
                hints = hints.entries.len(),
                entries = feed.entries.len(),
                "entry hints do not line up; ignored"
            );
            Vec::new()
        };
        let mut entry_hints = entry_hints.into_iter();
        let items = feed
            .entries
            .into_iter()
            .map(|e| {
                let hint = entry_hints.next().unwrap_or_default();
                let body = e
                    .content
                    .and_then(|c| {
                        let plain = c.content_type.subty() == "plain";
                        c.body.map(|b| if plain { escape_text(&b) } else { b })
                    })
                    .filter(|b| !b.trim().is_empty())
                    .or_else(|| {
                        e.summary.map(|s| {
                            if s.content_type.subty() == "plain" {
                                escape_text(&s.content)
                            } else {
                                s.content
                            }
                        })
                    });
                let mut links: Vec<RawLink> = e.links.into_iter().map(link).collect();
                links.extend(hint.links.into_iter().map(|(href, rel)| RawLink {
                    href,
                    rel,
                    comments: false,
                }));
                let own_id = Some(e.id.trim().to_owned()).filter(|id| !id.is_empty());
                // rdf:about names the item; feedparser and miniflux do not take it for the
                // link, and neither do we.
                let id_is_permalink = own_id.is_some() && !hint.guid_not_permalink;
                let id = own_id.or(hint.about).unwrap_or_default();
                RawItem {
                    id,
                    id_is_permalink,
                    title: e
                        .title
                        .as_ref()
                        .map(text_of)
                        .filter(|t| !t.is_empty())
                        .or_else(|| hint.title.map(|t| plain_text(&t))),
                    links,
                    body,
                    base: e.base,
                    published: e
                        .published
                        .or_else(|| hint.published.as_deref().and_then(parse_date)),
                    updated: e
                        .updated
                        .or_else(|| hint.updated.as_deref().and_then(parse_date)),
                    authors: e
                        .authors
                        .iter()
                        .filter_map(|p| nonempty(p.name.as_deref()))
                        .collect(),
                    categories: e
                        .categories
                        .into_iter()
                        .filter_map(|c| {
                            nonempty(Some(&c.term)).or_else(|| nonempty(c.label.as_deref()))
                        })
                        .collect(),
                }
            })
            .collect();
        RawFeed {
            title: feed
                .title
                .as_ref()
                .map(text_of)
                .filter(|t| !t.is_empty())
                .or_else(|| hints.feed_title.map(|t| plain_text(&t))),
            description: feed.description.as_ref().map(text_of),
            links: feed.links.into_iter().map(link).collect(),
            ttl: feed.ttl,
            author: feed
                .authors
                .iter()
                .find_map(|p| nonempty(p.name.as_deref())),
            items,
        }
    }

    fn into_parsed(self, feed_url: &Url, now: DateTime<Utc>) -> ParsedFeed {
        let sanitizer = Sanitizer::new(Some(feed_url));
        let feed_author = self.author;
        let entries = self
            .items
            .into_iter()
            .map(|item| item.into_post(feed_url, feed_author.as_deref(), &sanitizer, now))
            .collect();
        ParsedFeed {
            title: self.title.filter(|t| !t.is_empty()),
            description: self.description.filter(|t| !t.is_empty()),
            site_url: pick_link(&self.links, feed_url).map(|u| u.to_string()),
            ttl_minutes: self.ttl,
            entries,
        }
    }
}

impl RawItem {
    fn into_post(
        self,
        feed_url: &Url,
        feed_author: Option<&str>,
        feed_sanitizer: &Sanitizer,
        now: DateTime<Utc>,
    ) -> NewPost {
        let id = self.id.trim();
        // An id that is a web address is the post's address when nothing else says so
        // (RSS `<guid>` is a permalink unless it says otherwise; Atom ids often are).
        let url = pick_link(&self.links, feed_url).or_else(|| {
            Url::parse(id)
                .ok()
                .filter(|u| self.id_is_permalink && matches!(u.scheme(), "http" | "https"))
        });
        let raw_html = self.body.unwrap_or_default();
        // xml:base on the entry changes what relative links mean inside it.
        let entry_base = self.base.as_deref().and_then(|b| feed_url.join(b).ok());
        let content_html = match &entry_base {
            Some(base) if base != feed_url => Sanitizer::new(Some(base)).clean(&raw_html),
            _ => feed_sanitizer.clean(&raw_html),
        };
        let text = text_of_clean(&content_html);
        let mut title = self.title.unwrap_or_default();
        if title.is_empty() {
            title = derived_title(&text);
        }
        let hash = content_hash(&title, &text);
        let guid = Some(id.to_owned())
            .filter(|id| !id.is_empty())
            .or_else(|| url.as_ref().map(|u| u.to_string()))
            .unwrap_or_else(|| format!("sha256:{hash}"));
        let clamp = |t: DateTime<Utc>| t.min(now);
        let published = self.published.or(self.updated).map(clamp).unwrap_or(now);
        let updated = self.updated.map(clamp).filter(|u| *u != published);
        let author = self
            .authors
            .into_iter()
            .next()
            .or_else(|| feed_author.map(str::to_owned));
        let mut categories: Vec<String> = Vec::new();
        for name in self.categories {
            if !categories.iter().any(|x| x.eq_ignore_ascii_case(&name)) {
                categories.push(name);
            }
        }
        NewPost {
            guid,
            url: url.map(|u| u.to_string()),
            language: None,
            title,
            author,
            published,
            updated,
            content_html,
            text,
            content_hash: hash,
            categories,
            // The crawler decides what is history on a first crawl (`mark_backfill`).
            backfill: false,
            tags: Vec::new(),
        }
    }
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The text of a feed `Text`: HTML titles (Atom `type="html"` or `"xhtml"`) lose their
/// markup.
fn text_of(t: &feed_rs::model::Text) -> String {
    if matches!(t.content_type.subty().as_str(), "html" | "xhtml") {
        html_to_text(&t.content)
    } else {
        plain_text(&t.content)
    }
}

/// Text that should be plain, as feeds write it: white space collapsed; HTML markup (which
/// RSS titles carry without saying so) reduced to its text; entities left over from double
/// escaping (`&amp;#39;`) decoded. Angle brackets that are not HTML (`</example>`, `a < b`)
/// stay text.
fn plain_text(s: &str) -> String {
    if looks_like_html(s) {
        html_to_text(s)
    } else if s.contains('&') {
        html_to_text(&s.replace('<', "&lt;"))
    } else {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Whether text holds HTML tags: at least one, and every one an HTML element (feedparser's
/// test, roughly).
fn looks_like_html(s: &str) -> bool {
    const ELEMENTS: &[&str] = &[
        "a",
        "abbr",
        "acronym",
        "address",
        "article",
        "aside",
        "b",
        "bdi",
        "bdo",
        "big",
        "blockquote",
        "br",
        "caption",
        "center",
        "cite",
        "code",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dd",
        "dt",
        "em",
        "figcaption",
        "figure",
        "font",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "nav",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "section",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "wbr",
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "form",
    ];
    let mut any = false;
    for (at, _) in s.match_indices('<') {
        let rest = s[at + 1..].strip_prefix('/').unwrap_or(&s[at + 1..]);
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue; // `a < b`, `<3`
        }
        if !rest[name_len..].starts_with(['>', '/', ' ', '\t', '\n', '\r']) {
            continue;
        }
        if !ELEMENTS.contains(&name.to_ascii_lowercase().as_str()) {
            return false;
        }
        any = true;
    }
    any
}

/// The best "this is the page" link: `alternate` or no rel, resolved, http(s) only.
fn pick_link(links: &[RawLink], base: &Url) -> Option<Url> {
    let rank = |l: &RawLink| match l.rel.as_deref() {
        _ if l.comments => 9,
        None | Some("alternate") => 0,
        Some("self" | "hub" | "enclosure" | "replies" | "edit" | "payment" | "license") => 9,
        Some(_) => 5,
    };
    let mut candidates: Vec<_> = links
        .iter()
        .filter(|l| rank(l) < 9 && !l.href.trim().is_empty())
        .collect();
    candidates.sort_by_key(|l| rank(l));
    candidates.into_iter().find_map(|l| {
        base.join(l.href.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    })
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
    let letters = title
        .chars()
        .chain(text.chars().take(LANGUAGE_SAMPLE))
        .filter(|c| c.is_alphabetic())
        .take(LANGUAGE_MIN_LETTERS)
        .count();
    if letters < LANGUAGE_MIN_LETTERS {
        return None;
    }
    let mut sample = String::with_capacity(LANGUAGE_SAMPLE + title.len() + 1);
    sample.push_str(title);
    sample.push('\n');
    sample.extend(text.chars().take(LANGUAGE_SAMPLE));
    let info = whatlang::detect(&sample)?;
    (info.is_reliable() || info.confidence() > 0.5).then(|| info.lang().code().to_owned())
}

/// A date the way JSON Feed (RFC 3339) and Atom write it; RFC 2822, and a date or time
/// without a zone (taken as UTC), as people write.
fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Standard base64 (RFC 4648), white space ignored; `None` when it is not base64.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut padding = 0usize;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b if b.is_ascii_whitespace() => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    (bits < 6 && padding <= 2).then_some(out)
}

/// Repairs an XML feed so that feed-rs reads what a lenient reader (feedparser, a browser)
/// would, and notes what feed-rs does not keep.
///
/// One pass over the text, copying it to the output with these repairs:
/// - an end tag that closes an element deeper in the stack closes the ones above it; an end
///   tag that closes nothing is dropped; elements still open at the end are closed;
/// - bare `&` and `<` in text become `&amp;` and `&lt;`; HTML named entities (`&eacute;`)
///   and entities declared in the DOCTYPE become their characters; invalid character
///   references and control characters are dropped; text outside the root is dropped;
/// - markup inside elements that hold text (RSS `title` and `description`, Atom text
///   constructs that are not XHTML) becomes escaped text, as if it had been escaped: feed-rs
///   would otherwise keep only the text before the first child;
/// - Atom 0.3 becomes Atom 1.0 (namespace, renamed elements, `mode="escaped|base64|xml"`);
///   Atom text types feed-rs rejects (`text/plain`, `application/octet-stream`, ...) become
///   `text`, `html` or `xhtml`, base64 decoded when that is what they are;
/// - RSS 0.90 (Netscape namespaces) becomes RSS 1.0; an RSS version feed-rs does not know
///   (none, 0.93, 0.94, 2.01, ...) becomes 2.0; an RSS 1.0 item without a link (feed-rs drops
///   those) gets a placeholder that [`pick_link`] ignores.
///
/// [`Hints`] carries what feed-rs does not read: RSS 1.0 `rdf:about` (the item's id), RSS
/// `isPermaLink="false"`, `dc:title` and `media:title` for entries without a title, and
/// `atom:link` inside RSS items.
mod xml_repair {
    use super::decode_base64;
    use std::borrow::Cow;
    use std::collections::HashMap;

    const ATOM10: &str = "http://www.w3.org/2005/Atom";
    const ATOM03: &str = "http://purl.org/atom/ns#";
    const RSS10: &str = "http://purl.org/rss/1.0/";
    const RSS090: [&str; 2] = [
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://channel.netscape.com/rdf/simple/0.9/",
    ];
    const DC: &str = "http://purl.org/dc/elements/1.1/";
    const CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
    const MEDIA: &str = "http://search.yahoo.com/mrss/";
    /// The link given to RSS 1.0 items that have none, so that feed-rs keeps them; not
    /// http(s), so it is never taken for the post's address.
    const NO_LINK: &str = "urn:kith:no-link";
    /// Bounds that keep the pass linear on hostile input: deeper elements are dropped (their
    /// text kept), further attributes and namespace declarations ignored, entity expansion
    /// stopped (a billion laughs needs no recursion: one long entity used often will do),
    /// and HTML entity names beyond the first few hundred left as they are.
    const MAX_DEPTH: usize = 256;
    const MAX_ATTRIBUTES: usize = 64;
    const MAX_NAMESPACES: usize = 256;
    const MAX_EXPANSION: usize = 1 << 20;
    const MAX_HTML_ENTITY_NAMES: usize = 256;
    /// HTML elements without content: inside inline XHTML, `<br>` closes itself.
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub(super) enum Root {
        #[default]
        Other,
        Rss,
        Rdf,
        Atom,
    }

    #[derive(Debug, Default)]
    pub(super) struct Hints {
        pub root: Root,
        /// Channel `dc:title`, for a feed without a title.
        pub feed_title: Option<String>,
        /// One per entry, in the order feed-rs reads them.
        pub entries: Vec<EntryHints>,
    }

    #[derive(Debug, Default)]
    pub(super) struct EntryHints {
        /// RSS 1.0 `rdf:about`: the item's id.
        pub about: Option<String>,
        pub guid_not_permalink: bool,
        /// `dc:title` or `media:title`, for an entry without a title.
        pub title: Option<String>,
        /// `atom:link` inside an RSS item: (href, rel).
        pub links: Vec<(String, Option<String>)>,
        /// `atom:published` and `atom:updated` inside an RSS item, as written.
        pub published: Option<String>,
        pub updated: Option<String>,
    }

    pub(super) fn repair(src: &str) -> (String, Hints) {
        let mut r = Repairer {
            src,
            out: String::with_capacity(src.len() + src.len() / 8),
            hints: Hints::default(),
            stack: Vec::new(),
            ns: Vec::new(),
            entities: Entities::default(),
            entry: None,
            channels: 0,
            rooted: false,
        };
        r.run();
        (r.out, r.hints)
    }

    /// What becomes of an element's text when it closes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Capture {
        None,
        /// A title for the open entry.
        EntryTitle,
        /// A title for the feed.
        FeedTitle,
        /// An RSS 1.0 item's link: does it have one?
        RdfLink,
        /// `atom:published` (or `atom:updated`, when false) inside an RSS item.
        EntryDate {
            published: bool,
        },
        /// Base64 text, written decoded.
        Base64,
    }

    struct Frame<'a> {
        /// As written in the source (end tags are matched against it).
        name: &'a str,
        /// As written to the output (Atom 0.3 names become Atom 1.0 names).
        out_name: Cow<'a, str>,
        local: &'a str,
        /// Length of the namespace stack before this element's declarations.
        ns_len: usize,
        /// Written as escaped text: markup inside a text element.
        escaped: bool,
        /// Children are written as escaped text.
        flatten: bool,
        /// Inline XHTML (Atom `type="xhtml"`): void elements close themselves.
        xhtml: bool,
        channel: bool,
        entry: bool,
        has_link: bool,
        capture: Capture,
        /// Decoded text, when captured.
        text: String,
        /// The repaired source of the text, for base64 that turns out not to be.
        raw: String,
    }

    struct Attr<'a> {
        name: &'a str,
        /// Raw (still escaped); `None` for an attribute without a value.
        value: Option<&'a str>,
        quote: char,
    }

    /// Named entities seen in this document: declared in its DOCTYPE, or HTML's.
    #[derive(Default)]
    struct Entities {
        declared: HashMap<String, String>,
        html: HashMap<String, Option<String>>,
        /// Bytes written for declared entities so far.
        expanded: usize,
    }

    impl Entities {
        /// The text a named entity stands for; `None` when unknown (or over a bound).
        fn resolve(&mut self, name: &str) -> Option<String> {
            if let Some(v) = self.declared.get(name) {
                self.expanded += v.len();
                return (self.expanded <= MAX_EXPANSION).then(|| v.clone());
            }
            if let Some(v) = common_html_entity(name) {
                return Some(v.to_owned());
            }
            if self.html.len() >= MAX_HTML_ENTITY_NAMES && !self.html.contains_key(name) {
                return None;
            }
            self.html
                .entry(name.to_owned())
                .or_insert_with(|| {
                    let reference = format!("&{name};");
                    let fragment = scraper::Html::parse_fragment(&reference);
                    let text: String = fragment.root_element().text().collect();
                    (text != reference && !text.is_empty()).then_some(text)
                })
                .clone()
        }
    }

    /// The HTML entities real feeds use most, without asking html5ever.
    fn common_html_entity(name: &str) -> Option<&'static str> {
        Some(match name {
            "nbsp" => "\u{a0}",
            "hellip" => "…",
            "mdash" => "—",
            "ndash" => "–",
            "lsquo" => "‘",
            "rsquo" => "’",
            "ldquo" => "“",
            "rdquo" => "”",
            "laquo" => "«",
            "raquo" => "»",
            "copy" => "©",
            "reg" => "®",
            "trade" => "™",
            "eacute" => "é",
            "egrave" => "è",
            "agrave" => "à",
            "ccedil" => "ç",
            "uuml" => "ü",
            "ouml" => "ö",
            "auml" => "ä",
            "szlig" => "ß",
            "middot" => "·",
            "bull" => "•",
            "euro" => "€",
            "pound" => "£",
            "deg" => "°",
            _ => return None,
        })
    }

    /// A valid XML character (what quick-xml accepts in a character reference).
    fn xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    }

    fn is_control(c: char) -> bool {
        c < ' ' && !matches!(c, '\t' | '\n' | '\r')
    }

    /// Text (or an attribute value, which may not hold `<`) made well-formed.
    fn repair_text<'s>(raw: &'s str, entities: &mut Entities, attr: bool) -> Cow<'s, str> {
        let needs = |c: char| c == '&' || is_control(c) || (attr && c == '<');
        if !raw.contains(needs) {
            return Cow::Borrowed(raw);
        }
        let mut out = String::with_capacity(raw.len() + 16);
        let mut rest = raw;
        while let Some(pos) = rest.find(needs) {
            out.push_str(&rest[..pos]);
            let c = rest[pos..].chars().next().unwrap_or('&');
            rest = &rest[pos + c.len_utf8()..];
            match c {
                '<' => out.push_str("&lt;"),
                '&' => rest = entity_reference(rest, entities, &mut out),
                _ => {} // a control character: not allowed in XML, dropped
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }

    /// After an `&`: writes the reference (or `&amp;` for a bare ampersand) to `out` and
    /// returns what follows it.
    fn entity_reference<'s>(after: &'s str, entities: &mut Entities, out: &mut String) -> &'s str {
        let Some(end) = after.bytes().take(40).position(|b| b == b';') else {
            out.push_str("&amp;");
            return after;
        };
        let name = &after[..end];
        let rest = &after[end + 1..];
        if let Some(num) = name.strip_prefix('#') {
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse::<u32>().ok(),
            };
            match code {
                Some(code) => {
                    // Valid ones stay references; invalid ones (`&#0;`) would fail the
                    // whole document in quick-xml, and are dropped.
                    if char::from_u32(code).is_some_and(xml_char) {
                        out.push('&');
                        out.push_str(name);
                        out.push(';');
                    }
                    return rest;
                }
                None => {
                    out.push_str("&amp;");
                    return after;
                }
            }
        }
        let is_name = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !is_name {
            out.push_str("&amp;");
            return after;
        }
        if matches!(name, "lt" | "gt" | "amp" | "quot" | "apos") {
            out.push('&');
            out.push_str(name);
            out.push(';');
        } else if let Some(text) = entities.resolve(name) {
            escape_into(&text, out);
        } else {
            out.push_str("&amp;");
            out.push_str(name);
            out.push(';');
        }
        rest
    }

    fn escape_into(text: &str, out: &mut String) {
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                c if is_control(c) => {}
                c => out.push(c),
            }
        }
    }

    /// Decodes the five XML entities and character references of repaired text.
    fn unescape(s: &str) -> Cow<'_, str> {
        if !s.contains('&') {
            return Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(pos) = rest.find('&') {
            out.push_str(&rest[..pos]);
            rest = &rest[pos + 1..];
            let Some(end) = rest.find(';') else {
                out.push('&');
                continue;
            };
            let name = &rest[..end];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name.strip_prefix('#').and_then(|num| {
                    match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    }
                    .and_then(char::from_u32)
                }),
            };
            match c {
                Some(c) => {
                    out.push(c);
                    rest = &rest[end + 1..];
                }
                None => out.push('&'),
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }

    fn is_void(local: &str) -> bool {
        VOID.iter().any(|v| v.eq_ignore_ascii_case(local))
    }

    fn local(qname: &str) -> &str {
        qname.rsplit_once(':').map_or(qname, |(_, l)| l)
    }

    fn prefix(qname: &str) -> &str {
        qname.split_once(':').map_or("", |(p, _)| p)
    }

    /// How an Atom text construct is written for feed-rs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum TextPlan {
        Text,
        Html,
        Xhtml,
        /// Base64-encoded: decoded, then text (or HTML).
        Base64 {
            html: bool,
        },
    }

    impl TextPlan {
        fn type_attr(self) -> &'static str {
            match self {
                TextPlan::Text | TextPlan::Base64 { html: false } => "text",
                TextPlan::Html | TextPlan::Base64 { html: true } => "html",
                TextPlan::Xhtml => "xhtml",
            }
        }
    }

    /// Atom 1.0 `type`, or Atom 0.3 `type` and `mode`, as one of the three types feed-rs
    /// reads (it refuses the whole feed for any other).
    fn atom_text_plan(ty: Option<&str>, mode: Option<&str>, atom03: bool) -> TextPlan {
        let ty = ty.map(|t| t.trim().to_ascii_lowercase());
        let ty = ty
            .as_deref()
            .unwrap_or(if atom03 { "text/plain" } else { "text" });
        let html = matches!(ty, "html" | "text/html" | "xhtml" | "application/xhtml+xml");
        let plain = matches!(ty, "text" | "text/plain");
        match mode.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
            Some("base64") => return TextPlan::Base64 { html },
            Some("escaped") => {
                return if plain {
                    TextPlan::Text
                } else {
                    TextPlan::Html
                };
            }
            _ if atom03 => {
                return if html {
                    TextPlan::Xhtml
                } else if ty.starts_with("text/") || plain {
                    TextPlan::Text
                } else {
                    TextPlan::Xhtml
                };
            }
            _ => {}
        }
        match ty {
            "text" | "text/plain" => TextPlan::Text,
            "html" | "text/html" => TextPlan::Html,
            "xhtml" | "application/xhtml+xml" => TextPlan::Xhtml,
            t if t.starts_with("text/") => TextPlan::Text,
            t if t.ends_with("/xml") || t.ends_with("+xml") => TextPlan::Xhtml,
            // Anything else is binary and so base64 (RFC 4287 4.1.3.3); if it does not
            // decode to text, it is kept as it is.
            _ => TextPlan::Base64 { html: false },
        }
    }

    struct Repairer<'a> {
        src: &'a str,
        out: String,
        hints: Hints,
        stack: Vec<Frame<'a>>,
        /// (prefix, namespace URI as written); "" is the default namespace.
        ns: Vec<(&'a str, &'a str)>,
        entities: Entities,
        /// Index in `hints.entries` of the entry being read.
        entry: Option<usize>,
        channels: usize,
        /// The root element has been seen (a second top-level element does not change it).
        rooted: bool,
    }

    impl<'a> Repairer<'a> {
        fn run(&mut self) {
            let src = self.src;
            let bytes = src.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] != b'<' {
                    let end = src[i..].find('<').map_or(bytes.len(), |p| i + p);
                    self.text(&src[i..end]);
                    i = end;
                    continue;
                }
                let rest = &src[i..];
                if let Some(body) = rest.strip_prefix("<!--") {
                    let end = body.find("-->").map_or(rest.len(), |p| p + 7);
                    self.other(&rest[..end]);
                    i += end;
                } else if let Some(body) = rest.strip_prefix("<![CDATA[") {
                    let (content, end) = match body.find("]]>") {
                        Some(p) => (&body[..p], 9 + p + 3),
                        None => (body, rest.len()),
                    };
                    self.cdata(content);
                    i += end;
                } else if rest.starts_with("<!") {
                    let end = declaration_end(rest);
                    self.declaration(&rest[..end]);
                    i += end;
                } else if rest.starts_with("<?") {
                    let end = rest.find("?>").map_or(rest.len(), |p| p + 2);
                    self.other(&rest[..end]);
                    i += end;
                } else if let Some(after) = rest.strip_prefix("</") {
                    let name_len = after
                        .find(|c: char| c.is_whitespace() || c == '>' || c == '<')
                        .unwrap_or(after.len());
                    let name = &after[..name_len];
                    let close = after[name_len..].find(['>', '<']).map_or(after.len(), |p| {
                        name_len + p + usize::from(after.as_bytes()[name_len + p] == b'>')
                    });
                    self.end_tag(name);
                    i += 2 + close;
                } else if rest[1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
                {
                    let (name, attrs, self_closing, len) = parse_start_tag(rest);
                    self.start_tag(name, attrs, self_closing);
                    i += len;
                } else {
                    // `a < b`: a bare `<` in text.
                    self.text("&lt;");
                    i += 1;
                }
            }
            while let Some(f) = self.stack.pop() {
                self.close(f);
            }
        }

        fn resolve(&self, prefix: &str) -> Option<&'a str> {
            if prefix == "xml" {
                return Some("http://www.w3.org/XML/1998/namespace");
            }
            self.ns
                .iter()
                .rev()
                .find(|(p, _)| *p == prefix)
                .map(|(_, uri)| *uri)
                .filter(|uri| !uri.is_empty())
        }

        fn in_text_element(&self) -> bool {
            self.stack.last().is_some_and(|f| f.flatten)
        }

        fn text(&mut self, raw: &'a str) {
            if self.stack.is_empty() {
                // Outside the root: white space, or junk that is not part of the feed.
                return;
            }
            let repaired = repair_text(raw, &mut self.entities, false);
            if let Some(f) = self.stack.last_mut() {
                match f.capture {
                    Capture::Base64 => {
                        f.raw.push_str(&repaired);
                        f.text.push_str(&unescape(&repaired));
                        return;
                    }
                    Capture::None => {}
                    _ => f.text.push_str(&unescape(&repaired)),
                }
            }
            self.out.push_str(&repaired);
        }

        fn cdata(&mut self, content: &'a str) {
            let Some(f) = self.stack.last_mut() else {
                return;
            };
            match f.capture {
                Capture::Base64 => {
                    f.text.push_str(content);
                    escape_into(content, &mut f.raw);
                    return;
                }
                Capture::None => {}
                _ => f.text.push_str(content),
            }
            // Control characters are not allowed in CDATA either.
            if content.contains(is_control) {
                self.out.push_str("<![CDATA[");
                self.out.extend(content.chars().filter(|c| !is_control(*c)));
                self.out.push_str("]]>");
            } else {
                self.out.push_str("<![CDATA[");
                self.out.push_str(content);
                self.out.push_str("]]>");
            }
        }

        /// Comments and processing instructions, kept as they are; the XML declaration
        /// says UTF-8, since that is what the text now is (and goes where it must: first).
        fn other(&mut self, raw: &'a str) {
            if matches!(self.stack.last().map(|f| f.capture), Some(Capture::Base64)) {
                return;
            }
            let declaration = raw
                .strip_prefix("<?xml")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_whitespace() || c == '?'));
            if declaration {
                if self.out.is_empty() {
                    self.out
                        .push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
                }
                return;
            }
            self.out.push_str(raw);
        }

        /// `<!DOCTYPE ...>`: its entity declarations are noted, and it is dropped (feed-rs
        /// does not expand them; we do, in the text).
        fn declaration(&mut self, raw: &'a str) {
            let mut rest = raw;
            while let Some(at) = rest.find("<!ENTITY") {
                rest = &rest[at + 8..];
                let decl = rest.trim_start();
                if decl.starts_with('%') {
                    continue; // parameter entity
                }
                let name_len = decl.find(|c: char| c.is_whitespace()).unwrap_or(decl.len());
                let name = &decl[..name_len];
                let value = decl[name_len..].trim_start();
                let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                    continue; // SYSTEM or PUBLIC: external, not fetched
                };
                if let Some(end) = value[1..].find(quote) {
                    let text = unescape(&value[1..1 + end]).into_owned();
                    self.entities.declared.insert(name.to_owned(), text);
                }
            }
        }

        fn start_tag(&mut self, name: &'a str, mut attrs: Vec<Attr<'a>>, self_closing: bool) {
            let depth = self.stack.len();
            if depth >= MAX_DEPTH {
                return;
            }
            attrs.truncate(MAX_ATTRIBUTES);
            let parent_flatten = self.in_text_element();
            let parent_xhtml = self.stack.last().is_some_and(|f| f.xhtml);
            let loc = local(name);

            // Markup inside a text element is text: written escaped, so that feed-rs reads
            // the element as the HTML it holds.
            if parent_flatten {
                if let Some(f) = self.stack.last_mut()
                    && f.capture == Capture::Base64
                {
                    // Not base64 after all: markup inside. Keep what was there.
                    f.capture = Capture::None;
                    let raw = std::mem::take(&mut f.raw);
                    self.out.push_str(&raw);
                }
                self.out.push_str("&lt;");
                self.out.push_str(name);
                for a in &attrs {
                    self.out.push(' ');
                    self.out.push_str(a.name);
                    if let Some(v) = a.value {
                        // Escaped twice: once for the HTML attribute, once for the XML text.
                        self.out.push_str("=&quot;");
                        let v = repair_text(v, &mut self.entities, true);
                        for c in unescape(&v).chars() {
                            match c {
                                '&' => self.out.push_str("&amp;amp;"),
                                '"' => self.out.push_str("&amp;quot;"),
                                '<' => self.out.push_str("&amp;lt;"),
                                c if is_control(c) => {}
                                c => self.out.push(c),
                            }
                        }
                        self.out.push_str("&quot;");
                    }
                }
                let void = is_void(loc);
                self.out
                    .push_str(if self_closing { "/&gt;" } else { "&gt;" });
                if !self_closing && !void {
                    self.push(name, Cow::Borrowed(name), loc, |f| {
                        f.escaped = true;
                        f.flatten = true;
                    });
                }
                return;
            }

            // Namespace declarations, with the URIs feed-rs does not know rewritten.
            let ns_len = self.ns.len();
            for a in &attrs {
                if a.name == "xmlns" || a.name.starts_with("xmlns:") {
                    let p = a.name.strip_prefix("xmlns:").unwrap_or("");
                    if self.ns.len() < MAX_NAMESPACES {
                        self.ns.push((p, a.value.unwrap_or("").trim()));
                    }
                }
            }
            let ns = self.resolve(prefix(name));
            if depth == 0 && !self.rooted {
                self.rooted = true;
                self.hints.root = match loc {
                    "rss" => Root::Rss,
                    "RDF" => Root::Rdf,
                    "feed" => Root::Atom,
                    _ => Root::Other,
                };
            }
            let root = self.hints.root;
            let atom03 = ns == Some(ATOM03);
            let atom = atom03 || ns == Some(ATOM10) || (ns.is_none() && root == Root::Atom);
            let rss = matches!(root, Root::Rss | Root::Rdf)
                && (ns.is_none() || ns == Some(RSS10) || ns.is_some_and(|n| RSS090.contains(&n)));
            let parent = self.stack.last();
            let parent_channel = parent.is_some_and(|f| f.channel);
            let parent_entry = parent.is_some_and(|f| f.entry);
            let parent_local = parent.map_or("", |f| f.local);

            let channel = matches!(root, Root::Rss | Root::Rdf)
                && depth == 1
                && loc == "channel"
                && (root == Root::Rdf || self.channels == 0);
            let entry = match root {
                Root::Rss => depth == 2 && parent_channel && loc == "item",
                Root::Rdf => depth == 1 && loc == "item",
                Root::Atom => depth == 1 && loc == "entry" && atom,
                Root::Other => false,
            };
            if channel {
                self.channels += 1;
            }

            let attr = |n: &str| {
                attrs
                    .iter()
                    .find(|a| a.name == n)
                    .and_then(|a| a.value)
                    .map(|v| unescape(v).trim().to_owned())
            };

            let mut capture = Capture::None;
            let mut flatten = false;
            let mut xhtml = parent_xhtml;
            let mut type_attr: Option<&'static str> = None;
            let mut out_name = Cow::Borrowed(name);

            if entry {
                self.hints.entries.push(EntryHints {
                    about: attr("rdf:about").filter(|a| !a.is_empty()),
                    ..EntryHints::default()
                });
                self.entry = Some(self.hints.entries.len() - 1);
            }
            if let Some(i) = self.entry
                && !parent_xhtml
            {
                let hint = &mut self.hints.entries[i];
                if parent_entry && rss && loc == "guid" {
                    let permalink = attrs
                        .iter()
                        .find(|a| a.name.eq_ignore_ascii_case("isPermaLink"))
                        .and_then(|a| a.value);
                    if permalink.is_some_and(|v| v.trim().eq_ignore_ascii_case("false")) {
                        hint.guid_not_permalink = true;
                    }
                }
                if parent_entry && rss && loc == "link" && root == Root::Rdf {
                    capture = Capture::RdfLink;
                }
                if parent_entry
                    && ns == Some(ATOM10)
                    && matches!(loc, "published" | "updated")
                    && root != Root::Atom
                {
                    capture = Capture::EntryDate {
                        published: loc == "published",
                    };
                }
                if parent_entry
                    && ns == Some(ATOM10)
                    && loc == "link"
                    && root != Root::Atom
                    && let Some(href) = attr("href").filter(|h| !h.is_empty())
                {
                    hint.links.push((href, attr("rel")));
                }
                if hint.title.is_none()
                    && ((parent_entry && ns == Some(DC) && loc == "title")
                        || (ns == Some(MEDIA) && loc == "title"))
                {
                    capture = Capture::EntryTitle;
                }
            }
            if parent_channel && ns == Some(DC) && loc == "title" && self.hints.feed_title.is_none()
            {
                capture = Capture::FeedTitle;
            }

            if parent_xhtml {
                // Inside inline XHTML: nothing to read, only void elements to close.
                if !self_closing && is_void(loc) {
                    self.write_start(name, &attrs, &[], true);
                    self.ns.truncate(ns_len);
                    return;
                }
            } else if atom
                && matches!(
                    loc,
                    "title"
                        | "subtitle"
                        | "summary"
                        | "content"
                        | "rights"
                        | "tagline"
                        | "copyright"
                )
                && !(loc == "content" && attr("src").is_some())
            {
                let plan = atom_text_plan(
                    attrs
                        .iter()
                        .find(|a| a.name == "type")
                        .and_then(|a| a.value),
                    attrs
                        .iter()
                        .find(|a| a.name == "mode")
                        .and_then(|a| a.value),
                    atom03,
                );
                type_attr = Some(plan.type_attr());
                match plan {
                    TextPlan::Text | TextPlan::Html => flatten = true,
                    TextPlan::Xhtml => xhtml = true,
                    TextPlan::Base64 { .. } => {
                        flatten = true;
                        capture = Capture::Base64;
                    }
                }
            } else if (rss && matches!(loc, "title" | "description"))
                || (ns == Some(CONTENT) && loc == "encoded")
                || (ns == Some(DC) && matches!(loc, "title" | "description"))
            {
                flatten = true;
            }
            if atom03 && !parent_xhtml {
                let renamed = match loc {
                    "modified" => Some("updated"),
                    "issued" => Some("published"),
                    "tagline" => Some("subtitle"),
                    "copyright" => Some("rights"),
                    "url" if matches!(parent_local, "author" | "contributor") => Some("uri"),
                    _ => None,
                };
                if let Some(new) = renamed {
                    out_name = match prefix(name) {
                        "" => Cow::Borrowed(new),
                        p => Cow::Owned(format!("{p}:{new}")),
                    };
                }
            }

            let mut replace: Vec<(&str, Option<&str>)> = Vec::new();
            if let Some(t) = type_attr {
                replace.push(("type", Some(t)));
                replace.push(("mode", None));
            }
            if depth == 0 && loc == "rss" {
                let version = attr("version");
                if !matches!(version.as_deref(), Some("2.0" | "0.91" | "0.92")) {
                    replace.push(("version", Some("2.0")));
                }
            }
            self.write_start(&out_name, &attrs, &replace, false);
            let name_for_frame = out_name;
            self.push(name, name_for_frame, loc, |f| {
                f.ns_len = ns_len;
                f.flatten = flatten;
                f.xhtml = xhtml || (type_attr == Some("xhtml"));
                f.channel = channel;
                f.entry = entry;
                f.capture = capture;
            });
            if self_closing && let Some(f) = self.stack.pop() {
                self.close(f);
            }
        }

        fn push(
            &mut self,
            name: &'a str,
            out_name: Cow<'a, str>,
            local: &'a str,
            set: impl FnOnce(&mut Frame<'a>),
        ) {
            let mut f = Frame {
                name,
                out_name,
                local,
                ns_len: self.ns.len(),
                escaped: false,
                flatten: false,
                xhtml: false,
                channel: false,
                entry: false,
                has_link: false,
                capture: Capture::None,
                text: String::new(),
                raw: String::new(),
            };
            set(&mut f);
            self.stack.push(f);
        }

        /// Writes a start tag: attributes repaired and de-duplicated, namespace URIs
        /// feed-rs does not know rewritten, `replace` applied (`None` drops, a value not
        /// present is added).
        fn write_start(
            &mut self,
            name: &str,
            attrs: &[Attr<'a>],
            replace: &[(&str, Option<&str>)],
            self_closing: bool,
        ) {
            self.out.push('<');
            self.out.push_str(name);
            for (i, a) in attrs.iter().enumerate() {
                if a.name.is_empty() || attrs[..i].iter().any(|b| b.name == a.name) {
                    continue;
                }
                if let Some((_, new)) = replace.iter().find(|(n, _)| *n == a.name) {
                    if let Some(new) = new {
                        self.out.push(' ');
                        self.out.push_str(a.name);
                        self.out.push_str("=\"");
                        self.out.push_str(new);
                        self.out.push('"');
                    }
                    continue;
                }
                let mut value = a.value.unwrap_or("");
                if a.name == "xmlns" || a.name.starts_with("xmlns:") {
                    let uri = value.trim();
                    if uri == ATOM03 {
                        value = ATOM10;
                    } else if RSS090.contains(&uri) {
                        value = RSS10;
                    }
                }
                let value = repair_text(value, &mut self.entities, true);
                let quote = if a.value.is_some() && (a.quote == '\'' || a.quote == '"') {
                    a.quote
                } else {
                    '"'
                };
                self.out.push(' ');
                self.out.push_str(a.name);
                self.out.push('=');
                self.out.push(quote);
                if a.quote == '\0' {
                    // An unquoted value may hold the quote we chose.
                    self.out.push_str(&value.replace('"', "&quot;"));
                } else {
                    self.out.push_str(&value);
                }
                self.out.push(quote);
            }
            for (n, v) in replace {
                if let Some(v) = v
                    && !attrs.iter().any(|a| a.name == *n)
                {
                    self.out.push(' ');
                    self.out.push_str(n);
                    self.out.push_str("=\"");
                    self.out.push_str(v);
                    self.out.push('"');
                }
            }
            self.out.push_str(if self_closing { "/>" } else { ">" });
        }

        fn end_tag(&mut self, name: &str) {
            let found = self.stack.iter().rposition(|f| f.name == name).or_else(|| {
                self.stack
                    .iter()
                    .rposition(|f| f.name.eq_ignore_ascii_case(name))
            });
            // An end tag that closes nothing is dropped.
            let Some(at) = found else { return };
            while self.stack.len() > at {
                if let Some(f) = self.stack.pop() {
                    self.close(f);
                }
            }
        }

        fn close(&mut self, mut f: Frame<'a>) {
            if f.escaped {
                self.out.push_str("&lt;/");
                self.out.push_str(f.name);
                self.out.push_str("&gt;");
                return;
            }
            match f.capture {
                Capture::Base64 => {
                    let decoded = decode_base64(&f.text)
                        .and_then(|bytes| String::from_utf8(bytes).ok())
                        .filter(|t| !t.contains(is_control));
                    match decoded {
                        Some(text) => escape_into(&text, &mut self.out),
                        None => self.out.push_str(&f.raw),
                    }
                }
                Capture::EntryTitle => {
                    let title = collapse(&f.text);
                    if let Some(i) = self.entry
                        && !title.is_empty()
                    {
                        self.hints.entries[i].title.get_or_insert(title);
                    }
                }
                Capture::FeedTitle => {
                    let title = collapse(&f.text);
                    if !title.is_empty() {
                        self.hints.feed_title.get_or_insert(title);
                    }
                }
                Capture::EntryDate { published } => {
                    if let Some(i) = self.entry {
                        let hint = &mut self.hints.entries[i];
                        let slot = if published {
                            &mut hint.published
                        } else {
                            &mut hint.updated
                        };
                        slot.get_or_insert_with(|| f.text.trim().to_owned());
                    }
                }
                Capture::RdfLink => {
                    if !f.text.trim().is_empty()
                        && let Some(parent) = self.stack.last_mut()
                    {
                        parent.has_link = true;
                    }
                }
                Capture::None => {}
            }
            if f.entry {
                if self.hints.root == Root::Rdf && !f.has_link {
                    let link = match prefix(f.name) {
                        "" => Cow::Borrowed("link"),
                        p => Cow::Owned(format!("{p}:link")),
                    };
                    self.out.push('<');
                    self.out.push_str(&link);
                    self.out.push('>');
                    self.out.push_str(NO_LINK);
                    self.out.push_str("</");
                    self.out.push_str(&link);
                    self.out.push('>');
                }
                self.entry = None;
            }
            f.text.clear();
            self.out.push_str("</");
            self.out.push_str(&f.out_name);
            self.out.push('>');
            self.ns.truncate(f.ns_len);
        }
    }

    fn collapse(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Length of a `<!...>` declaration, internal DTD subset and quoted strings included.
    fn declaration_end(s: &str) -> usize {
        let mut depth = 0usize;
        let mut quote: Option<u8> = None;
        for (i, b) in s.bytes().enumerate().skip(2) {
            match (quote, b) {
                (Some(q), b) if b == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(b),
                (None, b'[') => depth += 1,
                (None, b']') => depth = depth.saturating_sub(1),
                (None, b'>') if depth == 0 => return i + 1,
                _ => {}
            }
        }
        s.len()
    }

    /// A start tag at the start of `s`: (name, attributes, self-closing, length). Lenient:
    /// unquoted values, attributes without values, junk between attributes, and a tag cut
    /// short by the next `<` are all read as well as they can be.
    fn parse_start_tag(s: &str) -> (&str, Vec<Attr<'_>>, bool, usize) {
        let bytes = s.as_bytes();
        let name_end = s[1..]
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '<'))
            .map_or(s.len(), |p| p + 1);
        let name = &s[1..name_end];
        let mut attrs = Vec::new();
        let mut i = name_end;
        let skip_ws = |mut i: usize| {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            i
        };
        loop {
            i = skip_ws(i);
            if i >= bytes.len() {
                return (name, attrs, false, bytes.len());
            }
            match bytes[i] {
                b'>' => return (name, attrs, false, i + 1),
                b'<' => return (name, attrs, false, i),
                b'/' if bytes.get(i + 1) == Some(&b'>') => return (name, attrs, true, i + 2),
                b'/' => i += 1,
                q @ (b'"' | b'\'') => {
                    // A value without a name: skipped.
                    i = s[i + 1..]
                        .find(char::from(q))
                        .map_or(bytes.len(), |p| i + 1 + p + 1);
                }
                _ => {
                    let start = i;
                    while i < bytes.len()
                        && !bytes[i].is_ascii_whitespace()
                        && !matches!(bytes[i], b'=' | b'>' | b'/' | b'<' | b'"' | b'\'')
                    {
                        i += 1;
                    }
                    let attr_name = &s[start..i];
                    i = skip_ws(i);
                    if bytes.get(i) != Some(&b'=') {
                        attrs.push(Attr {
                            name: attr_name,
                            value: None,
                            quote: '"',
                        });
                        continue;
                    }
                    i = skip_ws(i + 1);
                    match bytes.get(i) {
                        Some(&q @ (b'"' | b'\'')) => {
                            let body = &s[i + 1..];
                            let closing = body.find(char::from(q));
                            let lt = body.find('<');
                            match closing.filter(|c| lt.is_none_or(|lt| *c < lt)) {
                                Some(c) => {
                                    attrs.push(Attr {
                                        name: attr_name,
                                        value: Some(&body[..c]),
                                        quote: char::from(q),
                                    });
                                    i += 1 + c + 1;
                                }
                                None => {
                                    // Unterminated: the value ends where the tag does.
                                    let limit = lt.unwrap_or(body.len());
                                    let end = body[..limit].find('>').unwrap_or(limit);
                                    attrs.push(Attr {
                                        name: attr_name,
                                        value: Some(&body[..end]),
                                        quote: char::from(q),
                                    });
                                    i += 1 + end;
                                }
                            }
                        }
                        _ => {
                            let start = i;
                            while i < bytes.len()
                                && !bytes[i].is_ascii_whitespace()
                                && bytes[i] != b'>'
                            {
                                i += 1;
                            }
                            attrs.push(Attr {
                                name: attr_name,
                                value: Some(&s[start..i]),
                                quote: '\0',
                            });
                        }
                    }
                }
            }
        }
    }
}

/// JSON Feed 1.0 and 1.1, read leniently: a field of an unexpected type is skipped, not
/// fatal (feed-rs refuses the whole feed for an `authors` object, a numeric `id` or a
/// missing `title`). Our own small JSON reader, since the crate has no JSON dependency.
mod json_feed {
    use super::{ParseError, RawFeed, RawItem, RawLink, escape_text, parse_date, plain_text};

    /// Deeper nesting than this is refused rather than recursed into.
    const MAX_DEPTH: usize = 64;

    #[derive(Debug)]
    enum Value {
        Null,
        Bool,
        /// As written.
        Number(String),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        fn str(&self, key: &str) -> Option<&str> {
            match self.get(key) {
                Some(Value::String(s)) => Some(s),
                _ => None,
            }
        }

        /// A non-empty string field, or a number written as one (ids).
        fn text(&self, key: &str) -> Option<String> {
            match self.get(key) {
                Some(Value::String(s)) => Some(s.trim().to_owned()),
                Some(Value::Number(n)) => Some(n.clone()),
                _ => None,
            }
            .filter(|s| !s.is_empty())
        }

        /// An array's elements; a single value stands for an array of one.
        fn list(&self, key: &str) -> Vec<&Value> {
            match self.get(key) {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(Value::Null) | None => Vec::new(),
                Some(one) => vec![one],
            }
        }
    }

    pub(super) fn read(text: &str) -> Result<RawFeed, ParseError> {
        let text = text.trim_start_matches('\u{feff}');
        let doc = Reader {
            s: text.as_bytes(),
            i: 0,
        }
        .document()
        .map_err(|e| ParseError {
            reason: format!("malformed JSON: {e}"),
        })?;
        let versioned = doc
            .str("version")
            .is_some_and(|v| v.contains("jsonfeed.org/version"));
        let has_items = matches!(doc.get("items"), Some(Value::Array(_)));
        if !versioned && !has_items {
            return Err(ParseError {
                reason: "JSON that is not a JSON Feed (no version, no items)".into(),
            });
        }
        let mut links = Vec::new();
        if let Some(home) = doc.text("home_page_url") {
            links.push(RawLink {
                href: home,
                rel: None,
                comments: false,
            });
        }
        let items = doc
            .list("items")
            .into_iter()
            .filter(|item| matches!(item, Value::Object(_)))
            .map(item)
            .collect();
        Ok(RawFeed {
            title: doc.str("title").map(plain_text).filter(|t| !t.is_empty()),
            description: doc.str("description").map(plain_text),
            links,
            ttl: None,
            author: authors(&doc).into_iter().next(),
            items,
        })
    }

    /// Names from `author` (1.0, an object) and `authors` (1.1, an array; or an object).
    fn authors(v: &Value) -> Vec<String> {
        v.list("author")
            .into_iter()
            .chain(v.list("authors"))
            .filter_map(|a| a.text("name"))
            .collect()
    }

    fn item(v: &Value) -> RawItem {
        let mut links = Vec::new();
        if let Some(url) = v.text("url") {
            links.push(RawLink {
                href: url,
                rel: None,
                comments: false,
            });
        }
        if let Some(url) = v.text("external_url") {
            links.push(RawLink {
                href: url,
                rel: Some("related".into()),
                comments: false,
            });
        }
        let body = v
            .str("content_html")
            .filter(|b| !b.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| {
                v.str("content_text")
                    .or_else(|| v.str("summary"))
                    .filter(|b| !b.trim().is_empty())
                    .map(escape_text)
            });
        RawItem {
            id: v.text("id").unwrap_or_default(),
            id_is_permalink: true,
            title: v.str("title").map(plain_text).filter(|t| !t.is_empty()),
            links,
            body,
            base: None,
            published: v.str("date_published").and_then(parse_date),
            updated: v.str("date_modified").and_then(parse_date),
            authors: authors(v),
            categories: v
                .list("tags")
                .into_iter()
                .filter_map(|t| match t {
                    Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// RFC 8259, leniently: trailing commas and trailing text are allowed, invalid
    /// `\u` escapes become U+FFFD.
    struct Reader<'s> {
        s: &'s [u8],
        i: usize,
    }

    impl Reader<'_> {
        fn document(mut self) -> Result<Value, String> {
            self.value(0)
        }

        fn ws(&mut self) {
            while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }

        fn peek(&mut self) -> Option<u8> {
            self.ws();
            self.s.get(self.i).copied()
        }

        fn error(&self, what: &str) -> String {
            format!("{what} at byte {}", self.i)
        }

        fn value(&mut self, depth: usize) -> Result<Value, String> {
            if depth > MAX_DEPTH {
                return Err(self.error("nested too deeply"));
            }
            match self.peek() {
                Some(b'{') => self.object(depth),
                Some(b'[') => self.array(depth),
                Some(b'"') => self.string().map(Value::String),
                Some(b't') => self.literal("true", Value::Bool),
                Some(b'f') => self.literal("false", Value::Bool),
                Some(b'n') => self.literal("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    while matches!(
                        self.s.get(self.i),
                        Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    ) {
                        self.i += 1;
                    }
                    Ok(Value::Number(
                        String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
                    ))
                }
                Some(_) => Err(self.error("unexpected character")),
                None => Err(self.error("unexpected end")),
            }
        }

        fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(v)
            } else {
                Err(self.error("unexpected word"))
            }
        }

        fn object(&mut self, depth: usize) -> Result<Value, String> {
            self.i += 1;
            let mut fields = Vec::new();
            loop {
                match self.peek() {
                    Some(b'}') => {
                        self.i += 1;
                        return Ok(Value::Object(fields));
                    }
                    Some(b'"') => {
                        let key = self.string()?;
                        if self.peek() != Some(b':') {
                            return Err(self.error("expected ':'"));
                        }
                        self.i += 1;
                        let value = self.value(depth + 1)?;
                        fields.push((key, value));
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {}
                            _ => return Err(self.error("expected ',' or '}'")),
                        }
                    }
                    _ => return Err(self.error("expected a key")),
                }
            }
        }

        fn array(&mut self, depth: usize) -> Result<Value, String> {
            self.i += 1;
            let mut items = Vec::new();
            loop {
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                items.push(self.value(depth + 1)?);
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {}
                    _ => return Err(self.error("expected ',' or ']'")),
                }
            }
        }

        fn hex4(&mut self) -> Option<u32> {
            let digits = self.s.get(self.i..self.i + 4)?;
            let code = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
            self.i += 4;
            Some(code)
        }

        fn string(&mut self) -> Result<String, String> {
            self.i += 1;
            let mut out: Vec<u8> = Vec::new();
            loop {
                let start = self.i;
                while self.i < self.s.len() && !matches!(self.s[self.i], b'"' | b'\\') {
                    self.i += 1;
                }
                out.extend_from_slice(&self.s[start..self.i]);
                match self.s.get(self.i) {
                    None => return Err(self.error("unterminated string")),
                    Some(b'"') => {
                        self.i += 1;
                        // The input is a &str and escapes add whole characters.
                        return Ok(String::from_utf8_lossy(&out).into_owned());
                    }
                    Some(_) => {
                        self.i += 1;
                        let Some(&esc) = self.s.get(self.i) else {
                            return Err(self.error("unterminated string"));
                        };
                        self.i += 1;
                        let c = match esc {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'u' => {
                                let hi = self.hex4().unwrap_or(0xfffd);
                                let code = if (0xd800..0xdc00).contains(&hi)
                                    && self.s[self.i..].starts_with(b"\\u")
                                {
                                    self.i += 2;
                                    let lo = self.hex4().unwrap_or(0);
                                    if (0xdc00..0xe000).contains(&lo) {
                                        0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                    } else {
                                        0xfffd
                                    }
                                } else {
                                    hi
                                };
                                char::from_u32(code).unwrap_or('\u{fffd}')
                            }
                            other => char::from(other),
                        };
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
        }
    }
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
        // Declared UTF-8, and UTF-8 elsewhere, but with a stray Latin-1 byte: lossy, not lost.
        xml = "<rss version=\"2.0\"><channel><title>Caf\u{e9} X</title><item><title>ok</title><guid>1</guid></item></channel></rss>".as_bytes().to_vec();
        let at = xml.iter().position(|&b| b == b'X').unwrap();
        xml[at] = 0xff;
        let f = parse_feed(&xml, Some("text/xml; charset=utf-8"), &base(), Utc::now()).unwrap();
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.title.as_deref(), Some("Café \u{fffd}"));
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

    fn parse(xml: &str) -> ParsedFeed {
        parse_feed(xml.as_bytes(), None, &base(), Utc::now()).unwrap()
    }

    fn titles(f: &ParsedFeed) -> Vec<&str> {
        f.entries.iter().map(|e| e.title.as_str()).collect()
    }

    fn urls(f: &ParsedFeed) -> Vec<Option<&str>> {
        f.entries.iter().map(|e| e.url.as_deref()).collect()
    }

    // Regression (corpus: miniflux utf8-incorrect-prolog.xml): a Latin-1 prolog on a UTF-8
    // body read as Latin-1 made mojibake of every non-ASCII character.
    #[test]
    fn a_legacy_label_on_utf8_bytes_is_overruled() {
        let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><feed><title>테스트 피드</title>\
            <entry><title>Café</title></entry></feed>";
        let f = parse(xml);
        assert_eq!(f.title.as_deref(), Some("테스트 피드"));
        assert_eq!(titles(&f), ["Café"]);
        assert_eq!(
            decode("Café".as_bytes(), Some("text/xml; charset=iso-8859-1")),
            "Café"
        );
        // Pure ASCII proves nothing: the label stands.
        assert_eq!(
            decode(b"Cafe", Some("text/xml; charset=iso-8859-1")),
            "Cafe"
        );
        assert_eq!(
            decode(b"caf\xe9", Some("text/xml; charset=iso-8859-1")),
            "café"
        );
    }

    // Regression (corpus: miniflux no_encoding_ISO-8859-1.xml): an undeclared Latin-1 feed
    // came out full of U+FFFD; two letter triples happened to be valid UTF-8.
    #[test]
    fn an_undeclared_legacy_body_is_windows_1252() {
        assert_eq!(
            decode(b"tr\xe8s \xab\xa0dou\xe9\xa0\xbb \x80", None),
            "très «\u{a0}doué\u{a0}» €"
        );
        // Declared UTF-8 without one valid multi-byte sequence: the same.
        assert_eq!(decode(b"caf\xe9", Some("text/xml; charset=utf-8")), "café");
    }

    // Regression (corpus: every Atom 0.3 file): feed-rs does not know the Atom 0.3
    // namespace, so the feed had no title and no entries.
    #[test]
    fn atom_03_is_read() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
            <feed version="0.3" xmlns="http://purl.org/atom/ns#">
              <title>dive into mark</title>
              <tagline>A lot of effort</tagline>
              <link rel="alternate" type="text/html" href="http://diveintomark.org/"/>
              <modified>2003-12-13T18:30:02Z</modified>
              <entry>
                <title>Atom 0.3 snapshot</title>
                <link rel="alternate" type="text/html" href="http://diveintomark.org/2003/12/13/atom03"/>
                <id>tag:diveintomark.org,2003:3.2397</id>
                <issued>2003-12-13T08:29:29-04:00</issued>
                <modified>2003-12-13T18:30:02Z</modified>
                <summary type="text/plain">It&apos;s a test</summary>
                <content type="text/html" mode="escaped"><![CDATA[<p>HTML content</p>]]></content>
              </entry>
              <entry>
                <title mode="base64">VGl0bGUgaW4gYmFzZTY0</title>
                <content type="text/html" mode="base64">PHA+RGVjb2RlZDwvcD4=</content>
              </entry>
            </feed>"#;
        let f = parse(xml);
        assert_eq!(f.title.as_deref(), Some("dive into mark"));
        assert_eq!(f.description.as_deref(), Some("A lot of effort"));
        assert_eq!(f.site_url.as_deref(), Some("http://diveintomark.org/"));
        assert_eq!(titles(&f), ["Atom 0.3 snapshot", "Title in base64"]);
        let a = &f.entries[0];
        assert_eq!(
            a.url.as_deref(),
            Some("http://diveintomark.org/2003/12/13/atom03")
        );
        assert_eq!(a.published.to_rfc3339(), "2003-12-13T12:29:29+00:00");
        assert_eq!(a.content_html, "<p>HTML content</p>");
        assert_eq!(f.entries[1].content_html, "<p>Decoded</p>");
    }

    // Regression (corpus: gofeed atom10_*_base64.xml, TestParseEntryWithTextSummary.xml):
    // one Atom text construct of a type feed-rs does not know lost the whole feed.
    #[test]
    fn atom_text_of_any_type_does_not_lose_the_feed() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
            <title type="application/octet-stream">PHA+RmVlZCBUaXRsZTwvcD4=</title>
            <entry><id>1</id><title type="application/x-custom">test</title>
              <summary type="text/plain">AT&amp;T &lt;S&gt;</summary></entry>
            <entry><id>2</id><title type="text/html">&lt;b&gt;Bold&lt;/b&gt; move</title>
              <content type="text">a &lt;b&gt; is not bold</content></entry>
            </feed>"#;
        let f = parse(xml);
        assert_eq!(f.title.as_deref(), Some("Feed Title"));
        assert_eq!(titles(&f), ["test", "Bold move"]);
        assert_eq!(f.entries[0].text, "AT&T <S>");
        // type="text" content is text, not HTML.
        assert_eq!(f.entries[1].text, "a <b> is not bold");
    }

    // Regression (corpus: gofeed atom10_feed_entry_source_logo.xml, miniflux
    // TestParseEntryWithDuplicateEnclosureURL.xml): one mismatched end tag lost the feed.
    #[test]
    fn mismatched_and_stray_end_tags_are_repaired() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
            <entry><id>1</id><title>One</title><source><logo>http://example.org/logo.jpg</link></source></entry>
            <entry><id>2</id><title>Two</title><link href="http://example.org/2"/></content></entry>
            <entry><id>3</id><title>Three <b>unclosed</title></entry>
            </feed>"#;
        let f = parse(xml);
        assert_eq!(titles(&f), ["One", "Two", "Three unclosed"]);
        assert_eq!(f.entries[1].url.as_deref(), Some("http://example.org/2"));
        // Elements left open at the end are closed.
        let f = parse("<rss version=\"2.0\"><channel><title>Cut</title><item><title>Half");
        assert_eq!(f.title.as_deref(), Some("Cut"));
        assert_eq!(titles(&f), ["Half"]);
    }

    // Regression (corpus: miniflux TestParseItemTitleWithInnerHTML.xml, rss-crate
    // mixed_content.xml, gofeed *_naked_markup.xml): feed-rs kept only the text before the
    // first child element ("Test:").
    #[test]
    fn markup_inside_titles_and_descriptions_is_kept_as_html() {
        let xml = r#"<rss version="2.0"><channel>
            <title><a href="http://example.com/">link</a> Title</title>
            <item><title>Test: <b>bold</b></title><guid>1</guid>
              <description><p>Para <a href="/x" title="a &amp; &quot;b&quot;">one</a></p><p>two</p></description></item>
            </channel></rss>"#;
        let f = parse(xml);
        assert_eq!(f.title.as_deref(), Some("link Title"));
        assert_eq!(titles(&f), ["Test: bold"]);
        let e = &f.entries[0];
        assert_eq!(e.text, "Para one\n\ntwo");
        assert!(
            e.content_html.contains(r#"href="https://blog.example/x""#),
            "{}",
            e.content_html
        );
        assert!(
            e.content_html.contains(r#"title="a &amp; &quot;b&quot;""#),
            "{}",
            e.content_html
        );
        // Atom: naked markup in an HTML title.
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>
            <title type="html" xml:base="http://example.com/test/">Example <a href="test.html">test</a></title></entry></feed>"#;
        assert_eq!(titles(&parse(xml)), ["Example test"]);
    }

    // Regression (corpus: gofeed version_rss_*.xml, rss-crate dublincore.xml): feed-rs
    // reads only RSS 0.91, 0.92 and 2.0 (and "") and refused every other version.
    #[test]
    fn any_rss_version_is_read_and_an_empty_feed_is_a_feed() {
        for version in [
            " version=\"0.93\"",
            " version=\"0.94\"",
            " version=\"2.01\"",
            "",
        ] {
            let xml = format!(
                "<rss{version}><channel><title>T</title><item><title>I</title></item></channel></rss>"
            );
            let f = parse(&xml);
            assert_eq!(
                (f.title.as_deref(), titles(&f)),
                (Some("T"), vec!["I"]),
                "{version}"
            );
        }
        let f = parse("<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n</rss>");
        assert_eq!(
            f,
            ParsedFeed {
                title: None,
                description: None,
                site_url: None,
                ttl_minutes: None,
                entries: vec![]
            }
        );
        assert!(parse_feed(b"<note><to>x</to></note>", None, &base(), Utc::now()).is_err());
    }

    // Regression (corpus: rss-crate rss090.xml, miniflux rdf_UTF8.xml; gofeed rdf_item_*.xml,
    // miniflux TestParseItemWithoutLink.xml): RSS 0.90 was not read at all, and RSS 1.0
    // items without a link were dropped.
    #[test]
    fn rss_090_and_linkless_rss_10_items_are_read() {
        let xml = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
                xmlns="http://my.netscape.com/rdf/simple/0.9/">
            <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link></channel>
            <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
            </rdf:RDF>"#;
        let f = parse(xml);
        assert_eq!(f.title.as_deref(), Some("Mozilla Dot Org"));
        assert_eq!(urls(&f), [Some("http://www.mozilla.org/status/")]);
        let xml = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
            <channel rdf:about="http://example.org/index.rdf"><title>R</title></channel>
            <item rdf:about="http://example.org/entry/1"><title>No link</title><description>Test</description></item>
            <item rdf:about="http://example.org/entry/2"><title>Empty link</title><link></link></item>
            </rdf:RDF>"#;
        let f = parse(xml);
        assert_eq!(titles(&f), ["No link", "Empty link"]);
        // rdf:about names the item: its guid, not its link (as feedparser and miniflux read it).
        assert_eq!(f.entries[0].guid, "http://example.org/entry/1");
        assert_eq!(urls(&f), [None, None]);
    }

    // Regression (corpus: rss2sample.xml item 2, miniflux TestParseEntryWithOnlyGuidPermalink,
    // TestParseEntryWithIDAsURL; gofeed rss_channel_item_comments.xml): a permalink guid was
    // not used as the link, and a comments link was taken for the post's.
    #[test]
    fn links_from_guids_ids_and_never_comments() {
        let xml = r#"<rss version="2.0"><channel>
            <item><title>a</title><guid>http://example.org/a</guid></item>
            <item><title>b</title><guid isPermaLink="false">http://example.org/b</guid></item>
            <item><title>c</title><guid>abc123</guid></item>
            <item><title>d</title><comments>http://example.org/d#comments</comments></item>
            <item><title>e</title><comments>http://example.org/e#comments</comments><link>http://example.org/e</link></item>
            </channel></rss>"#;
        let f = parse(xml);
        assert_eq!(
            urls(&f),
            [
                Some("http://example.org/a"),
                None,
                None,
                None,
                Some("http://example.org/e")
            ]
        );
        assert_eq!(f.entries[1].guid, "http://example.org/b");
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
            <entry><id>http://www.example.org/entries/1</id><title>x</title></entry>
            <entry><id>mailto:john.doe@example.org</id><title>y</title></entry></feed>"#;
        assert_eq!(
            urls(&parse(xml)),
            [Some("http://www.example.org/entries/1"), None]
        );
    }

    // Regression (corpus: miniflux TestParseEntryWithAtomLink.xml,
    // TestParseEntryWithDCTitleOnly.xml, gofeed issue_217_enclosure_children.xml,
    // feed_fallbacks_-_rss_channel_dc.xml, feed_item_published_-_*_atom.xml): what feed-rs
    // does not read in RSS items was lost.
    #[test]
    fn rss_items_borrow_from_atom_dublin_core_and_media_rss() {
        let xml = r#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
                xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
            <channel><dc:title>DC Title</dc:title>
            <item><title>Test</title><atom:link rel="payment" href="https://example.org/a"/>
              <atom:link rel="alternate" href="https://example.org/b"/>
              <atom:published>2019-01-02T15:04:05Z</atom:published></item>
            <item><dc:title>Entry Title</dc:title></item>
            <item><enclosure url="http://example.org/e.jpg" type="image/jpeg">
              <media:title><![CDATA[ <p>Enclosure title</p> ]]></media:title></enclosure></item>
            </channel></rss>"#;
        let f = parse(xml);
        assert_eq!(f.title.as_deref(), Some("DC Title"));
        assert_eq!(titles(&f), ["Test", "Entry Title", "Enclosure title"]);
        assert_eq!(f.entries[0].url.as_deref(), Some("https://example.org/b"));
        assert_eq!(
            f.entries[0].published.to_rfc3339(),
            "2019-01-02T15:04:05+00:00"
        );
    }

    // Regression (corpus: gofeed version_json_10.json, json10_simple.json, miniflux
    // TestParseItemWithAuthorsObject.json, TestParseFeedWithoutTitle.json): feed-rs refused
    // the whole feed for a "1.0" version, a missing title or an `authors` object.
    #[test]
    fn json_feed_is_read_leniently() {
        let json = r#"{"version": "1.0", "items": [{"content_text": "Only <text>", "id": 42}]}"#;
        let f = parse(json);
        assert_eq!(f.title, None);
        assert_eq!(f.entries[0].guid, "42");
        assert_eq!(f.entries[0].text, "Only <text>");
        let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "Example",
            "home_page_url": "https://example.org/", "items": [
            {"id": "1", "title": "</example>", "url": "/item", "date_published": "2020-01-02T03:04:05Z",
             "authors": {"name": "Example Author"}, "tags": "solo"},
            {"id": "2", "title": "Caf\u00e9 \ud83d\ude00", "content_html": "<p>x</p>", "tags": ["a", 1, "b",]},
            ]}"#;
        let f = parse(json);
        assert_eq!(f.title.as_deref(), Some("Example"));
        assert_eq!(f.site_url.as_deref(), Some("https://example.org/"));
        assert_eq!(titles(&f), ["</example>", "Café 😀"]);
        let a = &f.entries[0];
        assert_eq!(a.url.as_deref(), Some("https://blog.example/item"));
        assert_eq!(a.author.as_deref(), Some("Example Author"));
        assert_eq!(a.categories, ["solo"]);
        assert_eq!(a.published.to_rfc3339(), "2020-01-02T03:04:05+00:00");
        assert_eq!(f.entries[1].categories, ["a", "b"]);
        // Hostile nesting is refused, not recursed into.
        let deep = format!(
            "{{\"items\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(parse_feed(deep.as_bytes(), None, &base(), Utc::now()).is_err());
    }

    // Regression (corpus: miniflux TestParseItemTitleWithDoubleEncodedEntities.xml,
    // TestParseItemTitleWithHTMLEntity.xml, gofeed *_xhtml_escaped_markup.xml): "&#39;" was
    // shown as is, "</example>" vanished as a tag, and XHTML titles kept "&lt;p>".
    #[test]
    fn titles_read_as_people_mean_them() {
        let xml = r#"<rss version="2.0"><channel>
            <item><title>&amp;#39;Text&amp;#39;</title></item>
            <item><title>&lt;/example&gt;</title></item>
            <item><title>1 &lt; 2 &amp;&amp; 3 &gt; 2</title></item>
            <item><title>caf&eacute;&nbsp;cr&egrave;me</title></item>
            </channel></rss>"#;
        assert_eq!(
            titles(&parse(xml)),
            ["'Text'", "</example>", "1 < 2 && 3 > 2", "café crème"]
        );
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title type="xhtml">
            <div xmlns="http://www.w3.org/1999/xhtml">&lt;p&gt;Entry Title&lt;/p&gt;</div></title></entry></feed>"#;
        assert_eq!(titles(&parse(xml)), ["<p>Entry Title</p>"]);
    }

    // Bare `&` and `<`, control characters, invalid character references and entities
    // declared in the DOCTYPE: each made quick-xml give up on the whole document.
    #[test]
    fn malformed_text_is_repaired() {
        let xml = "<!DOCTYPE rss [<!ENTITY who \"Ann &amp; Bob\">]><rss version=\"2.0\"><channel>\
            <title>Q&A by &who;</title>\
            <item><title>a < b \u{8}bell</title><link>http://example.org/?a=1&b=2</link>\
              <description>&#0;ok &#x1F600;</description></item></channel></rss>";
        let f = parse(xml);
        assert_eq!(f.title.as_deref(), Some("Q&A by Ann & Bob"));
        assert_eq!(titles(&f), ["a < b bell"]);
        assert_eq!(
            f.entries[0].url.as_deref(),
            Some("http://example.org/?a=1&b=2")
        );
        assert_eq!(f.entries[0].text, "ok 😀");
    }

    #[test]
    fn base64_is_decoded_or_left_alone() {
        assert_eq!(
            decode_base64("PHA+RmVlZCBUaXRsZTwvcD4=").unwrap(),
            b"<p>Feed Title</p>"
        );
        assert_eq!(decode_base64("  VGl0\nbGU= ").unwrap(), b"Title");
        assert_eq!(decode_base64("not base64!"), None);
        assert_eq!(decode_base64("QQ==QQ"), None);
    }

    // Hostile documents: the repair pass stays linear and its output bounded.
    #[test]
    fn hostile_xml_stays_bounded() {
        let laughs = format!(
            "<!DOCTYPE rss [<!ENTITY lol \"{}\">]><rss version=\"2.0\"><channel><title>{}</title></channel></rss>",
            "lol".repeat(3_000),
            "&lol;".repeat(10_000)
        );
        let (out, _) = xml_repair::repair(&laughs);
        assert!(out.len() < 2 * (1 << 20) + laughs.len(), "{}", out.len());
        let many_attributes = (0..5_000)
            .map(|i| format!("a{i}=\"v\""))
            .collect::<Vec<_>>()
            .join(" ");
        let deep = format!(
            "<rss version=\"2.0\"><channel>{}{}<a {many_attributes}/></channel></rss>",
            "<x>".repeat(50_000),
            "</y>".repeat(50_000),
        );
        let (out, _) = xml_repair::repair(&deep);
        assert!(out.len() < deep.len(), "{}", out.len());
        assert!(parse_feed(deep.as_bytes(), None, &base(), Utc::now()).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        // Whatever arrives, the repair pass and the JSON reader return, they do not panic
        // (every slice they take is on a character boundary, every loop advances).
        #[test]
        fn any_input_is_read_or_refused_without_panicking(
            xml in r#"(<\?xml version="1.0" encoding="(utf-8|latin1|bogus)"\?>|<!DOCTYPE x \[<!ENTITY e "v&amp;">\]>|<(rss|feed|rdf:RDF|channel|item|entry|title|link|guid|description|content|summary|div|b|p|br|dc:title|atom:link|media:title)( (version|type|mode|href|rel|isPermaLink|xmlns|xmlns:atom|xml:base|rdf:about)=("|')?(2.0|0.3|html|xhtml|base64|escaped|text/plain|application/octet-stream|http://www.w3.org/2005/Atom|http://purl.org/atom/ns#|false|x y|é)?("|')?)*(/)?>|</(rss|feed|rdf:RDF|channel|item|entry|title|link|div|b|p|x)>|<!\[CDATA\[|\]\]>|<!--|-->|&(amp|lt|eacute|nbsp|e|#0|#x1F600|#xD800|bogus)?;?|[a-zé€ \n<>&"'=/]|\u{0}|\u{8}|PHA+dGV4dDwvcD4=){0,40}"#,
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            json in r#"(\{|\}|\[|\]|,|:|"(version|items|title|id|url|authors|name|tags|content_html|date_published)"|"https://jsonfeed.org/version/1.1"|"\\u(d83d|de00|00e9|zz)"|"\\|[0-9.e-]{1,5}|true|null| ){0,40}"#,
        ) {
            let now = Utc::now();
            let _ = parse_feed(xml.as_bytes(), None, &base(), now);
            let _ = parse_feed(&bytes, Some("text/xml; charset=utf-8"), &base(), now);
            let _ = parse_feed(json.as_bytes(), Some("application/feed+json"), &base(), now);
            let mut garbled = xml.into_bytes();
            garbled.extend_from_slice(&bytes);
            let _ = parse_feed(&garbled, None, &base(), now);
        }
    }
}
