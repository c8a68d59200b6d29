//! The crawl pipeline: due blogs from the store, polled by the crawler, results back to
//! the store. This is the only place where the two stages meet.

use futures::StreamExt;
use kith_crawl::{Crawler, Poll, PollOutcome};
use kith_model::{Blog, IngestStats};
use kith_store::DynStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

/// How a sweep runs.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Language and tags for new posts; without it only languages are detected.
    pub enricher: Option<Arc<crate::enrich::Enricher>>,
    /// Polls in flight (the fetcher's politeness limits pace the requests themselves).
    pub parallel: usize,
    /// Note the WebSub hubs feeds name, and poll subscribed feeds only as a fallback.
    pub websub: bool,
    /// The fallback polling interval of a feed whose hub pushes to us.
    pub fallback: Duration,
    /// The search index's writer, told about new posts and status changes.
    pub indexer: Option<kith_index::Indexer>,
    /// Told when posts or a blog's status change, so hubs and communities are recomputed.
    pub hubs_kick: Option<Arc<tokio::sync::Notify>>,
    /// Who this crawl process is in its claims on due feeds ([`crawler_id`]).
    pub owner: String,
    /// How long a claim holds before another process may take the feed (this process
    /// died, say): longer than any poll takes.
    pub lease: Duration,
}

/// This machine's name, as crawl processes name themselves in their claims.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "kith".to_owned())
}

/// This crawl process's name in its claims: host, process id and a random part (two
/// processes never share one, even across restarts).
pub fn crawler_id() -> String {
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}:{}:{salt:08x}", host_name(), std::process::id())
}

/// Ends the claims of crawl processes on this machine that are gone (killed, crashed):
/// their feeds are polled now instead of when the leases run out. Processes on other
/// machines are left to their leases.
pub async fn release_dead_claims(store: &DynStore, me: &str) {
    let holders = match store.claim_holders(chrono::Utc::now()).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read who holds claims");
            return;
        }
    };
    let host = host_name();
    for holder in holders.iter().filter(|h| h.as_str() != me) {
        let mut parts = holder.rsplitn(3, ':');
        let (_salt, pid, on) = (parts.next(), parts.next(), parts.next());
        let alive = match pid.and_then(|p| p.parse::<u32>().ok()) {
            Some(pid) => std::path::Path::new(&format!("/proc/{pid}")).exists(),
            None => true,
        };
        if on == Some(host.as_str()) && !alive {
            match store.release_claims(holder).await {
                Ok(n) => tracing::info!(
                    holder = holder.as_str(),
                    feeds = n,
                    "released the claims of a crawl process that is gone"
                ),
                Err(e) => tracing::warn!(error = %e, "cannot release a gone process's claims"),
            }
        }
    }
}

impl SweepOptions {
    pub fn new(parallel: usize) -> Self {
        Self {
            enricher: None,
            parallel,
            websub: false,
            fallback: Duration::from_secs(24 * 3600),
            indexer: None,
            hubs_kick: None,
            owner: crawler_id(),
            lease: Duration::from_secs(600),
        }
    }
}

/// What a sweep did, for `kith crawl --once` and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepSummary {
    pub polled: usize,
    pub fetched: usize,
    pub not_modified: usize,
    pub gone: usize,
    pub new_posts: usize,
    pub updated_posts: usize,
    pub errors: BTreeMap<String, usize>,
}

impl SweepSummary {
    pub fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    fn add(&mut self, outcome: &PollOutcome, stats: IngestStats) {
        self.polled += 1;
        match outcome {
            PollOutcome::Fetched { .. } => self.fetched += 1,
            PollOutcome::NotModified => self.not_modified += 1,
            PollOutcome::Gone => self.gone += 1,
            PollOutcome::Failed { kind, .. } => {
                *self.errors.entry((*kind).to_owned()).or_default() += 1
            }
        }
        self.new_posts += stats.new;
        self.updated_posts += stats.updated;
    }
}

