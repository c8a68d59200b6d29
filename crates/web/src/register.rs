//! Registering a blog from the web: discover, preview, confirm, verify.
//!
//! ```text
//! GET  /register              the form: one URL field
//! POST /register              discover the feed (nothing stored) -> preview page
//! POST /register/confirm      register what the preview showed -> 303 /register/{id}
//! GET  /register/{id}         status: pending with instructions, or verified
//! POST /register/{id}/verify  check the proof now -> 303 /register/{id}?checked=1
//! ```
//!
//! The work itself (fetching, tagging, storing) belongs to the binary, which wires the
//! crawler and the tagger: it implements [`Registrar`] and puts it in
//! [`AppState::registrar`]. This module owns what the visitor sees, the per-client rate
//! limit ([`RateLimiter`], a token bucket per address, POSTs only) and the cross-site
//! check (`Sec-Fetch-Site` / `Origin` must say the form came from this site).
//!
//! The limiter is per process: web nodes sharing a PostgreSQL store each keep their own,
//! so behind a load balancer over N nodes a client gets at most N times [`RATE_BURST`] at
//! once and N attempts per [`RATE_REFILL`] after that (a documented bound, and no store
//! round trip on the hot path).

use crate::{AppState, WebError};
use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use kith_model::{BlogId, BlogStatus};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Registration attempts a client may make at once (the bucket's size)…
pub const RATE_BURST: u32 = 8;
/// …and how often one more is allowed after that (the bucket's refill).
pub const RATE_REFILL: Duration = Duration::from_secs(10);
/// Clients remembered by the rate limiter; past this, clients whose bucket is full again
/// are forgotten (they would be allowed anyway).
const RATE_MAX_CLIENTS: usize = 50_000;
/// Longest URL accepted in the form (browsers and servers rarely take more).
const MAX_URL_CHARS: usize = 2048;

/// What a discovery found, shown before the blogger confirms. Nothing is stored yet.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// Names this discovery for [`Registrar::confirm`] (so it need not be fetched again).
    pub key: String,
    /// What the blogger typed.
    pub input: String,
    pub homepage_url: String,
    pub feed_url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Entries in the feed; [`Preview::posts`] shows the newest few.
    pub total_posts: usize,
    pub posts: Vec<PreviewPost>,
    /// Whether the blog will wait for proof of ownership before its posts are public.
    pub require_verification: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewPost {
    pub title: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
    pub tags: Vec<PreviewTag>,
}

/// A tag the tagger would give a post, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewTag {
    pub tag: String,
    /// `author`, `rule` or `extracted`.
    pub source: String,
    pub reason: String,
}

/// Why a registration step did not happen, in words for the blogger.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegisterError {
    /// The input cannot be registered as it is: not a URL, a private address, a page
    /// that names no feed, a body over the size cap.
    #[error("{0}")]
    BadInput(String),
    /// The blog is registered already.
    #[error("{message}")]
    Already { id: BlogId, message: String },
    /// The blog's server did not answer usefully (timeout, 5xx): worth trying later.
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    NotFound(String),
    /// Our own failure: logged, shown generically.
    #[error("{0}")]
    Internal(String),
}

impl RegisterError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadInput(_) => StatusCode::BAD_REQUEST,
            Self::Already { .. } => StatusCode::CONFLICT,
            Self::Unreachable(_) => StatusCode::BAD_GATEWAY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the page says: the message, except for our own failures.
    fn shown(&self) -> String {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "registration failed");
                "Something went wrong on our side. It has been logged; please try again later."
                    .into()
            }
            other => other.to_string(),
        }
    }
}

/// A boxed future, so [`Registrar`] can be used as `dyn Registrar`.
pub type RegisterFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, RegisterError>> + Send + 'a>>;

/// The registration work, done by whoever owns the crawler and the tagger (the binary).
pub trait Registrar: Send + Sync {
    /// Finds the feed behind `input` (a homepage or feed URL), reads it and tags its
    /// posts, storing nothing.
    fn preview<'a>(&'a self, input: &'a str) -> RegisterFuture<'a, Preview>;
    /// Registers the blog `input` names, reusing the discovery `key` names when it is
    /// still at hand (it is discovered again otherwise). Pending or verified as
    /// configured.
    fn confirm<'a>(&'a self, key: &'a str, input: &'a str) -> RegisterFuture<'a, BlogId>;
    /// Polls a pending blog now, which checks its proof of ownership; returns whether it
    /// is verified afterwards.
    fn verify(&self, id: BlogId) -> RegisterFuture<'_, bool>;
}

/// Registration as the site offers it: the [`Registrar`] and the per-client limit.
#[derive(Clone)]
pub struct Registration {
    pub registrar: Arc<dyn Registrar>,
    pub limiter: Arc<RateLimiter>,
}

