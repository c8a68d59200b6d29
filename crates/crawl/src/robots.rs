//! robots.txt (RFC 9309) for the `kith` product token, cached per origin.
//!
//! - 2xx: parsed (the first 500 KiB, as the RFC allows);
//! - 4xx (no robots.txt): everything allowed;
//! - 5xx or unreachable: everything disallowed for now, and asked again sooner.
//!
//! Parsing and matching (groups, longest match, `*` and `$`) are texting_robots', which is
//! tested against Google's robots.txt conformance suite.
//!
//! Decisions (a file read, or a 4xx) are also kept in a [`RobotsMemory`] (the store) with
//! their expiry and validators: another process, or the next `kith crawl --once`, uses a
//! fresh one without asking the site, and refreshes a stale one with a conditional GET.

use crate::fetch::{FetchError, Validators};
use chrono::Utc;
use kith_model::StoredRobots;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;
use url::Url;

/// Where robots.txt decisions outlive a process: the store, in the binary. Failures are
/// the implementation's to log; a decision not kept is fetched again, nothing worse.
pub trait RobotsMemory: Send + Sync + std::fmt::Debug {
    fn load<'a>(
        &'a self,
        origin: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<StoredRobots>> + Send + 'a>>;
    fn save(&self, robots: StoredRobots) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// What fetching robots.txt gave: status, body and validators (a 304 has no body).
pub type RobotsResponse = Result<(u16, Vec<u8>, Validators), FetchError>;

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
    /// The rules and until when they hold.
    rules: OnceCell<(Arc<Rules>, Instant)>,
}

/// A cache of robots rules per origin; concurrent requests to one origin share one fetch.
#[derive(Debug, Default)]
pub struct RobotsCache {
    origins: Mutex<HashMap<String, Arc<Entry>>>,
    memory: Option<Arc<dyn RobotsMemory>>,
}

