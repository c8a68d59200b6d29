//! A WebSub hub for the simulated blogs, following the W3C Recommendation
//! (<https://www.w3.org/TR/websub/>), so that a subscriber can be tested end to end over real
//! loopback HTTP. Started by [`Blogosphere::start`](crate::Blogosphere::start) when
//! `BlogosphereConfig::websub` is set; tests drive and inspect it through the `websub_*`
//! methods of [`Blogosphere`](crate::Blogosphere).
//!
//! What each part of the spec becomes here:
//! - §4 Discovery: every feed names the hub (`atom:link rel="hub"` in RSS, `link rel="hub"`
//!   in Atom, `hubs` in JSON Feed; see `render`) and is served with
//!   `Link: <hub>; rel="hub", <feed>; rel="self"`.
//! - §5.1 Subscription request: `POST /` with an `application/x-www-form-urlencoded` body of
//!   `hub.mode`, `hub.topic`, `hub.callback`, optional `hub.lease_seconds` and `hub.secret`.
//!   Answered `202 Accepted`, or 4xx with a plain-text reason. Unknown parameters are
//!   ignored, as the spec requires.
//! - §5.2 Validation: the topic must be one of the blogs' feed URLs (refused synchronously
//!   with 422 otherwise). A test can deny a subscription later ([`Hub::deny`]), which sends
//!   the subscriber `hub.mode=denied`.
//! - §5.3 Verification of intent: `GET callback?hub.mode=..&hub.topic=..&hub.challenge=..`
//!   (plus `hub.lease_seconds` when subscribing), appended to the callback's own query. Only
//!   a 2xx whose body is exactly the challenge confirms; anything else leaves the state as it
//!   was. A confirmed subscription replaces the previous one for the same (topic, callback):
//!   that is how a subscriber renews its lease or changes its secret.
//! - §6 Publishing: the spec leaves the publisher-to-hub channel open; here `publish`,
//!   `tick` and `websub_notify` hand the hub the feed directly, so a hub never adds requests
//!   to a blog's request log.
//! - §7 Content distribution: `POST callback` with the full feed body (the same bytes the
//!   feed URL serves), its `Content-Type` and the combined `Link` header, to every
//!   subscription whose lease is running. A 410 answer ends the subscription.
//! - §7.1 Authenticated distribution: with a secret, `X-Hub-Signature: sha256=HEX` is the
//!   HMAC-SHA256 of the body keyed by the secret (or, while tampering is on, a wrong one).
//!
//! Deliberate limits, since this is a test double: one delivery attempt, no retries (the
//! spec's SHOULD); callbacks must be `http` on a loopback host, like everything the test kit
//! talks to; and callbacks for one (topic, callback) pair are made one at a time, in the
//! order the hub accepted the work, so that "subscribe, then unsubscribe" cannot be
//! reordered by the scheduler.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use rand::distr::{Alphanumeric, SampleString};
use sha2::Sha256;
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::{Host, Url};

use crate::http::{self, finish, text};
use crate::sphere::lock;
use crate::types::{
    DEFAULT_WEBSUB_LEASE_SECS, MAX_WEBSUB_LEASE_SECS, SimDelivery, SimSubscription,
    SimVerification, WebSubMode,
};

/// Largest subscription request the hub reads; the form has five short fields.
pub(crate) const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// `hub.secret` must be shorter than this (WebSub §5.1).
const MAX_SECRET_BYTES: usize = 200;
/// How long a subscriber has to answer one callback, from connecting to the last byte.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a subscriber's answer the hub reads: enough for any sane challenge.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Length of `hub.challenge`: 32 alphanumerics, about 190 bits.
const CHALLENGE_LEN: usize = 32;

/// The `Link` header of a feed and of its deliveries (WebSub §4 and §7), combined into one
/// header as §7 recommends.
pub(crate) fn link_header(hub: &str, topic: &str) -> String {
    format!("<{hub}>; rel=\"hub\", <{topic}>; rel=\"self\"")
}

