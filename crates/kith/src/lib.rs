//! # kith: the binary that wires the stages into a hub
//!
//! Every stage crate is independent (they share only `kith-model` and `kith-config`); this
//! crate is where they meet: the CLI, the crawl pipeline (store -> crawler -> store),
//! registration, the demo, and start-up and shutdown of `kith serve`.
//!
//! ```text
//! kith blogs add URL ─> register ─> crawl::discover ─> store
//! kith serve ─┬─> pipeline::run_crawler: store.due_blogs ─> crawl::Crawler::poll ─> store.record_poll
//!             └─> web::serve (reads the store)
//! ```
//!
//! ## Layout
//! - [`cli`] — the command line (clap).
//! - [`run`] and the `cmd_*` functions below: one per command.
//! - [`pipeline`] — sweeps of due feeds, summaries.
//! - [`register`] — discover + store a new blog.
//! - [`opml`] — OPML import and export.
//! - [`tagcmd`] — `kith tag`, `kith rules check` and `kith rules preview`.
//! - [`retag`] — `kith retag`: the rules in force applied to every stored post.
//! - [`reload`] — hot reload of the tag rules in `kith serve` and `kith crawl`.
//! - [`enrich`] — language and tags for new posts (the tagger, wired in).
//! - [`demo`] — `kith demo`, the simulated blogosphere end to end.
//!
//! `main.rs` only parses arguments, sets up logging and maps errors to exit codes:
//! 0 ok, 2 bad input ([`BadInput`]), 1 any other failure.

pub mod cli;
pub mod demo;
pub mod enrich;
pub mod hubs;
pub mod opml;
pub mod pipeline;
pub mod register;
pub mod reload;
pub mod retag;
pub mod search;
pub mod tagcmd;
pub mod websub;

use anyhow::Context;
use cli::{BlogsCommand, Cli, Command, CrawlArgs, ExportArgs, OpmlCommand};
use kith_config::Config;
use kith_crawl::Crawler;
use kith_model::{Blog, BlogStatus, NewBlog, Post, normalize_url};
use kith_store::{DynStore, PostgresStore, SqliteStore};
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// An error in what the user gave us (a URL, a file, an id): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Polls in flight per crawl worker. Most of them wait on the fetcher's politeness limits
/// (which pace the requests themselves), so this is well above the request concurrency:
/// a poll waiting for its host's turn must not keep other hosts waiting.
fn poll_parallelism(config: &Config) -> usize {
    config.crawl.concurrency.saturating_mul(16).max(64)
}

/// How sweeps run under this configuration; `websub` when hubs can call us back.
pub fn sweep_options(
    config: &Config,
    websub: bool,
    enricher: Option<Arc<enrich::Enricher>>,
) -> pipeline::SweepOptions {
    pipeline::SweepOptions {
        enricher,
        parallel: poll_parallelism(config),
        websub: websub && config.crawl.websub,
        fallback: std::time::Duration::from_secs(config.crawl.max_interval_secs),
        indexer: None,
        hubs_kick: None,
        owner: pipeline::crawler_id(),
        // Longer than a poll can take: its requests' timeouts, with room for politeness.
        lease: std::time::Duration::from_secs(
            (config.crawl.timeout_secs.saturating_mul(4)).max(600),
        ),
    }
}

/// The opened store and crawler every command works with.
pub struct App {
    pub config: Config,
    pub store: DynStore,
    pub crawler: Arc<Crawler>,
    /// The search index writer, opened on first use ([`App::indexer`]).
    pub index: tokio::sync::OnceCell<Option<kith_index::Indexer>>,
    /// Whether `kith serve` polls feeds (`--no-crawl` makes it a web node only).
    pub poll_feeds: bool,
}

impl App {
    pub async fn open(config: Config) -> anyhow::Result<App> {
        let store = open_store(&config).await?;
        let mut crawler = Crawler::new(&config.crawl, &config.public_url())
            .context("cannot set up the HTTP client")?;
        crawler.remember_robots_in(Arc::new(StoreRobots(Arc::clone(&store))));
        Ok(App {
            config,
            store,
            crawler: Arc::new(crawler),
            index: tokio::sync::OnceCell::new(),
            poll_feeds: true,
        })
    }
}

