//! One poll of one blog: fetch conditionally, parse, check ownership, schedule the next
//! poll. The result is a [`PollResult`] for the store; nothing here touches storage.

use crate::discover::{DiscoverError, Discovery, discover};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::parse::{ParseError, ParsedFeed, parse_feed_without_language};
use crate::schedule::Schedule;
use crate::websub::{HubLinks, find_hub};
use chrono::{DateTime, Utc};
use kith_config::CrawlConfig;
use kith_model::{Blog, BlogStatus, FeedState, PollResult};
use std::time::Duration;
use url::Url;

/// How a poll went, for summaries and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// A new body was read and parsed.
    Fetched { entries: usize },
    /// 304: nothing changed, nothing to do.
    NotModified,
    /// The feed answered 410: it is gone for good.
    Gone,
    /// Something went wrong; retried later with backoff.
    Failed { kind: &'static str, reason: String },
}

/// What [`Crawler::poll`] produced.
#[derive(Debug, Clone)]
pub struct Poll {
    pub result: PollResult,
    pub outcome: PollOutcome,
    /// The WebSub hub the feed names, when it names one.
    pub hub: Option<HubLinks>,
}

/// The crawler: a shared fetcher (with its politeness limits) and the schedule rules.
#[derive(Debug)]
pub struct Crawler {
    fetcher: Fetcher,
    /// The most an entry stores of each field.
    limits: crate::bounds::FieldLimits,
    schedule: Schedule,
    /// The hub's public URL: a homepage's `rel="me"` link to `{public_url}blogs/{id}`
    /// proves ownership.
    public_url: String,
}

/// On a blog's first crawl, entries older than this are history (backfill), not news.
pub const BACKFILL_AGE: chrono::Duration = chrono::Duration::days(2);
/// A permanent redirect must be seen on this many polls in a row before the stored feed
/// URL follows it: one misconfigured deploy should not move a feed for good.
pub const MOVES_CONFIRMED_AFTER: u32 = 2;

/// Marks entries of a blog's first crawl that are older than [`BACKFILL_AGE`] as backfill,
/// so a blog with a long history does not flood the front pages when it joins.
pub fn mark_backfill(entries: &mut [kith_model::NewPost], now: DateTime<Utc>) {
    for e in entries {
        e.backfill = e.published < now - BACKFILL_AGE;
    }
}

/// Follows a permanent redirect into the crawl state; returns the new feed URL once the
/// move is confirmed.
fn track_move(prev: &FeedState, moved_to: Option<&Url>, state: &mut FeedState) -> Option<String> {
    let Some(to) = moved_to.map(Url::as_str) else {
        state.redirect_to = None;
        state.redirect_count = 0;
        return None;
    };
    let seen = if prev.redirect_to.as_deref() == Some(to) {
        prev.redirect_count.saturating_add(1)
    } else {
        1
    };
    if seen >= MOVES_CONFIRMED_AFTER {
        state.redirect_to = None;
        state.redirect_count = 0;
        Some(to.to_owned())
    } else {
        state.redirect_to = Some(to.to_owned());
        state.redirect_count = seen;
        None
    }
}

/// A new ownership token for a blog.
pub fn new_verification_token() -> String {
    format!("kith-{:032x}", rand::random::<u128>())
}

impl Crawler {
    /// `public_url` is the hub's own URL (see `kith_config::Config::public_url`).
    pub fn new(cfg: &CrawlConfig, public_url: &str) -> Result<Crawler, FetchError> {
        Ok(Crawler {
            public_url: public_url.to_owned(),
            fetcher: Fetcher::new(cfg)?,
            limits: crate::bounds::FieldLimits::from_config(cfg),
            schedule: Schedule {
                min: Duration::from_secs(cfg.min_interval_secs),
                max: Duration::from_secs(cfg.max_interval_secs),
            },
        })
    }

    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// Keeps robots.txt decisions in `memory` (the store) too, so that other processes
    /// and later runs use them: see [`crate::robots`].
    pub fn remember_robots_in(&mut self, memory: std::sync::Arc<dyn crate::robots::RobotsMemory>) {
        self.fetcher.remember_robots_in(memory);
    }

    /// Finds the feed for a homepage or feed URL (see [`crate::discover`]).
    pub async fn discover(&self, input: &str) -> Result<Discovery, DiscoverError> {
        discover(&self.fetcher, input).await
    }