impl Registration {
    pub fn new(registrar: Arc<dyn Registrar>) -> Self {
        Self {
            registrar,
            limiter: Arc::new(RateLimiter::new(RATE_BURST, RATE_REFILL)),
        }
    }
}

/// A token bucket per client address: `burst` requests at once, then one per `refill`.
#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    refill: Duration,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            refill: refill.max(Duration::from_millis(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client`; `Err(wait)` says how long until one is available.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let per_sec = 1.0 / self.refill.as_secs_f64();
        if buckets.len() >= RATE_MAX_CLIENTS {
            let burst = self.burst;
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec < burst
            });
        }
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
        }
    }
}

/// The client's address for rate limiting: the peer of the connection or, when the peer
/// is a trusted reverse proxy (`web.trusted_proxies`), the client it forwarded for (see
/// [`client_address`]); IPv6 by its /64, which one subscriber usually holds whole.
/// Without connection info (a router called directly), every request counts as one
/// client.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| {
                client_address(c.0.ip(), &parts.headers, &state.trusted_proxies)
            });
        Ok(ClientIp(match ip {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        }))
    }
}

/// Who sent a request that reached us from `peer`.
///
/// `peer` itself, unless it is in `trusted`; then the proxies' record of the hops, from
/// the `Forwarded` header (RFC 7239, its `for=` parameters) or, without one, from
/// `X-Forwarded-For`, read right to left: each trusted proxy appended the address it saw,
/// so the first address from the right that is not a trusted proxy is the client, and
/// whatever lies left of it was written by the client and proves nothing. When every hop
/// is a trusted proxy the left-most is the client; an entry that cannot be read (`unknown`,
/// an obfuscated name, garbage) ends the walk at the proxy that wrote it.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    for hop in forwarded_hops(headers).into_iter().rev() {
        let Some(ip) = hop else { return client };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            return client;
        }
    }
    client
}

