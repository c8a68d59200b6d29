//! Documents a blog serves: homepage, post pages, and the feed in its format.
//!
//! Plain string building with one escape function: the output is small and regular, and
//! writing it by hand keeps every byte deterministic and visible.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::content::Post;
use crate::types::FeedFormat;

/// What a page needs to know about its blog.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site<'a> {
    pub name: &'a str,
    pub author: &'a str,
    pub description: &'a str,
    pub format: FeedFormat,
    /// With the trailing slash.
    pub homepage_url: &'a str,
    pub feed_url: &'a str,
    /// The WebSub hub the feed advertises (WebSub §4), if the blogosphere runs one.
    pub hub: Option<&'a str>,
}

/// Escape text for HTML and XML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    if !s
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Newest first, as every document lists them.
fn newest(posts: &[&Post]) -> Option<DateTime<Utc>> {
    posts.first().map(|p| p.sim.published)
}

fn head(site: &Site<'_>, title: &str, extra: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<meta name=\"author\" content=\"{author}\">\n\
         <meta name=\"description\" content=\"{description}\">\n\
         <link rel=\"alternate\" type=\"{mime}\" href=\"{path}\" title=\"{name}\">\n{extra}</head>\n",
        title = escape(title),
        author = escape(site.author),
        description = escape(site.description),
        mime = site.format.mime(),
        path = site.format.path(),
        name = escape(site.name),
    )
}

/// The homepage: every post, newest first, with a feed autodiscovery link.
pub(crate) fn homepage(site: &Site<'_>, posts: &[&Post]) -> String {
    let mut out = head(site, site.name, "");
    out.push_str(&format!(
        "<body>\n<header>\n<h1><a href=\"/\">{name}</a></h1>\n<p>{description}</p>\n\
         <nav><a href=\"{path}\">Subscribe</a></nav>\n</header>\n<main>\n<ul class=\"posts\">\n",
        name = escape(site.name),
        description = escape(site.description),
        path = site.format.path(),
    ));
    for post in posts {
        out.push_str(&format!(
            "<li><time datetime=\"{}\">{}</time> <a href=\"/posts/{}.html\">{}</a></li>\n",
            rfc3339(post.sim.published),
            post.sim.published.format("%Y-%m-%d"),
            post.slug,
            escape(&post.sim.title),
        ));
    }
    out.push_str(&format!(
        "</ul>\n</main>\n<footer><p>&copy; {}</p></footer>\n</body>\n</html>\n",
        escape(site.author)
    ));
    out
}

/// One post's page.
pub(crate) fn post_page(site: &Site<'_>, post: &Post) -> String {
    let p = &post.sim;
    let extra = format!(
        "<link rel=\"canonical\" href=\"{}\">\n\
         <meta property=\"article:published_time\" content=\"{}\">\n",
        escape(&p.url),
        rfc3339(p.published),
    );
    let mut out = head(site, &format!("{} - {}", p.title, site.name), &extra);
    out.push_str(&format!(
        "<body>\n<header><a href=\"/\">{name}</a></header>\n<main>\n<article>\n\
         <h1>{title}</h1>\n<p class=\"byline\">By {author} on <time datetime=\"{date}\">{day}</time></p>\n\
         {html}\n<p class=\"tags\">",
        name = escape(site.name),
        title = escape(&p.title),
        author = escape(&p.author),
        date = rfc3339(p.published),
        day = p.published.format("%e %B %Y"),
        html = p.html,
    ));
    let tags: Vec<String> = p
        .categories
        .iter()
        .map(|c| format!("<span class=\"tag\">{}</span>", escape(c)))
        .collect();
    out.push_str(&tags.join(", "));
    out.push_str("</p>\n</article>\n</main>\n</body>\n</html>\n");
    out
}

/// The feed in the blog's format, of `posts` (already cut to the feed limit).
pub(crate) fn feed(site: &Site<'_>, posts: &[&Post]) -> String {
    match site.format {
        FeedFormat::Rss2 => rss(site, posts),
        FeedFormat::Atom => atom(site, posts),
        FeedFormat::JsonFeed => json_feed(site, posts),
    }
}

