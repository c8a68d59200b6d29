//! Sanitising feed HTML with a strict allow-list, and plain text for the tagger.
//!
//! Feed HTML is hostile input: it is rendered on our pages, so anything that can run code,
//! load a frame, restyle the page or submit a form is removed. Links keep only http(s) and
//! mailto targets and are marked `nofollow ugc noopener`, images only http(s) sources.
//!
//! Every post goes through here, so the cost matters (see `benches/parse.rs`): the ammonia
//! configuration is built once per process, text without markup skips the HTML parser, and
//! the text of sanitised HTML is read by a small scanner ([`text_of_clean`]) instead of a
//! second HTML parse.

use ammonia::{Builder, UrlRelative};
use ego_tree::iter::Edge;
use scraper::{Html, Node};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::LazyLock;
use url::Url;

mod fast;

/// Tags kept in sanitised HTML. Everything else is unwrapped (its text kept) or, for
/// [`DROPPED_WITH_CONTENT`], removed with its content.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
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
    "u",
    "ul",
    "var",
];

/// Elements whose content must not survive as text either.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "svg", "math", "form", "template", "noscript",
    "textarea", "select", "button", "frame", "frameset", "applet", "audio", "video", "canvas",
];

/// A sanitiser configured for one base URL (relative links are made absolute against it;
/// without one they are removed).
#[derive(Debug, Clone)]
pub struct Sanitizer {
    base: Option<Url>,
}

/// The allow-list, built once: building it is as costly as sanitising a short post.
static BUILDER: LazyLock<Builder<'static>> = LazyLock::new(allow_list);

thread_local! {
    /// The base URL of the [`Sanitizer::clean`] running on this thread. ammonia's builder is
    /// shared, and resolves relative URLs through [`resolve_relative`], which reads it here.
    static BASE: RefCell<Option<Url>> = const { RefCell::new(None) };
}

/// Relative URLs made absolute against the base of the running clean; removed without one.
fn resolve_relative(url: &str) -> Option<Cow<'_, str>> {
    BASE.with_borrow(|base| resolve_against(base.as_ref(), url).map(Cow::Owned))
}

/// Attributes kept on every allowed element.
const GENERIC_ATTRIBUTES: &[&str] = &["lang", "title", "dir"];

/// Attributes kept on one element.
const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "hreflang"]),
    ("img", &["src", "alt", "width", "height"]),
    ("abbr", &["title"]),
    ("td", &["colspan", "rowspan"]),
    ("th", &["colspan", "rowspan", "scope"]),
    ("time", &["datetime"]),
    ("ol", &["start"]),
    ("code", &["class"]),
];

/// URL schemes kept in links and image sources.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// What `rel` every link gets.
const LINK_REL: &str = "nofollow ugc noopener";

/// Whether `attribute` is allowed on `element` by the allow-list (before the filter).
fn attribute_allowed(element: &str, attribute: &str) -> bool {
    GENERIC_ATTRIBUTES.contains(&attribute)
        || TAG_ATTRIBUTES
            .iter()
            .any(|(tag, attrs)| *tag == element && attrs.contains(&attribute))
}

/// The checks the allow-list cannot express: images load without a click, so only
/// http(s) (or relative, made absolute later); the scheme allow-list already drops data:
/// and javascript:, this drops mailto:. Code keeps only `language-*` classes.
fn filter_attribute<'v>(element: &str, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    if element == "img" && attribute == "src" {
        let scheme = value
            .trim_start()
            .split_once(':')
            .map(|(s, _)| s)
            .filter(|s| !s.contains('/'));
        if scheme
            .is_some_and(|s| !s.eq_ignore_ascii_case("http") && !s.eq_ignore_ascii_case("https"))
        {
            return None;
        }
    }
    if element == "code" && attribute == "class" && !value.starts_with("language-") {
        return None;
    }
    Some(value.into())
}

/// A relative URL made absolute against `base`; `None` (the attribute is removed) without
/// one.
fn resolve_against(base: Option<&Url>, url: &str) -> Option<String> {
    base.and_then(|b| b.join(url).ok()).map(String::from)
}

fn allow_list() -> Builder<'static> {
    let mut b = Builder::empty();
    b.tags(ALLOWED_TAGS.iter().copied().collect())
        .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect::<HashSet<_>>())
        .tag_attributes(
            TAG_ATTRIBUTES
                .iter()
                .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect::<HashSet<_>>()))
                .collect(),
        )
        .attribute_filter(filter_attribute)
        .url_relative(UrlRelative::Custom(Box::new(resolve_relative)));
    b
}

impl Sanitizer {
    pub fn new(base: Option<&Url>) -> Self {
        Self {
            base: base.cloned(),
        }
    }

    /// Sanitised HTML, safe to embed in our pages.
    pub fn clean(&self, html: &str) -> String {
        self.clean_with_text(html).0
    }

