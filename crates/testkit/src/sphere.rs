//! [`Blogosphere`]: binds one loopback listener per blog (and one for the WebSub hub, if
//! asked), generates the initial history, and lets a test publish posts, switch behaviours
//! and read back what the servers saw.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::RngExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::content::{self, BlogProfile, LinkTarget, Post, SimRng, Stream};
use crate::http::{self, Doc, DocKind};
use crate::render::{self, Site};
use crate::server;
use crate::types::{
    Behaviour, BlogosphereConfig, RequestRecord, SimBlogInfo, SimDelivery, SimPost,
    SimSubscription, SimVerification,
};
use crate::websub::{self, Hub};

// A poisoned lock only means another test thread panicked; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}
pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// Rendered homepage and feed, dropped whenever the blog publishes.
#[derive(Debug, Default)]
struct DocCache {
    homepage: Option<Arc<Doc>>,
    feed: Option<Arc<Doc>>,
}

/// Everything about one blog that its server and the test share.
#[derive(Debug)]
pub(crate) struct BlogState {
    pub profile: BlogProfile,
    pub info: SimBlogInfo,
    /// `http://ip:port`, no trailing slash.
    pub origin: String,
    /// The WebSub hub's URL, when the blogosphere runs one: the feed advertises it.
    pub hub_url: Option<String>,
    /// Oldest first.
    pub posts: RwLock<Vec<Post>>,
    pub behaviour: RwLock<Behaviour>,
    pub requests: Mutex<Vec<RequestRecord>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    cache: Mutex<DocCache>,
    /// The last gzip bomb built, keyed by (decompressed size, ETag of the document inside).
    pub bomb: Mutex<Option<(usize, String, Bytes)>>,
}

impl BlogState {
    pub(crate) fn site(&self) -> Site<'_> {
        Site {
            name: &self.info.name,
            author: &self.info.author,
            description: &self.profile.description,
            format: self.info.format,
            homepage_url: &self.info.homepage_url,
            feed_url: &self.info.feed_url,
            hub: self.hub_url.as_deref(),
        }
    }

    pub(crate) fn homepage(&self) -> Arc<Doc> {
        let mut cache = lock(&self.cache);
        if let Some(doc) = &cache.homepage {
            return Arc::clone(doc);
        }
        let posts = read(&self.posts);
        let newest: Vec<&Post> = posts.iter().rev().collect();
        let html = render::homepage(&self.site(), &newest);
        let doc = Arc::new(Doc::new(
            DocKind::Html,
            "text/html; charset=utf-8",
            html,
            posts.last().map(|p| p.sim.published),
        ));
        cache.homepage = Some(Arc::clone(&doc));
        doc
    }

    pub(crate) fn feed(&self, limit: usize) -> Arc<Doc> {
        let mut cache = lock(&self.cache);
        if let Some(doc) = &cache.feed {
            return Arc::clone(doc);
        }
        let posts = read(&self.posts);
        let newest: Vec<&Post> = posts.iter().rev().take(limit).collect();
        let body = render::feed(&self.site(), &newest);
        let kind = match self.info.format {
            crate::FeedFormat::JsonFeed => DocKind::Json,
            _ => DocKind::Xml,
        };
        let content_type = format!("{}; charset=utf-8", self.info.format.mime());
        let link = self
            .hub_url
            .as_deref()
            .map(|hub| websub::link_header(hub, &self.info.feed_url));
        let doc = Arc::new(
            Doc::new(
                kind,
                content_type,
                body,
                posts.last().map(|p| p.sim.published),
            )
            .with_link(link),
        );
        cache.feed = Some(Arc::clone(&doc));
        doc
    }

    pub(crate) fn post_page(&self, slug: &str) -> Option<Doc> {
        let posts = read(&self.posts);
        let post = posts.iter().find(|p| p.slug == slug)?;
        let html = render::post_page(&self.site(), post);
        Some(Doc::new(
            DocKind::Html,
            "text/html; charset=utf-8",
            html,
            Some(post.sim.published),
        ))
    }

    fn invalidate(&self) {
        *lock(&self.cache) = DocCache::default();
    }
}

