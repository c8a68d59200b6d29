//! Posts and the tags on them.

use crate::BlogId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A post's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PostId(pub i64);

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a tag on a post came from. Every tag must be explainable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSource {
    /// The feed's own categories: the author said so.
    Author,
    /// A curator rule matched.
    Rule,
    /// Extracted from the title and text.
    Extracted,
}

impl TagSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Author => "author",
            Self::Rule => "rule",
            Self::Extracted => "extracted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "author" => Some(Self::Author),
            "rule" => Some(Self::Rule),
            "extracted" => Some(Self::Extracted),
            _ => None,
        }
    }
}

impl fmt::Display for TagSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tag on one post, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostTag {
    /// The normalised tag (see [`normalize_tag`]).
    pub tag: String,
    pub source: TagSource,
    /// Confidence in `[0, 1]`; author categories score 1.
    pub score: f64,
    /// Why the tag is there: the feed category, the rule, or the keyword evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A tag decided for a post before it is stored, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTag {
    /// Normal form.
    pub tag: String,
    /// The form people wrote (kept for display).
    pub display: String,
    pub source: TagSource,
    pub score: f64,
    /// Why: the feed category, the rule, or the keyword evidence.
    pub reason: String,
}

/// A post as the crawler hands it to the store: parsed, sanitised, not yet stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPost {
    /// The feed's id for the entry (or a stable stand-in when the feed has none).
    pub guid: String,
    /// Canonical URL of the post, absolute.
    pub url: Option<String>,
    pub title: String,
    pub author: Option<String>,
    /// When the author published it (first-seen time when the feed gives no date).
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    /// Sanitised HTML, safe to render as is.
    pub content_html: String,
    /// Plain text of the content, for the tagger and the index.
    pub text: String,
    /// See [`content_hash`]; used to notice edits and to dedupe entries without ids.
    pub content_hash: String,
    /// ISO 639-3 code when detected.
    pub language: Option<String>,
    /// The feed's own categories, as the author wrote them.
    pub categories: Vec<String>,
    /// Old history read on a blog's first crawl: kept, but not news (rivers keep it off
    /// their front pages).
    pub backfill: bool,
    /// Tags decided by the tagger. Empty: the store tags the post with its categories
    /// (source `author`) only.
    pub tags: Vec<NewTag>,
}

/// A stored post, as readers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Post {
    pub id: PostId,
    pub blog_id: BlogId,
    pub blog_title: String,
    pub blog_url: String,
    pub feed_url: String,
    pub guid: String,
    pub url: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    pub content_html: String,
    pub text: String,
    pub language: Option<String>,
    pub backfill: bool,
    pub tags: Vec<PostTag>,
}

/// A stable fingerprint of what a reader sees of a post: its title and its plain text.
pub fn content_hash(title: &str, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(title.trim().as_bytes());
    h.update([0u8]);
    h.update(text.trim().as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// The first, simple normal form of a tag: trimmed, lower-cased, with runs of spaces,
/// `_`, `.` and `/` turned into a single `-`. Returns `None` for a tag with nothing left.
///
/// The tagger refines this (Unicode folding, inflection); this is the floor every stored
/// tag meets so that `Rust`, ` rust ` and `RUST` are one tag from the start.
pub fn normalize_tag(raw: &str) -> Option<String> {
    let chars: Vec<char> = raw
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|&c| !(c.is_control() || is_invisible(c)))
        .collect();
    let mut out = String::with_capacity(raw.len());
    let mut pending_dash = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_word = !pending_dash && out.ends_with(char::is_alphanumeric);
        let word_ends = |at: usize| chars.get(at).is_none_or(|n| !n.is_alphanumeric());
        if c.is_alphanumeric() {
            if pending_dash {
                out.push('-');
                pending_dash = false;
            }
            out.push(c);
        } else if c == '+' && after_word {
            // `c++` is `cpp`, `google+` is `googleplus`, as tag sites slug them.
            let run = chars[i..].iter().take_while(|&&p| p == '+').count();
            if run <= 2 && word_ends(i + run) {
                out.push_str(if run == 2 { "pp" } else { "plus" });
            } else {
                pending_dash = true;
            }
            i += run;
            continue;
        } else if c == '#'
            && after_word
            && word_ends(i + 1)
            && out
                .chars()
                .rev()
                .take_while(|w| w.is_alphanumeric())
                .count()
                <= 2
        {
            // `c#` is `csharp`.
            out.push_str("sharp");
        } else if c != '\'' && c != '\u{2019}' {
            // Separators and anything else that is not a letter or digit (markup, `../`,
            // `?#%`) are one hyphen between words; apostrophes join (`don't` is `dont`).
            pending_dash = !out.is_empty();
        }
        i += 1;
    }
    if let Some((cut, _)) = out.char_indices().nth(MAX_TAG_CHARS) {
        out.truncate(cut);
        out.truncate(out.trim_end_matches('-').len());
    }
    (!out.is_empty()).then_some(out)
}

/// Longest normal form of a tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;

/// Characters that show nothing but can reorder or hide text: bidirectional controls,
/// zero-width characters, the soft hyphen (controls are `char::is_control`). The one list
/// the crawler's plain text and the tag normal forms drop.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{061c}'
        | '\u{feff}'
        | '\u{00ad}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_fold_case_and_separators() {
        assert_eq!(normalize_tag("  Rust ").as_deref(), Some("rust"));
        assert_eq!(
            normalize_tag("Machine Learning").as_deref(),
            Some("machine-learning")
        );
        assert_eq!(normalize_tag("node.js").as_deref(), Some("node-js"));
        assert_eq!(normalize_tag("a__b//c").as_deref(), Some("a-b-c"));
        assert_eq!(normalize_tag("-lead-").as_deref(), Some("lead"));
        assert_eq!(normalize_tag(" - _ "), None);
        assert_eq!(normalize_tag("Ünïcode").as_deref(), Some("ünïcode"));
        // Letters, digits and single hyphens only.
        assert_eq!(
            normalize_tag("<script>alert(1)</script>").as_deref(),
            Some("script-alert-1-script")
        );
        assert_eq!(
            normalize_tag("../../etc/passwd").as_deref(),
            Some("etc-passwd")
        );
        assert_eq!(normalize_tag("a?b#c%d").as_deref(), Some("a-b-c-d"));
        assert_eq!(normalize_tag("{{ tag }}").as_deref(), Some("tag"));
        assert_eq!(normalize_tag("\u{202e}gnp.exe").as_deref(), Some("gnp-exe"));
        assert_eq!(normalize_tag("C++").as_deref(), Some("cpp"));
        assert_eq!(normalize_tag("C#").as_deref(), Some("csharp"));
        assert_eq!(normalize_tag("don't").as_deref(), Some("dont"));
        assert_eq!(normalize_tag(&"a".repeat(100)).map(|t| t.len()), Some(64));
        assert_eq!(normalize_tag("<>"), None);
    }

    #[test]
    fn content_hash_sees_title_and_text_apart() {
        let a = content_hash("ab", "c");
        assert_eq!(a.len(), 64);
        assert_ne!(a, content_hash("a", "bc"));
        assert_eq!(a, content_hash(" ab ", "c\n"));
    }
}
