//! The search page: `/search?q=...&tag=...&blog=...&lang=...&from=...&to=...&sort=...&page=N`.
//!
//! The query language is the index's (words all required, `"phrases"`, `OR`, `-word`,
//! `tag:rust`, `title:word`); the filters are form fields. Results come from
//! [`kith_index::SearchIndex::search`] (on the blocking pool: tantivy is synchronous), then
//! the posts' blogs from the store. A query the index cannot read is a 400 page that says
//! why; a site without an index says so (503) instead of failing.
//!
//! Highlighting: the index returns `title_html` and `snippet_html` built from
//! HTML-escaped text with only `<b>` marks added (tantivy's `Snippet::to_html` escapes
//! every fragment; the fallbacks use `kith_index::search::escape_html`), so the template
//! renders those two fields unescaped and everything else escaped.

use crate::{AppState, WebError};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use kith_index::{SearchQuery, SearchSort};
use kith_model::{BlogId, PostId};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Results per page.
pub const PAGE_SIZE: usize = 20;
/// Deepest page offered (the index caps offsets too); past it, refine the query.
pub const MAX_PAGE: usize = 50;
/// Longest query accepted.
const MAX_QUERY_CHARS: usize = 500;
/// Hubs offered as suggestions in the hub field.
const HUB_SUGGESTIONS: usize = 200;

/// Languages offered in the filter (ISO 639-3, as the index stores them).
const LANGUAGES: &[(&str, &str)] = &[
    ("eng", "English"),
    ("fra", "French"),
    ("deu", "German"),
    ("spa", "Spanish"),
    ("por", "Portuguese"),
    ("ita", "Italian"),
    ("nld", "Dutch"),
    ("swe", "Swedish"),
    ("pol", "Polish"),
    ("rus", "Russian"),
    ("ukr", "Ukrainian"),
    ("jpn", "Japanese"),
    ("cmn", "Chinese"),
    ("kor", "Korean"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

/// The form's fields, all optional and kept as typed so the form shows them back.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct SearchParams {
    pub q: String,
    /// A hub (tag).
    pub tag: String,
    /// A blog: its number, or its homepage or feed URL.
    pub blog: String,
    pub lang: String,
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    /// `YYYY-MM-DD`, inclusive.
    pub to: String,
    /// `relevance` (default) or `date`.
    pub sort: String,
    pub page: Option<String>,
}

#[derive(Debug, Serialize)]
struct HitView {
    id: i64,
    url: Option<String>,
    /// Escaped text with `<b>` marks (see the module docs).
    title_html: String,
    snippet_html: String,
    blog_id: i64,
    blog_title: String,
    published: String,
    date: String,
    tags: Vec<String>,
}

/// A filter the person can see and remove.
#[derive(Debug, Serialize)]
struct ActiveFilter {
    label: String,
    remove: String,
}

fn bad(msg: impl Into<String>) -> WebError {
    WebError::BadRequest(msg.into())
}

fn parse_day(field: &str, s: &str, end_of_day: bool) -> Result<Option<DateTime<Utc>>, WebError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        bad(format!(
            "The {field} date {s:?} is not a date; use the form YYYY-MM-DD, like 2024-05-31."
        ))
    })?;
    let day = if end_of_day {
        day.succ_opt()
            .ok_or_else(|| bad(format!("The {field} date {s:?} is too far in the future.")))?
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

fn parse_page(p: Option<&str>) -> Result<usize, WebError> {
    match p.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(1),
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "Page {p:?} does not exist: pages go from 1 to {MAX_PAGE}. Refine the query to see more."
                ))
            }),
    }
}

/// The query the form describes (the blog already resolved to its id).
fn build_query(
    p: &SearchParams,
    blog: Option<BlogId>,
    page: usize,
) -> Result<SearchQuery, WebError> {
    if p.q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(format!(
            "The query is longer than {MAX_QUERY_CHARS} characters; shorten it."
        )));
    }
    let from = parse_day("from", &p.from, false)?;
    let to = parse_day("to", &p.to, true)?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(bad(
            "The \"from\" date is after the \"to\" date; swap them or clear one.",
        ));
    }
    let sort = match p.sort.trim() {
        "" | "relevance" => SearchSort::Relevance,
        "date" | "newest" => SearchSort::Newest,
        other => {
            return Err(bad(format!(
                "Sort {other:?} is unknown: use relevance or date."
            )));
        }
    };
    let tag = p.tag.trim().trim_start_matches('#');
    Ok(SearchQuery {
        q: p.q.trim().to_owned(),
        tags: if tag.is_empty() {
            Vec::new()
        } else {
            vec![tag.to_lowercase()]
        },
        blog,
        language: Some(p.lang.trim().to_ascii_lowercase()).filter(|l| !l.is_empty()),
        from,
        to,
        sort,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        public_only: true,
    })
}

