//! Keywords from a post's title and text, with no model: candidates of one to three words
//! between stop words and punctuation, scored by evidence inside the post (frequency,
//! position, spread over sentences, capitals, the title) and by how distinctive their words
//! are across the hub (document frequency).
//!
//! The score of a candidate is built from the scores of its words, so that a phrase is as
//! good as the words in it, and then weighed by what the phrase itself does: how often it
//! recurs as a unit, how early it first appears, whether the title uses it and whether it
//! stands alone between stop words (a whole noun phrase) rather than inside a longer run.

use crate::df::{DocFreq, word_key};
use crate::junk::{is_date_word, is_junk_normal};
use crate::normalize::{fold_into, normalize};
use crate::tokenize::{
    self, ALL_CAPS, BREAK, CAPITALISED, CODE, INNER_CAPS, NUMBER, SENTENCE_START, Token,
};
use rustc_hash::{FxHashMap, FxHashSet};

/// Longest candidate, in words.
pub(crate) const MAX_WORDS: usize = 3;
/// Most bytes of title and of text read: keeps time and memory per post bounded (about
/// 30,000 words; a post longer than that has said what it is about by then).
pub(crate) const MAX_TEXT_BYTES: usize = 200_000;
/// Longest word considered, in bytes: longer ones are URLs, hashes or glued text.
const MAX_WORD_BYTES: usize = 40;

/// Stop words of one language, folded.
pub(crate) type StopSet = FxHashSet<Box<str>>;

/// Weights of the scoring formula. They were chosen on the Inspec abstracts and the
/// blogosphere posts together (see `tests/quality.rs`), and each states a general
/// preference (early beats late, recurring beats once, whole phrases beat fragments), not a
/// fit to one corpus.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    /// Exponent of the number of words dividing a phrase's summed word scores in a short
    /// text: 0 sums (long phrases win), 1 averages (single words win).
    pub length_norm: f64,
    /// The same exponent for a long text, approached as the text grows past
    /// `long_words`: a long post repeats its topic words, a short abstract names its topic
    /// in phrases.
    pub long_length_norm: f64,
    /// Words of text at which the exponent is halfway between the two.
    pub long_words: f64,
    /// Weight of the phrase's own frequency.
    pub phrase_tf: f64,
    /// Bonus for a first occurrence at the very start, decaying with position.
    pub position: f64,
    /// Position (in words) at which the position bonus has halved.
    pub position_half: f64,
    /// Bonus for appearing in the title.
    pub title: f64,
    /// Bonus for a phrase that fills a whole run between stop words (a whole noun phrase).
    pub maximal: f64,
    /// Bonus for words capitalised inside sentences, ALL CAPS or with inner capitals
    /// (names: `Kubernetes`, `GSoC`).
    pub caps: f64,
    /// Weight of a word's spread over the sentences of the post.
    pub spread: f64,
    /// Exponent of the (normalised) inverse document frequency.
    pub idf_power: f64,
    /// Raw score at which the reported score reaches 1 - 1/e (0.63).
    pub scale: f64,
    /// A candidate inside a better one is dropped when it occurs at most this share of the
    /// better one's count (it never stands on its own: `Val` of `Val Town`).
    pub redundancy: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            length_norm: 0.25,
            long_length_norm: 1.0,
            long_words: 300.0,
            phrase_tf: 1.0,
            position: 2.0,
            position_half: 50.0,
            title: 2.0,
            maximal: 4.0,
            caps: 1.0,
            spread: 1.0,
            idf_power: 0.5,
            scale: 100.0,
            redundancy: 1.0,
        }
    }
}

/// One extracted keyword.
#[derive(Debug, Clone)]
pub(crate) struct Keyword {
    /// Normal form (see [`crate::normalize`]).
    pub normal: String,
    /// Surface form: as written when the post writes it as a name, lower case otherwise.
    pub display: String,
    /// In `[0, 1)`.
    pub score: f64,
    /// Occurrences as a unit in title and text.
    pub count: u32,
    pub in_title: bool,
    pub in_text: bool,
}

/// What the extractor knows about one distinct word of the post.
struct Word {
    key: String,
    tf: u32,
    sentences: u32,
    last_sentence: u32,
    /// Occurrences not at a sentence start, and how many of those are capitalised.
    mid: u32,
    mid_caps: u32,
    /// Occurrences written ALL CAPS or with inner capitals (GSoC).
    shaped: u32,
    score: f64,
}

