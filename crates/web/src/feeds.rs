//! Atom 1.0, RSS 2.0, JSON Feed 1.1 and OPML 2.0 for the site, every hub and every
//! community, answering conditional GET, and the WebSub pings that tell a hub they changed.
//!
//! - Entries are what the scope's page shows, first-crawl history (backfill) included: the
//!   site's, the newest public posts by date (as the home page); a hub's, its river from
//!   the index when it is open (a community: the rivers of its hubs merged; a blog's kin:
//!   their river), else from the store.
//! - The validator is computed before any post is loaded: the ids the river gives, the
//!   store's latest change mark (any edit moves it) and what the feed says about itself.
//!   A `304` therefore costs one river query and one indexed store read. Without the index,
//!   the posts are read first and their ids and times make the validator.
//! - XML is written with quick-xml's writer (every text and attribute escaped, characters
//!   XML 1.0 forbids dropped); JSON Feed with serde.
//! - [`spawn_websub_pinger`] watches the newest entry of every feed and, when it changes,
//!   POSTs `hub.mode=publish` to `web.websub_hub` for that feed's URLs.

use crate::{AppState, WebError};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use kith_hubs::Snapshot;
use kith_index::SearchIndex;
use kith_model::{Blog, BlogStatus, Post, PostId};
use kith_store::{DynStore, PostQuery};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Entries in a feed.
pub const FEED_ENTRIES: usize = 50;
/// How long caches may keep a feed.
const CACHE_CONTROL: &str = "public, max-age=300";
/// Without the index, a hub or community feed is found by reading at most this many of
/// the newest posts.
const STORE_SCAN_MAX: usize = 5_000;
/// The pinger looks at every feed at least this often, besides after each hubs recompute.
const PING_RESCAN: Duration = Duration::from_secs(300);

pub fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/blogroll.opml", get(site_opml))
        .route("/hubs/{tag}/blogroll.opml", get(hub_opml))
        .route("/communities/{id}/blogroll.opml", get(community_opml))
        .route("/blogs/{id}/kin/blogroll.opml", get(kin_opml));
    for format in Format::ALL {
        router = router
            .route(
                &format!("/{}", format.file()),
                get(move |s: State<AppState>, h: HeaderMap| site_feed(s, h, format)),
            )
            .route(
                &format!("/hubs/{{tag}}/{}", format.file()),
                get(move |s: State<AppState>, p: Path<String>, h: HeaderMap| {
                    hub_feed(s, p, h, format)
                }),
            )
            .route(
                &format!("/communities/{{id}}/{}", format.file()),
                get(move |s: State<AppState>, p: Path<String>, h: HeaderMap| {
                    community_feed(s, p, h, format)
                }),
            )
            .route(
                &format!("/blogs/{{id}}/kin/{}", format.file()),
                get(move |s: State<AppState>, p: Path<String>, h: HeaderMap| {
                    kin_feed(s, p, h, format)
                }),
            );
    }
    router
}

async fn site_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, WebError> {
    feed_response(&state, Scope::Site, format, &headers).await
}

async fn site_opml(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    opml_response(&state, Scope::Site, &headers).await
}

async fn hub_feed(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    if let Some(moved) = hub_moved(&state, &snapshot, &tag, format.file()) {
        return Ok(moved);
    }
    let scope = Scope::hub(&snapshot, &tag)?;
    feed_response(&state, scope, format, &headers).await
}

async fn hub_opml(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    if let Some(moved) = hub_moved(&state, &snapshot, &tag, "blogroll.opml") {
        return Ok(moved);
    }
    let scope = Scope::hub(&snapshot, &tag)?;
    opml_response(&state, scope, &headers).await
}

/// A permanent redirect to the canonical hub's `file` when `tag` is another form of it (a
/// curator's alias or merge, another case): feed readers follow it and update the
/// subscription (see [`AppState::canonical_hub`]).
fn hub_moved(state: &AppState, snapshot: &Snapshot, tag: &str, file: &str) -> Option<Response> {
    let to = state.canonical_hub(snapshot, tag)?;
    Some(Redirect::permanent(&format!("/hubs/{}/{file}", segment(&to))).into_response())
}

