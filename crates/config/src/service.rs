//! `kith.toml`: how the service runs.

use crate::{Error, Result};
use ipnet::IpNet;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default values, named so that docs, the example file and code agree.
pub mod defaults {
    pub const DATA_DIR: &str = "data";
    pub const LISTEN: &str = "127.0.0.1:8080";
    pub const CONCURRENCY: usize = 32;
    pub const PER_HOST: usize = 2;
    pub const PER_HOST_DELAY_MS: u64 = 250;
    pub const CONNECT_TIMEOUT_SECS: u64 = 10;
    pub const TIMEOUT_SECS: u64 = 30;
    pub const MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
    pub const MAX_REDIRECTS: usize = 5;
    pub const MAX_TITLE_CHARS: usize = 500;
    pub const MAX_AUTHOR_CHARS: usize = 200;
    pub const MAX_CONTENT_BYTES: usize = 512 * 1024;
    pub const MAX_CATEGORIES: usize = 50;
    pub const MAX_CATEGORY_CHARS: usize = 100;
    pub const MAX_URL_BYTES: usize = 2048;
    pub const MIN_INTERVAL_SECS: u64 = 10 * 60;
    pub const MAX_INTERVAL_SECS: u64 = 24 * 60 * 60;
    pub const SWEEP_EVERY_SECS: u64 = 30;
    pub const REQUIRE_VERIFICATION: bool = true;
    pub const WEBSUB: bool = true;
    /// Ten days, the longest lease most hubs grant.
    pub const WEBSUB_LEASE_SECS: u64 = 10 * 24 * 60 * 60;
    /// The file name looked for in the working directory when `--config` is not given.
    pub const CONFIG_FILE: &str = "kith.toml";
}

/// The whole service configuration (`kith.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database and the index live. `KITH_DATA` overrides it.
    pub data_dir: PathBuf,
    /// The curator's tag rules; absent means the built-in defaults.
    pub tags_file: Option<PathBuf>,
    pub web: WebConfig,
    pub crawl: CrawlConfig,
    pub registration: RegistrationConfig,
    pub communities: CommunitiesConfig,
    pub store: StoreConfig,
}

/// Where the store lives (`[store]`): absent, SQLite in `data_dir`; with a `url`, the
/// PostgreSQL database several Kith processes (crawl workers, web nodes) share.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user@host:port/db`. `KITH_STORE_URL` overrides it.
    pub url: Option<String>,
    /// Connections a process keeps to PostgreSQL at most.
    pub pool_size: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: None,
            pool_size: 16,
        }
    }
}

/// How hubs' members, related hubs and communities are computed (`[communities]`). The
/// thresholds that make a tag a hub are the curator's, in the tag rules (`[hubs]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommunitiesConfig {
    /// Engagement window in days: members are ranked by their posts in it.
    pub window_days: u32,
    /// Share of a hub's members (rounded up) that are core, at most.
    pub core_share: f64,
    /// Share of members after the core that are active, at most.
    pub active_share: f64,
    /// Posts in the window a core member has written at least.
    pub core_min_posts: u32,
    /// Posts in the window an active member has written at least.
    pub active_min_posts: u32,
    /// Least Jaccard index of two hubs' blogger sets for them to be related.
    pub related_min_jaccard: f64,
    /// Least edge weight kept in the hub graph that communities are clustered from.
    pub min_edge: f64,
    /// Leiden resolution: above 1, more and smaller communities.
    pub resolution: f64,
    /// Seed of the clustering: the same data and seed give the same communities.
    pub seed: u64,
    /// Least share of a blogger's posts in a community for membership.
    pub member_min_share: f64,
    /// How often `kith serve` recomputes hubs and communities.
    pub recompute_secs: u64,
}

