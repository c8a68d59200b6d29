//! # kith-store: the source of truth
//!
//! Consumes what the crawler found ([`PollResult`]: a feed's new crawl state and its parsed
//! posts) and registrations ([`NewBlog`]); produces blogs and posts for every reader (web,
//! export, later the index and hubs).
//!
//! Callers see the [`Store`] trait, whose types come from `kith-model` and this crate only,
//! and one of two backends behind it:
//! - [`SqliteStore`], the embedded default: one thread owns the only write connection
//!   (writes are queued to it, so there is never a writer-writer lock fight); WAL mode, so
//!   readers on their own pooled connections never wait for the writer.
//! - [`PostgresStore`], for a hub spread over several machines: pooled connections, write
//!   transactions from many processes at once, a change feed in commit order.
//!
//! Both apply numbered SQL migrations embedded in the binary (`migrations/sqlite/`,
//! `migrations/postgres/`), each in its own transaction, tracked in `schema_migrations`,
//! and refuse a database newer than the binary. One conformance suite (`src/tests.rs`)
//! runs every test of the contract on both.
//!
//! ## Layout
//! - [`error`] — [`Error`] and [`Result`].
//! - [`sqlite`] and [`postgres`] — the backends, side by side, each with its migrations,
//!   its queries for hubs, the index feed and re-tagging, and its own tests.
//! - [`hubs`], [`index_feed`], [`retag`] — the contract's vocabulary and the passes both
//!   backends share (the one-pass hub aggregates, choosing conversations, a re-tag's plan).
//! - `ingest` — what storing a poll decides whatever the backend (notes, outcomes).
//! - [`testing`] — throwaway PostgreSQL databases for tests (`KITH_TEST_POSTGRES`).

pub mod error;
pub mod hubs;
pub mod index_feed;
mod ingest;
mod lease;
pub mod postgres;
pub mod retag;
pub mod sqlite;
pub mod testing;

#[cfg(test)]
mod tests;

pub use error::{Error, Result};
pub use hubs::{
    BlogLink, CoTag, HubStats, HubStatsQuery, PostRef, Reply, TagBlogCell, TagName, TagWeek,
    TaggedReply,
};
pub use index_feed::{BlogPostCount, ChangeMark, ChangedPost, StoreEpoch};
pub use postgres::PostgresStore;
pub use retag::{RetagCheckpoint, RetagPost, RetagProgress, RetagStats};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
pub use kith_model::{IngestStats, PollResult};

use kith_model::{Blog, BlogId, BlogStatus, NewBlog, Post, PostId, Subscription};
use std::sync::Arc;

/// A shared handle to whichever backend is configured.
pub type DynStore = Arc<dyn Store>;

