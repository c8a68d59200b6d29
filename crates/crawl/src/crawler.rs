//! One poll of one blog: fetch conditionally, parse, check ownership, schedule the next
//! poll. The result is a [`PollResult`] for the store; nothing here touches storage.

use crate::discover::{DiscoverError, Discovery, discover};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::parse::parse_feed;
use crate::schedule::Schedule;
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
}

/// The crawler: a shared fetcher (with its politeness limits) and the schedule rules.
#[derive(Debug)]
pub struct Crawler {
    fetcher: Fetcher,
    schedule: Schedule,
}

/// A new ownership token for a blog.
pub fn new_verification_token() -> String {
    format!("kith-{:032x}", rand::random::<u128>())
}

impl Crawler {
    pub fn new(cfg: &CrawlConfig) -> Result<Crawler, FetchError> {
        Ok(Crawler {
            fetcher: Fetcher::new(cfg)?,
            schedule: Schedule {
                min: Duration::from_secs(cfg.min_interval_secs),
                max: Duration::from_secs(cfg.max_interval_secs),
            },
        })
    }

    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// Finds the feed for a homepage or feed URL (see [`crate::discover`]).
    pub async fn discover(&self, input: &str) -> Result<Discovery, DiscoverError> {
        discover(&self.fetcher, input).await
    }

    /// The crawl state after a successful discovery, so the first poll can be conditional.
    pub fn state_after_discovery(&self, d: &Discovery, blog_seed: u64) -> FeedState {
        let now = Utc::now();
        let dates: Vec<_> = d.feed.entries.iter().map(|e| e.published).collect();
        let interval = self.schedule.rhythm(&dates);
        FeedState {
            etag: d.response.validators.etag.clone(),
            last_modified: d.response.validators.last_modified.clone(),
            next_check_at: Some(self.schedule.after_success(
                now,
                interval,
                self.floor(d.feed.ttl_minutes, &d.response),
                blog_seed,
            )),
            consecutive_errors: 0,
            last_status: Some(d.response.status),
            last_error: None,
            last_checked_at: Some(now),
            last_success_at: Some(now),
            interval_secs: Some(interval.as_secs()),
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
            let mut result = PollResult::new(
                blog.id,
                FeedState {
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
                },
            );
            if blog.status == BlogStatus::Pending && self.homepage_proves(blog).await {
                result.status = Some(BlogStatus::Verified);
            }
            return Poll {
                result,
                outcome: PollOutcome::NotModified,
            };
        }

        let feed = match parse_feed(&resp.body, resp.content_type.as_deref(), &resp.url, now) {
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
        let state = FeedState {
            etag: resp.validators.etag.clone(),
            last_modified: resp.validators.last_modified.clone(),
            next_check_at: Some(self.schedule.after_success(
                now,
                interval,
                self.floor(feed.ttl_minutes, &resp),
                seed,
            )),
            consecutive_errors: 0,
            last_status: Some(resp.status),
            last_error: None,
            last_checked_at: Some(now),
            last_success_at: Some(now),
            interval_secs: Some(interval.as_secs()),
        };
        let mut status = None;
        if blog.status == BlogStatus::Pending {
            let token = blog.verification_token.as_bytes();
            let in_feed = !token.is_empty() && resp.body.windows(token.len()).any(|w| w == token);
            if in_feed || self.homepage_proves(blog).await {
                status = Some(BlogStatus::Verified);
            }
        }
        let entries = feed.entries.len();
        Poll {
            result: PollResult {
                blog_id: blog.id,
                state,
                title: feed.title,
                status,
                posts: feed.entries,
            },
            outcome: PollOutcome::Fetched { entries },
        }
    }

    /// Whether the blog's homepage carries its verification token
    /// (`<meta name="kith-verification" content="TOKEN">`).
    async fn homepage_proves(&self, blog: &Blog) -> bool {
        let Ok(url) = Url::parse(&blog.homepage_url) else {
            return false;
        };
        let Ok(page) = self.fetcher.get(&url, &Validators::default()).await else {
            return false;
        };
        let html = crate::parse::decode(&page.body, page.content_type.as_deref());
        let doc = scraper::Html::parse_document(&html);
        let Ok(sel) = scraper::Selector::parse(r#"meta[name="kith-verification"]"#) else {
            return false;
        };
        doc.select(&sel)
            .filter_map(|m| m.value().attr("content"))
            .any(|c| c.trim() == blog.verification_token && !c.trim().is_empty())
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
        }
    }
}