/// The configured store: PostgreSQL when `store.url` (or `KITH_STORE_URL`) names one,
/// else SQLite in the data directory.
pub async fn open_store(config: &Config) -> anyhow::Result<DynStore> {
    Ok(match &config.store.url {
        Some(url) => Arc::new(
            PostgresStore::open(url, config.store.pool_size)
                .await
                .context("cannot open the store")?,
        ),
        None => Arc::new(
            SqliteStore::open(config.database_path())
                .await
                .with_context(|| {
                    format!("cannot open the store in {}", config.data_dir.display())
                })?,
        ),
    })
}

/// Where the store is, in words (for messages).
pub fn store_location(config: &Config) -> String {
    match &config.store.url {
        Some(url) => kith_store::postgres::redact(url),
        None => config.database_path().display().to_string(),
    }
}

/// robots.txt decisions kept in the store ([`kith_crawl::robots::RobotsMemory`]): every
/// crawl process sees them, and a restart keeps them.
#[derive(Debug)]
struct StoreRobots(DynStore);

impl kith_crawl::robots::RobotsMemory for StoreRobots {
    fn load<'a>(
        &'a self,
        origin: &'a str,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Option<kith_model::StoredRobots>> + Send + 'a>,
    > {
        Box::pin(async move {
            self.0.robots(origin).await.unwrap_or_else(|e| {
                tracing::warn!(origin, error = %e, "cannot read a robots.txt decision");
                None
            })
        })
    }

    fn save(
        &self,
        robots: kith_model::StoredRobots,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let origin = robots.origin.clone();
            if let Err(e) = self.0.save_robots(robots).await {
                tracing::warn!(origin, error = %e, "cannot keep a robots.txt decision");
            }
        })
    }
}

/// Runs one command. `shutdown` is cancelled on Ctrl-C / SIGTERM (tests cancel it
/// themselves); long-running commands stop cleanly when it fires.
pub async fn run(cli: Cli, shutdown: CancellationToken) -> anyhow::Result<()> {
    let load = || Config::load(cli.config.as_deref()).map_err(|e| BadInput(e.to_string()));
    match cli.command {
        Command::Demo(args) => demo::run(args, shutdown).await,
        Command::Serve(args) => {
            let mut config = load()?;
            if let Some(listen) = args.listen {
                config.web.listen = listen;
            }
            let mut app = App::open(config).await?;
            app.poll_feeds = !args.no_crawl;
            cmd_serve(app, shutdown).await
        }
        Command::Blogs(cmd) => cmd_blogs(App::open(load()?).await?, cmd).await,
        Command::Opml(cmd) => cmd_opml(App::open(load()?).await?, cmd).await,
        Command::Export(args) => cmd_export(App::open(load()?).await?, args).await,
        Command::Crawl(args) => cmd_crawl(App::open(load()?).await?, args, shutdown).await,
        Command::Hubs(args) => hubs::cmd_hubs(App::open(load()?).await?, args).await,
        Command::Communities(args) => hubs::cmd_communities(App::open(load()?).await?, args).await,
        Command::Tag(args) => tagcmd::cmd_tag(&load()?, args).await,
        Command::Rules(cmd) => tagcmd::cmd_rules(&load()?, cmd).await,
        Command::Search(args) => search::cmd_search(App::open(load()?).await?, args).await,
        Command::Reindex(args) => search::cmd_reindex(App::open(load()?).await?, args).await,
        Command::Retag(args) => retag::cmd_retag(App::open(load()?).await?, args, shutdown).await,
    }
}

/// Serves the site and runs the crawler until `shutdown`; returns once in-flight requests
/// and polls have finished.
pub async fn cmd_serve(mut app: App, shutdown: CancellationToken) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(app.config.web.listen)
        .await
        .with_context(|| format!("cannot listen on {}", app.config.web.listen))?;
    let addr = listener.local_addr()?;
    // Port 0 picked a free port: links and WebSub callbacks use the one bound.
    app.config.web.listen = addr;
    serve_on(app, listener, shutdown, |_| {
        eprintln!("Kith is serving http://{addr}/ (Ctrl-C to stop)");
    })
    .await
}