    /// Sanitised HTML and its plain text ([`html_to_text`] of it), read in one pass when
    /// the HTML allows (see `fast`), else by ammonia and [`text_of_clean`].
    pub fn clean_with_text(&self, html: &str) -> (String, String) {
        // Text without markup, entities or the characters the HTML parser rewrites comes
        // out of ammonia as it went in.
        if !html.contains(['<', '>', '&', '\r', '\0', '\u{a0}']) {
            let text = html.split_whitespace().collect::<Vec<_>>().join(" ");
            return (html.to_owned(), text);
        }
        if let Some(clean) = fast::clean(html, self.base.as_ref()) {
            return clean;
        }
        let clean = self.clean_with_ammonia(html);
        let text = text_of_clean(&clean);
        (clean, text)
    }

    /// The fast path alone: `None` where ammonia must decide.
    pub(crate) fn clean_fast(&self, html: &str) -> Option<(String, String)> {
        fast::clean(html, self.base.as_ref())
    }

    /// Where the fast path gives up on `html`, if it does.
    #[cfg(test)]
    pub(crate) fn fast_refusal(&self, html: &str) -> Option<usize> {
        fast::refusal(html, self.base.as_ref())
    }

    /// [`Sanitizer::clean`] by ammonia alone, without the fast path.
    pub(crate) fn clean_with_ammonia(&self, html: &str) -> String {
        BASE.with_borrow_mut(|base| base.clone_from(&self.base));
        let clean = BUILDER.clean(html).to_string();
        BASE.with_borrow_mut(|base| *base = None);
        clean
    }
}

/// Block-level elements: text on either side of them is separate.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "pre"
            | "blockquote"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "dd"
            | "dt"
            | "dl"
            | "figure"
            | "figcaption"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "details"
            | "summary"
    )
}

/// What separates the next word from the text so far.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Space,
    Break,
}

/// The readable text of an HTML fragment: blocks separated by blank lines, runs of white
/// space collapsed, entities decoded, scripts and styles ignored. `foo<b>bar</b>` stays one
/// word, `foo <b>bar</b>` is two.
pub fn html_to_text(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len() / 2);
    let mut skip_depth = 0usize;
    let mut gap = Gap::None;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) | Edge::Close(node) => {
                let opening = matches!(edge, Edge::Open(_));
                match node.value() {
                    Node::Element(e) => {
                        let name = e.name();
                        if DROPPED_WITH_CONTENT.contains(&name) || name == "head" {
                            skip_depth = if opening {
                                skip_depth + 1
                            } else {
                                skip_depth.saturating_sub(1)
                            };
                        } else if is_block(name) {
                            gap = Gap::Break;
                        }
                    }
                    Node::Text(t) if opening && skip_depth == 0 => push_text(&mut out, &mut gap, t),
                    _ => {}
                }
            }
        }
    }
    out
}

/// Appends the words of one text node, separated from what came before by `gap`. Words
/// are split at white space as [`char::is_whitespace`] sees it. Most text is words with
/// one space between them, which comes out as it went in: such runs are copied whole.
fn push_text(out: &mut String, gap: &mut Gap, t: &str) {
    let bytes = t.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let space = whitespace_len(t, i);
        if space > 0 {
            *gap = (*gap).max(Gap::Space);
            i += space;
            continue;
        }
        // Words separated by single spaces, as one run.
        let start = i;
        let mut end;
        loop {
            end = next_maybe_space(bytes, i + 1);
            match bytes.get(end) {
                // A control character that is not white space, or a non-ASCII character
                // that is not white space: part of the word.
                Some(&b) if b != b' ' && whitespace_len(t, end) == 0 => {
                    i = end;
                }
                _ => break,
            }
        }
        if bytes[end - 1] == b' ' {
            end -= 1; // a single space after the last word
        }
        if !out.is_empty() {
            match *gap {
                Gap::None => {}
                Gap::Space => out.push(' '),
                Gap::Break => out.push_str("\n\n"),
            }
        }
        out.push_str(&t[start..end]);
        *gap = Gap::None;
        i = end;
    }
}

