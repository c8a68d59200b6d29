//! Registering a blog: discover its feed, store it, keep the posts the discovery already
//! read (no second fetch).
//!
//! Two callers: `kith blogs add` ([`register`], in one go) and the web's `/register`
//! ([`WebRegistrar`], the web crate's [`Registrar`]): there a discovery is first shown to
//! the blogger ([`Registrar::preview`], nothing stored) and kept for a while, so that
//! confirming stores exactly what was shown without fetching it again.

use crate::BadInput;
use crate::enrich::Enricher;
use crate::pipeline::SweepOptions;
use anyhow::Context;
use kith_crawl::discover::Discovery;
use kith_crawl::{Crawler, DiscoverError, FetchError, new_verification_token};
use kith_model::{Blog, BlogId, BlogStatus, NewBlog, PollResult};
use kith_store::DynStore;
use kith_web::register::{
    Preview, PreviewPost, PreviewTag, RegisterError, RegisterFuture, Registrar,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A blog just registered, with what its first read found.
#[derive(Debug, Clone)]
pub struct Registered {
    pub blog: Blog,
    pub new_posts: usize,
}

/// Discovers the feed behind `input` (homepage or feed URL) and registers the blog.
/// Input problems (not a URL, no feed there, already registered, a private address, a
/// page over the size cap) come back as [`BadInput`]; network trouble as other errors.
pub async fn register(
    store: &DynStore,
    crawler: &Crawler,
    enricher: Option<&Arc<Enricher>>,
    input: &str,
    require_verification: bool,
) -> anyhow::Result<Registered> {
    kith_model::normalize_url(input).map_err(|e| BadInput(e.to_string()))?;
    if let Some(existing) = store.find_blog(input).await? {
        return Err(already(&existing).into());
    }
    let mut found = discover(crawler, input).await?;
    if let Some(e) = enricher {
        found = tag(store, e, found).await?;
    }
    store_found(store, crawler, input, found, require_verification).await
}

/// Finds and reads the feed behind `input`, storing nothing. Input problems come back as
/// [`BadInput`], the blog's server's trouble as a [`DiscoverError`].
pub async fn discover(crawler: &Crawler, input: &str) -> anyhow::Result<Discovery> {
    crawler.discover(input).await.map_err(|e| match e {
        DiscoverError::Url(_) | DiscoverError::NoFeed { .. } | DiscoverError::Unreadable { .. } => {
            anyhow::Error::new(BadInput(e.to_string()))
        }
        DiscoverError::Fetch {
            source: FetchError::TooLarge { limit },
            url,
        } => anyhow::Error::new(BadInput(format!(
            "{url} is larger than {limit} bytes, more than a blog's homepage or feed \
             should be; give the address of the homepage or of the feed itself"
        ))),
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
    })
}

/// Language and tags for every entry of a discovery (CPU work, on the blocking pool).
pub async fn tag(
    store: &DynStore,
    enricher: &Arc<Enricher>,
    mut found: Discovery,
) -> anyhow::Result<Discovery> {
    enricher.load_df(store).await?;
    let e = Arc::clone(enricher);
    let (home, feed) = (found.homepage_url.to_string(), found.feed_url.to_string());
    let mut entries = std::mem::take(&mut found.feed.entries);
    entries = tokio::task::spawn_blocking(move || {
        e.enrich(Some(&home), Some(&feed), &mut entries, |_| true);
        entries
    })
    .await
    .context("tagging the new blog's posts")?;
    found.feed.entries = entries;
    Ok(found)
}

/// Stores a discovered (and tagged) blog with the posts its discovery read.
pub async fn store_found(
    store: &DynStore,
    crawler: &Crawler,
    input: &str,
    mut found: Discovery,
    require_verification: bool,
) -> anyhow::Result<Registered> {
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
    let notes = crawler.prepare_discovery(&mut found);
    let hub = crawler.discovery_hub(&found);
    let mut state = crawler.state_after_discovery(&found, blog.id.0 as u64);
    state.notes = notes;
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

/// How long a preview's discovery is kept for its confirmation.
pub const PREVIEW_TTL: Duration = Duration::from_secs(30 * 60);
/// Previews kept at most (each holds a feed's parsed entries); the oldest go first.
pub const PREVIEW_CAP: usize = 64;
/// Posts a preview shows.
pub const PREVIEW_POSTS: usize = 5;

/// Registration from the web, for `kith serve`: the crawler to discover and verify with,
/// the tagger, and the search index and hubs to tell when a blog arrives or is verified.
pub struct WebRegistrar {
    store: DynStore,
    crawler: Arc<Crawler>,
    /// The sweep options of `kith serve` (enricher, indexer, hubs kick): a "check now"
    /// is a sweep of one blog, exactly as the crawler would run it.
    sweep: SweepOptions,
    require_verification: bool,
    previews: Mutex<HashMap<String, Kept>>,
}

struct Kept {
    at: Instant,
    input: String,
    found: Discovery,
}

impl WebRegistrar {
    pub fn new(
        store: DynStore,
        crawler: Arc<Crawler>,
        sweep: SweepOptions,
        require_verification: bool,
    ) -> Self {
        Self {
            store,
            crawler,
            sweep,
            require_verification,
            previews: Mutex::new(HashMap::new()),
        }
    }

    fn previews(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        match self.previews.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Keeps `found` for [`PREVIEW_TTL`]; returns its key.
    fn keep(&self, input: &str, found: Discovery) -> String {
        let key = new_verification_token();
        let now = Instant::now();
        let mut kept = self.previews();
        kept.retain(|_, k| now.duration_since(k.at) < PREVIEW_TTL);
        while kept.len() >= PREVIEW_CAP {
            let Some(oldest) = kept
                .iter()
                .min_by_key(|(_, k)| k.at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            kept.remove(&oldest);
        }
        kept.insert(
            key.clone(),
            Kept {
                at: now,
                input: input.to_owned(),
                found,
            },
        );
        key
    }

    /// The kept discovery `key` names, if it is still fresh and was made for `input`.
    fn take(&self, key: &str, input: &str) -> Option<Discovery> {
        let mut kept = self.previews();
        match kept.remove(key) {
            Some(k) if k.input == input && k.at.elapsed() < PREVIEW_TTL => Some(k.found),
            _ => None,
        }
    }

    /// Refuses `input` when it is not a URL or its blog is registered already.
    async fn check_new(&self, input: &str) -> Result<(), RegisterError> {
        kith_model::normalize_url(input)
            .map_err(|e| RegisterError::BadInput(format!("{input:?} is not a web address: {e}")))?;
        if let Some(b) = self.store.find_blog(input).await.map_err(internal)? {
            return Err(already_registered(&b));
        }
        Ok(())
    }

    /// Discovers and tags the blog behind `input`, refusing one that is registered
    /// under another of its addresses.
    async fn discover_tagged(&self, input: &str) -> Result<Discovery, RegisterError> {
        self.check_new(input).await?;
        let found = discover(&self.crawler, input).await.map_err(classify)?;
        for url in [found.feed_url.as_str(), found.homepage_url.as_str()] {
            if let Some(b) = self.store.find_blog(url).await.map_err(internal)? {
                return Err(already_registered(&b));
            }
        }
        match &self.sweep.enricher {
            Some(e) => tag(&self.store, e, found).await.map_err(classify),
            None => Ok(found),
        }
    }

    async fn do_preview(&self, input: &str) -> Result<Preview, RegisterError> {
        let found = self.discover_tagged(input).await?;
        let mut entries: Vec<&kith_model::NewPost> = found.feed.entries.iter().collect();
        entries.sort_by_key(|p| std::cmp::Reverse(p.published));
        let posts = entries
            .into_iter()
            .take(PREVIEW_POSTS)
            .map(|p| PreviewPost {
                title: p.title.clone(),
                url: p.url.clone(),
                published: p.published,
                tags: p
                    .tags
                    .iter()
                    .map(|t| PreviewTag {
                        tag: t.display.clone(),
                        source: t.source.as_str().to_owned(),
                        reason: t.reason.clone(),
                    })
                    .collect(),
            })
            .collect();
        let preview = Preview {
            key: String::new(),
            input: input.to_owned(),
            homepage_url: found.homepage_url.to_string(),
            feed_url: found.feed_url.to_string(),
            title: found.feed.title.clone(),
            description: found.feed.description.clone(),
            total_posts: found.feed.entries.len(),
            posts,
            require_verification: self.require_verification,
        };
        let key = self.keep(input, found);
        Ok(Preview { key, ..preview })
    }

    async fn do_confirm(&self, key: &str, input: &str) -> Result<BlogId, RegisterError> {
        let found = match self.take(key, input) {
            Some(found) => found,
            // Expired, or the server restarted since: read it again.
            None => self.discover_tagged(input).await?,
        };
        let reg = store_found(
            &self.store,
            &self.crawler,
            input,
            found,
            self.require_verification,
        )
        .await
        .map_err(classify)?;
        if let Some(ix) = &self.sweep.indexer {
            ix.kick();
        }
        if let Some(kick) = &self.sweep.hubs_kick {
            kick.notify_one();
        }
        tracing::info!(blog_id = %reg.blog.id, feed_url = %reg.blog.feed_url, status = %reg.blog.status, new_posts = reg.new_posts, "registered a blog from the web");
        Ok(reg.blog.id)
    }

    async fn do_verify(&self, id: BlogId) -> Result<bool, RegisterError> {
        let blog = self
            .store
            .blog(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| RegisterError::NotFound(format!("There is no blog #{id}.")))?;
        if blog.status != BlogStatus::Pending {
            return Ok(blog.status == BlogStatus::Verified);
        }
        crate::pipeline::sweep(
            &self.store,
            &self.crawler,
            vec![blog],
            &self.sweep,
            &tokio_util::sync::CancellationToken::new(),
            &|_, _| {},
        )
        .await
        .map_err(|e| internal(format!("{e:#}")))?;
        let after = self.store.blog(id).await.map_err(internal)?;
        let verified = after.is_some_and(|b| b.status == BlogStatus::Verified);
        tracing::info!(blog_id = %id, verified, "verification checked from the web");
        Ok(verified)
    }
}

impl Registrar for WebRegistrar {
    fn preview<'a>(&'a self, input: &'a str) -> RegisterFuture<'a, Preview> {
        Box::pin(self.do_preview(input))
    }

    fn confirm<'a>(&'a self, key: &'a str, input: &'a str) -> RegisterFuture<'a, BlogId> {
        Box::pin(self.do_confirm(key, input))
    }

    fn verify(&self, id: BlogId) -> RegisterFuture<'_, bool> {
        Box::pin(self.do_verify(id))
    }
}

fn internal(e: impl std::fmt::Display) -> RegisterError {
    RegisterError::Internal(e.to_string())
}

fn already_registered(b: &Blog) -> RegisterError {
    RegisterError::Already {
        id: b.id,
        message: format!(
            "This blog is already registered as #{} ({}, feed {}).",
            b.id, b.title, b.feed_url
        ),
    }
}

/// Sorts a registration failure into what the blogger can fix, what their server should,
/// and our own failures.
fn classify(e: anyhow::Error) -> RegisterError {
    if let Some(b) = e.downcast_ref::<BadInput>() {
        return RegisterError::BadInput(capitalise(&b.0));
    }
    if let Some(d) = e.downcast_ref::<DiscoverError>() {
        return RegisterError::Unreachable(format!(
            "Kith could not read that blog: {d}. If the blog is up, try again in a few minutes."
        ));
    }
    internal(format!("{e:#}"))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
