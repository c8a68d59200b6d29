//! The fast path of [`Sanitizer::clean_with_text`](super::Sanitizer::clean_with_text): one
//! scan that gives what ammonia gives, byte for byte, for the HTML that feeds mostly carry,
//! and the plain text of the result in the same pass.
//!
//! ammonia parses the fragment with html5ever (a tree built by the HTML5 rules, with all
//! their repairs), filters the tree and serialises it. For HTML whose tags already spell out
//! the tree those rules would build, the tree is the token stream, and filtering and
//! serialising can happen as the tokens go by. This scan accepts only such HTML and gives up
//! (`None`: the caller runs ammonia) at the first thing whose outcome depends on more than
//! the token in hand:
//! - an end tag that does not close the element open last (implied end tags, the adoption
//!   agency, ignored end tags), a void element's end tag, `<p/>`-style self-closing tags;
//! - a start tag the rules would close something for first (a block inside an open `<p>`,
//!   `<li>` in an open `<li>`, a heading in a heading, `<a>` inside `<a>`), or would put
//!   elsewhere (anything but whitespace, the next table part, or a comment directly inside a
//!   table, a row group or a row);
//! - elements parsed in another tokenizer state or namespace (`script`, `style`, `textarea`,
//!   `svg`, `math`, ...), doctype, processing instructions, `<![CDATA[`;
//! - any element name outside a known list, character references outside a known list,
//!   unquoted attribute values holding quotes, `<` or `=`, NUL.
//!
//! What it accepts goes through ammonia's own steps in ammonia's order (allow-list, URL
//! schemes, `rel`, the attribute filter, relative URLs, each removal a `swap_remove` as
//! ammonia does it) and html5ever's serialiser escaping. `fast_path_agrees_with_ammonia`
//! (a property test) and the corpus test in `parse::tests` compare it with ammonia.

use super::{
    ALLOWED_TAGS, DROPPED_WITH_CONTENT, Gap, LINK_REL, URL_SCHEMES, attribute_allowed,
    filter_attribute, push_text, resolve_against,
};
use memchr::{memchr, memchr2, memchr3};
use std::borrow::Cow;
use url::Url;

/// Sanitised HTML and its plain text, or `None` when ammonia must decide.
pub(super) fn clean(src: &str, base: Option<&Url>) -> Option<(String, String)> {
    // NUL, and a leading byte-order mark (which html5ever drops and the scan would keep:
    // found by the `sanitizer` fuzz target), are ammonia's to handle.
    if memchr(0, src.as_bytes()).is_some() || src.starts_with('\u{feff}') {
        return None;
    }
    // The HTML tokenizer's first step: CR LF and lone CR become LF.
    let src: Cow<'_, str> = if memchr(b'\r', src.as_bytes()).is_some() {
        Cow::Owned(src.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(src)
    };
    let mut scan = Scan {
        src: &src,
        base,
        // Links gain a `rel` and relative addresses grow: room for that, so that the
        // output is not copied as it grows. The text is never longer than the HTML.
        html: String::with_capacity(src.len() + src.len() / 4),
        text: String::with_capacity(src.len()),
        gap: Gap::None,
        stack: Vec::new(),
        attrs: Vec::new(),
        ignore_lf: false,
        dropped: 0,
        pos: 0,
    };
    scan.run()?;
    Some((scan.html, scan.text))
}

/// Where the fast path gives up on `src` (after CR LF normalisation), for finding what it
/// should learn next; `None` when it does not.
#[cfg(test)]
pub(super) fn refusal(src: &str, base: Option<&Url>) -> Option<usize> {
    let src = src.replace("\r\n", "\n").replace('\r', "\n");
    let mut scan = Scan {
        src: &src,
        base,
        html: String::new(),
        text: String::new(),
        gap: Gap::None,
        stack: Vec::new(),
        attrs: Vec::new(),
        ignore_lf: false,
        dropped: 0,
        pos: 0,
    };
    match scan.run() {
        Some(()) => None,
        None => Some(scan.pos),
    }
}

/// How an element takes part in tree building, as far as the scan needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nothing special: inserted where it is.
    Ordinary,
    /// A formatting element (`b`, `em`, `a`, ...): inserted where it is while nested
    /// properly.
    Formatting,
    /// No content, no end tag (`br`, `img`).
    Void,
    /// Closes an open `<p>` first (`div`, `ul`, `blockquote`, ...).
    Block,
    /// `hr`: closes a `<p>` and is void.
    Rule,
    Heading,
    /// `pre`: a block whose first newline is dropped.
    Pre,
    ListItem,
    /// `dd` and `dt`.
    Definition,
    Table,
    /// `thead`, `tbody`, `tfoot`.
    RowGroup,
    Row,
    Cell,
    Caption,
    /// Content read as text up to its end tag (`script`, `style`, `iframe`, ...), all of it
    /// removed by ammonia.
    RawText,
}

