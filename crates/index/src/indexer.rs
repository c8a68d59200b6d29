//! The one writer: follows the store, commits in batches, checks and repairs, rebuilds.
//!
//! The [`Indexer`] holds the tantivy `IndexWriter` of the live generation (and so its lock
//! file: one writing process per index). It follows the store in (`changed_at`, id) order;
//! every commit carries the [`ChangeMark`] it reached as its payload, so a process killed
//! between commits resumes from the last commit (upserts are idempotent: delete by id,
//! then add). Blog removals and status changes do not touch `changed_at`: they come in
//! through [`Indexer::remove_blog`] / [`Indexer::reindex_blog`], and the consistency check
//! ([`Indexer::check`], at start-up and periodically) catches whatever was missed, for
//! example a blog removed by another process while this one was not running.
//!
//! The full comparison counts every post in the store and every document in the index, so
//! it grows with the store. A commit also records the store's [`StoreEpoch`] at which the
//! index last matched the store; the store moves its epoch on whenever what is public
//! changes outside the change marks. A start-up that finds the same store at the same
//! epoch (and the store not behind the index) has nothing the comparison could find
//! beyond what catching up applies, and skips it: start-up costs the same at 20,000 or
//! 1,000,000 posts (issue 17).

use crate::dir::IndexDir;
use crate::schema::{self, Fields};
use crate::search::{Opened, SearchIndex};
use crate::{Error, Result};
use kith_model::{BlogId, BlogStatus};
use kith_store::{ChangeMark, ChangedPost, DynStore, StoreEpoch};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};
use tokio::sync::Notify;

/// Below tantivy's floor per indexing thread (15 MB) the writer refuses to start.
const MIN_BUDGET_PER_THREAD: usize = 20 << 20;

/// How the indexer works; the defaults suit a 2-core server.
#[derive(Debug, Clone)]
pub struct IndexerOptions {
    /// The writer's memory budget, split between its threads.
    pub memory_budget: usize,
    /// Indexing threads.
    pub threads: usize,
    /// Posts read from the store per batch.
    pub batch: usize,
    /// Commit after this many documents ...
    pub commit_docs: usize,
    /// ... or when uncommitted documents are this old.
    pub commit_every: Duration,
    /// How often a running indexer compares itself with the store.
    pub check_every: Duration,
}

impl Default for IndexerOptions {
    fn default() -> Self {
        Self {
            memory_budget: 96 << 20,
            threads: 2,
            batch: 2_000,
            commit_docs: 5_000,
            commit_every: Duration::from_secs(2),
            check_every: Duration::from_secs(300),
        }
    }
}

/// What a consistency check found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Posts read from the store to catch up.
    pub caught_up: usize,
    /// Blogs whose documents were removed (no longer in the store).
    pub removed_blogs: usize,
    /// Blogs re-indexed (post count or public status differed).
    pub reindexed_blogs: usize,
    /// Whether the index was rebuilt from scratch.
    pub rebuilt: bool,
    /// Whether the per-blog comparison was skipped: the index had matched the store at
    /// the store's current epoch (start-up only).
    pub skipped: bool,
}

/// What a rebuild did.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub docs: u64,
    pub elapsed: Duration,
    pub dir: PathBuf,
}

impl RebuildReport {
    pub fn docs_per_sec(&self) -> f64 {
        self.docs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What a commit records beside the documents: `MARK[ STORE_ID:EPOCH]` (`-` for no mark).
/// Payloads written before the epoch existed hold the mark alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Payload {
    pub mark: Option<ChangeMark>,
    /// The store and epoch at which a full comparison last found (or made) the index equal
    /// to the store.
    pub verified: Option<StoreEpoch>,
}

impl Payload {
    pub(crate) fn encode(&self) -> String {
        let mark = self.mark.map_or_else(|| "-".to_owned(), |m| m.encode());
        match &self.verified {
            Some(e) => format!("{mark} {}", e.encode()),
            None => mark,
        }
    }

    pub(crate) fn decode(s: &str) -> Payload {
        let (mark, verified) = match s.trim().split_once(' ') {
            Some((m, e)) => (m, StoreEpoch::decode(e)),
            None => (s, None),
        };
        Payload {
            mark: ChangeMark::decode(mark),
            verified,
        }
    }

