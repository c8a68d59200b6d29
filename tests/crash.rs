//! A killed process loses no committed post and restarts cleanly.

use crate::support::{Site, TEST_CONFIG, blogosphere, command, export};
use kith_store::{SqliteStore, Store};
use kith_testkit::Behaviour;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_a_crawl_then_restart() {
    let sphere = blogosphere(24, 21).await;
    // A third of the blogs answer slowly, so the crawl is surely mid-way when killed.
    for i in (0..sphere.len()).step_by(3) {
        sphere.set_behaviour(i, Behaviour::Slow(Duration::from_secs(3)));
    }
    let site = Site::new(TEST_CONFIG);
    std::fs::write(site.path().join("sphere.opml"), sphere.opml()).unwrap();
    site.kith(&["opml", "import", "sphere.opml"]).await.ok();
    let total: usize = (0..sphere.len()).map(|i| sphere.feed_posts(i).len()).sum();

    let mut crawl = command(site.path(), &["crawl", "--once"], &[])
        .spawn()
        .unwrap();
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.counts().await.unwrap().posts == 0 {
        assert!(
            Instant::now() < deadline,
            "the crawl stored nothing in 30 s"
        );
        assert!(
            crawl.try_wait().unwrap().is_none(),
            "the crawl ended before any post was seen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crawl.start_kill().unwrap(); // SIGKILL: no cleanup, no flush
    crawl.wait().await.unwrap();
    let committed = store.counts().await.unwrap().posts as usize;
    assert!(
        committed > 0 && committed < total,
        "killed mid-crawl: {committed} of {total}"
    );
    drop(store);

    // Restart: the polls that did not commit are still due; finishing stores every post once.
    for i in 0..sphere.len() {
        sphere.set_behaviour(i, Behaviour::Normal);
    }
    site.kith(&["crawl", "--once"]).await.ok();
    let posts = export(&site).await;
    assert_eq!(posts.len(), total);
    let keys: BTreeSet<(String, String)> = posts
        .iter()
        .map(|p| (p["feed_url"].to_string(), p["guid"].to_string()))
        .collect();
    assert_eq!(keys.len(), total, "no post stored twice");
    let run = site.kith(&["crawl", "--once"]).await;
    assert!(
        run.ok().stdout.starts_with("polled 0 feeds"),
        "all caught up: {}",
        run.stdout
    );
    sphere.shutdown().await;
}
