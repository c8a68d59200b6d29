//! The thin slice: register a blog over real loopback HTTP, read its feed, store it, show it.

use crate::support::{Served, Site, TEST_CONFIG, blogosphere, export, html_escaped};
use kith_model::normalize_tag;
use serde_json::Value;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_blog_is_read_stored_and_shown() {
    let sphere = blogosphere(3, 11).await;
    let site = Site::new(TEST_CONFIG);

    // By homepage (the feed is discovered) and by feed URL.
    let run = site.kith(&["blogs", "add", &sphere.homepage_url(0)]).await;
    run.ok();
    assert!(run.stdout.contains("Added blog #1"), "{}", run.stdout);
    site.kith(&["blogs", "add", &sphere.feed_url(1)]).await.ok();

    // The same blogs again, spelled differently: refused, nothing changes.
    for again in [format!("{}/", sphere.feed_url(1)), sphere.homepage_url(0)] {
        let run = site.kith(&["blogs", "add", &again]).await;
        assert_eq!(run.code, 2, "{again}: {run:?}");
        assert!(run.stderr.contains("already registered"), "{}", run.stderr);
    }

    let list: Vec<Value> =
        serde_json::from_str(&site.kith(&["blogs", "list", "--json"]).await.ok().stdout).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["feed_url"],
        sphere.feed_url(0),
        "discovered from the homepage"
    );
    assert_eq!(list[0]["homepage_url"], sphere.homepage_url(0));
    assert_eq!(list[0]["title"], sphere.info(0).name);
    for b in &list {
        assert_eq!(b["status"], "verified");
        assert_eq!(b["health"], "ok");
        assert!(b["id"].is_i64());
    }

    // Exactly the feeds' posts were stored, with their dates and the authors' categories.
    let tagger = kith_tag::Tagger::new(&kith_config::TagRules::default()).unwrap();
    let posts = export(&site).await;
    let expected: Vec<_> = sphere
        .feed_posts(0)
        .into_iter()
        .chain(sphere.feed_posts(1))
        .collect();
    assert_eq!(posts.len(), expected.len());
    for sim in &expected {
        let got = posts
            .iter()
            .find(|p| p["guid"] == sim.guid.as_str())
            .unwrap_or_else(|| panic!("{} missing", sim.guid));
        assert_eq!(got["title"], sim.title.as_str());
        assert_eq!(got["url"], sim.url.as_str());
        assert_eq!(got["author"], sim.author.as_str());
        assert_eq!(got["language"], "eng");
        let published =
            chrono::DateTime::parse_from_rfc3339(got["published"].as_str().unwrap()).unwrap();
        assert_eq!(published.timestamp(), sim.published.timestamp());
        // The author's categories (minus stop-tags such as "Uncategorized") come first,
        // then extracted keywords; every tag says why it is there.
        let want: BTreeSet<String> = sim
            .categories
            .iter()
            .filter_map(|c| tagger.canonical(c))
            .collect();
        let tags = got["tags"].as_array().unwrap();
        let have: BTreeSet<String> = tags
            .iter()
            .filter(|t| t["source"] == "author")
            .map(|t| t["tag"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(have, want, "author tags of {}", sim.title);
        assert!(tags.len() <= 8, "at most eight tags");
        assert!(
            tags.iter().any(|t| t["source"] == "extracted"),
            "keywords fill in: {tags:?}"
        );
        for t in tags {
            assert!(t["reason"].as_str().is_some_and(|r| !r.is_empty()), "{t}");
        }
        let sources: Vec<&str> = tags.iter().map(|t| t["source"].as_str().unwrap()).collect();
        let author_first = sources
            .iter()
            .rposition(|s| *s == "author")
            .map_or(0, |i| i + 1);
        assert!(
            sources[author_first..].iter().all(|s| *s != "author"),
            "{sources:?}"
        );
        for key in ["blog_url", "feed_url"] {
            assert!(
                got[key]
                    .as_str()
                    .is_some_and(|s| s.starts_with("http://127.")),
                "{key}"
            );
        }
    }

    // The site lists them, newest first, with blog, date and categories.
    let served = Served::start(&site).await;
    let body = served.text("/").await;
    let mut newest = expected.clone();
    newest.sort_by_key(|p| std::cmp::Reverse(p.published));
    let first = body
        .find(&html_escaped(&newest[0].title))
        .expect("newest post listed");
    let second = body
        .find(&html_escaped(&newest[1].title))
        .expect("second post listed");
    assert!(first < second, "newest first");
    assert!(
        body.contains(&html_escaped(&sphere.info(0).name)),
        "blog title shown"
    );
    let tag = normalize_tag(&newest[0].categories[0]).unwrap();
    assert!(
        body.contains(&format!(">{}</li>", html_escaped(&tag))),
        "category {tag} shown"
    );
    assert!(body.contains(&format!(
        "datetime=\"{}",
        newest[0].published.format("%Y-%m-%dT%H:%M:%S")
    )));
    served.stop().await;
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawling_again_is_conditional_and_finds_new_posts() {
    let sphere = blogosphere(2, 12).await;
    let site = Site::new(TEST_CONFIG);
    for i in 0..2 {
        site.kith(&["blogs", "add", &sphere.homepage_url(i)])
            .await
            .ok();
    }
    let before = export(&site).await.len();

    let summary = site.kith(&["crawl", "--once", "--all", "--json"]).await;
    let s: Value = serde_json::from_str(&summary.ok().stdout).unwrap();
    assert_eq!(s["polled"], 2);
    assert_eq!(s["not_modified"], 2, "{s}");
    let feed_path = |i: usize| {
        url::Url::parse(&sphere.feed_url(i))
            .unwrap()
            .path()
            .to_owned()
    };
    let last = sphere
        .requests(0)
        .into_iter()
        .rev()
        .find(|r| r.path == feed_path(0))
        .unwrap();
    assert!(last.if_none_match.is_some(), "sent If-None-Match");
    assert!(last.if_modified_since.is_some(), "sent If-Modified-Since");
    assert!(
        last.user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("Kith/"))
    );

    sphere.publish(0, 2);
    let s: Value = serde_json::from_str(
        &site
            .kith(&["crawl", "--once", "--all", "--json"])
            .await
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(s["fetched"], 1, "{s}");
    assert_eq!(s["not_modified"], 1, "{s}");
    assert_eq!(s["new_posts"], 2, "{s}");
    assert_eq!(export(&site).await.len(), before + 2);

    // Without --all only due feeds are polled, and none is due right after a poll.
    let run = site.kith(&["crawl", "--once"]).await;
    assert!(
        run.ok().stdout.starts_with("polled 0 feeds"),
        "{}",
        run.stdout
    );
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opml_round_trips_between_hubs() {
    let sphere = blogosphere(4, 13).await;
    let a = Site::new(TEST_CONFIG);
    std::fs::write(a.path().join("sphere.opml"), sphere.opml()).unwrap();
    let run = a.kith(&["opml", "import", "sphere.opml"]).await;
    assert!(
        run.ok().stdout.contains("Imported 4 blogs"),
        "{}",
        run.stdout
    );
    let run = a.kith(&["opml", "import", "sphere.opml"]).await;
    assert!(
        run.ok()
            .stdout
            .contains("Imported 0 blogs from sphere.opml (4 already registered"),
        "{}",
        run.stdout
    );
    let s: Value =
        serde_json::from_str(&a.kith(&["crawl", "--once", "--json"]).await.ok().stdout).unwrap();
    assert_eq!(s["fetched"], 4, "imported feeds are due at once: {s}");
    let total: usize = (0..4).map(|i| sphere.feed_posts(i).len()).sum();
    assert_eq!(export(&a).await.len(), total);

    let b = Site::new(TEST_CONFIG);
    a.kith(&[
        "opml",
        "export",
        "-o",
        b.path().join("a.opml").to_str().unwrap(),
    ])
    .await
    .ok();
    b.kith(&["opml", "import", "a.opml"]).await.ok();
    b.kith(&["crawl", "--once"]).await.ok();
    let titles = |site: &Site| {
        let site_path = site.path().to_owned();
        async move {
            let run = crate::support::run_kith(&site_path, &["blogs", "list", "--json"], &[]).await;
            let list: Vec<Value> = serde_json::from_str(&run.ok().stdout).unwrap();
            list.iter()
                .map(|b| (b["feed_url"].to_string(), b["title"].to_string()))
                .collect::<BTreeSet<_>>()
        }
    };
    assert_eq!(titles(&a).await, titles(&b).await);
    assert_eq!(export(&b).await.len(), total);
    sphere.shutdown().await;
}

/// With verification required, a new blog is crawled but stays off the public pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_blogs_are_not_public() {
    let sphere = blogosphere(1, 14).await;
    let site = Site::new(&TEST_CONFIG.replace(
        "require_verification = false",
        "require_verification = true",
    ));
    let run = site.kith(&["blogs", "add", &sphere.homepage_url(0)]).await;
    assert!(
        run.ok().stdout.contains("kith-verification"),
        "instructions shown: {}",
        run.stdout
    );
    let run = site.kith(&["blogs", "verify", "1"]).await;
    assert!(run.ok().stdout.contains("not found yet"), "{}", run.stdout);
    let list: Vec<Value> =
        serde_json::from_str(&site.kith(&["blogs", "list", "--json"]).await.ok().stdout).unwrap();
    assert_eq!(list[0]["status"], "pending");
    assert!(!export(&site).await.is_empty(), "its posts are stored");

    let served = Served::start(&site).await;
    let body = served.text("/").await;
    assert!(body.contains("No posts yet"), "{body}");
    assert!(!body.contains(&html_escaped(&sphere.feed_posts(0)[0].title)));
    served.stop().await;
    sphere.shutdown().await;
}
