//! WebSub, the subscriber side of the wiring: the callback endpoint the hub talks to
//! (`/websub/{blog_id}`) and the subscription requests made from the crawl loop.
//!
//! - verification of intent (W3C WebSub §5.3): `GET` with `hub.challenge`, answered only
//!   for a subscription we asked for, on the topic we asked for;
//! - content distribution (§7): `POST` with the feed; ingested at once when its
//!   `X-Hub-Signature` matches our secret for that subscription, refused (403) otherwise;
//! - renewal: subscriptions are asked again before their lease ends.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{Duration, Utc};
use kith_crawl::Crawler;
use kith_crawl::websub::{HubLinks, new_secret, verify_signature};
use kith_model::{BlogId, PollResult, Subscription, SubscriptionState};
use kith_store::DynStore;
use std::collections::HashMap;

/// A request never verified by the hub, or refused, is asked again after this long.
const RETRY_AFTER: Duration = Duration::minutes(10);

/// What the crawl loop needs to subscribe: where hubs call back, and the lease to ask.
#[derive(Debug, Clone)]
pub struct WebSubContext {
    /// The hub's public URL, ending in `/`.
    pub public_url: String,
    pub lease_secs: u64,
}

impl WebSubContext {
    pub fn callback(&self, blog: BlogId) -> String {
        format!("{}websub/{}", self.public_url, blog)
    }

    /// Renew when less than a tenth of the lease is left.
    fn renew_within(&self) -> Duration {
        Duration::seconds(
            i64::try_from(self.lease_secs / 10)
                .unwrap_or(i64::MAX)
                .max(1),
        )
    }
}

/// Notes the hub a polled feed names: a new or changed hub becomes a wanted subscription.
pub async fn note_hub(
    store: &DynStore,
    blog: BlogId,
    hub: &HubLinks,
) -> kith_store::Result<Option<Subscription>> {
    let existing = store.subscription(blog).await?;
    if let Some(s) = &existing
        && s.hub == hub.hub.as_str()
        && s.topic == hub.topic.as_str()
    {
        return Ok(existing);
    }
    let sub = Subscription {
        blog_id: blog,
        hub: hub.hub.to_string(),
        topic: hub.topic.to_string(),
        secret: new_secret(),
        state: SubscriptionState::Wanted,
        requested_at: None,
        lease_expires_at: None,
        last_error: None,
    };
    store.save_subscription(sub.clone()).await?;
    Ok(Some(sub))
}

/// Sends every due subscription request (new, retried, renewals); returns how many.
pub async fn request_due(
    store: &DynStore,
    crawler: &Crawler,
    ctx: &WebSubContext,
) -> kith_store::Result<usize> {
    let now = Utc::now();
    let due = store
        .subscriptions_to_request(now, RETRY_AFTER, ctx.renew_within())
        .await?;
    let mut sent = 0;
    for mut sub in due {
        let Ok(hub) = url::Url::parse(&sub.hub) else {
            continue;
        };
        let callback = ctx.callback(sub.blog_id);
        let lease = ctx.lease_secs.to_string();
        let form = [
            ("hub.mode", "subscribe"),
            ("hub.topic", sub.topic.as_str()),
            ("hub.callback", callback.as_str()),
            ("hub.secret", sub.secret.as_str()),
            ("hub.lease_seconds", lease.as_str()),
        ];
        // Saved before asking: the hub may verify before its answer to us arrives. An
        // active subscription stays active while its renewal is verified.
        sub.requested_at = Some(now);
        if sub.state != SubscriptionState::Active {
            sub.state = SubscriptionState::Requested;
        }
        store.save_subscription(sub.clone()).await?;
        match crawler.fetcher().post_form(&hub, &form).await {
            Ok(status) if (200..300).contains(&status) => {
                sent += 1;
                continue;
            }
            Ok(status) => {
                sub.state = SubscriptionState::Failed;
                sub.last_error = Some(format!(
                    "the hub answered {status} to our subscription request"
                ));
            }
            Err(e) => {
                sub.state = SubscriptionState::Failed;
                sub.last_error = Some(format!("cannot reach the hub: {e}"));
            }
        }
        tracing::info!(blog_id = %sub.blog_id, hub = %sub.hub, error = ?sub.last_error, "websub request failed");
        // Only the failure is written here: the verification may have run meanwhile.
        if let Some(mut current) = store.subscription(sub.blog_id).await?
            && current.requested_at == sub.requested_at
            && current.state != SubscriptionState::Active
        {
            current.state = SubscriptionState::Failed;
            current.last_error = sub.last_error;
            store.save_subscription(current).await?;
        }
    }
    Ok(sent)
}

