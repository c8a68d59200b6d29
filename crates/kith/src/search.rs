//! `kith search` and `kith reindex`, and the index as the other commands see it.
//!
//! One process at a time writes the index (tantivy's lock file): the first command that
//! asks for [`App::indexer`] takes the writer; when another process (a running
//! `kith serve`) holds it, commands read the index as that process keeps it up to date.

use crate::cli::{ReindexArgs, SearchArgs, SearchSortArg};
use crate::{App, BadInput};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use kith_index::{Indexer, IndexerOptions, SearchIndex, SearchQuery, SearchSort};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Results per page of `kith search`.
pub const PAGE_SIZE: usize = 10;

/// Where the index lives: `<data_dir>/index`.
pub fn index_root(config: &kith_config::Config) -> PathBuf {
    config.data_dir.join("index")
}

impl App {
    /// The index writer of this process, opened on first use; `None` when another
    /// process writes the index.
    pub async fn indexer(&self) -> anyhow::Result<Option<Indexer>> {
        let root = index_root(&self.config);
        let store = self.store.clone();
        let opened = self
            .index
            .get_or_try_init(|| async move {
                match Indexer::open(&root, store, IndexerOptions::default()).await {
                    Ok(ix) => Ok(Some(ix)),
                    Err(kith_index::Error::Busy { path }) => {
                        tracing::info!(path, "another process writes the index; reading it only");
                        Ok(None)
                    }
                    Err(e) => Err(anyhow::Error::new(e).context(format!(
                        "cannot open the search index in {}",
                        root.display()
                    ))),
                }
            })
            .await?;
        Ok(opened.clone())
    }

    /// The index for reading: this process's writer's view, brought up to date with the
    /// store first, or (when another process writes it) the index as that process left it.
    pub async fn search_index(&self) -> anyhow::Result<Option<SearchIndex>> {
        if let Some(ix) = self.indexer().await? {
            ix.check(true)
                .await
                .context("cannot bring the index up to date")?;
            return Ok(Some(ix.search_index()));
        }
        Ok(SearchIndex::open(&index_root(&self.config))?)
    }

    /// Applies what the store has that the index has not yet, when this process writes
    /// the index (best effort: the index catches up at the next start otherwise).
    pub async fn sync_index(&self) {
        let synced = async {
            if let Some(ix) = self.indexer().await? {
                ix.catch_up().await?;
                ix.commit().await?;
            }
            anyhow::Ok(())
        };
        if let Err(e) = synced.await {
            tracing::warn!(error = %format!("{e:#}"), "index not updated; it catches up at the next start");
        }
    }

    /// Runs `f` on the index writer when this process has it; failures are logged, not
    /// returned (the consistency check repairs the index later).
    pub async fn update_index<F, Fut>(&self, what: &str, f: F)
    where
        F: FnOnce(Indexer) -> Fut,
        Fut: std::future::Future<Output = kith_index::Result<()>>,
    {
        let done = async {
            if let Some(ix) = self.indexer().await? {
                f(ix).await?;
            }
            anyhow::Ok(())
        };
        if let Err(e) = done.await {
            tracing::warn!(what, error = %format!("{e:#}"), "index not updated; the next check repairs it");
        }
    }
}