impl std::fmt::Display for SweepSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "polled {} feeds: {} fetched, {} not modified, {} gone; {} new posts, {} updated; {} errors",
            self.polled,
            self.fetched,
            self.not_modified,
            self.gone,
            self.new_posts,
            self.updated_posts,
            self.error_count()
        )?;
        if !self.errors.is_empty() {
            let by_kind: Vec<String> = self
                .errors
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect();
            write!(f, " ({})", by_kind.join(", "))?;
        }
        Ok(())
    }
}

/// Polls stored together in one transaction, at most: what arrived while the previous
/// batch was being written.
const WRITE_BATCH: usize = 64;

/// Polls `blogs` (concurrently; the crawler's politeness limits pace the requests) and
/// stores the results as they arrive, so a kill loses at most the polls in flight.
/// Stops starting new polls when `cancel` fires.
///
/// Every poll (fetch, parse, sanitise, tag) runs as a task of its own, so polls go on on
/// every core while the store writes; the writer stores what arrived meanwhile in one
/// transaction (up to [`WRITE_BATCH`] polls), instead of one commit per feed.
pub async fn sweep(
    store: &DynStore,
    crawler: &Arc<Crawler>,
    blogs: Vec<Blog>,
    opts: &SweepOptions,
    cancel: &CancellationToken,
    on_done: &(dyn Fn(&Blog, &PollOutcome) + Sync),
) -> anyhow::Result<SweepSummary> {
    let blogs = futures::stream::iter(interleave_hosts(blogs));
    sweep_stream(store, crawler, blogs, opts, cancel, on_done).await
}

/// [`sweep`] over blogs that arrive as the sweep makes room for them ([`claimed`]).
pub async fn sweep_stream(
    store: &DynStore,
    crawler: &Arc<Crawler>,
    blogs: impl futures::Stream<Item = Blog> + Send,
    opts: &SweepOptions,
    cancel: &CancellationToken,
    on_done: &(dyn Fn(&Blog, &PollOutcome) + Sync),
) -> anyhow::Result<SweepSummary> {
    let parallel = opts.parallel.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Blog, Poll)>(WRITE_BATCH);
    let polls = blogs
        .take_while(|_| std::future::ready(!cancel.is_cancelled()))
        .map(|blog| {
            let crawler = Arc::clone(crawler);
            let store = Arc::clone(store);
            let enricher = opts.enricher.clone();
            let id = blog.id;
            // Aborted if the sweep is dropped (an error in the writer, say).
            let task = AbortOnDropHandle::new(tokio::spawn(async move {
                let mut poll = crawler.poll(&blog).await;
                crate::enrich::enrich_new_posts(
                    &store,
                    enricher.as_ref(),
                    &blog.homepage_url,
                    &blog.feed_url,
                    &mut poll.result,
                )
                .await;
                (blog, poll)
            }));
            async move { (id, task.await) }
        })
        .buffer_unordered(parallel);
    let produce = async move {
        polls
            .for_each(|(id, done)| {
                let tx = tx.clone();
                async move {
                    match done {
                        Ok(done) => {
                            // The writer only goes away on an error, which ends the sweep.
                            let _ = tx.send(done).await;
                        }
                        Err(e) => {
                            tracing::error!(blog_id = %id, error = %e, "the poll failed; it is retried next sweep")
                        }
                    }
                }
            })
            .await;
    };
    let write = async {
        let mut summary = SweepSummary::default();
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        // Waits for one result, then takes whatever else has arrived (0: all done).
        while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
            store_batch(
                store,
                opts,
                std::mem::take(&mut batch),
                &mut summary,
                on_done,
            )
            .await?;
        }
        anyhow::Ok(summary)
    };
    tokio::pin!(produce, write);
    let summary = tokio::select! {
        // The writer only ends first on an error: the polls still in flight are aborted.
        written = &mut write => written?,
        () = &mut produce => write.await?,
    };
    save_df(store, opts, DF_SAVE_EVERY).await;
    Ok(summary)
}

