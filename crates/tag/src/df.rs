//! Document frequency: how many of the hub's posts use a word. Words every post uses are
//! not what any one post is about.
//!
//! The tagger asks a [`DocFreq`] about the match keys of single words ([`doc_terms`] lists
//! them for a post). [`DfTable`] is the in-memory implementation, built from a batch of
//! documents and updated one document at a time; a store can implement the trait over its
//! own counts.

use crate::normalize::{fold_into, fold_word};
use crate::tokenize::{self, CODE, NUMBER};
use rustc_hash::{FxHashMap, FxHashSet};

/// How many stored documents use a term.
pub trait DocFreq {
    /// Documents counted. Zero means "nothing known": every term is then equally common.
    fn docs(&self) -> u64;
    /// Documents that use the term `term_key` (a match key, see [`doc_terms`]).
    fn df(&self, term_key: &str) -> u64;
}

/// No document frequency at all: the tagger then relies on the post alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDocFreq;

impl DocFreq for NoDocFreq {
    fn docs(&self) -> u64 {
        0
    }
    fn df(&self, _term_key: &str) -> u64 {
        0
    }
}

impl<T: DocFreq + ?Sized> DocFreq for &T {
    fn docs(&self) -> u64 {
        (**self).docs()
    }
    fn df(&self, term_key: &str) -> u64 {
        (**self).df(term_key)
    }
}

/// Default bound on the terms a [`DfTable`] keeps.
pub const DEFAULT_MAX_TERMS: usize = 1 << 20;

/// Document frequencies in memory, with a bound on how many terms it keeps: when full, the
/// terms seen in only one document are forgotten (they carry the least information).
#[derive(Debug, Clone)]
pub struct DfTable {
    docs: u64,
    counts: FxHashMap<Box<str>, u32>,
    max_terms: usize,
}

impl Default for DfTable {
    fn default() -> Self {
        Self::new()
    }
}

impl DfTable {
    /// An empty table keeping at most [`DEFAULT_MAX_TERMS`] terms.
    pub fn new() -> Self {
        Self::with_max_terms(DEFAULT_MAX_TERMS)
    }

    /// An empty table keeping at most `max_terms` terms (at least 1,024).
    pub fn with_max_terms(max_terms: usize) -> Self {
        Self {
            docs: 0,
            counts: FxHashMap::default(),
            max_terms: max_terms.max(1024),
        }
    }

    /// A table counting every `(title, text)` document.
    pub fn from_docs<'a, I>(docs: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut t = Self::new();
        for (title, text) in docs {
            t.add(title, text);
        }
        t
    }

    /// Counts one more document.
    pub fn add(&mut self, title: &str, text: &str) {
        let terms = doc_terms(title, text);
        self.add_terms(terms.iter().map(String::as_str));
    }

    /// Counts one more document given its distinct terms (as [`doc_terms`] lists them).
    pub fn add_terms<'a>(&mut self, terms: impl IntoIterator<Item = &'a str>) {
        self.docs += 1;
        for t in terms {
            if let Some(c) = self.counts.get_mut(t) {
                *c = c.saturating_add(1);
            } else {
                self.counts.insert(t.into(), 1);
            }
        }
        if self.counts.len() > self.max_terms {
            self.counts.retain(|_, c| *c > 1);
            if self.counts.len() > self.max_terms * 3 / 4 {
                // Still nearly full: keep the more common half.
                let mut cs: Vec<u32> = self.counts.values().copied().collect();
                let mid = cs.len() / 2;
                let (_, median, _) = cs.select_nth_unstable(mid);
                let cut = *median;
                self.counts.retain(|_, c| *c > cut);
            }
        }
    }

    /// Distinct terms kept.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The table as bytes, for a store to keep between runs ([`DfTable::from_bytes`] reads
    /// them back): so a process that starts need not read every stored post again.
    ///
    /// Layout (little-endian): the magic `KDF`, [`TERMS_VERSION`] as one byte, documents
    /// counted (u64), terms (u64), then per term its count (u32), its length in bytes (u32)
    /// and its UTF-8.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size: usize = self.counts.keys().map(|k| k.len() + 8).sum();
        let mut out = Vec::with_capacity(20 + size);
        out.extend_from_slice(b"KDF");
        out.push(TERMS_VERSION);
        out.extend_from_slice(&self.docs.to_le_bytes());
        out.extend_from_slice(&(self.counts.len() as u64).to_le_bytes());
        for (term, &count) in &self.counts {
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&(term.len() as u32).to_le_bytes());
            out.extend_from_slice(term.as_bytes());
        }
        out
    }

    /// Reads back what [`DfTable::to_bytes`] wrote, keeping at most [`DEFAULT_MAX_TERMS`]
    /// terms; `None` when the bytes are not such a table or were written for other match
    /// keys (another [`TERMS_VERSION`]): the caller then counts the documents again.
    pub fn from_bytes(bytes: &[u8]) -> Option<DfTable> {
        fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            let (head, rest) = b.split_at_checked(n)?;
            *b = rest;
            Some(head)
        }
        fn u32_of(b: &mut &[u8]) -> Option<u32> {
            Some(u32::from_le_bytes(take(b, 4)?.try_into().ok()?))
        }
        fn u64_of(b: &mut &[u8]) -> Option<u64> {
            Some(u64::from_le_bytes(take(b, 8)?.try_into().ok()?))
        }
        let mut b = bytes;
        if take(&mut b, 4)? != [b'K', b'D', b'F', TERMS_VERSION] {
            return None;
        }
        let docs = u64_of(&mut b)?;
        let terms = usize::try_from(u64_of(&mut b)?).ok()?;
        // Each term takes at least 8 bytes: a count larger than that is a damaged blob.
        if terms > b.len() / 8 {
            return None;
        }
        let mut t = DfTable::new();
        t.docs = docs;
        t.counts.reserve(terms.min(t.max_terms));
        for _ in 0..terms {
            let count = u32_of(&mut b)?;
            let len = u32_of(&mut b)? as usize;
            let term = std::str::from_utf8(take(&mut b, len)?).ok()?;
            t.counts.insert(term.into(), count);
        }
        b.is_empty().then_some(t)
    }
}

