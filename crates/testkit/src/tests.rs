//! Tests over real sockets: a tiny raw HTTP/1.1 client talks to the servers, so that every
//! header and byte (gzip included) is seen exactly as sent.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::*;

const TIMEOUT: Duration = Duration::from_secs(10);

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

fn config(blogs: usize, seed: u64) -> BlogosphereConfig {
    BlogosphereConfig {
        blogs,
        communities: 6,
        seed,
        posts_per_blog: 3..=10,
        feed_limit: 5,
        now: fixed_now(),
        first_ip: Ipv4Addr::new(127, 10, 0, 1),
        ..BlogosphereConfig::default()
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

fn split_url(url: &str) -> (SocketAddr, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (
        host.parse().unwrap(),
        format!("/{}", path.trim_start_matches('/')),
    )
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_hex = std::str::from_utf8(&body[..line_end]).unwrap();
        let size = usize::from_str_radix(size_hex.split(';').next().unwrap().trim(), 16).unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

async fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    let (addr, path) = split_url(url);
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             User-Agent: kith-testkit-tests/1\r\n"
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        raw
    };
    let raw = tokio::time::timeout(TIMEOUT, exchange).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    };
    if reply.header("transfer-encoding") == Some("chunked") {
        reply.body = dechunk(&reply.body);
    }
    reply
}

async fn get(url: &str) -> Reply {
    request("GET", url, &[]).await
}

async fn get_with(url: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", url, headers).await
}

/// Checks tag balance, a single root and entity syntax; returns the root element's name.
fn check_xml(doc: &str) -> Result<String, String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut root: Option<&str> = None;
    let mut rest = doc;
    while let Some(i) = rest.find(['<', '&']) {
        let tail = &rest[i..];
        if tail.starts_with('&') {
            let end = tail.find(';').ok_or("bare &")?;
            let entity = &tail[1..end];
            let known = ["amp", "lt", "gt", "quot", "apos"].contains(&entity);
            if !known && !entity.starts_with('#') {
                return Err(format!("bad entity &{entity};"));
            }
            rest = &tail[end + 1..];
            continue;
        }
        let (skip, close) = if tail.starts_with("<?") {
            (2, "?>")
        } else if tail.starts_with("<!--") {
            (4, "-->")
        } else {
            (1, ">")
        };
        let end = tail[skip..].find(close).ok_or("unclosed markup")? + skip;
        if skip == 1 {
            let inner = &tail[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                let open = stack.pop().ok_or("close without open")?;
                if open != name.trim() {
                    return Err(format!("<{open}> closed by </{name}>"));
                }
            } else {
                let name = inner.split_whitespace().next().unwrap_or_default();
                let name = name.trim_end_matches('/');
                if stack.is_empty() {
                    if root.is_some() {
                        return Err("two root elements".into());
                    }
                    root = Some(name);
                }
                if !inner.ends_with('/') {
                    stack.push(name);
                }
            }
        }
        rest = &tail[end + close.len()..];
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> never closed"));
    }
    root.map(str::to_string).ok_or_else(|| "no root".into())
}

#[test]
fn xml_checker_catches_breakage() {
    assert_eq!(
        check_xml("<?xml version=\"1.0\"?><a x=\"1\"><b/><!-- <c> --></a>\n"),
        Ok("a".into())
    );
    assert!(check_xml("<a><b></a>").is_err());
    assert!(check_xml("<a>Tom & Jerry</a>").is_err());
    assert!(check_xml("<a></a><b></b>").is_err());
    assert!(check_xml("<a><b>").is_err());
}

/// Structural checks of a feed body in the given format; returns the item ids in order.
fn check_feed(format: FeedFormat, body: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(body).unwrap();
    match format {
        FeedFormat::Rss2 => {
            assert_eq!(check_xml(text).unwrap(), "rss");
            assert!(text.contains("<channel>") && text.contains("<atom:link "));
            between_all(text, "<guid isPermaLink=\"false\">", "</guid>")
        }
        FeedFormat::Atom => {
            assert_eq!(check_xml(text).unwrap(), "feed");
            assert!(text.contains("xmlns=\"http://www.w3.org/2005/Atom\""));
            between_all(text, "<id>urn:", "</id>")
                .into_iter()
                .map(|id| format!("urn:{id}"))
                .collect()
        }
        FeedFormat::JsonFeed => {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
            assert!(v["feed_url"].as_str().unwrap().ends_with("/feed.json"));
            let items = v["items"].as_array().unwrap();
            for item in items {
                for key in ["id", "url", "title", "content_html", "date_published"] {
                    assert!(item[key].is_string(), "item lacks {key}");
                }
                DateTime::parse_from_rfc3339(item["date_published"].as_str().unwrap()).unwrap();
                assert!(item["tags"].is_array() && item["authors"][0]["name"].is_string());
            }
            items
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect()
        }
    }
}

