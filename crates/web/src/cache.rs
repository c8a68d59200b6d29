//! Rendered responses of the pages and feeds everyone reads alike (home, hubs,
//! communities, posts, feeds, blogrolls, the hubs and communities API), kept until what
//! they were made from changes.
//!
//! What such a response is made from: the hubs snapshot (recomputed in the background) and
//! the search index (a commit makes new posts visible). Both have a version, and an entry
//! made under other versions is stale; an entry is also stale after [`MAX_AGE`], for what
//! changes in the store alone (a blog's title). A hit costs a hash lookup and a copy of a
//! reference to the body: a hub page of a million-post store is served like a static
//! file, and recomputed once per index commit or snapshot, not per request.
//!
//! Every cached response carries an `ETag` (the handler's, else a hash of the body), and
//! a conditional request whose `If-None-Match` or `If-Modified-Since` matches is answered
//! `304 Not Modified` without a body, on a hit and on a miss alike.
//!
//! A text body is also kept gzipped, compressed once when the entry is made (off the
//! async threads), instead of by the compression middleware on every request of a client
//! that accepts gzip, as browsers and feed readers all do: gzipping a hub page costs some
//! thirty times what serving it does. The gzipped representation has the weak form of
//! the entry's `ETag` (RFC 9110, 8.8.3.3); every kept text response says
//! `Vary: Accept-Encoding`.
//!
//! Two middlewares share the cache:
//! - [`layer`], innermost, answers from the cache or runs the handler and keeps its
//!   answer (one request makes a missing page while the others asking for it wait);
//! - [`revalidate`], in front of tracing, the timeout, compression and the latency
//!   middleware, answers a conditional request that a fresh entry satisfies with a 304
//!   straight away, and passes everything else on. A feed reader polling an unchanged
//!   feed, the most common request a feed site gets, costs a hash lookup and a comparison
//!   of two strings: less than a plaintext route behind the full stack.

use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest an entry is served while its versions still match.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// Longest a request waits for another request making the same page.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Bytes of bodies kept (the least recently used go first).
const CAPACITY_BYTES: u64 = 32 * 1024 * 1024;

/// Parts the cache is split into (each locked on its own). An entry may weigh at most
/// about a part's share of [`CAPACITY_BYTES`], so the parts are few enough that a
/// [`MAX_BODY`] page and its gzipped copy fit in one, whatever the number of cores.
const SHARDS: usize = 4;

/// The largest body kept; a bigger response is served without being kept.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// The smallest body worth gzipping (as the compression middleware's default).
const MIN_GZIP: usize = 32;

/// Headers a cached response keeps (the security headers are added outside the cache).
const KEPT: [header::HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CACHE_CONTROL,
    header::ETAG,
    header::LAST_MODIFIED,
    header::VARY,
    header::LINK,
];

/// Headers a 304 repeats (RFC 9110, 15.4.5).
const ON_NOT_MODIFIED: [header::HeaderName; 4] = [
    header::CACHE_CONTROL,
    header::ETAG,
    header::LAST_MODIFIED,
    header::VARY,
];

#[derive(Debug)]
struct Entry {
    /// 200, or 404 (an unknown hub is as costly to look up as a known one is to show).
    status: StatusCode,
    version: u64,
    made: Instant,
    headers: HeaderMap,
    body: Bytes,
    /// The body gzipped: `None` unless it is text that gzip makes smaller.
    gzip: Option<Bytes>,
    /// Where [`revalidate`] records the 304s it answers: the latency histogram of this
    /// route's 304s, the one the latency middleware would use.
    revalidated: Option<prometheus_client::metrics::histogram::Histogram>,
}

impl Entry {
    /// Whether the entry was made under `version` and recently enough to be served.
    fn fresh(&self, version: u64) -> bool {
        self.version == version && self.made.elapsed() < MAX_AGE
    }
}

/// `body` gzipped, if that makes it smaller.
fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut z = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    let mut out = z.write_all(body).and_then(|()| z.finish()).ok()?;
    out.shrink_to_fit();
    (out.len() < body.len()).then(|| Bytes::from(out))
}