#[derive(Debug, Clone, Copy)]
struct Element {
    name: &'static str,
    kind: Kind,
    /// Kept by the allow-list; otherwise unwrapped (its content kept, its tags not) or,
    /// when `dropped`, removed with its content.
    allowed: bool,
    dropped: bool,
    /// Separates the text before it from the text after ([`is_block`]).
    block: bool,
}

/// The elements the scan knows: the allowed ones and a few that ammonia unwraps.
fn element(name: &str) -> Option<Element> {
    use Kind::*;
    Some(match name {
        "a" => const { el("a", Formatting) },
        "abbr" => const { el("abbr", Ordinary) },
        "b" => const { el("b", Formatting) },
        "blockquote" => const { el("blockquote", Block) },
        "br" => const { el("br", Void) },
        "caption" => const { el("caption", Caption) },
        "cite" => const { el("cite", Ordinary) },
        "code" => const { el("code", Formatting) },
        "dd" => const { el("dd", Definition) },
        "del" => const { el("del", Ordinary) },
        "details" => const { el("details", Block) },
        "dfn" => const { el("dfn", Ordinary) },
        "div" => const { el("div", Block) },
        "dl" => const { el("dl", Block) },
        "dt" => const { el("dt", Definition) },
        "em" => const { el("em", Formatting) },
        "figcaption" => const { el("figcaption", Block) },
        "figure" => const { el("figure", Block) },
        "h1" => const { el("h1", Heading) },
        "h2" => const { el("h2", Heading) },
        "h3" => const { el("h3", Heading) },
        "h4" => const { el("h4", Heading) },
        "h5" => const { el("h5", Heading) },
        "h6" => const { el("h6", Heading) },
        "hr" => const { el("hr", Rule) },
        "i" => const { el("i", Formatting) },
        "img" => const { el("img", Void) },
        "ins" => const { el("ins", Ordinary) },
        "kbd" => const { el("kbd", Ordinary) },
        "li" => const { el("li", ListItem) },
        "mark" => const { el("mark", Ordinary) },
        "ol" => const { el("ol", Block) },
        "p" => const { el("p", Block) },
        "pre" => const { el("pre", Pre) },
        "q" => const { el("q", Ordinary) },
        "s" => const { el("s", Formatting) },
        "samp" => const { el("samp", Ordinary) },
        "small" => const { el("small", Formatting) },
        "span" => const { el("span", Ordinary) },
        "strong" => const { el("strong", Formatting) },
        "sub" => const { el("sub", Ordinary) },
        "summary" => const { el("summary", Block) },
        "sup" => const { el("sup", Ordinary) },
        "table" => const { el("table", Table) },
        "tbody" => const { el("tbody", RowGroup) },
        "td" => const { el("td", Cell) },
        "tfoot" => const { el("tfoot", RowGroup) },
        "th" => const { el("th", Cell) },
        "thead" => const { el("thead", RowGroup) },
        "time" => const { el("time", Ordinary) },
        "tr" => const { el("tr", Row) },
        "u" => const { el("u", Formatting) },
        "ul" => const { el("ul", Block) },
        "var" => const { el("var", Ordinary) },
        // Unwrapped by ammonia; HTML elements with no namespace of their own.
        "article" => const { el("article", Block) },
        "aside" => const { el("aside", Block) },
        "center" => const { el("center", Block) },
        "footer" => const { el("footer", Block) },
        "header" => const { el("header", Block) },
        "main" => const { el("main", Block) },
        "nav" => const { el("nav", Block) },
        "section" => const { el("section", Block) },
        "big" => const { el("big", Formatting) },
        "font" => const { el("font", Formatting) },
        "strike" => const { el("strike", Formatting) },
        "tt" => const { el("tt", Formatting) },
        "source" => const { el("source", Void) },
        "track" => const { el("track", Void) },
        "wbr" => const { el("wbr", Void) },
        // Removed with their content.
        "audio" => const { el("audio", Ordinary) },
        "video" => const { el("video", Ordinary) },
        "canvas" => const { el("canvas", Ordinary) },
        "embed" => const { el("embed", Void) },
        "iframe" => const { el("iframe", RawText) },
        "noembed" => const { el("noembed", RawText) },
        "noframes" => const { el("noframes", RawText) },
        "noscript" => const { el("noscript", RawText) },
        "script" => const { el("script", RawText) },
        "style" => const { el("style", RawText) },
        "textarea" => const { el("textarea", RawText) },
        _ => return None,
    })
}

/// An element's entry, its flags read from the lists at compile time.
const fn el(name: &'static str, kind: Kind) -> Element {
    Element {
        name,
        kind,
        allowed: listed(ALLOWED_TAGS, name),
        dropped: listed(DROPPED_WITH_CONTENT, name),
        block: listed(BLOCK_ELEMENTS, name),
    }
}

