//! A port of `shared/tools/kp_eval.py`: stemmed exact-match P, R and F1 at k.
//!
//! Same protocol: lower-case, every character that is not a word character or white space
//! becomes a space, Snowball (Porter2) English stemming of every word; a prediction counts
//! when its stemmed form equals a stemmed gold phrase; duplicates after stemming are
//! dropped before the first k are kept; F1 per document, averaged over documents with at
//! least `min_words` words of text; a document without predictions scores 0.

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::{HashMap, HashSet};

pub struct Gold {
    pub id: String,
    pub text: String,
    pub keyphrases: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Scores {
    pub docs: usize,
    pub p: f64,
    pub r: f64,
    pub f1: f64,
}

pub struct Evaluator {
    stemmer: Stemmer,
}

impl Evaluator {
    pub fn new() -> Self {
        Self {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// `norm()` of kp_eval.py.
    pub fn norm(&self, phrase: &str) -> String {
        let lower = phrase.to_lowercase();
        let cleaned: String = lower
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' || c.is_whitespace() {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        cleaned
            .split_whitespace()
            .map(|w| self.stemmer.stem(w).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Scores at `k` (percentages, like kp_eval.py before rounding).
    pub fn score(
        &self,
        gold: &[Gold],
        pred: &HashMap<String, Vec<String>>,
        k: usize,
        min_words: usize,
    ) -> Scores {
        let gold: Vec<&Gold> = gold
            .iter()
            .filter(|g| g.text.split_whitespace().count() >= min_words)
            .collect();
        let (mut ps, mut rs, mut fs) = (0.0, 0.0, 0.0);
        for g in &gold {
            let want: HashSet<String> = g
                .keyphrases
                .iter()
                .map(|x| self.norm(x))
                .filter(|x| !x.is_empty())
                .collect();
            let mut seen = HashSet::new();
            let mut kept = Vec::new();
            for t in pred.get(&g.id).map(Vec::as_slice).unwrap_or(&[]) {
                let n = self.norm(t);
                if !n.is_empty() && seen.insert(n.clone()) {
                    kept.push(n);
                }
            }
            kept.truncate(k);
            let kept: HashSet<String> = kept.into_iter().collect();
            let hits = kept.intersection(&want).count() as f64;
            let p = if kept.is_empty() {
                0.0
            } else {
                hits / kept.len() as f64
            };
            let r = if want.is_empty() {
                0.0
            } else {
                hits / want.len() as f64
            };
            ps += p;
            rs += r;
            fs += if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
        }
        let n = gold.len().max(1) as f64;
        Scores {
            docs: gold.len(),
            p: 100.0 * ps / n,
            r: 100.0 * rs / n,
            f1: 100.0 * fs / n,
        }
    }
}
