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

/// Issue 15: twenty SIGKILLs at random moments of crawls, re-tags and re-indexes (rounds
/// whose process ended before its kill do not count). After each round, a restart (a crawl to the end, which checks and repairs the index) has lost no
/// committed post, stored none twice, and the index holds exactly the store's public posts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_during_crawl_retag_and_reindex() {
    let sphere = blogosphere(12, 33).await;
    let site = Site::new(&format!("tags_file = \"tags.toml\"\n{TEST_CONFIG}"));
    let tags_file = site.path().join("tags.toml");
    std::fs::write(&tags_file, "stop_tags = []\n").unwrap();
    site.import_and_crawl(&sphere).await;
    // Rules that change what posts carry, toggled between rounds so re-tags rewrite.
    let hubs = site.kith(&["hubs", "--json"]).await;
    let hubs: serde_json::Value = serde_json::from_str(&hubs.ok().stdout).unwrap();
    let stops: Vec<String> = hubs
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|h| format!("{:?}", h["tag"].as_str().unwrap()))
        .collect();
    assert_eq!(stops.len(), 2, "the blogosphere has hubs");
    let keys = |posts: &[serde_json::Value]| -> BTreeSet<(String, String)> {
        posts
            .iter()
            .map(|p| (p["feed_url"].to_string(), p["guid"].to_string()))
            .collect()
    };
    let first = export(&site).await;
    let mut kept = keys(&first);
    assert_eq!(kept.len(), first.len());
    // A small deterministic generator: the same moments on every run.
    let mut seed = 15u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut killed = 0;
    let mut round = 0;
    while killed < 20 {
        round += 1;
        assert!(
            round <= 80,
            "only {killed} kills landed mid-run in 80 rounds"
        );
        for b in 0..sphere.len() {
            if next(3) == 0 {
                sphere.publish(b, 2);
            }
        }
        let stop_tags = if round % 2 == 0 {
            stops.join(", ")
        } else {
            String::new()
        };
        std::fs::write(&tags_file, format!("stop_tags = [{stop_tags}]\n")).unwrap();
        let args: &[&str] = match round % 3 {
            0 => &["crawl", "--once", "--all"],
            1 => &["retag", "--batch", "5"],
            _ => &["reindex"],
        };
        let mut child = command(site.path(), args, &[]).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(10 + next(250))).await;
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        child.start_kill().ok(); // SIGKILL: no cleanup, no flush
        child.wait().await.unwrap();

        site.kith(&["crawl", "--once"]).await.ok();
        let posts = export(&site).await;
        let now = keys(&posts);
        assert_eq!(
            now.len(),
            posts.len(),
            "round {round} ({args:?}): a post stored twice"
        );
        let lost: Vec<_> = kept.difference(&now).collect();
        assert!(lost.is_empty(), "round {round} ({args:?}): lost {lost:?}");
        kept = now;
        // The index holds exactly the store's public posts (every blog here is public).
        let store = SqliteStore::open(site.config().database_path())
            .await
            .unwrap();
        let mut stored: Vec<i64> = store
            .latest_posts(kith_store::PostQuery {
                limit: 1_000_000,
                ..kith_store::PostQuery::default()
            })
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.0)
            .collect();
        drop(store);
        stored.sort_unstable();
        let index = kith_index::SearchIndex::open(&site.config().data_dir.join("index"))
            .unwrap()
            .expect("the index exists");
        let mut indexed: Vec<i64> = index.all_ids().unwrap().iter().map(|p| p.0).collect();
        indexed.sort_unstable();
        assert_eq!(
            indexed, stored,
            "round {round} ({args:?}): index and store differ"
        );
    }
    eprintln!("{killed} processes killed mid-run in {round} rounds");
    sphere.shutdown().await;
}
