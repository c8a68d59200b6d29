//! The JSON API under `/api/v1` and its OpenAPI 3.1 document at `/api/openapi.json`.
//!
//! Reads only: hubs, a hub's posts (keyset-paginated on the index's river), communities,
//! blogs with their feed health and memberships, search; and registration, which goes
//! through the same [`Registrar`](crate::register::Registrar) and per-client rate limit as
//! the register page. Every error is `{"error": message}` with its status: 4xx say what to
//! change, 5xx are logged and say nothing of the cause.
//!
//! The OpenAPI document (`openapi.json` beside this file) is written by hand and served
//! with `servers` set to the site's public URL; the tests check it parses as OpenAPI 3.1
//! and that live answers validate against its schemas.

use crate::feeds::{Format, Scope};
use crate::register::ClientIp;
use crate::{AppState, WebError};
use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use kith_hubs::{Hub, Snapshot};
use kith_index::{RiverCursor, SearchQuery, SearchSort};
use kith_model::{Blog, BlogId, BlogStatus, Post, PostId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Instant;

/// Posts per page of a hub's river, by default and at most.
const POSTS_PAGE: usize = 30;
const POSTS_PAGE_MAX: usize = 100;
/// Search hits per page.
const SEARCH_PAGE: usize = 20;
/// Blogs per page of the blog list, by default and at most.
const BLOGS_PAGE: usize = 100;
const BLOGS_PAGE_MAX: usize = 1000;
/// Kindred blogs per answer by default (at most what the hubs computation keeps).
const KIN_PAGE: usize = 10;

static OPENAPI: LazyLock<Option<Value>> =
    LazyLock::new(|| serde_json::from_str(include_str!("openapi.json")).ok());

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/hubs", get(hubs))
        .route("/api/v1/hubs/{tag}", get(hub))
        .route("/api/v1/hubs/{tag}/posts", get(hub_posts))
        .route("/api/v1/communities", get(communities))
        .route("/api/v1/communities/{id}", get(community))
        .route("/api/v1/blogs", get(blogs))
        .route("/api/v1/blogs/{id}", get(blog))
        .route("/api/v1/blogs/{id}/kin", get(blog_kin))
        .route("/api/v1/search", get(search))
        .route("/api/v1/register", post(register))
        .route("/api/v1/register/preview", post(register_preview))
        .route("/api", get(no_such_endpoint))
        .route("/api/{*rest}", get(no_such_endpoint).post(no_such_endpoint))
}

/// An API failure: its status and a message for the caller.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// Our own failure: the cause is logged, the caller gets a generic message.
    fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "api request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "something went wrong on our side; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "error": self.message })),
        )
            .into_response()
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        let status = e.status();
        if status.is_server_error() {
            Self::internal(e)
        } else {
            Self::new(status, e.to_string())
        }
    }
}

impl From<kith_store::Error> for ApiError {
    fn from(e: kith_store::Error) -> Self {
        Self::internal(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(e)
    }
}

impl From<kith_index::Error> for ApiError {
    fn from(e: kith_index::Error) -> Self {
        match e {
            kith_index::Error::BadQuery { message } => Self::bad(message),
            other => Self::internal(other),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self::bad(e.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        Self::new(e.status(), e.body_text())
    }
}

async fn no_such_endpoint() -> ApiError {
    ApiError::not_found("no such API endpoint; see /api/openapi.json")
}

async fn openapi(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut doc = OPENAPI
        .clone()
        .ok_or_else(|| ApiError::internal("the bundled openapi.json does not parse"))?;
    doc["servers"] = json!([{ "url": state.site.public_url }]);
    Ok(([(header::CACHE_CONTROL, "public, max-age=3600")], Json(doc)).into_response())
}

// --- shapes ---

#[derive(Debug, Serialize)]
struct Links {
    html: String,
    atom: String,
    rss: String,
    json: String,
    opml: String,
}

fn links(public: &str, scope: &Scope) -> Links {
    let file = |f: Format| format!("{public}{}", scope.file_path(f.file()));
    Links {
        html: format!("{public}{}", scope.page_path()),
        atom: file(Format::Atom),
        rss: file(Format::Rss),
        json: file(Format::Json),
        opml: format!("{public}{}", scope.file_path("blogroll.opml")),
    }
}

fn hub_scope(h: &Hub) -> Scope {
    Scope::Hub {
        tag: h.tag.clone(),
        display: h.display.clone(),
    }
}

#[derive(Debug, Serialize)]
struct HubSummary<'a> {
    tag: &'a str,
    display: &'a str,
    posts: u32,
    bloggers: u32,
    recent_posts: u32,
    trend: f64,
    community: Option<&'a str>,
    links: Links,
}

fn hub_summary<'a>(public: &str, h: &'a Hub) -> HubSummary<'a> {
    HubSummary {
        tag: &h.tag,
        display: &h.display,
        posts: h.posts,
        bloggers: h.bloggers,
        recent_posts: h.recent_posts,
        trend: finite(h.trend),
        community: h.community.as_deref(),
        links: links(public, &hub_scope(h)),
    }
}