/// One candidate phrase (up to [`MAX_WORDS`] word ids).
struct Cand {
    words: [u32; MAX_WORDS],
    len: u8,
    count: u32,
    first: u32,
    /// Token index of the first occurrence, for the surface form.
    first_token: u32,
    maximal: u32,
    in_title: bool,
    in_text: bool,
    score: f64,
}

/// Extracts up to `limit` keywords, best first.
pub(crate) fn extract(
    title: &str,
    text: &str,
    stop: Option<&StopSet>,
    df: &dyn DocFreq,
    limit: usize,
    p: &Params,
) -> Vec<Keyword> {
    let (title, text) = (cut(title, MAX_TEXT_BYTES), cut(text, MAX_TEXT_BYTES));
    let mut tokens: Vec<Token> = Vec::with_capacity(text.len() / 5 + 16);
    let next = tokenize::tokenize(title, 0, &mut tokens);
    let title_n = tokens.len();
    tokenize::tokenize(text, next, &mut tokens);
    if let Some(t) = tokens.get_mut(title_n) {
        t.flags |= BREAK | SENTENCE_START;
    }
    let src = |i: usize| if i < title_n { title } else { text };

    // Words: one id per distinct match key; NONE for stop words, numbers, code.
    const NONE: u32 = u32::MAX;
    let mut ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut words: Vec<Word> = Vec::new();
    let mut tok_word: Vec<u32> = Vec::with_capacity(tokens.len());
    let mut buf = String::new();
    for (i, t) in tokens.iter().enumerate() {
        let s = t.text(src(i));
        if t.has(NUMBER) || t.has(CODE) || s.len() > MAX_WORD_BYTES {
            tok_word.push(NONE);
            continue;
        }
        buf.clear();
        fold_into(s, &mut buf);
        let lower = strip_possessive(&buf);
        if lower.chars().count() < 2
            || stop.is_some_and(|st| st.contains(lower))
            || starts_with_number(lower)
            || is_adverb(lower)
            || is_date_word(lower)
        {
            tok_word.push(NONE);
            continue;
        }
        let key = word_key(lower);
        let id = match ids.get(key.as_ref()) {
            Some(&id) => id,
            None => {
                let id = words.len() as u32;
                ids.insert(key.to_string(), id);
                words.push(Word {
                    key: key.into_owned(),
                    tf: 0,
                    sentences: 0,
                    last_sentence: u32::MAX,
                    mid: 0,
                    mid_caps: 0,
                    shaped: 0,
                    score: 0.0,
                });
                id
            }
        };
        let w = &mut words[id as usize];
        w.tf += 1;
        if w.last_sentence != t.sentence {
            w.sentences += 1;
            w.last_sentence = t.sentence;
        }
        if !t.has(SENTENCE_START) && i >= title_n {
            w.mid += 1;
            if t.has(CAPITALISED) {
                w.mid_caps += 1;
            }
        }
        if t.has(ALL_CAPS) || t.has(INNER_CAPS) {
            w.shaped += 1;
        }
        tok_word.push(id);
    }
    if words.is_empty() {
        return Vec::new();
    }

    // Word scores.
    let sentences = tokens.last().map_or(1, |t| t.sentence + 1).max(1);
    let n_docs = df.docs();
    let max_idf = ((n_docs as f64 + 1.0) / 1.0).ln() + 1.0;
    for w in &mut words {
        let idf = if n_docs == 0 {
            1.0
        } else {
            let d = df.df(&w.key).min(n_docs) as f64;
            (((n_docs as f64 + 1.0) / (d + 1.0)).ln() + 1.0) / max_idf
        };
        let tf = 1.0 + f64::from(w.tf).ln();
        let spread = f64::from(w.sentences) / f64::from(sentences);
        let caps = if w.mid > 0 {
            f64::from(w.mid_caps) / f64::from(w.mid)
        } else {
            0.0
        }
        .max(f64::from(w.shaped) / f64::from(w.tf));
        w.score = tf * idf.powf(p.idf_power) * (1.0 + p.spread * spread) * (1.0 + p.caps * caps);
    }

    // Candidates: n-grams inside runs of words.
    let mut cands: Vec<Cand> = Vec::with_capacity(tokens.len() * 2);
    // Key of a candidate: its word ids packed 21 bits each (a post has far fewer than 2^21
    // distinct words), so hashing is one multiplication.
    let pack = |ws: &[u32; MAX_WORDS], len: usize| -> u64 {
        ws[..len]
            .iter()
            .fold(len as u64, |k, &w| (k << 21) | u64::from(w & 0x1f_ffff))
    };
    let mut cand_ids: FxHashMap<u64, u32> = FxHashMap::default();
    let mut run_start = 0usize;
    let n_tok = tokens.len();
    let mut i = 0usize;
    while i <= n_tok {
        let ends_run = i == n_tok || tok_word[i] == NONE || (i > run_start && tokens[i].has(BREAK));
        if ends_run {
            let run = run_start..i;
            let run_len = run.len();
            for a in run.clone() {
                for len in 1..=MAX_WORDS.min(i - a) {
                    let mut ws = [NONE; MAX_WORDS];
                    for (k, slot) in ws.iter_mut().enumerate().take(len) {
                        *slot = tok_word[a + k];
                    }
                    if len > 1 && (has_repeat(&ws[..len])) {
                        continue;
                    }
                    let entry = cand_ids.entry(pack(&ws, len)).or_insert_with(|| {
                        cands.push(Cand {
                            words: ws,
                            len: len as u8,
                            count: 0,
                            first: a as u32,
                            first_token: a as u32,
                            maximal: 0,
                            in_title: false,
                            in_text: false,
                            score: 0.0,
                        });
                        (cands.len() - 1) as u32
                    });
                    let c = &mut cands[*entry as usize];
                    c.count += 1;
                    if len == run_len {
                        c.maximal += 1;
                    }
                    if a < title_n {
                        c.in_title = true;
                    } else {
                        c.in_text = true;
                    }
                }
            }
            // A token that ended the run by BREAK (not NONE) starts the next one.
            run_start = if i < n_tok && tok_word[i] != NONE {
                i
            } else {
                i + 1
            };
        }
        i += 1;
    }

    // Candidate scores.
    let text_start = title_n as f64;
    let doc_words = (n_tok - title_n) as f64;
    let mix = doc_words / (doc_words + p.long_words);
    let length_norm = p.length_norm + (p.long_length_norm - p.length_norm) * mix;
    let divisor: [f64; MAX_WORDS + 1] =
        std::array::from_fn(|n| (n.max(1) as f64).powf(length_norm));
    for c in &mut cands {
        let ws = &c.words[..usize::from(c.len)];
        let sum: f64 = ws.iter().map(|&w| words[w as usize].score).sum();
        let base = sum / divisor[usize::from(c.len)];
        let tf = 1.0 + p.phrase_tf * f64::from(c.count).ln();
        let pos = if c.in_title {
            1.0 + p.position
        } else {
            let at = (f64::from(c.first) - text_start).max(0.0);
            1.0 + p.position * p.position_half / (p.position_half + at)
        };
        let title = if c.in_title { 1.0 + p.title } else { 1.0 };
        let maximal = 1.0 + p.maximal * f64::from(c.maximal) / f64::from(c.count);
        c.score = base * tf * pos * title * maximal;
    }
    let mut order: Vec<u32> = (0..cands.len() as u32).collect();
    let better = |a: &u32, b: &u32| {
        let (a, b) = (&cands[*a as usize], &cands[*b as usize]);
        b.score.total_cmp(&a.score).then(a.first.cmp(&b.first))
    };
    // Only the head of the ranking is read: most candidates are never looked at again, so
    // sort a generous head and the rest only if the head runs out.
    let head = (limit * 8 + 16).min(order.len());
    if head < order.len() {
        order.select_nth_unstable_by(head, better);
    }
    order[..head].sort_by(better);
    if head < order.len() {
        order[head..].sort_by(better);
    }

    // Pick the best, skipping junk and candidates made redundant by a better one.
    let mut out: Vec<Keyword> = Vec::with_capacity(limit);
    let mut picked: Vec<u32> = Vec::with_capacity(limit);
    let mut seen_normal: FxHashSet<String> = FxHashSet::default();
    for &ci in &order {
        if out.len() >= limit {
            break;
        }
        let c = &cands[ci as usize];
        if !is_head_ok(c, &words) {
            continue;
        }
        if p.redundancy > 0.0
            && picked.iter().any(|&pi| {
                let pc = &cands[pi as usize];
                contains(pc, c) && f64::from(c.count) <= p.redundancy * f64::from(pc.count)
            })
        {
            continue;
        }
        let display = surface(c, &tokens, &tok_word, &words, title, text, title_n);
        let Some(normal) = normalize(&display) else {
            continue;
        };
        if is_junk_normal(&normal) || !seen_normal.insert(normal.clone()) {
            continue;
        }
        out.push(Keyword {
            normal,
            display,
            score: 1.0 - (-c.score / p.scale).exp(),
            count: c.count,
            in_title: c.in_title,
            in_text: c.in_text,
        });
        picked.push(ci);
    }
    out
}

