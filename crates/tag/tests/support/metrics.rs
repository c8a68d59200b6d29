//! The quality measurements shared by `tests/quality.rs` and `examples/keyphrases.rs`.

#![allow(dead_code)]

use super::corpus::{self, BlogPost};
use super::kpeval::{Evaluator, Gold, Scores};
use kith_tag::{DfTable, PostInput, TagDecision, Tagger, is_junk};
use std::collections::HashMap;

/// Tags every Inspec abstract (first line as title), with document frequency over the
/// whole batch; returns the predictions by id.
pub fn inspec_predictions(tagger: &Tagger, gold: &[Gold]) -> HashMap<String, Vec<TagDecision>> {
    let df = DfTable::from_docs(gold.iter().map(|g| corpus::split_title(&g.text)));
    gold.iter()
        .map(|g| {
            let (title, text) = corpus::split_title(&g.text);
            let input = PostInput {
                title,
                text,
                ..PostInput::default()
            };
            (g.id.clone(), tagger.tag(&input, &df))
        })
        .collect()
}

/// F1@5 and F1@10 (kp_eval.py's protocol) of predictions, scored on their display form.
pub fn inspec_scores(gold: &[Gold], preds: &HashMap<String, Vec<TagDecision>>) -> (Scores, Scores) {
    let ev = Evaluator::new();
    let as_text: HashMap<String, Vec<String>> = preds
        .iter()
        .map(|(id, tags)| (id.clone(), tags.iter().map(|t| t.display.clone()).collect()))
        .collect();
    (
        ev.score(gold, &as_text, 5, 30),
        ev.score(gold, &as_text, 10, 30),
    )
}

#[derive(Debug, Default)]
pub struct BlogScores {
    pub posts: usize,
    /// Author tags (all of them) found among the extracted tags, micro-averaged.
    pub recall_all: f64,
    /// The same over the author tags the tagger could ever emit: not stop-tags, not junk.
    pub recall_eligible: f64,
    /// Share of extracted tags that a reader would call junk.
    pub junk_share: f64,
    pub extracted: usize,
    pub junk: Vec<String>,
}

/// Tags every blogosphere post with its categories hidden, document frequency over all
/// posts, and compares the top `k` with the author's own tags (stemmed, as kp_eval does).
pub fn blog_scores(
    tagger: &Tagger,
    posts: &[BlogPost],
    k: usize,
) -> (BlogScores, Vec<Vec<TagDecision>>) {
    let ev = Evaluator::new();
    let df = DfTable::from_docs(posts.iter().map(|p| (p.title.as_str(), p.text.as_str())));
    let mut s = BlogScores {
        posts: posts.len(),
        ..BlogScores::default()
    };
    let (mut gold_all, mut gold_ok, mut hit_all, mut hit_ok) = (0usize, 0usize, 0usize, 0usize);
    let mut all = Vec::new();
    for p in posts {
        let blog_url = format!("http://{}.blogs.test/", p.blogger);
        let input = PostInput {
            title: &p.title,
            text: &p.text,
            blog_url: Some(&blog_url),
            ..PostInput::default()
        };
        let tags = tagger.tag(&input, &df);
        let got: Vec<String> = tags.iter().take(k).map(|t| ev.norm(&t.display)).collect();
        for g in &p.gold_tags {
            let n = ev.norm(g);
            let hit = got.contains(&n);
            gold_all += 1;
            hit_all += usize::from(hit);
            if tagger.canonical(g).is_some() {
                gold_ok += 1;
                hit_ok += usize::from(hit);
            }
        }
        for t in &tags {
            s.extracted += 1;
            if judged_junk(&t.tag) {
                s.junk.push(t.tag.clone());
            }
        }
        all.push(tags);
    }
    s.recall_all = 100.0 * hit_all as f64 / gold_all.max(1) as f64;
    s.recall_eligible = 100.0 * hit_ok as f64 / gold_ok.max(1) as f64;
    s.junk_share = 100.0 * s.junk.len() as f64 / s.extracted.max(1) as f64;
    (s, all)
}

/// A reader's judgement of junk, independent of the tagger's own filters: numbers, dates
/// and versions ([`is_junk`]), function words standing alone or at an edge, blog and web
/// boilerplate, file names and code.
pub fn judged_junk(tag: &str) -> bool {
    const FUNCTION: &[&str] = &[
        "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "for", "with", "at", "by",
        "from", "is", "are", "was", "be", "it", "this", "that", "these", "we", "you", "i", "my",
        "our", "your", "they", "he", "she", "not", "no", "so", "if", "as", "can", "will", "just",
        "also", "very", "more", "most", "some", "any", "all", "new", "get", "use", "using", "used",
        "one", "two", "like", "make", "way", "thing", "things", "lot", "really",
    ];
    const BOILERPLATE: &[&str] = &[
        "click",
        "here",
        "read",
        "more",
        "post",
        "posts",
        "blog",
        "comments",
        "comment",
        "share",
        "subscribe",
        "http",
        "https",
        "www",
        "com",
        "org",
        "png",
        "jpg",
        "gif",
    ];
    if is_junk(tag) {
        return true;
    }
    let words: Vec<&str> = tag.split('-').collect();
    let first = words.first().copied().unwrap_or("");
    let last = words.last().copied().unwrap_or("");
    FUNCTION.contains(&first)
        || FUNCTION.contains(&last)
        || words.iter().any(|w| BOILERPLATE.contains(w))
        || words.iter().any(|w| !w.chars().any(char::is_alphabetic))
        || tag.contains('_')
        || tag.chars().count() < 2
}
