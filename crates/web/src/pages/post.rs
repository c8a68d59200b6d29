//! `/posts/{id}`: one post as Kith holds it, the permalink our feeds give as each entry's
//! id. Its title links to the original; the page shows the blog, author and date, the
//! sanitised content, every tag with why it is there, the hubs it belongs to and the
//! conversation around it (posts linking to it, posts it links to).
//!
//! Only posts of verified blogs are public: any other post is a 404, like an unknown one.

use super::{WhyView, blog_name, is_web_url, page};
use crate::{AppState, WebError};
use axum::extract::{Path, State};
use axum::response::Response;
use kith_model::{BlogStatus, PostId};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use std::sync::LazyLock;

/// Links shown in the conversation around a post.
const CONVERSATION: usize = 20;

pub(super) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let not_found = || {
        WebError::NotFound(format!(
            "There is no post {id:?} here, or its blog is not public (yet). Posts are \
             numbered; find one from a hub, a blog or a search."
        ))
    };
    let post_id = id
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(PostId)
        .ok_or_else(not_found)?;
    let post = state
        .store
        .posts_by_ids(&[post_id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    let blog = state
        .store
        .blog(post.blog_id)
        .await?
        .filter(|b| b.status == BlogStatus::Verified)
        .ok_or_else(not_found)?;
    let snapshot = state.hubs.get();

    let displays = state
        .store
        .tag_displays(post.tags.iter().map(|t| t.tag.clone()).collect())
        .await?;
    #[derive(Serialize)]
    struct TagWhy {
        tag: String,
        display: String,
        hub: bool,
        why: WhyView,
    }
    let tags: Vec<TagWhy> = post
        .tags
        .iter()
        .map(|t| {
            let hub = snapshot.hub(&t.tag);
            TagWhy {
                display: hub.map(|h| h.display.clone()).unwrap_or_else(|| {
                    displays
                        .get(&t.tag)
                        .cloned()
                        .unwrap_or_else(|| t.tag.clone())
                }),
                hub: hub.is_some(),
                tag: t.tag.clone(),
                why: WhyView::of(t),
            }
        })
        .collect();
    #[derive(Serialize)]
    struct HubLink<'a> {
        tag: &'a str,
        display: &'a str,
        bloggers: u32,
        community: Option<(&'a str, &'a str)>,
    }
    let hubs: Vec<HubLink> = post
        .tags
        .iter()
        .filter_map(|t| snapshot.hub(&t.tag))
        .map(|h| HubLink {
            tag: &h.tag,
            display: &h.display,
            bloggers: h.bloggers,
            community: h
                .community
                .as_deref()
                .and_then(|c| snapshot.community(c))
                .map(|c| (c.id.as_str(), c.name.as_str())),
        })
        .collect();

    let replies = state
        .store
        .post_replies(post.id, true, CONVERSATION)
        .await?;
    let dir = state
        .blogs
        .get(
            &state.store,
            replies.iter().flat_map(|r| [r.from.blog_id, r.to.blog_id]),
        )
        .await?;
    #[derive(Serialize)]
    struct Linked {
        id: i64,
        title: String,
        blog_id: i64,
        blog: String,
        published: String,
        date: String,
    }
    let linked = |r: &kith_store::PostRef| Linked {
        id: r.id.0,
        title: r.title.clone(),
        blog_id: r.blog_id.0,
        blog: blog_name(&dir, r.blog_id),
        published: r.published.to_rfc3339(),
        date: r.published.format("%-d %b %Y").to_string(),
    };
    let incoming: Vec<Linked> = replies
        .iter()
        .filter(|r| r.to.id == post.id)
        .map(|r| linked(&r.from))
        .collect();
    let outgoing: Vec<Linked> = replies
        .iter()
        .filter(|r| r.from.id == post.id)
        .map(|r| linked(&r.to))
        .collect();

    let content = sanitize(&post.content_html);
    let excerpt = crate::templates::excerpt(&post.text, Some(280));
    let html = state.templates.render(
        "post.html",
        context! {
            site_name => &state.site.name,
            post => context! {
                id => post.id.0,
                title => &post.title,
                url => post.url.as_deref().filter(|u| is_web_url(u)),
                author => post.author.as_deref().map(str::trim).filter(|a| !a.is_empty()),
                published => post.published.to_rfc3339(),
                date => post.published.format("%-d %B %Y").to_string(),
                updated => post.updated.filter(|u| *u > post.published).map(|u| context! {
                    at => u.to_rfc3339(),
                    date => u.format("%-d %B %Y").to_string(),
                }),
                lang => post.language.as_deref().and_then(bcp47),
                backfill => post.backfill,
            },
            blog => context! {
                id => blog.id.0,
                title => if blog.title.trim().is_empty() { &blog.homepage_url } else { &blog.title },
                homepage_url => Some(&blog.homepage_url).filter(|u| is_web_url(u)),
            },
            description => crate::templates::excerpt(&post.text, Some(155)),
            excerpt => excerpt,
            content => content,
            tags => Serde(&tags),
            hubs => Serde(&hubs),
            incoming => Serde(&incoming),
            outgoing => Serde(&outgoing),
        },
    )?;
    Ok(page(html))
}

