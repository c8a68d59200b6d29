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
//! - [`pages`] — the handlers (`/`, `/healthz`).
//! - [`templates`] — the template environment and its filters.
//! - this file: [`AppState`], [`router`] (with its middleware) and [`serve`].

pub mod error;
pub mod pages;
pub mod templates;

pub use error::WebError;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use kith_store::DynStore;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

/// Longest a request may take end to end before it is answered 408/503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub templates: Arc<templates::Templates>,
    /// The hub's name, shown in titles.
    pub site_name: Arc<str>,
}

impl AppState {
    pub fn new(store: DynStore) -> Result<Self, WebError> {
        Ok(Self {
            store,
            templates: Arc::new(templates::Templates::new()?),
            site_name: Arc::from("Kith"),
        })
    }
}

/// The site's routes with security headers, compression, timeouts and tracing.
pub fn router(state: AppState) -> Router {
    let csp = "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; \
               font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
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
    let mut router = pages::routes()
        .with_state(state)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes in-flight
/// requests and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
