//! # kith-crawl: from a URL people give us to posts the store can keep
//!
//! Consumes blogs (a homepage or feed URL, and the feed's crawl state from last time);
//! produces [`kith_model::PollResult`]s: the new crawl state and the feed's posts, parsed,
//! sanitised and reduced to plain text. It never touches storage: the binary wires polls
//! to the store, so the crawler can be tested and benchmarked on its own.
//!
//! ```text
//! discover ──> fetch (guarded, polite, conditional, capped) ──> parse ──> sanitise ──> PollResult
//! ```
//!
//! ## Layout
//! - [`discover`] — homepage or feed URL to the feed (`<link rel="alternate">`, common paths).
//! - [`fetch`] — the HTTP client: conditional GET, redirects by hand, body cap, timeouts.
//! - [`guard`] — the private-network (SSRF) guard, in the resolver and on literal IPs.
//! - [`politeness`] — global and per-host limits, minimum gap per host.
//! - [`robots`] — robots.txt (RFC 9309) per origin, cached.
//! - [`parse`] — charset, feed-rs, entries to [`kith_model::NewPost`], language.
//! - [`sanitize`] — the HTML allow-list (ammonia) and plain text.
//! - [`schedule`] — adaptive polling interval, exponential backoff with jitter.
//! - [`websub`] — WebSub hub discovery, subscription requests, signature checks.
//! - [`crawler`] — one poll of one blog, ownership check included.
//! - [`cpu`] — CPU-bound work on the blocking pool, one job per core.

pub mod bounds;
pub mod cpu;
pub mod crawler;
pub mod discover;
pub mod fetch;
pub mod fuzzing;
pub mod guard;
pub mod parse;
pub mod politeness;
pub mod robots;
pub mod sanitize;
pub mod schedule;
pub mod websub;

pub use crawler::{Crawler, Poll, PollOutcome, new_verification_token};
pub use discover::{DiscoverError, Discovery};
pub use fetch::{FetchError, Fetcher, Validators};
pub use parse::{ParseError, ParsedFeed, parse_feed};
