//! The fetcher: one polite, conditional, bounded HTTP GET.
//!
//! Redirects are followed here, by hand, rather than by reqwest: every hop is checked by
//! the private-network guard and the politeness limits, and we need to know whether the
//! whole chain was permanent (a moved feed) or not.

use crate::guard::{Blocked, GuardedResolver, NetworkGuard};
use crate::politeness::Politeness;
use crate::robots::{MAX_ROBOTS_BYTES, RobotsCache};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use http::header::{self, HeaderMap};
use kith_config::CrawlConfig;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// What we ask servers for, best first.
const ACCEPT: &str = "application/atom+xml, application/rss+xml, application/feed+json, \
    application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5";

/// Validators from the previous fetch, sent back for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A response that arrived (any status the caller should see: 2xx or 304).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL the body came from, after redirects.
    pub url: Url,
    pub status: u16,
    /// Empty for 304.
    pub body: Bytes,
    pub content_type: Option<String>,
    pub validators: Validators,
    /// Set when every redirect on the way was permanent (301/308): the resource moved.
    pub moved_to: Option<Url>,
    /// `Cache-Control: max-age` or `Expires`: the server's wish for the next poll.
    pub fresh_for: Option<Duration>,
    /// `Link` header entries (rel, URL), e.g. a WebSub hub.
    pub links: Vec<(String, Url)>,
}

impl Fetched {
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

/// Why a fetch failed, phrased for the blogger who will read it on their feed's page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the URL cannot be fetched: {0}")]
    BadUrl(String),
    #[error("refused: {0}")]
    Blocked(#[from] Blocked),
    #[error("the server did not answer in time")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// The site's robots.txt disallows this URL for Kith; the URL is in the field.
    #[error("the site's robots.txt does not allow Kith to fetch this page")]
    Robots(String),
    #[error("the response is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the server answered {status}{}", reason_suffix(*.status))]
    Status {
        status: u16,
        /// `Retry-After` on 429 and 503.
        retry_after: Option<Duration>,
    },
    #[error("the connection failed: {0}")]
    Io(String),
}

fn reason_suffix(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" ({r})"))
        .unwrap_or_default()
}

impl FetchError {
    /// A short stable label for logs and summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadUrl(_) => "bad_url",
            Self::Blocked(_) => "blocked",
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::TooManyRedirects(_) => "redirects",
            Self::Robots(_) => "robots",
            Self::TooLarge { .. } => "too_large",
            Self::Status { status, .. } if *status == 404 => "not_found",
            Self::Status { status, .. } if *status == 410 => "gone",
            Self::Status { status, .. } if *status == 429 => "rate_limited",
            Self::Status { status, .. } if *status >= 500 => "server_error",
            Self::Status { .. } => "http_status",
            Self::Io(_) => "io",
        }
    }

    /// `Retry-After`, when the server gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The crawler's HTTP client, shared by every poll.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    guard: Arc<NetworkGuard>,
    politeness: Politeness,
    robots: RobotsCache,
    max_body: u64,
    max_redirects: usize,
}

/// The User-Agent we send: who we are, and where to complain.
pub fn user_agent(contact: Option<&str>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    match contact {
        Some(c) => format!("Kith/{version} (feed aggregator; +{c})"),
        None => format!("Kith/{version} (feed aggregator)"),
    }
}

