//! # kith-model: the plain data every stage speaks
//!
//! No I/O and no framework types: blogs, their feed's crawl state, posts and the tags on
//! them. Stages (`crawl`, `store`, `web`, ...) depend on this crate and on `kith-config`,
//! never on each other, so these types are the contract between them.
//!
//! ## Layout
//! - [`blog`] — [`Blog`], [`BlogStatus`], [`FeedState`] and the derived [`Health`].
//! - [`post`] — [`NewPost`] (what the crawler hands over), [`Post`] (what readers get back),
//!   [`PostTag`] and [`TagSource`].
//! - [`poll`] — [`PollResult`], what one poll of one feed produced, and [`IngestStats`].
//! - [`websub`] — [`Subscription`]: a blog's feed pushed to us by its WebSub hub.
//! - [`robots`] — [`StoredRobots`]: a site's robots.txt decision, kept between runs.
//! - [`df`] — [`StoredDf`]: the tagger's document frequencies, kept between runs.
//! - [`url`] — [`normalize_url`], the one definition of "the same URL" for blogs and feeds.

pub mod blog;
pub mod df;
pub mod poll;
pub mod post;
pub mod robots;
pub mod url;
pub mod websub;

pub use blog::{Blog, BlogId, BlogStatus, FeedState, Health, NewBlog};
pub use df::StoredDf;
pub use poll::{IngestStats, PollResult};
pub use post::{
    NewPost, NewTag, Post, PostId, PostTag, TagSource, content_hash, is_invisible, normalize_tag,
};
pub use robots::StoredRobots;
pub use url::{UrlError, identity_key, normalize_url};
pub use websub::{Subscription, SubscriptionState};