/// [`cmd_serve`] on an already bound listener; `ready` runs once the site accepts requests.
pub async fn serve_on(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
    ready: impl FnOnce(&App),
) -> anyhow::Result<()> {
    let enricher = Arc::new(enrich::Enricher::open(&app.config, &app.store).await?);
    reload::spawn(&app.config, Arc::clone(&enricher), shutdown.child_token());
    let index_task = search::IndexTask::start(&app).await;
    let hubs_kick = Arc::new(tokio::sync::Notify::new());
    let hubs = start_hubs(&app, Arc::clone(&hubs_kick), &shutdown);
    let websub = app.config.crawl.websub.then(|| websub::WebSubContext {
        public_url: app.config.public_url(),
        lease_secs: app.config.crawl.websub_lease_secs,
    });
    // What the crawler and web registrations store posts with: the tagger, the indexer to
    // tell about new posts, the hubs to recompute.
    let sweep = || {
        let mut opts = index_task.attach(sweep_options(
            &app.config,
            true,
            Some(Arc::clone(&enricher)),
        ));
        opts.hubs_kick = Some(Arc::clone(&hubs_kick));
        opts
    };
    let crawler_task = app.poll_feeds.then(|| {
        tokio::spawn(pipeline::run_crawler(
            Arc::clone(&app.store),
            Arc::clone(&app.crawler),
            sweep(),
            std::time::Duration::from_secs(app.config.crawl.sweep_every_secs),
            websub,
            shutdown.child_token(),
        ))
    });
    if !app.poll_feeds {
        tracing::info!("not polling feeds (--no-crawl)");
    }
    let site = kith_web::Site {
        name: app.config.web.site_name.clone(),
        public_url: app.config.public_url().trim_end_matches('/').to_string(),
        websub_hub: app.config.web.websub_hub.clone(),
    };
    let state = kith_web::AppState::new(
        Arc::clone(&app.store),
        site,
        hubs,
        index_task.search_index(),
    )?
    .with_tag_canon({
        // The hot-reloaded rules: an alias added to tags.toml moves its hub's address now.
        let enricher = Arc::clone(&enricher);
        Arc::new(move |raw: &str| enricher.tagger().canonical(raw))
    })
    .with_trusted_proxies(app.config.web.trusted_proxies.clone())
    .with_registrar(Arc::new(register::WebRegistrar::new(
        Arc::clone(&app.store),
        Arc::clone(&app.crawler),
        sweep(),
        app.config.registration.require_verification,
    )));
    let max_body = usize::try_from(app.config.crawl.max_body_bytes).unwrap_or(usize::MAX);
    let router = kith_web::router(state).merge(websub::routes(
        Arc::clone(&app.store),
        Arc::clone(&enricher),
        max_body,
    ));
    ready(&app);
    let web_shutdown = shutdown.clone();
    let served = kith_web::serve(
        listener,
        router,
        async move { web_shutdown.cancelled().await },
    )
    .await;
    shutdown.cancel();
    if let Some(task) = crawler_task {
        let _ = task.await;
    }
    index_task.finish().await;
    served.context("the web server failed")
}

/// The hubs snapshot the site shows: empty until the first computation (started now, in
/// the background, so a large store does not hold the site back), then recomputed on
/// schedule and when the crawler stores posts (`kick`).
fn start_hubs(
    app: &App,
    kick: Arc<tokio::sync::Notify>,
    shutdown: &CancellationToken,
) -> kith_hubs::HubsCache {
    let rules = tagcmd::load_rules(&app.config, None).ok();
    let params = rules
        .as_ref()
        .map_or_else(kith_hubs::Params::default, |r| hubs::params(&app.config, r));
    let cache = kith_hubs::HubsCache::new(kith_hubs::Snapshot::empty(&params));
    kick.notify_one();
    tokio::spawn(hubs::refresh_loop(
        cache.clone(),
        Arc::clone(&app.store),
        app.config.clone(),
        kick,
        shutdown.child_token(),
    ));
    cache
}

/// Finds a blog by id or URL.
async fn find_blog(store: &DynStore, key: &str) -> anyhow::Result<Blog> {
    let found = match key.parse::<i64>() {
        Ok(id) => store.blog(kith_model::BlogId(id)).await?,
        Err(_) => store.find_blog(key).await?,
    };
    found.ok_or_else(|| {
        BadInput(format!(
            "no blog {key:?} (give an id from `kith blogs list` or a URL)"
        ))
        .into()
    })
}