#[derive(Clone)]
struct CallbackState {
    store: DynStore,
    enricher: std::sync::Arc<crate::enrich::Enricher>,
}

/// The callback routes, to merge into the site's router. `max_body` bounds deliveries.
pub fn routes(
    store: DynStore,
    enricher: std::sync::Arc<crate::enrich::Enricher>,
    max_body: usize,
) -> Router {
    Router::new()
        .route("/websub/{blog_id}", get(verify).post(deliver))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(CallbackState { store, enricher })
}

/// §5.3: the hub checks that we asked. Only our own pending or active subscription, on
/// its topic, gets the challenge back.
async fn verify(
    State(st): State<CallbackState>,
    Path(blog): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let blog = BlogId(blog);
    let sub = match st.store.subscription(blog).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "websub verification: store error");
            return (StatusCode::SERVICE_UNAVAILABLE, String::new());
        }
    };
    let mode = q.get("hub.mode").map(String::as_str).unwrap_or("");
    let topic = q.get("hub.topic").map(String::as_str).unwrap_or("");
    let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
    match (mode, sub) {
        ("subscribe", Some(mut sub))
            if sub.topic == topic
                && matches!(
                    sub.state,
                    SubscriptionState::Requested | SubscriptionState::Active
                )
                && !challenge.is_empty() =>
        {
            let lease = q
                .get("hub.lease_seconds")
                .and_then(|l| l.parse::<i64>().ok())
                .unwrap_or(0)
                .clamp(0, 366 * 24 * 3600);
            sub.state = SubscriptionState::Active;
            sub.lease_expires_at = Some(Utc::now() + Duration::seconds(lease));
            sub.last_error = None;
            if st.store.save_subscription(sub).await.is_err() {
                return (StatusCode::SERVICE_UNAVAILABLE, String::new());
            }
            tracing::info!(blog_id = %blog, lease_secs = lease, "websub subscription verified");
            (StatusCode::OK, challenge)
        }
        // We never ask to unsubscribe while a blog is registered; a removed blog has no
        // subscription, so confirming its unsubscription is right.
        ("unsubscribe", None) if !challenge.is_empty() => (StatusCode::OK, challenge),
        ("denied", Some(mut sub)) => {
            sub.state = SubscriptionState::Failed;
            sub.last_error = Some(format!(
                "the hub denied the subscription: {}",
                q.get("hub.reason")
                    .map(String::as_str)
                    .unwrap_or("no reason given")
            ));
            let _ = st.store.save_subscription(sub).await;
            (StatusCode::OK, String::new())
        }
        _ => (StatusCode::NOT_FOUND, String::new()),
    }
}

/// §7: a push of new content. Ingested only with a valid signature.
async fn deliver(
    State(st): State<CallbackState>,
    Path(blog): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let blog = BlogId(blog);
    let (sub, stored) = match (st.store.subscription(blog).await, st.store.blog(blog).await) {
        (Ok(Some(s)), Ok(Some(b))) => (s, b),
        (Ok(_), Ok(_)) => return StatusCode::GONE, // §7: no subscription here; the hub may drop it
        _ => return StatusCode::SERVICE_UNAVAILABLE,
    };
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    if !verify_signature(&sub.secret, &body, signature) {
        tracing::warn!(blog_id = %blog, "websub delivery with a bad or missing signature ignored");
        return StatusCode::FORBIDDEN;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Ok(topic) = url::Url::parse(&sub.topic) else {
        return StatusCode::BAD_REQUEST;
    };
    let feed = match kith_crawl::parse_feed(&body, content_type, &topic, Utc::now()) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(blog_id = %blog, error = %e, "websub delivery is not a readable feed");
            // Acknowledged (the hub did its job) but not ingested.
            return StatusCode::ACCEPTED;
        }
    };
    let mut state = stored.feed.clone();
    state.last_success_at = Some(Utc::now());
    let mut result = PollResult {
        blog_id: blog,
        state,
        title: feed.title,
        status: None,
        feed_url: None,
        posts: feed.entries,
    };
    crate::enrich::enrich_new_posts(
        &st.store,
        Some(&st.enricher),
        &stored.homepage_url,
        &stored.feed_url,
        &mut result,
    )
    .await;
    match st.store.record_poll(result).await {
        Ok(stats) => {
            tracing::info!(blog_id = %blog, new_posts = stats.new, updated = stats.updated, "websub delivery ingested");
            StatusCode::NO_CONTENT
        }
        Err(e) => {
            tracing::error!(blog_id = %blog, error = %e, "websub delivery not stored");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
