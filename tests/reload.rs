//! A running `kith serve` picks up an edited tags.toml; a broken edit is refused and the
//! rules in force stay.

use crate::support::{Site, command};
use kith_store::{SqliteStore, Store};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

const CONFIG: &str = r#"
data_dir = "data"
tags_file = "tags.toml"
[web]
listen = "127.0.0.1:0"
[crawl]
allowed_networks = ["127.0.0.0/8"]
per_host_delay_ms = 0
timeout_secs = 5
connect_timeout_secs = 2
sweep_every_secs = 1
websub = false
[registration]
require_verification = false
"#;

const PHRASE_RULE: &str = "[[phrase]]\nphrase = \"quantum teapot\"\ntag = \"teapot-physics\"\n";

/// Publishes blog `i` (its feed holds one post, about the teapot when `i` is even) and
/// registers it with `kith opml import`, which only stores the blog: the running server's
/// next sweep finds it due and reads it, tagging its post with the rules in force there.
async fn new_blog(site: &Site, dir: &Path, base: &str, i: usize) {
    let about = if i.is_multiple_of(2) {
        "the quantum teapot experiment"
    } else {
        "sourdough hydration"
    };
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Blog {i}</title>\
         <link>{base}</link><description>a test blog</description>\
         <item><title>Post {i}: notes</title><link>{base}posts/{i}</link>\
         <guid>{base}posts/{i}</guid><pubDate>02 Nov 2026 10:00:00 GMT</pubDate>\
         <description>Today I wrote about {about}, at some length. \
         Another paragraph about {about} follows here.</description></item>\
         </channel></rss>"
    );
    std::fs::write(dir.join(format!("feed{i}.xml")), feed).unwrap();
    let opml = format!(
        "<?xml version=\"1.0\"?><opml version=\"2.0\"><head><title>t</title></head><body>\
         <outline text=\"Blog {i}\" type=\"rss\" xmlUrl=\"{base}feed{i}.xml\"/></body></opml>"
    );
    std::fs::write(site.path().join(format!("blog{i}.opml")), opml).unwrap();
    site.kith(&["opml", "import", &format!("blog{i}.opml")])
        .await
        .ok();
}

/// The rule tags of the stored post `posts/{i}`, once it is stored.
async fn wait_for_post(store: &SqliteStore, i: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let posts = store.posts_after(None, 100).await.unwrap();
        if let Some(p) = posts
            .iter()
            .find(|p| p.guid.ends_with(&format!("/posts/{i}")))
        {
            return p
                .tags
                .iter()
                .filter(|t| t.source == kith_model::TagSource::Rule)
                .map(|t| t.tag.clone())
                .collect();
        }
        assert!(Instant::now() < deadline, "post {i} not stored in 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the server's log has `n` lines containing `needle`.
async fn wait_for_log(log: &Mutex<Vec<String>>, needle: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let count = log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count();
        if count >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} (x{n}) in the log:\n{}",
            log.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reloads_edited_rules_and_keeps_them_through_a_broken_edit() {
    let feed_dir = tempfile::tempdir().unwrap();
    let blog =
        kith_testkit::StaticSite::serve(feed_dir.path().to_owned(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let base = blog.url("/");
    let dir = feed_dir.path();

    let site = Site::new(CONFIG);
    let tags = site.path().join("tags.toml");
    std::fs::write(&tags, "# no rules yet\n").unwrap();

    let mut serve = command(site.path(), &["serve"], &[("RUST_LOG", "info")])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = serve.id().unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut lines = tokio::io::BufReader::new(serve.stderr.take().unwrap()).lines();
    let sink = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    wait_for_log(&log, "Kith is serving", 1).await;
    wait_for_log(&log, "watching the tag rules", 1).await;
    let url = {
        let l = log.lock().unwrap();
        let line = l.iter().find(|l| l.contains("Kith is serving")).unwrap();
        line.split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_owned()
    };
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();

    // Before the edit, a post about the teapot gets no rule tag.
    new_blog(&site, dir, &base, 2).await;
    assert_eq!(wait_for_post(&store, 2).await, Vec::<String>::new());

    // The curator adds a phrase rule: picked up without a restart.
    std::fs::write(&tags, format!("# a phrase rule\n{PHRASE_RULE}")).unwrap();
    wait_for_log(&log, "tag rules reloaded", 1).await;
    new_blog(&site, dir, &base, 4).await;
    new_blog(&site, dir, &base, 3).await;
    assert_eq!(wait_for_post(&store, 4).await, vec!["teapot-physics"]);
    assert_eq!(wait_for_post(&store, 3).await, Vec::<String>::new());

    // A broken edit is refused with its line; the rules in force stay.
    std::fs::write(&tags, format!("{PHRASE_RULE}\n[[phrase]]\nphrase = 3\n")).unwrap();
    wait_for_log(&log, "tag rules rejected", 1).await;
    let rejected = log
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.contains("tag rules rejected"))
        .cloned()
        .unwrap();
    assert!(rejected.contains("line 6"), "{rejected}");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    new_blog(&site, dir, &base, 6).await;
    assert_eq!(wait_for_post(&store, 6).await, vec!["teapot-physics"]);

    // SIGHUP reads the file again even though it did not change (still broken: refused
    // again), and the process keeps serving.
    signal(pid, "-HUP");
    wait_for_log(&log, "tag rules rejected", 2).await;
    assert!(
        serve.try_wait().unwrap().is_none(),
        "SIGHUP ended kith serve"
    );
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);

    // Fixed: the fix is taken.
    std::fs::write(
        &tags,
        "[[phrase]]\nphrase = \"sourdough hydration\"\ntag = \"bread\"\n",
    )
    .unwrap();
    wait_for_log(&log, "tag rules reloaded", 2).await;
    new_blog(&site, dir, &base, 7).await;
    new_blog(&site, dir, &base, 8).await;
    assert_eq!(wait_for_post(&store, 7).await, vec!["bread"]);
    assert_eq!(wait_for_post(&store, 8).await, Vec::<String>::new());

    signal(pid, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(20), serve.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    blog.shutdown().await;
}
