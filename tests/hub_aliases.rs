//! Hub addresses follow the curator's rules, live: `/hubs/{alias}` and a merged-away tag
//! answer a permanent redirect to the canonical hub (its feeds and blogroll too), as do
//! other forms of a hub's tag (`/hubs/Rust`); editing `tags.toml` under a running server
//! moves them, and undoing the edit moves them back.

use crate::support::{Served, Site, TEST_CONFIG, blogosphere, get};
use scraper::{Html, Selector};
use std::time::Duration;

/// Status and `Location` of `path`.
async fn answer(base: &str, path: &str) -> (u16, Option<String>) {
    let r = get(base, path).await;
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (r.status().as_u16(), location)
}

/// Waits until `path` answers `want` (the rules are re-read every 2 s).
async fn until(base: &str, path: &str, want: (u16, Option<&str>)) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, location) = answer(base, path).await;
        if (status, location.as_deref()) == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path}: {status} {location:?}, waited for {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliased_and_merged_tags_redirect_to_their_hub_under_the_live_rules() {
    let sphere = blogosphere(30, 41).await;
    let rules_dir = tempfile::tempdir().unwrap();
    let rules = rules_dir.path().join("tags.toml");
    std::fs::write(&rules, "# no rules yet\n").unwrap();
    let site = Site::new(&format!(
        "tags_file = {:?}\n{TEST_CONFIG}[communities]\nrecompute_secs = 1\n",
        rules.to_str().unwrap()
    ));
    site.import_and_crawl(&sphere).await;
    let served = Served::start(&site).await;
    let base = served.base.clone();

    // Two hubs, plain words (so their addresses are their tags).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let hubs: Vec<String> = loop {
        let doc = Html::parse_document(&served.text("/hubs").await);
        let tags: Vec<String> = doc
            .select(&Selector::parse("table.list th a[href^='/hubs/']").unwrap())
            .filter_map(|a| a.value().attr("href"))
            .map(|h| h.trim_start_matches("/hubs/").to_owned())
            .filter(|t| t.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        if tags.len() >= 2 {
            break tags;
        }
        assert!(tokio::time::Instant::now() < deadline, "no hubs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (main, other) = (&hubs[0], &hubs[1]);
    let main_path = format!("/hubs/{main}");

    // Without rules: the hubs are themselves, an unknown tag is a 404, and another case of
    // a hub's tag is that hub (page and feeds).
    assert_eq!(answer(&base, &main_path).await, (200, None));
    assert_eq!(answer(&base, &format!("/hubs/{other}")).await, (200, None));
    assert_eq!(answer(&base, "/hubs/kithvariant").await.0, 404);
    assert_eq!(answer(&base, "/hubs/kithvariant/feed.atom").await.0, 404);
    let upper = main.to_uppercase();
    assert_eq!(
        answer(&base, &format!("/hubs/{upper}")).await,
        (308, Some(main_path.clone()))
    );
    assert_eq!(
        answer(&base, &format!("/hubs/{upper}/feed.json")).await,
        (308, Some(format!("{main_path}/feed.json")))
    );

    // The curator aliases a variant to `main` and merges `other` into it.
    std::fs::write(
        &rules,
        format!(
            "[aliases]\n{main:?} = [\"kithvariant\", \"Kith Variant Two\"]\n\n\
             [[merge]]\nfrom = {other:?}\ninto = {main:?}\n"
        ),
    )
    .unwrap();
    until(&base, "/hubs/kithvariant", (308, Some(&main_path))).await;
    // The merged-away tag is still a hub (its posts keep their tags until `kith retag`),
    // but the curator said what it is.
    for (from, to) in [
        (format!("/hubs/{other}"), main_path.clone()),
        ("/hubs/Kith%20Variant%20Two".into(), main_path.clone()),
        ("/hubs/kith-variant-two".into(), main_path.clone()),
        ("/hubs/KITHVARIANT".into(), main_path.clone()),
        (
            "/hubs/kithvariant/feed.atom".into(),
            format!("{main_path}/feed.atom"),
        ),
        (
            format!("/hubs/{other}/feed.rss"),
            format!("{main_path}/feed.rss"),
        ),
        (
            format!("/hubs/{other}/blogroll.opml"),
            format!("{main_path}/blogroll.opml"),
        ),
        (
            format!("/hubs/{other}?before=2025-01-01T00:00:00Z_1"),
            main_path.clone(),
        ),
    ] {
        assert_eq!(answer(&base, &from).await, (308, Some(to)), "{from}");
    }
    // The canonical hub answers itself: one hop, no loop.
    assert_eq!(answer(&base, &main_path).await, (200, None));
    assert_eq!(
        answer(&base, &format!("{main_path}/feed.atom")).await.0,
        200
    );
    // Followed, the redirect lands on the hub's page.
    let followed = reqwest::get(format!("{base}/hubs/kithvariant"))
        .await
        .unwrap();
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.url().path(), main_path);

    // The rules are live both ways: without the merge, `other` is its own hub again.
    std::fs::write(&rules, format!("[aliases]\n{main:?} = [\"kithvariant\"]\n")).unwrap();
    until(&base, &format!("/hubs/{other}"), (200, None)).await;
    assert_eq!(
        answer(&base, "/hubs/kithvariant").await,
        (308, Some(main_path.clone()))
    );

    served.stop().await;
    sphere.shutdown().await;
}