    /// The crawl state after a successful discovery, so the first poll can be conditional.
    pub fn state_after_discovery(&self, d: &Discovery, blog_seed: u64) -> FeedState {
        let dates: Vec<_> = d.feed.entries.iter().map(|e| e.published).collect();
        let interval = self.schedule.rhythm(&dates);
        self.success_state(
            Utc::now(),
            interval,
            d.feed.ttl_minutes,
            &d.response,
            blog_seed,
        )
    }

    /// The crawl state after a 2xx: validators from the response, errors cleared, next
    /// poll from the feed's rhythm and the server's freshness hints.
    fn success_state(
        &self,
        now: DateTime<Utc>,
        interval: Duration,
        ttl_minutes: Option<u32>,
        resp: &Fetched,
        seed: u64,
    ) -> FeedState {
        FeedState {
            etag: resp.validators.etag.clone(),
            last_modified: resp.validators.last_modified.clone(),
            next_check_at: Some(self.schedule.after_success(
                now,
                interval,
                self.floor(ttl_minutes, resp),
                seed,
            )),
            consecutive_errors: 0,
            last_status: Some(resp.status),
            last_error: None,
            last_checked_at: Some(now),
            last_success_at: Some(now),
            interval_secs: Some(interval.as_secs()),
            redirect_to: None,
            redirect_count: 0,
            // What this read leaves out is added by the caller (the parser's notes) and
            // the store (entries skipped).
            notes: Vec::new(),
        }
    }

