//! Exit codes and messages of the `kith` binary on bad input.

use crate::support::{Site, TEST_CONFIG, run_kith};

#[tokio::test]
async fn urls_that_cannot_be_blogs_exit_2() {
    let site = Site::new(TEST_CONFIG);
    let run = site.kith(&["blogs", "add", "not-a-url"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not-a-url") && run.stderr.contains("not a URL"),
        "{}",
        run.stderr
    );

    let run = site.kith(&["blogs", "add", "ftp://x"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("ftp"), "{}", run.stderr);

    let run = site.kith(&["blogs", "list", "--json"]).await;
    run.ok();
    assert_eq!(run.stdout.trim(), "[]", "nothing was registered");
}

#[tokio::test]
async fn a_mistyped_config_key_is_named() {
    let site = Site::new("[crawl]\nconcurency = 4\n");
    let run = site.kith(&["blogs", "list"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("concurency"), "{}", run.stderr);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);

    let site = Site::new("[crawl]\nper_host = 0\n");
    let run = site.kith(&["blogs", "list"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("crawl.per_host"), "{}", run.stderr);
}

#[tokio::test]
async fn an_explicit_config_file_must_exist() {
    let site = Site::new(TEST_CONFIG);
    let run = site.kith(&["--config", "nope.toml", "blogs", "list"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("nope.toml"), "{}", run.stderr);
}

#[tokio::test]
async fn environment_overrides_are_checked() {
    let site = Site::new(TEST_CONFIG);
    let run = run_kith(
        site.path(),
        &["blogs", "list"],
        &[("KITH_LISTEN", "everywhere")],
    )
    .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("KITH_LISTEN"), "{}", run.stderr);

    let elsewhere = site.path().join("elsewhere");
    let run = run_kith(
        site.path(),
        &["blogs", "list"],
        &[("KITH_DATA", elsewhere.to_str().unwrap())],
    )
    .await;
    run.ok();
    assert!(
        elsewhere.join("kith.sqlite3").exists(),
        "KITH_DATA moved the database"
    );
    assert!(!site.path().join("data").exists());
}

#[tokio::test]
async fn unknown_blogs_and_unreadable_files_exit_2() {
    let site = Site::new(TEST_CONFIG);
    for args in [
        &["blogs", "remove", "999"][..],
        &["blogs", "verify", "https://nobody.example/"],
        &["opml", "import", "missing.opml"],
    ] {
        let run = site.kith(args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(!run.stderr.is_empty());
    }
    std::fs::write(
        site.path().join("feed.xml"),
        "<rss><channel></channel></rss>",
    )
    .unwrap();
    let run = site.kith(&["opml", "import", "feed.xml"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not OPML"), "{}", run.stderr);
}

#[tokio::test]
async fn usage_errors_exit_2_and_help_lists_only_working_commands() {
    let site = Site::new(TEST_CONFIG);
    let run = site.kith(&["frobnicate"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    let run = site.kith(&["--help"]).await;
    run.ok();
    // The first word of each line of the "Commands:" section.
    let commands: Vec<&str> = run
        .stdout
        .split("Commands:")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.trim().is_empty() || l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .take_while(|w| *w != "Options:")
        .collect();
    assert_eq!(
        commands,
        [
            "serve",
            "demo",
            "blogs",
            "opml",
            "export",
            "crawl",
            "hubs",
            "communities",
            "search",
            "reindex",
            "tag",
            "rules",
            "retag",
            "help"
        ]
    );
}

/// The private-network guard is on by default: loopback is refused unless allowed.
#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    let sphere = crate::support::blogosphere(1, 7).await;
    let site = Site::new("data_dir = \"data\"\n");
    let run = site.kith(&["blogs", "add", &sphere.homepage_url(0)]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
    assert_eq!(sphere.request_count(0), 0, "no request reached the blog");
    sphere.shutdown().await;
}

/// `kith tag` explains every tag; `--jsonl` answers line for line; bad lines exit 2.
#[tokio::test]
async fn tag_and_rules_check_work_from_the_shell() {
    use tokio::io::AsyncWriteExt;
    let site = Site::new(TEST_CONFIG);
    let run_with_stdin = |args: &'static [&'static str], input: &'static str| {
        let dir = site.path().to_owned();
        async move {
            let mut child = crate::support::command(&dir, args, &[])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .await
                .unwrap();
            crate::support::Run::from(child.wait_with_output().await.unwrap())
        }
    };
    let run = run_with_stdin(
        &["tag", "--title", "Taming the borrow checker"],
        "<p>The borrow checker enforces ownership; the borrow checker is strict.</p>",
    )
    .await;
    let first = run.ok().stdout.lines().next().unwrap().to_owned();
    assert!(
        first.starts_with("borrow-checker") && first.contains("extracted"),
        "{first}"
    );

    let run = run_with_stdin(
        &["tag", "--jsonl", "--top", "2"],
        "{\"id\":7,\"text\":\"Sourdough starter feeding. Sourdough bread.\",\"categories\":[\"Baking\"]}\n",
    )
    .await;
    let line: serde_json::Value = serde_json::from_str(run.ok().stdout.trim()).unwrap();
    assert_eq!(line["id"], 7);
    let tags = line["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[0]["tag"], "baking");
    assert_eq!(tags[0]["source"], "author");
    assert!(tags[0]["reason"].as_str().unwrap().contains("Baking"));

    // --top is honoured above the rules' limit (8 with the default rules): twelve
    // categories give twelve tags.
    let cats: Vec<String> = (0..12).map(|i| format!("\"craft{i}\"")).collect();
    let line = format!(
        "{{\"id\":8,\"text\":\"Notes.\",\"categories\":[{}]}}\n",
        cats.join(",")
    );
    let line: &'static str = Box::leak(line.into_boxed_str());
    for (args, want) in [
        (&["tag", "--jsonl"][..], 8),
        (&["tag", "--jsonl", "--top", "12"][..], 12),
        (&["tag", "--jsonl", "--top", "10"][..], 10),
    ] {
        let run = run_with_stdin(args, line).await;
        let v: serde_json::Value = serde_json::from_str(run.ok().stdout.trim()).unwrap();
        assert_eq!(v["tags"].as_array().unwrap().len(), want, "{args:?}");
    }
    let run = run_with_stdin(&["tag", "--jsonl", "--top", "0"], line).await;
    assert_eq!(run.code, 2, "{run:?}");

    let run = run_with_stdin(&["tag", "--jsonl"], "{\"id\":1}\nnot json\n").await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("line 1"), "{}", run.stderr);

    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/tags.example.toml"
    );
    let run = site.kith(&["rules", "check", "--rules", example]).await;
    assert!(run.ok().stdout.contains("ok"), "{}", run.stdout);
    std::fs::write(
        site.path().join("bad.toml"),
        "[aliases]\nrust = [\"rs\"]\ngo = [\"rs\"]\n",
    )
    .unwrap();
    let run = site.kith(&["rules", "check", "--rules", "bad.toml"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("bad.toml:2") && run.stderr.contains("already an alias"),
        "{}",
        run.stderr
    );
}