impl Fetcher {
    pub fn new(cfg: &CrawlConfig) -> Result<Fetcher, FetchError> {
        let guard = Arc::new(NetworkGuard::new(cfg.allowed_networks.clone()));
        let client = reqwest::Client::builder()
            .user_agent(user_agent(cfg.contact.as_deref()))
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs))
            .timeout(Duration::from_secs(cfg.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            // Never a proxy from the environment: it would bypass the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::clone(&guard))))
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(cfg.per_host)
            .build()
            .map_err(|e| FetchError::Io(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            guard,
            politeness: Politeness::new(
                cfg.concurrency,
                cfg.per_host,
                Duration::from_millis(cfg.per_host_delay_ms),
            ),
            robots: RobotsCache::default(),
            max_body: cfg.max_body_bytes,
            max_redirects: cfg.max_redirects,
        })
    }

    /// GETs `url`, conditionally when `validators` are given, following redirects.
    /// Returns 2xx and 304 responses; every other status is a [`FetchError::Status`].
    #[tracing::instrument(level = "debug", skip(self, validators), fields(url = %url))]
    pub async fn get(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        self.fetch(url, validators, true, self.max_body).await
    }

    /// robots.txt of `url`'s origin (conditionally, with `validators`): its status, body
    /// and validators, or why it could not be read.
    async fn fetch_robots(
        &self,
        url: Url,
        validators: Validators,
    ) -> crate::robots::RobotsResponse {
        // Boxed: fetch -> robots -> fetch is recursive (robots.txt itself is not checked).
        Box::pin(self.fetch(&url, &validators, false, MAX_ROBOTS_BYTES as u64))
            .await
            .map(|r| (r.status, r.body.to_vec(), r.validators))
    }

    /// Keeps robots.txt decisions in `memory` (the store) too: see [`crate::robots`].
    pub fn remember_robots_in(&mut self, memory: Arc<dyn crate::robots::RobotsMemory>) {
        self.robots.remember_in(memory);
    }

    async fn fetch(
        &self,
        url: &Url,
        validators: &Validators,
        obey_robots: bool,
        cap: u64,
    ) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut all_permanent = true;
        let mut hops = 0;
        loop {
            self.check_url(&current)?;
            if obey_robots {
                let rules = self
                    .robots
                    .rules(&current, |u, v| self.fetch_robots(u, v))
                    .await;
                if !rules.allows(&current) {
                    return Err(match &*rules {
                        // robots.txt could not be read: the site is down or unreachable,
                        // and that (not robots) is what the blogger needs to hear.
                        crate::robots::Rules::Unavailable { cause } => cause.clone(),
                        _ => FetchError::Robots(current.to_string()),
                    });
                }
            }
            let host = current.host_str().unwrap_or("").to_owned();
            let Some(_permit) = self.politeness.acquire(&host).await else {
                return Err(FetchError::Io("the crawler is shutting down".into()));
            };
            let mut req = self
                .client
                .get(current.clone())
                .header(header::ACCEPT, ACCEPT);
            if let Some(etag) = &validators.etag {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
            let mut resp = req.send().await.map_err(map_reqwest)?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                hops += 1;
                if hops > self.max_redirects {
                    return Err(FetchError::TooManyRedirects(self.max_redirects));
                }
                let location = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        FetchError::BadUrl(format!("a {status} redirect without a Location"))
                    })?;
                let next = current
                    .join(location.trim())
                    .map_err(|e| FetchError::BadUrl(format!("redirect to {location:?}: {e}")))?;
                all_permanent &= matches!(status, 301 | 308);
                current = next;
                continue;
            }
            let headers = resp.headers().clone();
            if status == 304 || (200..300).contains(&status) {
                let body = if status == 304 {
                    Bytes::new()
                } else {
                    read_capped(&mut resp, cap).await?
                };
                let moved_to =
                    (hops > 0 && all_permanent && current != *url).then(|| current.clone());
                let links = headers
                    .get_all(header::LINK)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| crate::websub::parse_link_header(v, &current))
                    .collect();
                return Ok(Fetched {
                    url: current,
                    status,
                    body,
                    content_type: header_str(&headers, header::CONTENT_TYPE),
                    validators: Validators {
                        etag: header_str(&headers, header::ETAG),
                        last_modified: header_str(&headers, header::LAST_MODIFIED),
                    },
                    moved_to,
                    fresh_for: freshness(&headers, Utc::now()),
                    links,
                });
            }
            return Err(FetchError::Status {
                status,
                retry_after: matches!(status, 429 | 503)
                    .then(|| retry_after(&headers, Utc::now()))
                    .flatten(),
            });
        }
    }

    /// POSTs a form (a WebSub subscription request) without following redirects; returns
    /// the status. The hub URL comes from a feed, so it is guarded like any fetch.
    pub async fn post_form(&self, url: &Url, form: &[(&str, &str)]) -> Result<u16, FetchError> {
        self.check_url(url)?;
        let host = url.host_str().unwrap_or("").to_owned();
        let Some(_permit) = self.politeness.acquire(&host).await else {
            return Err(FetchError::Io("the crawler is shutting down".into()));
        };
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = self
            .client
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(map_reqwest)?;
        Ok(resp.status().as_u16())
    }

    /// Scheme and literal-IP checks; host names are checked by the resolver at connect.
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(format!(
                "{url}: only http and https are fetched"
            )));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.guard.check(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.guard.check(IpAddr::V6(ip))?,
            Some(url::Host::Domain(d)) => {
                // "localhost" and friends never reach DNS in some resolvers.
                if d.eq_ignore_ascii_case("localhost")
                    || d.to_ascii_lowercase().ends_with(".localhost")
                {
                    self.guard
                        .check(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))?;
                }
            }
            None => return Err(FetchError::BadUrl(format!("{url} has no host"))),
        }
        Ok(())
    }
}

