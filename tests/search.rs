//! The search index end to end: crawled posts are found by `kith search`, a rebuild equals
//! the incremental index, and a kill between index commits is repaired at the next start.

use crate::support::{Site, TEST_CONFIG, blogosphere, command, export};
use kith_index::{SearchIndex, SearchQuery, SearchSort};
use kith_model::PostId;
use kith_store::{SqliteStore, Store};
use kith_testkit::Behaviour;
use std::time::{Duration, Instant};

/// The first three words of a title, as a phrase query.
fn phrase_of(title: &str) -> Option<String> {
    let words: Vec<&str> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(3)
        .collect();
    (words.len() == 3).then(|| format!("\"{}\"", words.join(" ")))
}

async fn store_ids(site: &Site) -> Vec<PostId> {
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = store.posts_after(after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        ids.extend(page.iter().map(|p| p.id));
    }
    ids.sort();
    ids
}

fn index_root(site: &Site) -> std::path::PathBuf {
    site.config().data_dir.join("index")
}

/// What the index holds: every id; per query, the posts found (as a set: scores of an
/// index that saw updates count deleted documents until merges, so near-ties may swap)
/// and the newest ten in order.
type Snapshot = (Vec<PostId>, Vec<(Vec<PostId>, Vec<PostId>)>);

fn snapshot(site: &Site, queries: &[&str]) -> Snapshot {
    let index = SearchIndex::open(&index_root(site))
        .unwrap()
        .expect("an index");
    let run = |q: &str, sort: SearchSort, limit: usize| -> Vec<PostId> {
        index
            .search(&SearchQuery {
                q: q.to_string(),
                public_only: false,
                limit,
                sort,
                ..SearchQuery::default()
            })
            .unwrap()
            .hits
            .iter()
            .map(|h| h.post_id)
            .collect()
    };
    let tops = queries
        .iter()
        .map(|q| {
            let mut found = run(q, SearchSort::Relevance, 100);
            found.sort();
            (found, run(q, SearchSort::Newest, 10))
        })
        .collect();
    (index.all_ids().unwrap(), tops)
}

