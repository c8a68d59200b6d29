//! kith-testkit: a simulated blogosphere served over real HTTP on loopback, for tests and
//! for `kith demo`. Dev-only; nothing here touches a network other than 127.0.0.0/8.
//!
//! [`Blogosphere::start`] binds one listener per blog (blog `i` on `first_ip + i`, ephemeral
//! port) and serves, per blog, an HTML homepage with feed autodiscovery, one page per post,
//! and a feed in RSS 2.0, Atom 1.0 or JSON Feed 1.1, with honest HTTP (strong `ETag`,
//! `Last-Modified`, 304, gzip). Everything generated follows from the seed: bloggers belong
//! to planted topic communities ([`TOPICS`]) whose tags and vocabulary a tagger and a
//! clustering step should recover, posts cross-link within their community, and
//! [`Blogosphere::posts`] is the ground truth to compare against. Tests publish new posts,
//! switch a blog to a [`Behaviour`] (slow, 5xx, 429, redirect, gone, oversized, gzip bomb,
//! endless, malformed) and read back the requests each server saw.
//!
//! With `BlogosphereConfig::websub`, a WebSub hub (W3C Recommendation) runs beside the
//! blogs: every feed advertises it, it verifies subscribers' intent, and it pushes each
//! new version of a feed, signed, to the subscribers of that feed. Tests read back its
//! subscriptions, verifications and deliveries, and wait on them without sleeping.
//!
//! [`StaticSite`] serves a directory of fixture files with the same HTTP semantics.
//!
//! # Layout
//! - `types`: configuration and the plain data tests read back ([`SimPost`], [`SimBlogInfo`],
//!   [`RequestRecord`], [`Behaviour`], [`FeedFormat`]).
//! - `topics`: the static word lists of each community, and author names.
//! - `content`: the deterministic generator (profiles, posting rhythms, titles, bodies,
//!   categories, cross-links), keyed by `(seed, blog, post)`.
//! - `render`: homepage, post page, RSS, Atom, JSON Feed and OPML as strings.
//! - `http`: the accept loop, documents with validators, conditional GET, gzip, and the
//!   hub's client call.
//! - `server`: one blog's routes, request log, in-flight counting and behaviours.
//! - `websub`: the WebSub hub (subscription requests, verification of intent, signed
//!   content distribution), with the spec section behind each part.
//! - `sphere`: [`Blogosphere`], the handle tests hold.
//! - `static_site`: [`StaticSite`].
//! - [`control`]: a blogosphere in another process (`kith-sphere`), driven over stdin and
//!   stdout by [`SphereProcess`], for benchmarks that measure the crawler's memory alone.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod content;
pub mod control;
mod http;
mod render;
mod server;
mod sphere;
mod static_site;
mod topics;
mod types;
mod websub;

#[cfg(test)]
mod tests;

pub use control::SphereProcess;
pub use sphere::Blogosphere;
pub use static_site::{StaticSite, StaticSiteHandle};
pub use topics::{GENERIC_TAGS, TOPICS, Topic, UNCATEGORIZED};
pub use types::{
    Behaviour, BlogosphereConfig, DEFAULT_BLOGS, DEFAULT_COMMUNITIES, DEFAULT_FEED_LIMIT,
    DEFAULT_FIRST_IP, DEFAULT_SEED, DEFAULT_WEBSUB_LEASE_SECS, DEFAULT_WEBSUB_MIN_LEASE_SECS,
    FeedFormat, MAX_WEBSUB_LEASE_SECS, RequestRecord, SimBlogInfo, SimDelivery, SimPost,
    SimSubscription, SimVerification, WebSubMode,
};
