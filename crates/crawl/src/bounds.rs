//! Bounds on what one feed entry may make us store: a title, an author, the content, the
//! categories and the address, each cut to its limit (`[crawl]` in kith.toml) at a
//! character boundary, with a note saying what was cut that the blog's health shows.
//!
//! The content is cut in its sanitised form and sanitised again, so a cut never leaves a
//! tag open or half an entity; its plain text and content hash follow. An address too long
//! to be one is dropped rather than cut (half an address leads somewhere else).

use crate::parse::ParsedFeed;
use crate::sanitize::Sanitizer;
use kith_config::CrawlConfig;
use kith_model::{NewPost, content_hash};
use url::Url;

/// The most a feed entry may store of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLimits {
    pub title_chars: usize,
    pub author_chars: usize,
    pub content_bytes: usize,
    pub categories: usize,
    pub category_chars: usize,
    pub url_bytes: usize,
}

impl FieldLimits {
    pub fn from_config(c: &CrawlConfig) -> Self {
        Self {
            title_chars: c.max_title_chars,
            author_chars: c.max_author_chars,
            content_bytes: c.max_content_bytes,
            categories: c.max_categories,
            category_chars: c.max_category_chars,
            url_bytes: c.max_url_bytes,
        }
    }
}

impl Default for FieldLimits {
    fn default() -> Self {
        Self::from_config(&CrawlConfig::default())
    }
}

/// Counts of entries with each field cut, for the notes.
#[derive(Debug, Default)]
struct Cuts {
    titles: usize,
    authors: usize,
    contents: usize,
    category_lists: usize,
    categories: usize,
    urls: usize,
}

/// `s` cut to at most `max` characters (at a character boundary), with an ellipsis when cut.
/// Returns whether it was cut.
fn cut_chars(s: &mut String, max: usize) -> bool {
    match s.char_indices().nth(max) {
        None => false,
        Some((at, _)) => {
            // Room for the ellipsis within the limit.
            let keep = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(at, |(i, _)| i);
            s.truncate(keep);
            s.truncate(s.trim_end().len());
            s.push('…');
            true
        }
    }
}

/// The largest char boundary of `s` at or below `at`.
fn floor_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn bound_post(p: &mut NewPost, l: &FieldLimits, sanitizer: &Sanitizer, cuts: &mut Cuts) {
    let mut rehash = false;
    if cut_chars(&mut p.title, l.title_chars) {
        cuts.titles += 1;
        rehash = true;
    }
    if let Some(a) = &mut p.author
        && cut_chars(a, l.author_chars)
    {
        cuts.authors += 1;
    }
    if p.content_html.len() > l.content_bytes || p.text.len() > l.content_bytes {
        let prefix = &p.content_html[..floor_boundary(&p.content_html, l.content_bytes)];
        let (html, mut text) = sanitizer.clean_with_text(prefix);
        // Closing what the cut left open adds a few bytes; the text is bounded as well.
        let mut html = html;
        if html.len() > l.content_bytes.saturating_add(1024) {
            html.truncate(floor_boundary(&html, l.content_bytes));
        }
        text.truncate(floor_boundary(&text, l.content_bytes));
        p.content_html = html;
        p.text = text;
        cuts.contents += 1;
        rehash = true;
    }
    if p.categories.len() > l.categories {
        p.categories.truncate(l.categories);
        cuts.category_lists += 1;
    }
    let mut long_category = false;
    for c in &mut p.categories {
        if cut_chars(c, l.category_chars) {
            // A category is a name: no ellipsis in it.
            c.pop();
            long_category = true;
        }
    }
    cuts.categories += usize::from(long_category);
    if p.url.as_ref().is_some_and(|u| u.len() > l.url_bytes) {
        p.url = None;
        cuts.urls += 1;
    }
    if rehash {
        p.content_hash = content_hash(&p.title, &p.text);
    }
}