    pub(crate) fn of(index: &Index) -> Result<Payload> {
        Ok(index
            .load_metas()?
            .payload
            .as_deref()
            .map(Payload::decode)
            .unwrap_or_default())
    }
}

struct Writer {
    writer: IndexWriter,
    fields: Fields,
    dir: PathBuf,
    /// The last change applied (committed or not).
    mark: Option<ChangeMark>,
    /// See [`Payload::verified`]; cleared while a repair is under way.
    verified: Option<StoreEpoch>,
    /// Documents (or a payload change) not yet committed.
    pending: usize,
    last_commit: Instant,
}

impl Writer {
    fn upsert(&mut self, c: &ChangedPost) -> Result<()> {
        self.writer.delete_term(Term::from_field_u64(
            self.fields.id,
            c.post.id.0.max(0) as u64,
        ));
        self.writer
            .add_document(schema::document(&self.fields, c))?;
        self.pending += 1;
        Ok(())
    }

    fn delete_blog(&mut self, blog: BlogId) {
        self.writer
            .delete_term(Term::from_field_u64(self.fields.blog, blog.0.max(0) as u64));
        self.pending += 1;
    }

    fn payload(&self) -> Payload {
        Payload {
            mark: self.mark,
            verified: self.verified.clone(),
        }
    }

    fn set_verified(&mut self, verified: Option<StoreEpoch>) {
        if self.verified != verified {
            self.verified = verified;
            self.pending += 1;
        }
    }

    fn commit(&mut self, search: &SearchIndex) -> Result<()> {
        let payload = self.payload().encode();
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.pending = 0;
        self.last_commit = Instant::now();
        search.reload()?;
        Ok(())
    }
}

struct Inner {
    store: DynStore,
    root: IndexDir,
    search: SearchIndex,
    opts: IndexerOptions,
    writer: Mutex<Writer>,
    /// Serialises catch-ups, repairs and rebuilds (the writer lock is only held per step).
    gate: tokio::sync::Mutex<()>,
    kick: Notify,
}

/// The index's one writer. Cheap to clone; every clone drives the same writer.
#[derive(Clone)]
pub struct Indexer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("root", &self.inner.root.root())
            .finish()
    }
}

fn lock(m: &Mutex<Writer>) -> std::sync::MutexGuard<'_, Writer> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Creates an empty index with today's schema in `dir`.
fn create_index(dir: &Path) -> Result<Index> {
    let index = Index::create_in_dir(dir, schema::schema())?;
    schema::register_tokenizers(&index);
    Ok(index)
}

fn open_writer(index: &Index, dir: &Path, opts: &IndexerOptions) -> Result<IndexWriter> {
    let threads = opts.threads.max(1);
    let per_thread = (opts.memory_budget / threads).max(MIN_BUDGET_PER_THREAD);
    index
        .writer_with_num_threads(threads, per_thread * threads)
        .map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => Error::Busy {
                path: dir.display().to_string(),
            },
            e => e.into(),
        })
}

/// Opens the live generation (creating the first one, or a fresh one when the live one
/// cannot be read or has an old schema) and its writer.
fn open_live(root: &IndexDir, opts: &IndexerOptions) -> Result<(Opened, IndexWriter)> {
    if let Some(dir) = root.current()? {
        match Opened::open(&dir) {
            Ok(o) if schema::is_current(&o.index) => {
                let w = open_writer(&o.index, &dir, opts)?;
                return Ok((o, w));
            }
            Ok(_) => {
                tracing::warn!(dir = %dir.display(), "index schema changed; starting a new index")
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "index unreadable; starting a new index")
            }
        }
    }
    let dir = root.create_next()?;
    let index = create_index(&dir)?;
    let fields = Fields::of(&index.schema()).ok_or_else(|| Error::Task("schema".into()))?;
    let w = open_writer(&index, &dir, opts)?;
    let o = Opened::with_index(index, fields, &dir)?;
    root.make_current(&dir)?;
    root.remove_older(&dir);
    Ok((o, w))
}

impl Indexer {
    /// Opens (or creates) the index under `root` and takes its writer. Fails with
    /// [`Error::Busy`] when another process writes it.
    pub async fn open(root: &Path, store: DynStore, opts: IndexerOptions) -> Result<Indexer> {
        let root = IndexDir::new(root);
        let (opened, writer, root, opts) = tokio::task::spawn_blocking(move || {
            open_live(&root, &opts).map(|(o, w)| (o, w, root, opts))
        })
        .await??;
        let payload = Payload::of(&opened.index)?;
        let writer = Writer {
            writer,
            fields: opened.fields,
            dir: opened.dir.clone(),
            mark: payload.mark,
            verified: payload.verified,
            pending: 0,
            last_commit: Instant::now(),
        };
        Ok(Indexer {
            inner: Arc::new(Inner {
                store,
                root,
                search: SearchIndex::from_opened(opened),
                opts,
                writer: Mutex::new(writer),
                gate: tokio::sync::Mutex::new(()),
                kick: Notify::new(),
            }),
        })
    }

