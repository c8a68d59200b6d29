//! Operations: `/metrics` (Prometheus) and `/readyz`.
//!
//! Four kinds of figures:
//! - request latency by route, recorded by the [`track`] middleware under the route's
//!   *pattern* (`/hubs/{tag}`), never the raw URL, so the label set stays bounded (a 304
//!   answered by the cache in front of that middleware is recorded by the cache, under
//!   the same labels);
//! - the WebSub pinger's looks over the feeds and its publish pings by outcome;
//! - crawl counters (polls by outcome, posts ingested), incremented by the crawl pipeline
//!   through [`record_poll`]: process-wide, like a default registry, because the pipeline
//!   and the web state are wired separately in the binary;
//! - store and index figures (feeds by health, posts, blogs, index lag), read when
//!   scraped: they are facts about the data, not events of this process.
//!
//! The exposition is OpenMetrics text (`prometheus-client`), which Prometheus scrapes.

use crate::AppState;
use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kith_model::Health;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

/// `/readyz` fails when the oldest post change not yet in the index waits longer than this.
pub const MAX_INDEX_LAG_SECS: i64 = 300;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabels {
    health: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// What the crawl pipeline counts, process-wide.
struct CrawlCounters {
    polls: Family<OutcomeLabels, Counter>,
    posts: Family<KindLabels, Counter>,
}

static CRAWL: LazyLock<CrawlCounters> = LazyLock::new(|| CrawlCounters {
    polls: Family::default(),
    posts: Family::default(),
});

/// Counts one poll: `outcome` is `fetched`, `not_modified`, `gone` or `error_<kind>`;
/// `new` and `updated` are the posts it stored.
pub fn record_poll(outcome: &str, new: usize, updated: usize) {
    CRAWL
        .polls
        .get_or_create(&OutcomeLabels {
            outcome: outcome.to_owned(),
        })
        .inc();
    for (kind, n) in [("new", new), ("updated", updated)] {
        if n > 0 {
            CRAWL
                .posts
                .get_or_create(&KindLabels { kind: kind.into() })
                .inc_by(n as u64);
        }
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// The registry and the metrics read at scrape time.
pub struct Metrics {
    registry: Registry,
    latency: LatencyFamily,
    feeds: Family<HealthLabels, Gauge>,
    blogs: Gauge,
    posts: Gauge,
    index_lag: Gauge<f64, AtomicU64>,
    index_docs: Gauge,
    websub_scans: Counter,
    websub_pings: Family<OutcomeLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kith");
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route pattern, method and status",
            latency.clone(),
        );
        registry.register(
            "polls",
            "Feed polls by outcome (fetched, not_modified, gone, error_<kind>) since start",
            CRAWL.polls.clone(),
        );
        registry.register(
            "posts_ingested",
            "Posts stored by polls since start, new or updated",
            CRAWL.posts.clone(),
        );
        // Known label values start at zero, so the families are there from the start.
        for outcome in ["fetched", "not_modified", "gone"] {
            CRAWL
                .polls
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.into(),
                })
                .inc_by(0);
        }
        for kind in ["new", "updated"] {
            CRAWL
                .posts
                .get_or_create(&KindLabels { kind: kind.into() })
                .inc_by(0);
        }
        let feeds = Family::<HealthLabels, Gauge>::default();
        registry.register("feeds", "Registered feeds by health", feeds.clone());
        let blogs = Gauge::default();
        registry.register("blogs", "Registered blogs", blogs.clone());
        let posts = Gauge::default();
        registry.register("posts", "Stored posts", posts.clone());
        let index_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "index_lag_seconds",
            "How long the oldest post change not yet searchable has waited (0: caught up)",
            index_lag.clone(),
        );
        let index_docs = Gauge::default();
        registry.register(
            "index_documents",
            "Posts in the search index",
            index_docs.clone(),
        );
        let websub_scans = Counter::default();
        registry.register(
            "websub_scans",
            "Looks of the WebSub pinger over the site's feeds for new entries",
            websub_scans.clone(),
        );
        let websub_pings = Family::<OutcomeLabels, Counter>::default();
        for outcome in ["sent", "refused", "failed"] {
            websub_pings
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.into(),
                })
                .inc_by(0);
        }
        registry.register(
            "websub_pings",
            "Publish pings to the configured WebSub hub, by outcome (sent, refused, failed)",
            websub_pings.clone(),
        );
        Self {
            registry,
            latency,
            feeds,
            blogs,
            posts,
            index_lag,
            index_docs,
            websub_scans,
            websub_pings,
        }
    }

    /// The WebSub pinger finished a look over the feeds.
    pub(crate) fn websub_scanned(&self) {
        self.websub_scans.inc();
    }

    /// A publish ping ended so: `sent`, `refused` or `failed`.
    pub(crate) fn websub_pinged(&self, outcome: &str) {
        self.websub_pings
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// The latency histogram of one (method, route pattern, status), to keep and observe
    /// into directly (it shares its counts with the family `/metrics` reports).
    pub(crate) fn latency(&self, method: &str, route: &str, status: u16) -> Histogram {
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .clone()
    }
}

