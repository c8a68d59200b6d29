//! The hub against a real subscriber: a small axum server on 127.0.0.1 that answers
//! verification requests as told and records everything it receives. The subscriber's side
//! (HMAC check included) is written independently of the hub's code.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

use super::{signature, tampered};
use crate::http;
use crate::*;

/// Upper bound for every wait; the waits return as soon as the event happens.
const WAIT: Duration = Duration::from_secs(5);

fn config(blogs: usize) -> BlogosphereConfig {
    BlogosphereConfig {
        blogs,
        communities: 4,
        seed: 11,
        posts_per_blog: 3..=6,
        feed_limit: 5,
        now: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap(),
        first_ip: Ipv4Addr::new(127, 12, 0, 1),
        websub: true,
        ..BlogosphereConfig::default()
    }
}

/// How the test subscriber answers a verification of intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 200 with the challenge: agree.
    Echo,
    /// 200 with some other body: a broken subscriber.
    Wrong,
    /// 404: "the subscriber does not agree with the action" (WebSub §5.3).
    NotFound,
}

#[derive(Debug, Clone)]
struct Received {
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug)]
struct Log {
    answer: Answer,
    delivery_status: StatusCode,
    gets: Vec<Received>,
    posts: Vec<Received>,
}

struct Subscriber {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    task: JoinHandle<()>,
}