    /// The read side, for searches and rivers.
    pub fn search_index(&self) -> SearchIndex {
        self.inner.search.clone()
    }

    /// The last change applied to the index (committed or not).
    pub fn mark(&self) -> Option<ChangeMark> {
        lock(&self.inner.writer).mark
    }

    /// Tells the running indexer that the store has new posts (cheap; call it freely).
    pub fn kick(&self) {
        self.inner.kick.notify_one();
    }

    /// Runs `f` with the writer on the blocking pool.
    async fn with_writer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer, &SearchIndex) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.writer), &inner.search)).await?
    }

    /// Indexes every post changed since the last one applied; commits by count on the way
    /// (and by age, see [`Indexer::commit_if_due`]). Returns the posts read.
    pub async fn catch_up(&self) -> Result<usize> {
        let _gate = self.inner.gate.lock().await;
        self.catch_up_locked().await
    }

    async fn catch_up_locked(&self) -> Result<usize> {
        let (batch, commit_docs) = (self.inner.opts.batch, self.inner.opts.commit_docs);
        let mut total = 0;
        loop {
            let mark = self.mark();
            let posts = self.inner.store.posts_changed_since(mark, batch).await?;
            let n = posts.len();
            if n == 0 {
                break;
            }
            self.with_writer(move |w, search| {
                for p in &posts {
                    w.upsert(p)?;
                }
                w.mark = posts.last().map(|p| p.mark);
                if w.pending >= commit_docs {
                    w.commit(search)?;
                }
                Ok(())
            })
            .await?;
            total += n;
            if n < batch {
                break;
            }
        }
        Ok(total)
    }

    /// Commits what is pending if it is older than the commit interval.
    pub async fn commit_if_due(&self) -> Result<()> {
        let every = self.inner.opts.commit_every;
        self.with_writer(move |w, search| {
            if w.pending > 0 && w.last_commit.elapsed() >= every {
                w.commit(search)?;
            }
            Ok(())
        })
        .await
    }

    /// Commits now (when anything is pending).
    pub async fn commit(&self) -> Result<()> {
        self.with_writer(|w, search| {
            if w.pending > 0 {
                w.commit(search)?;
            }
            Ok(())
        })
        .await
    }

    /// Removes a blog's posts from the index, committed.
    pub async fn remove_blog(&self, blog: BlogId) -> Result<()> {
        let _gate = self.inner.gate.lock().await;
        self.with_writer(move |w, search| {
            w.delete_blog(blog);
            w.commit(search)
        })
        .await
    }

    /// Re-indexes one blog's posts from the store (after a status change, say), committed.
    /// A blog no longer in the store loses its documents.
    pub async fn reindex_blog(&self, blog: BlogId) -> Result<()> {
        let _gate = self.inner.gate.lock().await;
        self.reindex_blog_locked(blog).await?;
        self.commit().await
    }

    async fn reindex_blog_locked(&self, blog: BlogId) -> Result<usize> {
        let batch = self.inner.opts.batch;
        self.with_writer(move |w, _| {
            w.delete_blog(blog);
            Ok(())
        })
        .await?;
        let mut after = None;
        let mut total = 0;
        loop {
            let posts = self
                .inner
                .store
                .blog_posts_for_index(blog, after, batch)
                .await?;
            let Some(last) = posts.last() else { break };
            after = Some(last.post.id);
            total += posts.len();
            let n = posts.len();
            self.with_writer(move |w, _| posts.iter().try_for_each(|p| w.upsert(p)))
                .await?;
            if n < batch {
                break;
            }
        }
        Ok(total)
    }

    /// Compares the index with the store and repairs it: catch up, then per blog compare
    /// the number of documents (and of public ones) with the store's posts and status;
    /// blogs gone from the store lose their documents, blogs that differ are re-indexed.
    /// With `startup`, an index that still disagrees on the total is rebuilt, and an index
    /// that last matched this store at its current epoch skips the comparison (see the
    /// module's notes).
    pub async fn check(&self, startup: bool) -> Result<CheckReport> {
        let started = Instant::now();
        let _gate = self.inner.gate.lock().await;
        let mut report = CheckReport {
            caught_up: self.catch_up_locked().await?,
            ..CheckReport::default()
        };
        self.commit().await?;
        // Read before comparing: a change made while the comparison runs moves the epoch
        // past the one recorded, and the next check compares again.
        let epoch = self.inner.store.store_epoch().await?;
        if startup && self.trusted_at(&epoch).await? {
            report.skipped = true;
            tracing::info!(
                caught_up = report.caught_up,
                docs = self.inner.search.num_docs(),
                epoch = %epoch.encode(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "index matched the store at this epoch; caught up without a full comparison"
            );
            return Ok(report);
        }
        self.with_writer(|w, _| {
            w.set_verified(None);
            Ok(())
        })
        .await?;
        let (removed, reindex) = self.differences().await?;
        for &blog in &removed {
            self.with_writer(move |w, _| {
                w.delete_blog(blog);
                Ok(())
            })
            .await?;
        }
        for &blog in &reindex {
            self.reindex_blog_locked(blog).await?;
        }
        report.removed_blogs = removed.len();
        report.reindexed_blogs = reindex.len();
        self.commit().await?;
        if startup && (report.removed_blogs + report.reindexed_blogs) > 0 {
            let (removed, reindex) = self.differences().await?;
            if !removed.is_empty() || !reindex.is_empty() {
                tracing::warn!(
                    blogs = removed.len() + reindex.len(),
                    "index still differs from the store after repair; rebuilding"
                );
                drop(_gate);
                self.rebuild(&|_, _| {}).await?;
                report.rebuilt = true;
            }
        }
        if !report.rebuilt {
            self.with_writer(move |w, _| {
                w.set_verified(Some(epoch));
                Ok(())
            })
            .await?;
            self.commit().await?;
        }
        if report != CheckReport::default() || startup {
            tracing::info!(
                caught_up = report.caught_up,
                removed_blogs = report.removed_blogs,
                reindexed_blogs = report.reindexed_blogs,
                rebuilt = report.rebuilt,
                docs = self.inner.search.num_docs(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "index checked against the store"
            );
        }
        Ok(report)
    }

    /// Whether the index last matched this very store at `epoch`, and the store has not
    /// gone back behind the index (a store restored from a backup keeps its id and may
    /// repeat an epoch, but not the index's newest change mark).
    async fn trusted_at(&self, epoch: &StoreEpoch) -> Result<bool> {
        let (verified, mark) = {
            let w = lock(&self.inner.writer);
            (w.verified.clone(), w.mark)
        };
        if verified.as_ref() != Some(epoch) {
            return Ok(false);
        }
        let latest = self.inner.store.latest_change_mark().await?;
        Ok(mark <= latest)
    }

    /// Blogs to drop from the index and blogs to re-index.
    async fn differences(&self) -> Result<(Vec<BlogId>, Vec<BlogId>)> {
        let counts = self.inner.store.post_counts_by_blog().await?;
        let search = self.inner.search.clone();
        let mut census = tokio::task::spawn_blocking(move || search.census()).await??;
        let mut reindex = Vec::new();
        for c in counts {
            let (all, public) = census.remove(&c.blog.0).unwrap_or((0, 0));
            let want_public = if c.status == BlogStatus::Verified {
                c.posts
            } else {
                0
            };
            if all != c.posts || public != want_public {
                reindex.push(c.blog);
            }
        }
        let mut removed: Vec<BlogId> = census.into_keys().map(BlogId).collect();
        removed.sort();
        Ok((removed, reindex))
    }

    /// Rebuilds the index from the store into a new generation and swaps it in; searches
    /// keep using the old one until the swap. `progress(done, total)` is called per batch.
    pub async fn rebuild(&self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<RebuildReport> {
        let _gate = self.inner.gate.lock().await;
        let report = build_generation(
            &self.inner.root,
            &self.inner.store,
            &self.inner.opts,
            progress,
        )
        .await?;
        self.inner.root.make_current(&report.dir)?;
        self.switch_to(report.dir.clone()).await?;
        Ok(report)
    }

    /// Switches the writer and the readers to the generation in `dir`.
    async fn switch_to(&self, dir: PathBuf) -> Result<()> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || -> Result<()> {
            let opened = Opened::open(&dir)?;
            let payload = Payload::of(&opened.index)?;
            let mut w = lock(&inner.writer);
            // Uncommitted work on the old generation is dropped with it: the new one was
            // built from the store and catches up from its own mark.
            let new_writer = open_writer(&opened.index, &dir, &inner.opts)?;
            let old = std::mem::replace(&mut w.writer, new_writer);
            drop(old);
            w.fields = opened.fields;
            w.dir = dir.clone();
            w.mark = payload.mark;
            w.verified = payload.verified;
            w.pending = 0;
            w.last_commit = Instant::now();
            inner.search.replace(opened);
            inner.root.remove_older(&dir);
            tracing::info!(dir = %dir.display(), "switched to a new index generation");
            Ok(())
        })
        .await?
    }

    /// Switches to a generation another process (`kith reindex`) made current.
    async fn follow_generation(&self) -> Result<()> {
        let current = self.inner.root.current()?;
        let ours = lock(&self.inner.writer).dir.clone();
        if let Some(dir) = current.filter(|d| *d != ours) {
            let _gate = self.inner.gate.lock().await;
            self.switch_to(dir).await?;
        }
        Ok(())
    }

    /// The indexer task: checks the index against the store, then follows the store
    /// (on [`Indexer::kick`] and every commit interval) until `stop` resolves; commits what
    /// is pending before returning.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        if let Err(e) = self.check(true).await {
            tracing::error!(error = %e, "index check failed");
        }
        let mut last_check = Instant::now();
        let every = self.inner.opts.commit_every;
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = self.inner.kick.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
            if let Err(e) = self.step(&mut last_check).await {
                tracing::error!(error = %e, "indexing failed; retrying");
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        }
        let done = async {
            self.catch_up().await?;
            self.commit().await
        };
        if let Err(e) = done.await {
            tracing::error!(error = %e, "final index commit failed");
        }
    }

    async fn step(&self, last_check: &mut Instant) -> Result<()> {
        self.follow_generation().await?;
        self.catch_up().await?;
        self.commit_if_due().await?;
        if last_check.elapsed() >= self.inner.opts.check_every {
            *last_check = Instant::now();
            self.check(false).await?;
        }
        Ok(())
    }
}