impl Default for CommunitiesConfig {
    fn default() -> Self {
        Self {
            window_days: 90,
            core_share: 0.15,
            active_share: 0.20,
            core_min_posts: 2,
            active_min_posts: 1,
            related_min_jaccard: 0.05,
            min_edge: 0.1,
            resolution: 1.0,
            seed: 42,
            member_min_share: 0.2,
            recompute_secs: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Address the web server binds. `KITH_LISTEN` overrides it.
    pub listen: SocketAddr,
    /// The URL people reach this hub at (links in feeds, WebSub callbacks). Defaults to
    /// `http://{listen}/`.
    pub public_url: Option<String>,
    /// The site's name, shown in page titles and feed titles.
    pub site_name: String,
    /// A WebSub hub that our own feeds announce (`rel="hub"`) and that Kith pings when a
    /// hub's feed changes. Absent: our feeds are polled only.
    pub websub_hub: Option<String>,
    /// Reverse proxies (CIDR) whose `X-Forwarded-For` / `Forwarded` headers say who the
    /// client is. A request from one of them is counted, for per-client limits, as the
    /// right-most address in those headers that is not itself a trusted proxy; from any
    /// other peer the headers are ignored (anyone can send them). Empty by default.
    pub trusted_proxies: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlConfig {
    /// Requests in flight across all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host: usize,
    /// Minimum gap between two requests to one host, in milliseconds.
    pub per_host_delay_ms: u64,
    pub connect_timeout_secs: u64,
    /// Whole-request timeout, body included.
    pub timeout_secs: u64,
    /// Largest body read, after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// The most one entry stores of each field; longer ones are cut at a character
    /// boundary (an address too long is dropped) and the blog's health says so.
    pub max_title_chars: usize,
    pub max_author_chars: usize,
    /// Sanitised content, in bytes.
    pub max_content_bytes: usize,
    /// Categories kept per entry (the first ones), and characters per category.
    pub max_categories: usize,
    pub max_category_chars: usize,
    pub max_url_bytes: usize,
    /// Shortest and longest gap between two polls of one feed.
    pub min_interval_secs: u64,
    pub max_interval_secs: u64,
    /// How often `kith serve` looks for due feeds.
    pub sweep_every_secs: u64,
    /// Networks exempt from the private-network block (CIDR notation). Empty by default:
    /// Kith never fetches loopback, private or link-local addresses unless listed here.
    pub allowed_networks: Vec<IpNet>,
    /// Contact URL or address appended to the User-Agent so site owners can reach you.
    pub contact: Option<String>,
    /// Subscribe to feeds' WebSub hubs (`kith serve` only: the hub calls back to
    /// `web.public_url`, which must be reachable from the hub).
    pub websub: bool,
    /// Lease asked of hubs; renewed before it ends.
    pub websub_lease_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationConfig {
    /// A new blog stays `pending` (crawled, not public) until its owner proves it is theirs.
    pub require_verification: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(defaults::DATA_DIR),
            tags_file: None,
            web: WebConfig::default(),
            crawl: CrawlConfig::default(),
            registration: RegistrationConfig::default(),
            communities: CommunitiesConfig::default(),
            store: StoreConfig::default(),
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            site_name: "Kith".into(),
            websub_hub: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for CrawlConfig {
    fn default() -> Self {
        Self {
            concurrency: defaults::CONCURRENCY,
            per_host: defaults::PER_HOST,
            per_host_delay_ms: defaults::PER_HOST_DELAY_MS,
            connect_timeout_secs: defaults::CONNECT_TIMEOUT_SECS,
            timeout_secs: defaults::TIMEOUT_SECS,
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_redirects: defaults::MAX_REDIRECTS,
            max_title_chars: defaults::MAX_TITLE_CHARS,
            max_author_chars: defaults::MAX_AUTHOR_CHARS,
            max_content_bytes: defaults::MAX_CONTENT_BYTES,
            max_categories: defaults::MAX_CATEGORIES,
            max_category_chars: defaults::MAX_CATEGORY_CHARS,
            max_url_bytes: defaults::MAX_URL_BYTES,
            min_interval_secs: defaults::MIN_INTERVAL_SECS,
            max_interval_secs: defaults::MAX_INTERVAL_SECS,
            sweep_every_secs: defaults::SWEEP_EVERY_SECS,
            allowed_networks: Vec::new(),
            contact: None,
            websub: defaults::WEBSUB,
            websub_lease_secs: defaults::WEBSUB_LEASE_SECS,
        }
    }
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            require_verification: defaults::REQUIRE_VERIFICATION,
        }
    }
}

impl Config {
    /// Loads the configuration the way the CLI does: the given file, else `kith.toml` in
    /// the working directory if there is one, else the defaults; then the environment
    /// overrides; then validation.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let mut config = match path {
            Some(p) => Self::from_file(p)?,
            None if Path::new(defaults::CONFIG_FILE).is_file() => {
                Self::from_file(Path::new(defaults::CONFIG_FILE))?
            }
            None => Config::default(),
        };
        config.apply_env(|var| std::env::var(var).ok())?;
        config.validate(path.unwrap_or(Path::new("<defaults>")))?;
        Ok(config)
    }

    /// Parses and validates one file, without environment overrides.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let config = Self::from_toml(&text, path)?;
        config.validate(path)?;
        Ok(config)
    }

