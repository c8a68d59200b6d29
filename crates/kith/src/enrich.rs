//! Enrichment of new posts before they are stored: language and tags (author categories,
//! curator rules, extracted keywords), with document frequencies over every stored post.
//!
//! Only posts the store does not already have unchanged are enriched: most entries of a
//! re-fetched feed are known, and language detection and extraction cost more than parsing.
//!
//! The document frequencies are kept in the store ([`kith_model::StoredDf`]): a process
//! reads the saved table and counts only the posts stored after it, and only when a post
//! first needs tagging, so a `kith crawl --once` with nothing new starts in the same time
//! on a thousand posts or a million. Each process saves what it counted after its sweeps.
//! Two processes tagging at once (a cron crawl beside `kith serve`) each save their own
//! view, and the last one saved misses the other's posts of that time: the frequencies are
//! a statistic over the whole store, and a few posts' terms do not move them.

use anyhow::Context;
use kith_config::Config;
use kith_model::{NewPost, NewTag, PollResult, Post, StoredDf};
use kith_store::{DynStore, Store};
use kith_tag::{DfTable, DocFreq, PostInput, TagDecision, Tagger};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The tagger in force and the document frequencies it scores against.
#[derive(Debug)]
pub struct Enricher {
    tagger: RwLock<Arc<Tagger>>,
    /// Read from the store when a post first needs it.
    df: tokio::sync::OnceCell<RwLock<DfTable>>,
    /// Posts were counted since the table was last saved.
    unsaved: AtomicBool,
    last_saved: Mutex<Instant>,
}

impl Enricher {
    /// Loads the configured rules; the document frequencies are read when first needed
    /// ([`Enricher::load_df`]).
    pub async fn open(config: &Config, _store: &DynStore) -> anyhow::Result<Enricher> {
        let rules = crate::tagcmd::load_rules(config, None)?;
        let tagger = Tagger::new(&rules)
            .map_err(|e| crate::BadInput(format!("the tag rules cannot be used: {e}")))?;
        Ok(Enricher {
            tagger: RwLock::new(Arc::new(tagger)),
            df: tokio::sync::OnceCell::new(),
            unsaved: AtomicBool::new(false),
            last_saved: Mutex::new(Instant::now()),
        })
    }

    /// Reads the document frequencies from the store unless already read (the saved table
    /// and the posts stored after it). Call before [`Enricher::enrich`]; a failure leaves
    /// them unread, to be tried again next time.
    pub async fn load_df(&self, store: &DynStore) -> anyhow::Result<()> {
        self.df
            .get_or_try_init(|| async {
                let (df, counted) = load_df(store.as_ref()).await?;
                if counted > SAVE_AFTER_COUNTING {
                    self.unsaved.store(true, Ordering::Relaxed);
                }
                anyhow::Ok(RwLock::new(df))
            })
            .await?;
        Ok(())
    }

    /// Saves the document frequencies to the store when posts were counted since the last
    /// save and `min_interval` has passed since it (zero: whenever anything is unsaved).
    pub async fn save_df(&self, store: &DynStore, min_interval: Duration) -> anyhow::Result<()> {
        let Some(df) = self.df.get() else {
            return Ok(());
        };
        let due = self
            .last_saved
            .lock()
            .map(|t| t.elapsed() >= min_interval)
            .unwrap_or(true);
        if !due || !self.unsaved.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        // Every post this process counted is stored by now: the table covers the store up
        // to its last post.
        let saved = async {
            let through = store.last_post_id().await?;
            let bytes = match df.read() {
                Ok(t) => t.to_bytes(),
                Err(p) => p.into_inner().to_bytes(),
            };
            store
                .save_df(StoredDf {
                    through,
                    bytes,
                    saved_at: chrono::Utc::now(),
                })
                .await
        }
        .await;
        if let Ok(mut t) = self.last_saved.lock() {
            *t = Instant::now();
        }
        saved
            .inspect_err(|_| self.unsaved.store(true, Ordering::Relaxed))
            .context("saving the document frequencies")
    }

    /// Puts `tagger` in force for every post enriched from now on (hot reload of the
    /// rules); posts being tagged right now finish with the tagger they started with.
    pub fn set_tagger(&self, tagger: Tagger) {
        let new = Arc::new(tagger);
        match self.tagger.write() {
            Ok(mut t) => *t = new,
            Err(p) => *p.into_inner() = new,
        }
    }