/// `s` cut to at most `max` bytes, on a char boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn has_repeat(ws: &[u32]) -> bool {
    ws.iter().enumerate().any(|(i, w)| ws[..i].contains(w))
}

/// `a` contains `b` as a contiguous run of words.
fn contains(a: &Cand, b: &Cand) -> bool {
    let (a, b) = (
        &a.words[..usize::from(a.len)],
        &b.words[..usize::from(b.len)],
    );
    b.len() < a.len() && a.windows(b.len()).any(|w| w == b)
}

/// A keyword ends in a noun, as far as spelling can tell: not in a past participle
/// (`proposed`, `based`).
fn is_head_ok(c: &Cand, words: &[Word]) -> bool {
    let last = &words[c.words[usize::from(c.len) - 1] as usize].key;
    !(last.len() > 4 && last.ends_with("ed") && !last.ends_with("eed"))
}

/// `10-minute`, `64-bit`: a number glued to a word is a measure, not a topic.
fn starts_with_number(w: &str) -> bool {
    w.split(['-', '.'])
        .next()
        .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

fn strip_possessive(s: &str) -> &str {
    s.strip_suffix("'s").unwrap_or(s)
}

/// Adverbs end a candidate: `-ly` words other than the nouns and adjectives that keep
/// their place in a noun phrase (`family`, `supply`, `monthly`).
fn is_adverb(w: &str) -> bool {
    w.len() > 4 && w.ends_with("ly") && LY_KEEP.binary_search(&w).is_err()
}

/// `-ly` words that are nouns or adjectives used in noun phrases. Sorted.
const LY_KEEP: &[&str] = &[
    "ally",
    "anomaly",
    "assembly",
    "bully",
    "butterfly",
    "costly",
    "curly",
    "daily",
    "early",
    "elderly",
    "family",
    "friendly",
    "holy",
    "hourly",
    "italy",
    "jelly",
    "july",
    "lonely",
    "lovely",
    "monopoly",
    "monthly",
    "nightly",
    "quarterly",
    "rally",
    "reply",
    "supply",
    "ugly",
    "weekly",
    "yearly",
];

/// The surface form of a candidate: words written as names keep their capitals (most
/// occurrences inside sentences capitalised, or ALL CAPS, or inner capitals), others are
/// lower case.
fn surface(
    c: &Cand,
    tokens: &[Token],
    tok_word: &[u32],
    words: &[Word],
    title: &str,
    text: &str,
    title_n: usize,
) -> String {
    let mut out = String::new();
    let start = c.first_token as usize;
    for k in 0..usize::from(c.len) {
        let ti = start + k;
        let t = &tokens[ti];
        let raw = t.text(if ti < title_n { title } else { text });
        let raw = raw
            .strip_suffix("'s")
            .or_else(|| raw.strip_suffix("’s"))
            .unwrap_or(raw);
        let w = &words[tok_word[ti] as usize];
        let name = w.shaped * 2 > w.tf || (w.mid > 0 && w.mid_caps * 2 > w.mid);
        if k > 0 {
            out.push(' ');
        }
        if name {
            out.push_str(raw);
        } else {
            fold_into(raw, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df::NoDocFreq;

    fn en() -> StopSet {
        crate::stopwords::ENGLISH
            .split_whitespace()
            .map(Box::from)
            .collect()
    }

    #[test]
    fn sorted_tables() {
        assert!(LY_KEEP.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn huge_posts_are_cut() {
        let stop = en();
        let text = "containers and pods. ".repeat(40_000);
        assert!(text.len() > MAX_TEXT_BYTES);
        let kw = extract("", &text, Some(&stop), &NoDocFreq, 3, &Params::default());
        assert_eq!(kw[0].normal, "containers");
        assert_eq!(cut("héllo", 2), "h");
    }

    #[test]
    fn finds_repeated_phrases() {
        let stop = en();
        let kw = extract(
            "Taming the borrow checker",
            "The borrow checker rejects code that aliases mutable state. Learning the borrow \
             checker takes time, but the borrow checker is a friend.",
            Some(&stop),
            &NoDocFreq,
            5,
            &Params::default(),
        );
        assert_eq!(kw[0].normal, "borrow-checker", "{kw:?}");
        assert!(kw[0].in_title && kw[0].count == 4);
    }
}