async fn community_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    if let Some(moved) = community_moved(&snapshot, &id, format.file()) {
        return Ok(moved);
    }
    let scope = Scope::community(&snapshot, &id)?;
    feed_response(&state, scope, format, &headers).await
}

async fn community_opml(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    if let Some(moved) = community_moved(&snapshot, &id, "blogroll.opml") {
        return Ok(moved);
    }
    let scope = Scope::community(&snapshot, &id)?;
    opml_response(&state, scope, &headers).await
}

/// A temporary redirect to `file` of the community that now holds the hub `id`, when no
/// community is called `id` any more ([`Snapshot::community_moved`]); temporary, because
/// the name may change again, and the old address keeps leading on.
fn community_moved(snapshot: &Snapshot, id: &str, file: &str) -> Option<Response> {
    let to = snapshot.community_moved(id)?;
    Some(Redirect::temporary(&format!("/communities/{}/{file}", segment(&to.id))).into_response())
}

async fn kin_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    format: Format,
) -> Result<Response, WebError> {
    let scope = Scope::kin(&state, &id).await?;
    feed_response(&state, scope, format, &headers).await
}

async fn kin_opml(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let scope = Scope::kin(&state, &id).await?;
    opml_response(&state, scope, &headers).await
}

/// A syndication format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::Json];

    /// The file name of this format's feed (`feed.atom`).
    pub fn file(self) -> &'static str {
        match self {
            Format::Atom => "feed.atom",
            Format::Rss => "feed.rss",
            Format::Json => "feed.json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// Whose feed: the whole site, a hub (by tag), a community (by id) or a blog's kin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Site,
    Hub {
        tag: String,
        display: String,
    },
    Community {
        id: String,
        name: String,
        /// Its hubs' tags.
        tags: Vec<String>,
    },
    /// The kindred blogs of a blog: their posts, as `/blogs/{id}/kin` shows them.
    Kin {
        blog: kith_model::BlogId,
        name: String,
        /// The kin, best first (public blogs only).
        blogs: Vec<kith_model::BlogId>,
    },
}

impl Scope {
    fn hub(snapshot: &Snapshot, tag: &str) -> Result<Scope, WebError> {
        let normal = tag.trim().to_lowercase();
        let hub = snapshot.hub(&normal).ok_or_else(|| {
            WebError::NotFound(format!("There is no hub {tag:?}, so it has no feed."))
        })?;
        Ok(Scope::Hub {
            tag: hub.tag.clone(),
            display: hub.display.clone(),
        })
    }

    fn community(snapshot: &Snapshot, id: &str) -> Result<Scope, WebError> {
        let c = snapshot.community(id).ok_or_else(|| {
            WebError::NotFound(format!("There is no community {id:?}, so it has no feed."))
        })?;
        Ok(Scope::Community {
            id: c.id.clone(),
            name: c.name.clone(),
            tags: c.hubs.clone(),
        })
    }

    async fn kin(state: &AppState, id: &str) -> Result<Scope, WebError> {
        let blog = crate::pages::kin::public_blog(state, id).await?;
        let snapshot = state.hubs.get();
        let list = crate::pages::kin::kin_of(state, &snapshot, &blog, usize::MAX).await?;
        Ok(Scope::Kin {
            blog: blog.id,
            name: if blog.title.trim().is_empty() {
                blog.homepage_url
            } else {
                blog.title
            },
            blogs: list.blog_ids(),
        })
    }

    /// The path of the scope's page (`/`, `/hubs/rust`, `/communities/c1`,
    /// `/blogs/7/kin`), no trailing `/` except for the site.
    pub fn page_path(&self) -> String {
        match self {
            Scope::Site => "/".into(),
            Scope::Hub { tag, .. } => format!("/hubs/{}", segment(tag)),
            Scope::Community { id, .. } => format!("/communities/{}", segment(id)),
            Scope::Kin { blog, .. } => format!("/blogs/{blog}/kin"),
        }
    }

    /// The path of one of the scope's files (`feed.atom`, `blogroll.opml`).
    pub fn file_path(&self, file: &str) -> String {
        match self {
            Scope::Site => format!("/{file}"),
            _ => format!("{}/{file}", self.page_path()),
        }
    }

