//! The web server over a real socket: error pages, headers, health, shutdown.

use crate::support::{Site, TEST_CONFIG};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_pages_and_headers_are_strict() {
    let site = Site::new(TEST_CONFIG);
    let app = kith::App::open(site.config()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let server = tokio::spawn(kith::serve_on(app, listener, stop.clone(), |_| {}));

    let home = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(home.status(), 200);
    let csp = home.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(home.headers()["x-content-type-options"], "nosniff");
    assert!(home.text().await.unwrap().contains("No posts yet"));

    let missing = reqwest::get(format!("{base}/no/such/page")).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("no page at this address")
    );

    let bad = reqwest::get(format!("{base}/?before=%3Cscript%3E"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.unwrap();
    assert!(
        text.contains("not a page cursor") && text.contains("&lt;script&gt;"),
        "{text}"
    );

    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let css = reqwest::get(format!("{base}/static/style.css"))
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
    // Pages link the stylesheet by a versioned address, which may be kept for a year.
    let home = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = home
        .find("href=\"/static/style.css?v=")
        .expect("a versioned stylesheet")
        + 6;
    let path = &home[at..at + home[at..].find('"').unwrap()];
    let css = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let error = reqwest::get(format!("{base}/no/such/page")).await.unwrap();
    assert!(
        error.text().await.unwrap().contains(path),
        "error pages too"
    );
    // The icon (no 404 in every browser's console) and robots.txt.
    let icon = reqwest::get(format!("{base}/favicon.ico")).await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.url().path(), "/favicon.svg");
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    let robots = reqwest::get(format!("{base}/robots.txt")).await.unwrap();
    assert_eq!(
        robots.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let robots = robots.text().await.unwrap();
    assert!(robots.starts_with("User-agent: *\n"), "{robots}");
    assert!(robots.contains("Disallow: /search\n"), "{robots}");

    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// A client that never finishes its headers is cut off (the header-read timeout), while
/// other clients are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let site = Site::new(TEST_CONFIG);
    let app = kith::App::open(site.config()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(kith::serve_on(app, listener, stop.clone(), |_| {}));

    let started = std::time::Instant::now();
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Someone else is served while the slow client dawdles.
    let ok = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        slow.read_to_end(&mut rest),
    )
    .await
    .expect("the server kept a connection whose headers never finished");
    // Closed (possibly after a 408), not answered as a request.
    assert!(read.is_ok() || rest.is_empty());
    assert!(
        rest.is_empty() || String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));

    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(25), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
