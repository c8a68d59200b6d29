//! Page handlers.

use crate::{AppState, WebError};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use kith_model::PostId;
use kith_store::PostQuery;
use minijinja::context;
use serde::{Deserialize, Serialize};

/// Posts per page of a river.
const PAGE_SIZE: usize = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/static/style.css", get(stylesheet))
        .fallback(not_found)
}

#[derive(Debug, Deserialize)]
pub struct RiverParams {
    /// Keyset cursor `RFC3339_ID` of the last post on the previous page.
    before: Option<String>,
}

#[derive(Debug, Serialize)]
struct PostView {
    title: String,
    url: Option<String>,
    blog_title: String,
    blog_url: String,
    author: Option<String>,
    published: String,
    date: String,
    excerpt: String,
    tags: Vec<TagView>,
}

#[derive(Debug, Serialize)]
struct TagView {
    tag: String,
    /// author, rule or extracted: styled apart so readers see what the author said.
    source: &'static str,
    reason: String,
}

fn parse_cursor(s: &str) -> Result<(DateTime<Utc>, PostId), WebError> {
    let bad = || {
        WebError::BadRequest(format!(
            "{s:?} is not a page cursor; follow the \"Older posts\" link instead"
        ))
    };
    let (time, id) = s.rsplit_once('_').ok_or_else(bad)?;
    let time = DateTime::parse_from_rfc3339(time)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    let id = id.parse::<i64>().map_err(|_| bad())?;
    Ok((time, PostId(id)))
}

async fn index(
    State(state): State<AppState>,
    Query(params): Query<RiverParams>,
) -> Result<Html<String>, WebError> {
    let before = params
        .before
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_cursor)
        .transpose()?;
    let posts = state
        .store
        .latest_posts(PostQuery {
            limit: PAGE_SIZE,
            before,
            ..PostQuery::default()
        })
        .await?;
    let older = (posts.len() == PAGE_SIZE)
        .then(|| posts.last())
        .flatten()
        .map(|p| {
            format!(
                "{}_{}",
                p.published
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                p.id
            )
        });
    let views: Vec<PostView> = posts
        .into_iter()
        .map(|p| PostView {
            excerpt: crate::templates::excerpt(&p.text, Some(280)),
            date: p.published.format("%-d %b %Y").to_string(),
            published: p.published.to_rfc3339(),
            tags: p
                .tags
                .iter()
                .map(|t| TagView {
                    tag: t.tag.clone(),
                    source: t.source.as_str(),
                    reason: t.reason.clone().unwrap_or_else(|| t.source.to_string()),
                })
                .collect(),
            title: p.title,
            url: p.url,
            blog_title: p.blog_title,
            blog_url: p.blog_url,
            author: p.author,
        })
        .collect();
    let counts = state.store.counts().await?;
    let html = state.templates.render(
        "index.html",
        context! {
            site_name => &state.site.name,
            posts => minijinja::value::Serde(&views),
            older => older,
            counts => context! { blogs => counts.blogs, posts => counts.posts },
        },
    )?;
    Ok(Html(html))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
        .into_response()
}

async fn not_found() -> Response {
    let mut r = WebError::NotFound("There is no page at this address.".into()).into_response();
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}