/// The first byte from `i` on that may start white space other than a single ASCII space
/// between words: a control character, a non-ASCII byte, or a space followed by another;
/// `bytes.len()` when there is none. Eight bytes at a time (SWAR).
fn next_maybe_space(bytes: &[u8], mut i: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    const BELOW_SPACE: u64 = 0x6060_6060_6060_6060;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let non_ascii = w & HIGH;
        // High bit set in each byte below 0x20 (no carry crosses bytes).
        let control = !(((w & LOW7) + BELOW_SPACE) | w) & HIGH;
        let v = w ^ SPACES;
        let space = !(((v & LOW7) + LOW7) | v) & HIGH;
        // A space whose next byte (in this word) is a space too.
        let double = space & (space >> 8);
        let found = non_ascii | control | double;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        // The last byte's pair is checked as the first of the next word.
        i += 7;
    }
    while i < bytes.len() {
        let b = bytes[i];
        if !(0x20..0x80).contains(&b) || (b == b' ' && bytes.get(i + 1) == Some(&b' ')) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// The length of the white space character at byte `i` of `t` (a character boundary), or 0.
fn whitespace_len(t: &str, i: usize) -> usize {
    match t.as_bytes()[i] {
        b'\t'..=b'\r' | b' ' => 1,
        0xc2 | 0xe1 | 0xe2 | 0xe3 => t[i..]
            .chars()
            .next()
            .filter(|c| c.is_whitespace())
            .map_or(0, char::len_utf8),
        _ => 0,
    }
}

/// [`html_to_text`] of HTML that [`Sanitizer::clean`] produced, without parsing it again.
///
/// Sanitised HTML is regular: allow-listed tags with every end tag written, attribute
/// values in double quotes, text escaped by html5ever's serialiser (`&amp;`, `&lt;`,
/// `&gt;`, `&nbsp;`), no comments, nothing whose content is dropped. A scan of tags and
/// text then sees what a parse would; anything unexpected is left to [`html_to_text`].
pub fn text_of_clean(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return html.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    scan_clean(html).unwrap_or_else(|| html_to_text(html))
}

fn scan_clean(html: &str) -> Option<String> {
    let mut out = String::with_capacity(html.len() / 2);
    let mut gap = Gap::None;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(tag) = rest.strip_prefix('<') {
            let end = tag_end(tag)?;
            let body = tag[..end].strip_prefix('/').unwrap_or(&tag[..end]);
            let name = &body[..body
                .find(|c: char| c.is_ascii_whitespace() || c == '/')
                .unwrap_or(body.len())];
            if name.is_empty()
                || !name.bytes().all(|b| b.is_ascii_alphanumeric())
                || DROPPED_WITH_CONTENT.contains(&name)
            {
                return None;
            }
            if is_block(name) {
                gap = Gap::Break;
            }
            rest = &tag[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            push_text(&mut out, &mut gap, &unescape_serialised(&rest[..end])?);
            rest = &rest[end..];
        }
    }
    Some(out)
}

/// Where a tag's `>` is, quoted attribute values skipped.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in tag.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'>' if !quoted => return Some(i),
            b'<' if !quoted => return None,
            _ => {}
        }
    }
    None
}