/// Whether a response of this type and size is worth compressing: text, markup and data
/// formats (HTML, XML feeds, JSON, OPML, SVG), not images or streams.
fn compressible(headers: &HeaderMap, len: usize) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ct = ct.split(';').next().unwrap_or_default().trim();
    len >= MIN_GZIP
        && ct != "text/event-stream"
        && (ct.starts_with("text/") || ct.ends_with("xml") || ct.ends_with("json"))
}

/// Whether a request's `Accept-Encoding` accepts gzip (RFC 9110, 12.5.3): named with a
/// non-zero weight, or not named and covered by a non-zero `*`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut named = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("q")
                        .then(|| v.trim().parse::<f32>().ok())?
                })
                .next()
                .unwrap_or(1.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                named = Some(named.unwrap_or(0.0_f32).max(q));
            } else if coding == "*" {
                any = Some(q);
            }
        }
    }
    named.or(any).is_some_and(|q| q > 0.0)
}

/// Marks a response the cache made: the compression middleware leaves it as it is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FromCache;

/// The compression middleware's rule: its defaults, and never a response of the cache
/// (already gzipped, or sent as is on purpose).
#[derive(Clone, Default)]
pub struct CompressUnlessCached(tower_http::compression::predicate::DefaultPredicate);

impl std::fmt::Debug for CompressUnlessCached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompressUnlessCached")
    }
}

impl tower_http::compression::predicate::Predicate for CompressUnlessCached {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        response.extensions().get::<FromCache>().is_none() && self.0.should_compress(response)
    }
}

#[derive(Clone)]
struct BodyWeight;

impl quick_cache::Weighter<String, Arc<Entry>> for BodyWeight {
    fn weight(&self, key: &String, e: &Arc<Entry>) -> u64 {
        let gzip = e.gzip.as_ref().map_or(0, Bytes::len);
        (key.len() + e.body.len() + gzip + 256) as u64
    }
}

/// The cache (cheap to clone: one shared table).
#[derive(Clone)]
pub struct ResponseCache {
    entries: Arc<quick_cache::sync::Cache<String, Arc<Entry>, BodyWeight>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("entries", &self.entries.len())
            .field("bytes", &self.entries.weight())
            .finish()
    }
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self {
            entries: Arc::new(quick_cache::sync::Cache::with_options(
                #[allow(clippy::expect_used)]
                quick_cache::OptionsBuilder::new()
                    .estimated_items_capacity(4_096)
                    .weight_capacity(CAPACITY_BYTES)
                    .shards(SHARDS)
                    .build()
                    .expect("constant cache options are valid"),
                BodyWeight,
                quick_cache::DefaultHashBuilder::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            )),
        }
    }
}

/// Paths whose responses are the same for every reader and depend only on the hubs
/// snapshot and the index (not registration, search, a blog's live feed health, a post
/// whose blog may just have been unverified, or the operations endpoints).
fn cacheable(path: &str) -> bool {
    path == "/"
        || path == "/about"
        || path == "/blogroll.opml"
        || path.starts_with("/feed.")
        || path.starts_with("/hubs")
        || path.starts_with("/communities")
        || path.starts_with("/api/v1/hubs")
        || path.starts_with("/api/v1/communities")
        || kin_path(path)
}

/// A blog's kin (`/blogs/{id}/kin`, its feeds and blogroll, `/api/v1/blogs/{id}/kin`):
/// computed with the hubs, so made from the snapshot and the index like a hub page. (The
/// blog's own page is not kept: it shows its live feed health.)
fn kin_path(path: &str) -> bool {
    let rest = path
        .strip_prefix("/blogs/")
        .or_else(|| path.strip_prefix("/api/v1/blogs/"));
    rest.and_then(|r| r.split_once('/'))
        .is_some_and(|(_, tail)| tail == "kin" || tail.starts_with("kin/"))
}

/// The versions a response is made from, as one number.
fn version(state: &AppState) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    state.hubs.generation().hash(&mut h);
    state.search.as_ref().map(|s| s.version()).hash(&mut h);
    h.finish()
}

