//! Nothing is skipped in silence (issue 15): a feed whose entries are other members' posts
//! stores none of them, and its health says how many were left out and whose they are,
//! on the blog's page, in `kith blogs list` and in the API.

use crate::support::{Served, Site, TEST_CONFIG, get, page_when, texts};
use kith_testkit::StaticSite;
use std::net::{Ipv4Addr, SocketAddr};

fn rss(title: &str, home: &str, items: &[(&str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, link)| {
            format!(
                "<item><title>Post {guid}</title><guid isPermaLink=\"false\">{guid}</guid>\
                 <link>{link}</link><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>\
                 <description>Words about sourdough and starters.</description></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>\
         <link>{home}</link><description>d</description>{items}</channel></rss>"
    )
}

#[tokio::test]
async fn a_feed_of_other_blogs_posts_says_what_it_left_out() {
    let root = tempfile::tempdir().unwrap();
    let (orig_dir, copy_dir) = (root.path().join("orig"), root.path().join("copy"));
    std::fs::create_dir_all(&orig_dir).unwrap();
    std::fs::create_dir_all(&copy_dir).unwrap();
    let orig = StaticSite::serve(
        orig_dir.clone(),
        SocketAddr::from((Ipv4Addr::new(127, 64, 0, 1), 0)),
    )
    .await
    .unwrap();
    let copy = StaticSite::serve(
        copy_dir.clone(),
        SocketAddr::from((Ipv4Addr::new(127, 64, 0, 2), 0)),
    )
    .await
    .unwrap();
    let links: Vec<String> = (1..=3).map(|i| orig.url(&format!("/posts/{i}"))).collect();
    std::fs::write(
        orig_dir.join("feed.xml"),
        rss(
            "The original",
            &orig.url("/"),
            &[("o1", &links[0]), ("o2", &links[1]), ("o3", &links[2])],
        ),
    )
    .unwrap();
    std::fs::write(
        copy_dir.join("feed.xml"),
        rss(
            "The copy",
            &copy.url("/"),
            &[("c1", &links[0]), ("c2", &links[1]), ("c3", &links[2])],
        ),
    )
    .unwrap();

    let site = Site::new(TEST_CONFIG);
    site.kith(&["blogs", "add", &orig.url("/feed.xml")])
        .await
        .ok();
    site.kith(&["blogs", "add", &copy.url("/feed.xml")])
        .await
        .ok();
    // Read again: the notes hold on every read, not only the first.
    site.kith(&["crawl", "--once", "--all"]).await.ok();

    let blogs = crate::communities::json(&site.kith(&["blogs", "list", "--json"]).await);
    let blogs = blogs.as_array().unwrap();
    let (orig_id, copy_b) = (
        blogs[0]["id"].as_i64().unwrap(),
        blogs.iter().find(|b| b["title"] == "The copy").unwrap(),
    );
    let notes = copy_b["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{copy_b}");
    let note = notes[0].as_str().unwrap();
    assert!(
        note.starts_with(&format!(
            "3 entries skipped: they are already stored as blog #{orig_id}'s posts"
        )),
        "{note}"
    );
    assert!(blogs[0]["notes"].as_array().unwrap().is_empty());
    let text = site.kith(&["blogs", "list"]).await;
    assert!(
        text.ok().stdout.contains("left out: 3 entries skipped"),
        "{}",
        text.stdout
    );

    let served = Served::start(&site).await;
    let copy_id = copy_b["id"].as_i64().unwrap();
    let page = page_when(&served.base, &format!("/blogs/{copy_id}"), |_| true).await;
    let shown = texts(&page, ".health .notes li");
    assert_eq!(shown, [note.to_owned()]);
    let summary = texts(&page, "#health");
    assert!(summary[0].contains("entries left out"), "{summary:?}");
    let api = get(&served.base, &format!("/api/v1/blogs/{copy_id}")).await;
    let api: serde_json::Value = serde_json::from_str(&api.text().await.unwrap()).unwrap();
    assert_eq!(api["feed_health"]["notes"][0], note);
    served.stop().await;
    orig.shutdown().await;
    copy.shutdown().await;
}

/// A 2 MB title, a 1.5 MB body and 300 categories are stored cut to their limits, and the
/// blog's health says what was cut.
#[tokio::test]
async fn oversized_fields_are_cut_and_said() {
    let root = tempfile::tempdir().unwrap();
    let site_dir = root.path().join("big");
    std::fs::create_dir_all(&site_dir).unwrap();
    let big = StaticSite::serve(
        site_dir.clone(),
        SocketAddr::from((Ipv4Addr::new(127, 64, 0, 3), 0)),
    )
    .await
    .unwrap();
    let categories: String = (0..300)
        .map(|i| format!("<category>topic {i}</category>"))
        .collect();
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Big</title>\
         <link>{home}</link><description>d</description>\
         <item><title>{title}</title><guid>big-1</guid><link>{home}p/1</link>\
         <pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>{categories}\
         <description>{body}</description></item>\
         <item><title>Small</title><guid>small-1</guid><link>{home}p/2</link>\
         <pubDate>Mon, 02 Nov 2026 11:00:00 GMT</pubDate><description>Fine.</description></item>\
         </channel></rss>",
        home = big.url("/"),
        title = "Long title ".repeat(200_000),
        body = "&lt;p&gt;words and more words&lt;/p&gt;".repeat(40_000),
    );
    std::fs::write(site_dir.join("feed.xml"), feed).unwrap();
    let site = Site::new(TEST_CONFIG);
    site.kith(&["blogs", "add", &big.url("/feed.xml")])
        .await
        .ok();
    let posts = crate::support::export(&site).await;
    let post = posts.iter().find(|p| p["guid"] == "big-1").unwrap();
    let title = post["title"].as_str().unwrap();
    assert_eq!(title.chars().count(), 500, "{}", &title[..80]);
    assert!(title.ends_with('…'));
    let html = post["content_html"].as_str().unwrap();
    assert!(html.len() <= 512 * 1024 + 1024, "{} bytes", html.len());
    assert!(html.len() > 400 * 1024, "{} bytes", html.len());
    let small = posts.iter().find(|p| p["guid"] == "small-1").unwrap();
    assert_eq!(small["title"], "Small");

    let blogs = crate::communities::json(&site.kith(&["blogs", "list", "--json"]).await);
    let notes: Vec<&str> = blogs[0]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.contains(&"the title of 1 entry: cut to 500 characters (crawl.max_title_chars)"),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("the content of 1 entry: cut to 524288 bytes"))
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("the categories of 1 entry: cut to the first 50"))
    );
    big.shutdown().await;
}
