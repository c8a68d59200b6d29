//! The HTML pages people read.
//!
//! Every handler composes reads (the store, the hubs snapshot, the search index) into a
//! view and renders one template. Strings from feeds reach the templates as plain values
//! and are escaped there; SVG pictures are built in [`crate::svg`], which escapes its own.
//! Pages are cacheable for a minute ([`page`]).
//!
//! ## Layout
//! - this file: routes, the post views shared by every river, keyset cursors, the blog
//!   directory (titles of blogs by id, for member lists), cache headers.
//! - [`home`] — `/`, `/hubs`, `/communities`, `/about`.
//! - [`hub`] — `/hubs/{tag}`.
//! - [`community`] — `/communities/{id}`.
//! - [`blog`] — `/blogs/{id}`.
//! - [`kin`] — `/blogs/{id}/kin` and the kindred-blogs lists.
//! - [`post`] — `/posts/{id}`: one post, its tags and why, its hubs, its conversation.

mod blog;
mod community;
mod home;
mod hub;
pub(crate) mod kin;
mod post;

use crate::{AppState, WebError};
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use kith_hubs::Snapshot;
use kith_model::{BlogId, BlogStatus, Post, PostId, TagSource};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Posts per page of a river.
const PAGE_SIZE: usize = 30;

/// How long browsers and proxies may keep a page.
const PAGE_CACHE: &str = "public, max-age=60";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::index))
        .route("/hubs", get(home::hubs))
        .route("/communities", get(home::communities))
        .route("/about", get(home::about))
        .route("/hubs/{tag}", get(hub::show))
        .route("/communities/{id}", get(community::show))
        .route("/blogs/{id}", get(blog::show))
        .route("/blogs/{id}/kin", get(kin::show))
        .route("/posts/{id}", get(post::show))
        .route("/healthz", get(healthz))
        .route("/static/style.css", get(stylesheet))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon_ico))
        .route("/robots.txt", get(robots_txt))
        .fallback(not_found)
}

/// A rendered page with its cache policy.
fn page(html: String) -> Response {
    page_with(html, PAGE_CACHE)
}