/// The elements [`is_block`] names (a test keeps the two together).
const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "tr",
    "td",
    "th",
    "table",
    "dd",
    "dt",
    "dl",
    "figure",
    "figcaption",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "details",
    "summary",
];

const fn listed(list: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        let (a, b) = (list[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// HTML's "special" category, among the elements the scan keeps open: what stops the
/// search for an open `li`, `dd` or `dt`.
fn is_special(kind: Kind) -> bool {
    !matches!(kind, Kind::Ordinary | Kind::Formatting)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0c)
}

/// One attribute as the tokenizer reads it: name lowercased, value decoded.
struct Attr<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
    /// The value is a relative URL (ammonia's `is_url_relative`).
    relative: bool,
}

struct Scan<'a, 'b> {
    src: &'a str,
    base: Option<&'b Url>,
    html: String,
    text: String,
    gap: Gap,
    /// Open elements (the fragment's `html` root below them).
    stack: Vec<Element>,
    attrs: Vec<Attr<'a>>,
    /// Just after `<pre>`: a newline starting the next text is dropped.
    ignore_lf: bool,
    /// Open elements that ammonia removes with their content: nothing is written while
    /// there are any.
    dropped: usize,
    /// Where the token being read starts (where the scan gave up, when it does).
    pos: usize,
}

impl<'a> Scan<'a, '_> {
    fn run(&mut self) -> Option<()> {
        let src = self.src;
        let bytes = src.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            self.pos = i;
            let next = memchr2(b'<', b'&', &bytes[i..]).map_or(bytes.len(), |p| i + p);
            if next > i {
                self.text(&src[i..next])?;
            }
            if next == bytes.len() {
                break;
            }
            self.pos = next;
            if bytes[next] == b'&' {
                let mut buf = [0; 4];
                let (decoded, len) = reference(&src[next + 1..], &mut buf)?;
                self.text(decoded)?;
                i = next + 1 + len;
            } else {
                i = self.markup(next)?;
            }
        }
        while let Some(open) = self.stack.pop() {
            self.write_end(open);
        }
        Some(())
    }

    /// Character data, decoded.
    fn text(&mut self, s: &str) -> Option<()> {
        let s = if std::mem::take(&mut self.ignore_lf) {
            s.strip_prefix('\n').unwrap_or(s)
        } else {
            s
        };
        if s.is_empty() {
            return Some(());
        }
        if self.in_table_part() && !s.bytes().all(is_space) {
            return None; // foster parenting
        }
        if self.dropped > 0 {
            return Some(());
        }
        escape(&mut self.html, s, false);
        push_text(&mut self.text, &mut self.gap, s);
        Some(())
    }

    /// Whether the open element is a table, row group or row, where text is moved out.
    fn in_table_part(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|e| matches!(e.kind, Kind::Table | Kind::RowGroup | Kind::Row))
    }

    /// A `<` at `at`; returns where the scan goes on.
    fn markup(&mut self, at: usize) -> Option<usize> {
        let src = self.src;
        let rest = &src[at..];
        let after = rest.as_bytes().get(1).copied();
        match after {
            Some(b'!') => {
                let body = rest.strip_prefix("<!--")?;
                if body.starts_with('>') || body.starts_with("->") {
                    return None;
                }
                let end = body.find("-->")?;
                if body[..end].contains("--!>") {
                    return None;
                }
                self.ignore_lf = false;
                Some(at + 4 + end + 3)
            }
            Some(b'/') => {
                let name_len = rest[2..]
                    .bytes()
                    .position(|b| is_space(b) || b == b'/' || b == b'>')?;
                let name = &rest[2..2 + name_len];
                if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    return None;
                }
                let after_name = &rest[2 + name_len..];
                let spaces = after_name.bytes().take_while(|b| is_space(*b)).count();
                if after_name.as_bytes().get(spaces) != Some(&b'>') {
                    return None;
                }
                self.ignore_lf = false;
                self.end_tag(&lowercase(name))?;
                Some(at + 2 + name_len + spaces + 1)
            }
            Some(b) if b.is_ascii_alphabetic() => {
                self.ignore_lf = false;
                let len = self.start_tag(at)?;
                Some(at + len)
            }
            Some(b'?') => None,
            // `a < b`: a `<` that starts no tag is text.
            _ => {
                self.text("<")?;
                Some(at + 1)
            }
        }
    }

    fn end_tag(&mut self, name: &str) -> Option<()> {
        let open = self.stack.last()?;
        if open.name != name {
            return None;
        }
        let open = self.stack.pop()?;
        self.write_end(open);
        Some(())
    }

    fn write_end(&mut self, e: Element) {
        if e.dropped {
            self.dropped -= 1;
        }
        if e.allowed && self.dropped == 0 {
            self.html.push_str("</");
            self.html.push_str(e.name);
            self.html.push('>');
            if e.block {
                self.gap = Gap::Break;
            }
        }
    }

    /// A start tag at `at`; returns its length.
    fn start_tag(&mut self, at: usize) -> Option<usize> {
        let src = self.src;
        let bytes = src.as_bytes();
        let name_start = at + 1;
        let name_len = bytes[name_start..]
            .iter()
            .position(|&b| is_space(b) || b == b'/' || b == b'>')?;
        let e = element(&lowercase(&src[name_start..name_start + name_len]))?;
        let mut i = name_start + name_len;
        self.attrs.clear();
        let self_closing = loop {
            while is_space(*bytes.get(i)?) {
                i += 1;
            }
            match bytes[i] {
                b'>' => {
                    i += 1;
                    break false;
                }
                b'/' => {
                    if bytes.get(i + 1) != Some(&b'>') {
                        return None;
                    }
                    i += 2;
                    break true;
                }
                _ => {}
            }
            let name_len = bytes[i..]
                .iter()
                .position(|&b| is_space(b) || b == b'/' || b == b'>' || b == b'=')?;
            let name = &src[i..i + name_len];
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
            {
                return None;
            }
            i += name_len;
            while is_space(*bytes.get(i)?) {
                i += 1;
            }
            let value = if bytes[i] == b'=' {
                i += 1;
                while is_space(*bytes.get(i)?) {
                    i += 1;
                }
                match bytes[i] {
                    quote @ (b'"' | b'\'') => {
                        let len = memchr(quote, &bytes[i + 1..])?;
                        let raw = &src[i + 1..i + 1 + len];
                        i += len + 2;
                        if !matches!(bytes.get(i), Some(b) if is_space(*b) || *b == b'/' || *b == b'>')
                        {
                            return None;
                        }
                        decode_attribute(raw)?
                    }
                    b'>' => return None,
                    _ => {
                        let len = bytes[i..].iter().position(|&b| is_space(b) || b == b'>')?;
                        let raw = &src[i..i + len];
                        if raw
                            .bytes()
                            .any(|b| matches!(b, b'"' | b'\'' | b'<' | b'=' | b'`'))
                        {
                            return None;
                        }
                        i += len;
                        decode_attribute(raw)?
                    }
                }
            } else {
                Cow::Borrowed("")
            };
            let name = lowercase(name);
            // The tokenizer keeps the first of attributes with the same name.
            if !self.attrs.iter().any(|a| a.name == name) {
                self.attrs.push(Attr {
                    name,
                    value,
                    relative: false,
                });
            }
        };
        if self_closing && !matches!(e.kind, Kind::Void | Kind::Rule) {
            return None;
        }
        if e.kind == Kind::RawText {
            // Removed with everything up to its end tag, which the tokenizer finds without
            // reading what is in between (unless a script holds `<!--`, which changes
            // where it ends).
            if self.in_table_part() {
                return None;
            }
            let content = &src[i..];
            let end = raw_text_end(content, e.name)?;
            if e.name == "script" && content[..end].contains("<!--") {
                return None;
            }
            let close = &content[end + 2 + e.name.len()..];
            let spaces = close.bytes().take_while(|b| is_space(*b)).count();
            if close.as_bytes().get(spaces) != Some(&b'>') {
                return None;
            }
            return Some(i + end + 2 + e.name.len() + spaces + 1 - at);
        }
        self.open(e)?;
        Some(i - at)
    }

    /// The tree builder's part for a start tag: refuse what it would repair, else insert.
    fn open(&mut self, e: Element) -> Option<()> {
        let top = self.stack.last().map(|t| t.kind);
        match (top, e.kind) {
            // Inside table parts only the next part goes in.
            (Some(Kind::Table), Kind::Caption | Kind::RowGroup)
            | (Some(Kind::RowGroup), Kind::Row)
            | (Some(Kind::Row), Kind::Cell) => {}
            (Some(Kind::Table | Kind::RowGroup | Kind::Row), _) => return None,
            // Table parts anywhere else are ignored by the parser.
            (_, Kind::Caption | Kind::RowGroup | Kind::Row | Kind::Cell) => return None,
            (_, Kind::Block | Kind::Rule | Kind::Pre | Kind::Table) => {
                if self.p_in_button_scope() {
                    return None;
                }
            }
            (_, Kind::Heading) => {
                if self.p_in_button_scope() || top == Some(Kind::Heading) {
                    return None;
                }
            }
            (_, Kind::ListItem | Kind::Definition) => {
                for open in self.stack.iter().rev() {
                    let closes = if e.kind == Kind::ListItem {
                        open.kind == Kind::ListItem
                    } else {
                        open.kind == Kind::Definition
                    };
                    if closes {
                        return None;
                    }
                    if is_special(open.kind) && !matches!(open.name, "div" | "p") {
                        break;
                    }
                }
                if self.p_in_button_scope() {
                    return None;
                }
            }
            (_, Kind::Formatting) => {
                if e.name == "a" && self.stack.iter().any(|o| o.name == "a") {
                    return None;
                }
            }
            (_, Kind::Ordinary | Kind::Void | Kind::RawText) => {}
        }
        if e.allowed && self.dropped == 0 {
            self.write_start(e);
        }
        if !matches!(e.kind, Kind::Void | Kind::Rule) {
            self.stack.push(e);
            if e.dropped {
                self.dropped += 1;
            }
        }
        if e.kind == Kind::Pre {
            self.ignore_lf = true;
        }
        Some(())
    }

    /// Whether a `p` is open with no table part between it and the open element.
    fn p_in_button_scope(&self) -> bool {
        for open in self.stack.iter().rev() {
            if open.name == "p" {
                return true;
            }
            if matches!(open.kind, Kind::Table | Kind::Cell | Kind::Caption) {
                return false;
            }
        }
        false
    }

    /// An allowed element's start tag, its attributes through ammonia's steps.
    fn write_start(&mut self, e: Element) {
        let name = e.name;
        // ammonia's `clean_child`: the allow-list, and URL attributes by scheme.
        self.attrs.retain_mut(|a| {
            if !attribute_allowed(name, &a.name) {
                return false;
            }
            if is_url_attribute(name, &a.name) {
                if plain_web_address(&a.value) {
                    return true; // `Url::parse` takes it, scheme http(s)
                }
                match Url::parse(&a.value) {
                    Ok(url) => return URL_SCHEMES.contains(&url.scheme()),
                    Err(url::ParseError::RelativeUrlWithoutBase) => a.relative = true,
                    Err(_) => return false,
                }
            }
            true
        });
        // `adjust_node_attributes`: `rel` on links, then the attribute filter, then
        // relative URLs, removals by `swap_remove` from the last.
        if name == "a" {
            self.attrs.push(Attr {
                name: Cow::Borrowed("rel"),
                value: Cow::Borrowed(LINK_REL),
                relative: false,
            });
        }
        let mut i = self.attrs.len();
        while i > 0 {
            i -= 1;
            let a = &self.attrs[i];
            // The filter only keeps or drops; it never rewrites a value.
            if filter_attribute(name, &a.name, &a.value).is_none() {
                self.attrs.swap_remove(i);
            }
        }
        let mut dropped = Vec::new();
        for (i, a) in self.attrs.iter_mut().enumerate() {
            if a.relative {
                match resolve_against(self.base, &a.value) {
                    Some(url) => a.value = Cow::Owned(url),
                    None => dropped.push(i),
                }
            }
        }
        for i in dropped.into_iter().rev() {
            self.attrs.swap_remove(i);
        }
        self.html.push('<');
        self.html.push_str(name);
        for a in &self.attrs {
            self.html.push(' ');
            self.html.push_str(&a.name);
            self.html.push_str("=\"");
            escape(&mut self.html, &a.value, true);
            self.html.push('"');
        }
        self.html.push('>');
        if e.block {
            self.gap = Gap::Break;
        }
    }
}