/// JSON has no NaN or infinity.
fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

#[derive(Debug, Serialize)]
struct BlogRef<'a> {
    id: i64,
    title: &'a str,
    homepage_url: &'a str,
}

#[derive(Debug, Serialize)]
struct TagJson<'a> {
    tag: &'a str,
    source: &'static str,
    reason: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct PostJson<'a> {
    id: i64,
    title: &'a str,
    url: Option<&'a str>,
    author: Option<&'a str>,
    published: DateTime<Utc>,
    updated: Option<DateTime<Utc>>,
    language: Option<&'a str>,
    excerpt: String,
    blog: BlogRef<'a>,
    tags: Vec<TagJson<'a>>,
}

fn post_json(p: &Post) -> PostJson<'_> {
    PostJson {
        id: p.id.0,
        title: &p.title,
        url: p.url.as_deref(),
        author: p.author.as_deref(),
        published: p.published,
        updated: p.updated,
        language: p.language.as_deref(),
        excerpt: crate::templates::excerpt(&p.text, Some(280)),
        blog: BlogRef {
            id: p.blog_id.0,
            title: &p.blog_title,
            homepage_url: &p.blog_url,
        },
        tags: p
            .tags
            .iter()
            .map(|t| TagJson {
                tag: &t.tag,
                source: t.source.as_str(),
                reason: t.reason.as_deref(),
            })
            .collect(),
    }
}

// --- hubs ---

#[derive(Debug, Serialize)]
struct HubList<'a> {
    computed_at: DateTime<Utc>,
    hubs: Vec<HubSummary<'a>>,
}

async fn hubs(State(state): State<AppState>) -> Response {
    let snapshot = state.hubs.get();
    let public = &state.site.public_url;
    Json(HubList {
        computed_at: snapshot.computed_at,
        hubs: snapshot
            .hubs
            .iter()
            .map(|h| hub_summary(public, h))
            .collect(),
    })
    .into_response()
}

fn find_hub<'a>(snapshot: &'a Snapshot, tag: &str) -> Result<&'a Hub, ApiError> {
    snapshot
        .hub(&tag.trim().to_lowercase())
        .ok_or_else(|| ApiError::not_found(format!("there is no hub {tag:?}")))
}

async fn blogs_by_id(state: &AppState) -> Result<HashMap<BlogId, Blog>, ApiError> {
    Ok(state
        .store
        .blogs()
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect())
}

async fn hub(State(state): State<AppState>, Path(tag): Path<String>) -> Result<Response, ApiError> {
    let snapshot = state.hubs.get();
    let h = find_hub(&snapshot, &tag)?;
    let blogs = blogs_by_id(&state).await?;
    let members: Vec<Value> = h
        .members
        .iter()
        .filter_map(|m| {
            let b = blogs.get(&m.blog)?;
            Some(json!({
                "blog": { "id": b.id.0, "title": b.title, "homepage_url": b.homepage_url },
                "feed_url": b.feed_url,
                "role": m.role,
                "posts": m.posts,
                "recent_posts": m.recent,
                "score": finite(m.score),
                "last_post": m.last,
            }))
        })
        .collect();
    let mut body =
        serde_json::to_value(hub_summary(&state.site.public_url, h)).map_err(ApiError::internal)?;
    body["members"] = Value::Array(members);
    body["related"] = h
        .related
        .iter()
        .map(|r| {
            json!({ "tag": r.tag, "display": r.display, "shared_bloggers": r.shared_bloggers,
                    "jaccard": finite(r.jaccard) })
        })
        .collect();
    body["weekly"] = h
        .weekly
        .iter()
        .map(|w| json!({ "week": w.week, "posts": w.posts }))
        .collect();
    body["rising"] = h
        .rising
        .iter()
        .map(|r| {
            json!({ "tag": r.tag, "display": r.display, "recent": r.recent,
                    "expected": finite(r.expected), "growth": finite(r.growth) })
        })
        .collect();
    Ok(Json(body).into_response())
}

/// Read by cached responses: a field added here must be added to the cache's
/// `KEYED_PARAMS`.
#[derive(Debug, Deserialize)]
struct PageParams {
    before: Option<String>,
    limit: Option<String>,
}