fn between_all(text: &str, open: &str, close: &str) -> Vec<String> {
    text.split(open)
        .skip(1)
        .map(|s| s[..s.find(close).unwrap()].to_string())
        .collect()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn same_seed_gives_the_same_documents() {
    let a = Blogosphere::start(config(12, 7)).await.unwrap();
    let b = Blogosphere::start(config(12, 7)).await.unwrap();
    let c = Blogosphere::start(config(12, 8)).await.unwrap();
    let mut differs = 0;
    for i in 0..a.len() {
        for (url_a, url_b, url_c) in [
            (a.feed_url(i), b.feed_url(i), c.feed_url(i)),
            (a.homepage_url(i), b.homepage_url(i), c.homepage_url(i)),
        ] {
            let (da, db, dc) = (get(&url_a).await, get(&url_b).await, get(&url_c).await);
            assert_eq!(da.status, 200);
            let (ta, tb) = (
                a.normalize_origins(&da.text()),
                b.normalize_origins(&db.text()),
            );
            assert_eq!(ta, tb, "blog {i} at {url_a}");
            if ta != c.normalize_origins(&dc.text()) {
                differs += 1;
            }
        }
        let posts = |s: &Blogosphere| format!("{:?}", s.posts(i));
        assert_eq!(
            a.normalize_origins(&posts(&a)),
            b.normalize_origins(&posts(&b))
        );
    }
    assert_eq!(differs, 2 * a.len(), "another seed gives other content");
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
}

#[tokio::test]
async fn every_format_is_well_formed_and_discoverable() {
    let sphere = Blogosphere::start(config(24, 3)).await.unwrap();
    let mut seen = std::collections::HashSet::new();
    for info in sphere.blogs() {
        seen.insert(info.format);
        let feed = get(&info.feed_url).await;
        assert_eq!(feed.status, 200);
        let mime = feed.header("content-type").unwrap();
        assert!(mime.starts_with(info.format.mime()), "{mime}");
        let ids = check_feed(info.format, &feed.body);
        let truth: Vec<String> = sphere
            .feed_posts(info.index)
            .into_iter()
            .map(|p| p.guid)
            .collect();
        assert_eq!(
            ids, truth,
            "feed of blog {} lists the newest posts",
            info.index
        );
        assert!(truth.len() <= 5);

        let home = get(&info.homepage_url).await;
        assert_eq!(home.status, 200);
        let html = home.text();
        let link = format!(
            "<link rel=\"alternate\" type=\"{}\" href=\"{}\"",
            info.format.mime(),
            info.format.path()
        );
        assert!(
            html.starts_with("<!DOCTYPE html>") && html.contains(&link),
            "{html}"
        );
        let all = sphere.posts(info.index);
        assert_eq!(
            html.matches("<li><time").count(),
            all.len(),
            "homepage lists all"
        );

        let newest = &all[0];
        let page = get(&newest.url).await;
        assert_eq!(page.status, 200);
        assert!(page.text().contains(&newest.html));
        assert!(info.feed_url.starts_with(&info.homepage_url));
    }
    assert_eq!(seen.len(), 3, "all three formats appear: {seen:?}");
    sphere.shutdown().await;
}

#[tokio::test]
async fn feeds_round_trip_through_a_real_parser() {
    let sphere = Blogosphere::start(config(24, 3)).await.unwrap();
    for info in sphere.blogs() {
        let body = get(&info.feed_url).await.body;
        let feed = feed_rs::parser::parse(&body[..]).unwrap();
        let truth = sphere.feed_posts(info.index);
        assert_eq!(feed.entries.len(), truth.len());
        for (entry, post) in feed.entries.iter().zip(&truth) {
            assert_eq!(entry.id, post.guid);
            assert_eq!(entry.title.as_ref().unwrap().content, post.title);
            assert_eq!(entry.published, Some(post.published), "{:?}", info.format);
            assert_eq!(entry.links[0].href, post.url);
            let terms: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, post.categories);
            let content = entry.content.as_ref().and_then(|c| c.body.as_deref());
            assert_eq!(content, Some(post.html.as_str()));
            assert_eq!(entry.authors[0].name.as_deref(), Some(post.author.as_str()));
        }
    }
    sphere.shutdown().await;
}