async fn crawled_site(blogs: usize, seed: u64) -> (Site, kith_testkit::Blogosphere) {
    let sphere = blogosphere(blogs, seed).await;
    let site = Site::new(TEST_CONFIG);
    std::fs::write(site.path().join("sphere.opml"), sphere.opml()).unwrap();
    site.kith(&["opml", "import", "sphere.opml"]).await.ok();
    site.kith(&["crawl", "--once"]).await.ok();
    (site, sphere)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kith_search_finds_crawled_posts_filters_them_and_rejects_bad_queries() {
    let (site, sphere) = crawled_site(10, 51).await;
    let posts = export(&site).await;
    assert!(!posts.is_empty());
    let post = posts
        .iter()
        .find(|p| phrase_of(p["title"].as_str().unwrap()).is_some())
        .expect("a post with a title of three words");
    let title = post["title"].as_str().unwrap();
    let phrase = phrase_of(title).unwrap();

    // The crawl left the index up to date: the phrase finds the post.
    let run = site.kith(&["search", &phrase, "--json"]).await;
    run.ok();
    let found: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hits = found["hits"].as_array().unwrap();
    assert!(
        hits.iter().any(|h| h["url"] == post["url"]),
        "{phrase} should find {}: {}",
        post["url"],
        run.stdout
    );
    let hit = hits.iter().find(|h| h["url"] == post["url"]).unwrap();
    assert!(hit["title_html"].as_str().unwrap().contains("<b>"), "{hit}");
    assert_eq!(hit["blog_url"], post["blog_url"]);

    // Human output: title with marks, blog, date.
    let run = site.kith(&["search", &phrase]).await;
    run.ok();
    assert!(run.stdout.contains("posts match"), "{}", run.stdout);
    assert!(
        run.stdout.contains('*'),
        "highlights as plain marks: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains(post["blog_title"].as_str().unwrap()),
        "{}",
        run.stdout
    );

    // A tag filter keeps only posts with the tag.
    let tag = posts
        .iter()
        .flat_map(|p| p["tags"].as_array().unwrap().iter())
        .find_map(|t| t["tag"].as_str())
        .expect("some tagged post")
        .to_owned();
    let word = title
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| w.len() > 3)
        .unwrap_or("the");
    let run = site.kith(&["search", "", "--tag", &tag, "--json"]).await;
    run.ok();
    let tagged: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let expected = posts
        .iter()
        .filter(|p| {
            p["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["tag"] == tag.as_str())
        })
        .count();
    assert_eq!(
        tagged["total"].as_u64().unwrap() as usize,
        expected,
        "{tag}"
    );
    for h in tagged["hits"].as_array().unwrap() {
        assert!(
            h["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == tag.as_str())
        );
    }
    let run = site
        .kith(&["search", word, "--sort", "newest", "--json"])
        .await;
    run.ok();
    let newest: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let dates: Vec<&str> = newest["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["published"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");

    // Bad queries and bad flags: exit 2 with a reason, nothing changed.
    for (args, reason) in [
        (&["search", "\"unclosed"][..], "bad search query"),
        (&["search", "--", "-onlyexcluded"], "add at least one word"),
        (&["search", "nosuchfield:x"], "nosuchfield"),
        (&["search", "rust", "--since", "last tuesday"], "--since"),
        (&["search", "rust", "--page", "0"], "--page"),
        (&["search", "rust", "--blog", "999999"], "no blog"),
    ] {
        let run = site.kith(args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(reason), "{args:?}: {}", run.stderr);
    }

    // Removing the blog removes its posts from the results.
    let blog_url = post["blog_url"].as_str().unwrap();
    site.kith(&["blogs", "remove", blog_url]).await.ok();
    let run = site.kith(&["search", &phrase, "--json"]).await;
    run.ok();
    let after: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        after["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["blog_url"] != blog_url),
        "{}",
        run.stdout
    );
    assert_eq!(snapshot(&site, &[]).0, store_ids(&site).await);
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_equals_the_incremental_index() {
    let (site, sphere) = crawled_site(12, 52).await;
    let posts = export(&site).await;
    let mut queries: Vec<String> = posts
        .iter()
        .take(5)
        .filter_map(|p| phrase_of(p["title"].as_str()?))
        .collect();
    queries.extend(["the".to_string(), "post OR blog".to_string()]);
    let queries: Vec<&str> = queries.iter().map(String::as_str).collect();
    let incremental = snapshot(&site, &queries);
    assert_eq!(
        incremental.0,
        store_ids(&site).await,
        "the crawl indexed every post"
    );
    let old_dir = SearchIndex::open(&index_root(&site))
        .unwrap()
        .unwrap()
        .dir();

    let run = site.kith(&["reindex"]).await;
    run.ok();
    assert!(
        run.stdout
            .contains(&format!("Reindexed {} posts", posts.len())),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("docs/s"), "{}", run.stdout);
    let rebuilt = SearchIndex::open(&index_root(&site)).unwrap().unwrap();
    assert_ne!(rebuilt.dir(), old_dir, "a new generation was swapped in");
    assert!(!old_dir.exists(), "the old generation is gone");
    assert_eq!(snapshot(&site, &queries), incremental);
    sphere.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_index_commits_is_repaired_at_the_next_start() {
    let sphere = blogosphere(30, 53).await;
    // Most blogs answer slowly, so the crawl goes on well past the first index commit
    // (every 2 s) when it is killed.
    for i in (0..sphere.len()).filter(|i| i % 3 != 0) {
        sphere.set_behaviour(i, Behaviour::Slow(Duration::from_secs(6)));
    }
    let site = Site::new(TEST_CONFIG);
    std::fs::write(site.path().join("sphere.opml"), sphere.opml()).unwrap();
    site.kith(&["opml", "import", "sphere.opml"]).await.ok();
    let root = index_root(&site);

    let mut crawl = command(site.path(), &["crawl", "--once"], &[])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let committed = SearchIndex::open(&root)
            .ok()
            .flatten()
            .is_some_and(|ix| ix.num_docs() > 0);
        if committed {
            break;
        }
        assert!(Instant::now() < deadline, "no index commit in 30 s");
        assert!(
            crawl.try_wait().unwrap().is_none(),
            "the crawl ended before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crawl.start_kill().unwrap(); // SIGKILL between commits: no final commit
    crawl.wait().await.unwrap();
    let stored = store_ids(&site).await;
    let (indexed, _) = snapshot(&site, &[]);
    assert!(!indexed.is_empty());
    assert!(
        indexed.iter().all(|id| stored.binary_search(id).is_ok()),
        "the index holds only stored posts"
    );
    eprintln!(
        "killed with {} posts stored and {} indexed",
        stored.len(),
        indexed.len()
    );

    // Meanwhile, with no Kith running, a blog is removed from the store.
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let first_blog = store.blogs().await.unwrap()[0].id;
    store.remove_blog(first_blog).await.unwrap();
    drop(store);

    // The next command that opens the index checks it and repairs it.
    let run = site.kith(&["search", "the", "--json"]).await;
    run.ok();
    let stored = store_ids(&site).await;
    assert_eq!(snapshot(&site, &[]).0, stored, "index and store agree");

    // And finishing the crawl keeps them in step.
    for i in 0..sphere.len() {
        sphere.set_behaviour(i, Behaviour::Normal);
    }
    site.kith(&["crawl", "--once"]).await.ok();
    let stored = store_ids(&site).await;
    assert!(stored.len() > indexed.len());
    assert_eq!(snapshot(&site, &[]).0, stored);
    sphere.shutdown().await;
}