    fn floor(&self, ttl_minutes: Option<u32>, resp: &Fetched) -> Option<Duration> {
        let ttl = ttl_minutes.map(|m| Duration::from_secs(u64::from(m) * 60));
        match (ttl, resp.fresh_for) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Polls one blog's feed once. Never fails: errors become crawl state (with a reason
    /// a blogger can read) and a later retry.
    #[tracing::instrument(level = "debug", skip_all, fields(blog_id = %blog.id, feed_url = %blog.feed_url))]
    pub async fn poll(&self, blog: &Blog) -> Poll {
        let now = Utc::now();
        let seed = (blog.id.0 as u64).rotate_left(32) ^ now.timestamp() as u64;
        let prev = &blog.feed;
        let url = match Url::parse(&blog.feed_url) {
            Ok(u) => u,
            Err(e) => return self.failed(blog, now, seed, FetchError::BadUrl(e.to_string())),
        };
        let validators = Validators {
            etag: prev.etag.clone(),
            last_modified: prev.last_modified.clone(),
        };
        let resp = match self.fetcher.get(&url, &validators).await {
            Ok(r) => r,
            Err(FetchError::Status { status: 410, .. }) => {
                let state = FeedState {
                    next_check_at: Some(
                        now + chrono::Duration::from_std(self.schedule.max)
                            .unwrap_or(chrono::Duration::days(1)),
                    ),
                    last_status: Some(410),
                    last_error: Some(
                        "the feed is gone (410): the server says it was removed for good".into(),
                    ),
                    last_checked_at: Some(now),
                    consecutive_errors: prev.consecutive_errors.saturating_add(1),
                    ..prev.clone()
                };
                let mut result = PollResult::new(blog.id, state);
                result.status = Some(BlogStatus::Gone);
                return Poll {
                    result,
                    outcome: PollOutcome::Gone,
                    hub: None,
                };
            }
            Err(e) => return self.failed(blog, now, seed, e),
        };

        let interval_of = |s: &FeedState| {
            s.interval_secs
                .map(Duration::from_secs)
                .unwrap_or(self.schedule.max / 4)
        };
        if resp.not_modified() {
            let mut state = FeedState {
                next_check_at: Some(self.schedule.after_success(
                    now,
                    interval_of(prev),
                    resp.fresh_for,
                    seed,
                )),
                consecutive_errors: 0,
                last_status: Some(304),
                last_error: None,
                last_checked_at: Some(now),
                last_success_at: Some(now),
                // A 304 may carry fresh validators; keep the old ones otherwise.
                etag: resp.validators.etag.clone().or_else(|| prev.etag.clone()),
                last_modified: resp
                    .validators
                    .last_modified
                    .clone()
                    .or_else(|| prev.last_modified.clone()),
                interval_secs: prev.interval_secs,
                redirect_to: None,
                redirect_count: 0,
                // The feed is as it was: so is what reading it left out.
                notes: prev.notes.clone(),
            };
            let moved = track_move(prev, resp.moved_to.as_ref(), &mut state);
            let mut result = PollResult::new(blog.id, state);
            result.feed_url = moved;
            if blog.status == BlogStatus::Pending && self.homepage_proves(blog).await {
                result.status = Some(BlogStatus::Verified);
            }
            return Poll {
                result,
                outcome: PollOutcome::NotModified,
                hub: find_hub(&resp.links, b"", &resp.url),
            };
        }

        // Parsing and sanitising are CPU work: off the async workers, and in parallel
        // across polls. Languages are left to the caller, which knows which entries are new.
        let parsed = {
            let (body, content_type, url) = (
                resp.body.clone(),
                resp.content_type.clone(),
                resp.url.clone(),
            );
            crate::cpu::run(move || {
                parse_feed_without_language(&body, content_type.as_deref(), &url, now)
            })
            .await
            .unwrap_or_else(|e| {
                Err(ParseError {
                    reason: format!("the parser failed: {e}"),
                })
            })
        };
        let mut feed: ParsedFeed = match parsed {
            Ok(f) => f,
            Err(e) => {
                let mut poll = self.failed(blog, now, seed, FetchError::Io(String::new()));
                poll.result.state.last_status = Some(resp.status);
                poll.result.state.last_error =
                    Some(format!("the feed could not be read: {}", e.reason));
                poll.outcome = PollOutcome::Failed {
                    kind: "parse",
                    reason: e.reason,
                };
                return poll;
            }
        };
        let dates: Vec<DateTime<Utc>> = feed.entries.iter().map(|e| e.published).collect();
        let interval = self.schedule.rhythm(&dates);
        // What the entries may store of each field; what was cut goes into the health.
        let notes = crate::bounds::bound_feed(&mut feed, &self.limits, &resp.url);
        let mut entries = feed.entries;
        if prev.last_success_at.is_none() {
            mark_backfill(&mut entries, now);
        }
        let mut state = self.success_state(now, interval, feed.ttl_minutes, &resp, seed);
        state.notes = notes;
        let feed_url = track_move(prev, resp.moved_to.as_ref(), &mut state);
        let mut status = None;
        if blog.status == BlogStatus::Pending {
            let token = blog.verification_token.as_bytes();
            let in_feed = !token.is_empty() && resp.body.windows(token.len()).any(|w| w == token);
            if in_feed || self.homepage_proves(blog).await {
                status = Some(BlogStatus::Verified);
            }
        }
        Poll {
            hub: find_hub(&resp.links, &resp.body, &resp.url),
            outcome: PollOutcome::Fetched {
                entries: entries.len(),
            },
            result: PollResult {
                blog_id: blog.id,
                state,
                title: feed.title,
                status,
                feed_url,
                posts: entries,
            },
        }
    }

    /// Whether the blog's homepage proves ownership: its verification token in
    /// `<meta name="kith-verification" content="TOKEN">`, or a `rel="me"` link to the
    /// hub's page for the blog.
    async fn homepage_proves(&self, blog: &Blog) -> bool {
        let Ok(url) = Url::parse(&blog.homepage_url) else {
            return false;
        };
        let Ok(page) = self.fetcher.get(&url, &Validators::default()).await else {
            return false;
        };
        let html = crate::parse::decode(&page.body, page.content_type.as_deref());
        let blog_page = format!("{}blogs/{}", self.public_url, blog.id);
        homepage_has_proof(&html, &page.url, &blog.verification_token, &blog_page)
    }

    /// The WebSub hub a discovered feed names, if any.
    pub fn discovery_hub(&self, d: &Discovery) -> Option<HubLinks> {
        find_hub(&d.response.links, &d.response.body, &d.response.url)
    }

    /// Marks first-crawl history in a discovery's entries (see [`mark_backfill`]) and bounds
    /// their fields (see [`crate::bounds`]); returns what was cut, for the crawl state.
    pub fn prepare_discovery(&self, d: &mut Discovery) -> Vec<String> {
        mark_backfill(&mut d.feed.entries, Utc::now());
        crate::bounds::bound_feed(&mut d.feed, &self.limits, &d.response.url)
    }

    fn failed(&self, blog: &Blog, now: DateTime<Utc>, seed: u64, err: FetchError) -> Poll {
        let prev = &blog.feed;
        let errors = prev.consecutive_errors.saturating_add(1);
        let state = FeedState {
            next_check_at: Some(
                self.schedule
                    .after_error(now, errors, err.retry_after(), seed),
            ),
            consecutive_errors: errors,
            last_status: match &err {
                FetchError::Status { status, .. } => Some(*status),
                _ => None,
            },
            last_error: Some(err.to_string()),
            last_checked_at: Some(now),
            ..prev.clone()
        };
        tracing::info!(blog_id = %blog.id, kind = err.kind(), error = %err, errors, "poll failed");
        Poll {
            result: PollResult::new(blog.id, state),
            outcome: PollOutcome::Failed {
                kind: err.kind(),
                reason: err.to_string(),
            },
            hub: None,
        }
    }
}

/// The ownership proofs a homepage can carry: the token in a `kith-verification` meta tag,
/// or a `rel="me"` link to the hub's page for the blog.
pub fn homepage_has_proof(html: &str, page_url: &Url, token: &str, blog_page: &str) -> bool {
    if token.trim().is_empty() {
        return false;
    }
    let doc = scraper::Html::parse_document(html);
    if let Ok(sel) = scraper::Selector::parse(r#"meta[name="kith-verification"]"#)
        && doc
            .select(&sel)
            .filter_map(|m| m.value().attr("content"))
            .any(|c| c.trim() == token)
    {
        return true;
    }
    let same = |href: &str| {
        page_url
            .join(href.trim())
            .is_ok_and(|u| u.as_str().trim_end_matches('/') == blog_page.trim_end_matches('/'))
    };
    let Ok(me) = scraper::Selector::parse("a[rel][href], link[rel][href]") else {
        return false;
    };
    doc.select(&me).any(|el| {
        let v = el.value();
        v.attr("rel")
            .is_some_and(|r| r.split_whitespace().any(|r| r.eq_ignore_ascii_case("me")))
            && v.attr("href").is_some_and(same)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn proofs_on_a_homepage() {
        let page = Url::parse("https://blog.example/").unwrap();
        let hub = "https://kith.example/blogs/7";
        let meta = r#"<head><meta name="kith-verification" content=" kith-abc "></head>"#;
        assert!(homepage_has_proof(meta, &page, "kith-abc", hub));
        assert!(!homepage_has_proof(meta, &page, "kith-other", hub));
        let me = r#"<a rel="me noopener" href="https://kith.example/blogs/7/">me on Kith</a>"#;
        assert!(homepage_has_proof(me, &page, "kith-abc", hub));
        let not_me = r#"<a href="https://kith.example/blogs/7">Kith</a><a rel="me" href="https://kith.example/blogs/71">x</a>"#;
        assert!(!homepage_has_proof(not_me, &page, "kith-abc", hub));
        assert!(
            !homepage_has_proof(meta, &page, "", hub),
            "an empty token proves nothing"
        );
    }

    #[test]
    fn a_move_is_confirmed_on_the_second_poll() {
        let to = Url::parse("https://new.example/feed").unwrap();
        let mut first = FeedState::default();
        assert_eq!(
            track_move(&FeedState::default(), Some(&to), &mut first),
            None
        );
        assert_eq!(first.redirect_count, 1);
        let mut second = FeedState::default();
        assert_eq!(
            track_move(&first, Some(&to), &mut second).as_deref(),
            Some(to.as_str())
        );
        assert_eq!(second.redirect_to, None);
        let mut back = FeedState::default();
        assert_eq!(
            track_move(&first, None, &mut back),
            None,
            "no redirect this time: reset"
        );
        assert_eq!(back.redirect_count, 0);
    }

    #[test]
    fn only_old_entries_of_a_first_crawl_are_backfill() {
        let now = Utc::now();
        let post = |days: i64| kith_model::NewPost {
            guid: days.to_string(),
            url: None,
            title: String::new(),
            author: None,
            published: now - chrono::Duration::days(days),
            updated: None,
            content_html: String::new(),
            text: String::new(),
            content_hash: String::new(),
            language: None,
            categories: vec![],
            backfill: false,
            tags: Vec::new(),
        };
        let mut entries = vec![post(0), post(1), post(3), post(400)];
        mark_backfill(&mut entries, now);
        let flags: Vec<bool> = entries.iter().map(|e| e.backfill).collect();
        assert_eq!(flags, [false, false, true, true]);
    }
}