/// A day (`2024-05-01`) or an RFC 3339 time; `end_of_day` moves a bare day to its end.
fn parse_date(flag: &str, s: &str, end_of_day: bool) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        BadInput(format!(
            "{flag} {s:?} is not a date: use YYYY-MM-DD or an RFC 3339 time"
        ))
    })?;
    let day = if end_of_day {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// `<b>` marks to `*` and HTML entities back to text, for a terminal.
fn plain(html: &str) -> String {
    html.replace("<b>", "*")
        .replace("</b>", "*")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// One hit of `kith search --json`.
#[derive(Debug, Serialize)]
pub struct HitJson {
    pub post_id: i64,
    pub score: f32,
    pub title: String,
    pub title_html: String,
    pub snippet_html: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
    pub blog_id: i64,
    pub blog_title: String,
    pub blog_url: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SearchJson {
    pub query: String,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub hits: Vec<HitJson>,
}

pub async fn cmd_search(app: App, args: SearchArgs) -> anyhow::Result<()> {
    let blog = match &args.blog {
        Some(b) => Some(crate::find_blog(&app.store, b).await?.id),
        None => None,
    };
    if args.page == 0 {
        return Err(BadInput("--page starts at 1".into()).into());
    }
    let from = args
        .since
        .as_deref()
        .map(|s| parse_date("--since", s, false))
        .transpose()?;
    let to = args
        .until
        .as_deref()
        .map(|s| parse_date("--until", s, true))
        .transpose()?;
    let query = SearchQuery {
        q: args.query.join(" "),
        tags: args.tag.clone(),
        blog,
        language: args.lang.clone(),
        from,
        to,
        sort: match args.sort {
            SearchSortArg::Relevance => SearchSort::Relevance,
            SearchSortArg::Newest => SearchSort::Newest,
        },
        offset: (args.page - 1).saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE,
        // The operator's command: every blog's posts, public or not.
        public_only: false,
    };
    let Some(index) = app.search_index().await? else {
        return Err(BadInput(
            "there is no search index yet: run `kith reindex` (or `kith crawl --once`)".into(),
        )
        .into());
    };
    let q = query.clone();
    let results = tokio::task::spawn_blocking(move || index.search(&q))
        .await?
        .map_err(|e| match e {
            kith_index::Error::BadQuery { message } => {
                anyhow::Error::new(BadInput(format!("bad search query: {message}")))
            }
            e => anyhow::Error::new(e).context("search failed"),
        })?;
    let ids: Vec<_> = results.hits.iter().map(|h| h.post_id).collect();
    let posts = app.store.posts_by_ids(&ids).await?;
    let by_id: std::collections::HashMap<_, _> = posts.iter().map(|p| (p.id, p)).collect();
    let pages = results.total.div_ceil(PAGE_SIZE);
    let hits: Vec<HitJson> = results
        .hits
        .iter()
        .map(|h| {
            let p = by_id.get(&h.post_id);
            HitJson {
                post_id: h.post_id.0,
                score: h.score,
                title: p
                    .map(|p| p.title.clone())
                    .unwrap_or_else(|| plain(&h.title_html)),
                title_html: h.title_html.clone(),
                snippet_html: h.snippet_html.clone(),
                url: h.url.clone(),
                published: h.published,
                blog_id: h.blog_id.0,
                blog_title: p.map(|p| p.blog_title.clone()).unwrap_or_default(),
                blog_url: p.map(|p| p.blog_url.clone()).unwrap_or_default(),
                tags: h.tags.clone(),
            }
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = SearchJson {
            query: query.q.clone(),
            total: results.total,
            page: args.page,
            pages,
            hits,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    if results.total == 0 {
        writeln!(out, "No posts match {:?}.", query.q)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} posts match {:?} (page {} of {}):",
        results.total,
        query.q,
        args.page,
        pages.max(1)
    )?;
    for (i, h) in hits.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "{:>3}. {}", query.offset + i + 1, plain(&h.title_html))?;
        let blog = if h.blog_title.is_empty() {
            &h.blog_url
        } else {
            &h.blog_title
        };
        writeln!(
            out,
            "     {} · {} · {}",
            blog,
            h.published.format("%Y-%m-%d"),
            h.url.as_deref().unwrap_or("")
        )?;
        let snippet = plain(&h.snippet_html);
        if !snippet.is_empty() {
            writeln!(out, "     {}", snippet.replace('\n', " "))?;
        }
        if !h.tags.is_empty() {
            writeln!(out, "     tags: {}", h.tags.join(", "))?;
        }
    }
    if args.page < pages {
        writeln!(out, "\nMore: --page {}", args.page + 1)?;
    }
    Ok(())
}

pub async fn cmd_reindex(app: App, _args: ReindexArgs) -> anyhow::Result<()> {
    let total = app.store.counts().await?.posts;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} indexing posts [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = match app.indexer().await? {
        Some(ix) => ix.rebuild(&progress).await?,
        None => {
            let r = kith_index::rebuild_offline(
                &index_root(&app.config),
                &app.store,
                &IndexerOptions::default(),
                &progress,
            )
            .await?;
            eprintln!(
                "A running Kith writes the index: it switches to the new one on its next step."
            );
            r
        }
    };
    bar.finish_and_clear();
    println!(
        "Reindexed {} posts in {:.1} s ({:.0} docs/s).",
        report.docs,
        report.elapsed.as_secs_f64(),
        report.docs_per_sec()
    );
    Ok(())
}

/// The indexer task of a long-running command (`kith serve`, `kith crawl`).
pub struct IndexTask {
    indexer: Option<Indexer>,
    stop: tokio_util::sync::CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl IndexTask {
    /// Starts following the store (after a consistency check) when this process can
    /// write the index. Never fails: without an index, the rest keeps working.
    pub async fn start(app: &App) -> IndexTask {
        let stop = tokio_util::sync::CancellationToken::new();
        let indexer = match app.indexer().await {
            Ok(ix) => ix,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "search index unavailable");
                None
            }
        };
        let task = indexer
            .clone()
            .map(|ix| tokio::spawn(ix.run(stop.clone().cancelled_owned())));
        IndexTask {
            indexer,
            stop,
            task,
        }
    }

    /// The index's read side, when this process writes it.
    pub fn search_index(&self) -> Option<SearchIndex> {
        self.indexer.as_ref().map(Indexer::search_index)
    }

    /// `opts` with the indexer to tell about new posts.
    pub fn attach(&self, mut opts: crate::pipeline::SweepOptions) -> crate::pipeline::SweepOptions {
        opts.indexer = self.indexer.clone();
        opts
    }

    /// Stops the task after it indexed and committed everything stored so far.
    pub async fn finish(self) {
        self.stop.cancel();
        if let Some(t) = self.task {
            let _ = t.await;
        }
    }
}
