//! What one poll of one feed produced: the crawler's output, the store's input.

use crate::{BlogId, BlogStatus, FeedState, NewPost};

/// What one poll of one feed produced.
#[derive(Debug, Clone)]
pub struct PollResult {
    pub blog_id: BlogId,
    /// The feed's crawl state after this poll, written as given.
    pub state: FeedState,
    /// The feed's title when it gave one; replaces the stored title.
    pub title: Option<String>,
    /// A status change, such as `Gone` after a 410.
    pub status: Option<BlogStatus>,
    /// The feed moved for good (a permanent redirect seen on consecutive polls): store
    /// this as the blog's feed URL.
    pub feed_url: Option<String>,
    /// Entries of the feed; known ones are updated when their content changed.
    pub posts: Vec<NewPost>,
}

impl PollResult {
    /// A poll that changes only the crawl state.
    pub fn new(blog_id: BlogId, state: FeedState) -> Self {
        Self {
            blog_id,
            state,
            title: None,
            status: None,
            feed_url: None,
            posts: Vec::new(),
        }
    }
}

/// What [`crate::PollResult`] did with the posts it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Posts already stored from another feed (a planet, a cross-post): noted as another
    /// source of the same post, not stored twice.
    pub cross_posted: usize,
}

impl std::ops::AddAssign for IngestStats {
    fn add_assign(&mut self, o: Self) {
        self.new += o.new;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.cross_posted += o.cross_posted;
    }
}
