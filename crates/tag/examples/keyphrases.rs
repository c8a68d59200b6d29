//! Runs the tagger over the shared corpora and prints what `tests/quality.rs` measures,
//! plus the predictions for `kp_eval.py`:
//!
//! ```sh
//! KITH_CORPUS=../shared/corpus cargo run -p kith-tag --example keyphrases -- inspec pred.jsonl
//! python3 ../shared/tools/kp_eval.py ../shared/corpus/keyphrases/inspec.jsonl pred.jsonl
//! KITH_CORPUS=../shared/corpus cargo run -p kith-tag --example keyphrases -- blogs
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use kith_tag::Tagger;
use std::io::Write;

fn tagger(max: usize) -> Tagger {
    let mut rules = kith_config::TagRules::default();
    rules.limits.max_tags_per_post = max;
    Tagger::new(&rules).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = support::corpus::root().expect("set KITH_CORPUS to the corpus directory");
    match args.first().map(String::as_str) {
        Some("inspec") => {
            let gold = support::corpus::inspec(&root);
            let t = tagger(10);
            let start = std::time::Instant::now();
            let preds = support::metrics::inspec_predictions(&t, &gold);
            let took = start.elapsed();
            let (f5, f10) = support::metrics::inspec_scores(&gold, &preds);
            eprintln!(
                "inspec: {} docs scored, F1@5 {:.2} (P {:.2} R {:.2}), F1@10 {:.2} (P {:.2} R {:.2}), {:.0} ms",
                f10.docs,
                f5.f1,
                f5.p,
                f5.r,
                f10.f1,
                f10.p,
                f10.r,
                took.as_secs_f64() * 1e3
            );
            if let Some(out) = args.get(1).filter(|a| !a.starts_with("--")) {
                let mut f = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
                for g in &gold {
                    let tags: Vec<serde_json::Value> = preds[&g.id]
                        .iter()
                        .map(|d| serde_json::json!({"tag": d.display, "normal": d.tag, "score": d.score, "source": d.source, "reason": d.reason}))
                        .collect();
                    writeln!(f, "{}", serde_json::json!({"id": g.id, "tags": tags})).unwrap();
                }
            }
            if args.iter().any(|a| a == "--show") {
                for g in gold.iter().take(15) {
                    let tags: Vec<&str> = preds[&g.id].iter().map(|d| d.display.as_str()).collect();
                    println!(
                        "{}\n  gold: {:?}\n  ours: {:?}\n",
                        g.text.lines().next().unwrap_or(""),
                        g.keyphrases,
                        tags
                    );
                }
            }
        }
        Some("blogs") => {
            let posts = support::corpus::blogosphere(&root);
            let t = tagger(8);
            let (s, tags) = support::metrics::blog_scores(&t, &posts, 8);
            eprintln!(
                "blogosphere: {} posts, recall@8 {:.1}% of all author tags, {:.1}% of eligible ones; junk {:.2}% of {} tags: {:?}",
                s.posts, s.recall_all, s.recall_eligible, s.junk_share, s.extracted, s.junk
            );
            if let Some(out) = args.get(1).filter(|a| !a.starts_with("--")) {
                let mut f = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
                for (p, tags) in posts.iter().zip(&tags) {
                    let ours: Vec<&str> = tags.iter().map(|d| d.display.as_str()).collect();
                    let scores: Vec<f64> = tags.iter().map(|d| d.score).collect();
                    let line = serde_json::json!({"blogger": p.blogger, "title": p.title, "text": p.text, "gold": p.gold_tags, "ours": ours, "scores": scores});
                    writeln!(f, "{line}").unwrap();
                }
            }
            if args.iter().any(|a| a == "--show") {
                for (p, tags) in posts.iter().zip(&tags).step_by(12) {
                    let ours: Vec<String> = tags
                        .iter()
                        .map(|d| format!("{} {:.2}", d.display, d.score))
                        .collect();
                    println!(
                        "{} | {}\n  gold: {:?}\n  ours: {:?}\n",
                        p.blogger, p.title, p.gold_tags, ours
                    );
                }
            }
        }
        _ => eprintln!("usage: keyphrases inspec [PRED.jsonl] [--show] | blogs [--show]"),
    }
}