/// The stored content, sanitised again as it is rendered (the crawler sanitised it when it
/// was stored; a store written by an older version or another backend should not be able
/// to put markup on our pages either), with its headings fitted under the page's `h1`.
fn sanitize(html: &str) -> String {
    static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(["http", "https", "mailto"].into_iter().collect())
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("nofollow ugc noopener"));
        b
    });
    fit_headings(&CLEANER.clean(html).to_string())
}

/// Renumbers the headings of post content so that they sit under the page's `h1` and
/// its own `h2`s without gaps: the levels used, in order, become `h3`, `h4`, … (at most
/// `h6`). An author's `h1` would otherwise compete with the post's title, and a jump from
/// `h2` to `h4` confuses screen readers' heading navigation.
fn fit_headings(html: &str) -> String {
    let tag_at = |s: &str, i: usize| -> Option<(usize, u8)> {
        // `<hN` or `</hN` followed by `>` or whitespace; returns (length of the match, N).
        let rest = &s.as_bytes()[i..];
        let skip = if rest.starts_with(b"</") { 2 } else { 1 };
        let (h, n, end) = (rest.get(skip)?, rest.get(skip + 1)?, rest.get(skip + 2)?);
        (rest[0] == b'<'
            && h.eq_ignore_ascii_case(&b'h')
            && (b'1'..=b'6').contains(n)
            && (*end == b'>' || end.is_ascii_whitespace()))
        .then(|| (skip + 2, n - b'0'))
    };
    let mut used = [false; 7];
    for (i, _) in html.match_indices('<') {
        if let Some((_, n)) = tag_at(html, i) {
            used[usize::from(n)] = true;
        }
    }
    let mut map = [0u8; 7];
    let mut next = 3u8;
    for level in 1..=6 {
        if used[level] {
            map[level] = next.min(6);
            next += 1;
        }
    }
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for (i, _) in html.match_indices('<') {
        if let Some((len, n)) = tag_at(html, i) {
            out.push_str(&html[last..i + len - 1]);
            out.push(char::from(b'0' + map[usize::from(n)]));
            last = i + len;
        }
    }
    out.push_str(&html[last..]);
    out
}

/// An ISO 639-3 code as the crawler detects it, as a BCP 47 tag for `lang` (the languages
/// the tagger knows; others are left unmarked rather than marked wrongly).
fn bcp47(iso639_3: &str) -> Option<&'static str> {
    Some(match iso639_3 {
        "eng" | "en" => "en",
        "fra" | "fr" => "fr",
        "deu" | "de" => "de",
        "spa" | "es" => "es",
        "ita" | "it" => "it",
        "por" | "pt" => "pt",
        "nld" | "nl" => "nl",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_fit_under_the_title() {
        assert_eq!(
            fit_headings("<h1>A</h1><p>x</p><h4 title=\"t\">B</h4><H1>C</H1>"),
            "<h3>A</h3><p>x</p><h4 title=\"t\">B</h4><H3>C</H3>"
        );
        assert_eq!(
            fit_headings("<h2>A</h2><hr><header>"),
            "<h3>A</h3><hr><header>"
        );
        assert_eq!(
            fit_headings("<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5>"),
            "<h3>1</h3><h4>2</h4><h5>3</h5><h6>4</h6><h6>5</h6>"
        );
        assert_eq!(
            fit_headings("no headings <b>here</b>"),
            "no headings <b>here</b>"
        );
    }

    #[test]
    fn content_is_sanitised_again() {
        let out = sanitize(
            "<p onclick=\"x()\">Hi <script>alert(1)</script><a href=\"javascript:x\">j</a>\
             <a href=\"https://e.example/\">e</a><img src=\"/rel.png\" alt=\"r\"></p>",
        );
        assert!(!out.contains("onclick") && !out.contains("script"), "{out}");
        assert!(!out.contains("javascript:"), "{out}");
        assert!(out.contains("href=\"https://e.example/\""), "{out}");
        assert!(out.contains("rel=\"nofollow ugc noopener\""), "{out}");
        assert!(!out.contains("/rel.png"), "{out}");
    }
}
