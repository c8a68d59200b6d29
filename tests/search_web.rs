//! The search page over a real socket: highlighted and escaped results, filters, pages,
//! a malformed query explained (400), a site without an index (503).

use crate::support::{Served, Site, TEST_CONFIG, blogosphere};
use kith_testkit::StaticSite;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

async fn get(base: &str, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The `/blogs/N` numbers the result list links to.
fn hit_blogs(html: &str) -> Vec<String> {
    html.split("class=\"blog\" href=\"/blogs/")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_highlights_filters_and_explains() {
    let sphere = blogosphere(8, 81).await;
    // A blog whose titles carry markup: it must reach the page escaped.
    let dir = tempfile::tempdir().unwrap();
    let hostile = StaticSite::serve(
        dir.path().to_owned(),
        SocketAddr::from(([127, 38, 6, 3], 0)),
    )
    .await
    .unwrap();
    let home = hostile.url("/");
    std::fs::write(
        dir.path().join("feed.xml"),
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Marked up</title>\
             <link>{home}</link>\
             <item><title>&lt;script&gt;alert(1)&lt;/script&gt; gorseberry jam</title>\
             <link>{home}jam</link><guid>{home}jam</guid>\
             <pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate>\
             <description>Gorseberry &amp;lt;img src=x onerror=alert(2)&amp;gt; season.</description>\
             </item></channel></rss>"
        ),
    )
    .unwrap();
    let site = Site::new(TEST_CONFIG);
    {
        let app = kith::App::open(site.config()).await.unwrap();
        for url in (0..sphere.len())
            .map(|i| sphere.homepage_url(i))
            .chain([hostile.url("/feed.xml")])
        {
            kith::register::register(&app.store, &app.crawler, None, &url, false)
                .await
                .unwrap();
        }
    }
    let served = Served::start(&site).await;
    let base = served.base.clone();

    // The index follows the store in the background.
    let started = Instant::now();
    let (status, page) = loop {
        let (status, page) = get(&base, "/search?q=gorseberry").await;
        if page.contains("search-hits") || started.elapsed() > Duration::from_secs(30) {
            break (status, page);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("1 result"), "{page}");
    assert!(page.contains("<b>gorseberry</b>"), "{page}");
    // Markup in the text arrives as text (the feed's parser already drops the script in
    // the title).
    assert!(
        page.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("<img"), "{page}");

    // Everything in English, newest first: pages of 20 with links both ways.
    let (status, first) = get(&base, "/search?lang=eng&sort=date").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first.matches("class=\"post hit\"").count(), 20, "{first}");
    assert!(first.contains("rel=\"next\""), "{first}");
    assert!(!first.contains("rel=\"prev\""));
    let (_, second) = get(&base, "/search?lang=eng&sort=date&page=2").await;
    assert!(second.contains("rel=\"prev\""), "{second}");
    assert!(second.contains("page 2 of"), "{second}");
    let times = |html: &str| -> Vec<String> {
        html.split("<time datetime=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_owned())
            .collect()
    };
    let (a, b) = (times(&first), times(&second));
    assert!(a.windows(2).all(|w| w[0] >= w[1]), "{a:?}");
    assert!(a.last().unwrap() >= b.first().unwrap());

    // A blog filter, by address: only that blog's posts, and the filter can be removed.
    let blog = sphere.homepage_url(2);
    let (status, only) = get(
        &base,
        &format!(
            "/search?blog={}",
            blog.replace(':', "%3A").replace('/', "%2F")
        ),
    )
    .await;
    assert_eq!(status, 200, "{only}");
    let ids = hit_blogs(&only);
    assert!(!ids.is_empty(), "{only}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(only.contains("Remove filter: blog"), "{only}");

    // Mistakes are explained with a 400, never a 500.
    for (path, words) in [
        ("/search?q=%22unclosed", "cannot be read"),
        ("/search?q=x&from=yesterday", "YYYY-MM-DD"),
        ("/search?q=x&page=0", "pages go from 1"),
        ("/search?q=x&sort=random", "relevance or date"),
        ("/search?blog=nosuch.example", "No blog here matches"),
    ] {
        let (status, page) = get(&base, path).await;
        assert_eq!(status, 400, "{path}: {page}");
        assert!(page.contains("role=\"alert\""), "{path}");
        assert!(page.contains(words), "{path}: no {words:?} in {page}");
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_index_search_says_so() {
    let site = Site::new(TEST_CONFIG);
    let app = kith::App::open(site.config()).await.unwrap();
    let hubs = kith_hubs::HubsCache::new(kith_hubs::Snapshot::empty(&kith_hubs::Params::default()));
    let state =
        kith_web::AppState::new(app.store.clone(), kith_web::Site::default(), hubs, None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(kith_web::serve(
        listener,
        kith_web::router(state),
        stop.clone().cancelled_owned(),
    ));
    let (status, page) = get(&base, "/search?q=anything").await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("search index is not open"), "{page}");
    // Registration is not offered by this server: the form says so.
    let (status, page) = get(&base, "/register").await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("does not take registrations"), "{page}");
    stop.cancel();
    server.await.unwrap().unwrap();
}
