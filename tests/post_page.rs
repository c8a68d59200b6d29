//! `/posts/{id}`, the permalink our feeds give each entry, over a real server and a
//! crawled blogosphere: the title linking to the original, the blog, the content, every
//! tag with why it is there, the post's hubs, the conversation around it (both ways), and
//! 404s for unknown posts and posts of blogs that are not public.

use crate::support::{Served, Site, TEST_CONFIG, attrs, blogosphere, get, page_when, sel, texts};
use kith_store::{SqliteStore, Store};
use scraper::Html;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_page_shows_the_post_its_tags_and_why_its_hubs_and_its_conversation() {
    let sphere = blogosphere(40, 23).await;
    let site = Site::new(&format!("{TEST_CONFIG}[communities]\nrecompute_secs = 1\n"));
    site.import_and_crawl(&sphere).await;
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    // An exchange between two blogs: `from` links to `to`.
    let reply = store
        .tagged_replies(true, 1)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the blogosphere's posts link to each other")
        .reply;
    let post = store
        .posts_by_ids(&[reply.to.id])
        .await
        .unwrap()
        .pop()
        .unwrap();
    let served = Served::start(&site).await;
    let base = served.base.clone();

    // The post: wait for hubs, so its hub tags link to their hubs.
    let path = format!("/posts/{}", post.id);
    let doc = page_when(&base, &path, |d| {
        d.select(&sel("#hubs-heading ~ ul a[href^='/hubs/']"))
            .next()
            .is_some()
            || post.tags.is_empty()
    })
    .await;
    let r = get(&base, &path).await;
    assert_eq!(r.headers()["cache-control"], "public, max-age=60");
    assert_eq!(doc.select(&sel("main h1")).count(), 1);
    assert_eq!(texts(&doc, "h1"), [post.title.as_str()]);
    assert_eq!(
        attrs(&doc, "h1 a", "href"),
        [post.url.clone().unwrap()],
        "the title links to the original"
    );
    assert_eq!(
        attrs(&doc, ".kicker a", "href"),
        [format!("/blogs/{}", post.blog_id)]
    );
    assert_eq!(texts(&doc, ".kicker a"), [post.blog_title.as_str()]);
    assert_eq!(
        attrs(&doc, ".page-head time", "datetime")[0],
        post.published.to_rfc3339()
    );
    if let Some(author) = &post.author {
        assert_eq!(texts(&doc, ".page-head .author"), [format!("by {author}")]);
    }
    assert_eq!(
        attrs(&doc, "link[rel=canonical]", "href"),
        [post.url.clone().unwrap()]
    );
    // The content as stored (sanitised), not only an excerpt.
    let content = texts(&doc, ".content").concat();
    let words: Vec<&str> = post.text.split_whitespace().collect();
    assert!(
        content.contains(words[words.len() - 1]),
        "the whole text is shown: {content:?} vs {:?}",
        post.text
    );
    assert!(doc.select(&sel(".content p")).count() >= 1);
    // Every tag, each saying why it is there.
    let tags = texts(&doc, ".why-list > li .why-label");
    assert_eq!(tags.len(), post.tags.len(), "{tags:?}");
    assert!(
        tags.iter()
            .all(|w| ["Author's category", "Curator's rule", "Keyword"].contains(&w.as_str())),
        "{tags:?}"
    );
    for (t, why) in post.tags.iter().zip(texts(&doc, ".why-list > li .why")) {
        if let Some(reason) = &t.reason {
            assert!(why.contains(reason.as_str()), "{why:?} lacks {reason:?}");
        }
    }
    // Its hubs link to their pages, and the hub's river links back here.
    let hubs = attrs(&doc, "#hubs-heading ~ ul a[href^='/hubs/']", "href");
    assert!(!hubs.is_empty(), "{}", doc.html());
    for h in &hubs {
        let tag = h.trim_start_matches("/hubs/");
        assert!(post.tags.iter().any(|t| t.tag == tag), "{h}");
        assert!(attrs(&doc, ".why-list a", "href").contains(h));
    }
    let hub = page_when(&base, &hubs[0], |d| {
        d.select(&sel(".river .post")).next().is_some()
    })
    .await;
    let permalinks = attrs(&hub, ".river .post a.permalink", "href");
    assert!(!permalinks.is_empty());
    assert!(permalinks.iter().all(|p| p.starts_with("/posts/")));
    let listed = Html::parse_document(&served.text(&format!("/blogs/{}", post.blog_id)).await);
    assert!(attrs(&listed, ".river a.permalink", "href").contains(&path));

    // The conversation, both ways.
    let incoming = attrs(&doc, ".conversations.incoming a[href^='/posts/']", "href");
    assert!(
        incoming.contains(&format!("/posts/{}", reply.from.id)),
        "{incoming:?}"
    );
    let from = Html::parse_document(&served.text(&format!("/posts/{}", reply.from.id)).await);
    let outgoing = attrs(&from, ".conversations.outgoing a[href^='/posts/']", "href");
    assert!(outgoing.contains(&path), "{outgoing:?}");
    assert!(
        texts(&from, ".conversations.outgoing li")
            .iter()
            .any(|l| l.contains(&post.title))
    );

    // Feeds give this page as each entry's id, and it is there.
    let atom = served.text("/feed.atom").await;
    let entry = &atom[atom.find("<entry>").expect("entries in the site feed")..];
    let id_at = entry.find("/posts/").unwrap() + "/posts/".len();
    let id: String = entry[id_at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(entry[id_at + id.len()..].starts_with("</id>"), "{entry}");
    assert_eq!(get(&base, &format!("/posts/{id}")).await.status(), 200);

    // Unknown posts, malformed ids, and posts of blogs that are not public are 404s.
    for path in ["/posts/999999", "/posts/abc", "/posts/0", "/posts/-3"] {
        let r = get(&base, path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().await.unwrap().contains("<h1>Page not found</h1>"));
    }
    store
        .set_status(post.blog_id, kith_model::BlogStatus::Pending)
        .await
        .unwrap();
    let r = get(&base, &path).await;
    assert_eq!(r.status(), 404, "a pending blog's post is not public");
    assert_eq!(r.headers()["cache-control"], "no-store");
    // …and it no longer shows in the conversation of the post that links to it.
    let from = served.text(&format!("/posts/{}", reply.from.id)).await;
    assert!(!from.contains(&format!("href=\"{path}\"")));

    served.stop().await;
    sphere.shutdown().await;
}

/// A feed whose post content is hostile, and has headings of its own.
const HOSTILE_FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Plain blog</title>
<link>http://HOST/</link>
<description>x</description>
<item><title>A post with &lt;b&gt;markup&lt;/b&gt;</title>
<link>http://HOST/a</link><guid>a-1</guid>
<pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>
<description>&lt;h1&gt;Big heading&lt;/h1&gt;&lt;p onclick="alert(1)"&gt;Hello &lt;script&gt;alert(2)&lt;/script&gt;
&lt;a href="javascript:alert(3)"&gt;bad link&lt;/a&gt; &lt;a href="https://example.org/x"&gt;good link&lt;/a&gt;&lt;/p&gt;
&lt;h4&gt;Small heading&lt;/h4&gt;&lt;img src="x" onerror="alert(4)" alt="pic"&gt;&lt;iframe src="https://evil.example/"&gt;&lt;/iframe&gt;</description></item>
</channel></rss>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_page_renders_only_sanitised_content_with_headings_under_its_title() {
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
    let site = Site::new(TEST_CONFIG);
    site.kith(&["blogs", "add", &fixture.url("/")]).await.ok();
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let served = Served::start(&site).await;

    let raw = served.text("/posts/1").await;
    for hostile in ["<script", "onclick", "onerror", "javascript:", "<iframe"] {
        assert!(!raw.contains(hostile), "{hostile} came through:\n{raw}");
    }
    let doc = Html::parse_document(&raw);
    assert_eq!(doc.select(&sel("h1")).count(), 1);
    assert!(texts(&doc, "h1")[0].starts_with("A post with"), "{raw}");
    assert_eq!(
        attrs(&doc, ".content a", "href"),
        ["https://example.org/x"],
        "{raw}"
    );
    // The javascript: link keeps its text, not its target.
    assert!(
        attrs(&doc, ".content a", "rel")
            .iter()
            .all(|r| r == "nofollow ugc noopener")
    );
    // The author's h1 and h4 become h3 and h4: one h1 on the page, no skipped levels.
    assert_eq!(doc.select(&sel("h1")).count(), 1);
    assert_eq!(texts(&doc, ".content h3"), ["Big heading"]);
    assert_eq!(texts(&doc, ".content h4"), ["Small heading"]);
    assert_eq!(attrs(&doc, ".content img", "alt"), ["pic"]);
    served.stop().await;
    fixture.shutdown().await;
}
