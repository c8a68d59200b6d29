//! From what a blogger types (a homepage or a feed URL) to the feed.
//!
//! In order: the URL itself if it serves a feed; the page's `<link rel="alternate">` feeds
//! (relative hrefs resolved, `<base href>` honoured); then the paths blogs commonly use.

use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::parse::{ParseError, ParsedFeed, looks_like_feed, parse_feed};
use chrono::Utc;
use kith_model::{UrlError, normalize_url};
use scraper::{Html, Selector};
use url::Url;

/// Feed paths tried when a page names no feed, most common first.
pub const COMMON_FEED_PATHS: &[&str] = &[
    "/feed",
    "/feed/",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.xml",
    "/feed.json",
    "/rss",
    "/index.rss",
    "/atom",
    "/feeds/posts/default",
];

/// Feed MIME types recognised in `<link rel="alternate" type=...>`.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
];

/// A feed found for a blog, already fetched and parsed.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub homepage_url: Url,
    pub feed_url: Url,
    pub feed: ParsedFeed,
    pub response: Fetched,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DiscoverError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("{url}: {source}")]
    Fetch {
        url: String,
        #[source]
        source: FetchError,
    },
    #[error("{url} is a web page that names no feed, and none of the usual feed paths ({}) has one", COMMON_FEED_PATHS.join(", "))]
    NoFeed { url: String },
    #[error("{url} looks like a feed but cannot be read: {source}")]
    Unreadable {
        url: String,
        #[source]
        source: ParseError,
    },
}

/// The feeds a web page announces, in document order, resolved against the page URL
/// (or its `<base href>`).
pub fn feed_links(html: &str, page_url: &Url) -> Vec<Url> {
    let doc = Html::parse_document(html);
    let base = Selector::parse("base[href]")
        .ok()
        .and_then(|sel| {
            doc.select(&sel)
                .next()
                .and_then(|b| b.value().attr("href"))
                .map(str::to_owned)
        })
        .and_then(|href| page_url.join(href.trim()).ok())
        .unwrap_or_else(|| page_url.clone());
    let Ok(sel) = Selector::parse("link[href]") else {
        return Vec::new();
    };
    let mut out: Vec<Url> = Vec::new();
    for link in doc.select(&sel) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or("").to_ascii_lowercase();
        if !rel.split_whitespace().any(|r| r == "alternate") {
            continue;
        }
        let ty = el.attr("type").unwrap_or("").trim().to_ascii_lowercase();
        let ty = ty.split(';').next().unwrap_or("").trim();
        if !FEED_TYPES.contains(&ty) {
            continue;
        }
        // A comments feed is not the blog's feed.
        let title = el.attr("title").unwrap_or("").to_ascii_lowercase();
        if title.contains("comments") {
            continue;
        }
        if let Some(href) = el.attr("href")
            && let Ok(u) = base.join(href.trim())
            && matches!(u.scheme(), "http" | "https")
            && !out.contains(&u)
        {
            out.push(u);
        }
    }
    out
}

/// Finds, fetches and parses the feed for `input` (a homepage or a feed URL).
#[tracing::instrument(level = "debug", skip(fetcher))]
pub async fn discover(fetcher: &Fetcher, input: &str) -> Result<Discovery, DiscoverError> {
    let start = normalize_url(input)?;
    let first = fetch(fetcher, &start).await?;
    if looks_like_feed(&first.body) {
        let feed_url = first.moved_to.clone().unwrap_or_else(|| start.clone());
        return into_discovery(first, feed_url, None);
    }
    let page_url = first.url.clone();
    let page = crate::parse::decode(&first.body, first.content_type.as_deref());
    let mut candidates = feed_links(&page, &page_url);
    for path in COMMON_FEED_PATHS {
        if let Ok(u) = page_url.join(path)
            && !candidates.contains(&u)
        {
            candidates.push(u);
        }
    }
    let announced = feed_links(&page, &page_url).len();
    let mut first_error = None;
    for (i, candidate) in candidates.into_iter().enumerate() {
        match fetch(fetcher, &candidate).await {
            Ok(resp) if looks_like_feed(&resp.body) => {
                let feed_url = resp.moved_to.clone().unwrap_or(candidate);
                match into_discovery(resp, feed_url, Some(page_url.clone())) {
                    Ok(d) => return Ok(d),
                    Err(e) if i < announced => {
                        first_error.get_or_insert(e);
                    }
                    Err(_) => {}
                }
            }
            // A feed the page announces but that fails is worth reporting; a guessed path
            // that fails is not.
            Err(e) if i < announced => {
                first_error.get_or_insert(e);
            }
            _ => {}
        }
    }
    Err(first_error.unwrap_or(DiscoverError::NoFeed {
        url: page_url.to_string(),
    }))
}

async fn fetch(fetcher: &Fetcher, url: &Url) -> Result<Fetched, DiscoverError> {
    fetcher
        .get(url, &Validators::default())
        .await
        .map_err(|source| DiscoverError::Fetch {
            url: url.to_string(),
            source,
        })
}

fn into_discovery(
    resp: Fetched,
    feed_url: Url,
    homepage: Option<Url>,
) -> Result<Discovery, DiscoverError> {
    let feed = parse_feed(
        &resp.body,
        resp.content_type.as_deref(),
        &resp.url,
        Utc::now(),
    )
    .map_err(|source| DiscoverError::Unreadable {
        url: feed_url.to_string(),
        source,
    })?;
    let homepage_url = homepage
        .or_else(|| feed.site_url.as_deref().and_then(|s| normalize_url(s).ok()))
        .unwrap_or_else(|| {
            let mut origin = feed_url.clone();
            origin.set_path("/");
            origin.set_query(None);
            origin
        });
    Ok(Discovery {
        homepage_url,
        feed_url,
        feed,
        response: resp,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn alternate_links_resolve_against_base() {
        let html = r#"<html><head><base href="https://cdn.example/blog/">
            <link rel="stylesheet" href="s.css">
            <link rel="alternate" type="application/rss+xml" title="Comments Feed" href="comments.xml">
            <link rel="alternate" type="application/atom+xml" href="atom.xml">
            <link rel="Alternate" type="application/feed+json; charset=utf-8" href="/feed.json">
            <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
            </head></html>"#;
        let page = Url::parse("https://blog.example/").unwrap();
        let links: Vec<String> = feed_links(html, &page)
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            links,
            vec![
                "https://cdn.example/blog/atom.xml",
                "https://cdn.example/feed.json"
            ]
        );
    }

    #[test]
    fn relative_links_without_base_use_the_page() {
        let html = r#"<link rel="alternate" type="application/rss+xml" href="feed.xml">"#;
        let page = Url::parse("https://blog.example/notes/").unwrap();
        let links = feed_links(html, &page);
        assert_eq!(links[0].as_str(), "https://blog.example/notes/feed.xml");
    }
}
