//! `kith tag`, `kith rules check` and `kith rules preview`: the tagger and the curator's
//! rules from the shell.

use crate::BadInput;
use crate::cli::{RulesCommand, TagArgs};
use anyhow::Context;
use kith_config::{Config, TagRules};
use kith_tag::{DfTable, PostInput, TagDecision, Tagger};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
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
    // `--top` is honoured as given, above the rules' limit too; 0 asks for nothing.
    if args.top == Some(0) {
        return Err(BadInput("--top must be at least 1".into()).into());
    }
    let top = args.top.unwrap_or(tagger.max_tags());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if !args.jsonl {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| BadInput(format!("cannot read standard input: {e}")))?;
        let text = text_of(&input);
        let mut df = stored_df(config).await?;
        df.add(args.title.as_deref().unwrap_or(""), &text);
        let tags = tagger.tag_top(
            &PostInput {
                title: args.title.as_deref().unwrap_or(""),
                text: &text,
                ..PostInput::default()
            },
            &df,
            top,
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
        let tags = tagger.tag_top(
            &PostInput {
                title: p.title.as_deref().unwrap_or(""),
                text,
                categories: &p.categories,
                ..PostInput::default()
            },
            &df,
            top,
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
    match open_existing_store(config).await? {
        Some(store) => crate::enrich::stored_df(store.as_ref()).await,
        None => Ok(DfTable::new()),
    }
}

/// The store, if one was ever created (commands that only read must not create a SQLite
/// file; a PostgreSQL store is a server that exists by being configured).
async fn open_existing_store(config: &Config) -> anyhow::Result<Option<kith_store::DynStore>> {
    if config.store.url.is_none() && !config.database_path().exists() {
        return Ok(None);
    }
    Ok(Some(crate::open_store(config).await?))
}

pub async fn cmd_rules(config: &Config, cmd: RulesCommand) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Preview {
            rules,
            json,
            examples,
        } => preview(config, &rules, json, examples).await,
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

/// One tag's posts under the current and the proposed rules.
#[derive(Debug, Default)]
struct Tally {
    before: usize,
    after: usize,
    bloggers_before: HashSet<i64>,
    bloggers_after: HashSet<i64>,
    entering: usize,
    leaving: usize,
    entering_examples: Vec<String>,
    leaving_examples: Vec<String>,
}

/// What `kith rules preview --json` prints.
#[derive(Debug, Serialize)]
struct Preview {
    current: String,
    proposed: String,
    posts: usize,
    /// Posts whose set of tags would change.
    posts_changed: usize,
    thresholds: Thresholds,
    /// Tags that are hubs under either rule set, most moved first.
    hubs: Vec<HubChange>,
    /// Tags on no post now and on some post under the proposed rules, most posts first.
    tags_appearing: Vec<TagCount>,
    /// Tags on some post now and on none under the proposed rules.
    tags_vanishing: Vec<TagCount>,
}

#[derive(Debug, Serialize)]
struct Thresholds {
    current: MinSizes,
    proposed: MinSizes,
}

#[derive(Debug, Serialize)]
struct MinSizes {
    min_posts: usize,
    min_bloggers: usize,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum HubStatus {
    /// A hub now and under the proposed rules.
    Stays,
    /// A hub only under the proposed rules.
    Appears,
    /// A hub now only.
    Vanishes,
}

#[derive(Debug, Serialize)]
struct HubChange {
    tag: String,
    status: HubStatus,
    posts_before: usize,
    posts_after: usize,
    bloggers_before: usize,
    bloggers_after: usize,
    /// Posts that would get the tag.
    entering: usize,
    /// Posts that would lose it.
    leaving: usize,
    entering_examples: Vec<String>,
    leaving_examples: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TagCount {
    tag: String,
    posts: usize,
}

fn is_hub(posts: usize, bloggers: usize, t: &kith_config::rules::HubThresholds) -> bool {
    posts > 0 && posts >= t.min_posts && bloggers >= t.min_bloggers
}

/// `kith rules preview --rules NEW.toml`: every stored post tagged under the rules in force
/// and under `proposed` (same document frequencies), compared tag by tag. Nothing is
/// written.
async fn preview(
    config: &Config,
    proposed: &Path,
    json: bool,
    examples: usize,
) -> anyhow::Result<()> {
    let current_rules = load_rules(config, None)?;
    let new_rules = TagRules::from_file(proposed).map_err(|e| BadInput(e.to_string()))?;
    let (old, new) = (tagger(&current_rules)?, tagger(&new_rules)?);
    let Some(store) = open_existing_store(config).await? else {
        return Err(BadInput(format!(
            "no store at {}: nothing to preview the rules on (crawl some blogs first)",
            crate::store_location(config)
        ))
        .into());
    };
    let df = crate::enrich::stored_df(store.as_ref()).await?;
    let store: &dyn kith_store::Store = store.as_ref();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut posts, mut posts_changed) = (0, 0);
    let mut after = None;
    loop {
        let page = store
            .posts_after(after, crate::enrich::STORE_PAGE)
            .await
            .context("reading posts")?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let mut cats = store
            .post_categories(page.iter().map(|p| p.id).collect())
            .await
            .context("reading post categories")?;
        for p in &page {
            posts += 1;
            let c = cats.remove(&p.id).unwrap_or_default();
            let before = crate::enrich::tag_stored_post(&old, p, &c, &df);
            let after = crate::enrich::tag_stored_post(&new, p, &c, &df);
            let names = |d: &[TagDecision]| d.iter().map(|t| t.tag.clone()).collect::<Vec<_>>();
            let (b, a) = (names(&before), names(&after));
            if !kith_tag::diff(&before, &after).is_empty() {
                posts_changed += 1;
            }
            for tag in &b {
                let t = tallies.entry(tag.clone()).or_default();
                t.before += 1;
                t.bloggers_before.insert(p.blog_id.0);
                if !a.contains(tag) {
                    t.leaving += 1;
                    if t.leaving_examples.len() < examples {
                        t.leaving_examples.push(p.title.clone());
                    }
                }
            }
            for tag in &a {
                let t = tallies.entry(tag.clone()).or_default();
                t.after += 1;
                t.bloggers_after.insert(p.blog_id.0);
                if !b.contains(tag) {
                    t.entering += 1;
                    if t.entering_examples.len() < examples {
                        t.entering_examples.push(p.title.clone());
                    }
                }
            }
        }
    }
    let (old_hub, new_hub) = (old.hub_thresholds(), new.hub_thresholds());
    let mut hubs = Vec::new();
    let (mut tags_appearing, mut tags_vanishing) = (Vec::new(), Vec::new());
    for (tag, t) in tallies {
        if t.before == 0 {
            tags_appearing.push(TagCount {
                tag: tag.clone(),
                posts: t.after,
            });
        } else if t.after == 0 {
            tags_vanishing.push(TagCount {
                tag: tag.clone(),
                posts: t.before,
            });
        }
        let was = is_hub(t.before, t.bloggers_before.len(), old_hub);
        let will = is_hub(t.after, t.bloggers_after.len(), new_hub);
        let status = match (was, will) {
            (true, true) => HubStatus::Stays,
            (false, true) => HubStatus::Appears,
            (true, false) => HubStatus::Vanishes,
            (false, false) => continue,
        };
        hubs.push(HubChange {
            tag,
            status,
            posts_before: t.before,
            posts_after: t.after,
            bloggers_before: t.bloggers_before.len(),
            bloggers_after: t.bloggers_after.len(),
            entering: t.entering,
            leaving: t.leaving,
            entering_examples: t.entering_examples,
            leaving_examples: t.leaving_examples,
        });
    }
    hubs.sort_by(|a, b| {
        (b.status != HubStatus::Stays)
            .cmp(&(a.status != HubStatus::Stays))
            .then((b.entering + b.leaving).cmp(&(a.entering + a.leaving)))
            .then(a.tag.cmp(&b.tag))
    });
    let by_posts = |a: &TagCount, b: &TagCount| b.posts.cmp(&a.posts).then(a.tag.cmp(&b.tag));
    tags_appearing.sort_by(by_posts);
    tags_vanishing.sort_by(by_posts);
    let report = Preview {
        current: config
            .tags_file
            .as_deref()
            .map_or_else(|| "built-in rules".to_owned(), |p| p.display().to_string()),
        proposed: proposed.display().to_string(),
        posts,
        posts_changed,
        thresholds: Thresholds {
            current: MinSizes {
                min_posts: old_hub.min_posts,
                min_bloggers: old_hub.min_bloggers,
            },
            proposed: MinSizes {
                min_posts: new_hub.min_posts,
                min_bloggers: new_hub.min_bloggers,
            },
        },
        hubs,
        tags_appearing,
        tags_vanishing,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        print_preview(&mut out, &report)
    };
    // `kith rules preview | head` closing the pipe early is not an error.
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Hubs listed in the human report (most moved first); `--json` has them all.
const LISTED_HUBS: usize = 30;

/// Tags listed by name in the human report before "... and N more".
const LISTED_TAGS: usize = 20;

fn print_preview(out: &mut impl Write, r: &Preview) -> std::io::Result<()> {
    writeln!(
        out,
        "Preview of {} (now: {}) over {} stored posts: {} would change tags.",
        r.proposed, r.current, r.posts, r.posts_changed
    )?;
    let (c, p) = (&r.thresholds.current, &r.thresholds.proposed);
    if (c.min_posts, c.min_bloggers) == (p.min_posts, p.min_bloggers) {
        writeln!(
            out,
            "A hub needs {} posts from {} bloggers.",
            c.min_posts, c.min_bloggers
        )?;
    } else {
        writeln!(
            out,
            "A hub needs {} posts from {} bloggers (now {} from {}).",
            p.min_posts, p.min_bloggers, c.min_posts, c.min_bloggers
        )?;
    }
    let count = |s: HubStatus| r.hubs.iter().filter(|h| h.status == s).count();
    let moved: Vec<&HubChange> = r
        .hubs
        .iter()
        .filter(|h| h.status != HubStatus::Stays || h.entering + h.leaving > 0)
        .collect();
    writeln!(
        out,
        "\nHubs: {} now, {} after ({} appear, {} vanish, {} unchanged).",
        r.hubs.len() - count(HubStatus::Appears),
        r.hubs.len() - count(HubStatus::Vanishes),
        count(HubStatus::Appears),
        count(HubStatus::Vanishes),
        r.hubs.len() - moved.len(),
    )?;
    for h in moved.iter().take(LISTED_HUBS) {
        let status = match h.status {
            HubStatus::Stays => "",
            HubStatus::Appears => "  (new hub)",
            HubStatus::Vanishes => "  (no longer a hub)",
        };
        writeln!(
            out,
            "  {:<28} {:>5} -> {:<5} posts  +{} -{}  bloggers {} -> {}{status}",
            h.tag,
            h.posts_before,
            h.posts_after,
            h.entering,
            h.leaving,
            h.bloggers_before,
            h.bloggers_after
        )?;
        for (label, titles) in [
            ("enter", &h.entering_examples),
            ("leave", &h.leaving_examples),
        ] {
            if !titles.is_empty() {
                let quoted: Vec<String> = titles.iter().map(|t| format!("{t:?}")).collect();
                writeln!(out, "      {label}: {}", quoted.join(", "))?;
            }
        }
    }
    if moved.len() > LISTED_HUBS {
        writeln!(
            out,
            "  ... and {} more hubs with smaller moves (--json lists them all)",
            moved.len() - LISTED_HUBS
        )?;
    }
    for (label, list) in [("appear", &r.tags_appearing), ("vanish", &r.tags_vanishing)] {
        if list.is_empty() {
            writeln!(out, "\nNo tags {label}.")?;
            continue;
        }
        let shown: Vec<String> = list
            .iter()
            .take(LISTED_TAGS)
            .map(|t| format!("{} ({})", t.tag, t.posts))
            .collect();
        let more = list.len().saturating_sub(LISTED_TAGS);
        writeln!(
            out,
            "\nTags that {label} ({}): {}{}",
            list.len(),
            shown.join(", "),
            if more > 0 {
                format!(", ... and {more} more")
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}