/// Query parameters the cacheable pages read: a river's cursor, the API's page size. Every
/// parameter a cacheable page reads must be listed here. The others (`utm_source` and the
/// like), which those pages ignore, are left out of an entry's key, so that such links
/// share the page instead of each making and keeping a copy.
const KEYED_PARAMS: [&str; 2] = ["before", "limit"];

/// The key of a request's entry: its path, and the [`KEYED_PARAMS`] of its query in a
/// fixed order. A parameter's name is compared as the handlers read it (`+` a space,
/// `%xx` decoded), so `?befor%65=…` is keyed as the cursor it is.
fn cache_key(uri: &axum::http::Uri) -> std::borrow::Cow<'_, str> {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.into();
    };
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default().replace('+', " ");
            let name = percent_encoding::percent_decode_str(&name).decode_utf8_lossy();
            KEYED_PARAMS.contains(&name.as_ref())
        })
        .collect();
    if kept.is_empty() {
        return path.into();
    }
    kept.sort_unstable();
    format!("{path}?{}", kept.join("&")).into()
}

fn is_get_or_head(m: &Method) -> bool {
    m == Method::GET || m == Method::HEAD
}

/// A hub address the curator's live rules now send elsewhere: its handler redirects, and
/// what was kept for the address before the rules changed must not be served.
fn redirected(state: &AppState, path: &str) -> bool {
    let Some(tag) = path.strip_prefix("/hubs/") else {
        return false;
    };
    let tag = tag.split('/').next().unwrap_or_default();
    let tag = percent_encoding::percent_decode_str(tag).decode_utf8_lossy();
    state.canonical_hub(&state.hubs.get(), &tag).is_some()
}

/// The middleware in front of the others: a conditional GET that a fresh entry satisfies
/// is answered 304 here (and recorded in the route's latency histogram); anything else,
/// a miss or a stale entry included, goes on to the full stack, never waiting here.
pub async fn revalidate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    if !is_get_or_head(req.method())
        || !(req.headers().contains_key(header::IF_NONE_MATCH)
            || req.headers().contains_key(header::IF_MODIFIED_SINCE))
    {
        return next.run(req).await;
    }
    let path = req.uri().path();
    if !cacheable(path) || redirected(&state, path) {
        return next.run(req).await;
    }
    let conditions = Conditions::of(req.headers());
    match state.cache.entries.get(cache_key(req.uri()).as_ref()) {
        Some(e) if e.fresh(version(&state)) && not_modified(&e, &conditions) => {
            let response = not_modified_response(&e, e.gzip.is_some() && conditions.accepts_gzip);
            if let Some(h) = &e.revalidated {
                h.observe(started.elapsed().as_secs_f64());
            }
            response
        }
        _ => next.run(req).await,
    }
}