fn page_with(html: String, cache: &'static str) -> Response {
    let mut r = Html(html).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// Read by cached pages: a field added here must be added to the cache's `KEYED_PARAMS`.
#[derive(Debug, Deserialize)]
pub struct RiverParams {
    /// Keyset cursor of the last post on the previous page.
    before: Option<String>,
}

impl RiverParams {
    fn cursor(&self) -> Option<&str> {
        self.before.as_deref().filter(|s| !s.is_empty())
    }
}

fn bad_cursor(s: &str) -> WebError {
    WebError::BadRequest(format!(
        "{s:?} is not a page cursor; follow the \"Older posts\" link instead"
    ))
}

/// A store cursor `RFC3339_ID`: (published, id) of the last post shown.
fn parse_time_cursor(s: &str) -> Result<(DateTime<Utc>, PostId), WebError> {
    let (time, id) = s.rsplit_once('_').ok_or_else(|| bad_cursor(s))?;
    let time = DateTime::parse_from_rfc3339(time)
        .map_err(|_| bad_cursor(s))?
        .with_timezone(&Utc);
    let id = id.parse::<i64>().map_err(|_| bad_cursor(s))?;
    Ok((time, PostId(id)))
}

fn time_cursor(published: DateTime<Utc>, id: PostId) -> String {
    format!(
        "{}_{}",
        published.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        id
    )
}

/// A post in a river.
#[derive(Debug, Serialize)]
struct PostView {
    id: i64,
    title: String,
    url: Option<String>,
    blog_id: i64,
    blog_title: String,
    blog_url: String,
    author: Option<String>,
    published: String,
    date: String,
    excerpt: String,
    tags: Vec<TagView>,
    /// On a hub's page: why the post is in that hub.
    why: Option<WhyView>,
}

#[derive(Debug, Serialize)]
struct TagView {
    tag: String,
    display: String,
    /// author, rule or extracted: styled apart so readers see what the author said.
    source: &'static str,
    reason: String,
    /// The tag is a hub (so it links to the hub's page).
    hub: bool,
}

/// Why a post carries a hub's tag, from the post-tag's provenance.
#[derive(Debug, Serialize, PartialEq)]
struct WhyView {
    source: &'static str,
    label: &'static str,
    detail: String,
}

impl WhyView {
    fn of(tag: &kith_model::PostTag) -> WhyView {
        let reason = tag.reason.clone().unwrap_or_default();
        match tag.source {
            TagSource::Author => WhyView {
                source: "author",
                label: "Author's category",
                detail: if reason.is_empty() {
                    "the author tagged it so".into()
                } else {
                    reason
                },
            },
            TagSource::Rule => WhyView {
                source: "rule",
                label: "Curator's rule",
                detail: if reason.is_empty() {
                    "a curator's rule matched".into()
                } else {
                    reason
                },
            },
            TagSource::Extracted => WhyView {
                source: "extracted",
                label: "Keyword",
                detail: format!(
                    "{}{}score {:.2}",
                    reason,
                    if reason.is_empty() { "" } else { ", " },
                    tag.score
                ),
            },
        }
    }
}

/// Post views for a river; with `hub_tag`, each says why it is in that hub.
fn post_views(posts: Vec<Post>, snapshot: &Snapshot, hub_tag: Option<&str>) -> Vec<PostView> {
    posts
        .into_iter()
        .map(|p| {
            let why = hub_tag.and_then(|h| p.tags.iter().find(|t| t.tag == h).map(WhyView::of));
            PostView {
                id: p.id.0,
                excerpt: crate::templates::excerpt(&p.text, Some(280)),
                date: p.published.format("%-d %b %Y").to_string(),
                published: p.published.to_rfc3339(),
                tags: p
                    .tags
                    .iter()
                    .map(|t| {
                        let hub = snapshot.hub(&t.tag);
                        TagView {
                            display: hub.map_or_else(|| t.tag.clone(), |h| h.display.clone()),
                            hub: hub.is_some(),
                            tag: t.tag.clone(),
                            source: t.source.as_str(),
                            reason: t.reason.clone().unwrap_or_else(|| t.source.to_string()),
                        }
                    })
                    .collect(),
                why,
                title: p.title,
                url: p.url.filter(|u| is_web_url(u)),
                blog_id: p.blog_id.0,
                blog_title: p.blog_title,
                blog_url: p.blog_url,
                author: p.author,
            }
        })
        .collect()
}

/// Whether a link from a feed may be followed from our pages: http(s) only, never
/// `javascript:` or `data:` (the CSP would block them too; we do not rely on it).
fn is_web_url(u: &str) -> bool {
    let u = u.trim_start();
    u.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        || u.get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// What member lists need to know about a blog.
#[derive(Debug, Clone)]
pub struct BlogCard {
    pub title: String,
    pub homepage_url: String,
    pub status: BlogStatus,
}

impl BlogCard {
    pub(crate) fn name(&self) -> &str {
        if self.title.trim().is_empty() {
            &self.homepage_url
        } else {
            &self.title
        }
    }
}

/// Blogs by id.
type Directory = Arc<HashMap<BlogId, BlogCard>>;

/// Blogs' titles by id, read from the store at most every [`BlogDirectory::FRESH`] (and
/// again, at most every second, when asked about a blog it does not know): member lists
/// name dozens of blogs, which should not cost dozens of queries per page.
#[derive(Clone, Default)]
pub struct BlogDirectory {
    inner: Arc<Mutex<Option<(Instant, Directory)>>>,
}

impl std::fmt::Debug for BlogDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlogDirectory")
    }
}

impl BlogDirectory {
    const FRESH: Duration = Duration::from_secs(30);
    const RETRY: Duration = Duration::from_secs(1);

    /// The directory, fresh enough to name every blog in `want`.
    pub(crate) async fn get(
        &self,
        store: &kith_store::DynStore,
        want: impl IntoIterator<Item = BlogId>,
    ) -> Result<Arc<HashMap<BlogId, BlogCard>>, WebError> {
        let current = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some((at, map)) = &current {
            let age = at.elapsed();
            let complete = || want.into_iter().all(|b| map.contains_key(&b));
            if age < Self::FRESH && (age < Self::RETRY || complete()) {
                return Ok(Arc::clone(map));
            }
        }
        let map: HashMap<BlogId, BlogCard> = store
            .blogs()
            .await?
            .into_iter()
            .map(|b| {
                (
                    b.id,
                    BlogCard {
                        title: b.title,
                        homepage_url: b.homepage_url,
                        status: b.status,
                    },
                )
            })
            .collect();
        let map = Arc::new(map);
        *self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Instant::now(), Arc::clone(&map)));
        Ok(map)
    }
}

fn blog_name(dir: &HashMap<BlogId, BlogCard>, id: BlogId) -> String {
    dir.get(&id)
        .map_or_else(|| format!("Blog #{id}"), |c| c.name().to_owned())
}

