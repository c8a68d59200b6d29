//! The pages in a real browser: headless Debian chromium, driven by playwright-core
//! (`tests/browser/run.mjs`), against a real server holding a crawled blogosphere. The
//! script checks what a person sees on the home, hub, blog, kin (from the blog page), community, post, search and
//! register pages, saves screenshots to `target/browser-artifacts/` and runs axe-core on
//! every page.
//!
//! Needs `/usr/bin/chromium` (or `KITH_CHROMIUM`) and `npm ci` in `tests/browser`;
//! `.ci/run` installs both. Without them the test says why and passes, except under
//! `CI=true`, where it fails: CI must run it.

use crate::support::{Served, Site, blogosphere};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest the browser run may take before the test gives up on it.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

fn chromium() -> PathBuf {
    std::env::var_os("KITH_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What is missing for the browser run, if anything.
fn missing(scripts: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if !chromium().is_file() {
        out.push(format!(
            "{} (apt-get install chromium, or set KITH_CHROMIUM)",
            chromium().display()
        ));
    }
    for module in ["playwright-core", "axe-core"] {
        if !scripts.join("node_modules").join(module).is_dir() {
            out.push(format!("{module} (npm ci in tests/browser)"));
        }
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        out.push("node".into());
    }
    out
}

/// A word of a post title that the search page should find and highlight.
fn search_word(title: &str) -> Option<String> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 6 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .max_by_key(|w| w.len())
        .map(str::to_lowercase)
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl AsyncFnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if ok().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("browser: gave up waiting for {what} after {limit:?}");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_a_real_browser() {
    // The workspace root (this test belongs to crates/kith).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scripts = root.join("tests").join("browser");
    let missing = missing(&scripts);
    if !missing.is_empty() {
        let why = format!(
            "the browser test needs {}; `bash .ci/run` installs them",
            missing.join(", ")
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}");
        }
        eprintln!("skipped: {why}");
        return;
    }

    // Twelve blogs: eleven registered and read, the last one left for the register flow.
    let sphere = blogosphere(12, 61).await;
    let allowed: Vec<String> = sphere
        .blogs()
        .iter()
        .map(|b| format!("\"{}/32\"", b.addr.ip()))
        .collect();
    let site = Site::new(&format!(
        "data_dir = \"data\"\n\
         [crawl]\nallowed_networks = [{}]\nper_host_delay_ms = 0\ntimeout_secs = 5\n\
         connect_timeout_secs = 2\n\
         [registration]\nrequire_verification = true\n\
         [communities]\nrecompute_secs = 5\n",
        allowed.join(", ")
    ));
    {
        let app = kith::App::open(site.config()).await.unwrap();
        let enricher = std::sync::Arc::new(
            kith::enrich::Enricher::open(&app.config, &app.store)
                .await
                .unwrap(),
        );
        for i in 0..sphere.len() - 1 {
            // Verified at once: these are the site's content, not the flow under test.
            kith::register::register(
                &app.store,
                &app.crawler,
                Some(&enricher),
                &sphere.homepage_url(i),
                false,
            )
            .await
            .unwrap();
        }
    }
    let word = sphere
        .posts(0)
        .iter()
        .find_map(|p| search_word(&p.title))
        .expect("a searchable title word");
    let served = Served::start(&site).await;
    let client = reqwest::Client::new();
    let base = served.base.clone();
    let get = |path: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            match client.get(format!("{base}{path}")).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            }
        }
    };
    // The index and the hubs follow the store in the background: wait for both.
    assert!(
        wait_for("the search index", Duration::from_secs(30), async || {
            get(format!("/search?q={word}"))
                .await
                .contains("search-hits")
        })
        .await,
        "the search index never found {word:?}"
    );
    wait_for(
        "hubs on the home page",
        Duration::from_secs(20),
        async || get("/".into()).await.contains("href=\"/hubs/"),
    )
    .await;

    let target = sphere.len() - 1;
    let plan = serde_json::json!({
        "search_word": word,
        "register_url": sphere.homepage_url(target),
        "register_title": sphere.info(target).name,
    });
    let artifacts = root.join("target").join("browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let plan_path = artifacts.join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();

    let run = tokio::time::timeout(
        BROWSER_TIMEOUT,
        tokio::process::Command::new("node")
            .arg(scripts.join("run.mjs"))
            .arg(&served.base)
            .arg(&artifacts)
            .arg(&plan_path)
            .env("KITH_CHROMIUM", chromium())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser run timed out")
    .expect("node could not be started");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!("{stdout}");
    served.stop().await;
    assert!(
        run.status.success(),
        "the browser checks failed (screenshots in {}):\n{stdout}\n{stderr}",
        artifacts.display()
    );
}
