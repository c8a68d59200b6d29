//! The crawler's behaviours against misbehaving servers, over real loopback HTTP.

use crate::support::{Site, TEST_CONFIG, blogosphere};
use kith::App;
use kith::pipeline::{SweepOptions, crawl_once};
use kith_model::{Blog, BlogStatus, Health, NewBlog};
use kith_testkit::Behaviour;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// An opened app for `site`, with `tweak` applied to its crawl config.
async fn app(site: &Site, tweak: impl FnOnce(&mut kith_config::CrawlConfig)) -> App {
    let mut config = site.config();
    tweak(&mut config.crawl);
    App::open(config).await.unwrap()
}

/// Registers `feed_url` directly (no discovery), as an OPML import would.
async fn add(app: &App, feed_url: &str) -> Blog {
    app.store
        .add_blog(NewBlog {
            homepage_url: feed_url.into(),
            feed_url: feed_url.into(),
            title: String::new(),
            status: BlogStatus::Verified,
            verification_token: "t".into(),
        })
        .await
        .unwrap()
}

async fn poll_all(app: &App) -> kith::pipeline::SweepSummary {
    crawl_once(
        &app.store,
        &app.crawler,
        &SweepOptions::new(16),
        true,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .unwrap()
}

async fn blog(app: &App, b: &Blog) -> Blog {
    app.store.blog(b.id).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_301_moves_the_feed_after_two_polls_and_a_302_never_does() {
    let sphere = blogosphere(3, 31).await;
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |_| {}).await;
    let permanent = add(&app, &sphere.feed_url(0)).await;
    let temporary = add(&app, &sphere.feed_url(1)).await;
    let target = sphere.feed_url(2);
    sphere.set_behaviour(
        0,
        Behaviour::Redirect {
            status: 301,
            to: target.clone(),
        },
    );
    sphere.set_behaviour(
        1,
        Behaviour::Redirect {
            status: 302,
            to: target.clone(),
        },
    );

    let s = poll_all(&app).await;
    assert_eq!(s.fetched, 2, "redirects are followed: {s}");
    assert_eq!(
        blog(&app, &permanent).await.feed_url,
        sphere.feed_url(0),
        "one 301 is not enough"
    );
    poll_all(&app).await;
    assert_eq!(
        blog(&app, &permanent).await.feed_url,
        target,
        "moved after the second 301"
    );
    assert_eq!(
        blog(&app, &temporary).await.feed_url,
        sphere.feed_url(1),
        "302 never moves"
    );
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_marks_the_blog_gone_and_stops_polling_it() {
    let sphere = blogosphere(1, 32).await;
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |_| {}).await;
    let b = add(&app, &sphere.feed_url(0)).await;
    sphere.set_behaviour(0, Behaviour::Gone);
    let s = poll_all(&app).await;
    assert_eq!(s.gone, 1, "{s}");
    let b = blog(&app, &b).await;
    assert_eq!(b.status, BlogStatus::Gone);
    assert_eq!(b.health(), Health::Gone);
    assert!(b.feed.last_error.unwrap().contains("410"));
    assert_eq!(poll_all(&app).await.polled, 0, "gone feeds are not polled");
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_pushes_the_next_poll_back() {
    let sphere = blogosphere(2, 33).await;
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |_| {}).await;
    let limited = add(&app, &sphere.feed_url(0)).await;
    let unavailable = add(&app, &sphere.feed_url(1)).await;
    sphere.set_behaviour(
        0,
        Behaviour::TooManyRequests {
            retry_after_secs: 7200,
        },
    );
    sphere.set_behaviour(1, Behaviour::Status(503));
    let before = chrono::Utc::now();
    let s = poll_all(&app).await;
    assert_eq!(s.error_count(), 2, "{s}");
    let b = blog(&app, &limited).await;
    assert!(b.feed.next_check_at.unwrap() >= before + chrono::Duration::seconds(7200));
    assert_eq!(b.feed.last_status, Some(429));
    assert!(b.feed.last_error.unwrap().contains("429"));
    let b = blog(&app, &unavailable).await;
    assert!(
        b.feed.next_check_at.unwrap() < before + chrono::Duration::seconds(300),
        "no Retry-After: short backoff"
    );
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_and_endless_bodies_stop_at_the_cap() {
    let sphere = blogosphere(3, 34).await;
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |c| c.max_body_bytes = 1024 * 1024).await;
    let bomb = add(&app, &sphere.feed_url(0)).await;
    let endless = add(&app, &sphere.feed_url(1)).await;
    let huge = add(&app, &sphere.feed_url(2)).await;
    sphere.set_behaviour(
        0,
        Behaviour::GzipBomb {
            bytes: 200 * 1024 * 1024,
        },
    );
    sphere.set_behaviour(1, Behaviour::Endless);
    sphere.set_behaviour(
        2,
        Behaviour::Oversized {
            bytes: 3 * 1024 * 1024,
        },
    );
    let started = Instant::now();
    let s = poll_all(&app).await;
    assert_eq!(s.errors.get("too_large"), Some(&3), "{s}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stopped at the cap, not the timeout: {:?}",
        started.elapsed()
    );
    for b in [bomb, endless, huge] {
        let err = blog(&app, &b).await.feed.last_error.unwrap();
        assert!(err.contains("larger than 1048576 bytes"), "{err}");
    }
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_times_out_without_stalling_the_others() {
    let sphere = blogosphere(6, 35).await;
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |c| {
        c.timeout_secs = 2;
        c.connect_timeout_secs = 1;
    })
    .await;
    for i in 0..6 {
        add(&app, &sphere.feed_url(i)).await;
    }
    sphere.set_behaviour(0, Behaviour::Slow(Duration::from_secs(30)));
    let done = std::sync::Mutex::new(Vec::new());
    let started = Instant::now();
    let s = crawl_once(
        &app.store,
        &app.crawler,
        &SweepOptions::new(16),
        true,
        &CancellationToken::new(),
        &|b, _| {
            done.lock()
                .unwrap()
                .push((b.feed_url.clone(), started.elapsed()));
        },
    )
    .await
    .unwrap();
    assert_eq!(s.fetched, 5, "{s}");
    assert_eq!(s.errors.get("timeout"), Some(&1), "{s}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let done = done.into_inner().unwrap();
    let slow = done
        .iter()
        .position(|(u, _)| *u == sphere.feed_url(0))
        .unwrap();
    assert_eq!(
        slow, 5,
        "the slow feed finished last; the others did not wait for it"
    );
    assert!(
        done[4].1 < Duration::from_secs(1),
        "the others were done in under a second: {done:?}"
    );
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_and_names_to_private_addresses_are_refused() {
    let sphere = blogosphere(2, 36).await;
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |_| {}).await;
    let b = add(&app, &sphere.feed_url(0)).await;
    sphere.set_behaviour(
        0,
        Behaviour::Redirect {
            status: 302,
            to: "http://10.11.12.13/feed.xml".into(),
        },
    );
    let s = poll_all(&app).await;
    assert_eq!(s.errors.get("blocked"), Some(&1), "{s}");
    let err = blog(&app, &b).await.feed.last_error.unwrap();
    assert!(
        err.contains("10.11.12.13") && err.contains("private"),
        "{err}"
    );

    // Without the loopback exemption, a name for loopback is refused before any
    // connection (the resolver's own filtering is tested in kith-crawl's guard module).
    let strict = app_without_exemption(&site).await;
    let port = url::Url::parse(&sphere.feed_url(1))
        .unwrap()
        .port()
        .unwrap();
    let named = add(&strict, &format!("http://localhost:{port}/feed.xml")).await;
    let before = sphere.request_count(1);
    poll_all(&strict).await;
    let err = blog(&strict, &named).await.feed.last_error.unwrap();
    assert!(err.contains("loopback"), "{err}");
    assert_eq!(sphere.request_count(1), before);
    sphere.shutdown().await;
}

async fn app_without_exemption(site: &Site) -> App {
    app(site, |c| c.allowed_networks.clear()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_is_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let rss = |t: &str| {
        format!(
            "<rss version=\"2.0\"><channel><title>{t}</title><item><title>x</title><guid>1</guid></item></channel></rss>"
        )
    };
    std::fs::create_dir_all(dir.path().join("private")).unwrap();
    std::fs::write(
        dir.path().join("robots.txt"),
        "User-agent: *\nAllow: /\n\nUser-agent: Kith\nDisallow: /private/\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("feed.xml"), rss("public")).unwrap();
    std::fs::write(dir.path().join("private/feed.xml"), rss("private")).unwrap();
    let server =
        kith_testkit::StaticSite::serve(dir.path().to_owned(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();

    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |_| {}).await;
    let public = add(&app, &server.url("/feed.xml")).await;
    let private = add(&app, &server.url("/private/feed.xml")).await;
    let s = poll_all(&app).await;
    assert_eq!(
        (s.fetched, s.errors.get("robots").copied()),
        (1, Some(1)),
        "{s}"
    );
    assert_eq!(blog(&app, &public).await.title, "public");
    let err = blog(&app, &private).await.feed.last_error.unwrap();
    assert!(err.contains("robots.txt"), "{err}");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(
        !paths.iter().any(|p| p.starts_with("/private")),
        "{paths:?}"
    );
    assert_eq!(
        paths.iter().filter(|p| *p == "/robots.txt").count(),
        1,
        "robots.txt cached: {paths:?}"
    );

    // Registration says why, and exits 2.
    let site = Site::new(TEST_CONFIG);
    let run = site
        .kith(&["blogs", "add", &server.url("/private/feed.xml")])
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("robots.txt"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_host_limit_holds_at_the_server() {
    let sphere = blogosphere(1, 37).await;
    sphere.set_behaviour(0, Behaviour::Slow(Duration::from_millis(300)));
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |c| {
        c.per_host = 2;
        c.concurrency = 32;
    })
    .await;
    // Eight feeds on one host (one blog's server under eight URLs).
    for i in 0..8 {
        add(&app, &format!("{}?copy={i}", sphere.feed_url(0))).await;
    }
    let s = poll_all(&app).await;
    assert_eq!(s.fetched, 8, "{s}");
    assert_eq!(
        sphere.max_in_flight(0),
        2,
        "never more than two at once, and two were used"
    );
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_back_off_exponentially_and_never_give_up() {
    let sphere = blogosphere(1, 38).await;
    let site = Site::new(TEST_CONFIG);
    let app = app(&site, |_| {}).await;
    let b = add(&app, &sphere.feed_url(0)).await;
    sphere.set_behaviour(0, Behaviour::Status(500));
    let mut gaps = Vec::new();
    for round in 1..=8u32 {
        let s = poll_all(&app).await;
        assert_eq!(s.polled, 1, "round {round}: still polled");
        let now = blog(&app, &b).await;
        assert_eq!(now.feed.consecutive_errors, round);
        assert_eq!(now.status, BlogStatus::Verified, "never abandoned");
        gaps.push(
            (now.feed.next_check_at.unwrap() - now.feed.last_checked_at.unwrap()).num_seconds(),
        );
    }
    assert!(gaps.windows(2).all(|w| w[1] > w[0]), "growing: {gaps:?}");
    assert!(gaps[7] > 60 * 60, "an hour after 8 errors: {gaps:?}");
    assert_eq!(blog(&app, &b).await.health(), Health::Failing);

    // The server recovers. (A new crawler: this one remembers for a minute that the
    // host's robots.txt failed, and the real next poll is an hour away anyway.)
    sphere.set_behaviour(0, Behaviour::Normal);
    let app = self::app(&site, |_| {}).await;
    poll_all(&app).await;
    let healed = blog(&app, &b).await;
    assert_eq!(healed.feed.consecutive_errors, 0);
    assert_eq!(healed.health(), Health::Ok);
    assert!(healed.feed.last_error.is_none());
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_the_schedule() {
    let sphere = blogosphere(1, 39).await;
    let site = Site::new(TEST_CONFIG);
    let next = {
        let app = app(&site, |_| {}).await;
        let b = add(&app, &sphere.feed_url(0)).await;
        poll_all(&app).await;
        blog(&app, &b).await.feed.next_check_at.unwrap()
    };
    let app = app(&site, |_| {}).await;
    assert!(
        app.store
            .due_blogs(chrono::Utc::now(), 10)
            .await
            .unwrap()
            .is_empty(),
        "not due before its time"
    );
    let due = app
        .store
        .due_blogs(next + chrono::Duration::seconds(1), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "due at the persisted time");
    let requests = sphere.request_count(0);
    let s = crawl_once(
        &app.store,
        &app.crawler,
        &SweepOptions::new(4),
        false,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(s.polled, 0);
    assert_eq!(
        sphere.request_count(0),
        requests,
        "no request before it is due"
    );
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_is_proven_by_a_meta_tag_or_rel_me() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feed.xml"), "<rss version=\"2.0\"><channel><title>Mine</title><item><title>x</title><guid>1</guid></item></channel></rss>").unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\">",
    )
    .unwrap();
    let server =
        kith_testkit::StaticSite::serve(dir.path().to_owned(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let site = Site::new(&TEST_CONFIG.replace(
        "require_verification = false",
        "require_verification = true",
    ));
    site.kith(&["blogs", "add", &server.url("/")]).await.ok();
    let app = app(&site, |_| {}).await;
    let b = app.store.blogs().await.unwrap().pop().unwrap();
    assert_eq!(b.status, BlogStatus::Pending);
    std::fs::write(
        dir.path().join("index.html"),
        format!(
            "<head><meta name=\"kith-verification\" content=\"{}\"></head>",
            b.verification_token
        ),
    )
    .unwrap();
    let run = site.kith(&["blogs", "verify", &b.id.to_string()]).await;
    assert!(run.ok().stdout.contains("is verified"), "{}", run.stdout);
    assert_eq!(blog(&app, &b).await.status, BlogStatus::Verified);
}