    fn key(&self) -> String {
        match self {
            Scope::Site => "site".into(),
            Scope::Hub { tag, .. } => format!("hub:{tag}"),
            Scope::Community { id, .. } => format!("community:{id}"),
            Scope::Kin { blog, .. } => format!("kin:{blog}"),
        }
    }

    fn title(&self, site: &str) -> String {
        match self {
            Scope::Site => site.to_owned(),
            Scope::Hub { display, .. } => format!("{display} · {site}"),
            Scope::Community { name, .. } => format!("{name} · {site}"),
            Scope::Kin { name, .. } => format!("Kindred blogs of {name} · {site}"),
        }
    }

    fn description(&self, site: &str) -> String {
        match self {
            Scope::Site => format!("The newest posts of every blog on {site}"),
            Scope::Hub { display, .. } => {
                format!("The newest posts tagged {display} by the bloggers of {site}")
            }
            Scope::Community { name, .. } => {
                format!("The newest posts of the {name} community on {site}")
            }
            Scope::Kin { name, .. } => {
                format!(
                    "The newest posts of the bloggers on {site} who write about what {name} writes about"
                )
            }
        }
    }
}

/// Percent-encodes a path segment (everything but RFC 3986 unreserved characters).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The newest entries of a scope: ids from the river, or posts read from the store.
#[derive(Debug)]
struct Selection {
    ids: Vec<PostId>,
    /// Already read (the store path); `None`: read them by id when the body is needed.
    posts: Option<Vec<Post>>,
}

async fn select(
    store: &DynStore,
    search: Option<&SearchIndex>,
    scope: &Scope,
    limit: usize,
) -> Result<Selection, WebError> {
    let tags: Vec<Option<String>> = match scope {
        Scope::Site => vec![None],
        Scope::Hub { tag, .. } => vec![Some(tag.clone())],
        Scope::Community { tags, .. } => tags.iter().cloned().map(Some).collect(),
        Scope::Kin { blogs, .. } => return select_blogs(store, search, blogs, limit).await,
    };
    // The site's feed shows what the home page shows: the newest posts by date, from the
    // store (an indexed read of the first rows).
    let search = search.filter(|_| *scope != Scope::Site);
    if let Some(search) = search {
        let search = search.clone();
        let hits = tokio::task::spawn_blocking(move || {
            let mut all = Vec::new();
            for tag in &tags {
                all.extend(search.river(tag.as_deref(), None, None, limit, true)?);
            }
            Ok::<_, kith_index::Error>(all)
        })
        .await??;
        // What the hub page's river shows, first-crawl history included (below live posts,
        // as there), so that a hub whose posts are all history has a feed.
        let mut hits = hits;
        hits.sort_by(|a, b| b.river.cmp(&a.river).then(b.post_id.cmp(&a.post_id)));
        let mut seen = HashSet::new();
        let ids = hits
            .into_iter()
            .map(|h| h.post_id)
            .filter(|id| seen.insert(*id))
            .take(limit)
            .collect();
        return Ok(Selection { ids, posts: None });
    }
    // The store: newest first, filtered by tag for hubs and communities (bounded: without
    // the index this is a fallback for them, not the plan).
    let wanted: HashSet<String> = tags.into_iter().flatten().collect();
    let mut out: Vec<Post> = Vec::new();
    let mut before = None;
    let mut scanned = 0;
    let page = if wanted.is_empty() { limit } else { 500 };
    while out.len() < limit && scanned < STORE_SCAN_MAX {
        let posts = store
            .latest_posts(PostQuery {
                limit: page,
                before,
                blog: None,
                public_only: true,
                include_backfill: true,
            })
            .await?;
        let n = posts.len();
        scanned += n;
        before = posts.last().map(|p| (p.published, p.id));
        out.extend(
            posts
                .into_iter()
                .filter(|p| wanted.is_empty() || p.tags.iter().any(|t| wanted.contains(&t.tag))),
        );
        if n < page {
            break;
        }
    }
    out.truncate(limit);
    Ok(Selection {
        ids: out.iter().map(|p| p.id).collect(),
        posts: Some(out),
    })
}