/// The middleware: answers from the cache, or runs the handler and keeps its answer.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if !is_get_or_head(req.method()) || !cacheable(req.uri().path()) {
        return next.run(req).await;
    }
    // A HEAD is answered from the GET's page (the router sends no body for a HEAD), and
    // makes that page when it is missing: a HEAD costs no more than a GET.
    *req.method_mut() = Method::GET;
    let key = cache_key(req.uri()).into_owned();
    if redirected(&state, req.uri().path()) {
        return next.run(req).await;
    }
    let version = version(&state);
    let conditions = Conditions::of(req.headers());
    let route = req.extensions().get::<MatchedPath>().cloned();
    let fresh = |e: &Entry| e.fresh(version);
    // One request makes a missing page; the others asking for it meanwhile wait for it,
    // but never longer than a handler may take: then they make it themselves, uncached.
    let guard = loop {
        let waited =
            tokio::time::timeout(MAX_WAIT, state.cache.entries.get_value_or_guard_async(&key))
                .await;
        match waited {
            Ok(Ok(e)) if fresh(&e) => return respond(&e, &conditions),
            Ok(Ok(_)) => {
                state.cache.entries.remove_if(&key, |e| !fresh(e));
            }
            Ok(Err(guard)) => break guard,
            Err(_) => {
                tracing::warn!(path = %key, "waited too long for another request's page");
                return next.run(req).await;
            }
        }
    };
    // The page is made whole, for every client: the request's own conditions are
    // answered from the entry.
    for name in [
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_MATCH,
        header::IF_UNMODIFIED_SINCE,
        header::IF_RANGE,
        header::RANGE,
    ] {
        req.headers_mut().remove(name);
    }
    let response = next.run(req).await;
    let status = response.status();
    if !matches!(status, StatusCode::OK | StatusCode::NOT_FOUND)
        || response.headers().contains_key(header::SET_COOKIE)
    {
        return response;
    }
    // Only whole bodies of known, moderate size (not streams) are kept.
    let size = axum::body::HttpBody::size_hint(response.body()).upper();
    if size.is_none_or(|n| n > MAX_BODY as u64) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        // A copy holds no spare capacity beyond what the entry is weighed by.
        Ok(b) => Bytes::copy_from_slice(&b),
        Err(e) => {
            tracing::error!(path = %key, error = %e, "reading a response body failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut headers = HeaderMap::new();
    for name in KEPT {
        for v in parts.headers.get_all(&name) {
            headers.append(name.clone(), v.clone());
        }
    }
    if status == StatusCode::OK && !headers.contains_key(header::ETAG) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut h);
        if let Ok(v) = HeaderValue::from_str(&format!("\"{:016x}\"", h.finish())) {
            headers.insert(header::ETAG, v);
        }
    }
    let gzip = if compressible(&headers, body.len()) {
        let body = body.clone();
        tokio::task::spawn_blocking(move || gzip(&body))
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    if gzip.is_some() {
        let varies = headers.get_all(header::VARY).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|n| n.trim().eq_ignore_ascii_case("accept-encoding"))
            })
        });
        if !varies {
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    let entry = Arc::new(Entry {
        status,
        version,
        made: Instant::now(),
        headers,
        body,
        gzip,
        revalidated: route.map(|r| {
            state
                .metrics
                .latency("GET", r.as_str(), StatusCode::NOT_MODIFIED.as_u16())
        }),
    });
    let _ = guard.insert(Arc::clone(&entry));
    respond(&entry, &conditions)
}

/// The entry as a response to a request with these headers: 304 when its conditions
/// match, else 200 with the body.
fn respond(e: &Entry, request: &Conditions) -> Response {
    let gzip = e.gzip.as_ref().filter(|_| request.accepts_gzip);
    if not_modified(e, request) {
        return not_modified_response(e, gzip.is_some());
    }
    let mut r = Response::new(Body::from(gzip.unwrap_or(&e.body).clone()));
    *r.status_mut() = e.status;
    *r.headers_mut() = e.headers.clone();
    if gzip.is_some() {
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        weaken_etag(r.headers_mut());
    }
    r.extensions_mut().insert(FromCache);
    r
}

/// `304 Not Modified` for the entry, with the headers a 304 repeats; `gzip` when the
/// client was sent the gzipped representation (whose `ETag` is weak).
fn not_modified_response(e: &Entry, gzip: bool) -> Response {
    let mut r = StatusCode::NOT_MODIFIED.into_response();
    for name in ON_NOT_MODIFIED {
        for v in e.headers.get_all(&name) {
            r.headers_mut().append(name.clone(), v.clone());
        }
    }
    // A 304 may only say the length a 200 would have sent (RFC 9110, 8.6); without it,
    // the router would say 0. (hyper leaves it out over HTTP/1.1 either way.)
    let length = match (gzip, &e.gzip) {
        (true, Some(z)) => z.len(),
        _ => e.body.len(),
    };
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if gzip {
        weaken_etag(r.headers_mut());
    }
    r.extensions_mut().insert(FromCache);
    r
}

/// Makes a strong `ETag` weak: a compressed representation of the same content.
fn weaken_etag(headers: &mut HeaderMap) {
    let weak = headers
        .get(header::ETAG)
        .filter(|v| !v.as_bytes().starts_with(b"W/"))
        .and_then(|v| {
            let mut w = b"W/".to_vec();
            w.extend_from_slice(v.as_bytes());
            HeaderValue::from_bytes(&w).ok()
        });
    if let Some(w) = weak {
        headers.insert(header::ETAG, w);
    }
}

/// A request's validators.
struct Conditions {
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
    accepts_gzip: bool,
}