fn parse_limit(s: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad(format!(
                "limit must be a whole number from 1 to {max}, not {s:?}"
            ))),
        },
    }
}

/// A river cursor as the API shows it: `RIVER_ID`.
fn parse_river_cursor(s: &str) -> Result<RiverCursor, ApiError> {
    let bad = || {
        ApiError::bad(format!(
            "{s:?} is not a page cursor; pass back `next` as given"
        ))
    };
    let (river, id) = s.split_once('_').ok_or_else(bad)?;
    Ok(RiverCursor {
        river: river.parse().map_err(|_| bad())?,
        id: PostId(id.parse().map_err(|_| bad())?),
    })
}

async fn hub_posts(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let snapshot = state.hubs.get();
    let h = find_hub(&snapshot, &tag)?;
    let limit = parse_limit(params.limit.as_deref(), POSTS_PAGE, POSTS_PAGE_MAX)?;
    let before = params
        .before
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_river_cursor)
        .transpose()?;
    let search = state
        .search
        .clone()
        .ok_or_else(|| ApiError::unavailable("the search index is not open; try again later"))?;
    let tag = h.tag.clone();
    let hits =
        tokio::task::spawn_blocking(move || search.river(Some(&tag), None, before, limit, true))
            .await??;
    let ids: Vec<PostId> = hits.iter().map(|h| h.post_id).collect();
    let posts = state.store.posts_by_ids(&ids).await?;
    let next = (hits.len() == limit)
        .then(|| hits.last())
        .flatten()
        .map(|h| format!("{}_{}", h.river, h.post_id.0));
    Ok(Json(json!({
        "hub": h.tag,
        "posts": posts.iter().map(post_json).collect::<Vec<_>>(),
        "next": next,
    }))
    .into_response())
}

// --- communities ---

fn community_scope(c: &kith_hubs::Community) -> Scope {
    Scope::Community {
        id: c.id.clone(),
        name: c.name.clone(),
        tags: c.hubs.clone(),
    }
}

async fn communities(State(state): State<AppState>) -> Response {
    let snapshot = state.hubs.get();
    let public = &state.site.public_url;
    let list: Vec<Value> = snapshot
        .communities
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "hubs": c.hubs,
                "member_count": c.members.len(),
                "links": links(public, &community_scope(c)),
            })
        })
        .collect();
    Json(json!({ "computed_at": snapshot.computed_at, "communities": list })).into_response()
}

async fn community(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = state.hubs.get();
    if let Some(to) = snapshot.community_moved(&id) {
        let to = format!("/api/v1/communities/{}", crate::feeds::segment(&to.id));
        return Ok(axum::response::Redirect::temporary(&to).into_response());
    }
    let c = snapshot
        .community(&id)
        .ok_or_else(|| ApiError::not_found(format!("there is no community {id:?}")))?;
    let blogs = blogs_by_id(&state).await?;
    let public = &state.site.public_url;
    let hubs: Vec<Value> = c
        .hubs
        .iter()
        .filter_map(|t| snapshot.hub(t))
        .map(|h| serde_json::to_value(hub_summary(public, h)).unwrap_or(Value::Null))
        .collect();
    let members: Vec<Value> = c
        .members
        .iter()
        .filter_map(|m| {
            let b = blogs.get(&m.blog)?;
            Some(json!({
                "blog": { "id": b.id.0, "title": b.title, "homepage_url": b.homepage_url },
                "role": m.role,
                "share": finite(m.share),
                "score": finite(m.score),
                "primary": m.primary,
            }))
        })
        .collect();
    let edges: Vec<Value> = c
        .edges
        .iter()
        .map(|e| json!({ "a": e.a, "b": e.b, "weight": finite(e.weight) }))
        .collect();
    Ok(Json(json!({
        "id": c.id,
        "name": c.name,
        "hubs": hubs,
        "members": members,
        "edges": edges,
        "links": links(public, &community_scope(c)),
    }))
    .into_response())
}

// --- blogs ---

