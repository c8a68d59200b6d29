//! `tags.toml`: the curator's tag rules.
//!
//! This module parses and validates the file; the tagger gives the rules their meaning.
//! Errors point at the line of the offending rule.

use crate::{Error, Result};
use kith_model::normalize_tag;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::Spanned;

pub const DEFAULT_MIN_POSTS: usize = 5;
pub const DEFAULT_MIN_BLOGGERS: usize = 3;
pub const DEFAULT_MAX_TAGS_PER_POST: usize = 8;
/// Tags that mean nothing about a post, on by default (`stop_tags_replace_defaults` turns
/// them off).
pub const DEFAULT_STOP_TAGS: &[&str] = &[
    "uncategorized",
    "uncategorised",
    "general",
    "misc",
    "miscellaneous",
    "blog",
    "post",
    "posts",
    "news",
    "update",
    "updates",
    "other",
    "random",
];

/// The curator's rules, as written in `tags.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRules {
    #[serde(default)]
    pub hubs: HubThresholds,
    #[serde(default)]
    pub limits: Limits,
    /// Tags that never appear on a post.
    #[serde(default)]
    pub stop_tags: Vec<Spanned<String>>,
    /// When true, [`DEFAULT_STOP_TAGS`] are not applied.
    #[serde(default)]
    pub stop_tags_replace_defaults: bool,
    /// `canonical = ["variant", ...]`: variants are read as the canonical tag.
    #[serde(default)]
    pub aliases: BTreeMap<String, Spanned<Vec<String>>>,
    /// Retire a tag into another: `from` is rewritten to `into` everywhere.
    #[serde(default, rename = "merge")]
    pub merges: Vec<Spanned<Merge>>,
    /// Literal phrases that add a tag when they occur.
    #[serde(default, rename = "phrase")]
    pub phrases: Vec<Spanned<PhraseRule>>,
    /// Regular expressions that add a tag when they match.
    #[serde(default, rename = "regex")]
    pub regexes: Vec<Spanned<RegexRule>>,
    /// Never tag `tag` when the post also has `when`.
    #[serde(default, rename = "exclude")]
    pub exclusions: Vec<Spanned<Exclusion>>,
    /// Per-blog overrides, keyed by the blog's homepage or feed URL.
    #[serde(default)]
    pub blogs: BTreeMap<String, Spanned<BlogOverride>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubThresholds {
    /// Posts a tag needs before it becomes a hub.
    pub min_posts: usize,
    /// Distinct bloggers a tag needs before it becomes a hub.
    pub min_bloggers: usize,
}