async fn callback(
    State(log): State<Arc<Mutex<Log>>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut log = log.lock().unwrap();
    let received = Received {
        query: query.clone(),
        headers,
        body,
    };
    if method == Method::POST {
        log.posts.push(received);
        return log.delivery_status.into_response();
    }
    log.gets.push(received);
    let challenge = query.get("hub.challenge").cloned().unwrap_or_default();
    let plain = [(header::CONTENT_TYPE, "text/plain")];
    match log.answer {
        Answer::Echo => (StatusCode::OK, plain, challenge).into_response(),
        Answer::Wrong => (StatusCode::OK, plain, format!("not {challenge}")).into_response(),
        Answer::NotFound => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Subscriber {
    async fn start() -> Self {
        let log = Arc::new(Mutex::new(Log {
            answer: Answer::Echo,
            delivery_status: StatusCode::OK,
            gets: Vec::new(),
            posts: Vec::new(),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(callback)
            .with_state(Arc::clone(&log));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, log, task }
    }

    /// A callback URL on this subscriber.
    fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    fn answer(&self, answer: Answer) {
        self.log.lock().unwrap().answer = answer;
    }

    fn delivery_status(&self, status: StatusCode) {
        self.log.lock().unwrap().delivery_status = status;
    }

    fn gets(&self) -> Vec<Received> {
        self.log.lock().unwrap().gets.clone()
    }

    fn posts(&self) -> Vec<Received> {
        self.log.lock().unwrap().posts.clone()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `POST url` with a form body (or another content type); status and body text.
async fn post(url: &str, content_type: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let headers = [(header::CONTENT_TYPE, content_type.to_string())];
    let response = http::send(
        Method::POST,
        &Url::parse(url).unwrap(),
        &headers,
        Bytes::from(body),
        1 << 20,
        WAIT,
    )
    .await
    .unwrap();
    let text = String::from_utf8(response.body().to_vec()).unwrap();
    (response.status().as_u16(), text)
}

async fn get(url: &str) -> axum::http::Response<Bytes> {
    http::send(
        Method::GET,
        &Url::parse(url).unwrap(),
        &[],
        Bytes::new(),
        1 << 20,
        WAIT,
    )
    .await
    .unwrap()
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A subscription request as a subscriber sends it (WebSub §5.1).
async fn request(
    sphere: &Blogosphere,
    mode: &str,
    topic: &str,
    callback: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let mut pairs = vec![
        ("hub.mode", mode),
        ("hub.topic", topic),
        ("hub.callback", callback),
    ];
    pairs.extend_from_slice(extra);
    post(&sphere.websub_hub_url().unwrap(), FORM, &pairs).await
}

/// Wait until the hub has sent `n` verification (or denial) requests.
async fn wait_verifications(sphere: &Blogosphere, n: usize) {
    assert!(
        sphere
            .websub_wait_until(WAIT, |s| s.websub_verifications().len() >= n)
            .await,
        "{:?}",
        sphere.websub_verifications()
    );
}

/// The subscriber's side of WebSub §7.1: does `X-Hub-Signature` verify under `secret`?
fn signature_valid(headers: &HeaderMap, secret: &str, body: &[u8]) -> bool {
    let Some(value) = headers.get("x-hub-signature") else {
        return false;
    };
    let Some(hex) = value.to_str().unwrap().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(digest) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&digest).is_ok()
}

#[test]
fn signature_matches_the_rfc_4231_vector() {
    // RFC 4231, test case 2.
    assert_eq!(
        signature("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let wrong = tampered(signature("Jefe", b"x"));
    assert_eq!(wrong.len(), 7 + 64);
    assert_ne!(wrong, signature("Jefe", b"x"));
}

#[tokio::test]
async fn feeds_advertise_the_hub() {
    let sphere = Blogosphere::start(config(24)).await.unwrap();
    let hub = sphere.websub_hub_url().unwrap();
    // The address after the last blog's.
    let last = sphere.info(23).addr.ip();
    let hub_ip: std::net::IpAddr = Url::parse(&hub)
        .unwrap()
        .host_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(hub_ip, "127.12.0.25".parse::<std::net::IpAddr>().unwrap());
    assert_eq!(last, "127.12.0.24".parse::<std::net::IpAddr>().unwrap());

    let mut formats = std::collections::HashSet::new();
    for info in sphere.blogs() {
        formats.insert(info.format);
        let feed = get(&info.feed_url).await;
        assert_eq!(feed.status(), 200);
        assert_eq!(
            feed.headers()[header::LINK],
            format!("<{hub}>; rel=\"hub\", <{}>; rel=\"self\"", info.feed_url).as_str()
        );
        let text = std::str::from_utf8(feed.body()).unwrap();
        match info.format {
            FeedFormat::Rss2 => {
                assert!(text.contains("xmlns:atom=\"http://www.w3.org/2005/Atom\""));
                assert!(text.contains(&format!("<atom:link href=\"{hub}\" rel=\"hub\"/>")));
                assert!(text.contains(&format!(
                    "<atom:link href=\"{}\" rel=\"self\"",
                    info.feed_url
                )));
            }
            FeedFormat::Atom => {
                assert!(text.contains(&format!("<link rel=\"hub\" href=\"{hub}\"/>")));
                assert!(text.contains(&format!(
                    "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
                    info.feed_url
                )));
            }
            FeedFormat::JsonFeed => {
                let json: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(
                    json["hubs"],
                    serde_json::json!([{"type": "WebSub", "url": hub}])
                );
                assert_eq!(json["feed_url"], info.feed_url.as_str());
            }
        }
        // Still what a real parser reads, with the same posts.
        let parsed = feed_rs::parser::parse(feed.body().as_ref()).unwrap();
        assert_eq!(parsed.entries.len(), sphere.feed_posts(info.index).len());
    }
    assert_eq!(formats.len(), 3, "{formats:?}");

    // Without the hub: no trace of it, and the hooks are inert.
    let plain = Blogosphere::start(BlogosphereConfig {
        websub: false,
        ..config(24)
    })
    .await
    .unwrap();
    assert_eq!(plain.websub_hub_url(), None);
    for info in plain.blogs() {
        let feed = get(&info.feed_url).await;
        assert!(feed.headers().get(header::LINK).is_none());
        let text = std::str::from_utf8(feed.body()).unwrap();
        assert!(!text.contains("hub"), "{text}");
        // Otherwise the same document as with the hub, once the hub's traces are taken out.
        let with_hub = get(&sphere.feed_url(info.index)).await;
        let with_hub = sphere.normalize_origins(std::str::from_utf8(with_hub.body()).unwrap());
        let without = plain.normalize_origins(text);
        if info.format == FeedFormat::JsonFeed {
            let mut json: serde_json::Value = serde_json::from_str(&with_hub).unwrap();
            json.as_object_mut().unwrap().remove("hubs");
            assert_eq!(
                json,
                serde_json::from_str::<serde_json::Value>(&without).unwrap()
            );
        } else {
            let stripped = with_hub
                .replace("<atom:link href=\"http://hub.sim/\" rel=\"hub\"/>\n", "")
                .replace("<link rel=\"hub\" href=\"http://hub.sim/\"/>\n", "");
            assert_eq!(stripped, without);
        }
    }
    assert_eq!(plain.websub_notify(0), 0);
    assert!(plain.websub_subscriptions().is_empty());
    assert!(!plain.websub_wait_subscribed(&plain.feed_url(0), WAIT).await);
    assert!(plain.websub_wait_deliveries(0, WAIT).await);
    sphere.shutdown().await;
    plain.shutdown().await;
}

#[tokio::test]
async fn subscribe_receive_signed_content_then_unsubscribe() {
    let sphere = Blogosphere::start(config(3)).await.unwrap();
    let subscriber = Subscriber::start().await;
    let topic = sphere.feed_url(0);
    // A callback with its own query: the hub must keep it (WebSub §5.1).
    let callback = subscriber.url("/websub/0?feed=7");
    let secret = "a shared secret";

    let (status, text) = request(
        &sphere,
        "subscribe",
        &topic,
        &callback,
        &[("hub.secret", secret), ("hub.lease_seconds", "600")],
    )
    .await;
    assert_eq!(status, 202, "{text}");
    assert!(sphere.websub_wait_subscribed(&topic, WAIT).await);

    // The verification of intent the subscriber saw.
    let gets = subscriber.gets();
    assert_eq!(gets.len(), 1);
    let q = &gets[0].query;
    assert_eq!(q["feed"], "7");
    assert_eq!(q["hub.mode"], "subscribe");
    assert_eq!(q["hub.topic"], topic);
    assert_eq!(q["hub.lease_seconds"], "600");
    assert_eq!(q["hub.challenge"].len(), 32);

    let subs = sphere.websub_subscriptions();
    assert_eq!(subs.len(), 1);
    let sub = &subs[0];
    assert_eq!(
        (
            &sub.topic,
            &sub.callback,
            sub.secret.as_deref(),
            sub.lease_seconds
        ),
        (&topic, &callback, Some(secret), 600)
    );
    assert!(sub.is_active() && sub.expires_at > sub.verified_at);
    assert!(sub.expires_at <= sub.verified_at + Duration::from_secs(600));
    let verifications = sphere.websub_verifications();
    assert_eq!(verifications.len(), 1);
    assert_eq!(
        (
            verifications[0].mode,
            verifications[0].status,
            verifications[0].verified
        ),
        (WebSubMode::Subscribe, Some(200), true)
    );

    // Publishing pushes the new feed, signed.
    let new = sphere.publish(0, 1);
    assert!(sphere.websub_wait_deliveries(1, WAIT).await);
    let posts = subscriber.posts();
    assert_eq!(posts.len(), 1);
    let delivery = &posts[0];
    assert_eq!(
        delivery.query["feed"], "7",
        "delivered to the exact callback"
    );
    let feed = get(&topic).await;
    assert_eq!(
        delivery.body,
        feed.body(),
        "the same bytes as the feed URL serves"
    );
    assert!(
        std::str::from_utf8(&delivery.body)
            .unwrap()
            .contains(&new[0].guid)
    );
    assert_eq!(
        delivery.headers[header::CONTENT_TYPE],
        feed.headers()[header::CONTENT_TYPE]
    );
    let hub = sphere.websub_hub_url().unwrap();
    assert_eq!(
        delivery.headers[header::LINK],
        format!("<{hub}>; rel=\"hub\", <{topic}>; rel=\"self\"").as_str()
    );
    assert!(signature_valid(&delivery.headers, secret, &delivery.body));
    assert!(!signature_valid(
        &delivery.headers,
        "another secret",
        &delivery.body
    ));
    let log = sphere.websub_deliveries();
    assert_eq!(
        (
            &log[0].topic,
            &log[0].callback,
            log[0].status,
            log[0].signed
        ),
        (&topic, &callback, Some(200), true)
    );

    // Nobody listens to blog 1.
    assert_eq!(sphere.publish(1, 1).len(), 1);
    assert_eq!(sphere.websub_notify(1), 0);

    // Tampering: the signature no longer verifies.
    sphere.websub_set_tamper(true);
    assert_eq!(sphere.websub_notify(0), 1);
    assert!(sphere.websub_wait_deliveries(2, WAIT).await);
    let tampered = &subscriber.posts()[1];
    assert!(tampered.headers.contains_key("x-hub-signature"));
    assert!(!signature_valid(&tampered.headers, secret, &tampered.body));
    sphere.websub_set_tamper(false);
    assert_eq!(sphere.websub_notify(0), 1);
    assert!(sphere.websub_wait_deliveries(3, WAIT).await);
    let honest = &subscriber.posts()[2];
    assert!(signature_valid(&honest.headers, secret, &honest.body));

    // Unsubscribing, verified the same way, ends the deliveries.
    let (status, _) = request(&sphere, "unsubscribe", &topic, &callback, &[]).await;
    assert_eq!(status, 202);
    wait_verifications(&sphere, 2).await;
    let last = &sphere.websub_verifications()[1];
    assert_eq!((last.mode, last.verified), (WebSubMode::Unsubscribe, true));
    let q = &subscriber.gets()[1].query;
    assert_eq!(q["hub.mode"], "unsubscribe");
    assert!(!q.contains_key("hub.lease_seconds"));
    assert!(sphere.websub_subscriptions().is_empty());
    sphere.publish(0, 1);
    assert_eq!(sphere.websub_notify(0), 0);
    assert_eq!(sphere.websub_deliveries().len(), 3);
    assert_eq!(subscriber.posts().len(), 3);
    sphere.shutdown().await;
}

#[tokio::test]
async fn renewal_updates_the_subscription_and_failed_verification_changes_nothing() {
    let sphere = Blogosphere::start(config(2)).await.unwrap();
    let subscriber = Subscriber::start().await;
    let topic = sphere.feed_url(1);
    let callback = subscriber.url("/cb");

    let extra = [("hub.secret", "first"), ("hub.lease_seconds", "100")];
    assert_eq!(
        request(&sphere, "subscribe", &topic, &callback, &extra)
            .await
            .0,
        202
    );
    wait_verifications(&sphere, 1).await;
    let first = sphere.websub_subscriptions()[0].clone();
    assert_eq!(first.lease_seconds, 100);

    // Renewal: new secret, default lease; still one subscription.
    assert_eq!(
        request(
            &sphere,
            "subscribe",
            &topic,
            &callback,
            &[("hub.secret", "second")]
        )
        .await
        .0,
        202
    );
    wait_verifications(&sphere, 2).await;
    let subs = sphere.websub_subscriptions();
    assert_eq!(subs.len(), 1);
    let renewed = subs[0].clone();
    assert_eq!(renewed.secret.as_deref(), Some("second"));
    assert_eq!(renewed.lease_seconds, DEFAULT_WEBSUB_LEASE_SECS);
    assert!(renewed.verified_at > first.verified_at);

    // A re-subscription the subscriber does not confirm leaves the state unchanged.
    subscriber.answer(Answer::Wrong);
    assert_eq!(
        request(&sphere, "subscribe", &topic, &callback, &[])
            .await
            .0,
        202
    );
    wait_verifications(&sphere, 3).await;
    assert!(!sphere.websub_verifications()[2].verified);
    assert_eq!(sphere.websub_subscriptions(), vec![renewed.clone()]);

    // So does an unsubscription it refuses with 404.
    subscriber.answer(Answer::NotFound);
    assert_eq!(
        request(&sphere, "unsubscribe", &topic, &callback, &[])
            .await
            .0,
        202
    );
    wait_verifications(&sphere, 4).await;
    let refused = &sphere.websub_verifications()[3];
    assert_eq!(
        (refused.mode, refused.status, refused.verified),
        (WebSubMode::Unsubscribe, Some(404), false)
    );
    assert_eq!(sphere.websub_subscriptions(), vec![renewed]);
    sphere.shutdown().await;
}

#[tokio::test]
async fn a_subscriber_that_does_not_echo_the_challenge_never_becomes_active() {
    let sphere = Blogosphere::start(config(2)).await.unwrap();
    let subscriber = Subscriber::start().await;
    subscriber.answer(Answer::Wrong);
    let topic = sphere.feed_url(0);
    let callback = subscriber.url("/cb");
    assert_eq!(
        request(&sphere, "subscribe", &topic, &callback, &[])
            .await
            .0,
        202
    );
    wait_verifications(&sphere, 1).await;
    let v = &sphere.websub_verifications()[0];
    assert_eq!((v.status, v.verified), (Some(200), false));
    assert_eq!(subscriber.gets().len(), 1, "the hub did ask");
    assert!(sphere.websub_subscriptions().is_empty());
    assert_eq!(sphere.websub_notify(0), 0);
    sphere.publish(0, 1);
    assert!(sphere.websub_deliveries().is_empty());

    // Unreachable callbacks fail the same way, with no status.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let nowhere = format!("http://{closed}/cb");
    assert_eq!(
        request(&sphere, "subscribe", &topic, &nowhere, &[]).await.0,
        202
    );
    wait_verifications(&sphere, 2).await;
    let v = &sphere.websub_verifications()[1];
    assert_eq!((v.status, v.verified), (None, false));
    assert!(sphere.websub_subscriptions().is_empty());
    sphere.shutdown().await;
}

#[tokio::test]
async fn leases_are_clamped_and_expire() {
    let sphere = Blogosphere::start(BlogosphereConfig {
        websub_min_lease_secs: 1,
        ..config(2)
    })
    .await
    .unwrap();
    let subscriber = Subscriber::start().await;
    let topic = sphere.feed_url(0);
    for (path, asked) in [("/short", "1"), ("/zero", "0"), ("/huge", "999999999")] {
        let extra = [("hub.lease_seconds", asked)];
        let callback = subscriber.url(path);
        assert_eq!(
            request(&sphere, "subscribe", &topic, &callback, &extra)
                .await
                .0,
            202
        );
    }
    wait_verifications(&sphere, 3).await;
    let leases: HashMap<String, u64> = sphere
        .websub_subscriptions()
        .into_iter()
        .map(|s| (s.callback, s.lease_seconds))
        .collect();
    assert_eq!(leases[&subscriber.url("/short")], 1);
    assert_eq!(leases[&subscriber.url("/zero")], 1);
    assert_eq!(leases[&subscriber.url("/huge")], MAX_WEBSUB_LEASE_SECS);

    // Once the short leases run out, only the long one gets content.
    let latest = sphere
        .websub_subscriptions()
        .iter()
        .map(|s| s.expires_at)
        .filter(|t| *t < std::time::Instant::now() + Duration::from_secs(5))
        .max()
        .unwrap();
    tokio::time::sleep_until((latest + Duration::from_millis(20)).into()).await;
    let subs = sphere.websub_subscriptions();
    assert_eq!(subs.len(), 3, "lapsed subscriptions stay listed");
    assert_eq!(subs.iter().filter(|s| s.is_active()).count(), 1);
    assert_eq!(sphere.websub_notify(0), 1);
    assert!(sphere.websub_wait_deliveries(1, WAIT).await);
    assert_eq!(
        sphere.websub_deliveries()[0].callback,
        subscriber.url("/huge")
    );
    assert!(!sphere.websub_deliveries()[0].signed);

    // Renewing a lapsed subscription revives it.
    let extra = [("hub.lease_seconds", "30")];
    let short = subscriber.url("/short");
    assert_eq!(
        request(&sphere, "subscribe", &topic, &short, &extra)
            .await
            .0,
        202
    );
    wait_verifications(&sphere, 4).await;
    assert_eq!(sphere.websub_notify(0), 2);
    sphere.shutdown().await;
}

#[tokio::test]
async fn default_minimum_lease_is_a_minute() {
    let sphere = Blogosphere::start(config(1)).await.unwrap();
    let subscriber = Subscriber::start().await;
    let (topic, callback) = (sphere.feed_url(0), subscriber.url("/cb"));
    let extra = [("hub.lease_seconds", "5")];
    assert_eq!(
        request(&sphere, "subscribe", &topic, &callback, &extra)
            .await
            .0,
        202
    );
    assert!(sphere.websub_wait_subscribed(&topic, WAIT).await);
    assert_eq!(
        sphere.websub_subscriptions()[0].lease_seconds,
        DEFAULT_WEBSUB_MIN_LEASE_SECS
    );
    assert_eq!(subscriber.gets()[0].query["hub.lease_seconds"], "60");
    sphere.shutdown().await;
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_reason() {
    let sphere = Blogosphere::start(config(2)).await.unwrap();
    let subscriber = Subscriber::start().await;
    let hub = sphere.websub_hub_url().unwrap();
    let topic = sphere.feed_url(0);
    let callback = subscriber.url("/cb");

    assert_eq!(get(&hub).await.status(), 405);
    assert_eq!(post(&format!("{hub}other"), FORM, &[]).await.0, 404);
    let pairs = [
        ("hub.mode", "subscribe"),
        ("hub.topic", topic.as_str()),
        ("hub.callback", callback.as_str()),
    ];
    assert_eq!(post(&hub, "application/json", &pairs).await.0, 415);

    /// A request that must be refused with `status` and a message mentioning `says`.
    struct Case<'a> {
        mode: &'a str,
        topic: &'a str,
        callback: &'a str,
        extra: &'a [(&'a str, &'a str)],
        status: u16,
        says: &'a str,
    }
    let ok = |status, says| Case {
        mode: "subscribe",
        topic: &topic,
        callback: &callback,
        extra: &[],
        status,
        says,
    };
    let long_secret = "s".repeat(200);
    let cases = [
        Case {
            mode: "",
            ..ok(400, "hub.mode")
        },
        Case {
            mode: "publish",
            ..ok(400, "hub.mode")
        },
        Case {
            topic: "",
            ..ok(400, "hub.topic")
        },
        Case {
            topic: "http://127.0.0.1:1/elsewhere.xml",
            ..ok(422, "elsewhere.xml")
        },
        Case {
            callback: "",
            ..ok(400, "hub.callback")
        },
        Case {
            callback: "/relative",
            ..ok(400, "absolute")
        },
        Case {
            callback: "https://127.0.0.1/cb",
            ..ok(422, "http")
        },
        Case {
            callback: "http://example.com/cb",
            ..ok(422, "loopback")
        },
        Case {
            extra: &[("hub.lease_seconds", "soon")],
            ..ok(400, "lease_seconds")
        },
        Case {
            extra: &[("hub.secret", &long_secret)],
            ..ok(400, "200 bytes")
        },
    ];
    for case in &cases {
        let (status, text) =
            request(&sphere, case.mode, case.topic, case.callback, case.extra).await;
        assert_eq!(
            status, case.status,
            "{} {} {} {:?}: {text}",
            case.mode, case.topic, case.callback, case.extra
        );
        assert!(
            text.contains(case.says),
            "{text:?} should mention {}",
            case.says
        );
    }
    assert!(sphere.websub_verifications().is_empty());
    assert!(
        subscriber.gets().is_empty(),
        "refused requests are never verified"
    );

    // Unknown parameters are ignored; a 199-byte secret is fine; so is `localhost`.
    let secret = "s".repeat(199);
    let extra = [("hub.secret", secret.as_str()), ("hub.verify", "sync")];
    assert_eq!(
        request(&sphere, "subscribe", &topic, &callback, &extra)
            .await
            .0,
        202
    );
    let local = format!("http://localhost:{}/cb", subscriber.addr.port());
    assert_eq!(
        request(&sphere, "subscribe", &topic, &local, &[]).await.0,
        202
    );
    wait_verifications(&sphere, 2).await;
    assert!(sphere.websub_verifications().iter().all(|v| v.verified));
    sphere.shutdown().await;
}

#[tokio::test]
async fn denial_and_gone_end_subscriptions() {
    let sphere = Blogosphere::start(config(2)).await.unwrap();
    let subscriber = Subscriber::start().await;
    let topic = sphere.feed_url(0);
    for path in ["/a", "/b"] {
        let callback = subscriber.url(path);
        assert_eq!(
            request(&sphere, "subscribe", &topic, &callback, &[])
                .await
                .0,
            202
        );
    }
    wait_verifications(&sphere, 2).await;
    assert_eq!(sphere.websub_subscriptions().len(), 2);

    // §5.2: the hub may deny a subscription at any time, and says so.
    assert_eq!(sphere.websub_deny(0, "publisher asked"), 2);
    wait_verifications(&sphere, 4).await;
    assert!(sphere.websub_subscriptions().is_empty());
    let denials: Vec<_> = subscriber
        .gets()
        .into_iter()
        .filter(|g| g.query["hub.mode"] == "denied")
        .collect();
    assert_eq!(denials.len(), 2);
    assert_eq!(denials[0].query["hub.topic"], topic);
    assert_eq!(denials[0].query["hub.reason"], "publisher asked");
    assert_eq!(sphere.websub_verifications()[3].mode, WebSubMode::Denied);

    // §7: a 410 answer to a delivery ends the subscription.
    let callback = subscriber.url("/c");
    assert_eq!(
        request(&sphere, "subscribe", &topic, &callback, &[])
            .await
            .0,
        202
    );
    assert!(sphere.websub_wait_subscribed(&topic, WAIT).await);
    subscriber.delivery_status(StatusCode::GONE);
    sphere.publish(0, 1);
    assert!(sphere.websub_wait_deliveries(1, WAIT).await);
    assert_eq!(sphere.websub_deliveries()[0].status, Some(410));
    assert!(sphere.websub_subscriptions().is_empty());
    assert_eq!(sphere.websub_notify(0), 0);
    sphere.shutdown().await;
}

#[tokio::test]
async fn requests_for_one_subscription_are_handled_in_order() {
    let sphere = Blogosphere::start(config(1)).await.unwrap();
    let subscriber = Subscriber::start().await;
    let (topic, callback) = (sphere.feed_url(0), subscriber.url("/cb"));
    // Subscribe and unsubscribe back to back: the end state is unsubscribed, every time.
    for round in 1..=3 {
        assert_eq!(
            request(&sphere, "subscribe", &topic, &callback, &[])
                .await
                .0,
            202
        );
        assert_eq!(
            request(&sphere, "unsubscribe", &topic, &callback, &[])
                .await
                .0,
            202
        );
        wait_verifications(&sphere, 2 * round).await;
        assert!(sphere.websub_subscriptions().is_empty(), "round {round}");
    }
    let modes: Vec<String> = subscriber
        .gets()
        .iter()
        .map(|g| g.query["hub.mode"].clone())
        .collect();
    assert_eq!(modes, ["subscribe", "unsubscribe"].repeat(3));
    sphere.shutdown().await;
}
