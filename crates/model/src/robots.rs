//! A site's robots.txt decision as the crawler remembers it between runs and processes.

use chrono::{DateTime, Utc};

/// One origin's robots.txt as last read: what the server answered and until when that
/// answer holds (RFC 9309 lets a crawler keep it for up to 24 hours), with the validators
/// to ask again conditionally. Only decisions are kept (a file read, or a 4xx meaning "no
/// rules"); an unreachable server is asked again soon instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRobots {
    /// `scheme://host:port`.
    pub origin: String,
    /// The HTTP status robots.txt was answered with (2xx with rules, 4xx without).
    pub status: u16,
    /// The file (at most the part that is read), empty for a 4xx.
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
