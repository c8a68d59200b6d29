//! Blogs and the crawl state of their feed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A blog's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlogId(pub i64);

impl fmt::Display for BlogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a blog stands with Kith.
///
/// `Pending` blogs are crawled (so their owner can see what Kith found) but are not public
/// until ownership is proven; `Paused` blogs are not polled; `Gone` blogs answered 410.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlogStatus {
    Pending,
    Verified,
    Paused,
    Gone,
}

impl BlogStatus {
    pub const ALL: [BlogStatus; 4] = [Self::Pending, Self::Verified, Self::Paused, Self::Gone];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Paused => "paused",
            Self::Gone => "gone",
        }
    }

    /// Whether the crawler should poll a blog in this state.
    pub fn is_polled(self) -> bool {
        matches!(self, Self::Pending | Self::Verified)
    }
}

impl fmt::Display for BlogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a status string that is not one of the four states.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown blog status {0:?} (expected pending, verified, paused or gone)")]
pub struct UnknownStatus(pub String);

impl FromStr for BlogStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// A blog to register: the store assigns the id and the crawl state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlog {
    /// Normalised homepage URL (see [`crate::normalize_url`]).
    pub homepage_url: String,
    /// Normalised feed URL; unique across blogs.
    pub feed_url: String,
    pub title: String,
    pub status: BlogStatus,
    /// The token the owner publishes to prove the blog is theirs.
    pub verification_token: String,
}

/// A registered blog with its feed's crawl state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blog {
    pub id: BlogId,
    pub homepage_url: String,
    pub feed_url: String,
    pub title: String,
    pub status: BlogStatus,
    #[serde(skip)]
    pub verification_token: String,
    pub added_at: DateTime<Utc>,
    pub feed: FeedState,
}

impl Blog {
    pub fn health(&self) -> Health {
        self.feed.health(self.status)
    }
}

/// What the crawler remembers about a feed between polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// When the feed is due for its next poll.
    pub next_check_at: Option<DateTime<Utc>>,
    pub consecutive_errors: u32,
    /// HTTP status of the last poll (None when the request failed before a response).
    pub last_status: Option<u16>,
    /// The last error in words a blogger understands; None after a success.
    pub last_error: Option<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The feed's polling interval learnt from its posting rhythm, in seconds.
    pub interval_secs: Option<u64>,
    /// Where the last polls were permanently redirected (301/308), and how many polls in
    /// a row saw it; the stored feed URL is rewritten once it is seen twice.
    pub redirect_to: Option<String>,
    pub redirect_count: u32,
    /// What the last poll that read the feed left out or changed, in words a blogger
    /// reads: entries skipped (and why), fields cut to their limits. Empty when it left
    /// nothing out; kept across polls that read nothing (304, errors).
    pub notes: Vec<String>,
}

impl FeedState {
    pub fn health(&self, status: BlogStatus) -> Health {
        if status == BlogStatus::Gone {
            return Health::Gone;
        }
        if status == BlogStatus::Paused {
            return Health::Paused;
        }
        match (self.last_checked_at, self.consecutive_errors) {
            (None, _) => Health::New,
            (Some(_), 0) => Health::Ok,
            (Some(_), n) if n < FAILING_AFTER => Health::Degraded,
            _ => Health::Failing,
        }
    }
}

/// After this many errors in a row a feed is shown as failing rather than degraded.
pub const FAILING_AFTER: u32 = 3;

/// A feed's health in one word, for lists and dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Never polled yet.
    New,
    /// The last poll succeeded.
    Ok,
    /// One or two errors in a row: probably transient.
    Degraded,
    /// Several errors in a row; still retried with backoff.
    Failing,
    Paused,
    Gone,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Ok => "ok",
            Self::Degraded => "degraded",
            Self::Failing => "failing",
            Self::Paused => "paused",
            Self::Gone => "gone",
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_name() {
        for st in BlogStatus::ALL {
            assert_eq!(st.as_str().parse::<BlogStatus>().ok(), Some(st));
        }
        assert!("deleted".parse::<BlogStatus>().is_err());
    }

    #[test]
    fn health_follows_errors_and_status() {
        let mut s = FeedState::default();
        assert_eq!(s.health(BlogStatus::Verified), Health::New);
        s.last_checked_at = Some(Utc::now());
        assert_eq!(s.health(BlogStatus::Verified), Health::Ok);
        s.consecutive_errors = 1;
        assert_eq!(s.health(BlogStatus::Verified), Health::Degraded);
        s.consecutive_errors = FAILING_AFTER;
        assert_eq!(s.health(BlogStatus::Pending), Health::Failing);
        assert_eq!(s.health(BlogStatus::Gone), Health::Gone);
        assert_eq!(s.health(BlogStatus::Paused), Health::Paused);
    }
}