#[tokio::test]
async fn content_plants_communities() {
    let sphere = Blogosphere::start(config(36, 11)).await.unwrap();
    let blogs = sphere.blogs();
    let mut links = 0;
    let mut on_topic = 0;
    let mut total = 0;
    for info in &blogs {
        let topic = TOPICS.iter().find(|t| t.id == info.community).unwrap();
        assert_eq!(info.community, TOPICS[info.index % 6].id);
        for post in sphere.posts(info.index) {
            assert!((1..=5).contains(&post.categories.len()));
            total += 1;
            let normal = |c: &str| c.to_lowercase().replace(' ', "-");
            if post
                .categories
                .iter()
                .any(|c| topic.tags.contains(&normal(c).as_str()))
            {
                on_topic += 1;
            }
            for url in &post.links_to {
                links += 1;
                assert!(post.html.contains(&format!("href=\"{url}\"")));
                let target = blogs
                    .iter()
                    .find(|b| url.starts_with(&b.homepage_url))
                    .unwrap();
                assert_ne!(target.index, info.index);
                let communities = [Some(&info.community), info.second_community.as_ref()];
                assert!(communities.contains(&Some(&target.community)));
                let exists = sphere.posts(target.index).iter().any(|p| &p.url == url);
                assert!(exists, "{url} is a real post");
            }
        }
    }
    assert!(links > total / 4, "{links} cross-links in {total} posts");
    assert!(
        on_topic * 10 > total * 8,
        "{on_topic} of {total} posts tagged on topic"
    );
    sphere.shutdown().await;
}

#[tokio::test]
async fn conditional_get_and_gzip() {
    let sphere = Blogosphere::start(config(2, 5)).await.unwrap();
    let url = sphere.feed_url(0);
    let first = get(&url).await;
    let etag = first.header("etag").unwrap().to_string();
    let modified = first.header("last-modified").unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    assert!(modified.ends_with(" GMT"));

    let not_modified = get_with(&url, &[("If-None-Match", &etag)]).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let by_date = get_with(&url, &[("If-Modified-Since", &modified)]).await;
    assert_eq!(by_date.status, 304);
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(
        get_with(&url, &[("If-Modified-Since", old)]).await.status,
        200
    );
    let stale = [
        ("If-None-Match", "\"nope\""),
        ("If-Modified-Since", &modified),
    ];
    assert_eq!(get_with(&url, &stale).await.status, 200);

    let zipped = get_with(&url, &[("Accept-Encoding", "gzip, br")]).await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("Accept-Encoding"));
    assert!(zipped.body.len() < first.body.len());
    assert_eq!(gunzip(&zipped.body), first.body);
    assert_eq!(first.header("content-encoding"), None);

    let home = sphere.homepage_url(0);
    let page = get(&home).await;
    let again = get_with(&home, &[("If-None-Match", page.header("etag").unwrap())]).await;
    assert_eq!(again.status, 304);

    assert_eq!(get(&format!("{home}robots.txt")).await.status, 404);
    assert_eq!(get(&format!("{home}posts/nope.html")).await.status, 404);
    let head = request("HEAD", &url, &[]).await;
    assert_eq!((head.status, head.body.len()), (200, 0));

    let log = sphere.requests(0);
    assert_eq!(log.len(), sphere.request_count(0));
    assert_eq!(log[0].path, sphere.info(0).format.path());
    assert_eq!(log[0].user_agent.as_deref(), Some("kith-testkit-tests/1"));
    assert_eq!(log[1].if_none_match.as_deref(), Some(etag.as_str()));
    assert_eq!(log[2].if_modified_since.as_deref(), Some(modified.as_str()));
    assert!(
        log.iter()
            .any(|r| r.accept_encoding.as_deref() == Some("gzip, br"))
    );
    assert!(log.iter().any(|r| r.method == "HEAD"));
    sphere.shutdown().await;
}