/// Where the end tag of a raw text element starts in its content: `</name` (in any case)
/// followed by white space, `/` or `>`.
fn raw_text_end(content: &str, name: &str) -> Option<usize> {
    let bytes = content.as_bytes();
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&bytes[from..], b"</") {
        let at = from + p;
        let after = &bytes[at + 2..];
        if after.len() >= name.len()
            && after[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            && after
                .get(name.len())
                .is_some_and(|b| is_space(*b) || *b == b'/' || *b == b'>')
        {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Whether `url` is an http(s) address that `Url::parse` surely reads, by a scan of its
/// shape (ammonia keeps such a value as written; only whether it parses matters):
/// `http` or `https`, `://`, a host of letters, digits and inner hyphens in dot-separated
/// labels (none IDNA-encoded, the last not a number, so that no IP address or IDNA rule
/// applies), an optional port, then nothing or a path, query or fragment, which the URL
/// parser never refuses. Anything else is left to `Url::parse`.
fn plain_web_address(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port
        && !(port.len() <= 4 && port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let mut labels = 0;
    let mut last = "";
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
            && !label
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("xn--"));
        if !ok {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels > 0
        && last.bytes().any(|b| b.is_ascii_alphabetic())
        && !last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
}

/// ammonia's `is_url_attr`, for the elements the scan keeps.
fn is_url_attribute(element: &str, attribute: &str) -> bool {
    attribute == "href" || attribute == "src" || (element == "a" && attribute == "ping")
}

fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// An attribute value with its character references decoded.
fn decode_attribute(raw: &str) -> Option<Cow<'_, str>> {
    let Some(first) = memchr(b'&', raw.as_bytes()) else {
        return Some(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    let mut at = first;
    loop {
        out.push_str(&rest[..at]);
        let mut buf = [0; 4];
        let (decoded, len) = reference(&rest[at + 1..], &mut buf)?;
        out.push_str(decoded);
        rest = &rest[at + 1 + len..];
        match memchr(b'&', rest.as_bytes()) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// The character reference after an `&`: its text (in `buf` for numeric references) and
/// the length read after the `&`. `None` for references whose reading depends on rules
/// the scan does not follow (names without `;`, names outside [`named_reference`],
/// numbers that the parser replaces or that are control characters).
fn reference<'b>(after: &str, buf: &'b mut [u8; 4]) -> Option<(&'b str, usize)> {
    let bytes = after.as_bytes();
    match bytes.first() {
        Some(b'#') => {
            let (digits, radix, skip) = match bytes.get(1) {
                Some(b'x' | b'X') => (&after[2..], 16, 2),
                _ => (&after[1..], 10, 1),
            };
            let len = digits
                .bytes()
                .take_while(|b| {
                    if radix == 16 {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count();
            if len == 0 || len > 7 || digits.as_bytes().get(len) != Some(&b';') {
                return None;
            }
            let code = u32::from_str_radix(&digits[..len], radix).ok()?;
            let safe = matches!(code, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfdcf | 0xfdf0..=0x10ffff)
                && code & 0xfffe != 0xfffe;
            if !safe {
                return None;
            }
            let c = char::from_u32(code)?;
            Some((c.encode_utf8(buf), skip + len + 1))
        }
        Some(b) if b.is_ascii_alphanumeric() => {
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            if bytes.get(len) != Some(&b';') {
                return None;
            }
            Some((named_reference(&after[..len])?, len + 1))
        }
        // A lone `&` is text.
        _ => Some(("&", 0)),
    }
}

/// HTML named character references (with their `;`) that feeds use most.
fn named_reference(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "hellip" => "\u{2026}",
        "mdash" => "\u{2014}",
        "ndash" => "\u{2013}",
        "lsquo" => "\u{2018}",
        "rsquo" => "\u{2019}",
        "ldquo" => "\u{201c}",
        "rdquo" => "\u{201d}",
        "laquo" => "\u{ab}",
        "raquo" => "\u{bb}",
        "copy" => "\u{a9}",
        "reg" => "\u{ae}",
        "trade" => "\u{2122}",
        "middot" => "\u{b7}",
        "bull" => "\u{2022}",
        "euro" => "\u{20ac}",
        "pound" => "\u{a3}",
        "deg" => "\u{b0}",
        "times" => "\u{d7}",
        "rarr" => "\u{2192}",
        "larr" => "\u{2190}",
        "eacute" => "\u{e9}",
        "egrave" => "\u{e8}",
        "agrave" => "\u{e0}",
        "ccedil" => "\u{e7}",
        "uuml" => "\u{fc}",
        "ouml" => "\u{f6}",
        "auml" => "\u{e4}",
        "szlig" => "\u{df}",
        _ => return None,
    })
}

/// html5ever's serialiser escaping: `&`, no-break space, `<` and `>` always, `"` in
/// attribute values.
fn escape(out: &mut String, s: &str, attribute: bool) {
    let quote = if attribute { b'"' } else { b'<' };
    let bytes = s.as_bytes();
    // Short text (most of it, between tags) is checked byte by byte, which costs less
    // than setting up the vector searches.
    if bytes.len() < 32
        && !bytes
            .iter()
            .any(|&b| matches!(b, b'&' | b'<' | b'>' | 0xc2) || b == quote)
    {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    while start < bytes.len() {
        let rest = &bytes[start..];
        let stop = memchr3(quote, b'<', b'>', rest).unwrap_or(rest.len());
        let next = memchr2(b'&', 0xc2, &rest[..stop]).unwrap_or(stop) + start;
        out.push_str(&s[start..next]);
        if next == bytes.len() {
            break;
        }
        start = next + 1;
        match bytes[next] {
            b'&' => out.push_str("&amp;"),
            b'"' => out.push_str("&quot;"),
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            _ if bytes.get(next + 1) == Some(&0xa0) => {
                out.push_str("&nbsp;");
                start += 1;
            }
            // 0xc2 leading another character: copied with it.
            _ => {
                let len = s[next..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&s[next..next + len]);
                start = next + len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{Sanitizer, html_to_text, is_block};
    use super::*;
    use proptest::strategy::Strategy;

    fn base() -> Url {
        Url::parse("https://blog.example/posts/").unwrap()
    }

    /// The fast path's answer beside ammonia's, when it answers.
    fn check(html: &str) -> Option<(String, String)> {
        let base = base();
        let fast = clean(html, Some(&base));
        eprintln!("FASTSTAT {} {}", fast.is_some(), html.len());
        let fast = fast?;
        let slow = Sanitizer::new(Some(&base)).clean_with_ammonia(html);
        assert_eq!(fast.0, slow, "html for {html:?}");
        assert_eq!(fast.1, html_to_text(&slow), "text for {html:?}");
        Some(fast)
    }

    /// Found by the `sanitizer` fuzz target: html5ever drops a leading byte-order mark.
    #[test]
    fn a_leading_byte_order_mark_is_left_to_ammonia() {
        let html = "\u{feff}<!--\nDescription: rss feed with byte order mark\n-->\n";
        assert!(clean(html, Some(&base())).is_none());
        assert_eq!(Sanitizer::new(Some(&base())).clean_with_ammonia(html), "\n");
        // Anywhere else it is content, and both paths keep it.
        check("<p>a\u{feff}b</p>");
    }

    #[test]
    fn blog_html_takes_the_fast_path() {
        for html in [
            "<p>Hello <a href=\"/x\" title=\"T\" class=\"c\" target=_blank>world</a> &amp; more&hellip;</p>\n<p><img src=\"a.png\" alt='a \"b\"' loading=lazy></p>",
            "<h2 id=\"intro\">Intro</h2><pre><code class=\"language-rust\">fn main() {\n    x &lt; y\n}</code></pre>",
            "<pre>\nfirst line kept\n</pre><ul>\n<li>one</li>\n<li><b>two</b><br/>three</li>\n</ul>",
            "<table>\n<thead><tr><th scope=col>a</th></tr></thead>\n<tbody><tr><td colspan=\"2\">b</td></tr></tbody></table>",
            "<blockquote><p>q&#8217;s &#x27;x&#39;</p></blockquote><!-- a comment --><hr/><figure><img src=\"https://cdn.example/i.png\"><figcaption>c</figcaption></figure>",
            "<A HREF=\"mailto:a@b.c\" REL=me>m</A> <img src=\"javascript:alert(1)\" alt=x> <a href=\"data:x\">d</a> <code class=\"x\">c</code>",
            "<section><p>unwrapped <font>f</font></p><center>c</center></section>\u{a0}x > y",
            "<p>text",
            "<style scoped>p { a: b }</style><p>a<script>if (a<b) {}</SCRIPT ></p><iframe src=\"https://v.example/\"></iframe>\n<video controls>\n<source src=\"v.mp4\"><p>old browser</p></video>",
        ] {
            assert!(check(html).is_some(), "fast path refused {html:?}");
        }
    }

    #[test]
    fn element_flags_follow_the_lists() {
        let names = ALLOWED_TAGS.iter().chain(DROPPED_WITH_CONTENT).chain(&[
            "article", "aside", "center", "footer", "header", "main", "nav", "section", "big",
            "font", "strike", "tt", "source", "track", "wbr", "x",
        ]);
        for name in names {
            if let Some(e) = element(name) {
                assert_eq!(e.name, *name);
                assert_eq!(e.allowed, ALLOWED_TAGS.contains(name), "{name}");
                assert_eq!(e.dropped, DROPPED_WITH_CONTENT.contains(name), "{name}");
                assert_eq!(e.block, is_block(name), "{name}");
            }
        }
        for name in BLOCK_ELEMENTS {
            assert!(is_block(name), "{name}");
        }
    }

    #[test]
    fn repairs_are_left_to_ammonia() {
        for html in [
            "<p>a<div>b</div></p>",
            "<li>a<li>b",
            "<b><i>x</b></i>",
            "<table><tr><td>x</td></tr></table>",
            "<table>text</table>",
            "<script><!--x</script>-->",
            "<style>p {}",
            "<p/>",
            "<a href=x><a href=y>",
            "&copy 2024",
            "a\0b",
            "<svg></svg>",
            "<h1><h2>x</h2></h1>",
            "</p>",
        ] {
            assert!(clean(html, None).is_none(), "fast path took {html:?}");
        }
    }

    /// Bits of text, references and comments.
    fn leaf() -> impl Strategy<Value = String> {
        proptest::prop_oneof![
            6 => "[a-zA-Z]{1,6}|[ \n\t]{1,2}|\u{a0}|é|—|>|\"|'|=|/|;|#|\r\n?|< |&|&&",
            2 => "&(amp|lt|gt|quot|apos|nbsp|hellip|rsquo|eacute|copy|notanentity|#39|#x27|#8217|#10|#65|#xe9);",
            1 => "<!--[a-z -]{0,6}-->",
            1 => "<(script|SCRIPT|style|iframe src=x|textarea|noscript)>(a|<b>|\n|<!--x-->|</scrip|</p>)*</(script|SCRIPT|style|iframe|textarea|noscript)( |/)?>",
            1 => "<(video|audio) controls>(<source src=a>|<track/>|x|<p>y</p>)*</(video|audio)>|<embed src=x>|<wbr>",
        ]
    }

    /// An attribute as HTML writes it, in any of its spellings.
    fn attribute() -> impl Strategy<Value = String> {
        (
            "(href|src|alt|title|class|id|lang|dir|colspan|scope|datetime|start|HREF|Src|onclick|rel|width|hreflang)",
            proptest::prop_oneof![
                "(/x|x.png|https://a.example/b\\?q=1&amp;r=2|javascript:alert\\(1\\)|mailto:a@b|data:x|//cdn.example/i|http://\\[|language-rust|a&amp;b|ftp://f|#top|\\.\\./up| /sp|a\u{a0}b|x&quot;y|<b>)",
                "[a-z0-9 .]{0,6}",
            ],
            0..4usize,
        )
            .prop_map(|(name, value, quoting)| match quoting {
                0 => format!(" {name}=\"{}\"", value.replace('"', "&quot;")),
                1 => format!(" {name}='{}'", value.replace('\'', "&apos;")),
                2 if !value.is_empty() && !value.contains([' ', '"', '\'', '<', '=', '\u{a0}']) => {
                    format!(" {name}={value}")
                }
                _ => format!(" {name}"),
            })
    }

    /// Well-nested HTML, as blogs write it (with the odd mistake from `leaf` and the
    /// element mix: blocks in paragraphs, table parts out of place).
    fn tree() -> impl Strategy<Value = String> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            (
                "(p|b|i|em|strong|span|div|ul|ol|li|h2|h3|pre|code|a|blockquote|section|center|font|dl|dt|dd|details|summary|figure|figcaption|sup|q|time|abbr|table|tbody|tr|td|th|caption|P|A|Code)",
                proptest::collection::vec(attribute(), 0..3),
                proptest::collection::vec(inner, 0..6),
                proptest::prop_oneof![
                    3 => proptest::strategy::Just(String::new()),
                    1 => "<(br|img src=i.png|hr|img alt=x src=\"/a\"/|br/)>",
                ],
                proptest::bool::weighted(0.9),
            )
                .prop_map(|(name, attrs, children, void, closed)| {
                    let mut html = format!("<{name}{}>{void}", attrs.concat());
                    if name.eq_ignore_ascii_case("pre") {
                        html.push('\n');
                    }
                    html.push_str(&children.concat());
                    if closed {
                        html.push_str(&format!("</{name}>"));
                    }
                    html
                })
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]

        // What the shape scan calls a plain web address, the URL parser reads as http(s).
        #[test]
        fn plain_web_addresses_parse(
            url in "(https?|HTTP|ftp)(://|:/|:)((xn--)?[a-zA-Z0-9-]{0,5}|0x1|[0-9]{1,3}|\\[::1\\]|é|a b|@)(\\.([a-zA-Z0-9-]{0,4}|[0-9]{1,4}|0x[0-9a-f]{1,3}))*(:[0-9]{0,6}|:x)?(/[a-z%.]{0,4}|\\?[^#]{0,4}|#.{0,3}|\\\\x|/\\.\\./)*"
        ) {
            if plain_web_address(&url) {
                let parsed = Url::parse(&url);
                proptest::prop_assert!(
                    parsed.as_ref().is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                    "{} read as {:?}", url, parsed
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        // As below, over well-nested HTML: most of it takes the fast path.
        #[test]
        fn fast_path_agrees_with_ammonia_on_nested_html(
            html in proptest::collection::vec(tree(), 1..4).prop_map(|parts| parts.concat())
        ) {
            check(&html);
        }

        // Whatever the fast path answers is what ammonia answers, and its text is the text
        // of that HTML.
        #[test]
        fn fast_path_agrees_with_ammonia(
            html in proptest::collection::vec(proptest::prop_oneof![
                4 => "[a-z]{1,5}|[ \n\t]{1,2}|\u{a0}|é|>|\"|'|=|/|;|#|\r\n?|<|&|&&",
                2 => "&(amp|lt|gt|quot|apos|nbsp|hellip|rsquo|eacute|copy|notanentity|AMP|#39|#x27|#8217|#128|#0|#x1F600|#10|#xD800|#65|#);?",
                4 => "<(p|b|i|em|strong|span|div|ul|ol|li|h2|h3|pre|code|br|img|hr|a|table|thead|tbody|tr|td|th|caption|blockquote|section|center|font|dl|dt|dd|details|summary|figure|figcaption|sup|script|style|textarea|svg|P|A|Img|unknown|q|time|abbr)",
                3 => "( (href|src|alt|title|class|id|lang|colspan|scope|datetime|start|HREF|onclick|rel|width)(=(\"[^\"<&]{0,8}\"|'[^'<&]{0,6}'|[a-z/.:]{1,8}|\"(/x|x.png|https://a.example/b|javascript:alert\\(1\\)|mailto:a@b|data:x|//cdn.example/i|http://\\[|language-rust|a&amp;b|ftp://f)\"))?){0,3}",
                3 => "/?>",
                3 => "</(p|b|i|em|strong|span|div|ul|ol|li|h2|h3|pre|code|a|table|thead|tbody|tr|td|th|caption|blockquote|section|center|font|dl|dt|dd|details|summary|figure|figcaption|sup|br|img|P) ?>",
                1 => "<!--[a-z -]{0,6}-->|<!-->|<!doctype html>|<\\?x\\?>",
            ], 0..40).prop_map(|parts| parts.concat())
        ) {
            check(&html);
        }
    }
}