/// `t` relative to `now` in plain words, with the date: "3 hours ago (12 Mar 2025, 14:03
/// UTC)", "in 5 minutes (…)".
fn when(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let (n, future) = (secs.unsigned_abs(), secs < 0);
    let rel = if n < 60 {
        if future {
            "in under a minute".to_owned()
        } else {
            "just now".to_owned()
        }
    } else {
        let (v, unit) = match n {
            n if n < 3600 => (n / 60, "minute"),
            n if n < 86_400 => (n / 3600, "hour"),
            n => (n / 86_400, "day"),
        };
        let unit = if v == 1 {
            unit.to_owned()
        } else {
            format!("{unit}s")
        };
        if future {
            format!("in {v} {unit}")
        } else {
            format!("{v} {unit} ago")
        }
    };
    format!("{rel} ({})", t.format("%-d %b %Y, %H:%M UTC"))
}

/// A duration in rough words: "every 2 hours".
fn every(secs: u64) -> String {
    let (v, unit) = match secs {
        s if s < 120 => (s, "second"),
        s if s < 7200 => (s / 60, "minute"),
        s if s < 172_800 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("every {v} {unit}{}", if v == 1 { "" } else { "s" })
}

async fn healthz() -> &'static str {
    "ok"
}

/// The stylesheet, compiled in.
const STYLE: &str = include_str!("../../static/style.css");
/// The icon, compiled in.
const FAVICON: &str = include_str!("../../static/favicon.svg");
/// How long a versioned static file may be kept: its address changes with its content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The stylesheet's address, versioned by its content (`/static/style.css?v=1a2b3c4d5e6f`):
/// pages link this one, so browsers keep it for a year and a new build is fetched at once.
pub(crate) fn stylesheet_path() -> &'static str {
    static PATH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "/static/style.css?v={}",
            &kith_model::content_hash("", STYLE)[..12]
        )
    });
    &PATH
}

#[derive(Debug, Deserialize)]
struct Version {
    v: Option<String>,
}

/// The stylesheet: for a year under its current versioned address, an hour otherwise (an
/// old page's address, or none).
async fn stylesheet(axum::extract::Query(q): axum::extract::Query<Version>) -> Response {
    let current =
        q.v.is_some_and(|v| stylesheet_path().ends_with(&format!("?v={v}")));
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (
                header::CACHE_CONTROL,
                if current {
                    IMMUTABLE
                } else {
                    "public, max-age=3600"
                },
            ),
        ],
        STYLE,
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// Browsers and crawlers ask for `/favicon.ico` by habit; the icon is an SVG.
async fn favicon_ico() -> Response {
    axum::response::Redirect::permanent("/favicon.svg").into_response()
}

/// Crawlers are welcome on the pages; search results and registration status pages are
/// endless or private, and the API is for programs.
async fn robots_txt() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        "User-agent: *\nDisallow: /search\nDisallow: /register/\nDisallow: /api/\n",
    )
        .into_response()
}

async fn not_found() -> Response {
    let mut r = WebError::NotFound("There is no page at this address.".into()).into_response();
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_in_words() {
        let now = DateTime::parse_from_rfc3339("2025-03-12T14:03:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            when(now - chrono::Duration::hours(3), now),
            "3 hours ago (12 Mar 2025, 11:03 UTC)"
        );
        assert!(when(now + chrono::Duration::minutes(5), now).starts_with("in 5 minutes"));
        assert!(when(now - chrono::Duration::days(1), now).starts_with("1 day ago"));
        assert_eq!(every(3600), "every 60 minutes");
        assert_eq!(every(86_400 * 3), "every 3 days");
    }

    #[test]
    fn why_names_the_source() {
        let t = |source, reason: &str, score| kith_model::PostTag {
            tag: "rust".into(),
            source,
            score,
            reason: Some(reason.into()),
        };
        let w = WhyView::of(&t(
            TagSource::Extracted,
            "keyword: 3x in title and text",
            0.5,
        ));
        assert_eq!(w.label, "Keyword");
        assert_eq!(w.detail, "keyword: 3x in title and text, score 0.50");
        let w = WhyView::of(&t(TagSource::Rule, "rule systems-langs", 1.0));
        assert_eq!(
            (w.label, w.detail.as_str()),
            ("Curator's rule", "rule systems-langs")
        );
        assert_eq!(
            WhyView::of(&t(TagSource::Author, "feed category \"Rust\"", 1.0)).source,
            "author"
        );
    }

    #[test]
    fn only_web_links_are_followed() {
        assert!(is_web_url("https://example.com/a"));
        assert!(is_web_url("HTTP://example.com/"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("data:text/html,x"));
        assert!(!is_web_url("/relative"));
    }

    #[test]
    fn cursors_round_trip() {
        assert!(parse_time_cursor("<script>").is_err());
        let (t, id) = parse_time_cursor("2025-01-02T03:04:05.000006Z_42").unwrap();
        assert_eq!(id, PostId(42));
        assert_eq!(t.timestamp(), 1_735_787_045);
    }
}
