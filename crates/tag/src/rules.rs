//! The curator's rules ([`kith_config::TagRules`]) compiled once: tag resolution through
//! aliases and merges, stop-tags, phrase rules (one Aho-Corasick automaton), regex rules,
//! exclusions and per-blog overrides.
//!
//! Semantics, all on match keys (see [`crate::match_key`]):
//! - **aliases and merges resolve to a fixed point**: a tag follows alias and merge links
//!   until it reaches a tag that is neither a variant nor retired. A loop through both kinds
//!   (`x` alias of `y`, `y` merged into `x`) is refused by [`Rules::new`], so resolution is
//!   idempotent and a merged-away tag never comes back.
//! - **stop-tags always win**: a tag is dropped when it, or what it resolves to, is a
//!   stop-tag, whatever rule produced it.
//! - **exclusions** ("never `tag` when `when`") compare resolved tags among those a post
//!   keeps.

use crate::error::{Error, Result};
use crate::normalize::{fold_into, match_key, normalize};
use aho_corasick::{AhoCorasick, MatchKind};
use kith_config::TagRules;
use kith_config::rules::{HubThresholds, MatchScope};
use regex::{Regex, RegexBuilder};
use rustc_hash::{FxHashMap, FxHashSet};

/// A tag as the rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Match key of the tag before the rules rewrote it (a stop-tag there wins too).
    pub raw_key: String,
    /// Normal form.
    pub normal: String,
    /// Match key of `normal`.
    pub key: String,
    /// How the rules rewrote it (`alias of rust`, `merged into go`), empty when they did not.
    pub via: String,
    /// The surface form the rules wrote, when they rewrote it.
    pub display: Option<String>,
}

/// A phrase or regex rule, compiled.
#[derive(Debug)]
pub(crate) struct TextRule {
    pub tag: Resolved,
    pub scope: MatchScope,
    /// Identity keys of the blogs it is for; empty for every blog.
    pub blogs: Vec<String>,
    /// `phrase "borrow checker"` or `regex "..."`.
    pub label: String,
}

#[derive(Debug, Default)]
pub(crate) struct BlogRules {
    /// The blog's URL as the file wrote it, for reasons.
    pub url: String,
    /// Match key of the blog's own category -> the tag it becomes.
    pub map: FxHashMap<String, Resolved>,
    pub add: Vec<Resolved>,
    /// Match keys of resolved tags removed from this blog's posts.
    pub drop: FxHashSet<String>,
}

#[derive(Debug)]
pub(crate) struct Rules {
    pub max_tags: usize,
    pub hubs: HubThresholds,
    stop: FxHashSet<String>,
    /// Match key -> the final tag and how it got there.
    links: FxHashMap<String, Resolved>,
    pub phrases: Vec<TextRule>,
    phrase_matcher: Option<AhoCorasick>,
    /// Every phrase is ASCII: the matcher ignores ASCII case and needs no folded text.
    pub phrases_ascii: bool,
    pub regexes: Vec<(Regex, TextRule)>,
    /// (excluded tag key, when tag key, the rule as written).
    pub exclusions: Vec<(String, String, String)>,
    /// Identity key of the blog URL -> its overrides.
    pub blogs: FxHashMap<String, BlogRules>,
}

/// The match key of a tag's normal form, or an error naming the rule.
fn tag_of(raw: &str, rule: &str) -> Result<(String, String)> {
    let normal = normalize(raw).ok_or_else(|| Error::BadTag {
        rule: rule.to_owned(),
        value: raw.to_owned(),
    })?;
    let key = match_key(&normal);
    Ok((normal, key))
}

/// The identity key of a blog URL (`example.com/blog`), the form rules and posts compare.
pub(crate) fn blog_key(url: &str) -> Option<String> {
    kith_model::normalize_url(url)
        .ok()
        .map(|u| kith_model::identity_key(&u))
}