/// Stores one batch of polls (one transaction) and tells the index and the hubs.
async fn store_batch(
    store: &DynStore,
    opts: &SweepOptions,
    batch: Vec<(Blog, Poll)>,
    summary: &mut SweepSummary,
    on_done: &(dyn Fn(&Blog, &PollOutcome) + Sync),
) -> anyhow::Result<()> {
    let mut done = Vec::with_capacity(batch.len());
    let mut results = Vec::with_capacity(batch.len());
    for (blog, mut poll) in batch {
        if opts.websub
            && let Some(hub) = &poll.hub
        {
            match crate::websub::note_hub(store, blog.id, hub).await {
                // Pushed to us: polling is only the fallback.
                Ok(Some(sub)) if sub.state == kith_model::SubscriptionState::Active => {
                    let fallback = chrono::Utc::now()
                        + chrono::Duration::from_std(opts.fallback)
                            .unwrap_or(chrono::Duration::days(1));
                    let next = &mut poll.result.state.next_check_at;
                    *next = Some(next.map_or(fallback, |n| n.max(fallback)));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(blog_id = %blog.id, error = %e, "cannot note the feed's hub")
                }
            }
        }
        let new_status = poll.result.status.filter(|s| *s != blog.status);
        done.push((blog, poll.outcome, new_status));
        results.push(poll.result);
    }
    let stored = store.record_polls(results).await?;
    let mut changed = false;
    let mut failed = None;
    for ((blog, outcome, new_status), stats) in done.into_iter().zip(stored) {
        let stats = match stats {
            Ok(s) => {
                if new_status.is_some()
                    && let Some(ix) = &opts.indexer
                    // Public or not: the blog's documents change without their posts.
                    && let Err(e) = ix.reindex_blog(blog.id).await
                {
                    tracing::warn!(blog_id = %blog.id, error = %e, "cannot re-index the blog");
                }
                changed |= s.new + s.updated > 0 || new_status.is_some();
                s
            }
            // Removed while we polled it: nothing to record.
            Err(kith_store::Error::NoSuchBlog(_)) => IngestStats::default(),
            Err(e) => {
                failed.get_or_insert(e);
                continue;
            }
        };
        record_metrics(&outcome, &stats);
        summary.add(&outcome, stats);
        on_done(&blog, &outcome);
    }
    if let Some(ix) = &opts.indexer {
        ix.kick();
    }
    if changed && let Some(kick) = &opts.hubs_kick {
        kick.notify_one();
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// How often a long-running crawler saves the document frequencies it counted.
const DF_SAVE_EVERY: Duration = Duration::from_secs(300);

/// Saves the document frequencies counted in this process (see `crate::enrich`), when
/// anything was counted and `min_interval` has passed since the last save.
async fn save_df(store: &DynStore, opts: &SweepOptions, min_interval: Duration) {
    if let Some(e) = &opts.enricher
        && let Err(e) = e.save_df(store, min_interval).await
    {
        tracing::warn!(
            error = format!("{e:#}"),
            "cannot save the document frequencies"
        );
    }
}

/// Counts the poll for `/metrics` (polls by outcome, posts ingested).
fn record_metrics(outcome: &PollOutcome, stats: &IngestStats) {
    let label = match outcome {
        PollOutcome::Fetched { .. } => "fetched".to_owned(),
        PollOutcome::NotModified => "not_modified".to_owned(),
        PollOutcome::Gone => "gone".to_owned(),
        PollOutcome::Failed { kind, .. } => format!("error_{kind}"),
    };
    kith_web::metrics::record_poll(&label, stats.new, stats.updated);
}

/// Reorders blogs so that feeds on one host are spread through the sweep (round-robin
/// over hosts): a host's politeness delay then overlaps with work on other hosts instead
/// of holding a run of poll slots.
fn interleave_hosts(blogs: Vec<Blog>) -> Vec<Blog> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut keyed: Vec<(usize, usize, Blog)> = blogs
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let host = url::Url::parse(&b.feed_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let round = seen.entry(host).or_insert(0);
            *round += 1;
            (*round, i, b)
        })
        .collect();
    keyed.sort_by_key(|(round, i, _)| (*round, *i));
    keyed.into_iter().map(|(_, _, b)| b).collect()
}