/// `sha256=HEX`: the `X-Hub-Signature` of `body` under `secret` (WebSub §7.1).
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length; the error arm cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::from("sha256=");
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A signature of the right shape that does not verify: the true one with its last hex
/// digit changed.
fn tampered(signature: String) -> String {
    let mut out = signature;
    let last = out.pop().unwrap_or('0');
    out.push(if last == '0' { '1' } else { '0' });
    out
}

/// A subscription is identified by its topic and callback (WebSub §5.1).
type Key = (String, String);

/// Work for one (topic, callback) pair, done in order by [`Hub::drain`].
enum Job {
    /// Verify a subscribe or unsubscribe request and apply it if confirmed (§5.3).
    Verify {
        mode: WebSubMode,
        lease_seconds: u64,
        secret: Option<String>,
    },
    /// Tell the subscriber the hub ended the subscription (§5.2).
    Deny { reason: String },
    /// Push one version of the feed (§7).
    Deliver(Arc<Content>),
}

/// One version of a feed, shared by every delivery of it.
struct Content {
    body: Bytes,
    content_type: String,
    /// Whether tampering was on when the feed was published.
    tamper: bool,
}

#[derive(Default)]
struct State {
    /// Verified subscriptions, lapsed ones included; ordered for stable test output.
    subscriptions: BTreeMap<Key, SimSubscription>,
    verifications: Vec<SimVerification>,
    deliveries: Vec<SimDelivery>,
    /// Pending work per pair. A key is present while a [`Hub::drain`] task runs for it.
    queues: HashMap<Key, VecDeque<Job>>,
}

/// The hub: its subscriptions, its logs and the tasks calling subscribers back.
#[derive(Debug)]
pub(crate) struct Hub {
    /// `http://ip:port/`
    url: String,
    /// Feed URLs of the blogs: the only topics accepted.
    topics: HashSet<String>,
    min_lease: u64,
    default_lease: u64,
    state: Mutex<State>,
    tamper: AtomicBool,
    /// Set on shutdown: no more callbacks start.
    closed: AtomicBool,
    /// Bumped whenever a log or the subscriptions change, for tests that wait.
    changes: watch::Sender<u64>,
    /// Where callback tasks run: the runtime the blogosphere was started on, so that sync
    /// methods like `publish` can start them too.
    runtime: tokio::runtime::Handle,
    tasks: Mutex<JoinSet<()>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("subscriptions", &self.subscriptions.len())
            .field("verifications", &self.verifications.len())
            .field("deliveries", &self.deliveries.len())
            .field("queues", &self.queues.len())
            .finish()
    }
}

/// A request the hub refuses, with the plain-text reason §5.1 asks for.
struct Refusal(StatusCode, String);

impl Refusal {
    fn bad(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }

    fn unprocessable(message: impl Into<String>) -> Self {
        Self(StatusCode::UNPROCESSABLE_ENTITY, message.into())
    }
}

