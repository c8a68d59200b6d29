//! `kith tag` and `kith rules check`: the tagger and the curator's rules from the shell.

use crate::BadInput;
use crate::cli::{RulesCommand, TagArgs};
use anyhow::Context;
use kith_config::{Config, TagRules};
use kith_tag::{DfTable, PostInput, TagDecision, Tagger};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};
use std::path::Path;

/// The rules in force: the file named by `tags_file` (or `--rules`), else the defaults.
pub fn load_rules(config: &Config, path: Option<&Path>) -> Result<TagRules, BadInput> {
    match path.or(config.tags_file.as_deref()) {
        Some(p) => TagRules::from_file(p).map_err(|e| BadInput(e.to_string())),
        None => Ok(TagRules::default()),
    }
}

fn tagger(rules: &TagRules) -> Result<Tagger, BadInput> {
    Tagger::new(rules).map_err(|e| BadInput(format!("the tag rules cannot be used: {e}")))
}

/// Plain text of an input that may be HTML.
fn text_of(input: &str) -> String {
    let looks_html = input.contains("</") || input.contains("<p") || input.contains("<br");
    if looks_html {
        kith_crawl::sanitize::html_to_text(&kith_crawl::sanitize::Sanitizer::new(None).clean(input))
    } else {
        input.to_owned()
    }
}

/// One line of `kith tag --jsonl` input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPost {
    id: serde_json::Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
}

#[derive(Debug, Serialize)]
struct JsonTags<'a> {
    id: &'a serde_json::Value,
    tags: Vec<JsonTag<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonTag<'a> {
    tag: &'a str,
    source: kith_model::TagSource,
    score: f64,
    reason: &'a str,
}

fn json_tags(tags: &[TagDecision]) -> Vec<JsonTag<'_>> {
    tags.iter()
        .map(|t| JsonTag {
            tag: &t.tag,
            source: t.source,
            score: (t.score * 1000.0).round() / 1000.0,
            reason: &t.reason,
        })
        .collect()
}

pub async fn cmd_tag(config: &Config, args: TagArgs) -> anyhow::Result<()> {
    let rules = load_rules(config, args.rules.as_deref())?;
    let tagger = tagger(&rules)?;
    let top = args.top.unwrap_or(tagger.max_tags()).max(1);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if !args.jsonl {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| BadInput(format!("cannot read standard input: {e}")))?;
        let text = text_of(&input);
        let mut df = stored_df(config).await?;
        df.add(args.title.as_deref().unwrap_or(""), &text);
        let tags = tagger.tag(
            &PostInput {
                title: args.title.as_deref().unwrap_or(""),
                text: &text,
                ..PostInput::default()
            },
            &df,
        );
        for t in tags.iter().take(top) {
            writeln!(
                out,
                "{:<24} {:<9} {:>5.3}  {}",
                t.tag, t.source, t.score, t.reason
            )?;
        }
        return Ok(out.flush()?);
    }
    // Read the whole batch first: its document frequencies make a word that every post
    // uses a poor tag.
    let mut posts = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| BadInput(format!("cannot read standard input: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let p: JsonPost = serde_json::from_str(&line).map_err(|e| {
            BadInput(format!(
                "line {}: not a post ({e}); expected {{\"id\", \"title\"?, \"text\" or \"html\"}}",
                n + 1
            ))
        })?;
        let text = match (&p.text, &p.html) {
            (Some(t), _) => t.clone(),
            (None, Some(h)) => text_of(h),
            (None, None) => {
                return Err(
                    BadInput(format!("line {}: a post needs \"text\" or \"html\"", n + 1)).into(),
                );
            }
        };
        posts.push((p, text));
    }
    let mut df = stored_df(config).await?;
    for (p, text) in &posts {
        df.add(p.title.as_deref().unwrap_or(""), text);
    }
    for (p, text) in &posts {
        let tags = tagger.tag(
            &PostInput {
                title: p.title.as_deref().unwrap_or(""),
                text,
                categories: &p.categories,
                ..PostInput::default()
            },
            &df,
        );
        let shown = &tags[..tags.len().min(top)];
        serde_json::to_writer(
            &mut out,
            &JsonTags {
                id: &p.id,
                tags: json_tags(shown),
            },
        )?;
        writeln!(out)?;
    }
    Ok(out.flush()?)
}

/// Document frequencies of the posts already stored, when there is a store.
async fn stored_df(config: &Config) -> anyhow::Result<DfTable> {
    let mut df = DfTable::new();
    if !config.database_path().exists() {
        return Ok(df);
    }
    let store = kith_store::SqliteStore::open(config.database_path())
        .await
        .context("cannot open the store for document frequencies")?;
    let store: &dyn kith_store::Store = &store;
    let mut after = None;
    while let Some(last) = {
        let page = store.posts_after(after, 1000).await?;
        for p in &page {
            df.add(&p.title, &p.text);
        }
        page.last().map(|p| p.id)
    } {
        after = Some(last);
    }
    Ok(df)
}

pub fn cmd_rules(config: &Config, cmd: RulesCommand) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Check { rules } => {
            let path = rules.as_deref().or(config.tags_file.as_deref());
            let loaded = load_rules(config, path)?;
            tagger(&loaded)?;
            println!(
                "{}: ok ({} aliases, {} merges, {} stop-tags, {} phrase rules, {} regex rules, {} exclusions, {} blog overrides; hubs need {} posts from {} bloggers)",
                path.map_or_else(|| "built-in rules".to_owned(), |p| p.display().to_string()),
                loaded.aliases.len(),
                loaded.merges.len(),
                loaded.effective_stop_tags().len(),
                loaded.phrases.len(),
                loaded.regexes.len(),
                loaded.exclusions.len(),
                loaded.blogs.len(),
                loaded.hubs.min_posts,
                loaded.hubs.min_bloggers,
            );
            Ok(())
        }
    }
}
