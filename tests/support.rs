//! Shared helpers: a data directory with a config, and running the `kith` binary in it.

use kith_testkit::{Blogosphere, BlogosphereConfig};
use scraper::{Html, Selector};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// A working directory holding `kith.toml` and the data directory.
pub struct Site {
    pub dir: tempfile::TempDir,
}

/// Config for tests: loopback allowed (the simulated blogs live there), no verification.
pub const TEST_CONFIG: &str = r#"
data_dir = "data"
[crawl]
allowed_networks = ["127.0.0.0/8"]
per_host_delay_ms = 0
timeout_secs = 5
connect_timeout_secs = 2
[registration]
require_verification = false
"#;

impl Site {
    pub fn new(config: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kith.toml"), config).unwrap();
        Site { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> kith_config::Config {
        let mut c = kith_config::Config::from_file(&self.path().join("kith.toml")).unwrap();
        c.data_dir = self.path().join(&c.data_dir);
        c
    }

    /// Registers every blog of `sphere` (`kith opml import` of its blogroll) and crawls
    /// them all once (`kith crawl --once --all`), as a person setting up a site would.
    pub async fn import_and_crawl(&self, sphere: &Blogosphere) {
        let opml = self.path().join("sphere.opml");
        std::fs::write(&opml, sphere.opml()).unwrap();
        self.kith(&["opml", "import", opml.to_str().unwrap()])
            .await
            .ok();
        self.kith(&["crawl", "--once", "--all"]).await.ok();
    }

    /// Runs `kith ARGS` in the site's directory (so its kith.toml is the default config).
    pub async fn kith(&self, args: &[&str]) -> Run {
        run_kith(self.path(), args, &[]).await
    }
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "kith failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn kith_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kith"))
}

pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(kith_bin());
    cmd.args(args)
        .current_dir(dir)
        .env_remove("KITH_DATA")
        .env_remove("KITH_LISTEN")
        .env_remove("KITH_STORE_URL")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub async fn run_kith(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    command(dir, args, env).output().await.unwrap().into()
}

/// Each test's blogosphere gets its own block of loopback addresses.
static NEXT_BLOCK: AtomicU8 = AtomicU8::new(0);

pub async fn blogosphere(blogs: usize, seed: u64) -> Blogosphere {
    let block = NEXT_BLOCK.fetch_add(1, Ordering::SeqCst);
    Blogosphere::start(BlogosphereConfig {
        blogs,
        seed,
        posts_per_blog: 3..=12,
        first_ip: Ipv4Addr::new(127, 40 + block, 0, 1),
        ..BlogosphereConfig::default()
    })
    .await
    .unwrap()
}

/// Every stored post, as `kith export --jsonl` prints it.
pub async fn export(site: &Site) -> Vec<serde_json::Value> {
    let run = site.kith(&["export", "--jsonl"]).await;
    run.ok();
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// A running `kith serve` (web site and crawler) for `site`, on an ephemeral port.
pub struct Served {
    pub base: String,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Served {
    pub async fn start(site: &Site) -> Served {
        let app = kith::App::open(site.config()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(kith::serve_on(app, listener, stop.clone(), |_| {}));
        Served { base, stop, task }
    }

    /// The body of `path` (which starts with `/`).
    pub async fn text(&self, path: &str) -> String {
        reqwest::get(format!("{}{path}", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Stops the server and waits for in-flight requests and polls to finish.
    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

// --- reading pages as a browser would ---

pub fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

pub fn texts(doc: &Html, s: &str) -> Vec<String> {
    doc.select(&sel(s))
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

pub fn attrs(doc: &Html, s: &str, attr: &str) -> Vec<String> {
    doc.select(&sel(s))
        .filter_map(|e| e.value().attr(attr).map(str::to_owned))
        .collect()
}

pub async fn get(base: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
}

/// `path` asked for with exactly these request headers: no redirects followed, and no
/// encoding asked for or undone but what the headers say (the response is as sent).
pub async fn get_with(base: &str, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap();
    let mut request = client.get(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The page at `path` (answering 200) once `ready` holds: hubs and the index fill in
/// just after a server starts.
pub async fn page_when(base: &str, path: &str, ready: impl Fn(&Html) -> bool) -> Html {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = get(base, path).await;
        assert_eq!(r.status(), 200, "{path}");
        let doc = Html::parse_document(&r.text().await.unwrap());
        if ready(&doc) {
            return doc;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never became ready:\n{}",
            doc.html()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What minijinja's auto-escaping makes of a string.
pub fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}