/// Bounds every entry (and the feed's own title) of `feed`, read from `base`; returns the
/// notes saying what was cut, for the blog's health.
pub fn bound_feed(feed: &mut ParsedFeed, limits: &FieldLimits, base: &Url) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(t) = &mut feed.title
        && cut_chars(t, limits.title_chars)
    {
        notes.push(format!(
            "the feed's title was cut to {} characters (crawl.max_title_chars)",
            limits.title_chars
        ));
    }
    let sanitizer = Sanitizer::new(Some(base));
    let mut cuts = Cuts::default();
    for p in &mut feed.entries {
        bound_post(p, limits, &sanitizer, &mut cuts);
    }
    // (entries, the field of one entry, of several, what happened to it, the limit)
    let said: [(usize, &str, &str, &str, String); 6] = [
        (
            cuts.titles,
            "the title",
            "the titles",
            "cut to",
            format!("{} characters (crawl.max_title_chars)", limits.title_chars),
        ),
        (
            cuts.authors,
            "the author's name",
            "the authors' names",
            "cut to",
            format!(
                "{} characters (crawl.max_author_chars)",
                limits.author_chars
            ),
        ),
        (
            cuts.contents,
            "the content",
            "the content",
            "cut to",
            format!("{} bytes (crawl.max_content_bytes)", limits.content_bytes),
        ),
        (
            cuts.category_lists,
            "the categories",
            "the categories",
            "cut to the first",
            format!("{} (crawl.max_categories)", limits.categories),
        ),
        (
            cuts.categories,
            "the long categories",
            "the long categories",
            "cut to",
            format!(
                "{} characters (crawl.max_category_chars)",
                limits.category_chars
            ),
        ),
        (
            cuts.urls,
            "the address",
            "the addresses",
            "dropped, being longer than",
            format!("{} bytes (crawl.max_url_bytes)", limits.url_bytes),
        ),
    ];
    for (n, one, many, what, limit) in said {
        match n {
            0 => {}
            1 => notes.push(format!("{one} of 1 entry: {what} {limit}")),
            n => notes.push(format!("{many} of {n} entries: {what} {limit}")),
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::Utc;

    fn post(title: &str, html: &str) -> NewPost {
        let sanitizer = Sanitizer::new(None);
        let (content_html, text) = sanitizer.clean_with_text(html);
        NewPost {
            guid: "g".into(),
            url: Some("https://blog.example/p".into()),
            content_hash: content_hash(title, &text),
            title: title.into(),
            author: Some("Ada".into()),
            published: Utc::now(),
            updated: None,
            content_html,
            text,
            language: None,
            categories: vec!["rust".into()],
            backfill: false,
            tags: Vec::new(),
        }
    }

    fn feed(entries: Vec<NewPost>) -> ParsedFeed {
        ParsedFeed {
            title: Some("A blog".into()),
            description: None,
            site_url: None,
            ttl_minutes: None,
            entries,
        }
    }

    fn base() -> Url {
        Url::parse("https://blog.example/feed.xml").unwrap()
    }

    #[test]
    fn every_field_is_cut_to_its_limit_at_a_character_boundary_and_said() {
        let limits = FieldLimits {
            title_chars: 10,
            author_chars: 5,
            content_bytes: 2_000,
            categories: 3,
            category_chars: 8,
            url_bytes: 40,
        };
        let mut long = post(
            &"é".repeat(5_000),
            &format!("<p><b>{}</b></p><p>end</p>", "ü word ".repeat(1_000)),
        );
        long.author = Some("Ada Lovelace".into());
        long.categories = (0..10).map(|i| format!("category-{i}-long")).collect();
        long.url = Some(format!("https://blog.example/{}", "x".repeat(100)));
        let before_hash = long.content_hash.clone();
        let short = post("Fine", "<p>fine</p>");
        let mut f = feed(vec![long, short.clone()]);
        f.title = Some("t".repeat(50));
        let notes = bound_feed(&mut f, &limits, &base());
        let p = &f.entries[0];
        assert_eq!(p.title.chars().count(), 10);
        assert!(p.title.ends_with('…'));
        assert_eq!(
            p.author.as_deref(),
            Some("Ada…"),
            "trailing blanks go before the ellipsis"
        );
        assert!(
            p.content_html.len() <= 2_000 + 1024,
            "{}",
            p.content_html.len()
        );
        assert!(p.content_html.len() > 1_000);
        assert!(p.content_html.ends_with("</p>"), "no tag left open");
        assert!(p.text.len() <= 2_000);
        assert_eq!(p.categories.len(), 3);
        assert!(
            p.categories.iter().all(|c| c.chars().count() <= 8),
            "{:?}",
            p.categories
        );
        assert_eq!(p.url, None);
        assert_ne!(p.content_hash, before_hash);
        assert_eq!(p.content_hash, content_hash(&p.title, &p.text));
        assert_eq!(f.entries[1], short, "a post within the limits is untouched");
        assert_eq!(f.title.as_deref().map(|t| t.chars().count()), Some(10));
        assert_eq!(
            notes,
            [
                "the feed's title was cut to 10 characters (crawl.max_title_chars)",
                "the title of 1 entry: cut to 10 characters (crawl.max_title_chars)",
                "the author's name of 1 entry: cut to 5 characters (crawl.max_author_chars)",
                "the content of 1 entry: cut to 2000 bytes (crawl.max_content_bytes)",
                "the categories of 1 entry: cut to the first 3 (crawl.max_categories)",
                "the long categories of 1 entry: cut to 8 characters (crawl.max_category_chars)",
                "the address of 1 entry: dropped, being longer than 40 bytes (crawl.max_url_bytes)",
            ]
        );
    }

    #[test]
    fn the_defaults_cut_nothing_an_ordinary_post_holds() {
        let mut f = feed(vec![post("A normal title", &"<p>words</p>".repeat(500))]);
        let before = f.entries.clone();
        assert!(bound_feed(&mut f, &FieldLimits::default(), &base()).is_empty());
        assert_eq!(f.entries, before);
    }
}
