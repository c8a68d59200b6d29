//! JSON Feed 1.0 and 1.1, read leniently: a field of an unexpected type is skipped, not
//! fatal (feed-rs refuses the whole feed for an `authors` object, a numeric `id` or a
//! missing `title`). Our own small JSON reader, since the crate has no JSON dependency.

use super::ParseError;
use super::dates::parse_date;
use super::entry::person_name;
use super::entry::{RawFeed, RawItem, RawLink};
use super::text::{Declared, category, escape_text, text_as};

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
        // JSON Feed's title and description are plain text (the spec says so; HTML has
        // fields of its own).
        title: doc
            .str("title")
            .map(|t| text_as(t, Declared::Text))
            .filter(|t| !t.is_empty()),
        description: doc.str("description").map(|t| text_as(t, Declared::Text)),
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
        .filter_map(|a| person_name(a.text("name").as_deref()))
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
        title: v
            .str("title")
            .map(|t| text_as(t, Declared::Text))
            .filter(|t| !t.is_empty()),
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
                Value::String(s) => category(s),
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
