//! Kith on a shared PostgreSQL store, with the real binary: a crawl worker fills the store,
//! and two web nodes, each with its own data directory and search index, serve what it
//! stored. Runs when `KITH_TEST_POSTGRES` names a server (each run makes its own
//! database); says it skipped otherwise.

use crate::support::{Site, TEST_CONFIG, blogosphere, command, html_escaped, run_kith};
use kith_store::testing::TestDatabase;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

/// `kith serve --no-crawl --listen 127.0.0.1:0` in `dir`; the process and its address.
async fn web_node(dir: &std::path::Path, url: &str) -> (tokio::process::Child, String) {
    let mut child = command(
        dir,
        &["serve", "--no-crawl", "--listen", "127.0.0.1:0"],
        &[("KITH_STORE_URL", url)],
    )
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await
        else {
            break;
        };
        if let Some(rest) = line.split("serving http://").nth(1) {
            let addr = rest.split('/').next().unwrap().to_owned();
            // Keep draining stderr so the node never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, format!("http://{addr}"));
        }
    }
    panic!("the web node did not say where it serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_worker_and_two_web_nodes_share_one_postgres_store() {
    let Some(db) = TestDatabase::create("a crawl worker and two web nodes").await else {
        return;
    };
    let url = db.url().to_owned();
    let env = [("KITH_STORE_URL", url.as_str())];
    let sphere = blogosphere(6, 131).await;
    let worker = Site::new(TEST_CONFIG);
    std::fs::write(worker.path().join("sphere.opml"), sphere.opml()).unwrap();
    run_kith(worker.path(), &["opml", "import", "sphere.opml"], &env)
        .await
        .ok();
    run_kith(worker.path(), &["crawl", "--once", "--all"], &env)
        .await
        .ok();
    assert!(
        !worker.config().database_path().exists(),
        "nothing went to SQLite"
    );

    // Another machine's view of the same store.
    let node_a = Site::new(TEST_CONFIG);
    let node_b = Site::new(TEST_CONFIG);
    let exported = run_kith(node_a.path(), &["export", "--jsonl"], &env).await;
    exported.ok();
    let posts: Vec<serde_json::Value> = exported
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(posts.len() >= 6 * 3, "{} posts", posts.len());
    let title = posts[0]["title"].as_str().unwrap().to_owned();
    let word = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 4)
        .max_by_key(|w| w.len())
        .unwrap()
        .to_lowercase();

    let (mut a, base_a) = web_node(node_a.path(), &url).await;
    let (mut b, base_b) = web_node(node_b.path(), &url).await;
    for base in [&base_a, &base_b] {
        // Each node builds its own index from the store, then serves from it.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = reqwest::get(format!("{base}/search?q={word}"))
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            // Found: the title among the results (the query word is highlighted in it).
            if status.is_success() && text_of(&body).contains(&html_escaped(&title)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{base} never found {title:?} by {word:?}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let home = reqwest::get(format!("{base}/")).await.unwrap();
        assert!(home.status().is_success());
    }
    // Hubs are computed once, by whichever node leads, and served by both: the two report
    // the same stored generation (each computing its own would store two).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut generations = Vec::new();
        for base in [&base_a, &base_b] {
            let body = reqwest::get(format!("{base}/readyz"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let r: serde_json::Value = serde_json::from_str(&body).unwrap();
            generations.push(r["hubs_generation"].as_i64());
        }
        if generations[0].is_some() && generations[0] == generations[1] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the nodes never served one generation: {generations:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(node_a.path().join("data/index").is_dir());
    assert!(node_b.path().join("data/index").is_dir());
    a.kill().await.unwrap();
    b.kill().await.unwrap();
}

/// Three `kith crawl --once --all` started together on one store split the sweep: every
/// feed is fetched once, not three times, and every post is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_workers_started_together_split_one_sweep() {
    let Some(db) = TestDatabase::create("crawl workers split a sweep").await else {
        return;
    };
    let url = db.url().to_owned();
    let env = [("KITH_STORE_URL", url.as_str())];
    let sphere = blogosphere(30, 137).await;
    let setup = Site::new(TEST_CONFIG);
    std::fs::write(setup.path().join("sphere.opml"), sphere.opml()).unwrap();
    run_kith(setup.path(), &["opml", "import", "sphere.opml"], &env)
        .await
        .ok();
    // `opml import` reads each feed once to register it: count from here.
    for i in 0..sphere.len() {
        sphere.reset_requests(i);
    }
    let workers: Vec<Site> = (0..3).map(|_| Site::new(TEST_CONFIG)).collect();
    let runs: Vec<_> = workers
        .iter()
        .map(|w| run_kith(w.path(), &["crawl", "--once", "--all", "--json"], &env))
        .collect();
    let runs = futures::future::join_all(runs).await;
    let mut polled = 0;
    for run in &runs {
        run.ok();
        let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        polled += summary["polled"].as_u64().unwrap();
    }
    assert_eq!(polled, sphere.len() as u64, "every feed polled once in all");
    for i in 0..sphere.len() {
        let info = sphere.info(i);
        let feed_path = url::Url::parse(&info.feed_url).unwrap().path().to_owned();
        let fetches = sphere
            .requests(i)
            .iter()
            .filter(|r| r.path == feed_path)
            .count();
        assert_eq!(fetches, 1, "blog {i}'s feed was fetched {fetches} times");
    }
    let exported = run_kith(setup.path(), &["export", "--jsonl"], &env).await;
    exported.ok();
    let mut guids: Vec<String> = exported
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{}|{}", v["blog_id"], v["guid"])
        })
        .collect();
    let n = guids.len();
    guids.sort();
    guids.dedup();
    assert_eq!(guids.len(), n, "no post stored twice");
}

/// The page without its tags.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
