//! Reading the index: search, rivers, and a census for the consistency check.
//!
//! [`SearchIndex`] is a cheap, cloneable handle (`Send + Sync`); each call takes a fresh
//! searcher, so it sees the last commit. Calls block (they read mmapped files): from async
//! code, run them with `tokio::task::spawn_blocking`.

use crate::schema::{self, Fields};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use kith_model::{BlogId, PostId};
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, QueryParserError,
    RangeQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, Order, ReloadPolicy, TantivyDocument, Term};

/// Most hits one search returns (a page); deeper pages use `offset`.
pub const MAX_LIMIT: usize = 100;
/// Deepest result a search pages to (BM25 top-k cost grows with offset).
pub const MAX_OFFSET: usize = 10_000;
/// Characters of body text in a snippet.
const SNIPPET_CHARS: usize = 200;

/// How results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// BM25 (title matches weigh double).
    #[default]
    Relevance,
    /// Newest publication first.
    Newest,
}

/// A search: the user's query text and filters.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// The query: words (all required), `"phrases"`, `AND`/`OR`/`NOT`, `-word`, `tag:rust`,
    /// `title:...`. Empty: everything that passes the filters.
    pub q: String,
    /// Posts carrying every one of these tags.
    pub tags: Vec<String>,
    pub blog: Option<BlogId>,
    pub language: Option<String>,
    /// Published at or after.
    pub from: Option<DateTime<Utc>>,
    /// Published before.
    pub to: Option<DateTime<Utc>>,
    pub sort: SearchSort,
    pub offset: usize,
    pub limit: usize,
    /// Only posts of verified blogs.
    pub public_only: bool,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            q: String::new(),
            tags: Vec::new(),
            blog: None,
            language: None,
            from: None,
            to: None,
            sort: SearchSort::Relevance,
            offset: 0,
            limit: 20,
            public_only: true,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// Matching posts in all (not only this page).
    pub total: usize,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub post_id: PostId,
    /// BM25 score (0 when sorted by date).
    pub score: f32,
    /// The title, HTML-escaped, matched words in `<b>`.
    pub title_html: String,
    /// A passage of the text, HTML-escaped, matched words in `<b>`.
    pub snippet_html: String,
    pub published: DateTime<Utc>,
    pub blog_id: BlogId,
    pub url: Option<String>,
    pub tags: Vec<String>,
}

/// Where a river page ends: pass it back as `before` for the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RiverCursor {
    pub river: i64,
    pub id: PostId,
}

/// One post of a river: its id and its river key ([`crate::river_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RiverHit {
    pub post_id: PostId,
    pub river: i64,
}

impl RiverHit {
    pub fn cursor(&self) -> RiverCursor {
        RiverCursor {
            river: self.river,
            id: self.post_id,
        }
    }
}

/// Per-blog document counts in the index: (all, public).
pub type Census = HashMap<i64, (u64, u64)>;

pub(crate) struct Opened {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    parser: QueryParser,
    pub(crate) dir: PathBuf,
    /// Tells this opening from any other of this process ([`SearchIndex::version`]).
    serial: u64,
}

static OPENINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Opened {
    pub(crate) fn open(dir: &Path) -> Result<Opened> {
        // Queries read scattered small pieces of the files (posting blocks, doc store
        // blocks, a few column pages): no read-ahead and no fault-around, so the process
        // maps the pages it reads, not their neighbourhoods.
        let directory = tantivy::directory::MmapDirectory::open_with_madvice(
            dir,
            tantivy::directory::Advice::Random,
        )
        .map_err(|e| Error::Tantivy(e.into()))?;
        let index = Index::open(directory)?;
        schema::register_tokenizers(&index);
        let fields = Fields::of(&index.schema()).ok_or_else(|| {
            Error::Tantivy(tantivy::TantivyError::SchemaError(
                "the index was built by another version of Kith".into(),
            ))
        })?;
        Self::with_index(index, fields, dir)
    }

    pub(crate) fn with_index(index: Index, fields: Fields, dir: &Path) -> Result<Opened> {
        // Another process may commit (a `kith serve` while `kith search` reads): follow its
        // commits. In-process writers also reload explicitly after each commit.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        let mut parser =
            QueryParser::for_index(&index, vec![fields.title, fields.body, fields.tag]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(fields.title, 2.0);
        Ok(Opened {
            index,
            reader,
            fields,
            parser,
            dir: dir.to_owned(),
            serial: OPENINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }
}

/// A shared, read-only view of the live index generation.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<RwLock<Arc<Opened>>>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.current().dir)
            .finish()
    }
}

impl SearchIndex {
    /// Opens the live generation under `root` for reading; `None` when there is no index.
    pub fn open(root: &Path) -> Result<Option<SearchIndex>> {
        let Some(dir) = crate::dir::IndexDir::new(root).current()? else {
            return Ok(None);
        };
        Ok(Some(SearchIndex::from_opened(Opened::open(&dir)?)))
    }

    pub(crate) fn from_opened(o: Opened) -> SearchIndex {
        SearchIndex {
            inner: Arc::new(RwLock::new(Arc::new(o))),
        }
    }

    pub(crate) fn current(&self) -> Arc<Opened> {
        match self.inner.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn replace(&self, o: Opened) {
        let o = Arc::new(o);
        match self.inner.write() {
            Ok(mut g) => *g = o,
            Err(poisoned) => *poisoned.into_inner() = o,
        }
    }

    /// The directory of the generation being read.
    pub fn dir(&self) -> PathBuf {
        self.current().dir.clone()
    }

    /// Picks up the last commit now (instead of after the reload delay).
    pub fn reload(&self) -> Result<()> {
        Ok(self.current().reader.reload()?)
    }

    /// What readers see now, as a number that changes when a commit becomes visible or a
    /// rebuilt generation replaces the index: for caches of what queries returned.
    pub fn version(&self) -> u64 {
        let o = self.current();
        (o.serial << 40) ^ o.reader.searcher().generation().generation_id()
    }

    /// Documents in the index (deleted ones excluded).
    pub fn num_docs(&self) -> u64 {
        self.current().reader.searcher().num_docs()
    }

    /// The change mark of the last commit (its payload).
    pub fn committed_mark(&self) -> Result<Option<kith_store::ChangeMark>> {
        Ok(crate::indexer::Payload::of(&self.current().index)?.mark)
    }

    /// Runs a search. A query that cannot be read is [`Error::BadQuery`].
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults> {
        let o = self.current();
        let f = &o.fields;
        let text = q.q.trim();
        let user: Box<dyn Query> = if text.is_empty() {
            Box::new(AllQuery)
        } else {
            o.parser
                .parse_query(&and_not(text))
                .map_err(|e| Error::BadQuery {
                    message: explain(&e),
                })?
        };
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        for t in &q.tags {
            let t = t.trim().to_lowercase();
            if !t.is_empty() {
                filters.push(term(Term::from_field_text(f.tag, &t)));
            }
        }
        if let Some(b) = q.blog {
            filters.push(term(Term::from_field_u64(f.blog, b.0.max(0) as u64)));
        }
        if let Some(l) = q
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            filters.push(term(Term::from_field_text(f.lang, &l.to_ascii_lowercase())));
        }
        if q.from.is_some() || q.to.is_some() {
            let bound = |t: Option<DateTime<Utc>>, incl: bool| match t {
                None => Bound::Unbounded,
                Some(t) => {
                    let term = Term::from_field_date_for_search(f.published, schema::date(t));
                    if incl {
                        Bound::Included(term)
                    } else {
                        Bound::Excluded(term)
                    }
                }
            };
            filters.push(Box::new(RangeQuery::new(
                bound(q.from, true),
                bound(q.to, false),
            )));
        }
        if q.public_only {
            filters.push(term(Term::from_field_bool(f.public, true)));
        }
        let query: Box<dyn Query> = if filters.is_empty() {
            user.box_clone()
        } else {
            let mut clauses = vec![(Occur::Must, user.box_clone())];
            clauses.extend(filters.into_iter().map(|q| {
                (
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>,
                )
            }));
            Box::new(BooleanQuery::new(clauses))
        };

        let searcher = o.reader.searcher();
        let limit = q.limit.clamp(1, MAX_LIMIT);
        let offset = q.offset.min(MAX_OFFSET);
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let (total, docs): (usize, Vec<(f32, DocAddress)>) = match q.sort {
            SearchSort::Relevance => searcher.search(&query, &(Count, top.order_by_score()))?,
            SearchSort::Newest => {
                let (n, d) = searcher.search(
                    &query,
                    &(
                        Count,
                        top.order_by((
                            (
                                SortByStaticFastValue::<tantivy::DateTime>::for_field("published"),
                                Order::Desc,
                            ),
                            (SortByStaticFastValue::<u64>::for_field("id"), Order::Desc),
                        )),
                    ),
                )?;
                (n, d.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let highlight = !text.is_empty();
        let mut body_gen = if highlight {
            Some(SnippetGenerator::create(&searcher, &*user, f.body)?)
        } else {
            None
        };
        if let Some(g) = body_gen.as_mut() {
            g.set_max_num_chars(SNIPPET_CHARS);
        }
        let mut title_gen = if highlight {
            Some(SnippetGenerator::create(&searcher, &*user, f.title)?)
        } else {
            None
        };
        if let Some(g) = title_gen.as_mut() {
            g.set_max_num_chars(10_000);
        }
        let mut hits = Vec::with_capacity(docs.len());
        for (score, addr) in docs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let s = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("");
            let title = s(f.title);
            let body = s(f.body);
            let title_html = title_gen
                .as_ref()
                .map(|g| g.snippet(title))
                .filter(|sn| !sn.highlighted().is_empty())
                .map(|sn| sn.to_html())
                .unwrap_or_else(|| escape_html(title));
            let snippet_html = body_gen
                .as_ref()
                .map(|g| g.snippet(body))
                .filter(|sn| !sn.highlighted().is_empty())
                .map(|sn| sn.to_html())
                .unwrap_or_else(|| escape_html(&lead(body, SNIPPET_CHARS)));
            let published = doc
                .get_first(f.published)
                .and_then(|v| v.as_datetime())
                .and_then(|d| DateTime::from_timestamp(d.into_timestamp_secs(), 0))
                .unwrap_or_default();
            hits.push(SearchHit {
                post_id: PostId(u64_of(&doc, f.id) as i64),
                score,
                title_html,
                snippet_html,
                published,
                blog_id: BlogId(u64_of(&doc, f.blog) as i64),
                url: doc
                    .get_first(f.url)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                tags: doc
                    .get_all(f.tag)
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            });
        }
        Ok(SearchResults { total, hits })
    }

    /// A river: posts newest first by river key (live posts above backfill), then by id;
    /// with `tag` and/or `blog` as filters, after `before` (keyset pagination).
    pub fn river(
        &self,
        tag: Option<&str>,
        blog: Option<BlogId>,
        before: Option<RiverCursor>,
        limit: usize,
        public_only: bool,
    ) -> Result<Vec<RiverHit>> {
        self.river_where(tag, blog.as_slice(), before, limit, public_only)
    }

    /// The river of several blogs' posts (any of `blogs`), as [`SearchIndex::river`]
    /// orders it; empty for no blogs.
    pub fn river_of_blogs(
        &self,
        blogs: &[BlogId],
        before: Option<RiverCursor>,
        limit: usize,
        public_only: bool,
    ) -> Result<Vec<RiverHit>> {
        if blogs.is_empty() {
            return Ok(Vec::new());
        }
        self.river_where(None, blogs, before, limit, public_only)
    }

    /// A river filtered by `tag` and by any of `blogs` (no blog filter when empty).
    fn river_where(
        &self,
        tag: Option<&str>,
        blogs: &[BlogId],
        before: Option<RiverCursor>,
        limit: usize,
        public_only: bool,
    ) -> Result<Vec<RiverHit>> {
        let o = self.current();
        let f = &o.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(t) = tag
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
        {
            must.push((Occur::Must, term(Term::from_field_text(f.tag, &t))));
        }
        if let [b] = blogs {
            must.push((
                Occur::Must,
                term(Term::from_field_u64(f.blog, b.0.max(0) as u64)),
            ));
        } else if !blogs.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> = blogs
                .iter()
                .map(|b| {
                    (
                        Occur::Should,
                        term(Term::from_field_u64(f.blog, b.0.max(0) as u64)),
                    )
                })
                .collect();
            must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if public_only {
            must.push((Occur::Must, term(Term::from_field_bool(f.public, true))));
        }
        if let Some(c) = before {
            // (river, id) < (c.river, c.id)
            let older = RangeQuery::new(
                Bound::Unbounded,
                Bound::Excluded(Term::from_field_i64(f.river, c.river)),
            );
            let same_older_id = BooleanQuery::new(vec![
                (Occur::Must, term(Term::from_field_i64(f.river, c.river))),
                (
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        Bound::Unbounded,
                        Bound::Excluded(Term::from_field_u64(f.id, c.id.0.max(0) as u64)),
                    )),
                ),
            ]);
            must.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, Box::new(older) as Box<dyn Query>),
                    (Occur::Should, Box::new(same_older_id)),
                ])),
            ));
        }
        let query: Box<dyn Query> = if must.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(must))
        };
        let searcher = o.reader.searcher();
        let top = TopDocs::with_limit(limit.clamp(1, 1000)).order_by((
            (
                SortByStaticFastValue::<i64>::for_field("river"),
                Order::Desc,
            ),
            (SortByStaticFastValue::<u64>::for_field("id"), Order::Desc),
        ));
        let docs = searcher.search(&query, &top)?;
        Ok(docs
            .into_iter()
            .filter_map(|((river, id), _)| {
                Some(RiverHit {
                    post_id: PostId(id? as i64),
                    river: river?,
                })
            })
            .collect())
    }

    /// Per-blog counts of live documents, all and public: what the consistency check
    /// compares with the store.
    pub fn census(&self) -> Result<Census> {
        let searcher = self.current().reader.searcher();
        let mut out: Census = HashMap::new();
        for seg in searcher.segment_readers() {
            let blogs = seg.fast_fields().u64("blog")?;
            let public = seg.fast_fields().bool("public")?;
            let alive = seg.alive_bitset();
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    continue;
                }
                let Some(b) = blogs.first(doc) else { continue };
                let e = out.entry(b as i64).or_default();
                e.0 += 1;
                if public.first(doc).unwrap_or(false) {
                    e.1 += 1;
                }
            }
        }
        Ok(out)
    }

    /// The ids of every live document (for tests and audits).
    pub fn all_ids(&self) -> Result<Vec<PostId>> {
        let searcher = self.current().reader.searcher();
        let mut out = Vec::new();
        for seg in searcher.segment_readers() {
            let ids = seg.fast_fields().u64("id")?;
            let alive = seg.alive_bitset();
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    continue;
                }
                if let Some(id) = ids.first(doc) {
                    out.push(PostId(id as i64));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

fn term(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::Basic))
}