/// State shared by the test-facing handle and every server task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: BlogosphereConfig,
    started: Instant,
    pub blogs: Vec<BlogState>,
    /// Blogs whose main topic is the key: where cross-links go.
    members: HashMap<&'static str, Vec<usize>>,
    /// Each blog's initial history, as cross-link targets.
    link_pool: Vec<Vec<LinkTarget>>,
    tick_rng: Mutex<SimRng>,
    /// The WebSub hub, if `config.websub`.
    pub websub: Option<Arc<Hub>>,
}

impl Shared {
    /// Post `index` of `blog`, dated `published`, with a slug not yet used in `existing`.
    fn make_post(
        &self,
        blog: &BlogState,
        index: usize,
        published: DateTime<Utc>,
        existing: &[Post],
    ) -> Post {
        let seed = self.config.seed;
        let draft = content::draft(seed, &blog.profile, index);
        let slug = unique_slug(&content::slugify(&draft.title), |s| {
            existing.iter().any(|p| p.slug == s)
        });
        let members = self
            .members
            .get(draft.topic.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let link = content::choose_link(
            seed,
            blog.profile.index,
            index,
            published,
            members,
            &self.link_pool,
        );
        let body = content::body(
            seed,
            &blog.profile,
            index,
            &draft,
            &blog.origin,
            &slug,
            link,
        );
        Post {
            sim: SimPost {
                guid: content::guid(seed, blog.profile.index, index),
                url: format!("{}/posts/{slug}.html", blog.origin),
                title: draft.title,
                author: blog.info.author.clone(),
                published,
                categories: draft.categories,
                html: body.html,
                links_to: body.links_to,
            },
            slug,
            summary: body.summary,
        }
    }
}

/// `base`, or `base-2`, `base-3`... whichever is not `taken` yet.
fn unique_slug(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|s| !taken(s))
        .unwrap_or_else(|| base.to_string())
}

/// The addresses blogs listen on: `first`, `first + 1`, ..., skipping `.0` and `.255` last
/// octets, all of them loopback.
fn addresses(first: Ipv4Addr, n: usize) -> io::Result<Vec<Ipv4Addr>> {
    let mut out = Vec::with_capacity(n);
    let mut next = u32::from(first);
    while out.len() < n {
        let ip = Ipv4Addr::from(next);
        if !ip.is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("blog addresses must stay in 127.0.0.0/8; {ip} is not loopback"),
            ));
        }
        if !matches!(ip.octets()[3], 0 | 255) {
            out.push(ip);
        }
        next = next.checked_add(1).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "ran out of IPv4 addresses")
        })?;
    }
    Ok(out)
}

/// Stops the servers (and the hub's callbacks) when the last handle goes away.
#[derive(Debug)]
struct Servers {
    tasks: Mutex<Vec<JoinHandle<()>>>,
    hub: Option<Arc<Hub>>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for task in lock(&self.tasks).iter() {
            task.abort();
        }
        if let Some(hub) = &self.hub {
            hub.close();
        }
    }
}

/// A simulated blogosphere: `config.blogs` blogs, each an HTTP server on its own loopback
/// address, with deterministic history and content.
///
/// Cheap to clone; clones share the same servers. The servers stop on
/// [`shutdown`](Self::shutdown) or when the last clone is dropped.
///
/// Methods taking a `blog` index panic if it is not below [`len`](Self::len).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use kith_testkit::{Behaviour, Blogosphere, BlogosphereConfig};
///
/// let config = BlogosphereConfig { blogs: 20, seed: 7, ..Default::default() };
/// let sphere = Blogosphere::start(config).await?;
/// let feed = sphere.feed_url(3); // crawl this...
/// let truth = sphere.feed_posts(3); // ...and compare with this
/// sphere.publish(3, 1); // a new post appears in the feed
/// sphere.set_behaviour(4, Behaviour::Status(503));
/// assert_eq!(sphere.request_count(3), 0);
/// sphere.shutdown().await;
/// # let _ = (feed, truth);
/// # Ok(())
/// # }
/// ```
///
/// With `websub: true` a WebSub hub runs beside the blogs (see the `websub_*` methods):
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use std::time::Duration;
/// use kith_testkit::{Blogosphere, BlogosphereConfig};
///
/// let config = BlogosphereConfig { blogs: 3, websub: true, ..Default::default() };
/// let sphere = Blogosphere::start(config).await?;
/// let hub = sphere.websub_hub_url(); // every feed advertises it
/// // ... the subscriber under test subscribes to sphere.feed_url(0) at the hub ...
/// assert!(sphere.websub_wait_subscribed(&sphere.feed_url(0), Duration::from_secs(5)).await);
/// sphere.publish(0, 1); // the hub POSTs the new feed to the subscriber
/// assert!(sphere.websub_wait_deliveries(1, Duration::from_secs(5)).await);
/// assert_eq!(sphere.websub_deliveries()[0].status, Some(200));
/// # let _ = hub;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Blogosphere {
    shared: Arc<Shared>,
    servers: Arc<Servers>,
}