/// The newest posts of `blogs` as their page's river shows them (live posts above a new
/// blog's first-crawl history): from the index, or else from the store.
async fn select_blogs(
    store: &DynStore,
    search: Option<&SearchIndex>,
    blogs: &[kith_model::BlogId],
    limit: usize,
) -> Result<Selection, WebError> {
    if blogs.is_empty() {
        return Ok(Selection {
            ids: Vec::new(),
            posts: Some(Vec::new()),
        });
    }
    if let Some(search) = search {
        let (search, blogs) = (search.clone(), blogs.to_vec());
        let hits =
            tokio::task::spawn_blocking(move || search.river_of_blogs(&blogs, None, limit, true))
                .await??;
        return Ok(Selection {
            ids: hits.into_iter().map(|h| h.post_id).collect(),
            posts: None,
        });
    }
    let wanted: HashSet<kith_model::BlogId> = blogs.iter().copied().collect();
    let mut out: Vec<Post> = Vec::new();
    let mut before = None;
    let mut scanned = 0;
    while out.len() < limit && scanned < STORE_SCAN_MAX {
        let posts = store
            .latest_posts(PostQuery {
                limit: 500,
                before,
                ..PostQuery::default()
            })
            .await?;
        let n = posts.len();
        scanned += n;
        before = posts.last().map(|p| (p.published, p.id));
        out.extend(posts.into_iter().filter(|p| wanted.contains(&p.blog_id)));
        if n < 500 {
            break;
        }
    }
    out.truncate(limit);
    Ok(Selection {
        ids: out.iter().map(|p| p.id).collect(),
        posts: Some(out),
    })
}

/// A strong validator and the time of the last change.
#[derive(Debug, Clone)]
pub(crate) struct Validators {
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

impl Validators {
    fn from_hash(h: Sha256, last_modified: DateTime<Utc>) -> Self {
        let digest = h.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Validators {
            etag: format!("\"{hex}\""),
            last_modified,
        }
    }

    /// Whether the request's conditions say the client has this version (RFC 9110
    /// §13.1.2 and §13.1.3: `If-None-Match`, when present, decides alone).
    pub fn not_modified(&self, headers: &HeaderMap) -> bool {
        if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
            let Ok(inm) = inm.to_str() else { return false };
            let ours = self.etag.trim_start_matches("W/");
            return inm
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours);
        }
        if let Some(ims) = headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        {
            let ims = DateTime::<Utc>::from(ims);
            return self.last_modified.timestamp() <= ims.timestamp();
        }
        false
    }

    fn apply(&self, headers: &mut HeaderMap) {
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, v);
        }
        let lm = httpdate::fmt_http_date(self.last_modified.into());
        if let Ok(v) = HeaderValue::from_str(&lm) {
            headers.insert(header::LAST_MODIFIED, v);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
    }

    /// `304 Not Modified` with the validators and no body.
    fn not_modified_response(&self) -> Response {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        self.apply(r.headers_mut());
        r
    }

    fn response(&self, content_type: &'static str, body: Vec<u8>) -> Response {
        let mut r = Response::new(Body::from(body));
        self.apply(r.headers_mut());
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    }
}

/// What a feed says about itself.
struct FeedMeta<'a> {
    title: String,
    description: String,
    /// The scope's page, absolute.
    home: String,
    /// This document's own URL, absolute.
    self_url: String,
    hub: Option<&'a str>,
    /// The newest entry's time (or the last change when there is none).
    updated: DateTime<Utc>,
    public_url: &'a str,
}