#[derive(Debug, Deserialize)]
struct BlogParams {
    status: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

fn blog_summary(b: &Blog, snapshot: &Snapshot) -> Value {
    json!({
        "id": b.id.0,
        "title": b.title,
        "homepage_url": b.homepage_url,
        "feed_url": b.feed_url,
        "status": b.status,
        "health": b.health(),
        "added_at": b.added_at,
        "primary_community": snapshot.blogs.get(&b.id).and_then(|c| c.primary.as_deref()),
    })
}

async fn blogs(
    State(state): State<AppState>,
    params: Result<Query<BlogParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let status = match params.status.as_deref().map(str::trim) {
        None | Some("") => Some(BlogStatus::Verified),
        Some("all") => None,
        Some(s) => Some(
            s.parse::<BlogStatus>()
                .map_err(|e| ApiError::bad(format!("{e}; or `all` for every blog")))?,
        ),
    };
    let limit = parse_limit(params.limit.as_deref(), BLOGS_PAGE, BLOGS_PAGE_MAX)?;
    let offset = match params
        .offset
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => 0,
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| ApiError::bad(format!("offset must be a whole number, not {s:?}")))?,
    };
    let snapshot = state.hubs.get();
    let all: Vec<Blog> = state
        .store
        .blogs()
        .await?
        .into_iter()
        .filter(|b| status.is_none_or(|s| b.status == s))
        .collect();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|b| blog_summary(b, &snapshot))
        .collect();
    Ok(Json(json!({ "total": all.len(), "offset": offset, "blogs": page })).into_response())
}

async fn blog(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = id
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::bad(format!("a blog id is a number, not {id:?}")))?;
    let b = state
        .store
        .blog(BlogId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no blog {id}")))?;
    let snapshot = state.hubs.get();
    let mut body = blog_summary(&b, &snapshot);
    let f = &b.feed;
    body["feed_health"] = json!({
        "health": b.health(),
        "last_checked_at": f.last_checked_at,
        "last_success_at": f.last_success_at,
        "last_status": f.last_status,
        "last_error": f.last_error,
        "consecutive_errors": f.consecutive_errors,
        "next_check_at": f.next_check_at,
        "notes": f.notes,
    });
    body["memberships"] = snapshot
        .memberships(b.id)
        .into_iter()
        .map(|(h, m)| {
            json!({ "hub": h.tag, "display": h.display, "role": m.role, "posts": m.posts,
                    "recent_posts": m.recent, "score": finite(m.score) })
        })
        .collect();
    body["communities"] = snapshot
        .blogs
        .get(&b.id)
        .map(|c| {
            c.shares
                .iter()
                .map(|(id, share)| {
                    json!({ "id": id, "share": finite(*share),
                            "primary": c.primary.as_deref() == Some(id.as_str()) })
                })
                .collect()
        })
        .unwrap_or_else(|| Value::Array(Vec::new()));
    Ok(Json(body).into_response())
}

/// `/api/v1/blogs/{id}/kin`: the blog's kindred blogs, best first, as
/// `kith blogs kin --json` prints them.
async fn blog_kin(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let snapshot = state.hubs.get();
    let most = snapshot.params.kin.limit.max(1);
    let limit = parse_limit(params.limit.as_deref(), KIN_PAGE.min(most), most)?;
    let n = id
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::bad(format!("a blog id is a number, not {id:?}")))?;
    let b = state
        .store
        .blog(BlogId(n))
        .await?
        .filter(|b| b.status == BlogStatus::Verified)
        .ok_or_else(|| ApiError::not_found(format!("there is no public blog {n}")))?;
    let kin = kith_hubs::kin::of_blog(&snapshot, &state.store, &b).await?;
    let dir = state
        .blogs
        .get(&state.store, kin.kin().iter().map(|k| k.blog))
        .await?;
    let rows: Vec<Value> = kin
        .kin()
        .iter()
        .filter_map(|k| Some((k, dir.get(&k.blog)?)))
        .filter(|(_, card)| card.status == BlogStatus::Verified)
        .take(limit)
        .map(|(k, card)| {
            json!({
                "id": k.blog.0,
                "title": card.title,
                "homepage_url": card.homepage_url,
                "score": finite(k.score),
                "shared_hubs": k.shared_hubs,
                "links": k.links,
                "community": k.community,
            })
        })
        .collect();
    Ok(Json(rows).into_response())
}

// --- search ---

#[derive(Debug, Deserialize)]
struct SearchParams {
    q: Option<String>,
    tag: Option<String>,
    blog: Option<String>,
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    page: Option<String>,
}

/// A date (`2024-05-01`, midnight UTC) or an RFC 3339 time.
fn parse_time(name: &str, s: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            ApiError::bad(format!(
                "{name} must be a date (2024-05-01) or an RFC 3339 time, not {s:?}"
            ))
        })
}

