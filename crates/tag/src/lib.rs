//! # kith-tag: explainable tags for posts
//!
//! Consumes one parsed post (title, plain text, the feed's categories, the blog's URL, the
//! language the crawler detected) and produces at most `limits.max_tags_per_post` tags,
//! best first, each a [`TagDecision`] saying where it came from
//! ([`TagSource`](kith_model::TagSource): `author`, `rule` or `extracted`), how sure it
//! is and why, in words a curator can read. Pure and synchronous: no I/O, no model, no
//! global state; the one outside input is a [`DocFreq`], how common words are across the
//! posts the hub has stored.
//!
//! ```
//! use kith_tag::{NoDocFreq, PostInput, Tagger};
//! let tagger = Tagger::new(&kith_config::TagRules::default())?;
//! let categories = vec!["Rust".to_string(), "Uncategorized".to_string()];
//! let tags = tagger.tag(
//!     &PostInput {
//!         title: "Taming the borrow checker",
//!         text: "The borrow checker rejects aliasing. The borrow checker is a friend.",
//!         categories: &categories,
//!         ..PostInput::default()
//!     },
//!     &NoDocFreq,
//! );
//! assert_eq!(tags[0].tag, "rust");
//! assert_eq!(tags[0].reason, "feed category \"Rust\"");
//! assert!(tags.iter().any(|t| t.tag == "borrow-checker"));
//! assert!(tags.iter().all(|t| t.tag != "uncategorized"));
//! # Ok::<(), kith_tag::Error>(())
//! ```
//!
//! ## Layout
//! - [`tagger`] — [`Tagger`], [`PostInput`], [`TagDecision`]: the pipeline for one post.
//! - [`rules`] (private) — the curator's [`TagRules`](kith_config::TagRules) compiled:
//!   aliases and merges resolved to a fixed point, stop-tags, phrase rules in one
//!   Aho-Corasick automaton, regexes, exclusions, per-blog overrides.
//! - `extract` (private) — keywords from title and text: candidates of one to three words,
//!   scored by in-post evidence and document frequency.
//! - `tokenize` (private) — one pass over the text: words, sentences, capitals, code.
//! - [`normalize`](mod@normalize) — [`normalize()`] (the tag normal form) and
//!   [`match_key`] (plurals folded, for comparing).
//! - [`junk`] — [`is_junk`]: numbers, dates, versions, boilerplate.
//! - [`language`] — [`detect_language`]: a stop-word vote over the first words, whatlang
//!   when the vote is not clear.
//! - `stopwords` (private) — stop words for English, French, German, Spanish, Italian,
//!   Portuguese and Dutch.
//! - [`df`] — [`DocFreq`], the in-memory [`DfTable`] and [`doc_terms`], the terms a
//!   store should count to implement [`DocFreq`] itself.
//! - [`diff`](mod@diff) — [`diff()`]: what a rules change does to a post's tags.
//! - [`error`] — [`Error`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod df;
pub mod diff;
pub mod error;
mod extract;
pub mod junk;
pub mod language;
pub mod normalize;
mod rules;
mod stopwords;
pub mod tagger;
mod tokenize;

pub use df::{DfTable, DocFreq, NoDocFreq, doc_terms};
pub use diff::{TagDiff, diff};
pub use error::{Error, Result};
pub use junk::is_junk;
pub use language::detect_language;
pub use normalize::{match_key, normalize};
pub use tagger::{MIN_EXTRACTED_SCORE, PostInput, RULE_SCORE, TagDecision, Tagger};