impl Blogosphere {
    /// Bind every listener, generate the initial history and start serving.
    ///
    /// Fails if an address cannot be bound or `first_ip + blogs` (or the hub's address)
    /// leaves 127.0.0.0/8.
    pub async fn start(config: BlogosphereConfig) -> io::Result<Blogosphere> {
        let seed = config.seed;
        // The hub, unless told otherwise, takes the address after the last blog's.
        let hub_after_blogs = config.websub && config.websub_hub_ip.is_none();
        let mut ips = addresses(config.first_ip, config.blogs + usize::from(hub_after_blogs))?;
        let hub_ip = match (config.websub, config.websub_hub_ip) {
            (false, _) => None,
            (true, Some(ip)) => Some(ip),
            (true, None) => ips.pop(),
        };
        let mut listeners = Vec::with_capacity(ips.len());
        for ip in ips {
            listeners.push(TcpListener::bind((ip, 0)).await?);
        }
        let hub_listener = match hub_ip {
            Some(ip) if !ip.is_loopback() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the WebSub hub must listen on loopback, not {ip}"),
                ));
            }
            Some(ip) => Some(TcpListener::bind((ip, 0)).await?),
            None => None,
        };
        let hub_url = match &hub_listener {
            Some(listener) => Some(format!("http://{}/", listener.local_addr()?)),
            None => None,
        };
        let profiles = content::profiles(seed, config.blogs, config.communities);
        let (lo, hi) = {
            let (a, b) = (*config.posts_per_blog.start(), *config.posts_per_blog.end());
            (a.min(b), a.max(b))
        };

        let mut blogs = Vec::with_capacity(profiles.len());
        let mut members: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (profile, listener) in profiles.into_iter().zip(&listeners) {
            let addr = listener.local_addr()?;
            let origin = format!("http://{addr}");
            members
                .entry(profile.topic.id)
                .or_default()
                .push(profile.index);
            let info = SimBlogInfo {
                index: profile.index,
                name: profile.name.clone(),
                author: profile.author.clone(),
                community: profile.topic.id.to_string(),
                second_community: profile.second.map(|t| t.id.to_string()),
                format: profile.format,
                addr,
                homepage_url: format!("{origin}/"),
                feed_url: format!("{origin}{}", profile.format.path()),
            };
            blogs.push(BlogState {
                profile,
                info,
                origin,
                hub_url: hub_url.clone(),
                posts: RwLock::new(Vec::new()),
                behaviour: RwLock::new(Behaviour::Normal),
                requests: Mutex::new(Vec::new()),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                cache: Mutex::new(DocCache::default()),
                bomb: Mutex::new(None),
            });
        }

        // First pass: dates, titles and URLs of every initial post, so that bodies can
        // cross-link to other blogs' posts.
        let mut plans = Vec::with_capacity(blogs.len());
        let mut link_pool = Vec::with_capacity(blogs.len());
        for blog in &blogs {
            let count =
                content::rng_for(seed, Stream::Dates, blog.profile.index, 1).random_range(lo..=hi);
            let dates = content::history_dates(seed, &blog.profile, count, config.now);
            let mut targets = Vec::with_capacity(count);
            let mut slugs: Vec<String> = Vec::with_capacity(count);
            for (index, published) in dates.iter().enumerate() {
                let draft = content::draft(seed, &blog.profile, index);
                let slug = unique_slug(&content::slugify(&draft.title), |s| {
                    slugs.iter().any(|taken| taken == s)
                });
                targets.push(LinkTarget {
                    url: format!("{}/posts/{slug}.html", blog.origin),
                    title: draft.title.clone(),
                    author: blog.info.author.clone(),
                    blog_name: blog.info.name.clone(),
                    published: *published,
                });
                slugs.push(slug);
            }
            plans.push(dates);
            link_pool.push(targets);
        }

        let websub = hub_url.map(|url| {
            let topics: HashSet<String> = blogs.iter().map(|b| b.info.feed_url.clone()).collect();
            Arc::new(Hub::new(url, topics, config.websub_min_lease_secs))
        });
        let shared = Arc::new(Shared {
            tick_rng: Mutex::new(content::rng_for(seed, Stream::Tick, 0, 0)),
            websub,
            config,
            started: Instant::now(),
            blogs,
            members,
            link_pool,
        });

        // Second pass: the posts themselves, generated exactly as `publish` would. Blogs are
        // independent, so spread them over the cores: this is most of the start-up time.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut shares: Vec<Vec<(usize, Vec<DateTime<Utc>>)>> = vec![Vec::new(); threads];
        for (blog, dates) in plans.into_iter().enumerate() {
            shares[blog % threads].push((blog, dates));
        }
        std::thread::scope(|scope| {
            for share in shares {
                let shared = &shared;
                scope.spawn(move || {
                    for (blog, dates) in share {
                        let state = &shared.blogs[blog];
                        let mut posts = Vec::with_capacity(dates.len());
                        for (index, published) in dates.into_iter().enumerate() {
                            let post = shared.make_post(state, index, published, &posts);
                            posts.push(post);
                        }
                        *write(&state.posts) = posts;
                    }
                });
            }
        });

        let mut tasks: Vec<JoinHandle<()>> = listeners
            .into_iter()
            .enumerate()
            .map(|(index, listener)| {
                let shared = Arc::clone(&shared);
                http::serve(listener, move |parts| {
                    server::handle(Arc::clone(&shared), index, parts)
                })
            })
            .collect();
        if let (Some(listener), Some(hub)) = (hub_listener, &shared.websub) {
            let hub = Arc::clone(hub);
            tasks.push(http::serve_with_body(
                listener,
                websub::MAX_REQUEST_BYTES,
                move |parts, body| Arc::clone(&hub).handle(parts, body),
            ));
        }
        tracing::debug!(
            blogs = shared.blogs.len(),
            websub_hub = shared.websub.as_ref().map(|h| h.url()),
            "simulated blogosphere serving"
        );
        Ok(Blogosphere {
            servers: Arc::new(Servers {
                tasks: Mutex::new(tasks),
                hub: shared.websub.clone(),
            }),
            shared,
        })
    }

    fn blog(&self, blog: usize) -> &BlogState {
        &self.shared.blogs[blog]
    }

    /// The configuration this blogosphere was started with.
    pub fn config(&self) -> &BlogosphereConfig {
        &self.shared.config
    }

    /// Static facts about every blog, by index.
    pub fn blogs(&self) -> Vec<SimBlogInfo> {
        self.shared.blogs.iter().map(|b| b.info.clone()).collect()
    }

    /// Static facts about one blog.
    pub fn info(&self, blog: usize) -> SimBlogInfo {
        self.blog(blog).info.clone()
    }

    pub fn len(&self) -> usize {
        self.shared.blogs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shared.blogs.is_empty()
    }

    /// `http://ip:port/`
    pub fn homepage_url(&self, blog: usize) -> String {
        self.blog(blog).info.homepage_url.clone()
    }

    /// `http://ip:port/feed.xml`, `/atom.xml` or `/feed.json` depending on the format.
    pub fn feed_url(&self, blog: usize) -> String {
        self.blog(blog).info.feed_url.clone()
    }

    /// Every post the blog has published so far, newest first.
    pub fn posts(&self, blog: usize) -> Vec<SimPost> {
        read(&self.blog(blog).posts)
            .iter()
            .rev()
            .map(|p| p.sim.clone())
            .collect()
    }

    /// The posts currently in the feed: the newest `feed_limit`, newest first.
    pub fn feed_posts(&self, blog: usize) -> Vec<SimPost> {
        read(&self.blog(blog).posts)
            .iter()
            .rev()
            .take(self.shared.config.feed_limit)
            .map(|p| p.sim.clone())
            .collect()
    }

    /// Publish `n` new posts on `blog` now; returns them in publication order (the last is
    /// the newest). Content depends only on seed, blog and post number. Each is dated
    /// `config.now` + wall time elapsed since start, or one second after the blog's latest
    /// post if that is not later.
    pub fn publish(&self, blog: usize, n: usize) -> Vec<SimPost> {
        let state = self.blog(blog);
        let mut published = Vec::with_capacity(n);
        {
            let mut posts = write(&state.posts);
            for _ in 0..n {
                let elapsed =
                    chrono::Duration::from_std(self.shared.started.elapsed()).unwrap_or_default();
                let mut date = content::whole_seconds(self.shared.config.now + elapsed);
                if let Some(latest) = posts.last()
                    && latest.sim.published >= date
                {
                    date = latest.sim.published + chrono::Duration::seconds(1);
                }
                let post = self.shared.make_post(state, posts.len(), date, &posts);
                published.push(post.sim.clone());
                posts.push(post);
            }
        }
        // After the write lock is gone: see `BlogState::homepage` for why this order is safe.
        state.invalidate();
        if n > 0 {
            self.websub_notify(blog);
        }
        published
    }

    /// Every blog publishes one post with `probability` (clamped to 0..=1), drawn from one
    /// deterministic stream in blog order. Returns how many posts were published.
    pub fn tick(&self, probability: f64) -> usize {
        let p = if probability.is_nan() {
            0.0
        } else {
            probability.clamp(0.0, 1.0)
        };
        let chosen: Vec<usize> = {
            let mut rng = lock(&self.shared.tick_rng);
            (0..self.len()).filter(|_| rng.random_bool(p)).collect()
        };
        for blog in &chosen {
            self.publish(*blog, 1);
        }
        chosen.len()
    }

    pub fn set_behaviour(&self, blog: usize, b: Behaviour) {
        *write(&self.blog(blog).behaviour) = b;
    }

    pub fn behaviour(&self, blog: usize) -> Behaviour {
        read(&self.blog(blog).behaviour).clone()
    }

    /// Every request this blog's server received, oldest first.
    pub fn requests(&self, blog: usize) -> Vec<RequestRecord> {
        lock(&self.blog(blog).requests).clone()
    }

    pub fn request_count(&self, blog: usize) -> usize {
        lock(&self.blog(blog).requests).len()
    }

    /// Total requests over all blogs.
    pub fn total_requests(&self) -> usize {
        (0..self.len()).map(|b| self.request_count(b)).sum()
    }

    /// Highest number of requests this blog's server was handling at the same time.
    pub fn max_in_flight(&self, blog: usize) -> usize {
        self.blog(blog).max_in_flight.load(Ordering::SeqCst)
    }

    /// Forget the request log and the in-flight high-water mark of `blog`.
    pub fn reset_requests(&self, blog: usize) {
        let state = self.blog(blog);
        lock(&state.requests).clear();
        state
            .max_in_flight
            .store(state.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Replace every blog's origin (`http://ip:port`) in `text` with `http://blog-{i}.sim`,
    /// and the WebSub hub's with `http://hub.sim`. Ports are ephemeral, so this is what
    /// makes documents comparable across two starts.
    pub fn normalize_origins(&self, text: &str) -> String {
        let mut origins: Vec<(&str, String)> = self
            .shared
            .blogs
            .iter()
            .map(|b| {
                (
                    b.origin.as_str(),
                    format!("http://blog-{}.sim", b.profile.index),
                )
            })
            .collect();
        if let Some(hub) = &self.shared.websub {
            origins.push((
                hub.url().trim_end_matches('/'),
                "http://hub.sim".to_string(),
            ));
        }
        // Every blog has its own IP, but the hub may share one (`websub_hub_ip`): longest
        // first, so that `http://ip:80` never eats the start of `http://ip:8080`.
        origins.sort_by_key(|(origin, _)| std::cmp::Reverse(origin.len()));
        let mut out = text.to_string();
        for (origin, name) in origins {
            out = out.replace(origin, &name);
        }
        out
    }

    /// An OPML 2.0 subscription list of every blog's feed.
    pub fn opml(&self) -> String {
        let blogs: Vec<_> = self
            .shared
            .blogs
            .iter()
            .map(|b| {
                (
                    b.info.name.clone(),
                    b.info.homepage_url.clone(),
                    b.info.feed_url.clone(),
                    b.info.format,
                )
            })
            .collect();
        render::opml(&blogs)
    }

    /// Stop every server (for all clones) and wait until their listeners are closed and the
    /// WebSub hub has stopped calling subscribers back.
    pub async fn shutdown(self) {
        let tasks = std::mem::take(&mut *lock(&self.servers.tasks));
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            // Cancelled is the expected outcome.
            let _ = task.await;
        }
        if let Some(hub) = &self.shared.websub {
            hub.shutdown().await;
        }
    }

    // --- WebSub (see the `websub` module for the spec mapping) ---------------------------

    fn hub(&self) -> Option<&Arc<Hub>> {
        self.shared.websub.as_ref()
    }

    /// `http://ip:port/`, the hub every feed advertises; `None` unless `config.websub`.
    pub fn websub_hub_url(&self) -> Option<String> {
        self.hub().map(|hub| hub.url().to_string())
    }

    /// Every verified subscription, ordered by (topic, callback); lapsed ones included
    /// (see [`SimSubscription::is_active`]).
    pub fn websub_subscriptions(&self) -> Vec<SimSubscription> {
        self.hub()
            .map(|hub| hub.subscriptions())
            .unwrap_or_default()
    }

    /// Every verification of intent and denial notice the hub sent, oldest first, with the
    /// subscriber's answer.
    pub fn websub_verifications(&self) -> Vec<SimVerification> {
        self.hub()
            .map(|hub| hub.verifications())
            .unwrap_or_default()
    }

    /// Every content distribution the hub made, oldest first, with the subscriber's answer.
    pub fn websub_deliveries(&self) -> Vec<SimDelivery> {
        self.hub().map(|hub| hub.deliveries()).unwrap_or_default()
    }

    /// While on, feeds published get a wrong `X-Hub-Signature` (right shape, wrong value)
    /// in their deliveries, for testing that the subscriber rejects them.
    pub fn websub_set_tamper(&self, on: bool) {
        if let Some(hub) = self.hub() {
            hub.set_tamper(on);
        }
    }

    /// Push `blog`'s current feed to every subscriber whose lease is running, as happens
    /// on every [`publish`](Self::publish); returns how many deliveries were queued. They
    /// happen in the background: see [`websub_wait_deliveries`](Self::websub_wait_deliveries).
    pub fn websub_notify(&self, blog: usize) -> usize {
        let Some(hub) = self.hub() else {
            return 0;
        };
        let state = self.blog(blog);
        hub.distribute(&state.info.feed_url, || {
            let doc = state.feed(self.shared.config.feed_limit);
            (doc.body.clone(), doc.content_type.clone())
        })
    }

    /// End every subscription to `blog`'s feed, sending each subscriber
    /// `hub.mode=denied&hub.reason=reason` (WebSub §5.2); returns how many.
    pub fn websub_deny(&self, blog: usize, reason: &str) -> usize {
        let Some(hub) = self.hub() else {
            return 0;
        };
        hub.deny(&self.blog(blog).info.feed_url, reason)
    }

    /// Wait until `done(self)` holds, re-checking whenever the hub's subscriptions or logs
    /// change; `false` if it still does not after `timeout`. Leases running out are not a
    /// change: to see one, wait for the time itself.
    pub async fn websub_wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Blogosphere) -> bool,
    ) -> bool {
        let Some(hub) = self.hub() else {
            return done(self);
        };
        // Subscribed before the first check: a change in between still wakes us.
        let mut changes = hub.watch();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(self) {
                return true;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return done(self),
            }
        }
    }

    /// Wait until some subscription to `topic` is verified and its lease running.
    pub async fn websub_wait_subscribed(&self, topic: &str, timeout: Duration) -> bool {
        self.websub_wait_until(timeout, |sphere| {
            sphere
                .websub_subscriptions()
                .iter()
                .any(|s| s.topic == topic && s.is_active())
        })
        .await
    }

    /// Wait until the hub has made at least `n` deliveries in all (answered or not).
    pub async fn websub_wait_deliveries(&self, n: usize, timeout: Duration) -> bool {
        self.websub_wait_until(timeout, |sphere| {
            n == 0 || sphere.hub().is_some_and(|hub| hub.delivery_count() >= n)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_skip_network_and_broadcast_octets() {
        let ips = addresses(Ipv4Addr::new(127, 10, 0, 253), 4).unwrap();
        assert_eq!(
            ips,
            vec![
                Ipv4Addr::new(127, 10, 0, 253),
                Ipv4Addr::new(127, 10, 0, 254),
                Ipv4Addr::new(127, 10, 1, 1),
                Ipv4Addr::new(127, 10, 1, 2),
            ]
        );
        assert!(addresses(Ipv4Addr::new(10, 0, 0, 1), 1).is_err());
        assert!(addresses(Ipv4Addr::new(127, 255, 255, 254), 2).is_err());
    }
}
