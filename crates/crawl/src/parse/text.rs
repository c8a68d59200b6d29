//! Text that feeds call plain, and text made from HTML: titles, descriptions, and the
//! title of a post that has none.

use crate::sanitize::html_to_text;

/// Titles made from text are cut at this many characters.
const DERIVED_TITLE_CHARS: usize = 80;

/// The text of a feed `Text`: HTML titles (Atom `type="html"` or `"xhtml"`) lose their
/// markup.
pub(super) fn text_of(t: &feed_rs::model::Text) -> String {
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
pub(super) fn plain_text(s: &str) -> String {
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

pub(super) fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn derived_title(text: &str) -> String {
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