async fn search(
    State(state): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params?;
    let nonempty = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let page = match nonempty(&p.page) {
        None => 1,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 && (n - 1) * SEARCH_PAGE <= kith_index::search::MAX_OFFSET => n,
            _ => {
                return Err(ApiError::bad(format!(
                    "page must be a whole number from 1 to {}, not {s:?}",
                    kith_index::search::MAX_OFFSET / SEARCH_PAGE + 1
                )));
            }
        },
    };
    let sort = match nonempty(&p.sort).as_deref() {
        None | Some("relevance") => SearchSort::Relevance,
        Some("newest") => SearchSort::Newest,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "sort must be relevance or newest, not {other:?}"
            )));
        }
    };
    let blog = nonempty(&p.blog)
        .map(|s| {
            s.parse::<i64>()
                .map(BlogId)
                .map_err(|_| ApiError::bad(format!("blog must be a blog id (a number), not {s:?}")))
        })
        .transpose()?;
    let from = nonempty(&p.from)
        .map(|s| parse_time("from", &s))
        .transpose()?;
    let to = nonempty(&p.to).map(|s| parse_time("to", &s)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::bad("from must be before to"));
    }
    let q = SearchQuery {
        q: nonempty(&p.q).unwrap_or_default(),
        tags: nonempty(&p.tag)
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default(),
        blog,
        language: nonempty(&p.lang),
        from,
        to,
        sort,
        offset: (page - 1) * SEARCH_PAGE,
        limit: SEARCH_PAGE,
        public_only: true,
    };
    let search = state.search.clone().ok_or_else(|| {
        ApiError::unavailable("search is not available right now; try again later")
    })?;
    let started = Instant::now();
    let results = tokio::task::spawn_blocking(move || search.search(&q)).await??;
    let ids: Vec<PostId> = results.hits.iter().map(|h| h.post_id).collect();
    let posts: HashMap<PostId, Post> = state
        .store
        .posts_by_ids(&ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let hits: Vec<Value> = results
        .hits
        .iter()
        .filter_map(|h| {
            let p = posts.get(&h.post_id)?;
            let mut v = serde_json::to_value(post_json(p)).ok()?;
            v["score"] = json!(finite(f64::from(h.score)));
            v["title_html"] = json!(h.title_html);
            v["snippet_html"] = json!(h.snippet_html);
            Some(v)
        })
        .collect();
    Ok(Json(json!({
        "total": results.total,
        "page": page,
        "per_page": SEARCH_PAGE,
        "took_ms": started.elapsed().as_millis() as u64,
        "hits": hits,
    }))
    .into_response())
}

// --- registration ---

#[derive(Debug, Deserialize)]
struct RegisterBody {
    url: String,
}

fn registration(
    state: &AppState,
    client: ClientIp,
) -> Result<crate::register::Registration, ApiError> {
    let reg = state
        .registrar
        .clone()
        .ok_or_else(|| ApiError::unavailable("this site does not take registrations"))?;
    if let Err(wait) = reg.limiter.take(client.0, Instant::now()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many registrations from your address; try again in {} s",
                wait.as_secs() + 1
            ),
        ));
    }
    Ok(reg)
}

fn register_error(e: crate::register::RegisterError) -> ApiError {
    use crate::register::RegisterError as E;
    match e {
        E::BadInput(m) => ApiError::bad(m),
        E::Already { message, .. } => ApiError::new(StatusCode::CONFLICT, message),
        E::Unreachable(m) => ApiError::new(StatusCode::BAD_GATEWAY, m),
        E::NotFound(m) => ApiError::not_found(m),
        E::Internal(cause) => ApiError::internal(cause),
    }
}

/// `POST /api/v1/register/preview {"url"}`: what registering would find, storing nothing.
async fn register_preview(
    State(state): State<AppState>,
    client: ClientIp,
    body: Result<Json<RegisterBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let reg = registration(&state, client)?;
    let preview = reg
        .registrar
        .preview(body.url.trim())
        .await
        .map_err(register_error)?;
    Ok(Json(preview).into_response())
}

/// `POST /api/v1/register {"url"}`: registers the blog; `201` with its id and status.
async fn register(
    State(state): State<AppState>,
    client: ClientIp,
    body: Result<Json<RegisterBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let reg = registration(&state, client)?;
    let url = body.url.trim();
    let id = reg
        .registrar
        .confirm("", url)
        .await
        .map_err(register_error)?;
    let b = state
        .store
        .blog(id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("blog {id} vanished after registration")))?;
    let snapshot = state.hubs.get();
    let mut v = blog_summary(&b, &snapshot);
    v["status_url"] = json!(format!("{}/register/{}", state.site.public_url, b.id.0));
    v["api_url"] = json!(format!("{}/api/v1/blogs/{}", state.site.public_url, b.id.0));
    Ok((StatusCode::CREATED, Json(v)).into_response())
}