/// The fields `kith blogs list --json` prints for each blog.
#[derive(Debug, Serialize)]
pub struct BlogJson<'a> {
    pub id: i64,
    pub homepage_url: &'a str,
    pub feed_url: &'a str,
    pub title: &'a str,
    pub status: BlogStatus,
    pub health: kith_model::Health,
    pub added_at: chrono::DateTime<chrono::Utc>,
    pub last_checked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_success_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_status: Option<u16>,
    pub last_error: Option<&'a str>,
    pub consecutive_errors: u32,
    pub next_check_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What the last read of the feed left out or changed (entries skipped, fields cut).
    pub notes: &'a [String],
    /// Id of the community where the blog's posts concentrate (`kith communities`).
    pub primary_community: Option<String>,
}

impl<'a> From<&'a Blog> for BlogJson<'a> {
    fn from(b: &'a Blog) -> Self {
        BlogJson {
            id: b.id.0,
            homepage_url: &b.homepage_url,
            feed_url: &b.feed_url,
            title: &b.title,
            status: b.status,
            health: b.health(),
            added_at: b.added_at,
            last_checked_at: b.feed.last_checked_at,
            last_success_at: b.feed.last_success_at,
            last_status: b.feed.last_status,
            last_error: b.feed.last_error.as_deref(),
            consecutive_errors: b.feed.consecutive_errors,
            next_check_at: b.feed.next_check_at,
            notes: &b.feed.notes,
            primary_community: None,
        }
    }
}

fn verification_help(b: &Blog, public_url: &str) -> String {
    format!(
        "Blog #{id} is pending until you prove it is yours. Do one of:\n  \
         - add <meta name=\"kith-verification\" content=\"{t}\"> to your homepage's <head>, or\n  \
         - put {t} in your feed's description or in any post.\n\
         Kith checks on every poll; `kith blogs verify {id}` checks now. ({public_url})",
        id = b.id,
        t = b.verification_token,
    )
}