/// The hops proxies recorded, left (the client's end) to right (ours); `None` for an entry
/// that names no readable address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let lines = |name: header::HeaderName| -> Vec<Option<String>> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    };
    let forwarded = lines(header::FORWARDED);
    let (lines, rfc7239) = if forwarded.is_empty() {
        (
            lines(header::HeaderName::from_static("x-forwarded-for")),
            false,
        )
    } else {
        (forwarded, true)
    };
    let mut hops = Vec::new();
    for line in lines {
        let Some(line) = line else {
            hops.push(None);
            continue;
        };
        for element in line.split(',') {
            let node = if rfc7239 {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then_some(v)
                })
            } else {
                Some(element)
            };
            hops.push(node.and_then(parse_node));
        }
    }
    hops
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`, optionally in double quotes.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Some(rest) = s.strip_prefix('[') {
        let (v6, port) = rest.split_once(']')?;
        if !(port.is_empty() || port.starts_with(':')) {
            return None;
        }
        return v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let (v4, port) = s.split_once(':')?;
    port.parse::<u16>().ok()?;
    v4.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Whether a form POST came from this site's own pages. Browsers send `Sec-Fetch-Site`
/// (and `Origin` on every POST); a request from another site is refused. Clients that
/// send neither (curl, scripts) act for themselves and cannot be forged by a third site.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match get("origin") {
        None => true,
        Some(origin) => {
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            matches!((authority, get("host")), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/register", get(form).post(preview))
        .route("/register/confirm", post(confirm))
        .route("/register/{id}", get(status))
        .route("/register/{id}/verify", post(verify))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UrlForm {
    url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConfirmForm {
    url: String,
    preview: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatusParams {
    checked: Option<String>,
}

/// Renders `name` with the site-wide context every page shares.
async fn render(
    state: &AppState,
    status: StatusCode,
    name: &str,
    ctx: minijinja::Value,
) -> Result<Response, WebError> {
    let counts = state.store.counts().await?;
    let html = state.templates.render(
        name,
        context! {
            site_name => &state.site.name,
            nav => "register",
            public_url => &state.site.public_url,
            counts => context! { blogs => counts.blogs, posts => counts.posts },
            ..ctx
        },
    )?;
    Ok((status, Html(html)).into_response())
}

/// The form, with `error` above it and `url` kept in the field.
async fn form_page(
    state: &AppState,
    status: StatusCode,
    url: &str,
    error: Option<&RegisterError>,
) -> Result<Response, WebError> {
    let already = match error {
        Some(RegisterError::Already { id, .. }) => Some(id.0),
        _ => None,
    };
    render(
        state,
        status,
        "register.html",
        context! {
            url => url,
            open => state.registrar.is_some(),
            error => error.map(RegisterError::shown),
            already => already,
        },
    )
    .await
}

async fn form(State(state): State<AppState>) -> Result<Response, WebError> {
    let status = if state.registrar.is_some() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    form_page(&state, status, "", None).await
}

/// The checks every POST passes first: registration open, same origin, rate limit.
async fn admit(
    state: &AppState,
    client: ClientIp,
    headers: &HeaderMap,
) -> Result<Arc<dyn Registrar>, Response> {
    let Some(reg) = &state.registrar else {
        return Err(plain_page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Registration is closed",
            "This site does not take registrations at the moment.",
        )
        .await);
    };
    if !same_origin(headers) {
        return Err(plain_page(
            state,
            StatusCode::FORBIDDEN,
            "Form from another site",
            "This form must be sent from this site's own registration page. \
             Open /register here and try again.",
        )
        .await);
    }
    if let Err(wait) = reg.limiter.take(client.0, Instant::now()) {
        let secs = wait.as_secs().max(1);
        tracing::info!(client = %client.0, retry_after_secs = secs, "registration rate limited");
        let mut r = plain_page(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &format!(
                "You have tried to register several times in a short while. \
                 Please wait {secs} seconds and try again."
            ),
        )
        .await;
        if let Ok(v) = secs.to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(r);
    }
    Ok(Arc::clone(&reg.registrar))
}

/// A page with a heading and a message, in the site's layout (or the bare error page
/// when even that cannot be rendered).
async fn plain_page(state: &AppState, status: StatusCode, title: &str, message: &str) -> Response {
    match render(
        state,
        status,
        "register_message.html",
        context! { title => title, message => message },
    )
    .await
    {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Whether `input` is worth sending to the registrar, with the reason when not.
fn check_input(input: &str) -> Result<(), RegisterError> {
    if input.is_empty() {
        return Err(RegisterError::BadInput(
            "Enter your blog's address, for example https://example.com/.".into(),
        ));
    }
    if input.chars().count() > MAX_URL_CHARS {
        return Err(RegisterError::BadInput(format!(
            "That address is longer than {MAX_URL_CHARS} characters; enter your blog's homepage."
        )));
    }
    Ok(())
}

async fn preview(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(f): Form<UrlForm>,
) -> Result<Response, WebError> {
    let registrar = match admit(&state, client, &headers).await {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let input = f.url.trim();
    if let Err(e) = check_input(input) {
        return form_page(&state, e.status(), input, Some(&e)).await;
    }
    match registrar.preview(input).await {
        Ok(p) => {
            let posts: Vec<_> = p
                .posts
                .iter()
                .map(|post| {
                    context! {
                        title => &post.title,
                        url => &post.url,
                        published => post.published.to_rfc3339(),
                        date => post.published.format("%-d %b %Y").to_string(),
                        tags => minijinja::value::Serde(&post.tags),
                    }
                })
                .collect();
            render(
                &state,
                StatusCode::OK,
                "register_preview.html",
                context! { p => minijinja::value::Serde(&p), posts => posts },
            )
            .await
        }
        Err(e) => form_page(&state, e.status(), input, Some(&e)).await,
    }
}

async fn confirm(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let registrar = match admit(&state, client, &headers).await {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    let input = f.url.trim();
    if let Err(e) = check_input(input) {
        return form_page(&state, e.status(), input, Some(&e)).await;
    }
    match registrar.confirm(f.preview.trim(), input).await {
        Ok(id) => Ok(Redirect::to(&format!("/register/{id}")).into_response()),
        Err(e) => form_page(&state, e.status(), input, Some(&e)).await,
    }
}

fn parse_id(s: &str) -> Result<BlogId, WebError> {
    s.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(BlogId)
        .ok_or_else(|| WebError::NotFound(format!("There is no registration {s:?}.")))
}

async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<StatusParams>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let blog = state
        .store
        .blog(id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no registration #{id}.")))?;
    let pending = blog.status == BlogStatus::Pending;
    let f = &blog.feed;
    let when = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%-d %b %Y %H:%M UTC").to_string());
    // Once the first crawl is in: where the newcomer's posts fall and who writes alike.
    let first = if f.last_success_at.is_some() {
        Some(crate::pages::kin::first_view(&state, &blog).await?)
    } else {
        None
    };
    let (first_hubs, kin) = first.map_or((None, None), |(h, k)| (Some(h), Some(k)));
    render(
        &state,
        StatusCode::OK,
        "register_status.html",
        context! {
            id => blog.id.0,
            title => &blog.title,
            homepage_url => &blog.homepage_url,
            feed_url => &blog.feed_url,
            status => blog.status.as_str(),
            pending => pending,
            verified => blog.status == BlogStatus::Verified,
            // The token proves nothing by itself (only its presence on the blog does), so
            // showing it to whoever has the link is harmless; it is hidden once used.
            token => pending.then_some(blog.verification_token.as_str()),
            blog_page => format!("{}/blogs/{}", state.site.public_url, blog.id),
            checked => params.checked.is_some(),
            last_checked => when(f.last_checked_at),
            next_check => when(f.next_check_at),
            last_error => &f.last_error,
            notes => &f.notes,
            can_check => state.registrar.is_some(),
            first_hubs => minijinja::value::Serde(&first_hubs),
            kin => minijinja::value::Serde(&kin),
        },
    )
    .await
}

async fn verify(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let registrar = match admit(&state, client, &headers).await {
        Ok(r) => r,
        Err(refused) => return Ok(refused),
    };
    match registrar.verify(id).await {
        Ok(_) => Ok(Redirect::to(&format!("/register/{id}?checked=1")).into_response()),
        Err(e) => Ok(plain_page(&state, e.status(), "Could not check", &e.shown()).await),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> =
            vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let proxy: IpAddr = [10, 0, 0, 2].into();
        let stranger: IpAddr = [198, 51, 100, 4].into();
        let h = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(*k, v.parse().unwrap());
            }
            h
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let xff = |v: &str| h(&[("x-forwarded-for", v)]);
        // From an untrusted peer the header is ignored: it could say anything.
        assert_eq!(
            client_address(stranger, &xff("203.0.113.9"), &trusted),
            stranger
        );
        // From a trusted proxy: the right-most address that is not a trusted proxy.
        assert_eq!(
            client_address(proxy, &xff("203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(proxy, &xff("1.1.1.1, 203.0.113.9, 10.0.0.7"), &trusted),
            ip("203.0.113.9"),
            "the client's own claim (left) is not believed"
        );
        assert_eq!(
            client_address(
                proxy,
                &h(&[
                    ("x-forwarded-for", "1.1.1.1"),
                    ("x-forwarded-for", "203.0.113.9:5555")
                ]),
                &trusted
            ),
            ip("203.0.113.9"),
            "several header lines are one list; ports are dropped"
        );
        assert_eq!(
            client_address(proxy, &xff("10.0.0.9, 10.0.0.7"), &trusted),
            ip("10.0.0.9")
        );
        assert_eq!(client_address(proxy, &xff("garbage"), &trusted), proxy);
        assert_eq!(
            client_address(proxy, &xff("1.1.1.1, unknown"), &trusted),
            proxy
        );
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
        // RFC 7239 wins over X-Forwarded-For when both are present.
        let both = h(&[
            (
                "forwarded",
                "for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\"",
            ),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            client_address(proxy, &both, &trusted),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client_address(
                proxy,
                &h(&[("forwarded", "for=_hidden, for=198.51.100.17")]),
                &trusted
            ),
            ip("198.51.100.17")
        );
        // A v4-mapped peer is its IPv4 address; IPv6 proxies work alike.
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(
            client_address(mapped, &xff("203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("::1"), &xff("[2001:db8::5]"), &trusted),
            ip("2001:db8::5")
        );
        // Nothing trusted (the default): the peer, whatever the headers say.
        assert_eq!(client_address(proxy, &xff("203.0.113.9"), &[]), proxy);
    }

    #[test]
    fn the_bucket_allows_a_burst_then_one_per_refill() {
        let l = RateLimiter::new(3, Duration::from_secs(10));
        let ip: IpAddr = [192, 0, 2, 1].into();
        let other: IpAddr = [192, 0, 2, 2].into();
        let t0 = Instant::now();
        for _ in 0..3 {
            l.take(ip, t0).unwrap();
        }
        let wait = l.take(ip, t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        l.take(other, t0).unwrap();
        assert!(l.take(ip, t0 + Duration::from_secs(5)).is_err());
        l.take(ip, t0 + Duration::from_secs(10)).unwrap();
        assert!(l.take(ip, t0 + Duration::from_secs(10)).is_err());
        // A long pause refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            l.take(ip, later).unwrap();
        }
        assert!(l.take(ip, later).is_err());
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        assert!(same_origin(&h(&[])));
        assert!(same_origin(&h(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&h(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&h(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&h(&[
            ("origin", "http://kith.example:8080"),
            ("host", "kith.example:8080")
        ])));
        assert!(!same_origin(&h(&[
            ("origin", "https://evil.example"),
            ("host", "kith.example")
        ])));
        assert!(!same_origin(&h(&[
            ("origin", "null"),
            ("host", "kith.example")
        ])));
    }

    #[test]
    fn ids_are_positive_numbers() {
        assert_eq!(parse_id("12").unwrap(), BlogId(12));
        assert!(parse_id("0").is_err());
        assert!(parse_id("x").is_err());
    }
}