    /// The tagger in force.
    pub fn tagger(&self) -> Arc<Tagger> {
        match self.tagger.read() {
            Ok(t) => Arc::clone(&t),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Adds language and tags to the posts `wanted` selects; synchronous CPU work.
    pub fn enrich(
        &self,
        blog_url: Option<&str>,
        feed_url: Option<&str>,
        posts: &mut [NewPost],
        wanted: impl Fn(&NewPost) -> bool,
    ) {
        let chosen: Vec<usize> = (0..posts.len()).filter(|&i| wanted(&posts[i])).collect();
        if chosen.is_empty() {
            return;
        }
        let empty = RwLock::new(DfTable::new());
        let table = match self.df.get() {
            Some(t) => {
                self.unsaved.store(true, Ordering::Relaxed);
                t
            }
            // Not read (the store failed to answer, and the caller said so): the posts
            // are tagged on their own words, as on an empty hub.
            None => &empty,
        };
        // Other polls enrich on other threads at the same time: the terms are found
        // outside the lock, which is held only to count them and, per post, to score.
        let terms: Vec<Vec<String>> = chosen
            .iter()
            .map(|&i| kith_tag::doc_terms(&posts[i].title, &posts[i].text))
            .collect();
        if let Ok(mut df) = table.write() {
            for t in &terms {
                df.add_terms(t.iter().map(String::as_str));
            }
        }
        drop(terms);
        let tagger = self.tagger();
        for &i in &chosen {
            let p = &mut posts[i];
            p.language = kith_tag::detect_language(&p.title, &p.text).map(str::to_owned);
            let Ok(df) = table.read() else { return };
            let decisions = tagger.tag(
                &PostInput {
                    title: &p.title,
                    text: &p.text,
                    categories: &p.categories,
                    blog_url,
                    feed_url,
                    language: p.language.as_deref(),
                },
                &*df,
            );
            p.tags = to_new_tags(decisions);
        }
    }
}

/// Tagger decisions in the form the store takes.
pub fn to_new_tags(decisions: Vec<TagDecision>) -> Vec<NewTag> {
    decisions
        .into_iter()
        .map(|d| NewTag {
            tag: d.tag,
            display: d.display,
            source: d.source,
            score: d.score,
            reason: d.reason,
        })
        .collect()
}

/// Posts read per page when walking the whole store.
pub const STORE_PAGE: usize = 1000;

/// Posts counted on top of the saved table beyond which a process saves it again soon.
const SAVE_AFTER_COUNTING: usize = 1000;

/// Document frequencies over every stored post: the saved table and the posts stored
/// after it (every post when none is saved, or it was saved for other match keys).
pub async fn stored_df(store: &dyn Store) -> anyhow::Result<DfTable> {
    Ok(load_df(store).await?.0)
}

/// [`stored_df`], and how many posts were counted on top of the saved table.
async fn load_df(store: &dyn Store) -> anyhow::Result<(DfTable, usize)> {
    let saved = store
        .stored_df()
        .await
        .context("reading the saved document frequencies")?;
    let (mut df, mut after) =
        match saved.and_then(|s| Some((DfTable::from_bytes(&s.bytes)?, s.through))) {
            Some((df, through)) => (df, through),
            None => (DfTable::new(), None),
        };
    let mut counted = 0;
    loop {
        let page = store
            .posts_after(after, STORE_PAGE)
            .await
            .context("reading posts for document frequencies")?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        counted += page.len();
        for p in &page {
            df.add(&p.title, &p.text);
        }
    }
    Ok((df, counted))
}

/// Tags a stored post as ingestion would: its categories, its blog's rules, its language.
pub fn tag_stored_post(
    tagger: &Tagger,
    post: &Post,
    categories: &[String],
    df: &dyn DocFreq,
) -> Vec<TagDecision> {
    tagger.tag(
        &PostInput {
            title: &post.title,
            text: &post.text,
            categories,
            blog_url: Some(&post.blog_url),
            feed_url: Some(&post.feed_url),
            language: post.language.as_deref(),
        },
        df,
    )
}

/// Enriches the posts of a poll that the store does not already have unchanged, on the
/// blocking pool. Without an enricher only languages are detected.
pub async fn enrich_new_posts(
    store: &DynStore,
    enricher: Option<&Arc<Enricher>>,
    blog_url: &str,
    feed_url: &str,
    result: &mut PollResult,
) {
    if result.posts.is_empty() {
        return;
    }
    let guids = result.posts.iter().map(|p| p.guid.clone()).collect();
    let known = store
        .content_hashes(result.blog_id, guids)
        .await
        .unwrap_or_default();
    if let Some(e) = enricher
        && let Err(e) = e.load_df(store).await
    {
        tracing::warn!(
            error = format!("{e:#}"),
            "tagging without document frequencies"
        );
    }
    let mut posts = std::mem::take(&mut result.posts);
    let enricher = enricher.cloned();
    let (blog_url, feed_url) = (blog_url.to_owned(), feed_url.to_owned());
    posts = kith_crawl::cpu::run(move || {
        let wanted = |p: &NewPost| known.get(&p.guid) != Some(&p.content_hash);
        match enricher {
            Some(e) => e.enrich(Some(&blog_url), Some(&feed_url), &mut posts, wanted),
            None => kith_crawl::parse::detect_languages(&mut posts, wanted),
        }
        posts
    })
    .await
    .unwrap_or_default();
    result.posts = posts;
}