#[tokio::test]
async fn publish_changes_the_feed_and_its_etag() {
    let sphere = Blogosphere::start(config(4, 9)).await.unwrap();
    let url = sphere.feed_url(1);
    let before = get(&url).await;
    let etag = before.header("etag").unwrap().to_string();
    let latest = sphere.posts(1)[0].clone();

    let new = sphere.publish(1, 2);
    assert_eq!(new.len(), 2);
    assert!(new[0].published > latest.published && new[1].published > new[0].published);
    assert_eq!(sphere.posts(1)[0], new[1]);
    assert_eq!(sphere.feed_posts(1).len(), 5);

    let after = get_with(&url, &[("If-None-Match", &etag)]).await;
    assert_eq!(after.status, 200, "the old ETag no longer matches");
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    let ids = check_feed(sphere.info(1).format, &after.body);
    assert_eq!(ids[..2], [new[1].guid.clone(), new[0].guid.clone()]);
    assert_eq!(get(&new[0].url).await.status, 200);
    assert_ne!(new[0].guid, latest.guid);

    // Content depends on the post's coordinates only: a twin blogosphere agrees.
    let twin = Blogosphere::start(config(4, 9)).await.unwrap();
    let twin_new = twin.publish(1, 2);
    assert_eq!(twin_new[1].guid, new[1].guid);
    assert_eq!(twin_new[1].title, new[1].title);
    assert_eq!(
        twin.normalize_origins(&twin_new[1].html),
        sphere.normalize_origins(&new[1].html)
    );

    let count_before: usize = (0..4).map(|b| sphere.posts(b).len()).sum();
    assert_eq!(sphere.tick(0.0), 0);
    assert_eq!(sphere.tick(1.0), 4);
    let count_after: usize = (0..4).map(|b| sphere.posts(b).len()).sum();
    assert_eq!(count_after, count_before + 4);
    sphere.shutdown().await;
    twin.shutdown().await;
}

#[tokio::test]
async fn behaviours() {
    let sphere = Blogosphere::start(config(10, 21)).await.unwrap();
    let feed = |b: usize| sphere.feed_url(b);

    sphere.set_behaviour(0, Behaviour::Status(503));
    let r = get(&feed(0)).await;
    assert_eq!(r.status, 503);
    assert!(!r.body.is_empty());
    assert_eq!(get(&sphere.homepage_url(0)).await.status, 503);

    sphere.set_behaviour(
        1,
        Behaviour::TooManyRequests {
            retry_after_secs: 120,
        },
    );
    let r = get(&feed(1)).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("120")));

    sphere.set_behaviour(
        2,
        Behaviour::Redirect {
            status: 301,
            to: feed(3),
        },
    );
    let r = get(&feed(2)).await;
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some(feed(3).as_str()))
    );
    let post = sphere.posts(2)[0].url.clone();
    assert_eq!(
        get(&post).await.status,
        200,
        "redirects apply to entry points only"
    );

    sphere.set_behaviour(3, Behaviour::Gone);
    assert_eq!(get(&feed(3)).await.status, 410);

    sphere.set_behaviour(4, Behaviour::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(get(&feed(4)).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let format = |b: usize| sphere.info(b).format;
    sphere.set_behaviour(5, Behaviour::Oversized { bytes: 300_000 });
    let r = get_with(&feed(5), &[("Accept-Encoding", "gzip")]).await;
    let body = gunzip(&r.body);
    assert!(
        body.len() >= 300_000 && r.body.len() > 200_000,
        "padding is incompressible"
    );
    check_feed(format(5), &body);

    sphere.set_behaviour(6, Behaviour::GzipBomb { bytes: 8 << 20 });
    let r = get(&feed(6)).await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert!(r.body.len() < 200_000, "{} compressed bytes", r.body.len());
    let inflated = gunzip(&r.body);
    assert_eq!(inflated.len(), 8 << 20);
    check_feed(format(6), &inflated);

    sphere.set_behaviour(7, Behaviour::Malformed);
    let r = get(&feed(7)).await;
    assert_eq!(r.status, 200);
    let broken = match std::str::from_utf8(&r.body) {
        Err(_) => true,
        Ok(text) => {
            check_xml(text).is_err() && serde_json::from_str::<serde_json::Value>(text).is_err()
        }
    };
    assert!(broken);

    sphere.set_behaviour(8, Behaviour::Endless);
    let (addr, path) = split_url(&feed(8));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut received = 0;
    let mut buf = vec![0; 64 * 1024];
    tokio::time::timeout(TIMEOUT, async {
        while received < 512 * 1024 {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the endless body ended");
            received += n;
        }
    })
    .await
    .unwrap();
    drop(stream);

    sphere.set_behaviour(0, Behaviour::Normal);
    assert_eq!(sphere.behaviour(0), Behaviour::Normal);
    assert_eq!(get(&feed(0)).await.status, 200);
    sphere.shutdown().await;
}

#[tokio::test]
async fn max_in_flight_sees_concurrency() {
    let sphere = Blogosphere::start(config(2, 1)).await.unwrap();
    sphere.set_behaviour(0, Behaviour::Slow(Duration::from_millis(600)));
    let url = sphere.feed_url(0);
    let requests: Vec<_> = (0..5)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { get(&url).await.status })
        })
        .collect();
    for r in requests {
        assert_eq!(r.await.unwrap(), 200);
    }
    assert_eq!(sphere.max_in_flight(0), 5);
    assert_eq!(sphere.request_count(0), 5);
    assert_eq!(sphere.max_in_flight(1), 0);

    // One at a time stays at one.
    sphere.reset_requests(0);
    sphere.set_behaviour(0, Behaviour::Normal);
    for _ in 0..3 {
        get(&url).await;
    }
    assert_eq!((sphere.max_in_flight(0), sphere.request_count(0)), (1, 3));
    sphere.shutdown().await;
}