impl Default for HubThresholds {
    fn default() -> Self {
        Self {
            min_posts: DEFAULT_MIN_POSTS,
            min_bloggers: DEFAULT_MIN_BLOGGERS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most tags kept on one post, best first.
    pub max_tags_per_post: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tags_per_post: DEFAULT_MAX_TAGS_PER_POST,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    pub from: String,
    pub into: String,
}

/// Where a phrase or regex rule looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchScope {
    /// Title and text.
    #[default]
    Any,
    Title,
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseRule {
    /// The phrase, matched case-insensitively on word boundaries.
    pub phrase: String,
    pub tag: String,
    #[serde(default)]
    pub scope: MatchScope,
    /// Only for these blogs (homepage or feed URLs); empty means every blog.
    #[serde(default)]
    pub blogs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexRule {
    pub pattern: String,
    pub tag: String,
    #[serde(default)]
    pub scope: MatchScope,
    #[serde(default)]
    pub blogs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub tag: String,
    pub when: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlogOverride {
    /// The blog's own category -> the tag Kith uses for it.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Tags added to every post of this blog.
    #[serde(default)]
    pub add: Vec<String>,
    /// Tags removed from every post of this blog.
    #[serde(default)]
    pub drop: Vec<String>,
}

impl TagRules {
    /// Reads and validates a rules file.
    pub fn from_file(path: &Path) -> Result<TagRules> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates rules text; `path` only labels errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<TagRules> {
        let rules: TagRules = toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_owned(),
            message: describe_toml_error(text, &e),
        })?;
        rules.validate(text, path)?;
        Ok(rules)
    }

    /// Stop-tags in force, normalised: the defaults (unless replaced) plus the file's.
    pub fn effective_stop_tags(&self) -> Vec<String> {
        let defaults = if self.stop_tags_replace_defaults {
            &[][..]
        } else {
            DEFAULT_STOP_TAGS
        };
        let mut out: Vec<String> = defaults
            .iter()
            .map(|s| (*s).to_owned())
            .chain(
                self.stop_tags
                    .iter()
                    .filter_map(|s| normalize_tag(s.get_ref())),
            )
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn validate(&self, text: &str, path: &Path) -> Result<()> {
        let err = |span: std::ops::Range<usize>, rule: String, reason: String| Error::Rule {
            path: path.to_owned(),
            line: line_of(text, span.start),
            rule,
            reason,
        };
        let tag = |raw: &str, span: &std::ops::Range<usize>, rule: &str| {
            normalize_tag(raw).ok_or_else(|| {
                err(
                    span.clone(),
                    rule.to_owned(),
                    format!("{raw:?} is not a usable tag (nothing left after normalising)"),
                )
            })
        };
        if self.hubs.min_posts == 0 || self.hubs.min_bloggers == 0 {
            return Err(Error::Invalid {
                path: path.to_owned(),
                key: "hubs".into(),
                reason: "min_posts and min_bloggers must be at least 1".into(),
            });
        }
        if self.hubs.min_bloggers > self.hubs.min_posts {
            return Err(Error::Invalid {
                path: path.to_owned(),
                key: "hubs.min_bloggers".into(),
                reason: format!(
                    "({}) cannot exceed hubs.min_posts ({}): every blogger brings at least one post",
                    self.hubs.min_bloggers, self.hubs.min_posts
                ),
            });
        }
        if !(1..=64).contains(&self.limits.max_tags_per_post) {
            return Err(Error::Invalid {
                path: path.to_owned(),
                key: "limits.max_tags_per_post".into(),
                reason: "must be between 1 and 64".into(),
            });
        }
        let stop: Vec<String> = self.effective_stop_tags();
        for s in &self.stop_tags {
            tag(s.get_ref(), &s.span(), "stop_tags")?;
        }

        // Aliases: each variant belongs to one canonical tag, and a canonical tag is not
        // itself a variant (that would make the outcome depend on rule order).
        let mut variant_of: HashMap<String, String> = HashMap::new();
        for (canonical, variants) in &self.aliases {
            let rule = format!("aliases.{canonical}");
            let canon = tag(canonical, &variants.span(), &rule)?;
            for v in variants.get_ref() {
                let vn = tag(v, &variants.span(), &rule)?;
                if vn == canon {
                    continue;
                }
                if let Some(prev) = variant_of.insert(vn.clone(), canon.clone())
                    && prev != canon
                {
                    return Err(err(
                        variants.span(),
                        rule,
                        format!("{v:?} is already an alias of {prev:?}"),
                    ));
                }
            }
        }
        for (canonical, variants) in &self.aliases {
            if let Some(canon) = normalize_tag(canonical)
                && let Some(other) = variant_of.get(&canon)
            {
                return Err(err(
                    variants.span(),
                    format!("aliases.{canonical}"),
                    format!(
                        "{canonical:?} is itself listed as an alias of {other:?}; aliases do not chain"
                    ),
                ));
            }
        }

        // Merges: no cycles and no chains, so that a merge can never be undone by a later one.
        let mut merged: HashMap<String, String> = HashMap::new();
        for m in &self.merges {
            let rule = format!("merge {} -> {}", m.get_ref().from, m.get_ref().into);
            let from = tag(&m.get_ref().from, &m.span(), &rule)?;
            let into = tag(&m.get_ref().into, &m.span(), &rule)?;
            if from == into {
                return Err(err(m.span(), rule, "merges a tag into itself".into()));
            }
            if stop.contains(&into) {
                return Err(err(m.span(), rule, format!("{into:?} is a stop-tag")));
            }
            if let Some(prev) = merged.insert(from.clone(), into.clone()) {
                return Err(err(
                    m.span(),
                    rule,
                    format!("{from:?} is already merged into {prev:?}"),
                ));
            }
        }
        for m in &self.merges {
            let rule = format!("merge {} -> {}", m.get_ref().from, m.get_ref().into);
            if let Some(into) = normalize_tag(&m.get_ref().into)
                && let Some(next) = merged.get(&into)
            {
                return Err(err(
                    m.span(),
                    rule,
                    format!(
                        "{into:?} is itself merged into {next:?}; merge straight into the final tag"
                    ),
                ));
            }
        }

        for p in &self.phrases {
            let rule = format!("phrase {:?}", p.get_ref().phrase);
            if p.get_ref().phrase.trim().is_empty() {
                return Err(err(p.span(), rule, "the phrase is empty".into()));
            }
            tag(&p.get_ref().tag, &p.span(), &rule)?;
            check_blog_urls(&p.get_ref().blogs, |reason| {
                err(p.span(), rule.clone(), reason)
            })?;
        }
        for r in &self.regexes {
            let rule = format!("regex {:?}", r.get_ref().pattern);
            if let Err(e) = regex::RegexBuilder::new(&r.get_ref().pattern)
                .size_limit(1 << 20)
                .build()
            {
                return Err(err(r.span(), rule, format!("does not compile: {e}")));
            }
            tag(&r.get_ref().tag, &r.span(), &rule)?;
            check_blog_urls(&r.get_ref().blogs, |reason| {
                err(r.span(), rule.clone(), reason)
            })?;
        }
        for x in &self.exclusions {
            let rule = format!("exclude {} when {}", x.get_ref().tag, x.get_ref().when);
            let a = tag(&x.get_ref().tag, &x.span(), &rule)?;
            let b = tag(&x.get_ref().when, &x.span(), &rule)?;
            if a == b {
                return Err(err(x.span(), rule, "a tag cannot exclude itself".into()));
            }
        }
        for (blog, o) in &self.blogs {
            let rule = format!("blogs.{blog:?}");
            check_blog_urls(std::slice::from_ref(blog), |reason| {
                err(o.span(), rule.clone(), reason)
            })?;
            for t in o
                .get_ref()
                .map
                .values()
                .chain(&o.get_ref().add)
                .chain(&o.get_ref().drop)
            {
                tag(t, &o.span(), &rule)?;
            }
        }
        Ok(())
    }
}

fn check_blog_urls(urls: &[String], err: impl Fn(String) -> Error) -> Result<()> {
    for u in urls {
        kith_model::normalize_url(u).map_err(|e| err(format!("blog {e}")))?;
    }
    Ok(())
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |t| t.lines().count().max(1))
        + usize::from(text.get(..offset).is_some_and(|t| t.ends_with('\n')))
}

/// The TOML parser's message with the line number up front.
pub(crate) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            // Quote the line: the parser's message alone ("invalid type: string") does not
            // say which key it is about.
            let source = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line} (`{source}`): {}", e.message())
        }
        None => e.message().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parse(text: &str) -> Result<TagRules> {
        TagRules::from_toml(text, Path::new("tags.toml"))
    }

    fn rule_error(text: &str) -> (usize, String) {
        match parse(text) {
            Err(Error::Rule {
                line, reason, rule, ..
            }) => (line, format!("{rule}: {reason}")),
            other => panic!("expected a rule error, got {other:?}"),
        }
    }

    #[test]
    fn empty_file_gives_defaults() {
        let r = parse("").unwrap();
        assert_eq!(r.hubs, HubThresholds::default());
        assert!(
            r.effective_stop_tags()
                .contains(&"uncategorized".to_string())
        );
    }

    #[test]
    fn line_numbers_count_from_one() {
        assert_eq!(line_of("abc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a\n", 2), 2);
    }

    #[test]
    fn bad_regex_names_line_and_rule() {
        let text = "[[regex]]\npattern = \"k8s\"\ntag = \"kubernetes\"\n\n[[regex]]\npattern = \"(unclosed\"\ntag = \"x\"\n";
        let (line, msg) = rule_error(text);
        assert!((5..=7).contains(&line), "line {line}: {msg}");
        assert!(
            msg.contains("(unclosed") && msg.contains("does not compile"),
            "{msg}"
        );
    }

    #[test]
    fn alias_conflicts_and_chains_are_refused() {
        let (_, msg) = rule_error("[aliases]\nrust = [\"rs\"]\ngo = [\"rs\"]\n");
        assert!(msg.contains("already an alias"), "{msg}");
        let (line, msg) = rule_error("[aliases]\nrust = [\"rustlang\"]\nrustlang = [\"rl\"]\n");
        assert!(msg.contains("do not chain"), "{msg}");
        assert!(line == 2 || line == 3, "{line}");
    }

    #[test]
    fn merges_cannot_chain_or_loop() {
        let (_, msg) = rule_error(
            "[[merge]]\nfrom = \"a\"\ninto = \"b\"\n[[merge]]\nfrom = \"b\"\ninto = \"a\"\n",
        );
        assert!(msg.contains("merge straight into"), "{msg}");
        let (_, msg) = rule_error("[[merge]]\nfrom = \"a\"\ninto = \"a\"\n");
        assert!(msg.contains("into itself"), "{msg}");
        let (_, msg) = rule_error("[[merge]]\nfrom = \"a\"\ninto = \"misc\"\n");
        assert!(msg.contains("stop-tag"), "{msg}");
    }

    #[test]
    fn unknown_keys_and_scopes_are_named() {
        let err = parse("[[phrase]]\nphrase = \"x\"\ntag = \"y\"\nscop = \"title\"\n").unwrap_err();
        assert!(err.to_string().contains("scop"), "{err}");
        let err = parse("[[phrase]]\nphrase = \"x\"\ntag = \"y\"\nscope = \"body\"\n").unwrap_err();
        assert!(err.to_string().contains("body"), "{err}");
    }

    #[test]
    fn thresholds_and_blog_urls_are_checked() {
        let err = parse("[hubs]\nmin_posts = 2\nmin_bloggers = 3\n").unwrap_err();
        assert!(err.to_string().contains("hubs.min_bloggers"), "{err}");
        let (_, msg) = rule_error("[blogs.\"not a url\"]\nadd = [\"x\"]\n");
        assert!(msg.contains("not a url"), "{msg}");
        let (_, msg) = rule_error("[[exclude]]\ntag = \"java\"\nwhen = \"Java\"\n");
        assert!(msg.contains("exclude itself"), "{msg}");
    }
}