/// Middleware: request latency under the matched route pattern.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// How far the index is behind the store: `None` without an index.
pub(crate) struct IndexLag {
    /// Seconds the oldest unindexed change has waited.
    pub seconds: f64,
    pub docs: u64,
}

pub(crate) async fn index_lag(state: &AppState) -> Result<Option<IndexLag>, String> {
    let Some(search) = state.search.clone() else {
        return Ok(None);
    };
    let (mark, docs) = tokio::task::spawn_blocking(move || {
        search
            .committed_mark()
            .map(|m| (m, search.num_docs()))
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let waiting = state
        .store
        .posts_changed_since(mark, 1)
        .await
        .map_err(|e| e.to_string())?;
    let seconds = waiting.first().map_or(0.0, |c| {
        (Utc::now() - c.mark.changed_at).num_milliseconds().max(0) as f64 / 1000.0
    });
    Ok(Some(IndexLag { seconds, docs }))
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    match state.store.blogs().await {
        Ok(blogs) => {
            let mut by_health = [0i64; 6];
            let all = [
                Health::New,
                Health::Ok,
                Health::Degraded,
                Health::Failing,
                Health::Paused,
                Health::Gone,
            ];
            for b in &blogs {
                if let Some(i) = all.iter().position(|h| *h == b.health()) {
                    by_health[i] += 1;
                }
            }
            for (h, n) in all.iter().zip(by_health) {
                m.feeds
                    .get_or_create(&HealthLabels {
                        health: h.as_str().into(),
                    })
                    .set(n);
            }
            m.blogs.set(blogs.len() as i64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read blogs"),
    }
    match state.store.counts().await {
        Ok(c) => {
            m.posts.set(c.posts as i64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count posts"),
    }
    match index_lag(&state).await {
        Ok(Some(lag)) => {
            m.index_lag.set(lag.seconds);
            m.index_docs.set(lag.docs as i64);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the index lag"),
    }
    let mut body = String::with_capacity(8 * 1024);
    if prometheus_client::encoding::text::encode(&mut body, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /readyz`: 200 when the store answers, the index is open and nearly caught up and
/// the hubs have been computed; 503 with the reasons otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut reasons: Vec<String> = Vec::new();
    let store_ok = match state.store.counts().await {
        Ok(_) => true,
        Err(e) => {
            reasons.push(format!("the store does not answer: {e}"));
            false
        }
    };
    let mut lag_secs = None;
    match index_lag(&state).await {
        Ok(Some(lag)) => {
            lag_secs = Some(lag.seconds);
            if lag.seconds > MAX_INDEX_LAG_SECS as f64 {
                reasons.push(format!(
                    "the search index is {:.0} s behind the store (limit {MAX_INDEX_LAG_SECS} s)",
                    lag.seconds
                ));
            }
        }
        Ok(None) => reasons.push("the search index is not open".into()),
        Err(e) => reasons.push(format!("cannot read the search index: {e}")),
    }
    let hubs_ok = state.hubs_computed();
    if !hubs_ok {
        reasons.push("hubs and communities have not been computed yet".into());
    }
    let ready = reasons.is_empty();
    let body = serde_json::json!({
        "ready": ready,
        "store": store_ok,
        "index_lag_seconds": lag_secs,
        "hubs_computed": hubs_ok,
        // The hubs leader's generation this node serves (every node of a shared store
        // serves the newest within seconds), and when it was computed.
        "hubs_generation": state.hubs.stored_generation(),
        "hubs_computed_at": hubs_ok.then(|| state.hubs.get().computed_at),
        "reason": (!ready).then(|| reasons.join("; ")),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/readyz", axum::routing::get(readyz))
}