impl Hub {
    /// A hub at `url` accepting subscriptions to `topics`; leases are clamped to
    /// `[min_lease, MAX_WEBSUB_LEASE_SECS]` (and `min_lease` to at least one second).
    /// Must be called inside a tokio runtime.
    pub(crate) fn new(url: String, topics: HashSet<String>, min_lease: u64) -> Self {
        let min_lease = min_lease.clamp(1, MAX_WEBSUB_LEASE_SECS);
        Self {
            url,
            topics,
            min_lease,
            default_lease: DEFAULT_WEBSUB_LEASE_SECS.clamp(min_lease, MAX_WEBSUB_LEASE_SECS),
            state: Mutex::new(State::default()),
            tamper: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            changes: watch::channel(0).0,
            runtime: tokio::runtime::Handle::current(),
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn subscriptions(&self) -> Vec<SimSubscription> {
        lock(&self.state).subscriptions.values().cloned().collect()
    }

    pub(crate) fn verifications(&self) -> Vec<SimVerification> {
        lock(&self.state).verifications.clone()
    }

    pub(crate) fn deliveries(&self) -> Vec<SimDelivery> {
        lock(&self.state).deliveries.clone()
    }

    pub(crate) fn delivery_count(&self) -> usize {
        lock(&self.state).deliveries.len()
    }

    pub(crate) fn set_tamper(&self, on: bool) {
        self.tamper.store(on, Ordering::SeqCst);
    }

    /// A receiver that wakes whenever the subscriptions or the logs change.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Stop calling subscribers back: abort what runs, start nothing new.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        lock(&self.tasks).abort_all();
    }

    /// [`close`](Self::close), then wait until every callback task is gone.
    pub(crate) async fn shutdown(&self) {
        self.close();
        let mut tasks = std::mem::take(&mut *lock(&self.tasks));
        tasks.shutdown().await;
    }

    /// Queue the feed `content()` for every subscriber of `topic` whose lease is running
    /// (§7); returns how many. `content` is only called if there is one.
    pub(crate) fn distribute(
        self: &Arc<Self>,
        topic: &str,
        content: impl FnOnce() -> (Bytes, String),
    ) -> usize {
        let now = Instant::now();
        let keys: Vec<Key> = lock(&self.state)
            .subscriptions
            .iter()
            .filter(|((t, _), sub)| t == topic && now < sub.expires_at)
            .map(|(key, _)| key.clone())
            .collect();
        if keys.is_empty() {
            return 0;
        }
        let (body, content_type) = content();
        let content = Arc::new(Content {
            body,
            content_type,
            tamper: self.tamper.load(Ordering::SeqCst),
        });
        for key in &keys {
            self.enqueue(key.clone(), Job::Deliver(Arc::clone(&content)));
        }
        keys.len()
    }

    /// End every subscription to `topic`, telling each subscriber why (§5.2); returns how
    /// many. A lapsed subscription is denied too: the subscriber may still count on it.
    pub(crate) fn deny(self: &Arc<Self>, topic: &str, reason: &str) -> usize {
        let keys: Vec<Key> = lock(&self.state)
            .subscriptions
            .keys()
            .filter(|(t, _)| t == topic)
            .cloned()
            .collect();
        for key in &keys {
            self.enqueue(
                key.clone(),
                Job::Deny {
                    reason: reason.to_string(),
                },
            );
        }
        keys.len()
    }

    /// Answer one request to the hub's address.
    pub(crate) async fn handle(self: Arc<Self>, req: Parts, body: Bytes) -> Response {
        if req.uri.path() != "/" {
            return text(
                StatusCode::NOT_FOUND,
                "not found: the hub takes requests at /",
            );
        }
        if req.method != Method::POST {
            let builder = Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(header::ALLOW, "POST")
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
            return finish(
                builder,
                "a WebSub hub: POST a subscription request (WebSub 5.1)\n".into(),
            );
        }
        match self.accept(&req, &body) {
            Ok(()) => text(
                StatusCode::ACCEPTED,
                "accepted: the hub will verify intent with the callback",
            ),
            Err(Refusal(status, message)) => {
                tracing::debug!(status = status.as_u16(), %message, "websub request refused");
                text(status, &message)
            }
        }
    }

    /// Check a subscription request (§5.1) and queue its verification (§5.3).
    fn accept(self: &Arc<Self>, req: &Parts, body: &[u8]) -> Result<(), Refusal> {
        let form_type = req
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(Refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be application/x-www-form-urlencoded (WebSub 5.1)".into(),
            ));
        }
        // The first value of each parameter counts; the spec says nothing of repeats.
        let mut form: HashMap<String, String> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            form.entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());

        let mode = match field("hub.mode") {
            Some("subscribe") => WebSubMode::Subscribe,
            Some("unsubscribe") => WebSubMode::Unsubscribe,
            Some(other) => {
                return Err(Refusal::bad(format!(
                    "hub.mode must be subscribe or unsubscribe, not {other:?}"
                )));
            }
            None => return Err(Refusal::bad("hub.mode is missing")),
        };
        let topic = field("hub.topic").ok_or_else(|| Refusal::bad("hub.topic is missing"))?;
        if !self.topics.contains(topic) {
            return Err(Refusal::unprocessable(format!(
                "hub.topic {topic:?} is not a feed this hub serves; subscribe to the \
                 rel=\"self\" URL of one of the simulated feeds"
            )));
        }
        let callback =
            field("hub.callback").ok_or_else(|| Refusal::bad("hub.callback is missing"))?;
        check_callback(callback)?;
        // "MUST be ignored by the hub" when unsubscribing (§5.1).
        let lease_seconds = match (mode, field("hub.lease_seconds")) {
            (WebSubMode::Subscribe, Some(asked)) => asked
                .parse::<u64>()
                .map_err(|_| {
                    Refusal::bad(format!(
                        "hub.lease_seconds must be a positive integer, not {asked:?}"
                    ))
                })?
                .clamp(self.min_lease, MAX_WEBSUB_LEASE_SECS),
            _ => self.default_lease,
        };
        let secret = field("hub.secret").map(str::to_string);
        if secret.as_ref().is_some_and(|s| s.len() >= MAX_SECRET_BYTES) {
            return Err(Refusal::bad(format!(
                "hub.secret must be shorter than {MAX_SECRET_BYTES} bytes"
            )));
        }

        tracing::debug!(
            mode = mode.as_str(),
            topic,
            callback,
            "websub request accepted"
        );
        let key = (topic.to_string(), callback.to_string());
        self.enqueue(
            key,
            Job::Verify {
                mode,
                lease_seconds,
                secret,
            },
        );
        Ok(())
    }

    /// Add `job` to the pair's queue, starting a task to drain it if none runs.
    fn enqueue(self: &Arc<Self>, key: Key, job: Job) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        {
            let mut state = lock(&self.state);
            if let Some(queue) = state.queues.get_mut(&key) {
                queue.push_back(job);
                return;
            }
            state.queues.insert(key.clone(), VecDeque::from([job]));
        }
        let mut tasks = lock(&self.tasks);
        // Forget finished tasks so that the set does not grow with every callback.
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(Arc::clone(self).drain(key), &self.runtime);
    }

    /// Do the pair's jobs in order until its queue is empty.
    async fn drain(self: Arc<Self>, key: Key) {
        loop {
            let job = {
                let mut state = lock(&self.state);
                let Some(queue) = state.queues.get_mut(&key) else {
                    return;
                };
                match queue.pop_front() {
                    Some(job) => job,
                    None => {
                        // Under the same lock as `enqueue`: no job can slip in unseen.
                        state.queues.remove(&key);
                        return;
                    }
                }
            };
            match job {
                Job::Verify {
                    mode,
                    lease_seconds,
                    secret,
                } => self.verify(&key, mode, lease_seconds, secret).await,
                Job::Deny { reason } => self.send_denial(&key, &reason).await,
                Job::Deliver(content) => self.deliver(&key, &content).await,
            }
        }
    }

    /// §5.3: ask the callback to echo a fresh challenge; apply the request only if it does.
    async fn verify(
        &self,
        key: &Key,
        mode: WebSubMode,
        lease_seconds: u64,
        secret: Option<String>,
    ) {
        let (topic, callback) = key;
        let challenge = Alphanumeric.sample_string(&mut rand::rng(), CHALLENGE_LEN);
        let mut params = vec![
            ("hub.mode", mode.as_str().to_string()),
            ("hub.topic", topic.clone()),
            ("hub.challenge", challenge.clone()),
        ];
        if mode == WebSubMode::Subscribe {
            params.push(("hub.lease_seconds", lease_seconds.to_string()));
        }
        // The lease runs from when the hub asks, not from when the subscriber answers.
        let asked_at = Instant::now();
        let answer = self.call_get(callback, &params).await;
        let status = answer.as_ref().ok().map(|r| r.status().as_u16());
        let verified = answer
            .as_ref()
            .is_ok_and(|r| r.status().is_success() && r.body() == challenge.as_bytes());
        if let Err(error) = &answer {
            tracing::debug!(%error, callback, "websub verification failed");
        }

        let now = Instant::now();
        {
            let mut state = lock(&self.state);
            if verified {
                match mode {
                    WebSubMode::Subscribe => {
                        state.subscriptions.insert(
                            key.clone(),
                            SimSubscription {
                                topic: topic.clone(),
                                callback: callback.clone(),
                                secret,
                                lease_seconds,
                                expires_at: asked_at + Duration::from_secs(lease_seconds),
                                verified_at: now,
                            },
                        );
                    }
                    WebSubMode::Unsubscribe | WebSubMode::Denied => {
                        state.subscriptions.remove(key);
                    }
                }
            }
            state.verifications.push(SimVerification {
                mode,
                topic: topic.clone(),
                callback: callback.clone(),
                status,
                verified,
                at: now,
            });
        }
        self.changed();
    }

    /// §5.2: the subscription is over, whatever the subscriber answers.
    async fn send_denial(&self, key: &Key, reason: &str) {
        let (topic, callback) = key;
        lock(&self.state).subscriptions.remove(key);
        let params = [
            ("hub.mode", WebSubMode::Denied.as_str().to_string()),
            ("hub.topic", topic.clone()),
            ("hub.reason", reason.to_string()),
        ];
        let answer = self.call_get(callback, &params).await;
        lock(&self.state).verifications.push(SimVerification {
            mode: WebSubMode::Denied,
            topic: topic.clone(),
            callback: callback.clone(),
            status: answer.ok().map(|r| r.status().as_u16()),
            verified: false,
            at: Instant::now(),
        });
        self.changed();
    }

    /// §7: push one version of the feed, if the subscription is still on when its turn
    /// comes (it may have been cancelled or have lapsed since the feed was published).
    async fn deliver(&self, key: &Key, content: &Content) {
        let (topic, callback) = key;
        let secret = {
            let state = lock(&self.state);
            match state.subscriptions.get(key) {
                Some(sub) if sub.is_active() => sub.secret.clone(),
                _ => return,
            }
        };
        let mut headers = vec![
            (header::CONTENT_TYPE, content.content_type.clone()),
            (header::LINK, link_header(&self.url, topic)),
        ];
        if let Some(secret) = &secret {
            let mut signed = signature(secret, &content.body);
            if content.tamper {
                signed = tampered(signed);
            }
            headers.push((HeaderName::from_static("x-hub-signature"), signed));
        }
        let answer = match Url::parse(callback) {
            Ok(url) => {
                http::send(
                    Method::POST,
                    &url,
                    &headers,
                    content.body.clone(),
                    MAX_ANSWER_BYTES,
                    CALLBACK_TIMEOUT,
                )
                .await
            }
            Err(e) => Err(format!("bad callback {callback}: {e}")),
        };
        if let Err(error) = &answer {
            tracing::debug!(%error, callback, "websub delivery failed");
        }
        let status = answer.ok().map(|r| r.status().as_u16());
        {
            let mut state = lock(&self.state);
            // "the hub MAY terminate the subscription if it receives [410]" (§7).
            if status == Some(StatusCode::GONE.as_u16()) {
                state.subscriptions.remove(key);
            }
            state.deliveries.push(SimDelivery {
                topic: topic.clone(),
                callback: callback.clone(),
                status,
                signed: secret.is_some(),
                at: Instant::now(),
            });
        }
        self.changed();
    }

    /// `GET callback` with `params` appended to its query (§5.3: "appending new parameters
    /// to the end of the list using the & character").
    async fn call_get(
        &self,
        callback: &str,
        params: &[(&str, String)],
    ) -> Result<axum::http::Response<Bytes>, String> {
        let mut url = Url::parse(callback).map_err(|e| format!("bad callback {callback}: {e}"))?;
        url.set_fragment(None);
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
        }
        http::send(
            Method::GET,
            &url,
            &[],
            Bytes::new(),
            MAX_ANSWER_BYTES,
            CALLBACK_TIMEOUT,
        )
        .await
    }
}

/// The callback must be an absolute `http` URL on a loopback host: the hub will call it, and
/// the test kit talks to nothing outside 127.0.0.0/8 and `::1`.
fn check_callback(callback: &str) -> Result<(), Refusal> {
    let url = Url::parse(callback).map_err(|e| {
        Refusal::bad(format!(
            "hub.callback {callback:?} is not an absolute URL: {e}"
        ))
    })?;
    if url.scheme() != "http" {
        return Err(Refusal::unprocessable(format!(
            "hub.callback must use http (the simulated hub has no TLS), not {}",
            url.scheme()
        )));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !loopback {
        return Err(Refusal::unprocessable(format!(
            "hub.callback must be on a loopback host; the simulated hub calls nothing else \
             (got {callback:?})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
