//! `kith retag` (resumable after a kill) and `kith rules preview` on a crawled store.

use crate::support::{Site, TEST_CONFIG, blogosphere, command, export};
use kith_store::{SqliteStore, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Rules that change the tags of many simulated posts: a common category merged into
/// another, a stop-tag, and a phrase from the simulated titles.
const NEW_RULES: &str = r#"
stop_tags = ["notes", "til"]

[[merge]]
from = "pandas"
into = "python"

[[phrase]]
phrase = "one step at a time"
tag = "step-by-step"
"#;

/// A site whose store holds the blogosphere's posts, tagged at ingestion under the
/// built-in rules.
async fn crawled_site(blogs: usize, seed: u64) -> Site {
    let sphere = blogosphere(blogs, seed).await;
    let site = Site::new(TEST_CONFIG);
    std::fs::write(site.path().join("sphere.opml"), sphere.opml()).unwrap();
    site.kith(&["opml", "import", "sphere.opml"]).await.ok();
    site.kith(&["crawl", "--once"]).await.ok();
    sphere.shutdown().await;
    site
}

/// Each post's tags (name, source, score, reason) by feed and guid.
fn tags_by_post(posts: &[Value]) -> BTreeMap<(String, String), Value> {
    posts
        .iter()
        .map(|p| {
            (
                (p["feed_url"].to_string(), p["guid"].to_string()),
                p["tags"].clone(),
            )
        })
        .collect()
}

fn use_rules(site: &Site, rules: &str) {
    std::fs::write(site.path().join("tags.toml"), rules).unwrap();
    std::fs::write(
        site.path().join("kith.toml"),
        format!("tags_file = \"tags.toml\"\n{TEST_CONFIG}"),
    )
    .unwrap();
}

fn copy_site(from: &Site) -> Site {
    let to = Site::new(TEST_CONFIG);
    for f in ["kith.toml", "tags.toml"] {
        std::fs::copy(from.path().join(f), to.path().join(f)).unwrap();
    }
    std::fs::create_dir_all(to.path().join("data")).unwrap();
    // No process has the store open: the database with its WAL is a consistent copy.
    for f in ["kith.sqlite3", "kith.sqlite3-wal", "kith.sqlite3-shm"] {
        let src = from.path().join("data").join(f);
        if src.exists() {
            std::fs::copy(src, to.path().join("data").join(f)).unwrap();
        }
    }
    to
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retag_killed_mid_run_resumes_to_the_same_tags_as_a_clean_run() {
    let site = crawled_site(60, 33).await;
    use_rules(&site, NEW_RULES);
    let before = tags_by_post(&export(&site).await);
    assert!(before.len() > 200, "only {} posts", before.len());
    let clean = copy_site(&site);

    let mut retag = command(site.path(), &["retag", "--batch", "10"], &[])
        .spawn()
        .unwrap();
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let checkpoint = loop {
        if let Some(c) = store.retag_checkpoint().await.unwrap() {
            break c;
        }
        assert!(Instant::now() < deadline, "no batch committed in 60 s");
        assert!(
            retag.try_wait().unwrap().is_none(),
            "the re-tag ended before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    retag.start_kill().unwrap(); // SIGKILL: no cleanup
    retag.wait().await.unwrap();
    let left = store.retag_checkpoint().await.unwrap().unwrap();
    assert!(left.last_post >= checkpoint.last_post);
    assert!(
        (left.totals.checked as usize) < before.len(),
        "killed mid-run: {} of {} posts done",
        left.totals.checked,
        before.len()
    );
    drop(store);

    let resumed = site.kith(&["retag", "--json"]).await;
    resumed.ok();
    let summary: Value = serde_json::from_str(&resumed.stdout).unwrap();
    assert_eq!(summary["resumed_after"], left.last_post.0);
    assert_eq!(summary["checked"], before.len(), "{summary}");
    assert!(summary["changed"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["interrupted"], false);

    let full = clean.kith(&["retag", "--json"]).await;
    full.ok();
    let full_summary: Value = serde_json::from_str(&full.stdout).unwrap();
    assert_eq!(full_summary["resumed_after"], Value::Null);
    for key in ["checked", "changed", "tags_added", "tags_removed"] {
        assert_eq!(
            summary[key], full_summary[key],
            "{key}: {summary} vs {full_summary}"
        );
    }

    let after = tags_by_post(&export(&site).await);
    assert_eq!(
        after,
        tags_by_post(&export(&clean).await),
        "a resumed re-tag ends where a clean one does"
    );
    assert_ne!(after, before, "the new rules changed tags");
    let names = |tags: &Value| -> BTreeSet<String> {
        tags.as_array()
            .unwrap()
            .iter()
            .map(|t| t["tag"].as_str().unwrap().to_owned())
            .collect()
    };
    for tags in after.values() {
        let n = names(tags);
        assert!(!n.contains("pandas") && !n.contains("til"), "{n:?}");
    }
    assert!(after.values().any(|t| names(t).contains("step-by-step")));

    // Done: no checkpoint left, and a second run finds nothing to change.
    let again = site.kith(&["retag", "--json"]).await;
    again.ok();
    let again: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(again["resumed_after"], Value::Null);
    assert_eq!(again["changed"], 0, "{again}");
    assert_eq!(again["rewritten"], 0, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_from_other_rules_is_not_resumed() {
    let site = crawled_site(12, 34).await;
    use_rules(&site, NEW_RULES);
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let posts = store.posts_after(None, 5).await.unwrap();
    // A run under other rules stopped after the fifth post.
    store
        .replace_post_tags_batch(
            vec![],
            kith_store::RetagProgress {
                fingerprint: "other rules".into(),
                last_post: posts[4].id,
                done: false,
            },
        )
        .await
        .unwrap();
    drop(store);
    let run = site.kith(&["retag", "--json"]).await;
    run.ok();
    assert!(run.stderr.contains("starting over"), "{}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["resumed_after"], Value::Null);
    assert_eq!(summary["checked"], export(&site).await.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_preview_counts_posts_entering_and_leaving_hubs() {
    let site = crawled_site(40, 35).await;
    // Stored tags as the built-in rules give them over every stored post's document
    // frequencies: what the preview compares against.
    site.kith(&["retag"]).await.ok();
    let posts = export(&site).await;
    // The most common author tag that is a hub under the built-in thresholds (5 posts, 3
    // bloggers) becomes a stop-tag in the proposed rules.
    let mut by_tag: HashMap<String, (usize, BTreeSet<String>)> = HashMap::new();
    for p in &posts {
        for t in p["tags"].as_array().unwrap() {
            let e = by_tag
                .entry(t["tag"].as_str().unwrap().to_owned())
                .or_default();
            e.0 += 1;
            e.1.insert(p["blog_url"].to_string());
        }
    }
    let (gone, (gone_posts, _)) = by_tag
        .iter()
        .filter(|(_, (n, blogs))| *n >= 5 && blogs.len() >= 3)
        .max_by_key(|(tag, (n, _))| (*n, std::cmp::Reverse((*tag).clone())))
        .map(|(t, v)| (t.clone(), v.clone()))
        .unwrap();
    let phrase = "one step at a time";
    let with_phrase: Vec<&Value> = posts
        .iter()
        .filter(|p| {
            let text = format!("{} {}", p["title"], p["content_html"]).to_lowercase();
            text.contains(phrase)
        })
        .collect();
    assert!(!with_phrase.is_empty());
    let proposed = format!(
        "stop_tags = [\"{gone}\"]\n\n[[phrase]]\nphrase = \"{phrase}\"\ntag = \"step-by-step\"\n"
    );
    std::fs::write(site.path().join("new.toml"), proposed).unwrap();

    let run = site
        .kith(&["rules", "preview", "--rules", "new.toml", "--json"])
        .await;
    run.ok();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["posts"], posts.len());
    let hub = |tag: &str| {
        report["hubs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["tag"] == tag)
            .cloned()
    };
    // The store was just re-tagged under the rules in force, so the counts are the stored
    // ones.
    let g = hub(&gone).unwrap_or_else(|| panic!("{gone} is not in {report}"));
    assert_eq!(g["status"], "vanishes");
    assert_eq!(g["posts_before"], gone_posts);
    assert_eq!(g["leaving"], gone_posts);
    assert_eq!(g["posts_after"], 0);
    let titles: BTreeSet<&str> = posts
        .iter()
        .filter(|p| {
            p["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["tag"] == gone.as_str())
        })
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    let examples = g["leaving_examples"].as_array().unwrap();
    assert_eq!(examples.len(), gone_posts.min(3));
    for e in examples {
        assert!(
            titles.contains(e.as_str().unwrap()),
            "{e} is not tagged {gone}"
        );
    }
    let vanishing = report["tags_vanishing"].as_array().unwrap();
    assert!(
        vanishing
            .iter()
            .any(|t| t["tag"] == gone.as_str() && t["posts"] == gone_posts)
    );

    let appearing = report["tags_appearing"].as_array().unwrap();
    let step = appearing
        .iter()
        .find(|t| t["tag"] == "step-by-step")
        .unwrap_or_else(|| panic!("step-by-step does not appear: {report}"));
    assert_eq!(step["posts"], with_phrase.len());
    let blogs: BTreeSet<String> = with_phrase
        .iter()
        .map(|p| p["blog_url"].to_string())
        .collect();
    let step_hub = hub("step-by-step");
    assert_eq!(
        step_hub.is_some(),
        with_phrase.len() >= 5 && blogs.len() >= 3,
        "{step_hub:?}"
    );
    if let Some(h) = step_hub {
        assert_eq!(h["status"], "appears");
        assert_eq!(h["entering"], with_phrase.len());
    }

    // The human report says the same; nothing was written.
    let human = site
        .kith(&["rules", "preview", "--rules", "new.toml"])
        .await;
    human.ok();
    let line = human
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{gone} ")))
        .unwrap_or_else(|| panic!("no line for {gone}:\n{}", human.stdout));
    assert!(line.contains("no longer a hub"), "{line}");
    assert!(human.stdout.contains("step-by-step"), "{}", human.stdout);
    assert_eq!(tags_by_post(&export(&site).await), tags_by_post(&posts));

    // A broken proposal: exit code 2 and the line.
    std::fs::write(
        site.path().join("bad.toml"),
        "[hubs]\nmin_posts = 3\n\n[[phrase]]\nphrase = 3\n",
    )
    .unwrap();
    let bad = site
        .kith(&["rules", "preview", "--rules", "bad.toml"])
        .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("bad.toml") && bad.stderr.contains("line 5"),
        "{}",
        bad.stderr
    );
}
