//! Registration from the web over a real socket, against testkit blogs: the preview of
//! what discovery found, confirmation, the pending status page, verification once the
//! blog publishes its token, hostile input and the per-client rate limit.

use crate::support::{Served, Site, blogosphere};
use kith_testkit::{Behaviour, StaticSite, StaticSiteHandle};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// A config that lets the crawler reach exactly `hosts` (the test's blogs), so that every
/// other loopback address, the hub's own included, is refused as private.
fn config(hosts: &[SocketAddr]) -> String {
    let allowed: Vec<String> = hosts.iter().map(|a| format!("\"{}/32\"", a.ip())).collect();
    format!(
        "data_dir = \"data\"\n\
         [crawl]\nallowed_networks = [{}]\nper_host_delay_ms = 0\ntimeout_secs = 5\n\
         connect_timeout_secs = 2\nmax_body_bytes = 262144\n\
         [registration]\nrequire_verification = true\n",
        allowed.join(", ")
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `html` with minijinja's escapes undone, so tests can look for URLs and titles as
/// they are (tags stay, so structure can still be checked).
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The page at `path`, unescaped.
async fn page(served: &Served, path: &str) -> String {
    unescape(&served.text(path).await)
}

/// The body of a response, unescaped.
async fn body(r: reqwest::Response) -> String {
    unescape(&r.text().await.unwrap())
}

/// A form POST as a browser on the site's own page sends it.
async fn post(served: &Served, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect();
    client()
        .post(format!("{}{path}", served.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &served.base)
        .header("sec-fetch-site", "same-origin")
        .body(body.join("&"))
        .send()
        .await
        .unwrap()
}

/// The value of `<input type="hidden" name="NAME" value="...">` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no hidden field {name} in:\n{html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The verification token shown on a status page.
fn token(html: &str) -> String {
    let at = html
        .match_indices("kith-")
        .map(|(i, _)| i)
        .find(|&i| {
            let t = &html[i + 5..];
            t.len() >= 32 && t[..32].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .unwrap_or_else(|| panic!("no token in:\n{html}"));
    html[at..at + 37].to_owned()
}

/// A blog served from files: a homepage naming its feed, and an RSS feed with two posts.
fn write_blog(dir: &Path, head_extra: &str) {
    std::fs::write(
        dir.join("index.html"),
        format!(
            "<!doctype html><html><head><title>Quillwort notes</title>\
             <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\">{head_extra}\
             </head><body><h1>Quillwort notes</h1></body></html>"
        ),
    )
    .unwrap();
}

async fn static_blog(ip: [u8; 4]) -> (tempfile::TempDir, StaticSiteHandle) {
    let dir = tempfile::tempdir().unwrap();
    write_blog(dir.path(), "");
    let site = StaticSite::serve(dir.path().to_owned(), SocketAddr::from((ip, 0)))
        .await
        .unwrap();
    let home = site.url("/");
    std::fs::write(
        dir.path().join("feed.xml"),
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Quillwort notes</title>\
             <link>{home}</link><description>Ferns and their allies</description>\
             <item><title>Spores of the zephyrine quillwort</title><link>{home}spores</link>\
             <guid>{home}spores</guid><pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate>\
             <category>botany</category><category>ferns</category>\
             <description>How the zephyrine quillwort spreads its spores under water.</description></item>\
             <item><title>Pressing ferns</title><link>{home}pressing</link>\
             <guid>{home}pressing</guid><pubDate>Sun, 05 May 2024 10:00:00 GMT</pubDate>\
             <category>ferns</category>\
             <description>Blotting paper, weight and patience.</description></item>\
             </channel></rss>"
        ),
    )
    .unwrap();
    (dir, site)
}

async fn wait_until(limit: Duration, mut ok: impl AsyncFnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if ok().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blog_is_previewed_then_confirmed_pending() {
    let sphere = blogosphere(2, 71).await;
    let hosts: Vec<SocketAddr> = sphere.blogs().iter().map(|b| b.addr).collect();
    let site = Site::new(&config(&hosts));
    let served = Served::start(&site).await;

    let form = page(&served, "/register").await;
    assert!(form.contains("Your blog's address"), "{form}");

    // Preview: the feed's title and newest posts with their tags; nothing stored yet.
    let home = sphere.homepage_url(0);
    let r = post(&served, "/register", &[("url", &home)]).await;
    assert_eq!(r.status(), 200);
    let preview = body(r).await;
    assert!(preview.contains("Is this your blog?"), "{preview}");
    let info = sphere.info(0);
    assert!(preview.contains(&info.name), "{preview}");
    assert!(preview.contains(&sphere.feed_url(0)), "{preview}");
    let newest = sphere
        .feed_posts(0)
        .into_iter()
        .max_by_key(|p| p.published)
        .unwrap();
    assert!(preview.contains(&newest.title), "{preview}");
    assert!(preview.contains("class=\"tag tag-"), "no tags in {preview}");
    let requests_after_preview = sphere.request_count(0);
    let app_view = kith::App::open(site.config()).await.unwrap();
    assert!(app_view.store.blogs().await.unwrap().is_empty());

    // Confirm: stored pending with the posts the preview read (no second fetch).
    let r = post(
        &served,
        "/register/confirm",
        &[("url", &home), ("preview", &hidden(&preview, "preview"))],
    )
    .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/register/"), "{location}");
    assert_eq!(sphere.request_count(0), requests_after_preview);
    let blogs = app_view.store.blogs().await.unwrap();
    assert_eq!(blogs.len(), 1);
    assert_eq!(blogs[0].status, kith_model::BlogStatus::Pending);
    assert_eq!(location, format!("/register/{}", blogs[0].id));

    // The status page: pending, with the three ways to prove ownership.
    let status = page(&served, &location).await;
    assert!(
        status.contains("id=\"registration-status\">pending<"),
        "{status}"
    );
    assert_eq!(token(&status), blogs[0].verification_token);
    assert!(status.contains("kith-verification"));
    assert!(
        status.contains("rel=\"me\" href=\"http://127.0.0.1"),
        "{status}"
    );
    // "Check now" on a blog that publishes no token: still pending, and the page says so.
    let r = post(&served, &format!("{location}/verify"), &[]).await;
    assert_eq!(r.status(), 303);
    let checked = page(&served, r.headers()["location"].to_str().unwrap()).await;
    assert!(checked.contains("did not find the proof yet"), "{checked}");

    // The same blog again: refused, with a link to the existing registration.
    let r = post(&served, "/register", &[("url", &sphere.feed_url(0))]).await;
    assert_eq!(r.status(), 409);
    let again = body(r).await;
    assert!(again.contains("already registered"), "{again}");
    assert!(again.contains(&format!("href=\"{location}\"")), "{again}");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_passes_once_the_blog_publishes_its_token() {
    let (dir, blog) = static_blog([127, 38, 6, 1]).await;
    let site = Site::new(&config(&[blog.addr()]));
    let served = Served::start(&site).await;

    let preview = body(post(&served, "/register", &[("url", &blog.url("/"))]).await).await;
    assert!(preview.contains("Quillwort notes"), "{preview}");
    assert!(
        preview.contains("Spores of the zephyrine quillwort"),
        "{preview}"
    );
    assert!(preview.contains(">botany</li>"), "{preview}");
    let r = post(
        &served,
        "/register/confirm",
        &[
            ("url", &blog.url("/")),
            ("preview", &hidden(&preview, "preview")),
        ],
    )
    .await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let status = page(&served, &location).await;
    assert!(status.contains(">pending<"), "{status}");
    let token = token(&status);
    // Pending posts are not public: search does not show them.
    let search = page(&served, "/search?q=zephyrine").await;
    assert!(!search.contains("Spores of the"), "{search}");

    // The blogger adds the meta tag to their homepage and asks for a check.
    write_blog(
        dir.path(),
        &format!("<meta name=\"kith-verification\" content=\"{token}\">"),
    );
    let r = post(&served, &format!("{location}/verify"), &[]).await;
    assert_eq!(r.status(), 303);
    let verified = page(&served, &location).await;
    assert!(verified.contains(">verified<"), "{verified}");
    assert!(verified.contains("its posts are public"), "{verified}");
    assert!(!verified.contains(&token), "the used token is still shown");
    // …and its posts become searchable, highlighted.
    assert!(
        wait_until(Duration::from_secs(15), async || {
            page(&served, "/search?q=zephyrine")
                .await
                .contains("<b>zephyrine</b>")
        })
        .await,
        "the verified blog's post never appeared in search"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_clear_message() {
    let sphere = blogosphere(1, 72).await;
    let no_feed_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        no_feed_dir.path().join("index.html"),
        "<!doctype html><html><head><title>Just a page</title></head><body>Hi</body></html>",
    )
    .unwrap();
    let no_feed = StaticSite::serve(
        no_feed_dir.path().to_owned(),
        SocketAddr::from(([127, 38, 6, 2], 0)),
    )
    .await
    .unwrap();
    let site = Site::new(&config(&[sphere.info(0).addr, no_feed.addr()]));
    let served = Served::start(&site).await;

    let refused = async |url: &str, status: u16, words: &[&str]| {
        let r = post(&served, "/register", &[("url", url)]).await;
        let code = r.status().as_u16();
        let page = body(r).await;
        assert_eq!(code, status, "{url}: {page}");
        assert!(page.contains("role=\"alert\""), "{url}: {page}");
        for w in words {
            assert!(page.contains(w), "{url}: no {w:?} in {page}");
        }
    };
    refused("not a url", 400, &["not a web address"]).await;
    refused("", 400, &["Enter your blog"]).await;
    // The hub's own address: the crawler's private-network guard refuses it.
    refused(
        &served.base,
        400,
        &["loopback", "only fetches public addresses"],
    )
    .await;
    refused(&no_feed.url("/"), 400, &["names no feed"]).await;
    sphere.set_behaviour(0, Behaviour::Oversized { bytes: 1_000_000 });
    refused(&sphere.homepage_url(0), 400, &["larger than"]).await;
    sphere.set_behaviour(0, Behaviour::Normal);

    // A form posted from another site is refused before anything is fetched.
    let r = client()
        .post(format!("{}/register", served.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://elsewhere.example")
        .header("sec-fetch-site", "cross-site")
        .body(format!("url={}", form_encode(&sphere.homepage_url(0))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(body(r).await.contains("this site's own registration page"));

    // Status pages of registrations that do not exist.
    let r = client()
        .get(format!("{}/register/999", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .get(format!("{}/register/abc", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_rate_limited_per_client() {
    let site = Site::new(&config(&[]));
    let served = Served::start(&site).await;
    let burst = kith_web::register::RATE_BURST as usize;
    for i in 0..burst {
        let r = post(&served, "/register", &[("url", "not a url")]).await;
        assert_eq!(r.status(), 400, "attempt {i}");
    }
    let r = post(&served, "/register", &[("url", "not a url")]).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=kith_web::register::RATE_REFILL.as_secs()).contains(&wait),
        "{wait}"
    );
    let page = body(r).await;
    assert!(page.contains("Too many attempts"), "{page}");
    assert!(page.contains(&format!("wait {wait} seconds")), "{page}");
    // Reading pages is not limited.
    let form = client()
        .get(format!("{}/register", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    served.stop().await;
}

/// One registration attempt (a non-URL: answered 400 once admitted) from `client` with
/// extra `headers`; the status.
async fn attempt(served: &Served, client: &reqwest::Client, headers: &[(&str, &str)]) -> u16 {
    let mut req = client
        .post(format!("{}/register", served.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &served.base)
        .header("sec-fetch-site", "same-origin")
        .body("url=not+a+url");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status().as_u16()
}

/// A client whose connections come from `local` (a loopback address of its own).
fn client_from(local: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from(local))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit_and_others_cannot_spoof() {
    // 127.0.0.1 plays the reverse proxy; 127.0.0.2 is a visitor connecting directly.
    let site = Site::new(&format!(
        "{}[web]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
        config(&[])
    ));
    let served = Served::start(&site).await;
    let burst = kith_web::register::RATE_BURST as usize;
    let proxy = client_from([127, 0, 0, 1]);
    let direct = client_from([127, 0, 0, 2]);

    // Visitor A through the proxy uses up their bucket…
    let a = [("x-forwarded-for", "203.0.113.7")];
    for i in 0..burst {
        assert_eq!(attempt(&served, &proxy, &a).await, 400, "A, attempt {i}");
    }
    assert_eq!(attempt(&served, &proxy, &a).await, 429);
    // …and cannot get out of it by writing another address in front of the proxy's.
    let spoofed = [("x-forwarded-for", "198.51.100.1, 203.0.113.7")];
    assert_eq!(attempt(&served, &proxy, &spoofed).await, 429);
    // Visitor B through the same proxy is another client, and so is one named in RFC 7239
    // syntax, and the proxy's own requests.
    let b = [("x-forwarded-for", "203.0.113.8")];
    assert_eq!(attempt(&served, &proxy, &b).await, 400);
    let c = [("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https")];
    assert_eq!(attempt(&served, &proxy, &c).await, 400);
    assert_eq!(attempt(&served, &proxy, &[]).await, 400);

    // A visitor connecting directly is not a trusted proxy: whatever address they claim,
    // they are counted as themselves, so inventing addresses does not buy attempts.
    for i in 0..burst {
        let claim = format!("192.0.2.{i}");
        let status = attempt(&served, &direct, &[("x-forwarded-for", &claim)]).await;
        assert_eq!(status, 400, "direct, attempt {i}");
    }
    let fresh = [
        ("x-forwarded-for", "192.0.2.200"),
        ("forwarded", "for=192.0.2.201"),
    ];
    assert_eq!(attempt(&served, &direct, &fresh).await, 429);
    // …and claiming to be visitor B does not spend B's attempts.
    assert_eq!(attempt(&served, &direct, &b).await, 429);
    assert_eq!(attempt(&served, &proxy, &b).await, 400);
    served.stop().await;
}