fn u64_of(doc: &TantivyDocument, f: tantivy::schema::Field) -> u64 {
    doc.get_first(f).and_then(|v| v.as_u64()).unwrap_or(0)
}

/// The first `max` characters of `text`, cut at a word boundary, with `…` when cut.
fn lead(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let head = &text[..cut];
            let head = head.rfind(char::is_whitespace).map_or(head, |i| &head[..i]);
            format!("{}…", head.trim_end())
        }
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `a AND NOT b` as `a NOT b`: tantivy reads the former as "a, and a clause that only
/// excludes b", which matches nothing; people mean the latter. Quoted phrases are kept.
fn and_not(q: &str) -> String {
    q.split('"')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                part.to_owned()
            } else {
                part.replace(" AND NOT ", " NOT ").replace(" AND -", " -")
            }
        })
        .collect::<Vec<_>>()
        .join("\"")
}

/// A parse error in words a person can act on.
fn explain(e: &QueryParserError) -> String {
    const FIELDS: &str = "title:, body:, tag:, author:, lang:, blog:";
    match e {
        QueryParserError::SyntaxError(_) => "the query could not be read: check for an unclosed \
             quote or parenthesis, or an operator (AND, OR, NOT) with nothing on one side"
            .into(),
        QueryParserError::FieldDoesNotExist(field) => {
            format!("there is no field \"{field}\" to search in (fields: {FIELDS})")
        }
        QueryParserError::AllButQueryForbidden => "the query only excludes words (-word or NOT \
             word): add at least one word to search for"
            .into(),
        QueryParserError::ExpectedInt(_) => {
            "a number was expected (blog: takes a blog id, e.g. blog:12)".into()
        }
        QueryParserError::ExpectedBool(_) => "true or false was expected".into(),
        QueryParserError::DateFormatError(_) => {
            "a date was expected in RFC 3339 form, e.g. 2024-05-01T00:00:00Z".into()
        }
        QueryParserError::FieldNotIndexed(field) => {
            format!("the field \"{field}\" cannot be searched (fields: {FIELDS})")
        }
        QueryParserError::FieldDoesNotHavePositionsIndexed(field) => {
            format!("phrases cannot be searched in \"{field}\"; search single words there")
        }
        QueryParserError::RangeMustNotHavePhrase => {
            "a range ([a TO b]) cannot contain a quoted phrase".into()
        }
        other => format!("{other}"),
    }
}
