//! robots.txt (RFC 9309) for the `kith` product token, cached per origin.
//!
//! - 2xx: parsed (the first 500 KiB, as the RFC allows);
//! - 4xx (no robots.txt): everything allowed;
//! - 5xx or unreachable: everything disallowed for now, and asked again sooner.
//!
//! Parsing and matching (groups, longest match, `*` and `$`) are texting_robots', which is
//! tested against Google's robots.txt conformance suite.

use crate::fetch::FetchError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;
use url::Url;

/// The product token we obey.
pub const ROBOTS_AGENT: &str = "kith";
/// Most of a robots.txt we read.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;
/// How long a fetched robots.txt is trusted.
const FRESH_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long "unreachable, so disallow" is kept before asking again. Short: polls of a
/// failing feed back off anyway, and a server that recovers should be read again soon.
const UNREACHABLE_FOR: Duration = Duration::from_secs(60);
/// Origins remembered; the oldest are dropped beyond this.
const MAX_ORIGINS: usize = 16_384;

/// What one origin's robots.txt says.
#[derive(Debug)]
pub enum Rules {
    AllowAll,
    /// Unreachable or 5xx: nothing may be fetched for now; `cause` says why.
    Unavailable {
        cause: FetchError,
    },
    Parsed(Box<texting_robots::Robot>),
}

impl Rules {
    pub fn allows(&self, url: &Url) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::Unavailable { .. } => false,
            Rules::Parsed(r) => r.allowed(url.as_str()),
        }
    }

    /// Crawl-delay, when the site asks for one.
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Rules::Parsed(r) => r
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d.min(60.0))),
            _ => None,
        }
    }

    /// Reads the outcome of fetching robots.txt: its status and body, or why it failed.
    pub fn from_response(response: Result<(u16, Vec<u8>), FetchError>) -> Rules {
        let (status, body) = match response {
            Ok(r) => r,
            Err(FetchError::Status { status, .. }) => (status, Vec::new()),
            // Larger than the RFC's minimum: we treat it as having no rules rather than
            // obey a truncated file.
            Err(FetchError::TooLarge { .. }) => return Rules::AllowAll,
            Err(cause) => return Rules::Unavailable { cause },
        };
        let body = body.as_slice();
        match status {
            200..=299 => {
                let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
                match texting_robots::Robot::new(ROBOTS_AGENT, body) {
                    Ok(r) => Rules::Parsed(Box::new(r)),
                    // Unparseable robots.txt: treat as no rules, like major crawlers do.
                    Err(_) => Rules::AllowAll,
                }
            }
            400..=499 => Rules::AllowAll,
            _ => Rules::Unavailable {
                cause: FetchError::Status {
                    status,
                    retry_after: None,
                },
            },
        }
    }

    fn fresh_for(&self) -> Duration {
        match self {
            Rules::Unavailable { .. } => UNREACHABLE_FOR,
            _ => FRESH_FOR,
        }
    }
}

#[derive(Debug)]
struct Entry {
    rules: OnceCell<(Arc<Rules>, Instant)>,
}

/// A cache of robots rules per origin; concurrent requests to one origin share one fetch.
#[derive(Debug, Default)]
pub struct RobotsCache {
    origins: Mutex<HashMap<String, Arc<Entry>>>,
}

/// `scheme://host:port` of a URL.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl RobotsCache {
    /// The rules for `url`'s origin, fetching them with `fetch` when not cached or stale.
    /// `fetch` returns the robots.txt status and body, or why it could not be fetched.
    pub async fn rules<F, Fut>(&self, url: &Url, fetch: F) -> Arc<Rules>
    where
        F: FnOnce(Url) -> Fut,
        Fut: std::future::Future<Output = Result<(u16, Vec<u8>), FetchError>>,
    {
        let origin = origin_of(url);
        let entry = {
            let mut map = match self.origins.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            let stale = map
                .get(&origin)
                .and_then(|e| e.rules.get())
                .is_some_and(|(rules, at)| at.elapsed() > rules.fresh_for());
            if stale {
                map.remove(&origin);
            }
            if map.len() >= MAX_ORIGINS {
                map.clear();
            }
            Arc::clone(map.entry(origin).or_insert_with(|| {
                Arc::new(Entry {
                    rules: OnceCell::new(),
                })
            }))
        };
        let (rules, _) = entry
            .rules
            .get_or_init(|| async {
                let mut robots_url = url.clone();
                robots_url.set_path("/robots.txt");
                robots_url.set_query(None);
                robots_url.set_fragment(None);
                (
                    Arc::new(Rules::from_response(fetch(robots_url).await)),
                    Instant::now(),
                )
            })
            .await;
        Arc::clone(rules)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn status_decides_before_content() {
        let status = |s: u16| {
            Err(FetchError::Status {
                status: s,
                retry_after: None,
            })
        };
        assert!(Rules::from_response(status(404)).allows(&url("http://a/x")));
        assert!(!Rules::from_response(status(503)).allows(&url("http://a/x")));
        assert!(!Rules::from_response(Err(FetchError::Timeout)).allows(&url("http://a/x")));
        assert!(!Rules::from_response(Ok((500, vec![]))).allows(&url("http://a/x")));
    }

    #[test]
    fn our_group_wins_over_the_wildcard() {
        let txt = b"User-agent: *\nDisallow: /\n\nUser-agent: kith\nDisallow: /private\nAllow: /private/feed.xml\nCrawl-delay: 2\n";
        let r = Rules::from_response(Ok((200, txt.to_vec())));
        assert!(r.allows(&url("http://a/feed.xml")));
        assert!(!r.allows(&url("http://a/private/x")));
        assert!(r.allows(&url("http://a/private/feed.xml")), "longest match");
        assert_eq!(r.crawl_delay(), Some(Duration::from_secs(2)));
        let others =
            Rules::from_response(Ok((200, b"User-agent: *\nDisallow: /feeds/\n".to_vec())));
        assert!(!others.allows(&url("http://a/feeds/all.xml")));
    }

    #[tokio::test]
    async fn one_fetch_per_origin() {
        let cache = RobotsCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        for path in ["/a", "/b", "/c"] {
            let rules = cache
                .rules(&url(&format!("http://site.example{path}")), |u| {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert_eq!(u.as_str(), "http://site.example/robots.txt");
                    async { Ok((200, b"User-agent: *\nDisallow: /b\n".to_vec())) }
                })
                .await;
            assert_eq!(
                rules.allows(&url(&format!("http://site.example{path}"))),
                path != "/b"
            );
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