async fn feed_response(
    state: &AppState,
    scope: Scope,
    format: Format,
    headers: &HeaderMap,
) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    let selection = select(&state.store, state.search.as_ref(), &scope, FEED_ENTRIES).await?;
    let mark = state.store.latest_change_mark().await?;
    let changed = mark.map_or(DateTime::UNIX_EPOCH, |m| m.changed_at);
    let mut h = Sha256::new();
    h.update(format!(
        "{format:?}\n{}\n{}\n{}\n{:?}\n{}\n",
        scope.title(&state.site.name),
        state.site.public_url,
        state.site.websub_hub.as_deref().unwrap_or(""),
        mark.map(|m| m.encode()),
        selection.ids.len()
    ));
    for id in &selection.ids {
        h.update(id.0.to_le_bytes());
    }
    if let Some(posts) = &selection.posts {
        for p in posts {
            h.update(p.updated.unwrap_or(p.published).to_rfc3339().as_bytes());
        }
    }
    let validators = Validators::from_hash(h, changed.max(snapshot.computed_at));
    if validators.not_modified(headers) {
        return Ok(validators.not_modified_response());
    }
    let posts = match selection.posts {
        Some(p) => p,
        None => state.store.posts_by_ids(&selection.ids).await?,
    };
    let public = state.site.public_url.as_str();
    let meta = FeedMeta {
        title: scope.title(&state.site.name),
        description: scope.description(&state.site.name),
        home: format!("{public}{}", scope.page_path()),
        self_url: format!("{public}{}", scope.file_path(format.file())),
        // The pinger watches the site, hub and community feeds; a kin feed (one per blog)
        // announces no WebSub hub rather than one that is never told of its changes.
        hub: state
            .site
            .websub_hub
            .as_deref()
            .filter(|_| !matches!(scope, Scope::Kin { .. })),
        updated: posts
            .iter()
            .map(|p| p.updated.unwrap_or(p.published))
            .max()
            .unwrap_or(changed),
        public_url: public,
    };
    let body = match format {
        Format::Atom => atom(&meta, &posts),
        Format::Rss => rss(&meta, &posts),
        Format::Json => json_feed(&meta, &posts),
    };
    Ok(match body {
        Ok(body) => validators.response(format.content_type(), body),
        Err(e) => write_failed(e),
    })
}

/// Writing into memory does not fail; should the writer ever report an error, it is
/// logged and answered as a plain 500.
fn write_failed(e: io::Error) -> Response {
    tracing::error!(error = %e, "cannot write a feed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// Drops characters XML 1.0 does not allow (C0 controls but tab, newline and carriage
/// return; U+FFFE, U+FFFF), which a sanitised post can still hold.
fn xml_clean(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if s.chars().any(bad) {
        s.chars().filter(|c| !bad(*c)).collect::<String>().into()
    } else {
        s.into()
    }
}

fn text(s: &str) -> BytesText<'static> {
    BytesText::new(&xml_clean(s)).into_owned()
}

type Xml = Writer<Vec<u8>>;

fn element(w: &mut Xml, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name).write_text_content(text(value))?;
    Ok(())
}