impl Rules {
    pub fn new(r: &TagRules) -> Result<Rules> {
        let mut stop = FxHashSet::default();
        for s in r.effective_stop_tags() {
            if let Some(n) = normalize(&s) {
                stop.insert(match_key(&n));
            }
        }

        // One link per variant or retired tag: key -> (target normal, target display, why).
        let mut step: FxHashMap<String, (String, String, String)> = FxHashMap::default();
        for (canonical, variants) in &r.aliases {
            let rule = format!("aliases.{canonical}");
            let (cn, ck) = tag_of(canonical, &rule)?;
            for v in variants.get_ref() {
                let (_, vk) = tag_of(v, &rule)?;
                if vk != ck {
                    step.insert(
                        vk,
                        (
                            cn.clone(),
                            canonical.trim().to_owned(),
                            format!("alias of {cn}"),
                        ),
                    );
                }
            }
        }
        for m in &r.merges {
            let m = m.get_ref();
            let rule = format!("merge {} -> {}", m.from, m.into);
            let (_, fk) = tag_of(&m.from, &rule)?;
            let (inn, ik) = tag_of(&m.into, &rule)?;
            if fk != ik {
                // A merge outranks an alias of the same tag: it is the later, stronger word.
                step.insert(
                    fk,
                    (
                        inn.clone(),
                        m.into.trim().to_owned(),
                        format!("merged into {inn}"),
                    ),
                );
            }
        }
        let mut links = FxHashMap::default();
        for start in step.keys() {
            let mut key = start.clone();
            let mut seen = vec![key.clone()];
            let mut via = Vec::new();
            let mut last = None;
            while let Some((normal, display, why)) = step.get(&key) {
                via.push(why.clone());
                let next = match_key(normal);
                if seen.contains(&next) {
                    seen.push(next);
                    return Err(Error::Cycle {
                        chain: seen.join(" -> "),
                    });
                }
                seen.push(next.clone());
                last = Some((normal.clone(), display.clone()));
                key = next;
            }
            if let Some((normal, display)) = last {
                links.insert(
                    start.clone(),
                    Resolved {
                        raw_key: start.clone(),
                        key: match_key(&normal),
                        normal,
                        via: via.join(", then "),
                        display: Some(display),
                    },
                );
            }
        }

        let mut rules = Rules {
            max_tags: r.limits.max_tags_per_post.max(1),
            hubs: r.hubs.clone(),
            stop,
            links,
            phrases: Vec::new(),
            phrase_matcher: None,
            phrases_ascii: true,
            regexes: Vec::new(),
            exclusions: Vec::new(),
            blogs: FxHashMap::default(),
        };

        let mut patterns = Vec::new();
        for p in &r.phrases {
            let p = p.get_ref();
            let label = format!("phrase {:?}", p.phrase.trim());
            let tag = rules.resolve_raw(&p.tag, &label)?;
            patterns.push(fold_phrase(&p.phrase));
            rules.phrases.push(TextRule {
                tag,
                scope: p.scope,
                blogs: blog_keys(&p.blogs, &label)?,
                label,
            });
        }
        if !patterns.is_empty() {
            // Plain ASCII phrases (the usual case) match the text as it is, case-insensitively;
            // others match the text folded like them.
            rules.phrases_ascii = patterns.iter().all(|p| p.is_ascii());
            rules.phrase_matcher = Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(rules.phrases_ascii)
                    .build(&patterns)
                    .map_err(|e| Error::Phrases(e.to_string()))?,
            );
        }
        for x in &r.regexes {
            let x = x.get_ref();
            let label = format!("regex {:?}", x.pattern);
            let re = RegexBuilder::new(&x.pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|source| Error::Regex {
                    pattern: x.pattern.clone(),
                    source,
                })?;
            let tag = rules.resolve_raw(&x.tag, &label)?;
            let blogs = blog_keys(&x.blogs, &label)?;
            rules.regexes.push((
                re,
                TextRule {
                    tag,
                    scope: x.scope,
                    blogs,
                    label,
                },
            ));
        }
        for x in &r.exclusions {
            let x = x.get_ref();
            let label = format!("exclude {} when {}", x.tag, x.when);
            let a = rules.resolve_raw(&x.tag, &label)?;
            let b = rules.resolve_raw(&x.when, &label)?;
            rules.exclusions.push((a.key, b.key, label));
        }
        for (url, o) in &r.blogs {
            let o = o.get_ref();
            let label = format!("blogs.{url:?}");
            let key = blog_key(url).ok_or_else(|| Error::BlogUrl {
                url: url.clone(),
                reason: "not an http(s) URL".into(),
            })?;
            let mut b = BlogRules {
                url: url.clone(),
                ..BlogRules::default()
            };
            for (category, tag) in &o.map {
                let Some(cn) = normalize(category) else {
                    continue;
                };
                b.map
                    .insert(match_key(&cn), rules.resolve_raw(tag, &label)?);
            }
            for t in &o.add {
                b.add.push(rules.resolve_raw(t, &label)?);
            }
            for t in &o.drop {
                b.drop.insert(rules.resolve_raw(t, &label)?.key);
            }
            rules.blogs.insert(key, b);
        }
        Ok(rules)
    }

    /// Resolves a tag written in the rules file.
    fn resolve_raw(&self, raw: &str, rule: &str) -> Result<Resolved> {
        let (normal, _) = tag_of(raw, rule)?;
        let mut r = self.resolve(&normal);
        if r.display.is_none() {
            r.display = Some(raw.trim().to_owned());
        }
        Ok(r)
    }

    /// A normal-form tag as the rules read it: through aliases and merges.
    pub fn resolve(&self, normal: &str) -> Resolved {
        let key = match_key(normal);
        match self.links.get(&key) {
            Some(r) => r.clone(),
            None => Resolved {
                raw_key: key.clone(),
                normal: normal.to_owned(),
                key,
                via: String::new(),
                display: None,
            },
        }
    }

    /// Whether a tag (by match key) is a stop-tag.
    pub fn is_stop(&self, key: &str) -> bool {
        self.stop.contains(key)
    }

    /// Indices of the phrase rules whose phrase occurs, whole words and case-insensitively,
    /// in `title` (bit 0) and `text` (bit 1): the post as it is when [`Rules::phrases_ascii`],
    /// folded by [`fold_phrase`] otherwise.
    pub fn phrase_hits(&self, title: &str, text: &str) -> Vec<(usize, u8)> {
        let Some(ac) = &self.phrase_matcher else {
            return Vec::new();
        };
        let mut hits: FxHashMap<usize, u8> = FxHashMap::default();
        for (bit, hay) in [(1u8, title), (2u8, text)] {
            for m in ac.find_overlapping_iter(hay) {
                let i = m.pattern().as_usize();
                if bounded(hay, m.start(), m.end()) {
                    *hits.entry(i).or_default() |= bit;
                }
            }
        }
        let mut v: Vec<(usize, u8)> = hits.into_iter().collect();
        v.sort_unstable();
        v
    }
}

/// The Identity keys of a rule's `blogs` list.
fn blog_keys(urls: &[String], rule: &str) -> Result<Vec<String>> {
    urls.iter()
        .map(|u| {
            blog_key(u).ok_or_else(|| Error::BlogUrl {
                url: u.clone(),
                reason: format!("in {rule}: not an http(s) URL"),
            })
        })
        .collect()
}

/// Text folded for phrase matching: NFKC, case-folded, runs of white space as one space.
pub(crate) fn fold_phrase(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    fold_into(s.trim(), &mut folded);
    let mut out = String::with_capacity(folded.len());
    let mut space = false;
    for c in folded.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// A match at `start..end` stands on word boundaries: no letter or digit glued to an edge
/// that is itself a letter or digit.
fn bounded(hay: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let first = hay[start..].chars().next();
    let last = hay[..end].chars().next_back();
    let before = hay[..start].chars().next_back();
    let after = hay[end..].chars().next();
    let glued_before = first.is_some_and(word) && before.is_some_and(word);
    let glued_after = last.is_some_and(word) && after.is_some_and(word);
    !glued_before && !glued_after
}