fn rss(site: &Site<'_>, posts: &[&Post]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n",
    );
    out.push_str(&format!(
        "<title>{}</title>\n<link>{}</link>\n<description>{}</description>\n\
         <language>en</language>\n<generator>kith-testkit</generator>\n\
         <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        escape(site.name),
        escape(site.homepage_url),
        escape(site.description),
        escape(site.feed_url),
    ));
    if let Some(hub) = site.hub {
        out.push_str(&format!(
            "<atom:link href=\"{}\" rel=\"hub\"/>\n",
            escape(hub)
        ));
    }
    if let Some(t) = newest(posts) {
        out.push_str(&format!(
            "<lastBuildDate>{}</lastBuildDate>\n",
            t.to_rfc2822()
        ));
    }
    for post in posts {
        let p = &post.sim;
        out.push_str(&format!(
            "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n\
             <pubDate>{}</pubDate>\n<dc:creator>{}</dc:creator>\n",
            escape(&p.title),
            escape(&p.url),
            escape(&p.guid),
            p.published.to_rfc2822(),
            escape(&p.author),
        ));
        for c in &p.categories {
            out.push_str(&format!("<category>{}</category>\n", escape(c)));
        }
        out.push_str(&format!(
            "<description>{}</description>\n<content:encoded>{}</content:encoded>\n</item>\n",
            escape(&post.summary),
            escape(&p.html),
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

fn atom(site: &Site<'_>, posts: &[&Post]) -> String {
    // Atom requires <updated>; an empty blog claims the epoch rather than the wall clock,
    // so that the output stays deterministic.
    let updated = newest(posts).unwrap_or(DateTime::UNIX_EPOCH);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>{name}</title>\n<subtitle>{description}</subtitle>\n<id>{home}</id>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{home}\"/>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n\
         <updated>{updated}</updated>\n<author><name>{author}</name><uri>{home}</uri></author>\n\
         <generator>kith-testkit</generator>\n",
        name = escape(site.name),
        description = escape(site.description),
        home = escape(site.homepage_url),
        feed = escape(site.feed_url),
        updated = rfc3339(updated),
        author = escape(site.author),
    );
    if let Some(hub) = site.hub {
        out.push_str(&format!("<link rel=\"hub\" href=\"{}\"/>\n", escape(hub)));
    }
    for post in posts {
        let p = &post.sim;
        out.push_str(&format!(
            "<entry>\n<title type=\"text\">{}</title>\n<id>{}</id>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
             <published>{date}</published>\n<updated>{date}</updated>\n\
             <author><name>{}</name></author>\n",
            escape(&p.title),
            escape(&p.guid),
            escape(&p.url),
            escape(&p.author),
            date = rfc3339(p.published),
        ));
        for c in &p.categories {
            out.push_str(&format!("<category term=\"{}\"/>\n", escape(c)));
        }
        out.push_str(&format!(
            "<summary type=\"text\">{}</summary>\n<content type=\"html\">{}</content>\n</entry>\n",
            escape(&post.summary),
            escape(&p.html),
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    language: &'static str,
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub<'a>>,
    items: Vec<JsonItem<'a>>,
}

/// JSON Feed 1.1 `hubs` entry: how a JSON feed advertises its WebSub hub.
#[derive(Serialize)]
struct JsonHub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    content_html: &'a str,
    summary: &'a str,
    date_published: String,
    authors: Vec<JsonAuthor<'a>>,
    tags: &'a [String],
}

fn json_feed(site: &Site<'_>, posts: &[&Post]) -> String {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: site.name,
        home_page_url: site.homepage_url,
        feed_url: site.feed_url,
        description: site.description,
        language: "en",
        authors: vec![JsonAuthor {
            name: site.author,
            url: Some(site.homepage_url),
        }],
        hubs: site
            .hub
            .map(|url| JsonHub {
                kind: "WebSub",
                url,
            })
            .into_iter()
            .collect(),
        items: posts
            .iter()
            .map(|post| JsonItem {
                id: &post.sim.guid,
                url: &post.sim.url,
                title: &post.sim.title,
                content_html: &post.sim.html,
                summary: &post.summary,
                date_published: rfc3339(post.sim.published),
                authors: vec![JsonAuthor {
                    name: &post.sim.author,
                    url: None,
                }],
                tags: &post.sim.categories,
            })
            .collect(),
    };
    // Serialising plain strings and vectors cannot fail; an empty document would be caught
    // by any test that parses the feed.
    let mut out = serde_json::to_string_pretty(&feed).unwrap_or_default();
    out.push('\n');
    out
}

/// An OPML subscription list of the given blogs: `(name, homepage, feed, format)`.
pub(crate) fn opml(blogs: &[(String, String, String, FeedFormat)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n\
         <head><title>Simulated blogosphere</title></head>\n<body>\n",
    );
    for (name, home, feed, format) in blogs {
        let kind = match format {
            FeedFormat::Rss2 => "rss",
            FeedFormat::Atom => "atom",
            FeedFormat::JsonFeed => "json",
        };
        out.push_str(&format!(
            "<outline type=\"{kind}\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{feed}\" htmlUrl=\"{home}\"/>\n",
            name = escape(name),
            feed = escape(feed),
            home = escape(home),
        ));
    }
    out.push_str("</body>\n</opml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }
}
