//! The index's fields and how a stored post becomes a document.
//!
//! | field | type | why |
//! |---|---|---|
//! | `id` | u64, indexed, fast, stored | the post id: upserts delete by it; hits point to the store |
//! | `title` | text (positions), stored | searched (boosted), highlighted |
//! | `body` | text (positions), stored | the post's plain text: searched, phrases, snippets |
//! | `tag` | one lower-cased token per tag, stored, fast | `tag:rust`, tag filters, rivers |
//! | `blog` | u64, indexed, fast, stored | blog filter, removal of a blog's posts |
//! | `author` | text, stored | `author:...` |
//! | `lang` | raw string, indexed, fast, stored | language filter |
//! | `published` | date (seconds), indexed, fast, stored | date range, newest first |
//! | `url` | stored | links in results |
//! | `public` | bool, indexed, fast | the blog is verified: what the public may see |
//! | `river` | i64, indexed, fast | [`crate::river_key`]: river order, live posts first |

use kith_store::ChangedPost;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};
use tantivy::{DateTime, Index, TantivyDocument};

/// Tags are matched whole, case-insensitively (`tag:Rust` finds `rust`).
pub const TAG_TOKENIZER: &str = "kith_tag";

/// Field handles of the schema, by name.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub body: Field,
    pub tag: Field,
    pub blog: Field,
    pub author: Field,
    pub lang: Field,
    pub published: Field,
    pub url: Field,
    pub public: Field,
    pub river: Field,
}

/// The schema every generation of the index is built with.
pub fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_u64_field("id", INDEXED | FAST | STORED);
    b.add_text_field("title", TEXT | STORED);
    b.add_text_field("body", TEXT | STORED);
    let tag = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TAG_TOKENIZER)
                .set_index_option(IndexRecordOption::Basic),
        )
        .set_stored()
        .set_fast(TAG_TOKENIZER);
    b.add_text_field("tag", tag);
    b.add_u64_field("blog", INDEXED | FAST | STORED);
    b.add_text_field("author", TEXT | STORED);
    b.add_text_field("lang", STRING | FAST | STORED);
    b.add_date_field("published", INDEXED | FAST | STORED);
    b.add_text_field("url", STORED);
    b.add_bool_field("public", INDEXED | FAST);
    b.add_i64_field("river", INDEXED | FAST);
    b.build()
}

impl Fields {
    /// The fields of `schema`; `None` when it is not [`schema()`] (an index from another
    /// version of Kith: rebuild it).
    pub fn of(schema: &Schema) -> Option<Fields> {
        let f = |name: &str| schema.get_field(name).ok();
        Some(Fields {
            id: f("id")?,
            title: f("title")?,
            body: f("body")?,
            tag: f("tag")?,
            blog: f("blog")?,
            author: f("author")?,
            lang: f("lang")?,
            published: f("published")?,
            url: f("url")?,
            public: f("public")?,
            river: f("river")?,
        })
    }
}

/// Registers our tokenizers on an opened or created index (they are not persisted).
pub fn register_tokenizers(index: &Index) {
    let tag = TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(TAG_TOKENIZER, tag.clone());
    index.fast_field_tokenizer().register(TAG_TOKENIZER, tag);
}

/// Whether an existing index was built with today's schema.
pub fn is_current(index: &Index) -> bool {
    let ours = serde_json::to_value(schema()).ok();
    ours.is_some() && serde_json::to_value(index.schema()).ok() == ours
}

pub fn date(t: chrono::DateTime<chrono::Utc>) -> DateTime {
    DateTime::from_timestamp_secs(t.timestamp())
}

/// A stored post as an index document.
pub fn document(f: &Fields, c: &ChangedPost) -> TantivyDocument {
    let p = &c.post;
    let mut doc = TantivyDocument::default();
    doc.add_u64(f.id, p.id.0.max(0) as u64);
    doc.add_text(f.title, &p.title);
    doc.add_text(f.body, &p.text);
    let mut seen = std::collections::HashSet::new();
    for t in &p.tags {
        if seen.insert(t.tag.as_str()) {
            doc.add_text(f.tag, &t.tag);
        }
    }
    doc.add_u64(f.blog, p.blog_id.0.max(0) as u64);
    if let Some(a) = p.author.as_deref().filter(|a| !a.is_empty()) {
        doc.add_text(f.author, a);
    }
    if let Some(l) = p.language.as_deref().filter(|l| !l.is_empty()) {
        doc.add_text(f.lang, l.to_ascii_lowercase());
    }
    doc.add_date(f.published, date(p.published));
    if let Some(u) = &p.url {
        doc.add_text(f.url, u);
    }
    doc.add_bool(f.public, c.blog_status == kith_model::BlogStatus::Verified);
    doc.add_i64(f.river, crate::river_key(p.published, p.backfill));
    doc
}