async fn cmd_blogs(app: App, cmd: BlogsCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match cmd {
        BlogsCommand::Add { url, json } => {
            let enricher = Arc::new(enrich::Enricher::open(&app.config, &app.store).await?);
            let reg = register::register(
                &app.store,
                &app.crawler,
                Some(&enricher),
                &url,
                app.config.registration.require_verification,
            )
            .await?;
            app.sync_index().await;
            let b = &reg.blog;
            if json {
                serde_json::to_writer_pretty(&mut out, &BlogJson::from(b))?;
                writeln!(out)?;
            } else {
                writeln!(out, "Added blog #{}: {}", b.id, b.title)?;
                writeln!(out, "  homepage: {}", b.homepage_url)?;
                writeln!(out, "  feed:     {}", b.feed_url)?;
                writeln!(out, "  posts:    {} read now", reg.new_posts)?;
                if b.status == BlogStatus::Pending {
                    writeln!(out, "{}", verification_help(b, &app.config.public_url()))?;
                }
            }
        }
        BlogsCommand::List { json } => {
            let blogs = app.store.blogs().await?;
            if json {
                let primary = hubs::primary_communities(&app).await?;
                let rows: Vec<BlogJson<'_>> = blogs
                    .iter()
                    .map(|b| BlogJson {
                        primary_community: primary.get(&b.id).cloned(),
                        ..BlogJson::from(b)
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            } else if blogs.is_empty() {
                writeln!(out, "No blogs yet. Add one with `kith blogs add URL`.")?;
            } else {
                print_blog_table(&mut out, &blogs)?;
            }
        }
        BlogsCommand::Verify { blog } => {
            let b = find_blog(&app.store, &blog).await?;
            if b.status != BlogStatus::Pending {
                writeln!(out, "Blog #{} is {}; nothing to verify.", b.id, b.status)?;
                return Ok(());
            }
            let poll = app.crawler.poll(&b).await;
            let verified = poll.result.status == Some(BlogStatus::Verified);
            app.store.record_poll(poll.result).await?;
            if verified {
                let id = b.id;
                app.update_index("verify", |ix| async move { ix.reindex_blog(id).await })
                    .await;
                writeln!(out, "Blog #{} is verified: its posts are now public.", b.id)?;
            } else {
                writeln!(
                    out,
                    "The token was not found yet.\n{}",
                    verification_help(&b, &app.config.public_url())
                )?;
            }
        }
        BlogsCommand::Kin { blog, json, limit } => {
            let b = find_blog(&app.store, &blog).await?;
            drop(out);
            return hubs::cmd_kin(&app, &b, json, limit).await;
        }
        BlogsCommand::Remove { blog } => {
            let b = find_blog(&app.store, &blog).await?;
            app.store.remove_blog(b.id).await?;
            let id = b.id;
            app.update_index("remove", |ix| async move { ix.remove_blog(id).await })
                .await;
            writeln!(out, "Removed blog #{} ({}) and its posts.", b.id, b.title)?;
        }
    }
    Ok(())
}

fn print_blog_table(out: &mut impl Write, blogs: &[Blog]) -> std::io::Result<()> {
    let now = chrono::Utc::now();
    writeln!(
        out,
        "{:>5}  {:<9} {:<9} {:<32} FEED",
        "ID", "STATUS", "HEALTH", "TITLE"
    )?;
    for b in blogs {
        let title: String = b.title.chars().take(32).collect();
        writeln!(
            out,
            "{:>5}  {:<9} {:<9} {:<32} {}",
            b.id,
            b.status,
            b.health(),
            title,
            b.feed_url
        )?;
        let f = &b.feed;
        let mut notes = Vec::new();
        if let Some(t) = f.last_success_at {
            notes.push(format!("last success {}", ago(now, t)));
        }
        if let Some(e) = &f.last_error {
            notes.push(format!("last error ({}x): {e}", f.consecutive_errors));
        }
        if let (Some(next), true) = (f.next_check_at, b.status.is_polled()) {
            notes.push(if next <= now {
                "next poll: due now".into()
            } else {
                format!("next poll in {}", span(next - now))
            });
        }
        if !notes.is_empty() {
            writeln!(out, "{:>7}{}", "", notes.join("; "))?;
        }
        for n in &f.notes {
            writeln!(out, "{:>7}left out: {n}", "")?;
        }
    }
    Ok(())
}

fn ago(now: chrono::DateTime<chrono::Utc>, t: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} ago", span(now - t))
}

fn span(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=89 => format!("{s} s"),
        90..=5399 => format!("{} min", (s + 30) / 60),
        5400..=129_599 => format!("{} h", (s + 1800) / 3600),
        _ => format!("{} days", (s + 43_200) / 86_400),
    }
}

async fn cmd_opml(app: App, cmd: OpmlCommand) -> anyhow::Result<()> {
    match cmd {
        OpmlCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| BadInput(format!("cannot read {}: {e}", file.display())))?;
            let outlines =
                opml::parse(&text).map_err(|e| BadInput(format!("{}: {e}", file.display())))?;
            let status = if app.config.registration.require_verification {
                BlogStatus::Pending
            } else {
                BlogStatus::Verified
            };
            let (mut added, mut known, mut invalid) = (0, 0, Vec::new());
            for o in &outlines {
                let feed = match normalize_url(&o.xml_url) {
                    Ok(u) => u,
                    Err(e) => {
                        invalid.push(e.to_string());
                        continue;
                    }
                };
                let homepage = o
                    .html_url
                    .as_deref()
                    .and_then(|h| normalize_url(h).ok())
                    .unwrap_or_else(|| {
                        let mut origin = feed.clone();
                        origin.set_path("/");
                        origin.set_query(None);
                        origin
                    });
                let result = app
                    .store
                    .add_blog(NewBlog {
                        homepage_url: homepage.to_string(),
                        feed_url: feed.to_string(),
                        title: o.title.clone().unwrap_or_default(),
                        status,
                        verification_token: kith_crawl::new_verification_token(),
                    })
                    .await;
                match result {
                    Ok(_) => added += 1,
                    Err(kith_store::Error::Duplicate { .. }) => known += 1,
                    Err(e) => return Err(e.into()),
                }
            }
            println!(
                "Imported {added} blogs from {} ({known} already registered, {} invalid). \
                 Their feeds are read on the next crawl (`kith crawl --once` or `kith serve`).",
                file.display(),
                invalid.len()
            );
            for reason in invalid {
                eprintln!("  skipped: {reason}");
            }
        }
        OpmlCommand::Export { output } => {
            let blogs = app.store.blogs().await?;
            let outlines: Vec<opml::Outline> = blogs
                .iter()
                .map(|b| opml::Outline {
                    xml_url: b.feed_url.clone(),
                    html_url: Some(b.homepage_url.clone()),
                    title: Some(b.title.clone()).filter(|t| !t.is_empty()),
                })
                .collect();
            let doc = opml::write("Kith blogroll", &outlines, chrono::Utc::now());
            write_output(output.as_deref(), doc.as_bytes())?;
        }
    }
    Ok(())
}

fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            ignore_broken_pipe(out.write_all(bytes).and_then(|_| out.flush()))
        }
    }
}

/// `kith export | head` closing the pipe early is not an error.
pub(crate) fn ignore_broken_pipe(r: std::io::Result<()>) -> anyhow::Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// One line of `kith export --jsonl`.
#[derive(Debug, Serialize)]
pub struct ExportedPost<'a> {
    pub blog_url: &'a str,
    pub blog_title: &'a str,
    pub feed_url: &'a str,
    pub guid: &'a str,
    pub url: Option<&'a str>,
    pub title: &'a str,
    pub author: Option<&'a str>,
    pub published: String,
    pub updated: Option<String>,
    pub language: Option<&'a str>,
    pub tags: &'a [kith_model::PostTag],
    pub content_html: &'a str,
}

impl<'a> From<&'a Post> for ExportedPost<'a> {
    fn from(p: &'a Post) -> Self {
        let rfc =
            |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        ExportedPost {
            blog_url: &p.blog_url,
            blog_title: &p.blog_title,
            feed_url: &p.feed_url,
            guid: &p.guid,
            url: p.url.as_deref(),
            title: &p.title,
            author: p.author.as_deref(),
            published: rfc(p.published),
            updated: p.updated.map(rfc),
            language: p.language.as_deref(),
            tags: &p.tags,
            content_html: &p.content_html,
        }
    }
}

/// Posts read from the store per page while exporting.
const EXPORT_PAGE: usize = 500;

async fn cmd_export(app: App, args: ExportArgs) -> anyhow::Result<()> {
    debug_assert!(args.jsonl);
    let sink: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = std::io::BufWriter::new(sink);
    let mut after = None;
    loop {
        let page = app.store.posts_after(after, EXPORT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for p in &page {
            let mut line = serde_json::to_vec(&ExportedPost::from(p))?;
            line.push(b'\n');
            if let Err(e) = sink.write_all(&line) {
                return ignore_broken_pipe(Err(e));
            }
        }
    }
    ignore_broken_pipe(sink.flush())
}

async fn cmd_crawl(app: App, args: CrawlArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    // No web server in this process, so nothing would answer a hub: no WebSub.
    let enricher = Arc::new(enrich::Enricher::open(&app.config, &app.store).await?);
    let index_task = search::IndexTask::start(&app).await;
    let opts = index_task.attach(sweep_options(
        &app.config,
        false,
        Some(Arc::clone(&enricher)),
    ));
    if !args.once {
        reload::spawn(&app.config, enricher, shutdown.child_token());
        eprintln!(
            "Crawling until Ctrl-C (every {} s).",
            app.config.crawl.sweep_every_secs
        );
        pipeline::run_crawler(
            app.store,
            app.crawler,
            opts,
            std::time::Duration::from_secs(app.config.crawl.sweep_every_secs),
            None,
            shutdown,
        )
        .await;
        index_task.finish().await;
        return Ok(());
    }
    let total = if args.all {
        app.store
            .blogs()
            .await?
            .iter()
            .filter(|b| b.status.is_polled())
            .count()
    } else {
        app.store
            .due_blogs(chrono::Utc::now(), usize::MAX)
            .await?
            .len()
    };
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} polling feeds [{bar:30}] {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let summary = pipeline::crawl_once(
        &app.store,
        &app.crawler,
        &opts,
        args.all,
        &shutdown,
        &|_, _| bar.inc(1),
    )
    .await;
    index_task.finish().await;
    let summary = summary?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("{summary}");
    }
    Ok(())
}