async fn read_capped(resp: &mut reqwest::Response, cap: u64) -> Result<Bytes, FetchError> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(FetchError::TooLarge { limit: cap });
    }
    let mut buf = BytesMut::new();
    // Chunks are decompressed already, so the cap bounds what we hold, not what was sent.
    while let Some(chunk) = resp.chunk().await.map_err(map_reqwest)? {
        if buf.len() as u64 + chunk.len() as u64 > cap {
            return Err(FetchError::TooLarge { limit: cap });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(h: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let v = header_str(h, header::RETRY_AFTER)?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(&v)?;
    (at - now).to_std().ok()
}

/// How long the server says the response stays fresh (`max-age`, else `Expires`).
pub fn freshness(h: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    if let Some(cc) = header_str(h, header::CACHE_CONTROL) {
        for d in cc.split(',') {
            if let Some(v) = d.trim().strip_prefix("max-age=")
                && let Ok(secs) = v.trim_matches('"').parse::<u64>()
            {
                return Some(Duration::from_secs(secs));
            }
        }
    }
    let expires = parse_http_date(&header_str(h, header::EXPIRES)?)?;
    (expires - now).to_std().ok()
}

fn map_reqwest(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_connect() {
        FetchError::Connect(error_chain(&e))
    } else {
        FetchError::Io(error_chain(&e))
    }
}

/// The causes of an error, outermost skipped (reqwest's repeats the URL): that is where
/// the useful words are ("connection refused", "dns error: ... resolves to ...").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = e.source();
    while let Some(err) = cur {
        let msg = err.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ").chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = Utc::now();
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        let later = (now + chrono::Duration::seconds(3600)).to_rfc2822();
        h.insert(header::RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let got = retry_after(&h, now).unwrap().as_secs();
        assert!((3598..=3600).contains(&got), "{got}");
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn freshness_prefers_max_age() {
        let now = Utc::now();
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=900"),
        );
        h.insert(
            header::EXPIRES,
            HeaderValue::from_static("Thu, 01 Jan 2099 00:00:00 GMT"),
        );
        assert_eq!(freshness(&h, now), Some(Duration::from_secs(900)));
        h.remove(header::CACHE_CONTROL);
        assert!(freshness(&h, now).unwrap() > Duration::from_secs(86400));
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = FetchError::Status {
            status: 503,
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "the server answered 503 (Service Unavailable)"
        );
        assert_eq!(e.kind(), "server_error");
    }
}