    /// Parses TOML text; `path` only labels errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_owned(),
            message: crate::rules::describe_toml_error(text, &e),
        })
    }

    /// Applies `KITH_DATA`, `KITH_LISTEN` and `KITH_STORE_URL`; `lookup` reads a variable
    /// (tests pass their own).
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(dir) = lookup("KITH_DATA").filter(|s| !s.is_empty()) {
            self.data_dir = PathBuf::from(dir);
        }
        if let Some(url) = lookup("KITH_STORE_URL").filter(|s| !s.is_empty()) {
            if !is_postgres_url(&url) {
                return Err(Error::Env {
                    var: "KITH_STORE_URL",
                    value: url,
                    reason: "expected a PostgreSQL URL such as postgres://kith@127.0.0.1:5432/kith"
                        .into(),
                });
            }
            self.store.url = Some(url);
        }
        if let Some(listen) = lookup("KITH_LISTEN").filter(|s| !s.is_empty()) {
            self.web.listen = listen.parse().map_err(|e| Error::Env {
                var: "KITH_LISTEN",
                value: listen.clone(),
                reason: format!("{e}; expected an address such as 127.0.0.1:8080"),
            })?;
        }
        Ok(())
    }

    /// Checks values that parse but make no sense together.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |key: &str, reason: String| {
            Err(Error::Invalid {
                path: path.to_owned(),
                key: key.to_owned(),
                reason,
            })
        };
        let c = &self.crawl;
        if self.data_dir.as_os_str().is_empty() {
            return bad("data_dir", "must not be empty".into());
        }
        if c.concurrency == 0 {
            return bad("crawl.concurrency", "must be at least 1".into());
        }
        if c.per_host == 0 {
            return bad("crawl.per_host", "must be at least 1".into());
        }
        if c.per_host > c.concurrency {
            return bad(
                "crawl.per_host",
                format!(
                    "is {} but crawl.concurrency is only {}; the per-host limit cannot exceed the global one",
                    c.per_host, c.concurrency
                ),
            );
        }
        if c.connect_timeout_secs == 0 || c.timeout_secs == 0 {
            return bad(
                "crawl.timeout_secs",
                "timeouts must be at least 1 second".into(),
            );
        }
        if c.connect_timeout_secs > c.timeout_secs {
            return bad(
                "crawl.connect_timeout_secs",
                "must not exceed crawl.timeout_secs".into(),
            );
        }
        if c.max_body_bytes < 1024 {
            return bad(
                "crawl.max_body_bytes",
                format!("is {} bytes; feeds need at least 1024", c.max_body_bytes),
            );
        }
        if c.max_redirects > 20 {
            return bad("crawl.max_redirects", "must be 20 or fewer".into());
        }
        for (key, value, least) in [
            ("crawl.max_title_chars", c.max_title_chars, 20),
            ("crawl.max_author_chars", c.max_author_chars, 10),
            ("crawl.max_content_bytes", c.max_content_bytes, 1024),
            ("crawl.max_categories", c.max_categories, 1),
            ("crawl.max_category_chars", c.max_category_chars, 10),
            ("crawl.max_url_bytes", c.max_url_bytes, 256),
        ] {
            if value < least {
                return bad(key, format!("is {value}; it must be at least {least}"));
            }
        }
        if c.min_interval_secs < 60 {
            return bad(
                "crawl.min_interval_secs",
                "must be at least 60: polling a blog more than once a minute is rude".into(),
            );
        }
        if c.min_interval_secs > c.max_interval_secs {
            return bad(
                "crawl.min_interval_secs",
                format!(
                    "({}) is larger than crawl.max_interval_secs ({})",
                    c.min_interval_secs, c.max_interval_secs
                ),
            );
        }
        if c.websub_lease_secs == 0 {
            return bad("crawl.websub_lease_secs", "must be at least 1".into());
        }
        let k = &self.communities;
        for (key, v) in [
            ("communities.core_share", k.core_share),
            ("communities.active_share", k.active_share),
            ("communities.related_min_jaccard", k.related_min_jaccard),
            ("communities.min_edge", k.min_edge),
            ("communities.member_min_share", k.member_min_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(key, format!("is {v}; must be between 0 and 1"));
            }
        }
        if k.core_share + k.active_share > 1.0 {
            return bad(
                "communities.active_share",
                "core_share + active_share must not exceed 1".into(),
            );
        }
        if !(k.resolution > 0.0 && k.resolution.is_finite()) {
            return bad("communities.resolution", "must be a positive number".into());
        }
        if k.window_days == 0 || k.recompute_secs == 0 {
            return bad(
                "communities.window_days",
                "window_days and recompute_secs must be at least 1".into(),
            );
        }
        if c.sweep_every_secs == 0 {
            return bad("crawl.sweep_every_secs", "must be at least 1".into());
        }
        if let Some(url) = &self.store.url
            && !is_postgres_url(url)
        {
            return bad(
                "store.url",
                "must be a PostgreSQL URL such as postgres://kith@127.0.0.1:5432/kith".into(),
            );
        }
        if self.store.pool_size == 0 {
            return bad("store.pool_size", "must be at least 1".into());
        }
        if let Some(public) = &self.web.public_url {
            match url::Url::parse(public) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                Ok(_) => {
                    return bad(
                        "web.public_url",
                        "must be an http(s) URL with a host".into(),
                    );
                }
                Err(e) => return bad("web.public_url", format!("is not a URL: {e}")),
            }
        }
        Ok(())
    }

    /// The URL this hub is reached at, always ending in `/`.
    pub fn public_url(&self) -> String {
        let mut url = self
            .web
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}/", self.web.listen));
        if !url.ends_with('/') {
            url.push('/');
        }
        url
    }

    /// The SQLite database file inside the data directory (used unless `store.url` is set).
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("kith.sqlite3")
    }
}

