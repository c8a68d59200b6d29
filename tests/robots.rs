//! robots.txt decisions live in the store (issue 15): a second `kith crawl --once` (cron)
//! asks no site for its robots.txt while the first run's answer holds, and a stale answer
//! is refreshed with a conditional GET.

use crate::support::{Site, TEST_CONFIG, blogosphere};
use kith_store::Store;
use kith_testkit::StaticSite;
use std::net::{Ipv4Addr, SocketAddr};

fn robots_requests(records: &[kith_testkit::RequestRecord]) -> usize {
    records.iter().filter(|r| r.path == "/robots.txt").count()
}

#[tokio::test]
async fn crawl_runs_share_robots_decisions_through_the_store() {
    let sphere = blogosphere(6, 71).await;
    let site = Site::new(TEST_CONFIG);
    site.import_and_crawl(&sphere).await;
    let first: Vec<usize> = (0..sphere.len())
        .map(|i| robots_requests(&sphere.requests(i)))
        .collect();
    assert!(
        first.iter().all(|&n| n == 1),
        "one robots.txt per host: {first:?}"
    );
    let feeds_before: usize = (0..sphere.len()).map(|i| sphere.request_count(i)).sum();
    // Another process, as cron runs it: polls every feed, asks no robots.txt.
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let second: Vec<usize> = (0..sphere.len())
        .map(|i| robots_requests(&sphere.requests(i)))
        .collect();
    assert_eq!(first, second, "robots.txt asked again");
    let feeds_after: usize = (0..sphere.len()).map(|i| sphere.request_count(i)).sum();
    assert_eq!(
        feeds_after - feeds_before,
        sphere.len(),
        "one poll per feed"
    );
}

#[tokio::test]
async fn a_stale_robots_decision_is_refreshed_conditionally() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("robots.txt"),
        "User-agent: *\nDisallow: /private/\n",
    )
    .unwrap();
    let served = StaticSite::serve(
        root.path().to_owned(),
        SocketAddr::from((Ipv4Addr::new(127, 64, 0, 9), 0)),
    )
    .await
    .unwrap();
    std::fs::write(
        root.path().join("feed.xml"),
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>R</title>\
             <link>{}</link><description>d</description><item><title>One</title>\
             <guid>r1</guid><link>{}</link><description>x</description></item>\
             </channel></rss>",
            served.url("/"),
            served.url("/p/1")
        ),
    )
    .unwrap();
    let site = Site::new(TEST_CONFIG);
    site.kith(&["blogs", "add", &served.url("/feed.xml")])
        .await
        .ok();
    let asked = |s: &kith_testkit::StaticSiteHandle| -> Vec<Option<String>> {
        s.requests()
            .into_iter()
            .filter(|r| r.path == "/robots.txt")
            .map(|r| r.if_none_match)
            .collect()
    };
    assert_eq!(asked(&served), [None], "read once, unconditionally");
    // The decision grows stale (as after a day): the next run asks again, conditionally.
    let store = kith_store::SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let origin = served.url("/").trim_end_matches('/').to_owned();
    let mut kept = store
        .robots(&origin)
        .await
        .unwrap()
        .expect("kept in the store");
    assert!(kept.etag.is_some(), "{kept:?}");
    kept.expires_at = chrono::Utc::now() - chrono::Duration::hours(1);
    store.save_robots(kept).await.unwrap();
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let asked_now = asked(&served);
    assert_eq!(asked_now.len(), 2, "{asked_now:?}");
    assert!(asked_now[1].is_some(), "not conditional: {asked_now:?}");
    let renewed = store.robots(&origin).await.unwrap().unwrap();
    assert!(renewed.expires_at > chrono::Utc::now() + chrono::Duration::hours(23));
    // A private page stays refused under the kept file.
    let private = site
        .kith(&["blogs", "add", &served.url("/private/feed.xml")])
        .await;
    assert_ne!(private.code, 0);
    assert!(private.stderr.contains("robots.txt"), "{}", private.stderr);
    served.shutdown().await;
}
