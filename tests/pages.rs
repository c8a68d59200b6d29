//! The HTML pages over a real server and really crawled data: a simulated blogosphere
//! registered and read with the `kith` binary, then served by `kith::serve_on`.
//!
//! Pages are read the way a browser reads them (parsed with `scraper`) and checked for
//! what a person expects on each; hostile strings from a feed must come out escaped.

use crate::support::{
    Served, Site, TEST_CONFIG, attrs, blogosphere, get, get_with, page_when, sel, texts,
};
use scraper::Html;
use std::time::Duration;

/// Hubs are recomputed at once when the server starts; no need to wait for the schedule.
fn config() -> String {
    format!("{TEST_CONFIG}[communities]\nrecompute_secs = 1\n")
}

/// A post linking to a post of another blog: the URLs of both, and both posts' tags.
struct Exchange {
    urls: [String; 2],
    tags: Vec<String>,
}

/// Every exchange between public blogs, newest first, read post by post through each
/// post's own links (`Store::post_replies`), not the query hubs' conversations come from.
async fn exchanges_between_blogs(site: &Site) -> Vec<Exchange> {
    use kith_store::{PostQuery, SqliteStore, Store};
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let mut posts = Vec::new();
    loop {
        let batch = store
            .latest_posts(PostQuery {
                limit: 200,
                before: posts.last().map(|p: &kith_model::Post| (p.published, p.id)),
                ..PostQuery::default()
            })
            .await
            .unwrap();
        if batch.is_empty() {
            break;
        }
        posts.extend(batch);
    }
    let tags: std::collections::HashMap<_, Vec<String>> = posts
        .iter()
        .map(|p| (p.id, p.tags.iter().map(|t| t.tag.clone()).collect()))
        .collect();
    let mut out = Vec::new();
    // Newest first, as `latest_posts` gives them (ties by id, newest first, too).
    for p in &posts {
        let mut answered = store.post_replies(p.id, true, 1_000).await.unwrap();
        answered.retain(|r| r.from.id == p.id && r.to.blog_id != p.blog_id);
        answered.sort_by_key(|r| r.to.id);
        for r in answered {
            let mut both = tags[&r.from.id].clone();
            both.extend(tags[&r.to.id].iter().cloned());
            out.push(Exchange {
                urls: [r.from.url.unwrap(), r.to.url.unwrap()],
                tags: both,
            });
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_community_and_blog_pages_of_a_crawled_blogosphere() {
    let sphere = blogosphere(60, 11).await;
    let site = Site::new(&config());
    site.import_and_crawl(&sphere).await;
    let served = Served::start(&site).await;
    let base = served.base.clone();

    // The hubs index lists every hub, most bloggers first.
    let hubs = page_when(&served.base, "/hubs", |d| {
        !attrs(d, "table.list a[href^='/hubs/']", "href").is_empty()
    })
    .await;
    let hub_links = attrs(&hubs, "table.list th a[href^='/hubs/']", "href");
    assert!(hub_links.len() >= 3, "{hub_links:?}");

    // The front page: search box, communities with their top hubs, the latest posts.
    let home = get(&base, "/").await;
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["cache-control"], "public, max-age=60");
    let home = Html::parse_document(&home.text().await.unwrap());
    assert_eq!(attrs(&home, "form[role=search]", "action"), ["/search"]);
    assert_eq!(attrs(&home, "form[role=search] input", "name"), ["q"]);
    assert_eq!(attrs(&home, "label[for=q]", "for"), ["q"]);
    let communities = attrs(&home, ".card a.card-title", "href");
    assert!(!communities.is_empty(), "{}", home.html());
    assert!(
        home.select(&sel(".card .count"))
            .all(|e| e.text().collect::<String>().contains("member"))
    );
    assert!(home.select(&sel(".card .inline-list a")).count() >= 2);
    assert_eq!(home.select(&sel(".river .post")).count(), 30);
    assert_eq!(home.select(&sel("main h1")).count(), 1);

    // A hub: its river (each post saying why it is here), members by role, related hubs,
    // the weekly chart, conversations, subscribe links.
    let hub_path = &hub_links[0];
    let hub = page_when(&served.base, hub_path, |d| {
        d.select(&sel(".river .post")).count() > 0
    })
    .await;
    assert_eq!(hub.select(&sel("main h1")).count(), 1);
    let posts = hub.select(&sel(".river .post")).count();
    let why = texts(&hub, ".river .post .why-label");
    assert_eq!(why.len(), posts, "every post says why it is here");
    assert!(
        why.iter()
            .all(|w| ["Author's category", "Curator's rule", "Keyword"].contains(&w.as_str()))
    );
    for w in texts(&hub, ".river .post .why") {
        // The provenance in words: the feed category, the rule or the keyword evidence.
        assert!(w.len() > "Keyword ".len() + 3, "{w:?}");
    }
    // Authors' own categories make hubs too, and say so.
    let mut by_author = false;
    for path in &hub_links {
        let doc = Html::parse_document(&served.text(path).await);
        let whys = texts(&doc, ".river .post .why");
        if let Some(w) = whys.iter().find(|w| w.starts_with("Author's category")) {
            assert!(w.contains("feed category"), "{w}");
            by_author = true;
            break;
        }
        for w in whys.iter().filter(|w| w.starts_with("Keyword")) {
            assert!(w.contains("score 0.") || w.contains("score 1.00"), "{w}");
        }
    }
    assert!(by_author, "no hub lists a post tagged by its author");
    let roles = texts(&hub, "#members ~ ul.members .role");
    assert!(!roles.is_empty());
    assert!(
        roles
            .iter()
            .all(|r| ["core", "active", "peripheral"].contains(&r.as_str()))
    );
    assert!(
        roles.iter().any(|r| r == "core"),
        "a busy hub has a core: {roles:?}"
    );
    assert!(
        hub.select(&sel("ul.members a[href^='/blogs/']"))
            .all(|a| !a.text().collect::<String>().starts_with("Blog #")),
        "members are named by their blogs' titles"
    );
    assert!(!attrs(&hub, ".related a[href^='/hubs/']", "href").is_empty());
    // The chart: an image with a title and a description, and the numbers as a table.
    let chart = hub.select(&sel("svg.chart")).next().expect("a chart");
    assert_eq!(chart.value().attr("role"), Some("img"));
    assert!(hub.select(&sel("svg.chart title")).count() > 1);
    assert!(hub.select(&sel("svg.chart rect.bar")).count() >= 12);
    let weeks: u32 = texts(&hub, "table.numbers tbody td:nth-child(2)")
        .iter()
        .map(|n| n.parse::<u32>().unwrap())
        .sum();
    assert!(weeks > 0);
    assert!(hub.select(&sel("#conversations")).count() == 1);
    // Each hub's conversations (computed with the hubs) are its 8 newest exchanges between
    // blogs where either post carries its tag: as each post's own links tell them.
    let exchanges = exchanges_between_blogs(&site).await;
    let mut shown = 0;
    for path in &hub_links {
        let tag = path.trim_start_matches("/hubs/");
        let mut want: Vec<&Exchange> = exchanges
            .iter()
            .filter(|e| e.tags.iter().any(|t| t == tag))
            .collect();
        want.truncate(8);
        let want: Vec<[String; 2]> = want.iter().map(|e| e.urls.clone()).collect();
        let doc = Html::parse_document(&served.text(path).await);
        let got: Vec<[String; 2]> = doc
            .select(&sel("ul.conversations li"))
            .map(|li| {
                let urls = attrs(&Html::parse_fragment(&li.html()), "a[rel~=ugc]", "href");
                [urls[0].clone(), urls[1].clone()]
            })
            .collect();
        assert_eq!(got, want, "{path}");
        shown += got.len();
    }
    assert!(
        exchanges.len() > 8 && shown > 8,
        "the blogosphere's bloggers answer each other: {} exchanges, {shown} shown",
        exchanges.len()
    );
    let tag = hub_path.trim_start_matches("/hubs/");
    for (kind, path) in [
        ("atom", "feed.atom"),
        ("rss", "feed.rss"),
        ("json", "feed.json"),
        ("opml", "blogroll.opml"),
    ] {
        let want = format!("/hubs/{tag}/{path}");
        assert!(
            attrs(&hub, ".subscribe a", "href").contains(&want),
            "{kind}: {want}"
        );
    }
    assert!(
        attrs(&hub, "head link[rel=alternate]", "href").contains(&format!("/hubs/{tag}/feed.atom"))
    );

    // The hub with the most posts pages its river: 30 a page, the rest on older pages,
    // no post twice. (The index fills in just after start: wait until it holds them all.)
    let rows: Vec<(String, usize)> = hubs
        .select(&sel("table.list tbody tr"))
        .map(|tr| {
            let a = tr.select(&sel("th a")).next().unwrap();
            let posts = tr
                .select(&sel("td"))
                .nth(1)
                .unwrap()
                .text()
                .collect::<String>();
            (
                a.value().attr("href").unwrap().to_owned(),
                posts.trim().parse().unwrap(),
            )
        })
        .collect();
    let (big, total) = rows.iter().max_by_key(|r| r.1).unwrap().clone();
    assert!(total > 30, "{rows:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut seen: Vec<String> = Vec::new();
        let mut path = big.clone();
        loop {
            let doc = Html::parse_document(&served.text(&path).await);
            let ids = attrs(&doc, ".river .post article", "aria-labelledby");
            assert!(ids.len() <= 30);
            assert!(ids.iter().all(|id| !seen.contains(id)), "pages overlap");
            seen.extend(ids);
            match attrs(&doc, "a[rel=next]", "href").pop() {
                Some(next) => path = next,
                None => break,
            }
        }
        // The river may hold older posts than the hub's window counts, never fewer.
        if seen.len() >= total {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{big}: {} posts in its pages, {total} in the hub",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        get(&base, &format!("{hub_path}?before=nonsense"))
            .await
            .status(),
        400
    );

    // A tag in another form goes to its hub; an unknown tag is a 404 with suggestions.
    let upper = hub_path.to_uppercase().replace("/HUBS/", "/hubs/");
    if upper != *hub_path {
        let r = get(&base, &upper).await;
        assert_eq!(r.status(), 308, "{upper}");
        assert_eq!(r.headers()["location"], hub_path.as_str());
    }
    let typo = format!("/hubs/{}x", tag);
    let r = get(&base, &typo).await;
    assert_eq!(r.status(), 404);
    let missing = Html::parse_document(&r.text().await.unwrap());
    assert!(attrs(&missing, "main a[href^='/hubs/']", "href").contains(hub_path));

    // A community: hubs, members with roles and shares, the map, feed links.
    let community = Html::parse_document(&served.text(&communities[0]).await);
    assert!(
        community
            .select(&sel("#hubs ~ ul a[href^='/hubs/']"))
            .count()
            >= 2
    );
    let members = texts(&community, "#members ~ ul.members li");
    assert!(!members.is_empty());
    assert!(
        members.iter().all(|m| m.contains("% of their writing")),
        "{members:?}"
    );
    let map = community.select(&sel("svg.map")).next().expect("a map");
    assert_eq!(map.value().attr("role"), Some("img"));
    assert!(community.select(&sel("svg.map circle")).count() >= 2);
    assert!(community.select(&sel("svg.map line")).count() >= 1);
    let id = communities[0].trim_start_matches("/communities/");
    assert!(
        attrs(&community, ".subscribe a", "href").contains(&format!("/communities/{id}/feed.atom"))
    );

    // A blog: its posts, its hubs and communities with roles, its feed health.
    let member = attrs(&hub, "ul.members a[href^='/blogs/']", "href")
        .into_iter()
        .next()
        .unwrap();
    let blog = Html::parse_document(&served.text(&member).await);
    assert!(blog.select(&sel(".river .post")).count() >= 3);
    assert!(attrs(&blog, "#hubs ~ ul.members a", "href").contains(hub_path));
    assert!(!texts(&blog, "#hubs ~ ul.members .role").is_empty());
    assert_eq!(texts(&blog, "#health"), ["Feed health: working"]);
    let last_success = &texts(&blog, ".facts dd")[1];
    assert!(
        last_success.starts_with("just now") || last_success.contains(" ago ("),
        "{last_success}"
    );

    // The other pages, and 404s for what is not there.
    for path in ["/communities", "/about"] {
        let r = get(&base, path).await;
        assert_eq!(r.status(), 200, "{path}");
        let doc = Html::parse_document(&r.text().await.unwrap());
        assert_eq!(doc.select(&sel("main h1")).count(), 1, "{path}");
    }
    for path in [
        "/communities/no-such-community",
        "/blogs/99999",
        "/blogs/abc",
        "/blogs/-1",
    ] {
        let r = get(&base, path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().await.unwrap().contains("<h1>Page not found</h1>"));
    }

    served.stop().await;
    sphere.shutdown().await;
}

/// A feed whose titles, categories and links are hostile.
const HOSTILE_FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>&lt;b onmouseover="alert(1)"&gt;Evil&lt;/b&gt; blog</title>
<link>http://HOST/</link>
<description>x</description>
<item><title>&lt;script&gt;alert("title")&lt;/script&gt; &amp; friends</title>
<link>javascript:alert(2)</link><guid>evil-1</guid>
<pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>
<category>&lt;img src=x onerror=alert(3)&gt;</category>
<description>&lt;p&gt;Hello &lt;script&gt;alert(4)&lt;/script&gt; world&lt;/p&gt;</description></item>
<item><title>1 &lt; 2 &amp;&amp; "3" &gt; 2</title><link>http://HOST/plain</link><guid>evil-2</guid>
<pubDate>Tue, 04 Mar 2025 10:00:00 GMT</pubDate><description>plain</description></item>
</channel></rss>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blog_page_shows_feed_health_and_escapes_what_feeds_say() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        kith_testkit::StaticSite::serve(dir.path().to_owned(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let host = fixture.addr().to_string();
    std::fs::write(
        dir.path().join("index.html"),
        "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\"></head><body>hi</body></html>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("feed.xml"),
        HOSTILE_FEED.replace("HOST", &host),
    )
    .unwrap();

    let site = Site::new(&config());
    site.kith(&["blogs", "add", &fixture.url("/")]).await.ok();
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    // The feed disappears: the next poll fails with a 404.
    std::fs::remove_file(dir.path().join("feed.xml")).unwrap();
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let listed: serde_json::Value =
        serde_json::from_str(&site.kith(&["blogs", "list", "--json"]).await.stdout).unwrap();
    let error = listed[0]["last_error"].as_str().unwrap().to_owned();
    let id = listed[0]["id"].as_i64().unwrap();

    let served = Served::start(&site).await;
    let raw = served.text(&format!("/blogs/{id}")).await;
    for hostile in [
        "<script>alert",
        "<b onmouseover",
        "<img src=x",
        "javascript:alert",
    ] {
        assert!(!raw.contains(hostile), "{hostile} came through:\n{raw}");
    }
    // A category that is only markup is no tag (issue 15): neither it nor its text is
    // shown, not even escaped.
    assert!(
        !raw.contains("onerror"),
        "the category came through:\n{raw}"
    );
    // What survives the crawler's sanitiser as text is shown as text: a title with markup
    // characters, the blog's title.
    assert!(raw.contains("1 &lt; 2 &amp;&amp; "), "{raw}");
    let blog = Html::parse_document(&raw);
    assert_eq!(texts(&blog, "h1"), [listed[0]["title"].as_str().unwrap()]);
    let titles = texts(&blog, ".post-title");
    assert!(
        titles.contains(&"1 < 2 && \"3\" > 2".to_owned()),
        "{titles:?}"
    );
    // The javascript: link is not a link.
    assert_eq!(blog.select(&sel(".post-title a")).count(), 1);
    // The health box: the last error in the crawler's plain words, one error in a row,
    // and when the feed was last read.
    assert_eq!(
        texts(&blog, "#health"),
        ["Feed health: had a problem on the last check"]
    );
    let facts: Vec<(String, String)> = texts(&blog, ".facts dt")
        .into_iter()
        .zip(texts(&blog, ".facts dd"))
        .collect();
    let fact = |k: &str| {
        facts
            .iter()
            .find(|(dt, _)| dt == k)
            .map(|(_, dd)| dd.clone())
            .unwrap_or_else(|| panic!("no {k}: {facts:?}"))
    };
    assert_eq!(fact("Last error"), error);
    assert!(error.contains("404"), "{error}");
    assert_eq!(fact("Errors in a row"), "1");
    assert_ne!(fact("Last read successfully"), "never");
    assert!(fact("Last checked").contains("(HTTP 404)"));
    assert!(
        fact("Next check").starts_with("in "),
        "{}",
        fact("Next check")
    );
    // The posts are still there, escaped, their unsafe link dropped.
    assert_eq!(blog.select(&sel(".river .post")).count(), 2);

    // The same strings on the front page.
    let home = served.text("/").await;
    for hostile in [
        "<script>alert",
        "<b onmouseover",
        "<img src=x",
        "javascript:alert",
    ] {
        assert!(!home.contains(hostile), "{hostile} came through on /");
    }
    served.stop().await;
    fixture.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_blog_shows_how_to_verify_it_instead_of_posts() {
    let sphere = blogosphere(1, 5).await;
    let site = Site::new(&format!(
        "{}\n",
        config().replace(
            "require_verification = false",
            "require_verification = true"
        )
    ));
    site.kith(&["blogs", "add", &sphere.homepage_url(0)])
        .await
        .ok();
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let served = Served::start(&site).await;
    let r = get(&served.base, "/blogs/1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let blog = Html::parse_document(&r.text().await.unwrap());
    assert_eq!(
        texts(&blog, "#verify"),
        ["Waiting for the owner to verify this blog"]
    );
    let code = texts(&blog, ".notice code");
    assert!(
        code[0].starts_with("<meta name=\"kith-verification\" content=\""),
        "{code:?}"
    );
    assert_eq!(
        blog.select(&sel(".river")).count(),
        0,
        "no posts before verification"
    );
    assert_eq!(texts(&blog, "#health"), ["Feed health: working"]);
    served.stop().await;
    sphere.shutdown().await;
}

/// Pages everyone reads alike come from the response cache: each carries an `ETag`, a
/// reader who has it gets 304 without a body, and a crawl (another process) that stores
/// new posts shows them as soon as the index commits them, under a new `ETag`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_pages_answer_304_and_show_new_posts_after_a_crawl() {
    let sphere = blogosphere(8, 29).await;
    let site = Site::new(&config());
    site.import_and_crawl(&sphere).await;
    let served = Served::start(&site).await;
    let base = served.base.clone();
    page_when(&served.base, "/", |d| {
        !attrs(d, "a[href^='/hubs/']", "href").is_empty()
    })
    .await;

    let first = get(&base, "/").await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let gzip = ("accept-encoding", "gzip");
    let again = get_with(&base, "/", &[gzip, ("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    // Answered in front of the other middleware, it still carries the security headers
    // and is counted under its route.
    assert!(again.headers().contains_key("content-security-policy"));
    assert!(again.bytes().await.unwrap().is_empty());
    let metrics = get(&base, "/metrics").await.text().await.unwrap();
    let counted = metrics
        .lines()
        .find(|l| {
            l.starts_with("kith_http_request_duration_seconds_count{")
                && l.contains("route=\"/\"")
                && l.contains("status=\"304\"")
        })
        .unwrap_or_else(|| panic!("no 304 latency for /:\n{metrics}"));
    assert!(counted.ends_with(" 1"), "{counted}");

    // A client that accepts gzip (every browser) is sent the kept page gzipped, the same
    // bytes once unzipped, under the weak form of the ETag; a miss and a hit alike.
    let home = get(&base, "/").await.text().await.unwrap();
    let gunzip = |b: &[u8]| {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(b), &mut out).unwrap();
        out
    };
    let strong = get_with(&base, "/", &[]).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(etag, format!("W/{strong}"), "reqwest asks for gzip");
    let mut hub_path = None;
    for path in ["/", "/", "/about"] {
        let r = get_with(&base, path, &[("accept-encoding", "br;q=1, gzip;q=0.8")]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-encoding"], "gzip", "{path}");
        let vary = r.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
        assert!(vary.contains("accept-encoding"), "{path}: {vary}");
        let weak = r.headers()["etag"].to_str().unwrap().to_owned();
        let zipped = r.bytes().await.unwrap();
        let body = gunzip(&zipped);
        if path == "/" {
            assert_eq!(weak, etag);
            assert_eq!(body, home);
            hub_path = attrs(&Html::parse_document(&body), "a[href^='/hubs/']", "href")
                .into_iter()
                .next();
        }
        assert!(weak.starts_with("W/\""), "{path}: {weak}");
        let again = get_with(&base, path, &[gzip, ("if-none-match", &weak)]).await;
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), weak);
        // A 304 may only state the length the 200 would have had (RFC 9110, 8.6). hyper
        // leaves it out over HTTP/1.1; over HTTP/2 it is sent as given.
        let h2 = reqwest::Client::builder()
            .http2_prior_knowledge()
            .no_gzip()
            .build()
            .unwrap()
            .get(format!("{base}{path}"))
            .header("accept-encoding", "gzip")
            .header("if-none-match", &weak)
            .send()
            .await
            .unwrap();
        assert_eq!(h2.version(), reqwest::Version::HTTP_2);
        assert_eq!(h2.status(), 304, "{path}");
        assert_eq!(
            h2.headers()["content-length"].to_str().unwrap(),
            zipped.len().to_string(),
            "{path}"
        );
    }
    // An unknown hub is a 404 however often it is asked for (the cache keeps it as one).
    for _ in 0..3 {
        let missing = get_with(&base, "/hubs/no-such-hub-here", &[gzip]).await;
        assert_eq!(missing.status(), 404);
        let page = gunzip(&missing.bytes().await.unwrap());
        assert!(page.contains("no-such-hub-here"), "{page}");
    }
    // A HEAD is answered as the GET would be, without the body.
    let head = reqwest::Client::new()
        .head(format!("{base}/about"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let about = get(&base, "/about").await;
    assert_eq!(head.headers()["etag"], about.headers()["etag"]);
    assert_eq!(
        head.headers()["content-type"],
        about.headers()["content-type"]
    );
    assert!(head.bytes().await.unwrap().is_empty());
    // Refused gzip (q=0) or no Accept-Encoding: the page as it is.
    for accept in [Some("gzip;q=0, identity"), None] {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("accept-encoding", a)).into_iter().collect();
        let r = get_with(&base, "/", &headers).await;
        assert!(r.headers().get("content-encoding").is_none(), "{accept:?}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), strong);
        assert_eq!(r.text().await.unwrap(), home);
    }
    // Pages the cache does not keep are still compressed by the middleware.
    let hub = hub_path.expect("the home page links to a hub");
    let hub_page = get(&base, &hub).await.text().await.unwrap();
    let member = attrs(
        &Html::parse_document(&hub_page),
        "ul.members a[href^='/blogs/']",
        "href",
    )
    .into_iter()
    .next()
    .expect("the hub lists members");
    let blog = get_with(&base, &member, &[gzip]).await;
    assert_eq!(blog.status(), 200);
    assert_eq!(blog.headers()["content-encoding"], "gzip");
    assert!(gunzip(&blog.bytes().await.unwrap()).contains("<html"));
    // Another reader's validator does not match.
    // A tracking parameter the page ignores shares its entry: the same validator.
    let tracked = get_with(
        &base,
        "/?utm_source=feed",
        &[gzip, ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(tracked.status(), 304);
    let other = get_with(&base, "/", &[gzip, ("if-none-match", "\"someone-else\"")]).await;
    assert_eq!(other.status(), 200);

    let new: Vec<String> = sphere.publish(0, 1).into_iter().map(|p| p.url).collect();
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let home = page_when(&served.base, "/", |d| {
        attrs(d, "a[href]", "href").iter().any(|h| new.contains(h))
    })
    .await;
    assert!(!home.html().is_empty());
    let now = get(&base, "/").await;
    assert_ne!(now.headers()["etag"].to_str().unwrap(), etag);
    // The old validator no longer matches what is served.
    let stale = get_with(&base, "/", &[gzip, ("if-none-match", &etag)]).await;
    assert_eq!(stale.status(), 200);
    assert_ne!(stale.headers()["etag"].to_str().unwrap(), etag);
    served.stop().await;
}