#[tokio::test]
async fn static_site_serves_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("blog")).unwrap();
    std::fs::write(dir.path().join("feed.xml"), "<rss version=\"2.0\"></rss>").unwrap();
    std::fs::write(
        dir.path().join("blog/index.html"),
        "<!DOCTYPE html><title>x</title>",
    )
    .unwrap();
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","items":[]}"#;
    std::fs::write(dir.path().join("feed.json"), json).unwrap();

    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let site = StaticSite::serve(dir.path().to_path_buf(), addr)
        .await
        .unwrap();
    assert_ne!(site.addr().port(), 0);

    let xml = get(&site.url("/feed.xml")).await;
    assert_eq!(xml.status, 200);
    assert_eq!(xml.header("content-type"), Some("application/xml"));
    assert_eq!(xml.text(), "<rss version=\"2.0\"></rss>");
    let etag = xml.header("etag").unwrap();
    let cached = get_with(&site.url("feed.xml"), &[("If-None-Match", etag)]).await;
    assert_eq!(cached.status, 304);
    let modified = xml.header("last-modified").unwrap();
    let cached = get_with(&site.url("feed.xml"), &[("If-Modified-Since", modified)]).await;
    assert_eq!(cached.status, 304);

    let feed = get(&site.url("feed.json")).await;
    assert_eq!(feed.header("content-type"), Some("application/feed+json"));
    let index = get(&site.url("blog/")).await;
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(index.text().contains("<title>x</title>"));
    assert_eq!(get(&site.url("missing.xml")).await.status, 404);
    assert_eq!(get(&site.url("blog/../../etc/passwd")).await.status, 404);
    assert_eq!(site.request_count(), 7);

    let url = site.url("feed.xml");
    site.shutdown().await;
    let (addr, _) = split_url(&url);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "closed after shutdown"
    );
}

#[tokio::test]
async fn default_scale_starts_quickly() {
    let started = Instant::now();
    let config = BlogosphereConfig {
        now: fixed_now(),
        first_ip: Ipv4Addr::new(127, 11, 0, 1),
        ..BlogosphereConfig::default()
    };
    let sphere = Blogosphere::start(config).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(sphere.len(), 200);
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let communities: std::collections::HashSet<_> =
        sphere.blogs().into_iter().map(|b| b.community).collect();
    assert_eq!(communities.len(), 8);
    for b in [0, 99, 199] {
        assert_eq!(get(&sphere.feed_url(b)).await.status, 200);
    }
    assert!(sphere.opml().matches("<outline ").count() == 200);
    // The handle is cheap to share; dropping a clone leaves the servers running.
    let clone = sphere.clone();
    drop(clone);
    assert_eq!(get(&sphere.homepage_url(5)).await.status, 200);
    sphere.shutdown().await;
}
