//! Enrichment of new posts before they are stored: language and tags (author categories,
//! curator rules, extracted keywords), with document frequencies over every stored post.
//!
//! Only posts the store does not already have unchanged are enriched: most entries of a
//! re-fetched feed are known, and language detection and extraction cost more than parsing.

use anyhow::Context;
use kith_config::Config;
use kith_model::{NewPost, NewTag, PollResult, Post};
use kith_store::{DynStore, Store};
use kith_tag::{DfTable, DocFreq, PostInput, TagDecision, Tagger};
use std::sync::{Arc, RwLock};

/// The tagger in force and the document frequencies it scores against.
#[derive(Debug)]
pub struct Enricher {
    tagger: RwLock<Arc<Tagger>>,
    df: RwLock<DfTable>,
}

impl Enricher {
    /// Loads the configured rules and counts the stored posts' terms.
    pub async fn open(config: &Config, store: &DynStore) -> anyhow::Result<Enricher> {
        let rules = crate::tagcmd::load_rules(config, None)?;
        let tagger = Tagger::new(&rules)
            .map_err(|e| crate::BadInput(format!("the tag rules cannot be used: {e}")))?;
        let df = stored_df(store.as_ref()).await?;
        Ok(Enricher {
            tagger: RwLock::new(Arc::new(tagger)),
            df: RwLock::new(df),
        })
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
        if let Ok(mut df) = self.df.write() {
            for &i in &chosen {
                df.add(&posts[i].title, &posts[i].text);
            }
        }
        let tagger = self.tagger();
        let Ok(df) = self.df.read() else { return };
        for &i in &chosen {
            let p = &mut posts[i];
            p.language = kith_tag::detect_language(&p.title, &p.text).map(str::to_owned);
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

/// Document frequencies over every stored post, read page by page.
pub async fn stored_df(store: &dyn Store) -> anyhow::Result<DfTable> {
    let mut df = DfTable::new();
    let mut after = None;
    loop {
        let page = store
            .posts_after(after, STORE_PAGE)
            .await
            .context("reading posts for document frequencies")?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for p in &page {
            df.add(&p.title, &p.text);
        }
    }
    Ok(df)
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
    let mut posts = std::mem::take(&mut result.posts);
    let enricher = enricher.cloned();
    let (blog_url, feed_url) = (blog_url.to_owned(), feed_url.to_owned());
    posts = tokio::task::spawn_blocking(move || {
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