/// The version of the match keys [`doc_terms`] gives. Bump it whenever they change (the
/// tokenizer, folding, plurals): tables saved with another version are then counted again.
pub const TERMS_VERSION: u8 = 1;

impl DocFreq for DfTable {
    fn docs(&self) -> u64 {
        self.docs
    }
    fn df(&self, term_key: &str) -> u64 {
        self.counts.get(term_key).map_or(0, |&c| u64::from(c))
    }
}

/// The distinct terms of a document that a [`DocFreq`] counts: the match key of every word
/// of the title and text outside code, numbers left out. Sorted. A change to these keys
/// must bump [`TERMS_VERSION`].
pub fn doc_terms(title: &str, text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut seen: FxHashSet<String> = FxHashSet::default();
    let mut buf = String::new();
    for src in [title, text] {
        tokens.clear();
        tokenize::tokenize(src, 0, &mut tokens);
        for t in &tokens {
            if t.has(NUMBER) || t.has(CODE) {
                continue;
            }
            buf.clear();
            fold_into(t.text(src), &mut buf);
            let key = word_key(&buf);
            if !key.is_empty() && !seen.contains(key.as_ref()) {
                seen.insert(key.into_owned());
            }
        }
    }
    let mut v: Vec<String> = seen.into_iter().collect();
    v.sort_unstable();
    v
}

/// The match key of one folded token: separators inside (`turn-up`, `node.js`) become `-`
/// and each part loses its plural.
pub(crate) fn word_key(folded: &str) -> std::borrow::Cow<'_, str> {
    if folded.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return fold_word(folded);
    }
    let mut out = String::with_capacity(folded.len());
    for (i, part) in folded
        .split(['-', '.', '_', '\u{2010}', '\u{2011}'])
        .enumerate()
    {
        if i > 0 {
            out.push('-');
        }
        out.push_str(&fold_word(part));
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_documents_not_occurrences() {
        let t = DfTable::from_docs([
            ("Containers", "container containers and more containers"),
            ("Rust", "Ownership in Rust"),
        ]);
        assert_eq!(t.docs(), 2);
        assert_eq!(t.df("container"), 1);
        assert_eq!(t.df("rust"), 1);
        assert_eq!(t.df("missing"), 0);
    }

    #[test]
    fn memory_is_bounded() {
        let mut t = DfTable::with_max_terms(1024);
        for i in 0..5000 {
            let w = format!("word{i} common");
            t.add("", &w);
            assert!(t.len() <= 1025);
        }
        assert_eq!(t.df("common"), 5000);
    }

    #[test]
    fn a_table_reads_back_as_written() {
        let t = DfTable::from_docs([
            ("Containers", "container runtimes and Kubernetes"),
            ("Rust", "Ownership in Rust: the borrow checker"),
            ("Ελληνικά", "κείμενο στα ελληνικά"),
        ]);
        let back = DfTable::from_bytes(&t.to_bytes()).unwrap();
        assert_eq!(back.docs(), 3);
        assert_eq!(back.len(), t.len());
        for key in t.counts.keys() {
            assert_eq!(back.df(key), t.df(key), "{key}");
        }
    }

    #[test]
    fn damaged_or_foreign_bytes_are_refused() {
        let bytes = DfTable::from_docs([("Rust", "ownership")]).to_bytes();
        assert!(DfTable::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(DfTable::from_bytes(&longer).is_none());
        let mut other_version = bytes.clone();
        other_version[3] = TERMS_VERSION.wrapping_add(1);
        assert!(DfTable::from_bytes(&other_version).is_none());
        assert!(DfTable::from_bytes(b"").is_none());
        // A term count no blob of this size can hold is refused before allocating.
        let mut huge = bytes[..12].to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(DfTable::from_bytes(&huge).is_none());
    }
}