fn new_writer() -> io::Result<Xml> {
    let mut w = Writer::new_with_indent(Vec::with_capacity(64 * 1024), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    Ok(w)
}

fn entry_id(public: &str, p: &Post) -> String {
    format!("{public}/posts/{}", p.id)
}

fn author_name(p: &Post) -> &str {
    p.author
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or(&p.blog_title)
}

fn summary(p: &Post) -> String {
    crate::templates::excerpt(&p.text, Some(280))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn atom(meta: &FeedMeta, posts: &[Post]) -> io::Result<Vec<u8>> {
    let mut w = new_writer()?;
    w.create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            element(w, "id", &meta.self_url)?;
            element(w, "title", &meta.title)?;
            element(w, "subtitle", &meta.description)?;
            element(w, "updated", &rfc3339(meta.updated))?;
            w.create_element("link")
                .with_attributes([("rel", "self"), ("href", meta.self_url.as_str())])
                .with_attribute(("type", "application/atom+xml"))
                .write_empty()?;
            w.create_element("link")
                .with_attributes([("rel", "alternate"), ("href", meta.home.as_str())])
                .with_attribute(("type", "text/html"))
                .write_empty()?;
            if let Some(hub) = meta.hub {
                w.create_element("link")
                    .with_attributes([("rel", "hub"), ("href", hub)])
                    .write_empty()?;
            }
            w.create_element("generator")
                .with_attribute(("uri", meta.public_url))
                .write_text_content(text("Kith"))?;
            for p in posts {
                w.create_element("entry").write_inner_content(|w| {
                    element(w, "id", &entry_id(meta.public_url, p))?;
                    w.create_element("title")
                        .with_attribute(("type", "text"))
                        .write_text_content(text(&p.title))?;
                    if let Some(url) = &p.url {
                        w.create_element("link")
                            .with_attributes([("rel", "alternate"), ("href", url.as_str())])
                            .write_empty()?;
                    }
                    element(w, "published", &rfc3339(p.published))?;
                    element(w, "updated", &rfc3339(p.updated.unwrap_or(p.published)))?;
                    w.create_element("author").write_inner_content(|w| {
                        element(w, "name", author_name(p))?;
                        element(w, "uri", &p.blog_url)
                    })?;
                    for t in &p.tags {
                        w.create_element("category")
                            .with_attribute(("term", t.tag.as_str()))
                            .write_empty()?;
                    }
                    w.create_element("summary")
                        .with_attribute(("type", "text"))
                        .write_text_content(text(&summary(p)))?;
                    if !p.content_html.is_empty() {
                        // Sanitised HTML as escaped text (`type="html"`).
                        w.create_element("content")
                            .with_attribute(("type", "html"))
                            .write_text_content(text(&p.content_html))?;
                    }
                    // Where it came from: the blog (RFC 4287 §4.2.11).
                    w.create_element("source").write_inner_content(|w| {
                        element(w, "id", &p.feed_url)?;
                        element(w, "title", &p.blog_title)?;
                        w.create_element("link")
                            .with_attributes([("rel", "alternate"), ("href", p.blog_url.as_str())])
                            .write_empty()?;
                        w.create_element("link")
                            .with_attributes([("rel", "self"), ("href", p.feed_url.as_str())])
                            .write_empty()?;
                        Ok(())
                    })?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    Ok(w.into_inner())
}

fn rss(meta: &FeedMeta, posts: &[Post]) -> io::Result<Vec<u8>> {
    let mut w = new_writer()?;
    w.create_element("rss")
        .with_attributes([
            ("version", "2.0"),
            ("xmlns:atom", "http://www.w3.org/2005/Atom"),
            ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
        ])
        .write_inner_content(|w| {
            w.create_element("channel").write_inner_content(|w| {
                element(w, "title", &meta.title)?;
                element(w, "link", &meta.home)?;
                element(w, "description", &meta.description)?;
                element(w, "lastBuildDate", &meta.updated.to_rfc2822())?;
                element(w, "generator", "Kith")?;
                element(w, "docs", "https://www.rssboard.org/rss-specification")?;
                w.create_element("atom:link")
                    .with_attributes([("rel", "self"), ("href", meta.self_url.as_str())])
                    .with_attribute(("type", "application/rss+xml"))
                    .write_empty()?;
                if let Some(hub) = meta.hub {
                    w.create_element("atom:link")
                        .with_attributes([("rel", "hub"), ("href", hub)])
                        .write_empty()?;
                }
                for p in posts {
                    w.create_element("item").write_inner_content(|w| {
                        element(w, "title", &p.title)?;
                        if let Some(url) = &p.url {
                            element(w, "link", url)?;
                        }
                        w.create_element("guid")
                            .with_attribute(("isPermaLink", "false"))
                            .write_text_content(text(&entry_id(meta.public_url, p)))?;
                        element(w, "pubDate", &p.published.to_rfc2822())?;
                        element(w, "dc:creator", author_name(p))?;
                        for t in &p.tags {
                            element(w, "category", &t.tag)?;
                        }
                        // RSS carries HTML in `description`, entity-escaped.
                        let body = if p.content_html.is_empty() {
                            summary(p)
                        } else {
                            p.content_html.clone()
                        };
                        element(w, "description", &body)?;
                        w.create_element("source")
                            .with_attribute(("url", p.feed_url.as_str()))
                            .write_text_content(text(&p.blog_title))?;
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(w.into_inner())
}

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub<'a>>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonHub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    title: &'a str,
    content_html: &'a str,
    summary: String,
    date_published: String,
    date_modified: String,
    authors: [JsonAuthor<'a>; 1],
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
    url: &'a str,
}

fn json_feed(meta: &FeedMeta, posts: &[Post]) -> io::Result<Vec<u8>> {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &meta.title,
        home_page_url: &meta.home,
        feed_url: &meta.self_url,
        description: &meta.description,
        hubs: meta
            .hub
            .map(|url| JsonHub {
                kind: "WebSub",
                url,
            })
            .into_iter()
            .collect(),
        items: posts
            .iter()
            .map(|p| JsonItem {
                id: entry_id(meta.public_url, p),
                url: p.url.as_deref(),
                title: &p.title,
                content_html: &p.content_html,
                summary: summary(p),
                date_published: rfc3339(p.published),
                date_modified: rfc3339(p.updated.unwrap_or(p.published)),
                authors: [JsonAuthor {
                    name: author_name(p),
                    url: &p.blog_url,
                }],
                tags: p.tags.iter().map(|t| t.tag.as_str()).collect(),
                // JSON Feed wants RFC 5646; ours are ISO 639-3 codes, which are valid
                // primary language subtags.
                language: p.language.as_deref(),
            })
            .collect(),
    };
    serde_json::to_vec_pretty(&feed).map_err(io::Error::other)
}

/// The public blogs of a scope, in the scope's order (hub: most engaged first).
async fn blogroll(state: &AppState, scope: &Scope) -> Result<Vec<Blog>, WebError> {
    let blogs = state.store.blogs().await?;
    let snapshot = state.hubs.get();
    let order: Option<Vec<kith_model::BlogId>> = match scope {
        Scope::Site => None,
        Scope::Hub { tag, .. } => snapshot
            .hub(tag)
            .map(|h| h.members.iter().map(|m| m.blog).collect()),
        Scope::Community { id, .. } => snapshot
            .community(id)
            .map(|c| c.members.iter().map(|m| m.blog).collect()),
        Scope::Kin { blogs, .. } => Some(blogs.clone()),
    };
    let public = blogs
        .into_iter()
        .filter(|b| b.status == BlogStatus::Verified);
    Ok(match order {
        None => public.collect(),
        Some(order) => {
            let mut by_id: HashMap<_, _> = public.map(|b| (b.id, b)).collect();
            order.iter().filter_map(|id| by_id.remove(id)).collect()
        }
    })
}

async fn opml_response(
    state: &AppState,
    scope: Scope,
    headers: &HeaderMap,
) -> Result<Response, WebError> {
    let blogs = blogroll(state, &scope).await?;
    let snapshot = state.hubs.get();
    let body = match opml(
        &format!("Blogroll: {}", scope.title(&state.site.name)),
        &format!(
            "{}{}",
            state.site.public_url,
            scope.file_path("blogroll.opml")
        ),
        &blogs,
    ) {
        Ok(body) => body,
        Err(e) => return Ok(write_failed(e)),
    };
    // The blogroll is cheap to write: its validator is the body's hash.
    let mut h = Sha256::new();
    h.update(&body);
    let validators = Validators::from_hash(h, snapshot.computed_at);
    if validators.not_modified(headers) {
        return Ok(validators.not_modified_response());
    }
    Ok(validators.response("text/x-opml; charset=utf-8", body))
}

fn opml(title: &str, self_url: &str, blogs: &[Blog]) -> io::Result<Vec<u8>> {
    let mut w = new_writer()?;
    w.create_element("opml")
        .with_attribute(("version", "2.0"))
        .write_inner_content(|w| {
            w.create_element("head").write_inner_content(|w| {
                element(w, "title", title)?;
                element(w, "docs", "http://opml.org/spec2.opml")?;
                element(w, "ownerId", self_url)
            })?;
            w.create_element("body").write_inner_content(|w| {
                for b in blogs {
                    let name = xml_clean(if b.title.trim().is_empty() {
                        &b.homepage_url
                    } else {
                        &b.title
                    })
                    .into_owned();
                    w.create_element("outline")
                        .with_attributes([
                            ("type", "rss"),
                            ("text", name.as_str()),
                            ("title", name.as_str()),
                            ("xmlUrl", b.feed_url.as_str()),
                            ("htmlUrl", b.homepage_url.as_str()),
                        ])
                        .write_empty()?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(w.into_inner())
}

/// Starts the task that pings `web.websub_hub` when a feed's newest entry changes (when
/// a hub is configured and a runtime is running). It looks after every hubs recompute and
/// every [`PING_RESCAN`]; the first look after the hubs are computed only notes where
/// each feed stands. The task ends when the site's state is dropped.
pub fn spawn_websub_pinger(state: &AppState) {
    let Some(hub) = state.site.websub_hub.clone() else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let alive = Arc::downgrade(&state.metrics);
    let store = Arc::clone(&state.store);
    let search = state.search.clone();
    let hubs = state.hubs.clone();
    let at_start = Arc::clone(&state.hubs_at_start);
    let public = state.site.public_url.clone();
    runtime.spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("Kith/", env!("CARGO_PKG_VERSION"), " (WebSub publisher)"))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "websub pinger: no HTTP client");
                return;
            }
        };
        let mut newest: HashMap<String, Option<PostId>> = HashMap::new();
        let mut seen: Option<Arc<Snapshot>> = None;
        let mut last_scan = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if alive.upgrade().is_none() {
                return;
            }
            let snapshot = hubs.get();
            let computed = !Arc::ptr_eq(&snapshot, &at_start) || !snapshot.hubs.is_empty();
            let recomputed = seen.as_ref().is_none_or(|s| !Arc::ptr_eq(s, &snapshot));
            if !computed || (!recomputed && last_scan.elapsed() < PING_RESCAN) {
                continue;
            }
            let baseline = seen.is_none();
            seen = Some(Arc::clone(&snapshot));
            last_scan = Instant::now();
            let mut scopes = vec![Scope::Site];
            scopes.extend(snapshot.hubs.iter().map(|h| Scope::Hub {
                tag: h.tag.clone(),
                display: h.display.clone(),
            }));
            scopes.extend(snapshot.communities.iter().map(|c| Scope::Community {
                id: c.id.clone(),
                name: c.name.clone(),
                tags: c.hubs.clone(),
            }));
            for scope in scopes {
                let top = match select(&store, search.as_ref(), &scope, 1).await {
                    Ok(s) => s.ids.first().copied(),
                    Err(e) => {
                        tracing::warn!(error = %e, scope = %scope.key(), "websub pinger: cannot read a feed");
                        continue;
                    }
                };
                let before = newest.insert(scope.key(), top);
                if baseline || top.is_none() || before == Some(top) {
                    continue;
                }
                for format in Format::ALL {
                    let url = format!("{public}{}", scope.file_path(format.file()));
                    let outcome = publish(&client, &hub, &url).await;
                    if let Some(metrics) = alive.upgrade() {
                        metrics.websub_pinged(outcome);
                    }
                }
            }
            if let Some(metrics) = alive.upgrade() {
                metrics.websub_scanned();
            }
        }
    });
}

/// Tells the hub that `url` has new content (the de facto WebSub publish request), and
/// says how that went: `sent`, `refused` or `failed`.
async fn publish(client: &reqwest::Client, hub: &str, url: &str) -> &'static str {
    let sent = client
        .post(hub)
        .form(&[("hub.mode", "publish"), ("hub.url", url)])
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => {
            tracing::info!(hub, url, status = r.status().as_u16(), "websub hub pinged");
            "sent"
        }
        Ok(r) => {
            tracing::warn!(
                hub,
                url,
                status = r.status().as_u16(),
                "websub hub refused a ping"
            );
            "refused"
        }
        Err(e) => {
            tracing::warn!(hub, url, error = %e, "websub hub not reached");
            "failed"
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("c++"), "c%2B%2B");
        assert_eq!(segment("rust"), "rust");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn xml_forbidden_characters_are_dropped() {
        assert_eq!(xml_clean("a\u{1}b\tc\u{FFFF}"), "ab\tc");
    }

    #[test]
    fn conditions_follow_rfc_9110() {
        let v = Validators {
            etag: "\"abc\"".into(),
            last_modified: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let mut h = HeaderMap::new();
        assert!(!v.not_modified(&h));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(v.not_modified(&h));
        // If-None-Match decides alone, even with a matching date.
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_str(&httpdate::fmt_http_date(v.last_modified.into())).unwrap(),
        );
        assert!(!v.not_modified(&h));
        h.remove(header::IF_NONE_MATCH);
        assert!(v.not_modified(&h));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert!(!v.not_modified(&h));
        h.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_static("garbage"),
        );
        assert!(!v.not_modified(&h));
    }
}