/// `scheme://host:port` of a URL.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl RobotsCache {
    /// Keeps decisions in `memory` too, and looks there before asking a site.
    pub fn remember_in(&mut self, memory: Arc<dyn RobotsMemory>) {
        self.memory = Some(memory);
    }

    /// The rules for `url`'s origin: from this process's cache, else from the memory when
    /// fresh there, else fetched with `fetch` (conditionally, with the validators of what
    /// the memory holds). `fetch` returns the robots.txt status, body and validators, or
    /// why it could not be fetched.
    pub async fn rules<F, Fut>(&self, url: &Url, fetch: F) -> Arc<Rules>
    where
        F: FnOnce(Url, Validators) -> Fut,
        Fut: Future<Output = RobotsResponse>,
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
                .is_some_and(|(_, until)| Instant::now() >= *until);
            if stale {
                map.remove(&origin);
            }
            if map.len() >= MAX_ORIGINS {
                map.clear();
            }
            Arc::clone(map.entry(origin.clone()).or_insert_with(|| {
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
                let (rules, fresh_for) = self.read(&origin, robots_url, fetch).await;
                (Arc::new(rules), Instant::now() + fresh_for)
            })
            .await;
        Arc::clone(rules)
    }

    /// The rules of `origin` and how long they hold: the memory's when fresh, else what
    /// `fetch` gives (a 304 renews the memory's), kept in the memory when a decision.
    async fn read<F, Fut>(&self, origin: &str, robots_url: Url, fetch: F) -> (Rules, Duration)
    where
        F: FnOnce(Url, Validators) -> Fut,
        Fut: Future<Output = RobotsResponse>,
    {
        let now = Utc::now();
        let known = match &self.memory {
            Some(m) => m.load(origin).await,
            None => None,
        };
        if let Some(k) = &known
            && k.expires_at > now
        {
            let left = (k.expires_at - now).to_std().unwrap_or(Duration::ZERO);
            let rules = Rules::from_response(Ok((k.status, k.body.clone())));
            return (rules, left.min(FRESH_FOR));
        }
        let validators = known
            .as_ref()
            .map_or_else(Validators::default, |k| Validators {
                etag: k.etag.clone(),
                last_modified: k.last_modified.clone(),
            });
        let response = fetch(robots_url, validators).await;
        // What to keep: the answer read (or the known one a 304 confirms), if a decision.
        let decision: Option<(u16, Vec<u8>, Validators)> = match &response {
            Ok((304, _, v)) => known.map(|k| {
                let etag = v.etag.clone().or(k.etag);
                let last_modified = v.last_modified.clone().or(k.last_modified);
                (
                    k.status,
                    k.body,
                    Validators {
                        etag,
                        last_modified,
                    },
                )
            }),
            Ok((status @ (200..=299 | 400..=499), body, v)) => Some((
                *status,
                body[..body.len().min(MAX_ROBOTS_BYTES)].to_vec(),
                v.clone(),
            )),
            Err(FetchError::Status {
                status: status @ 400..=499,
                ..
            }) => Some((*status, Vec::new(), Validators::default())),
            _ => None,
        };
        let Some((status, body, v)) = decision else {
            let rules = Rules::from_response(response.map(|(s, b, _)| (s, b)));
            let fresh_for = rules.fresh_for();
            return (rules, fresh_for);
        };
        let rules = Rules::from_response(Ok((status, body.clone())));
        if let Some(m) = &self.memory {
            m.save(StoredRobots {
                origin: origin.to_owned(),
                status,
                body,
                etag: v.etag,
                last_modified: v.last_modified,
                fetched_at: now,
                expires_at: now + chrono::Duration::from_std(FRESH_FOR).unwrap_or_default(),
            })
            .await;
        }
        (rules, FRESH_FOR)
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

    /// A memory in a map, counting what is saved.
    #[derive(Debug, Default)]
    struct Memory(
        Mutex<HashMap<String, StoredRobots>>,
        std::sync::atomic::AtomicUsize,
    );

    impl RobotsMemory for Memory {
        fn load<'a>(
            &'a self,
            origin: &'a str,
        ) -> Pin<Box<dyn Future<Output = Option<StoredRobots>> + Send + 'a>> {
            let found = self.0.lock().unwrap().get(origin).cloned();
            Box::pin(async move { found })
        }
        fn save(&self, robots: StoredRobots) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.lock().unwrap().insert(robots.origin.clone(), robots);
            Box::pin(async {})
        }
    }

    fn cache_with(memory: &Arc<Memory>) -> RobotsCache {
        let mut cache = RobotsCache::default();
        cache.remember_in(Arc::clone(memory) as Arc<dyn RobotsMemory>);
        cache
    }

    #[tokio::test]
    async fn decisions_are_kept_used_while_fresh_and_renewed_conditionally() {
        let memory = Arc::new(Memory::default());
        let site = url("http://site.example/feed.xml");
        let private = url("http://site.example/private/x");
        let txt = b"User-agent: *\nDisallow: /private\n".to_vec();
        // First process: fetched, kept with its validators.
        let rules = cache_with(&memory)
            .rules(&site, |_, v| {
                assert_eq!(v, Validators::default());
                let txt = txt.clone();
                async move {
                    let v = Validators {
                        etag: Some("\"r1\"".into()),
                        last_modified: None,
                    };
                    Ok((200, txt, v))
                }
            })
            .await;
        assert!(!rules.allows(&private));
        let kept = memory.0.lock().unwrap()["http://site.example"].clone();
        assert_eq!((kept.status, kept.etag.as_deref()), (200, Some("\"r1\"")));
        assert!(kept.expires_at > Utc::now() + chrono::Duration::hours(23));
        // Second process: fresh in the memory, the site is not asked.
        let rules = cache_with(&memory)
            .rules(&site, |_, _| async { panic!("asked the site") })
            .await;
        assert!(!rules.allows(&private) && rules.allows(&site));
        // Stale: asked again with the validators; a 304 renews what is kept.
        memory
            .0
            .lock()
            .unwrap()
            .get_mut("http://site.example")
            .unwrap()
            .expires_at = Utc::now() - chrono::Duration::minutes(1);
        let rules = cache_with(&memory)
            .rules(&site, |_, v| {
                assert_eq!(v.etag.as_deref(), Some("\"r1\""));
                async { Ok((304, Vec::new(), Validators::default())) }
            })
            .await;
        assert!(!rules.allows(&private), "the kept file still rules");
        let renewed = memory.0.lock().unwrap()["http://site.example"].clone();
        assert!(renewed.expires_at > Utc::now() + chrono::Duration::hours(23));
        assert_eq!((renewed.body, renewed.etag), (kept.body, kept.etag));
        // A 404 is a decision (no rules) and kept; a 503 is not.
        let saved = memory.1.load(std::sync::atomic::Ordering::SeqCst);
        let none = url("http://other.example/feed");
        let r = cache_with(&memory)
            .rules(&none, |_, _| async {
                Err(FetchError::Status {
                    status: 404,
                    retry_after: None,
                })
            })
            .await;
        assert!(r.allows(&none));
        assert_eq!(memory.0.lock().unwrap()["http://other.example"].status, 404);
        let down = url("http://down.example/feed");
        let r = cache_with(&memory)
            .rules(&down, |_, _| async {
                Err(FetchError::Status {
                    status: 503,
                    retry_after: None,
                })
            })
            .await;
        assert!(!r.allows(&down));
        assert!(!memory.0.lock().unwrap().contains_key("http://down.example"));
        assert_eq!(
            memory.1.load(std::sync::atomic::Ordering::SeqCst),
            saved + 1
        );
    }

    #[tokio::test]
    async fn one_fetch_per_origin() {
        let cache = RobotsCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        for path in ["/a", "/b", "/c"] {
            let rules = cache
                .rules(&url(&format!("http://site.example{path}")), |u, _| {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert_eq!(u.as_str(), "http://site.example/robots.txt");
                    async {
                        Ok((
                            200,
                            b"User-agent: *\nDisallow: /b\n".to_vec(),
                            Validators::default(),
                        ))
                    }
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
