//! Text that feeds call plain, and text made from HTML: titles, descriptions, names,
//! categories, and the title of a post that has none.
//!
//! Every field is decoded once, as its format declares it, and the result is plain text:
//! - declared HTML (Atom `type="html"` and `"xhtml"`) is reduced to its text: tags removed,
//!   entities decoded once, so `&amp;lt;script&amp;gt;` in the HTML is the text
//!   `&lt;script&gt;`;
//! - declared text (Atom `type="text"`, JSON Feed) is taken as it is, white space collapsed:
//!   a `<b>` in it is the three characters `<b>`;
//! - undeclared text (RSS, Dublin Core, `media:title`, people's names in every format) is
//!   HTML when it holds HTML tags, or any tag that is never meant as text (`<script>`, a
//!   tag with an attribute); otherwise it is text, in which references left over from
//!   escaping twice (`&#39;`) are decoded to the characters they stand for, but never to
//!   `<`, `>` or `&`: a second decode must not make markup (or another reference) out of
//!   text.

use crate::sanitize::html_to_text;

/// Titles made from text are cut at this many characters.
const DERIVED_TITLE_CHARS: usize = 80;
/// Longest category kept, in characters: longer is a sentence, not a tag.
pub(super) const MAX_CATEGORY_CHARS: usize = 64;

/// How a format declares a text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Declared {
    /// Plain text by definition (Atom `type="text"`, JSON Feed titles).
    Text,
    /// Said neither way (RSS titles and descriptions, names).
    Unsaid,
}

/// The text of a feed-rs `Text`: declared HTML (Atom `type="html"` or `"xhtml"`) loses
/// its markup; `text/plain` is what `plain` says it is (feed-rs calls RSS text plain too,
/// though RSS does not say).
pub(super) fn text_of(t: &feed_rs::model::Text, plain: Declared) -> String {
    if matches!(t.content_type.subty().as_str(), "html" | "xhtml") {
        html_to_text(&t.content)
    } else {
        text_as(&t.content, plain)
    }
}

/// Text declared (or not) as `declared`, decoded as the module doc says.
pub(super) fn text_as(s: &str, declared: Declared) -> String {
    match declared {
        Declared::Text => collapse(s),
        Declared::Unsaid if looks_like_html(s) => html_to_text(s),
        Declared::Unsaid if s.contains('&') => collapse(&decode_leftover_references(s)),
        Declared::Unsaid => collapse(s),
    }
}

/// White space collapsed to single spaces, ends trimmed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Character references in text (`&#39;`, `&eacute;`) decoded, except those that stand
/// for `<`, `>` or `&`, and those that are not characters text may hold: they stay as
/// written.
fn decode_leftover_references(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let name_len = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(rest.len() - 1);
        let reference = &rest[..1 + name_len];
        let decoded = rest[1 + name_len..]
            .starts_with(';')
            .then(|| decode_reference(&reference[1..]))
            .flatten()
            .filter(|c| !matches!(c, '<' | '>' | '&'));
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[reference.len() + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference (`#39`, `#x27`, `eacute`, without `&` and `;`) stands for,
/// when it is one character text may hold.
fn decode_reference(name: &str) -> Option<char> {
    let c = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(code)?
    } else {
        if name.is_empty() || name.len() > 32 {
            return None;
        }
        let text = html_to_text(&format!("&{name};"));
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => c,
            // `&nbsp;` comes out as white space, which the text collapses.
            (None, None) => ' ',
            _ => return None,
        }
    };
    (!c.is_control() || c.is_whitespace()).then_some(c)
}