/// Text as html5ever's serialiser escapes it; `None` for any other reference.
fn unescape_serialised(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('&') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (c, len) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&nbsp;", '\u{a0}'),
        ]
        .into_iter()
        .find(|(entity, _)| rest.starts_with(entity))
        .map(|(entity, c)| (c, entity.len()))?;
        out.push(c);
        rest = &rest[len..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        Sanitizer::new(Url::parse("https://blog.example/posts/").ok().as_ref()).clean(html)
    }

    #[test]
    fn dangerous_markup_is_removed() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script><style>p{}</style></p>
            <iframe src="https://evil.example"></iframe><svg><circle/></svg><math><mi>x</mi></math>
            <form action="/x"><input name=a></form><a href="javascript:alert(1)">j</a>
            <img src="data:image/png;base64,AAAA"><object data="x"></object>"#;
        let out = clean(dirty);
        for bad in [
            "script",
            "alert",
            "style",
            "iframe",
            "svg",
            "circle",
            "math",
            "form",
            "input",
            "onclick",
            "javascript",
            "data:",
            "object",
        ] {
            assert!(!out.contains(bad), "{bad} survived: {out}");
        }
        assert!(out.contains("<p>Hi</p>"), "{out}");
    }

    #[test]
    fn links_are_absolute_and_marked() {
        let out = clean(
            r#"<a href="../about">a</a> <a href="mailto:x@y.z">m</a> <a href="ftp://f">f</a> <img src="/i.png" alt="i">"#,
        );
        assert!(
            out.contains(r#"href="https://blog.example/about""#),
            "{out}"
        );
        assert!(out.contains(r#"rel="nofollow ugc noopener""#), "{out}");
        assert!(out.contains("mailto:x@y.z"), "{out}");
        assert!(!out.contains("ftp://"), "{out}");
        assert!(out.contains(r#"src="https://blog.example/i.png""#), "{out}");
    }

    #[test]
    fn text_keeps_words_and_blocks_apart() {
        let text = html_to_text(
            "<h2>Title</h2><p>foo<b>bar</b> and <i>baz</i>&amp;co</p><script>x()</script><ul><li>one</li><li>two</li></ul>",
        );
        assert_eq!(text, "Title\n\nfoobar and baz&co\n\none\n\ntwo");
        assert_eq!(html_to_text("plain   text\n here"), "plain text here");
        assert_eq!(html_to_text(""), "");
    }

    #[test]
    fn each_sanitizer_resolves_against_its_own_base() {
        let a = Sanitizer::new(Url::parse("https://a.example/x/").ok().as_ref());
        let b = Sanitizer::new(Url::parse("https://b.example/y/").ok().as_ref());
        let none = Sanitizer::new(None);
        let html = r#"<a href="p">l</a><img src="i.png">"#;
        assert!(a.clean(html).contains(r#"href="https://a.example/x/p""#));
        assert!(b.clean(html).contains(r#"src="https://b.example/y/i.png""#));
        let out = none.clean(html);
        assert!(!out.contains("href=") && !out.contains("src="), "{out}");
        assert!(a.clean(html).contains("https://a.example/x/p"));
        // Absolute links need no base.
        assert!(
            none.clean(r#"<a href="https://c.example/">c</a>"#)
                .contains("https://c.example/")
        );
    }

    #[test]
    fn text_of_clean_reads_what_a_parse_would() {
        let html = clean(
            "<h2>Title</h2><p>foo<b>bar</b> and <i>baz</i>&amp;co &lt;tag&gt;&nbsp;x</p><ul><li>one</li><li>two</li></ul>\
             <table><tr><td>a</td><td>b</td></tr></table>x<br>y<img src=/a.png alt='a > b'>z <pre>  code\n  here</pre>",
        );
        assert_eq!(text_of_clean(&html), html_to_text(&html));
        assert_eq!(text_of_clean("plain   text\n here"), "plain text here");
        assert_eq!(text_of_clean(""), "");
    }

    /// `push_text` as first written, with the standard library's word splitting.
    fn push_text_by_words(out: &mut String, gap: &mut Gap, t: &str) {
        if t.starts_with(char::is_whitespace) {
            *gap = (*gap).max(Gap::Space);
        }
        for word in t.split_whitespace() {
            if !out.is_empty() {
                match *gap {
                    Gap::None => {}
                    Gap::Space => out.push(' '),
                    Gap::Break => out.push_str("\n\n"),
                }
            }
            out.push_str(word);
            *gap = Gap::Space;
        }
        *gap = if t.ends_with(char::is_whitespace) {
            (*gap).max(Gap::Space)
        } else if t.trim().is_empty() {
            *gap
        } else {
            Gap::None
        };
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        // The byte scan splits words where `split_whitespace` does, piece by piece.
        #[test]
        fn push_text_splits_as_split_whitespace_does(
            pieces in proptest::collection::vec(
                "([a-zé]{0,3}|[a-z]{4,20}|[ \t\n\r\u{b}\u{c}]|  | |\u{1}|\u{1f}|\u{7f}|\u{80}|\u{85}|\u{a0}|\u{1680}|\u{2000}|\u{2009}|\u{200b}|\u{2028}|\u{202f}|\u{205f}|\u{3000}|\u{3001}|\u{c2a9}|©|—|\u{2060}){0,6}",
                0..12,
            ),
            breaks in proptest::collection::vec(proptest::bool::ANY, 12),
        ) {
            let (mut fast, mut fast_gap) = (String::new(), Gap::None);
            let (mut slow, mut slow_gap) = (String::new(), Gap::None);
            for (piece, brk) in pieces.iter().zip(&breaks) {
                if *brk {
                    fast_gap = Gap::Break;
                    slow_gap = Gap::Break;
                }
                push_text(&mut fast, &mut fast_gap, piece);
                push_text_by_words(&mut slow, &mut slow_gap, piece);
                proptest::prop_assert_eq!(&fast, &slow);
                proptest::prop_assert!(fast_gap == slow_gap);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        // The shortcuts (no HTML parse for plain text, a scan instead of a parse for the
        // text) give what the slow way gives.
        #[test]
        fn shortcuts_agree_with_the_parser(
            html in r#"([a-z ]{0,6}|<(p|b|a href="/x"|br|img src=x alt="q>r"|li|ul|h1|pre|div|span|script|table|tr|td|q)>|</(p|b|a|li|ul|h1|pre|div|span|script|table|tr|td|q)>|&(amp|lt|gt|nbsp|eacute|#233);|&|<|>|\n|\t|\u{a0}|é){0,24}"#
        ) {
            let sanitizer = Sanitizer::new(Url::parse("https://blog.example/").ok().as_ref());
            let out = sanitizer.clean(&html);
            BASE.with_borrow_mut(|b| *b = Url::parse("https://blog.example/").ok());
            let slow = BUILDER.clean(&html).to_string();
            BASE.with_borrow_mut(|b| *b = None);
            proptest::prop_assert_eq!(&out, &slow);
            proptest::prop_assert_eq!(text_of_clean(&out), html_to_text(&out));
        }
    }
}
