//! Plain data: the configuration and the facts a test reads back about the simulated blogs.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Default number of blogs (what `kith demo` starts).
pub const DEFAULT_BLOGS: usize = 200;
/// Default number of planted communities.
pub const DEFAULT_COMMUNITIES: usize = 8;
/// Default seed.
pub const DEFAULT_SEED: u64 = 42;
/// Default size of a feed (newest posts carried).
pub const DEFAULT_FEED_LIMIT: usize = 20;
/// Default address of blog 0; blog `i` listens on the `i`-th usable address from here.
pub const DEFAULT_FIRST_IP: Ipv4Addr = Ipv4Addr::new(127, 10, 0, 1);
/// Lease the WebSub hub grants when a subscriber does not ask for one (one hour).
pub const DEFAULT_WEBSUB_LEASE_SECS: u64 = 3600;
/// Shortest lease the WebSub hub grants by default; longer requests are honoured.
pub const DEFAULT_WEBSUB_MIN_LEASE_SECS: u64 = 60;
/// Longest lease the WebSub hub grants: the ten days the spec suggests (WebSub §8).
pub const MAX_WEBSUB_LEASE_SECS: u64 = 10 * 86_400;

/// How big the simulated blogosphere is and where it listens.
#[derive(Debug, Clone)]
pub struct BlogosphereConfig {
    /// Number of blogs, e.g. 200.
    pub blogs: usize,
    /// Number of planted topic communities; clamped to `1..=TOPICS.len()`.
    pub communities: usize,
    /// Everything generated (names, posts, dates, formats) follows from this.
    pub seed: u64,
    /// Initial history per blog, e.g. `5..=40`.
    pub posts_per_blog: RangeInclusive<usize>,
    /// How many newest posts a feed carries; the homepage lists all.
    pub feed_limit: usize,
    /// "Current time": the initial history is spread over the ~180 days before it.
    pub now: DateTime<Utc>,
    /// Blog `i` listens on `first_ip + i` (skipping `.0` and `.255` last octets), on an
    /// ephemeral port. Must be a loopback address.
    pub first_ip: Ipv4Addr,
    /// Also run a WebSub hub (see the `websub` module) that every feed advertises, in the
    /// document and in a `Link` header, and that pushes each new version of a feed to its
    /// subscribers. Off by default: feeds are then byte-identical to a hub-less build.
    pub websub: bool,
    /// Where the hub listens (ephemeral port); `None` is the next usable address after the
    /// last blog's. Must be a loopback address.
    pub websub_hub_ip: Option<Ipv4Addr>,
    /// Shortest lease the hub grants, in seconds (requests below are raised to it). Tests of
    /// lease expiry lower it to 1; at least 1 whatever is set here.
    pub websub_min_lease_secs: u64,
}

impl Default for BlogosphereConfig {
    fn default() -> Self {
        Self {
            blogs: DEFAULT_BLOGS,
            communities: DEFAULT_COMMUNITIES,
            seed: DEFAULT_SEED,
            posts_per_blog: 5..=30,
            feed_limit: DEFAULT_FEED_LIMIT,
            now: Utc::now(),
            first_ip: DEFAULT_FIRST_IP,
            websub: false,
            websub_hub_ip: None,
            websub_min_lease_secs: DEFAULT_WEBSUB_MIN_LEASE_SECS,
        }
    }
}

/// The syndication format a blog publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedFormat {
    /// RSS 2.0 at `/feed.xml`.
    Rss2,
    /// Atom 1.0 at `/atom.xml`.
    Atom,
    /// JSON Feed 1.1 at `/feed.json`.
    JsonFeed,
}

impl FeedFormat {
    /// Path of the feed on the blog's server.
    pub fn path(self) -> &'static str {
        match self {
            FeedFormat::Rss2 => "/feed.xml",
            FeedFormat::Atom => "/atom.xml",
            FeedFormat::JsonFeed => "/feed.json",
        }
    }

    /// MIME type, as used in `<link rel="alternate" type=...>` and `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            FeedFormat::Rss2 => "application/rss+xml",
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::JsonFeed => "application/feed+json",
        }
    }
}

/// Static facts about one simulated blog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBlogInfo {
    pub index: usize,
    /// E.g. "Ada Lovelace's notes".
    pub name: String,
    pub author: String,
    /// The planted community (a topic id such as `"rust"`): the ground truth for clustering.
    pub community: String,
    /// A second topic this blogger sometimes writes about (about 10% of blogs).
    pub second_community: Option<String>,
    pub format: FeedFormat,
    pub addr: SocketAddr,
    /// `http://ip:port/`
    pub homepage_url: String,
    /// Absolute feed URL, its path depending on `format`.
    pub feed_url: String,
}