/// Everything the rest of Kith asks of storage.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Registers a blog. Fails with [`Error::Duplicate`] when a blog with the same feed
    /// (after URL normalisation) exists; nothing is changed then.
    async fn add_blog(&self, blog: NewBlog) -> Result<Blog>;
    async fn blog(&self, id: BlogId) -> Result<Option<Blog>>;
    /// The blog whose feed URL or homepage URL is `url` (compared in normal form).
    async fn find_blog(&self, url: &str) -> Result<Option<Blog>>;
    /// Every blog, oldest first.
    async fn blogs(&self) -> Result<Vec<Blog>>;
    /// Removes a blog with its posts; `false` when there was no such blog.
    async fn remove_blog(&self, id: BlogId) -> Result<bool>;
    async fn set_status(&self, id: BlogId, status: BlogStatus) -> Result<()>;
    /// Blogs the crawler should poll at `now` (polled statuses only), most overdue first.
    async fn due_blogs(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Blog>>;
    /// Claims up to `limit` blogs due by `due_by` for crawl process `owner`, until `now +
    /// lease`: blogs nobody holds a live claim on, on hosts no other process holds (so
    /// per-host politeness holds across processes), most overdue first. A claim ends when
    /// its poll is stored ([`Store::record_polls`]), when [`Store::release_claims`] is
    /// called, or when it runs out (its process died): then another process takes it.
    async fn claim_due_blogs(
        &self,
        owner: &str,
        due_by: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<Blog>>;
    /// Ends `owner`'s claims whose polls were not stored (a sweep stopped early); returns
    /// how many.
    async fn release_claims(&self, owner: &str) -> Result<u64>;
    /// The crawl processes holding live claims at `now` (so a restarted process can end
    /// the claims of one on its own machine that is gone, rather than wait them out).
    async fn claim_holders(&self, now: DateTime<Utc>) -> Result<Vec<String>>;
    /// Makes every polled blog due at `now` (`kith crawl --once --all`); returns how many
    /// were not due yet.
    async fn make_all_due(&self, now: DateTime<Utc>) -> Result<u64>;
    /// Stores one poll's outcome, its crawl state and its posts, atomically: after a
    /// crash either all of it is there or none of it.
    async fn record_poll(&self, poll: PollResult) -> Result<IngestStats>;
    /// Stores several polls in one transaction (a crawler's writer batches what arrived
    /// together: one commit instead of one per feed). Each poll is atomic on its own: its
    /// slot holds its stats or its error (a blog removed meanwhile, say), and the others
    /// are stored all the same. `Err` only when nothing could be stored.
    async fn record_polls(&self, polls: Vec<PollResult>) -> Result<Vec<Result<IngestStats>>>;
    /// Posts newest first, after `query.before` when given.
    async fn latest_posts(&self, query: PostQuery) -> Result<Vec<Post>>;
    /// Posts in storage order after `after` (exclusive): a stable walk for exports.
    async fn posts_after(&self, after: Option<PostId>, limit: usize) -> Result<Vec<Post>>;
    async fn counts(&self) -> Result<Counts>;
    /// The stored content hashes of the blog's posts among `guids` (guid -> hash): what a
    /// poll need not process again.
    async fn content_hashes(
        &self,
        blog: BlogId,
        guids: Vec<String>,
    ) -> Result<std::collections::HashMap<String, String>>;
    /// The blog's WebSub subscription, if its feed names a hub.
    async fn subscription(&self, blog: BlogId) -> Result<Option<Subscription>>;
    /// Creates or replaces the blog's subscription.
    async fn save_subscription(&self, sub: Subscription) -> Result<()>;
    /// Subscriptions to (re)request at `now`: wanted ones, requests never verified or
    /// refused (after `retry_after`), and active ones whose lease ends within `renew_within`
    /// (asked again at most every quarter of `renew_within`).
    async fn subscriptions_to_request(
        &self,
        now: DateTime<Utc>,
        retry_after: chrono::Duration,
        renew_within: chrono::Duration,
    ) -> Result<Vec<Subscription>>;

    // --- robots.txt decisions (shared by every crawl process, kept across runs) ---

    /// The robots.txt decision last stored for `origin` (`scheme://host:port`), fresh or
    /// not.
    async fn robots(&self, origin: &str) -> Result<Option<kith_model::StoredRobots>>;
    /// Stores (replaces) an origin's robots.txt decision.
    async fn save_robots(&self, robots: kith_model::StoredRobots) -> Result<()>;

    // --- the tagger's document frequencies (so start-up need not read every post) ---

    /// The document frequencies last saved, if any.
    async fn stored_df(&self) -> Result<Option<kith_model::StoredDf>>;
    /// Replaces the saved document frequencies.
    async fn save_df(&self, df: kith_model::StoredDf) -> Result<()>;
    /// The highest post id in the store (None when it holds no post).
    async fn last_post_id(&self) -> Result<Option<PostId>>;

    // --- hubs and communities ---

    /// Per-tag, per-blog aggregates, weekly activity and co-occurring tags: what hubs and
    /// communities are computed from.
    async fn hub_stats(&self, query: HubStatsQuery) -> Result<HubStats>;
    /// Posts answering a post of another blog (by linking to it) where either post has a
    /// tag, newest first, with both posts' tags; of each tag's exchanges only the
    /// `per_tag` newest. What hubs' conversations are computed from, in one pass over the
    /// links (not over the posts); with `public_only`, only between verified blogs.
    async fn tagged_replies(&self, public_only: bool, per_tag: usize) -> Result<Vec<TaggedReply>> {
        Ok(self.replies_and_links(public_only, per_tag).await?.0)
    }
    /// [`Store::tagged_replies`] and, from the same pass over the links, the links between
    /// blogs that [`HubStats::blog_links`] counts (so a computation of hubs with their
    /// conversations reads the links once: [`HubStatsQuery::links`] off).
    async fn replies_and_links(
        &self,
        public_only: bool,
        per_tag: usize,
    ) -> Result<(Vec<TaggedReply>, Vec<BlogLink>)>;
    /// The links between `post` and other posts, either way (posts linking to it, posts
    /// it links to), newest first; with `public_only`, only between verified blogs.
    async fn post_replies(
        &self,
        post: PostId,
        public_only: bool,
        limit: usize,
    ) -> Result<Vec<Reply>>;

    // --- hubs computed once (a leader computes them, every node loads them) ---

    /// Takes or renews the lease on `role` for `owner` until `now + lease`; `false` while
    /// another owner holds a live one. A leader that stops renewing (it died) loses the
    /// role when its lease runs out.
    async fn lead(
        &self,
        role: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<bool>;
    /// Stores a computed hubs snapshot as the next generation (keeping the last few) and
    /// returns its number.
    async fn save_hubs(&self, computed_at: DateTime<Utc>, body: Vec<u8>) -> Result<i64>;
    /// The newest stored generation, if any.
    async fn hubs_generation(&self) -> Result<Option<i64>>;
    /// The newest stored snapshot with its generation.
    async fn load_hubs(&self) -> Result<Option<(i64, Vec<u8>)>>;

    // --- re-tagging and tag display forms (issue 4: `kith retag`, hot-reloaded rules) ---

    /// The feed categories stored with `posts`, as the authors wrote them, in feed order;
    /// posts without categories are absent.
    async fn post_categories(
        &self,
        posts: Vec<PostId>,
    ) -> Result<std::collections::HashMap<PostId, Vec<String>>>;
    /// Where an unfinished `kith retag` stopped.
    async fn retag_checkpoint(&self) -> Result<Option<RetagCheckpoint>>;
    /// Forgets an unfinished re-tag.
    async fn clear_retag_checkpoint(&self) -> Result<()>;
    /// Replaces the tags of `posts` (skipping those edited or removed since they were
    /// read), bumps `changed_at` of the posts whose tags changed, and records `progress`,
    /// all in one transaction. Returns the run's totals so far.
    async fn replace_post_tags_batch(
        &self,
        posts: Vec<RetagPost>,
        progress: RetagProgress,
    ) -> Result<RetagStats>;
    /// The most common surface form of each tag (normal forms in, absent when unknown).
    async fn tag_displays(
        &self,
        tags: Vec<String>,
    ) -> Result<std::collections::HashMap<String, String>>;
    /// The most common surface form of one tag.
    async fn tag_display(&self, tag: &str) -> Result<Option<String>> {
        Ok(self.tag_displays(vec![tag.to_owned()]).await?.remove(tag))
    }

    // --- index feed (kith-index follows the store through these) ---

    /// Posts changed after `mark` (exclusive; from the start when `None`), in
    /// (`changed_at`, id) order, with their tags and their blog's status.
    async fn posts_changed_since(
        &self,
        mark: Option<ChangeMark>,
        limit: usize,
    ) -> Result<Vec<ChangedPost>>;
    /// One blog's posts in id order after `after`, as [`Store::posts_changed_since`] gives them.
    async fn blog_posts_for_index(
        &self,
        blog: BlogId,
        after: Option<PostId>,
        limit: usize,
    ) -> Result<Vec<ChangedPost>>;
    /// The posts with these ids, with their tags, in the order given (unknown ids skipped).
    async fn posts_by_ids(&self, ids: &[PostId]) -> Result<Vec<Post>>;
    /// The mark of the most recently changed post; `None` when there are no posts.
    async fn latest_change_mark(&self) -> Result<Option<ChangeMark>>;
    /// Every blog's status and post count (blogs without posts included).
    async fn post_counts_by_blog(&self) -> Result<Vec<BlogPostCount>>;
    /// This store's identity and visibility epoch: the epoch moves on whenever what is
    /// public changes other than through a post's change mark (a blog's status changed, a
    /// blog or post deleted), so an index that was checked at an epoch and has caught up
    /// since needs no recount while the epoch stays.
    async fn store_epoch(&self) -> Result<StoreEpoch>;
}

/// Which posts [`Store::latest_posts`] returns.
#[derive(Debug, Clone)]
pub struct PostQuery {
    pub limit: usize,
    /// Keyset cursor: only posts strictly older than this (published, id).
    pub before: Option<(DateTime<Utc>, PostId)>,
    pub blog: Option<BlogId>,
    /// Only posts of verified blogs (what the public sees).
    pub public_only: bool,
    /// Include history read on blogs' first crawls.
    pub include_backfill: bool,
}

impl Default for PostQuery {
    fn default() -> Self {
        Self {
            limit: 50,
            before: None,
            blog: None,
            public_only: true,
            include_backfill: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub blogs: u64,
    pub posts: u64,
    pub tags: u64,
}