/// Builds a complete new generation from the store (not yet made current).
async fn build_generation(
    root: &IndexDir,
    store: &DynStore,
    opts: &IndexerOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<RebuildReport> {
    let started = Instant::now();
    // Read before the posts: see [`Indexer::check`].
    let epoch = store.store_epoch().await?;
    let total = store.counts().await?.posts;
    let root2 = root.clone();
    let opts2 = opts.clone();
    let (dir, writer, fields) = tokio::task::spawn_blocking(move || -> Result<_> {
        let dir = root2.create_next()?;
        let index = create_index(&dir)?;
        let fields = Fields::of(&index.schema()).ok_or_else(|| Error::Task("schema".into()))?;
        let writer = open_writer(&index, &dir, &opts2)?;
        Ok((dir, writer, fields))
    })
    .await??;
    let writer = Arc::new(Mutex::new(Writer {
        writer,
        fields,
        dir: dir.clone(),
        mark: None,
        verified: None,
        pending: 0,
        last_commit: Instant::now(),
    }));
    // Read the next batch from the store while the previous one is being indexed.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ChangedPost>>(2);
    let reader = {
        let store = Arc::clone(store);
        let batch = opts.batch;
        tokio::spawn(async move {
            let mut mark = None;
            loop {
                let posts = store.posts_changed_since(mark, batch).await?;
                let Some(last) = posts.last() else { break };
                mark = Some(last.mark);
                let n = posts.len();
                if tx.send(posts).await.is_err() || n < batch {
                    break;
                }
            }
            Ok::<(), Error>(())
        })
    };
    let mut done = 0u64;
    while let Some(posts) = rx.recv().await {
        done += posts.len() as u64;
        let w = Arc::clone(&writer);
        tokio::task::spawn_blocking(move || -> Result<()> {
            let mut w = lock(&w);
            for p in &posts {
                let doc: TantivyDocument = schema::document(&w.fields, p);
                w.writer.add_document(doc)?;
            }
            w.mark = posts.last().map(|p| p.mark);
            Ok(())
        })
        .await??;
        progress(done, total.max(done));
    }
    reader.await??;
    let mut w = Arc::try_unwrap(writer)
        .map_err(|_| Error::Task("the index writer is still in use".into()))?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    w.verified = Some(epoch);
    tokio::task::spawn_blocking(move || -> Result<()> {
        let payload = w.payload().encode();
        let mut prepared = w.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        // Merges finish before the writer (and its lock) goes.
        w.writer.wait_merging_threads()?;
        Ok(())
    })
    .await??;
    Ok(RebuildReport {
        docs: done,
        elapsed: started.elapsed(),
        dir,
    })
}

/// `kith reindex` while another process holds the writer: builds a new generation and
/// makes it current; the other process switches to it on its next step and removes the
/// old one.
pub async fn rebuild_offline(
    root: &Path,
    store: &DynStore,
    opts: &IndexerOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<RebuildReport> {
    let root = IndexDir::new(root);
    let report = build_generation(&root, store, opts, progress).await?;
    root.make_current(&report.dir)?;
    Ok(report)
}