/// Due blogs claimed from the store a chunk at a time (as many as polls in flight), as the
/// sweep makes room for them: crawl processes sharing a store split the due feeds between
/// them, and a host one of them holds is left to it. Ends when no due feed is left
/// unclaimed.
pub fn claimed(
    store: &DynStore,
    opts: &SweepOptions,
    due_by: chrono::DateTime<chrono::Utc>,
) -> impl futures::Stream<Item = Blog> + Send + 'static {
    let store = Arc::clone(store);
    let owner = opts.owner.clone();
    let lease = chrono::Duration::from_std(opts.lease).unwrap_or(chrono::Duration::minutes(10));
    let chunk = opts.parallel.max(1);
    futures::stream::unfold(true, move |more| {
        let (store, owner) = (Arc::clone(&store), owner.clone());
        async move {
            if !more {
                return None;
            }
            let now = chrono::Utc::now();
            match store
                .claim_due_blogs(&owner, due_by, now, lease, chunk)
                .await
            {
                Ok(blogs) if blogs.is_empty() => None,
                Ok(blogs) => {
                    let full = blogs.len() == chunk;
                    Some((futures::stream::iter(interleave_hosts(blogs)), full))
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot claim due feeds");
                    None
                }
            }
        }
    })
    .flatten()
}

/// Polls every blog due now once (every polled blog with `all`), claiming them from the
/// store as it goes: several `kith crawl --once` on one store split the sweep.
pub async fn crawl_once(
    store: &DynStore,
    crawler: &Arc<Crawler>,
    opts: &SweepOptions,
    all: bool,
    cancel: &CancellationToken,
    on_done: &(dyn Fn(&Blog, &PollOutcome) + Sync),
) -> anyhow::Result<SweepSummary> {
    release_dead_claims(store, &opts.owner).await;
    let now = chrono::Utc::now();
    if all {
        store.make_all_due(now).await?;
    }
    let blogs = claimed(store, opts, now);
    let summary = sweep_stream(store, crawler, blogs, opts, cancel, on_done).await;
    release_claims(store, opts).await;
    save_df(store, opts, Duration::ZERO).await;
    summary
}

/// Ends this process's claims on feeds it did not poll (a sweep stopped early).
async fn release_claims(store: &DynStore, opts: &SweepOptions) {
    match store.release_claims(&opts.owner).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(feeds = n, "released claims on feeds not polled"),
        Err(e) => tracing::warn!(error = %e, "cannot release claims; they run out by themselves"),
    }
}

/// Keeps polling due feeds until `cancel` fires: the crawler half of `kith serve`.
/// `websub`: where hubs call back; None when nothing listens for them (a crawl-only
/// worker without a public URL).
pub async fn run_crawler(
    store: DynStore,
    crawler: Arc<Crawler>,
    opts: SweepOptions,
    every: Duration,
    websub: Option<crate::websub::WebSubContext>,
    cancel: CancellationToken,
) {
    tracing::info!(every_secs = every.as_secs(), "crawler started");
    while !cancel.is_cancelled() {
        // One crawler of those sharing the store asks hubs for subscriptions (a lease),
        // so no hub is asked twice; any node accepts what the hubs deliver.
        let websub_lease = chrono::Duration::from_std(every.saturating_mul(3))
            .unwrap_or(chrono::Duration::MAX)
            .max(chrono::Duration::minutes(10));
        if let Some(ctx) = &websub
            && store
                .lead("websub", &opts.owner, chrono::Utc::now(), websub_lease)
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "cannot take the websub lease");
                    false
                })
            && let Err(e) = crate::websub::request_due(&store, &crawler, ctx).await
        {
            tracing::error!(error = %e, "cannot request websub subscriptions");
        }
        release_dead_claims(&store, &opts.owner).await;
        // Claims what is due until nothing is left (other crawlers on the store take
        // their share), then waits.
        let started = std::time::Instant::now();
        let due = claimed(&store, &opts, chrono::Utc::now());
        match sweep_stream(&store, &crawler, due, &opts, &cancel, &|_, _| {}).await {
            Ok(s) if s.polled == 0 => {}
            Ok(s) => tracing::info!(
                polled = s.polled,
                new_posts = s.new_posts,
                errors = s.error_count(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "sweep done"
            ),
            Err(e) => tracing::error!(error = %e, "sweep failed"),
        }
        release_claims(&store, &opts).await;
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
    save_df(&store, &opts, Duration::ZERO).await;
    tracing::info!("crawler stopped");
}
