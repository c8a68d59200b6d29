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
    BASE.with_borrow(|base| {
        base.as_ref()
            .and_then(|b| b.join(url).ok())
            .map(|u| Cow::Owned(u.into()))
    })
}

fn allow_list() -> Builder<'static> {
    let mut b = Builder::empty();
    b.tags(ALLOWED_TAGS.iter().copied().collect())
        .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("nofollow ugc noopener"))
        .strip_comments(true)
        .generic_attributes(["lang", "title", "dir"].into_iter().collect::<HashSet<_>>())
        .tag_attributes(
            [
                (
                    "a",
                    ["href", "hreflang"].into_iter().collect::<HashSet<_>>(),
                ),
                (
                    "img",
                    ["src", "alt", "width", "height"].into_iter().collect(),
                ),
                ("abbr", ["title"].into_iter().collect()),
                ("td", ["colspan", "rowspan"].into_iter().collect()),
                ("th", ["colspan", "rowspan", "scope"].into_iter().collect()),
                ("time", ["datetime"].into_iter().collect()),
                ("ol", ["start"].into_iter().collect()),
                ("code", ["class"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        // Images load without a click: only http(s) (or relative, made absolute below);
        // the scheme allow-list already drops data: and javascript:, this drops mailto:.
        .attribute_filter(|element, attribute, value| {
            if element == "img" && attribute == "src" {
                let lower = value.trim_start().to_ascii_lowercase();
                let scheme = lower
                    .split_once(':')
                    .map(|(s, _)| s)
                    .filter(|s| !s.contains('/'));
                if scheme.is_some_and(|s| s != "http" && s != "https") {
                    return None;
                }
            }
            if element == "code" && attribute == "class" && !value.starts_with("language-") {
                return None;
            }
            Some(value.into())
        })
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
        // Text without markup, entities or the characters the HTML parser rewrites comes
        // out of ammonia as it went in; skip the parse.
        if !html.contains(['<', '>', '&', '\r', '\0', '\u{a0}']) {
            return html.to_owned();
        }
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

/// Appends the words of one text node, separated from what came before by `gap`.
fn push_text(out: &mut String, gap: &mut Gap, t: &str) {
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
