//! # kith-web: the pages people read
//!
//! Consumes the store (through [`kith_store::Store`], never SQL) and renders server-side
//! HTML with minijinja templates compiled into the binary. Every page works without
//! JavaScript; the stylesheet is a static file so the Content-Security-Policy can forbid
//! inline code.
//!
//! ## Layout
//! - [`error`] — [`WebError`], which turns failures into pages: 4xx say what to fix, 5xx
//!   are logged with their cause and shown generically.
//! - [`pages`] — the HTML pages: home, hubs, communities, blogs, about.
//! - [`svg`] — charts and maps drawn on the server as inline SVG.
//! - [`templates`] — the template environment and its filters.
//! - [`feeds`] — Atom, RSS, JSON Feed and OPML with conditional GET; WebSub pings.
//! - [`api`] — the JSON API under `/api/v1` and its OpenAPI document.
//! - [`metrics`] — `/metrics` (Prometheus), `/readyz`, request latency by route.
//! - this file: [`AppState`], [`router`] (with its middleware) and [`serve`].

pub mod api;
pub mod cache;
pub mod error;
pub mod feeds;
pub mod metrics;
pub mod pages;
pub mod register;
pub mod search;
pub mod svg;
pub mod templates;

pub use error::WebError;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use kith_hubs::HubsCache;
use kith_index::SearchIndex;
use kith_store::DynStore;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

/// Longest a request may take end to end before it is answered 408/503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Who the site is: what pages, feeds and the API say about themselves.
#[derive(Debug, Clone)]
pub struct Site {
    /// The hub's name, shown in titles.
    pub name: String,
    /// Where the site is reached from outside (`web.public_url`), no trailing slash:
    /// feeds' `rel="self"`, OPML and verification links are absolute under it.
    pub public_url: String,
    /// A WebSub hub our feeds announce with `rel="hub"` and ping when they change.
    pub websub_hub: Option<String>,
}

impl Default for Site {
    fn default() -> Self {
        Self {
            name: "Kith".into(),
            public_url: "http://127.0.0.1:8080".into(),
            websub_hub: None,
        }
    }
}

/// How the curator's rules read a tag: its canonical form through aliases and merges, in
/// normal form (`None` for a stop-tag or junk). The binary passes the hot-reloaded
/// tagger's, so an edit of the rules moves hub addresses at once.
pub type TagCanon = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub templates: Arc<templates::Templates>,
    pub site: Arc<Site>,
    /// Hubs and communities, recomputed in the background by the binary.
    pub hubs: HubsCache,
    /// The search index (a reader; the binary owns the writer), absent when the index
    /// cannot be opened: search then says so instead of failing.
    pub search: Option<SearchIndex>,
    /// Blogs' titles by id for member lists, refreshed from the store now and then.
    pub blogs: pages::BlogDirectory,
    /// Registration from the web, when the binary offers it (see [`register::Registrar`]).
    pub registrar: Option<register::Registration>,
    /// Request latency and the figures `/metrics` reads (see [`metrics`]).
    pub metrics: Arc<metrics::Metrics>,
    /// The curator's rules, live, for hub addresses (see [`AppState::canonical_hub`]).
    pub tag_canon: Option<TagCanon>,
    /// Reverse proxies whose forwarding headers name the client (`web.trusted_proxies`;
    /// see [`register::client_address`]).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Rendered pages and feeds, until the hubs or the index change (see [`cache`]).
    pub cache: cache::ResponseCache,
    /// The hubs snapshot the site started with: until the cache holds another, hubs have
    /// not been computed (`/readyz`, the WebSub pinger).
    hubs_at_start: Arc<kith_hubs::Snapshot>,
}

impl AppState {
    pub fn new(
        store: DynStore,
        site: Site,
        hubs: HubsCache,
        search: Option<SearchIndex>,
    ) -> Result<Self, WebError> {
        Ok(Self {
            store,
            templates: Arc::new(templates::Templates::new()?),
            site: Arc::new(site),
            hubs_at_start: hubs.get(),
            hubs,
            search,
            metrics: Arc::new(metrics::Metrics::new()),
            blogs: pages::BlogDirectory::default(),
            registrar: None,
            tag_canon: None,
            trusted_proxies: Arc::new([]),
            cache: cache::ResponseCache::default(),
        })
    }

    /// Believes `proxies` about who the client is (`X-Forwarded-For`, `Forwarded`) for
    /// per-client limits; from any other peer those headers are ignored.
    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }

    /// Reads hub addresses through the curator's rules: `/hubs/{alias}` redirects to the
    /// hub the rules alias or merge it into.
    pub fn with_tag_canon(mut self, canon: TagCanon) -> Self {
        self.tag_canon = Some(canon);
        self
    }

    /// The hub that `raw` (a tag from an address) names in another form, when `raw` is not
    /// that hub's own tag: the tag the curator's rules alias or merge it into, else its
    /// normal form (`Rust` is `rust`). `None` when `raw` is a hub's tag as it stands, or
    /// names no hub. Resolution is idempotent, so redirecting there never loops.
    pub fn canonical_hub(&self, snapshot: &kith_hubs::Snapshot, raw: &str) -> Option<String> {
        let ruled = self.tag_canon.as_ref().and_then(|canon| canon(raw));
        ruled
            .into_iter()
            .chain(kith_model::normalize_tag(raw))
            .find(|t| t != raw && snapshot.hub(t).is_some())
    }

    /// Whether the hubs snapshot has been computed since the site started (or was given
    /// already computed, with hubs in it).
    pub fn hubs_computed(&self) -> bool {
        let now = self.hubs.get();
        !Arc::ptr_eq(&now, &self.hubs_at_start) || !now.hubs.is_empty()
    }

    /// Offers registration from the web through `registrar` (rate-limited per client).
    pub fn with_registrar(mut self, registrar: Arc<dyn register::Registrar>) -> Self {
        self.registrar = Some(register::Registration::new(registrar));
        self
    }
}

/// The site's routes with security headers, compression, timeouts and tracing.
pub fn router(state: AppState) -> Router {
    // No script may run (`script-src` falls back to 'none'), so `connect-src 'self'` opens
    // nothing to a page's own code; it lets tools that read the site from within a page
    // (Lighthouse fetches /robots.txt that way) do so.
    let csp = "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; \
               font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
               frame-ancestors 'none'";
    let headers: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "interest-cohort=()",
        ),
    ];
    let latency = Arc::clone(&state.metrics);
    let revalidate = state.clone();
    feeds::spawn_websub_pinger(&state);
    let mut router = pages::routes()
        .merge(feeds::routes())
        .merge(metrics::routes())
        .merge(api::routes())
        .merge(search::routes())
        .merge(register::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cache::layer,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            latency,
            metrics::track,
        ))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .compress_when(cache::CompressUnlessCached::default()),
        )
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            revalidate,
            cache::revalidate,
        ));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Longest a client may take to send a request's headers; a slow client is cut off
/// instead of holding a connection (axum's own `serve` has no such timeout).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest graceful shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves `router` on `listener` until `shutdown` resolves, then finishes in-flight
/// requests (for at most [`DRAIN_TIMEOUT`]) and returns.
///
/// Connections are served by hyper-util (HTTP/1.1 and HTTP/2) with a header-read timeout;
/// each request carries the peer's address as axum's `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;

    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait, keep serving.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                router.clone().oneshot(req)
            },
        );
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("shutdown: requests still in flight after {DRAIN_TIMEOUT:?}; leaving them");
        }
    }
    Ok(())
}
