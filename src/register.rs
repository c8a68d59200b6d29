//! Registering a blog: discover its feed, store it, keep the posts the discovery already
//! read (no second fetch).

use crate::BadInput;
use anyhow::Context;
use kith_crawl::{Crawler, DiscoverError, FetchError, new_verification_token};
use kith_model::{Blog, BlogStatus, NewBlog, PollResult};
use kith_store::DynStore;

/// A blog just registered, with what its first read found.
#[derive(Debug, Clone)]
pub struct Registered {
    pub blog: Blog,
    pub new_posts: usize,
}

/// Discovers the feed behind `input` (homepage or feed URL) and registers the blog.
/// Input problems (not a URL, no feed there, already registered, a private address)
/// come back as [`BadInput`]; network trouble as other errors.
pub async fn register(
    store: &DynStore,
    crawler: &Crawler,
    enricher: Option<&std::sync::Arc<crate::enrich::Enricher>>,
    input: &str,
    require_verification: bool,
) -> anyhow::Result<Registered> {
    kith_model::normalize_url(input).map_err(|e| BadInput(e.to_string()))?;
    if let Some(existing) = store.find_blog(input).await? {
        return Err(already(&existing).into());
    }
    let mut found = crawler.discover(input).await.map_err(|e| match e {
        DiscoverError::Url(_) | DiscoverError::NoFeed { .. } | DiscoverError::Unreadable { .. } => {
            anyhow::Error::new(BadInput(e.to_string()))
        }
        DiscoverError::Fetch {
            source:
                FetchError::Blocked(_)
                | FetchError::BadUrl(_)
                | FetchError::Robots(_)
                | FetchError::Status {
                    status: 400..=499, ..
                },
            ..
        } => anyhow::Error::new(BadInput(e.to_string())),
        other => anyhow::Error::new(other),
    })?;
    let status = if require_verification {
        BlogStatus::Pending
    } else {
        BlogStatus::Verified
    };
    let title = found
        .feed
        .title
        .clone()
        .unwrap_or_else(|| found.homepage_url.to_string());
    let blog = match store
        .add_blog(NewBlog {
            homepage_url: found.homepage_url.to_string(),
            feed_url: found.feed_url.to_string(),
            title,
            status,
            verification_token: new_verification_token(),
        })
        .await
    {
        Ok(b) => b,
        Err(kith_store::Error::Duplicate { existing, feed_url }) => {
            return Err(BadInput(format!(
                "{input} is already registered as blog #{existing} (its feed {feed_url})"
            ))
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    crawler.mark_discovery_backfill(&mut found);
    let hub = crawler.discovery_hub(&found);
    if let Some(e) = enricher {
        let e = std::sync::Arc::clone(e);
        let (home, feed) = (found.homepage_url.to_string(), found.feed_url.to_string());
        let mut entries = std::mem::take(&mut found.feed.entries);
        // Tagging is CPU work: on the blocking pool.
        entries = tokio::task::spawn_blocking(move || {
            e.enrich(Some(&home), Some(&feed), &mut entries, |_| true);
            entries
        })
        .await
        .context("tagging the new blog's posts")?;
        found.feed.entries = entries;
    }
    let state = crawler.state_after_discovery(&found, blog.id.0 as u64);
    let stats = store
        .record_poll(PollResult {
            blog_id: blog.id,
            state,
            title: None,
            status: None,
            feed_url: None,
            posts: found.feed.entries,
        })
        .await?;
    if let Some(hub) = hub {
        crate::websub::note_hub(store, blog.id, &hub).await?;
    }
    let blog = store.blog(blog.id).await?.unwrap_or(blog);
    tracing::debug!(blog_id = %blog.id, feed_url = %blog.feed_url, new_posts = stats.new, "registered a blog");
    Ok(Registered {
        blog,
        new_posts: stats.new,
    })
}

fn already(b: &Blog) -> BadInput {
    BadInput(format!(
        "this blog is already registered as #{} ({}, feed {})",
        b.id, b.title, b.feed_url
    ))
}