/// One published post: the ground truth a crawler and tagger should recover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPost {
    /// Stable id (`urn:uuid:...`), the same in every feed format and across restarts.
    pub guid: String,
    /// Absolute URL of the post page.
    pub url: String,
    pub title: String,
    pub author: String,
    pub published: DateTime<Utc>,
    /// Author categories as published (tag style varies per blog: `borrow-checker`,
    /// `Borrow Checker`, `borrow checker`), possibly with generic noise tags.
    pub categories: Vec<String>,
    /// The post body, an HTML fragment.
    pub html: String,
    /// URLs of other blogs' posts this post links to.
    pub links_to: Vec<String>,
}

/// One request a blog's server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// The path only, without the query string.
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
    pub accept_encoding: Option<String>,
    pub at: Instant,
}

/// How a blog's server misbehaves. Applies to every path of the blog, except `Redirect`
/// which applies to the homepage and the feed only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Honest HTTP.
    #[default]
    Normal,
    /// Wait this long before answering every request.
    Slow(Duration),
    /// Answer every request with this status and a small body.
    Status(u16),
    /// 429 with `Retry-After`.
    TooManyRequests { retry_after_secs: u64 },
    /// 301/302/307/308 with `Location: to` for the homepage and the feed.
    Redirect { status: u16, to: String },
    /// 410 Gone.
    Gone,
    /// Bodies padded to at least this many bytes (a big comment; still well-formed, hard to
    /// compress).
    Oversized { bytes: usize },
    /// `Content-Encoding: gzip` (always, asked for or not) of a body that decompresses to
    /// `bytes` bytes: the real document inside a huge comment of spaces.
    GzipBomb { bytes: usize },
    /// 200 with a chunked body that never ends.
    Endless,
    /// Truncated mid-element, with bytes that are not UTF-8 and a bare `&`.
    Malformed,
}

/// What a callback request of the WebSub hub was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebSubMode {
    /// Verification of a subscription request (WebSub §5.3).
    Subscribe,
    /// Verification of an unsubscription request (WebSub §5.3).
    Unsubscribe,
    /// Notice that the hub refused or ended a subscription (WebSub §5.2).
    Denied,
}

impl WebSubMode {
    /// The `hub.mode` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            WebSubMode::Subscribe => "subscribe",
            WebSubMode::Unsubscribe => "unsubscribe",
            WebSubMode::Denied => "denied",
        }
    }
}

/// A verified subscription held by the simulated WebSub hub: one per (topic, callback).
/// Kept after its lease runs out (see [`is_active`](Self::is_active)) until the subscriber
/// renews it, unsubscribes, or the hub denies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSubscription {
    /// The feed URL subscribed to (`hub.topic`).
    pub topic: String,
    /// Exactly as the subscriber sent it (`hub.callback`).
    pub callback: String,
    /// `hub.secret`, if the subscriber sent a non-empty one: deliveries are then signed.
    pub secret: Option<String>,
    /// The lease the hub granted, after clamping the request.
    pub lease_seconds: u64,
    /// When the verification request that granted the lease was sent, plus the lease: the
    /// spec measures the lease from that moment (WebSub §5.3).
    pub expires_at: Instant,
    /// When the subscriber answered that verification request.
    pub verified_at: Instant,
}

impl SimSubscription {
    /// Whether the lease is still running: only then does the hub deliver content.
    pub fn is_active(&self) -> bool {
        Instant::now() < self.expires_at
    }
}

/// One callback `GET` the WebSub hub made: a verification of intent, or a denial notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimVerification {
    pub mode: WebSubMode,
    pub topic: String,
    pub callback: String,
    /// What the subscriber answered; `None` if it could not be reached in time.
    pub status: Option<u16>,
    /// Whether the subscriber confirmed (2xx with the challenge as the whole body), so that
    /// the hub applied the request. Always `false` for a [`WebSubMode::Denied`] notice.
    pub verified: bool,
    /// When the answer came (or the attempt failed).
    pub at: Instant,
}

/// One content distribution `POST` the WebSub hub made (WebSub §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDelivery {
    pub topic: String,
    pub callback: String,
    /// What the subscriber answered; `None` if it could not be reached in time.
    pub status: Option<u16>,
    /// Whether the request carried an `X-Hub-Signature` (the subscription has a secret).
    /// Still `true` while tampering is on: the signature is then wrong.
    pub signed: bool,
    /// When the answer came (or the attempt failed).
    pub at: Instant,
}
