//! WebSub end to end: the testkit's W3C hub, our callback, real sockets both ways.

use crate::support::{Site, TEST_CONFIG};
use kith_model::SubscriptionState;
use kith_testkit::{Blogosphere, BlogosphereConfig};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Waits for `cond` (checked every 20 ms) up to `timeout`.
async fn eventually<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_verify_push_reject_and_renew() {
    let sphere = Blogosphere::start(BlogosphereConfig {
        blogs: 2,
        seed: 51,
        posts_per_blog: 3..=6,
        first_ip: Ipv4Addr::new(127, 90, 0, 1),
        websub: true,
        websub_min_lease_secs: 1,
        ..BlogosphereConfig::default()
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let site = Site::new(
        &format!("{TEST_CONFIG}\n[web]\npublic_url = \"http://{addr}/\"\n").replace(
            "[crawl]\n",
            "[crawl]\nsweep_every_secs = 1\nwebsub_lease_secs = 4\n",
        ),
    );
    let app = kith::App::open(site.config()).await.unwrap();
    let store = app.store.clone();
    let reg = kith::register::register(
        &app.store,
        &app.crawler,
        None,
        &sphere.homepage_url(0),
        false,
    )
    .await
    .unwrap();
    let blog = reg.blog.id;
    let sub = store
        .subscription(blog)
        .await
        .unwrap()
        .expect("the feed's hub was noted");
    assert_eq!(sub.state, SubscriptionState::Wanted);
    assert_eq!(sub.hub, sphere.websub_hub_url().unwrap());
    assert_eq!(sub.topic, sphere.feed_url(0));

    let stop = CancellationToken::new();
    let server = tokio::spawn(kith::serve_on(app, listener, stop.clone(), |_| {}));

    // Subscribe: the hub verifies our intent at the callback; we answer the challenge.
    let subscribed = sphere
        .websub_wait_subscribed(&sphere.feed_url(0), Duration::from_secs(10))
        .await;
    assert!(
        subscribed,
        "ours: {:?}; hub verifications: {:?}",
        store.subscription(blog).await.unwrap(),
        sphere.websub_verifications()
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            store.subscription(blog).await.unwrap().unwrap().state == SubscriptionState::Active
        })
        .await
    );
    let hub_sub = sphere.websub_subscriptions().pop().unwrap();
    assert_eq!(hub_sub.callback, format!("http://{addr}/websub/{blog}"));
    assert!(
        hub_sub.secret.is_some(),
        "we always ask for signed deliveries"
    );

    // A push is ingested at once (no poll is due for a long time).
    let before = store.counts().await.unwrap().posts;
    let published = sphere.publish(0, 1);
    assert!(
        sphere
            .websub_wait_deliveries(1, Duration::from_secs(10))
            .await
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            store.counts().await.unwrap().posts == before + 1
        })
        .await,
        "the pushed post was stored"
    );
    let latest = store.latest_posts(Default::default()).await.unwrap();
    assert!(latest.iter().any(|p| p.guid == published[0].guid));
    assert_eq!(sphere.websub_deliveries()[0].status, Some(204));

    // A delivery with a wrong signature is refused and changes nothing.
    sphere.websub_set_tamper(true);
    sphere.publish(0, 1);
    assert!(
        sphere
            .websub_wait_deliveries(2, Duration::from_secs(10))
            .await
    );
    let tampered = sphere.websub_deliveries().pop().unwrap();
    assert_eq!(tampered.status, Some(403));
    assert_eq!(store.counts().await.unwrap().posts, before + 1);
    sphere.websub_set_tamper(false);

    // The lease (4 s) is renewed before it ends: the hub verifies us again.
    let first_verified = hub_sub.verified_at;
    assert!(
        eventually(Duration::from_secs(15), || async {
            sphere
                .websub_subscriptions()
                .iter()
                .any(|s| s.verified_at > first_verified)
        })
        .await,
        "renewed"
    );
    assert!(sphere.websub_subscriptions().iter().all(|s| s.is_active()));

    stop.cancel();
    server.await.unwrap().unwrap();
    sphere.shutdown().await;
}