/// `postgres://` or `postgresql://` with a host (what [`StoreConfig::url`] accepts).
fn is_postgres_url(s: &str) -> bool {
    url::Url::parse(s)
        .is_ok_and(|u| matches!(u.scheme(), "postgres" | "postgresql") && u.host().is_some())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        let c = Config::from_toml(text, Path::new("kith.toml"))?;
        c.validate(Path::new("kith.toml"))?;
        Ok(c)
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(Config::default().web.listen.to_string(), defaults::LISTEN);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("[crawl]\nconcurency = 3\n").unwrap_err().to_string();
        assert!(err.contains("concurency"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        let err = parse("dta_dir = \"x\"\n").unwrap_err().to_string();
        assert!(err.contains("dta_dir"), "{err}");
    }

    #[test]
    fn wrong_types_are_named() {
        let err = parse("[crawl]\nper_host = \"two\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("per_host"), "{err}");
        let err = parse("[web]\nlisten = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        let err = parse("[crawl]\nallowed_networks = [\"10.0.0.0/33\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowed_networks"), "{err}");
    }

    #[test]
    fn nonsense_values_are_explained() {
        for (text, key) in [
            ("[crawl]\nconcurrency = 0", "crawl.concurrency"),
            ("[crawl]\nper_host = 9\nconcurrency = 4", "crawl.per_host"),
            ("[crawl]\nmin_interval_secs = 5", "crawl.min_interval_secs"),
            (
                "[crawl]\nmin_interval_secs = 7200\nmax_interval_secs = 3600",
                "crawl.min_interval_secs",
            ),
            ("[crawl]\nmax_body_bytes = 10", "crawl.max_body_bytes"),
            ("[web]\npublic_url = \"ftp://x\"", "web.public_url"),
            ("data_dir = \"\"", "data_dir"),
            ("[store]\nurl = \"mysql://x/y\"", "store.url"),
            ("[store]\npool_size = 0", "store.pool_size"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{text}: {err}");
        }
    }

    #[test]
    fn environment_overrides_data_and_listen() {
        let mut c = Config::default();
        c.apply_env(|v| match v {
            "KITH_DATA" => Some("/tmp/k".into()),
            "KITH_LISTEN" => Some("127.0.0.1:9999".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/k"));
        assert_eq!(c.web.listen.port(), 9999);
        let err = c
            .apply_env(|v| (v == "KITH_LISTEN").then(|| "nowhere".to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("KITH_LISTEN"), "{err}");
        c.apply_env(|v| (v == "KITH_STORE_URL").then(|| "postgres://k@db:5432/kith".into()))
            .unwrap();
        assert_eq!(c.store.url.as_deref(), Some("postgres://k@db:5432/kith"));
        let err = c
            .apply_env(|v| (v == "KITH_STORE_URL").then(|| "kith.sqlite3".to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("KITH_STORE_URL"), "{err}");
    }

    #[test]
    fn public_url_defaults_to_the_listener() {
        let mut c = Config::default();
        assert_eq!(c.public_url(), "http://127.0.0.1:8080/");
        c.web.public_url = Some("https://kith.example".into());
        assert_eq!(c.public_url(), "https://kith.example/");
    }
}