impl Conditions {
    fn of(h: &HeaderMap) -> Conditions {
        Conditions {
            if_none_match: h.get(header::IF_NONE_MATCH).cloned(),
            if_modified_since: h.get(header::IF_MODIFIED_SINCE).cloned(),
            accepts_gzip: accepts_gzip(h),
        }
    }
}

/// RFC 9110, 13.1: `If-None-Match` decides when present; else `If-Modified-Since`.
fn not_modified(e: &Entry, request: &Conditions) -> bool {
    if e.status != StatusCode::OK {
        return false;
    }
    if let Some(inm) = &request.if_none_match {
        let Some(etag) = e.headers.get(header::ETAG).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let weakless = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        return inm.to_str().is_ok_and(|list| {
            list.split(',')
                .any(|t| t.trim() == "*" || weakless(t) == weakless(etag))
        });
    }
    let since = request
        .if_modified_since
        .as_ref()
        .and_then(|v| httpdate::parse_http_date(v.to_str().ok()?).ok());
    let modified = e
        .headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| httpdate::parse_http_date(v.to_str().ok()?).ok());
    matches!((since, modified), (Some(s), Some(m)) if m <= s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(etag: &str, last_modified: Option<&str>) -> Entry {
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, HeaderValue::from_str(etag).unwrap());
        if let Some(lm) = last_modified {
            headers.insert(header::LAST_MODIFIED, HeaderValue::from_str(lm).unwrap());
        }
        Entry {
            status: StatusCode::OK,
            version: 0,
            made: Instant::now(),
            headers,
            body: Bytes::from_static(b"page"),
            gzip: None,
            revalidated: None,
        }
    }

    fn request(pairs: &[(header::HeaderName, &str)]) -> Conditions {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        Conditions::of(&h)
    }

    #[test]
    fn conditions_follow_rfc_9110() {
        let lm = "Wed, 02 Dec 2026 06:00:00 GMT";
        let e = entry("\"abc\"", Some(lm));
        assert!(not_modified(
            &e,
            &request(&[(header::IF_NONE_MATCH, "\"abc\"")])
        ));
        assert!(not_modified(
            &e,
            &request(&[(header::IF_NONE_MATCH, "W/\"abc\"")])
        ));
        assert!(not_modified(
            &e,
            &request(&[(header::IF_NONE_MATCH, "\"x\", \"abc\"")])
        ));
        assert!(not_modified(&e, &request(&[(header::IF_NONE_MATCH, "*")])));
        assert!(!not_modified(
            &e,
            &request(&[(header::IF_NONE_MATCH, "\"abd\"")])
        ));
        // If-None-Match decides when present, even if the date would match.
        assert!(!not_modified(
            &e,
            &request(&[
                (header::IF_NONE_MATCH, "\"old\""),
                (header::IF_MODIFIED_SINCE, lm)
            ])
        ));
        assert!(not_modified(
            &e,
            &request(&[(header::IF_MODIFIED_SINCE, lm)])
        ));
        assert!(!not_modified(
            &e,
            &request(&[(header::IF_MODIFIED_SINCE, "Wed, 02 Dec 2026 05:59:59 GMT")])
        ));
        assert!(!not_modified(&e, &request(&[])));
        assert!(!not_modified(
            &entry("\"abc\"", None),
            &request(&[(header::IF_MODIFIED_SINCE, lm)])
        ));
    }

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn gzip_is_accepted_as_rfc_9110_says() {
        for yes in [
            "gzip",
            "GZIP",
            "br, gzip;q=0.5",
            "gzip;q=0.001",
            "*",
            "br;q=1, *;q=0.2",
            "x-gzip",
            "deflate, gzip ; q=1.0",
        ] {
            assert!(accepts_gzip(&accept(yes)), "{yes}");
        }
        for no in [
            "",
            "identity",
            "br, deflate",
            "gzip;q=0",
            "gzip;q=0.000",
            "*;q=0",
            "gzip;q=0, *",
            "*, gzip;q=0",
            "gzipx",
        ] {
            assert!(!accepts_gzip(&accept(no)), "{no}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
        // Listed over two header lines.
        let mut two = accept("br");
        two.append(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(accepts_gzip(&two));
    }

    #[test]
    fn text_is_kept_gzipped_and_unzips_to_the_same_bytes() {
        let typed = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
            h
        };
        for ct in [
            "text/html; charset=utf-8",
            "application/atom+xml",
            "application/feed+json",
            "text/x-opml",
            "image/svg+xml",
        ] {
            assert!(compressible(&typed(ct), 4096), "{ct}");
        }
        assert!(!compressible(&typed("image/png"), 4096));
        assert!(!compressible(&typed("text/event-stream"), 4096));
        assert!(!compressible(&typed("text/html"), MIN_GZIP - 1));
        assert!(!compressible(&HeaderMap::new(), 4096));

        let page = "<li>a post about rust</li>".repeat(200);
        let z = gzip(page.as_bytes()).unwrap();
        assert!(z.len() < page.len() / 10);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut out).unwrap();
        assert_eq!(out, page);
        // What gzip cannot shrink is sent as it is.
        assert!(gzip(b"<p>x</p>").is_none());
    }

    #[test]
    fn the_largest_page_kept_fits_with_its_gzipped_copy() {
        let cache = ResponseCache::default();
        let mut e = entry("\"big\"", None);
        e.body = Bytes::from(vec![b'x'; MAX_BODY]);
        // The worst case: gzip saved one byte.
        e.gzip = Some(Bytes::from(vec![b'z'; MAX_BODY - 1]));
        let key = format!("/hubs/{}", "t".repeat(2_000));
        cache.entries.insert(key.clone(), Arc::new(e));
        assert!(cache.entries.get(&key).is_some());
    }

    #[test]
    fn the_gzipped_representation_has_a_weak_etag() {
        let mut h = HeaderMap::new();
        h.insert(header::ETAG, HeaderValue::from_static("\"abc\""));
        weaken_etag(&mut h);
        assert_eq!(h[header::ETAG], "W/\"abc\"");
        weaken_etag(&mut h);
        assert_eq!(h[header::ETAG], "W/\"abc\"");
    }

    #[test]
    fn keys_keep_the_parameters_pages_read_and_only_those() {
        let key = |u: &str| cache_key(&u.parse().unwrap()).into_owned();
        assert_eq!(key("/hubs/rust"), "/hubs/rust");
        assert_eq!(key("/?utm_source=feed&x=1"), "/");
        assert_eq!(
            key("/hubs/rust?utm_source=a&before=c1"),
            "/hubs/rust?before=c1"
        );
        assert_eq!(
            key("/api/v1/hubs/rust/posts?limit=5&before=c1"),
            key("/api/v1/hubs/rust/posts?before=c1&limit=5")
        );
        // Names are compared decoded, as the handlers read them: a cursor spelled
        // otherwise is still a cursor, and never shares the first page's entry.
        assert_eq!(key("/hubs/rust?befor%65=c2"), "/hubs/rust?befor%65=c2");
        assert_eq!(key("/hubs/rust?before+=c2"), "/hubs/rust");
        assert_ne!(key("/hubs/rust?before=c1"), key("/hubs/rust?before=c2"));
        assert_ne!(key("/hubs/rust?before=c1"), key("/hubs/rust"));
    }

    #[test]
    fn only_pages_everyone_sees_alike_are_cached() {
        for p in [
            "/",
            "/hubs/rust",
            "/hubs/rust/feed.atom",
            "/communities/c1",
            "/feed.json",
            "/api/v1/hubs/rust/posts",
            "/blogs/3/kin",
            "/blogs/3/kin/feed.rss",
            "/blogs/3/kin/blogroll.opml",
            "/api/v1/blogs/3/kin",
        ] {
            assert!(cacheable(p), "{p}");
        }
        for p in [
            "/register",
            "/register/3",
            "/search",
            "/blogs/3",
            "/blogs/kin",
            "/blogs/3/kinship",
            "/api/v1/blogs/3",
            "/posts/3",
            "/metrics",
            "/readyz",
            "/healthz",
            "/api/v1/blogs",
            "/api/v1/search",
        ] {
            assert!(!cacheable(p), "{p}");
        }
    }
}