/// A feed category as a tag's surface form, or `None` when nothing of a tag is left.
///
/// Categories are undeclared text: markup is reduced to its text first (a category that
/// is only an element, `<script>...</script>`, is gone). Then:
/// - invisible characters go: controls, bidirectional embeddings, overrides and isolates
///   (U+202A-U+202E, U+2066-U+2069, the marks), zero-width characters;
/// - a category holding what only code, markup and templates hold (`<`, `>`, `{`, `}`,
///   `=`, `;`, `"`, `` ` ``, `\`, `$`, `%`, a `javascript:`-like scheme) is dropped: it is an
///   injection attempt or a snippet, never a topic;
/// - the rest is slugged to words of letters, digits and marks (any script) joined by one
///   separator each (` `, `-`, `_`, `.`, `/`, `&`, `'`) standing between two word
///   characters; a word may end in `+`, `++` or `#` (`C++`, `C#`); anything else (`../`,
///   `?`, `#` in front, runs of separators) becomes one space;
/// - longer than [`MAX_CATEGORY_CHARS`] once slugged, it is dropped.
///
/// `C++`, `Node.js`, `CI/CD` and `Systems Programming` stay as written.
pub(super) fn category(raw: &str) -> Option<String> {
    let text = text_as(raw, Declared::Unsaid);
    let visible: String = text.chars().filter(|&c| !is_invisible(c)).collect();
    let lower = visible.to_ascii_lowercase();
    let code_like = visible.contains(['<', '>', '{', '}', '=', ';', '"', '`', '\\', '$', '%'])
        || ["javascript:", "vbscript:", "data:", "file:"]
            .iter()
            .any(|scheme| lower.contains(scheme));
    if code_like {
        return None;
    }
    let chars: Vec<char> = visible.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || unicode_mark(c);
    let mut out = String::with_capacity(visible.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_word = i > 0 && is_word(chars[i - 1]);
        let joins = matches!(c, ' ' | '-' | '_' | '.' | '/' | '&' | '\'' | '\u{2019}')
            && prev_word
            && chars.get(i + 1).is_some_and(|&n| is_word(n));
        if is_word(c) || joins {
            out.push(c);
        } else if c == '+' && prev_word {
            // `C++`, `Notepad++`: at most two, and only where the word ends.
            let run = chars[i..].iter().take_while(|&&p| p == '+').count();
            let ends = chars.get(i + run).is_none_or(|&n| !is_word(n));
            if run <= 2 && ends {
                out.extend(std::iter::repeat_n('+', run));
            } else if !out.ends_with(' ') {
                out.push(' ');
            }
            i += run;
            continue;
        } else if c == '#'
            && prev_word
            && chars.get(i + 1).is_none_or(|&n| !is_word(n))
            && word_before(&chars, i) <= 2
        {
            // `C#`, `F#`: a short word may end in one `#`.
            out.push('#');
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        i += 1;
    }
    let out = out.trim_end().to_owned();
    (out.chars().any(char::is_alphanumeric) && out.chars().count() <= MAX_CATEGORY_CHARS)
        .then_some(out)
}

/// Letters and digits before `chars[end]`.
fn word_before(chars: &[char], end: usize) -> usize {
    chars[..end]
        .iter()
        .rev()
        .take_while(|c| c.is_alphanumeric())
        .count()
}

/// Combining marks (Unicode general category M): part of a word in many scripts
/// (Devanagari's virama is no letter).
fn unicode_mark(c: char) -> bool {
    !c.is_ascii() && unicode_normalization::char::is_combining_mark(c)
}

/// Invisible characters that change how text around them reads: controls (white space
/// aside), bidirectional controls, zero-width characters, soft hyphens.
pub(super) fn is_invisible(c: char) -> bool {
    (c.is_control() && !c.is_whitespace()) || kith_model::is_invisible(c)
}

/// Whether undeclared text holds markup: HTML tags, at least one, and every one an HTML
/// element (feedparser's test, roughly: `</example>` and `Vec<T>` stay text); or any tag
/// that only markup has, whatever else is there (`<script>`, `<x onclick=...>`), since
/// that is never meant as text.
pub(super) fn looks_like_html(s: &str) -> bool {
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
    /// Elements that run, load, embed or restyle something, or swallow what follows them,
    /// with no attribute at all. (`<link>` and `<meta>` need attributes to do anything, and
    /// any attribute makes text markup; bare, in a title about HTML, they stay text.)
    const ACTIVE: &[&str] = &[
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "form",
        "template",
        "noscript",
        "noembed",
        "noframes",
        "xmp",
        "plaintext",
        "textarea",
    ];
    let mut any = false;
    let mut foreign = false;
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
        let lower = name.to_ascii_lowercase();
        let tag_rest = &rest[name_len..];
        // An attribute with a value, inside a tag that closes.
        let attributes = tag_rest
            .find(['>', '<'])
            .filter(|&end| tag_rest.as_bytes()[end] == b'>')
            .is_some_and(|end| tag_rest[..end].contains('='));
        if ACTIVE.contains(&lower.as_str()) || attributes {
            return true;
        }
        if ELEMENTS.contains(&lower.as_str()) {
            any = true;
        } else {
            foreign = true;
        }
    }
    any && !foreign
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undeclared_text_is_html_only_when_it_holds_markup() {
        let t = |s| text_as(s, Declared::Unsaid);
        assert_eq!(t("Vec<T> and </example>"), "Vec<T> and </example>");
        assert_eq!(t("a < b && c > d"), "a < b && c > d");
        assert_eq!(t("<b>bold</b>  move"), "bold move");
        // One element that runs or loads something, or an attribute, makes it markup
        // whatever else is there.
        assert_eq!(t("<foo>x</foo><script>alert(1)</script>y"), "xy");
        assert_eq!(t("<foo onclick=alert(1)>x</foo>"), "x");
        assert_eq!(t("<meta http-equiv=refresh>y"), "y");
        // Inert without attributes: a title about HTML keeps its subject.
        assert_eq!(
            t("The <link> and <meta> elements"),
            "The <link> and <meta> elements"
        );
        assert_eq!(
            t("&lt;script&gt; &#60;b&#x3e; &amp;amp; &#39;ok&#39; &bogus; &#0;"),
            "&lt;script&gt; &#60;b&#x3e; &amp;amp; 'ok' &bogus; &#0;"
        );
        assert_eq!(t("caf&eacute;&nbsp;cr&egrave;me"), "café crème");
        // Declared text is what it says.
        assert_eq!(
            text_as(" <b>x</b>\n&#39; ", Declared::Text),
            "<b>x</b> &#39;"
        );
    }

    #[test]
    fn categories_are_slugged_or_dropped() {
        for (raw, want) in [
            ("Rust", Some("Rust")),
            ("C++", Some("C++")),
            ("Notepad++", Some("Notepad++")),
            ("a+b", Some("a b")),
            ("C#", Some("C#")),
            ("rust#", Some("rust")),
            ("R&D", Some("R&D")),
            ("Node.js", Some("Node.js")),
            ("CI/CD", Some("CI/CD")),
            ("..\\..\\boot.ini", None),
            ("../x/./y", Some("x y")),
            ("a -- b", Some("a b")),
            ("a\u{200f}b\u{2069}", Some("ab")),
            ("\u{0000}\u{0007}", None),
            ("${jndi:x}", None),
            ("x=1", None),
            ("<<>>", None),
            ("?!", None),
            ("日本語 テキスト", Some("日本語 テキスト")),
        ] {
            assert_eq!(category(raw).as_deref(), want, "{raw:?}");
        }
        // 64 characters at most.
        assert_eq!(category(&"word ".repeat(14)), None);
        assert_eq!(
            category(&"word ".repeat(13)).map(|c| c.chars().count()),
            Some(MAX_CATEGORY_CHARS)
        );
    }
}
