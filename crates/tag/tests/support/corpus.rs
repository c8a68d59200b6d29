//! Readers for the shared test corpora (`$KITH_CORPUS`): Inspec keyphrases and the
//! blogosphere feeds, with a plain-text conversion close to the crawler's.

#![allow(dead_code)]

use regex::Regex;
use std::path::{Path, PathBuf};

use super::kpeval::Gold;

/// The corpus root from `KITH_CORPUS`, when set and present.
pub fn root() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("KITH_CORPUS")?);
    dir.is_dir().then_some(dir)
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn str_of(v: &serde_json::Value, key: &str) -> String {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("").to_owned()
}

fn strings_of(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn inspec(root: &Path) -> Vec<Gold> {
    json_lines(&root.join("keyphrases/inspec.jsonl"))
        .iter()
        .map(|v| Gold {
            id: match v.get("id") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            },
            text: str_of(v, "text"),
            keyphrases: strings_of(v, "keyphrases"),
        })
        .collect()
}

/// Inspec's first line is the title, continued by the lines that start with a tab; the
/// abstract starts at the first line after it that does not.
pub fn split_title(text: &str) -> (&str, &str) {
    let mut end = match text.find('\n') {
        Some(i) => i,
        None => return ("", text),
    };
    while text[end + 1..].starts_with('\t') {
        match text[end + 1..].find('\n') {
            Some(i) => end = end + 1 + i,
            None => return (text, ""),
        }
    }
    (&text[..end], &text[end + 1..])
}

/// One blogosphere post: the author's tags and the plain text of its feed entry.
pub struct BlogPost {
    pub blogger: String,
    pub url: String,
    pub title: String,
    pub text: String,
    pub gold_tags: Vec<String>,
}

pub fn blogosphere(root: &Path) -> Vec<BlogPost> {
    let dir = root.join("blogosphere");
    let mut entries = std::collections::HashMap::new();
    for b in json_lines(&dir.join("bloggers.jsonl")) {
        let blogger = str_of(&b, "blogger");
        let path = dir.join(str_of(&b, "feed_path"));
        let body = std::fs::read_to_string(&path).unwrap_or_default();
        for (url, title, html) in feed_entries(&body) {
            entries.insert(url, (blogger.clone(), title, html_to_text(&html)));
        }
    }
    json_lines(&dir.join("manifest.jsonl"))
        .iter()
        .filter_map(|m| {
            let url = str_of(m, "url");
            let (blogger, title, text) = entries.get(&url)?.clone();
            Some(BlogPost {
                blogger,
                url,
                title,
                text,
                gold_tags: strings_of(m, "gold_tags"),
            })
        })
        .collect()
}

/// (link, title, content HTML) of every entry of an RSS 2.0, Atom 1.0 or JSON Feed file.
fn feed_entries(body: &str) -> Vec<(String, String, String)> {
    if body.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        return v
            .get("items")
            .and_then(|i| i.as_array())
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        (
                            str_of(i, "url"),
                            str_of(i, "title"),
                            str_of(i, "content_html"),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    let re = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let item = re(r"(?s)<(item|entry)>(.*?)</(?:item|entry)>");
    let rss_link = re(r"(?s)<link>(.*?)</link>");
    let atom_link = re(r#"<link rel="alternate"[^>]*href="([^"]*)""#);
    let title = re(r"(?s)<title[^>]*>(.*?)</title>");
    let encoded = re(r"(?s)<content:encoded>(.*?)</content:encoded>");
    let content = re(r"(?s)<content[^>]*>(.*?)</content>");
    let cap = |r: &Regex, s: &str| r.captures(s).map(|c| c[1].to_owned()).unwrap_or_default();
    item.captures_iter(body)
        .map(|c| {
            let e = &c[2];
            let (link, html) = if &c[1] == "item" {
                (cap(&rss_link, e), cdata(&cap(&encoded, e)))
            } else {
                (cap(&atom_link, e), decode_entities(&cap(&content, e)))
            };
            (link, decode_entities(&cdata(&cap(&title, e))), html)
        })
        .collect()
}

fn cdata(s: &str) -> String {
    let t = s.trim();
    match t
        .strip_prefix("<![CDATA[")
        .and_then(|x| x.strip_suffix("]]>"))
    {
        Some(inner) => inner.to_owned(),
        None => decode_entities(t),
    }
}

pub fn decode_entities(s: &str) -> String {
    let re =
        Regex::new(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);").unwrap_or_else(|e| panic!("{e}"));
    re.replace_all(s, |c: &regex::Captures<'_>| {
        let e = &c[1];
        let ch = if let Some(hex) = e.strip_prefix("#x").or_else(|| e.strip_prefix("#X")) {
            u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
        } else if let Some(dec) = e.strip_prefix('#') {
            dec.parse().ok().and_then(char::from_u32)
        } else {
            match e {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                "hellip" => Some('…'),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "rdquo" => Some('”'),
                "ldquo" => Some('“'),
                _ => None,
            }
        };
        ch.map_or_else(|| c[0].to_owned(), String::from)
    })
    .into_owned()
}

/// Plain text of an HTML fragment, the way the crawler makes it: scripts and styles
/// dropped, blocks separated by blank lines, white space collapsed, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut s = html.to_owned();
    for tag in [
        "script", "style", "iframe", "object", "embed", "svg", "math", "form", "template",
        "noscript", "textarea", "select", "button", "audio", "video", "canvas",
    ] {
        let re = Regex::new(&format!(r"(?is)<{tag}\b[^>]*>.*?</{tag}\s*>"))
            .unwrap_or_else(|e| panic!("{e}"));
        s = re.replace_all(&s, " ").into_owned();
    }
    let comments = Regex::new(r"(?s)<!--.*?-->").unwrap_or_else(|e| panic!("{e}"));
    s = comments.replace_all(&s, "").into_owned();
    let block = Regex::new(
        r"(?i)</?(p|div|br|li|ul|ol|h[1-6]|pre|blockquote|tr|td|th|table|dd|dt|dl|figure|figcaption|hr|section|article|header|footer|details|summary)\b[^>]*>",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    s = block.replace_all(&s, "\n\n").into_owned();
    let tags = Regex::new(r"<[^>]*>").unwrap_or_else(|e| panic!("{e}"));
    s = tags.replace_all(&s, "").into_owned();
    let s = decode_entities(&s);
    s.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// One entry of a real-world feed file: title and plain text.
pub struct FeedPost {
    pub path: String,
    pub title: String,
    pub text: String,
}

/// Entries of every feed file (role `feed`) in the feed corpus that feed-rs reads, with
/// their content (or summary) as plain text. Files it cannot read are skipped: this
/// corpus is there for its text, not to test a parser.
pub fn feed_posts(root: &Path) -> Vec<FeedPost> {
    let dir = root.join("feeds");
    let mut out = Vec::new();
    for m in json_lines(&dir.join("manifest.jsonl")) {
        if str_of(&m, "role") != "feed" {
            continue;
        }
        let path = str_of(&m, "path");
        let Ok(bytes) = std::fs::read(dir.join(&path)) else {
            continue;
        };
        let Ok(feed) = feed_rs::parser::parse(&bytes[..]) else {
            continue;
        };
        for e in feed.entries {
            let html = e
                .content
                .and_then(|c| c.body)
                .filter(|b| !b.trim().is_empty())
                .or_else(|| e.summary.map(|s| s.content))
                .unwrap_or_default();
            out.push(FeedPost {
                path: path.clone(),
                title: e.title.map(|t| t.content).unwrap_or_default(),
                text: html_to_text(&html),
            });
        }
    }
    out
}
