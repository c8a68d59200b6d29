//! Sanitising feed HTML with a strict allow-list, and plain text for the tagger.
//!
//! Feed HTML is hostile input: it is rendered on our pages, so anything that can run code,
//! load a frame, restyle the page or submit a form is removed. Links keep only http(s) and
//! mailto targets and are marked `nofollow ugc noopener`, images only http(s) sources.

use ammonia::{Builder, UrlRelative};
use ego_tree::iter::Edge;
use scraper::{Html, Node};
use std::collections::HashSet;
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

/// A sanitiser configured for one base URL (relative links are made absolute against it).
pub struct Sanitizer {
    builder: Builder<'static>,
}

impl std::fmt::Debug for Sanitizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sanitizer")
    }
}

impl Sanitizer {
    pub fn new(base: Option<&Url>) -> Self {
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
            });
        match base {
            Some(base) => {
                b.url_relative(UrlRelative::RewriteWithBase(base.clone()));
            }
            None => {
                b.url_relative(UrlRelative::Deny);
            }
        }
        Self { builder: b }
    }

    /// Sanitised HTML, safe to embed in our pages.
    pub fn clean(&self, html: &str) -> String {
        self.builder.clean(html).to_string()
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
                    Node::Text(t) if opening && skip_depth == 0 => {
                        if t.starts_with(char::is_whitespace) {
                            gap = gap.max(Gap::Space);
                        }
                        for word in t.split_whitespace() {
                            if !out.is_empty() {
                                match gap {
                                    Gap::None => {}
                                    Gap::Space => out.push(' '),
                                    Gap::Break => out.push_str("\n\n"),
                                }
                            }
                            out.push_str(word);
                            gap = Gap::Space;
                        }
                        gap = if t.ends_with(char::is_whitespace) {
                            gap.max(Gap::Space)
                        } else if t.trim().is_empty() {
                            gap
                        } else {
                            Gap::None
                        };
                    }
                    _ => {}
                }
            }
        }
    }
    out
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
}