/// The blog a filter names: a number, or a homepage/feed URL (with or without scheme).
async fn resolve_blog(state: &AppState, s: &str) -> Result<Option<(BlogId, String)>, WebError> {
    let s = s.trim().trim_start_matches('#');
    if s.is_empty() {
        return Ok(None);
    }
    let found = if let Ok(id) = s.parse::<i64>() {
        state.store.blog(BlogId(id)).await?
    } else {
        let url = if s.contains("://") {
            s.to_owned()
        } else {
            format!("https://{s}")
        };
        match state.store.find_blog(&url).await? {
            Some(b) => Some(b),
            None if !s.contains("://") => state.store.find_blog(&format!("http://{s}")).await?,
            None => None,
        }
    };
    match found {
        Some(b) => Ok(Some((b.id, b.title))),
        None => Err(bad(format!(
            "No blog here matches {s:?}; give a blog's number or its homepage address."
        ))),
    }
}

/// `/search?...` with `params`, minus `drop` and with `page` set (1 is left out).
fn link(p: &SearchParams, drop: &str, page: usize) -> String {
    let fields = [
        ("q", &p.q),
        ("tag", &p.tag),
        ("blog", &p.blog),
        ("lang", &p.lang),
        ("from", &p.from),
        ("to", &p.to),
        ("sort", &p.sort),
    ];
    let mut parts: Vec<String> = fields
        .iter()
        .filter(|(k, v)| *k != drop && !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", form_encode(v.trim())))
        .collect();
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/search".into()
    } else {
        format!("/search?{}", parts.join("&"))
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

async fn search(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Response, WebError> {
    let searched = !p.q.trim().is_empty()
        || [&p.tag, &p.blog, &p.lang, &p.from, &p.to]
            .iter()
            .any(|v| !v.trim().is_empty());
    let outcome = run(&state, &p, searched).await;
    let (status, error, results) = match outcome {
        Ok(r) => (StatusCode::OK, None, r),
        Err(e) if e.status().is_client_error() => (e.status(), Some(e.to_string()), None),
        Err(e) => return Err(e),
    };
    let no_index = state.search.is_none();
    let status = if no_index && error.is_none() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        status
    };
    let hubs: Vec<String> = state
        .hubs
        .get()
        .hubs
        .iter()
        .take(HUB_SUGGESTIONS)
        .map(|h| h.tag.clone())
        .collect();
    let mut languages: Vec<(String, String)> = LANGUAGES
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect();
    let lang = p.lang.trim().to_ascii_lowercase();
    if !lang.is_empty() && !languages.iter().any(|(c, _)| *c == lang) {
        languages.push((lang.clone(), lang.clone()));
    }
    let (total, hits, page, blog_title) = match results {
        Some(r) => (Some(r.total), r.hits, r.page, r.blog_title),
        None => (None, Vec::new(), 1, None),
    };
    let pages = total.map_or(1, |t| t.div_ceil(PAGE_SIZE).clamp(1, MAX_PAGE));
    let mut filters = Vec::new();
    let mut add_filter = |label: String, field: &str| {
        filters.push(ActiveFilter {
            label,
            remove: link(&p, field, 1),
        })
    };
    if !p.tag.trim().is_empty() {
        add_filter(format!("hub {}", p.tag.trim()), "tag");
    }
    if let Some(t) = &blog_title {
        add_filter(format!("blog {t}"), "blog");
    }
    if !lang.is_empty() {
        let name = languages
            .iter()
            .find(|(c, _)| *c == lang)
            .map_or(lang.clone(), |(_, n)| n.clone());
        add_filter(format!("language {name}"), "lang");
    }
    if !p.from.trim().is_empty() {
        add_filter(format!("from {}", p.from.trim()), "from");
    }
    if !p.to.trim().is_empty() {
        add_filter(format!("to {}", p.to.trim()), "to");
    }
    let counts = state.store.counts().await?;
    let html = state.templates.render(
        "search.html",
        context! {
            site_name => &state.site.name,
            nav => "search",
            counts => context! { blogs => counts.blogs, posts => counts.posts },
            p => minijinja::value::Serde(&p),
            sort => if matches!(p.sort.trim(), "date" | "newest") { "date" } else { "relevance" },
            lang => lang,
            languages => languages,
            hubs => hubs,
            searched => searched,
            no_index => no_index,
            error => error,
            total => total,
            hits => minijinja::value::Serde(&hits),
            page => page,
            pages => pages,
            first => (page - 1) * PAGE_SIZE + 1,
            last => (page - 1) * PAGE_SIZE + hits.len(),
            prev => (page > 1).then(|| link(&p, "", page - 1)),
            next => (page < pages).then(|| link(&p, "", page + 1)),
            filters => minijinja::value::Serde(&filters),
        },
    )?;
    Ok((status, Html(html)).into_response())
}

struct Found {
    total: usize,
    hits: Vec<HitView>,
    page: usize,
    blog_title: Option<String>,
}

/// Runs the search the form describes; `None` when there is nothing to run (an empty
/// form, or no index).
async fn run(
    state: &AppState,
    p: &SearchParams,
    searched: bool,
) -> Result<Option<Found>, WebError> {
    let page = parse_page(p.page.as_deref())?;
    let blog = resolve_blog(state, &p.blog).await?;
    let query = build_query(p, blog.as_ref().map(|(id, _)| *id), page)?;
    let Some(index) = state.search.clone() else {
        return Ok(None);
    };
    if !searched {
        return Ok(None);
    }
    let results = tokio::task::spawn_blocking(move || index.search(&query)).await?;
    let results = match results {
        Ok(r) => r,
        Err(kith_index::Error::BadQuery { message }) => {
            return Err(bad(format!(
                "The query cannot be read: {message}. Words are all required; use \
                 \"quotes\" for a phrase, OR between alternatives, -word to exclude."
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let ids: Vec<PostId> = results.hits.iter().map(|h| h.post_id).collect();
    let posts: HashMap<PostId, kith_model::Post> = state
        .store
        .posts_by_ids(&ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let hits = results
        .hits
        .into_iter()
        .map(|h| {
            let post = posts.get(&h.post_id);
            HitView {
                id: h.post_id.0,
                url: h.url.or_else(|| post.and_then(|p| p.url.clone())),
                title_html: if h.title_html.trim().is_empty() {
                    "(untitled)".into()
                } else {
                    h.title_html
                },
                snippet_html: h.snippet_html,
                blog_id: h.blog_id.0,
                blog_title: post.map_or_else(String::new, |p| {
                    if p.blog_title.is_empty() {
                        p.blog_url.clone()
                    } else {
                        p.blog_title.clone()
                    }
                }),
                published: h.published.to_rfc3339(),
                date: h.published.format("%-d %b %Y").to_string(),
                tags: h.tags,
            }
        })
        .collect();
    Ok(Some(Found {
        total: results.total,
        hits,
        page,
        blog_title: blog.map(|(_, t)| t),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_are_days_and_to_is_inclusive() {
        let from = parse_day("from", "2024-05-01", false).unwrap().unwrap();
        let to = parse_day("to", "2024-05-01", true).unwrap().unwrap();
        assert_eq!(to - from, chrono::Duration::days(1));
        assert!(parse_day("from", "", false).unwrap().is_none());
        let e = parse_day("from", "yesterday", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(parse_page(None).unwrap(), 1);
        assert_eq!(parse_page(Some("3")).unwrap(), 3);
        assert!(parse_page(Some("0")).is_err());
        assert!(parse_page(Some("x")).is_err());
        assert!(parse_page(Some("100000")).is_err());
    }

    #[test]
    fn links_keep_the_form_and_drop_one_filter() {
        let p = SearchParams {
            q: "borrow checker & more".into(),
            tag: "rust".into(),
            sort: "date".into(),
            ..SearchParams::default()
        };
        assert_eq!(
            link(&p, "", 2),
            "/search?q=borrow+checker+%26+more&tag=rust&sort=date&page=2"
        );
        assert_eq!(
            link(&p, "tag", 1),
            "/search?q=borrow+checker+%26+more&sort=date"
        );
    }

    #[test]
    fn the_query_follows_the_form() {
        let p = SearchParams {
            q: " tokio ".into(),
            tag: "#Rust".into(),
            lang: "ENG".into(),
            from: "2024-01-01".into(),
            to: "2024-01-31".into(),
            sort: "date".into(),
            ..SearchParams::default()
        };
        let q = build_query(&p, Some(BlogId(4)), 3).unwrap();
        assert_eq!(q.q, "tokio");
        assert_eq!(q.tags, vec!["rust"]);
        assert_eq!(q.language.as_deref(), Some("eng"));
        assert_eq!(q.sort, SearchSort::Newest);
        assert_eq!(q.offset, 40);
        assert_eq!(q.blog, Some(BlogId(4)));
        assert!(q.public_only);
        let swapped = SearchParams {
            from: "2024-02-01".into(),
            to: "2024-01-01".into(),
            ..SearchParams::default()
        };
        assert!(build_query(&swapped, None, 1).is_err());
        let sort = SearchParams {
            sort: "random".into(),
            ..SearchParams::default()
        };
        assert!(build_query(&sort, None, 1).is_err());
    }
}
