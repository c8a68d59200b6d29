//! `kith retag`: the rules in force applied to every stored post, in checkpointed batches.
//!
//! Two passes over the store, both page by page: the first counts document frequencies
//! (as ingestion would see them), the second tags each page and hands it to
//! [`Store::replace_post_tags_batch`](kith_store::Store::replace_post_tags_batch), which
//! replaces the tags and moves the checkpoint in one transaction. A killed run resumes
//! after the last committed batch, unless the rules file changed since (its fingerprint is
//! in the checkpoint) or `--restart` is given.

use crate::App;
use crate::cli::RetagArgs;
use crate::enrich::{stored_df, tag_stored_post, to_new_tags};
use anyhow::Context;
use kith_config::Config;
use kith_model::PostId;
use kith_store::{RetagPost, RetagProgress, RetagStats};
use kith_tag::Tagger;
use serde::Serialize;
use std::io::IsTerminal;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Posts tagged and written per transaction (and per checkpoint).
pub const BATCH: usize = 500;

/// Identifies the rules a run applies: the rules file's bytes (or "built-in") and this
/// kith's version (the tagger itself may change between versions).
pub fn rules_fingerprint(config: &Config) -> anyhow::Result<String> {
    let text = match &config.tags_file {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| crate::BadInput(format!("cannot read {}: {e}", p.display())))?,
        None => "built-in rules".to_owned(),
    };
    Ok(kith_model::content_hash(
        &format!("kith {} tag rules", env!("CARGO_PKG_VERSION")),
        &text,
    ))
}

/// What `kith retag --json` prints.
#[derive(Debug, Serialize)]
struct Summary {
    #[serde(flatten)]
    stats: RetagStats,
    /// The run went on from a checkpoint after this post.
    resumed_after: Option<PostId>,
    /// Stopped by Ctrl-C before the end (run again to resume).
    interrupted: bool,
    elapsed_ms: u128,
}

fn progress_bar(total: u64, done: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} re-tagging [{bar:30}] {pos}/{len} posts, {per_sec}, eta {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_position(done);
    bar
}

pub async fn cmd_retag(
    app: App,
    args: RetagArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let rules = crate::tagcmd::load_rules(&app.config, None)?;
    let tagger = Arc::new(
        Tagger::new(&rules)
            .map_err(|e| crate::BadInput(format!("the tag rules cannot be used: {e}")))?,
    );
    let fingerprint = rules_fingerprint(&app.config)?;
    let store = &app.store;
    if args.restart {
        store.clear_retag_checkpoint().await?;
    }
    let checkpoint = store.retag_checkpoint().await?;
    let resume = match checkpoint {
        Some(c) if c.fingerprint == fingerprint => Some(c),
        Some(c) => {
            eprintln!(
                "The rules changed since the interrupted re-tag (stopped after post #{}); starting over.",
                c.last_post
            );
            None
        }
        None => None,
    };
    if let Some(c) = &resume {
        eprintln!(
            "Resuming the re-tag started {} after post #{} ({} posts done).",
            c.started_at.format("%Y-%m-%d %H:%M UTC"),
            c.last_post,
            c.totals.checked
        );
    }
    let total = store.counts().await?.posts;
    let df = Arc::new(stored_df(store.as_ref()).await?);
    let bar = progress_bar(total, resume.as_ref().map_or(0, |c| c.totals.checked));
    let resumed_after = resume.as_ref().map(|c| c.last_post);
    let mut after = resumed_after;
    let mut totals = resume.map(|c| c.totals).unwrap_or_default();
    let mut interrupted = false;
    loop {
        if shutdown.is_cancelled() {
            interrupted = true;
            break;
        }
        let page = store
            .posts_after(after, args.batch)
            .await
            .context("reading posts")?;
        let done = page.len() < args.batch;
        let Some(last) = page.last().map(|p| p.id).or(after) else {
            // Nothing stored at all.
            break;
        };
        let categories = store
            .post_categories(page.iter().map(|p| p.id).collect())
            .await?;
        let (t, d) = (Arc::clone(&tagger), Arc::clone(&df));
        let batch = tokio::task::spawn_blocking(move || {
            page.iter()
                .map(|p| {
                    let cats = categories.get(&p.id).map_or(&[][..], Vec::as_slice);
                    RetagPost {
                        post: p.id,
                        content_hash: kith_model::content_hash(&p.title, &p.text),
                        tags: to_new_tags(tag_stored_post(&t, p, cats, &*d)),
                    }
                })
                .collect::<Vec<_>>()
        })
        .await
        .context("tagging a batch")?;
        let n = batch.len() as u64;
        totals = store
            .replace_post_tags_batch(
                batch,
                RetagProgress {
                    fingerprint: fingerprint.clone(),
                    last_post: last,
                    done,
                },
            )
            .await
            .context("storing a batch of tags")?;
        bar.inc(n);
        after = Some(last);
        if done {
            break;
        }
    }
    bar.finish_and_clear();
    let summary = Summary {
        stats: totals,
        resumed_after,
        interrupted,
        elapsed_ms: started.elapsed().as_millis(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        let s = &summary.stats;
        println!(
            "re-tagged {} posts in {:.1} s: {} changed ({} tags added, {} removed), {} rewritten with new scores or reasons only, {} skipped (edited or removed meanwhile){}",
            s.checked,
            started.elapsed().as_secs_f64(),
            s.changed,
            s.tags_added,
            s.tags_removed,
            s.rewritten - s.changed,
            s.skipped,
            match (interrupted, resumed_after) {
                (true, _) => "; interrupted: run `kith retag` again to resume".to_owned(),
                (false, Some(p)) => format!("; resumed after post #{p}"),
                (false, None) => String::new(),
            }
        );
    }
    Ok(())
}
