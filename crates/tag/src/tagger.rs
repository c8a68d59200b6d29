//! [`Tagger`]: one post in, its tags out, each with where it came from and why.
//!
//! The order of work for one post:
//! 1. the blog's overrides are looked up by its URL;
//! 2. the author's categories are normalised, mapped by the blog's `map`, resolved through
//!    aliases and merges, and dropped when junk or a stop-tag (source `author`);
//! 3. phrase and regex rules and the blog's `add` list add tags (source `rule`);
//! 4. keywords are extracted from the title and text and go through the same resolution
//!    (source `extracted`);
//! 5. one decision per tag survives (author before rule before extracted, and the reasons of
//!    the others are kept), the blog's `drop` list and exclusions remove tags, and the best
//!    `limits.max_tags_per_post` are kept: author tags first, then rule tags, then extracted
//!    ones by score.

use crate::df::DocFreq;
use crate::error::Result;
use crate::extract::{self, Params, StopSet};
use crate::junk::is_junk_normal;
use crate::normalize::normalize;
use crate::rules::{BlogRules, Resolved, Rules, TextRule, blog_key, fold_phrase};
use kith_config::TagRules;
use kith_config::rules::{HubThresholds, MatchScope};
use kith_model::{PostTag, TagSource};
use rustc_hash::FxHashMap;
use serde::Serialize;
use whatlang::Lang;

/// Score of a tag a curator rule added.
pub const RULE_SCORE: f64 = 0.9;
/// Extracted keywords scoring below this are not tags.
pub const MIN_EXTRACTED_SCORE: f64 = 0.1;

/// What the tagger reads of a post. Build it with struct update syntax:
/// `PostInput { title, text, ..PostInput::default() }`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostInput<'a> {
    pub title: &'a str,
    /// Plain text (the crawler's `NewPost::text`).
    pub text: &'a str,
    /// The feed's own categories, as the author wrote them.
    pub categories: &'a [String],
    /// The blog's homepage URL, for per-blog rules.
    pub blog_url: Option<&'a str>,
    /// The blog's feed URL, also accepted as the key of per-blog rules.
    pub feed_url: Option<&'a str>,
    /// ISO 639-3 code (`eng`) as the crawler detected it; ISO 639-1 (`en`) is accepted
    /// too. Detected from the text when absent.
    pub language: Option<&'a str>,
}

/// One tag on one post and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagDecision {
    /// Normal form (see [`crate::normalize()`]): what is stored and compared.
    pub tag: String,
    /// Surface form, as the author, the rule or the text wrote it.
    pub display: String,
    pub source: TagSource,
    /// Confidence in `[0, 1]`: 1 for the author's categories, [`RULE_SCORE`] for rules.
    pub score: f64,
    /// Why, for people: `feed category "Rust"`, `rule phrase "borrow checker"`,
    /// `keyword: 3x in text, in title`.
    pub reason: String,
}

impl TagDecision {
    /// The stored form of this decision.
    pub fn to_post_tag(&self) -> PostTag {
        PostTag {
            tag: self.tag.clone(),
            source: self.source,
            score: self.score,
            reason: Some(self.reason.clone()),
        }
    }
}

/// The tagger: compiled rules, stop words and extraction weights. Cheap to share between
/// threads (`&Tagger` is all `tag` needs).
#[derive(Debug)]
pub struct Tagger {
    rules: Rules,
    stop: FxHashMap<Lang, StopSet>,
    params: Params,
}

impl Tagger {
    /// Compiles `rules` (already validated by `kith-config`). Fails on what validation
    /// cannot see alone: a loop through aliases and merges together, or a regex that does
    /// not compile.
    pub fn new(rules: &TagRules) -> Result<Tagger> {
        let mut stop = FxHashMap::default();
        for lang in [
            Lang::Eng,
            Lang::Fra,
            Lang::Deu,
            Lang::Spa,
            Lang::Ita,
            Lang::Por,
            Lang::Nld,
        ] {
            if let Some(list) = crate::stopwords::words_for(lang) {
                let mut set: StopSet = list.split_whitespace().map(Box::from).collect();
                if lang == Lang::Eng {
                    for verb in crate::stopwords::ENGLISH_VERBS.split_whitespace() {
                        set.extend(crate::stopwords::inflect(verb).into_iter().map(Box::from));
                    }
                }
                stop.insert(lang, set);
            }
        }
        Ok(Tagger {
            rules: Rules::new(rules)?,
            stop,
            params: Params::default(),
        })
    }

    /// Most tags kept on one post.
    pub fn max_tags(&self) -> usize {
        self.rules.max_tags
    }

    /// Hub thresholds from the rules, carried for the hub builder.
    pub fn hub_thresholds(&self) -> &HubThresholds {
        &self.rules.hubs
    }

    /// A tag as the rules read it: normal form, then aliases and merges. `None` for junk,
    /// stop-tags and strings with no letters. `Rustlang` -> `rust` with the example rules.
    pub fn canonical(&self, raw: &str) -> Option<String> {
        let normal = normalize(raw)?;
        if is_junk_normal(&normal) {
            return None;
        }
        let r = self.rules.resolve(&normal);
        (!self.rules.is_stop(&r.raw_key) && !self.rules.is_stop(&r.key)).then_some(r.normal)
    }

    /// The tags of one post, best first, at most [`Tagger::max_tags`].
    pub fn tag(&self, input: &PostInput<'_>, df: &dyn DocFreq) -> Vec<TagDecision> {
        self.tag_top(input, df, self.rules.max_tags)
    }

    /// The tags of one post, best first, at most `max` (what `kith tag --top N` asks for,
    /// which may be more than the rules keep on stored posts).
    pub fn tag_top(&self, input: &PostInput<'_>, df: &dyn DocFreq, max: usize) -> Vec<TagDecision> {
        let max = max.max(1);
        let blogs = blog_keys(input);
        let blog = self.blog_rules(&blogs);
        let mut set = DecisionSet::default();

        // 1. The author's categories.
        for raw in input.categories {
            let Some(normal) = normalize(raw) else {
                continue;
            };
            let key = crate::match_key(&normal);
            // What the author wrote, unless it could carry markup: then the normal form.
            let surface = surface_form(raw, &normal);
            let mut reason = format!("feed category {surface:?}");
            let resolved = match blog.and_then(|b| b.map.get(&key).map(|r| (b, r))) {
                Some((b, mapped)) => {
                    reason.push_str(&format!(" (mapped to {} for {})", mapped.normal, b.url));
                    if self.rules.is_stop(&key) {
                        continue;
                    }
                    mapped.clone()
                }
                None => {
                    if is_junk_normal(&normal) || self.rules.is_stop(&key) {
                        continue;
                    }
                    self.rules.resolve(&normal)
                }
            };
            if !resolved.via.is_empty() {
                reason.push_str(&format!(" ({})", resolved.via));
            }
            let display = resolved.display.clone().unwrap_or(surface);
            self.offer(&mut set, resolved, display, TagSource::Author, 1.0, reason);
        }

        // 2. Curator rules.
        if !self.rules.phrases.is_empty() {
            let hits = if self.rules.phrases_ascii {
                self.rules
                    .phrase_hits(&collapse_ws(input.title), &collapse_ws(input.text))
            } else {
                self.rules
                    .phrase_hits(&fold_phrase(input.title), &fold_phrase(input.text))
            };
            for (i, where_) in hits {
                let r = &self.rules.phrases[i];
                if in_scope(r, where_, &blogs) {
                    self.offer_rule(&mut set, r);
                }
            }
        }
        for (re, r) in &self.rules.regexes {
            if !applies_to(r, &blogs) {
                continue;
            }
            let hit = match r.scope {
                MatchScope::Title => re.is_match(input.title),
                MatchScope::Text => re.is_match(input.text),
                MatchScope::Any => re.is_match(input.title) || re.is_match(input.text),
            };
            if hit {
                self.offer_rule(&mut set, r);
            }
        }
        if let Some(b) = blog {
            for t in &b.add {
                let display = t.display.clone().unwrap_or_else(|| t.normal.clone());
                let reason = format!("blog rule: added to every post of {}", b.url);
                self.offer(
                    &mut set,
                    t.clone(),
                    display,
                    TagSource::Rule,
                    RULE_SCORE,
                    reason,
                );
            }
        }

        // 3. Keywords from the text fill in.
        if let Some(stop) = self.stop_words(input) {
            let want = max * 2 + 4;
            for kw in extract::extract(input.title, input.text, stop, df, want, &self.params) {
                if kw.score < MIN_EXTRACTED_SCORE {
                    break;
                }
                let key = crate::match_key(&kw.normal);
                if self.rules.is_stop(&key) {
                    continue;
                }
                let resolved = self.rules.resolve(&kw.normal);
                let mut reason = format!("keyword: {}x", kw.count);
                match (kw.in_title, kw.in_text) {
                    (true, true) => reason.push_str(" in title and text"),
                    (true, false) => reason.push_str(" in title"),
                    _ => reason.push_str(" in text"),
                }
                if !resolved.via.is_empty() {
                    reason.push_str(&format!(" ({})", resolved.via));
                }
                let display = resolved
                    .display
                    .clone()
                    .unwrap_or_else(|| surface_form(&kw.display, &kw.normal));
                let score = (kw.score * 1000.0).round() / 1000.0;
                self.offer(
                    &mut set,
                    resolved,
                    display,
                    TagSource::Extracted,
                    score,
                    reason,
                );
            }
        }

        // 4. Removals, ranking and the limit.
        if let Some(b) = blog {
            set.items.retain(|d| !b.drop.contains(&d.key));
        }
        set.items.sort_by(|a, b| {
            tier(a.decision.source)
                .cmp(&tier(b.decision.source))
                .then(b.decision.score.total_cmp(&a.decision.score))
                .then(a.order.cmp(&b.order))
        });
        let mut banned = vec![false; set.items.len()];
        loop {
            let kept: Vec<usize> = (0..set.items.len())
                .filter(|&i| !banned[i])
                .take(max)
                .collect();
            let mut changed = false;
            for &i in &kept {
                let key = &set.items[i].key;
                let excluded = self.rules.exclusions.iter().any(|(x, when, _)| {
                    x == key && kept.iter().any(|&j| &set.items[j].key == when)
                });
                if excluded {
                    banned[i] = true;
                    changed = true;
                }
            }
            if !changed {
                return kept
                    .into_iter()
                    .map(|i| set.items[i].decision.clone())
                    .collect();
            }
        }
    }

    fn offer_rule(&self, set: &mut DecisionSet, r: &TextRule) {
        let display = r
            .tag
            .display
            .clone()
            .unwrap_or_else(|| r.tag.normal.clone());
        let mut reason = format!("rule {}", r.label);
        if !r.tag.via.is_empty() {
            reason.push_str(&format!(" ({})", r.tag.via));
        }
        self.offer(
            set,
            r.tag.clone(),
            display,
            TagSource::Rule,
            RULE_SCORE,
            reason,
        );
    }

    /// Adds a decision unless a stop-tag or junk; merges with an earlier one for the same tag.
    fn offer(
        &self,
        set: &mut DecisionSet,
        r: Resolved,
        display: String,
        source: TagSource,
        score: f64,
        reason: String,
    ) {
        if self.rules.is_stop(&r.key) || self.rules.is_stop(&r.raw_key) || is_junk_normal(&r.normal)
        {
            return;
        }
        if let Some(&i) = set.index.get(&r.key) {
            let d = &mut set.items[i].decision;
            if tier(source) < tier(d.source) {
                let old = std::mem::replace(&mut d.reason, reason);
                d.reason = format!("{}; also {old}", d.reason);
                d.source = source;
                d.score = score;
                d.display = display;
            } else if tier(source) > tier(d.source) && !d.reason.contains("; also") {
                d.reason = format!("{}; also {reason}", d.reason);
            } else if source == d.source && score > d.score {
                d.score = score;
            }
            return;
        }
        set.index.insert(r.key.clone(), set.items.len());
        let order = set.items.len();
        set.items.push(Item {
            key: r.key,
            order,
            decision: TagDecision {
                tag: r.normal,
                display,
                source,
                score,
                reason,
            },
        });
    }

    fn blog_rules(&self, blogs: &[String]) -> Option<&BlogRules> {
        blogs.iter().find_map(|k| self.rules.blogs.get(k))
    }

    /// Stop words for the post's language; `None` when the script has no spaces between
    /// words (extraction would see sentences as words).
    fn stop_words(&self, input: &PostInput<'_>) -> Option<Option<&StopSet>> {
        let lang = input
            .language
            .and_then(lang_from_code)
            .or_else(|| crate::language::detect(input.title, input.text).map(|d| d.lang));
        match lang {
            Some(Lang::Cmn | Lang::Jpn | Lang::Tha | Lang::Khm) => None,
            Some(l) => Some(self.stop.get(&l)),
            // Too little text to tell: most of the web is English.
            None => Some(self.stop.get(&Lang::Eng)),
        }
    }
}

#[derive(Default)]
struct DecisionSet {
    items: Vec<Item>,
    index: FxHashMap<String, usize>,
}

struct Item {
    key: String,
    order: usize,
    decision: TagDecision,
}

fn tier(s: TagSource) -> u8 {
    match s {
        TagSource::Author => 0,
        TagSource::Rule => 1,
        TagSource::Extracted => 2,
    }
}

/// Identity keys of the post's blog and feed URLs, for per-blog rules.
fn blog_keys(input: &PostInput<'_>) -> Vec<String> {
    [input.blog_url, input.feed_url]
        .into_iter()
        .flatten()
        .filter_map(blog_key)
        .collect()
}

fn applies_to(r: &TextRule, blogs: &[String]) -> bool {
    r.blogs.is_empty() || r.blogs.iter().any(|b| blogs.contains(b))
}

fn in_scope(r: &TextRule, where_: u8, blogs: &[String]) -> bool {
    applies_to(r, blogs)
        && match r.scope {
            MatchScope::Any => where_ != 0,
            MatchScope::Title => where_ & 1 != 0,
            MatchScope::Text => where_ & 2 != 0,
        }
}

/// `s` with every run of ASCII white space as one space (phrases are written with single
/// spaces; a line break inside a phrase still matches). Borrowed when nothing changes.
fn collapse_ws(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    let needs = b
        .windows(2)
        .any(|w| w[0].is_ascii_whitespace() && (w[1].is_ascii_whitespace() || w[0] != b' '))
        || b.last()
            .is_some_and(|&c| c.is_ascii_whitespace() && c != b' ');
    if !needs {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for part in s.split(|c: char| c.is_ascii_whitespace()) {
        if part.is_empty() {
            space = true;
            continue;
        }
        if space || !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push_str(part);
    }
    std::borrow::Cow::Owned(out)
}

/// Longest surface form kept, in characters.
const MAX_DISPLAY_CHARS: usize = 64;

/// A tag as shown: as written (trimmed, inner white space collapsed) when that is words of
/// letters, digits and marks joined by single separators a tag may have (` `, `-`, `_`,
/// `.`, `/`, `&`, `'`, `+` and `#` as in `C++` and `C#`) and no `..`; otherwise `normal`,
/// the normal form. Surface forms are stored and handed to programs (export, JSON API) as
/// plain text: one must never carry markup (`<script>`), a template (`{{ }}`), a path
/// (`../`), a `javascript:` URL or a bidirectional override.
fn surface_form(raw: &str, normal: &str) -> String {
    let tidy = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let allowed = |c: char| {
        c.is_alphanumeric()
            || (!c.is_ascii() && unicode_normalization::char::is_combining_mark(c))
            || matches!(
                c,
                ' ' | '-' | '_' | '.' | '/' | '&' | '\'' | '\u{2019}' | '+' | '#'
            )
    };
    let safe = tidy.chars().all(allowed)
        && !tidy.contains("..")
        && tidy.chars().count() <= MAX_DISPLAY_CHARS
        && normalize(&tidy).as_deref() == Some(normal);
    if safe { tidy } else { normal.to_owned() }
}

/// ISO 639-3 or 639-1 code to whatlang's language.
fn lang_from_code(code: &str) -> Option<Lang> {
    let code = code.trim().to_ascii_lowercase();
    let code = code.split(['-', '_']).next().unwrap_or("");
    Lang::from_code(code).or_else(|| {
        Some(match code {
            "en" => Lang::Eng,
            "fr" => Lang::Fra,
            "de" => Lang::Deu,
            "es" => Lang::Spa,
            "it" => Lang::Ita,
            "pt" => Lang::Por,
            "nl" => Lang::Nld,
            "ru" => Lang::Rus,
            "zh" => Lang::Cmn,
            "ja" => Lang::Jpn,
            "th" => Lang::Tha,
            _ => return None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoDocFreq;
    use std::path::Path;

    fn tagger(toml: &str) -> Tagger {
        Tagger::new(&TagRules::from_toml(toml, Path::new("tags.toml")).unwrap()).unwrap()
    }

    fn cats(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| (*s).to_owned()).collect()
    }

    fn tags_of(
        t: &Tagger,
        title: &str,
        text: &str,
        categories: &[&str],
        blog: Option<&str>,
    ) -> Vec<TagDecision> {
        let categories = cats(categories);
        t.tag(
            &PostInput {
                title,
                text,
                categories: &categories,
                blog_url: blog,
                language: Some("eng"),
                ..PostInput::default()
            },
            &NoDocFreq,
        )
    }

    fn names(d: &[TagDecision]) -> Vec<&str> {
        d.iter().map(|d| d.tag.as_str()).collect()
    }

    const RUST_TEXT: &str = "The borrow checker rejects programs that alias mutable state. \
        Lifetimes tell the borrow checker how long references live. Ownership and lifetimes \
        together make the borrow checker precise.";

    // Issue 15 item 2: what the author wrote is shown and stored (export, JSON API) as the
    // tag's surface form and in its reason; neither may carry markup, a template, a path or
    // a bidirectional override.
    #[test]
    fn surface_forms_and_reasons_never_carry_markup() {
        let t = tagger("[limits]\nmax_tags_per_post = 20\n");
        let d = tags_of(
            &t,
            "t",
            "",
            &[
                "<script>alert(1)</script>",
                "<b onmouseover=alert(1)>Bold</b>",
                "\u{202e}kcatta",
                "{{ Templating }}",
                "../../etc/passwd",
                "Notes?x=%2e%2e",
                "C++",
                "C#",
                "Node.js",
                "Systems Programming",
                "Rust's Future",
            ],
            None,
        );
        let shown: Vec<(&str, &str)> = d
            .iter()
            .map(|d| (d.tag.as_str(), d.display.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("script-alert-1-script", "script-alert-1-script"),
                (
                    "b-onmouseover-alert-1-bold-b",
                    "b-onmouseover-alert-1-bold-b"
                ),
                ("kcatta", "kcatta"),
                ("templating", "templating"),
                ("etc-passwd", "etc-passwd"),
                ("notes-x-2e-2e", "notes-x-2e-2e"),
                ("cpp", "C++"),
                ("csharp", "C#"),
                ("node-js", "Node.js"),
                ("systems-programming", "Systems Programming"),
                ("rust-future", "Rust's Future"),
            ]
        );
        for d in &d {
            for bad in ["<", ">", "{", "}", "..", "=", "%", "?", "\u{202e}"] {
                assert!(!d.display.contains(bad), "{bad} in {:?}", d.display);
                assert!(!d.reason.contains(bad), "{bad} in {:?}", d.reason);
            }
        }
        assert_eq!(d[0].reason, "feed category \"script-alert-1-script\"");
        assert_eq!(d[6].reason, "feed category \"C++\"");
    }

    #[test]
    fn the_words_that_glue_a_blog_post_together_are_not_tags() {
        let t = tagger("");
        let d = tags_of(
            &t,
            "What nobody tells you about DNS records",
            "I spent a whole weekend cleaning up DNS records, and it was time well spent. \
             My setup is simple: a bit of Terraform. I tried three ways before settling on \
             the approach below. Once I had DNS records in place, the simple approach worked \
             and nobody tells you that. I spent less time on Terraform than on DNS records.",
            &[],
            None,
        );
        let n = names(&d);
        assert_eq!(n[0], "dns-records", "{n:?}");
        assert!(n.contains(&"terraform"), "{n:?}");
        for glue in ["spent", "tells", "simple", "approach", "simple-approach"] {
            assert!(!n.contains(&glue), "{glue} in {n:?}");
        }
    }

    #[test]
    fn author_categories_come_first_and_are_explained() {
        let t = tagger("");
        let d = tags_of(
            &t,
            "Taming the borrow checker",
            RUST_TEXT,
            &["Rust", " Systems  Programming "],
            None,
        );
        assert_eq!(names(&d)[..2], ["rust", "systems-programming"]);
        assert_eq!(d[0].source, TagSource::Author);
        assert_eq!(d[0].score, 1.0);
        assert_eq!(d[0].reason, "feed category \"Rust\"");
        assert_eq!(d[1].display, "Systems Programming");
        let kw = d.iter().find(|d| d.tag == "borrow-checker").unwrap();
        assert_eq!(kw.source, TagSource::Extracted);
        assert!(
            kw.reason.starts_with("keyword: 4x in title and text"),
            "{}",
            kw.reason
        );
        assert!(kw.score > 0.0 && kw.score < 1.0);
        // Best first: extracted scores never increase.
        let ex: Vec<f64> = d
            .iter()
            .filter(|d| d.source == TagSource::Extracted)
            .map(|d| d.score)
            .collect();
        assert!(ex.windows(2).all(|w| w[0] >= w[1]), "{ex:?}");
    }

    #[test]
    fn a_category_found_in_the_text_stays_an_author_tag() {
        let t = tagger("");
        let d = tags_of(
            &t,
            "Taming the borrow checker",
            RUST_TEXT,
            &["Borrow Checker"],
            None,
        );
        assert_eq!(d.iter().filter(|d| d.tag == "borrow-checker").count(), 1);
        assert_eq!(d[0].tag, "borrow-checker");
        assert_eq!(d[0].source, TagSource::Author);
        assert!(d[0].reason.contains("; also keyword"), "{}", d[0].reason);
    }

    #[test]
    fn the_limit_holds() {
        let mut rules = TagRules::default();
        rules.limits.max_tags_per_post = 3;
        let t = Tagger::new(&rules).unwrap();
        let d = tags_of(
            &t,
            "Taming the borrow checker",
            RUST_TEXT,
            &["a1", "b2", "c3", "d4"],
            None,
        );
        assert_eq!(names(&d), ["a1", "b2", "c3"]);
        let d = tags_of(&t, "Taming the borrow checker", RUST_TEXT, &[], None);
        assert!(d.len() <= 3 && !d.is_empty());
    }

    #[test]
    fn default_stop_tags_and_junk_never_become_tags() {
        let t = tagger("");
        let d = tags_of(
            &t,
            "Monday update",
            "News for January 2024: version 1.2.3 shipped on 2024-05-01.",
            &[
                "Uncategorized",
                "News",
                "2024",
                "Monday",
                "jan",
                "v1.2",
                "Misc",
            ],
            None,
        );
        for bad in [
            "uncategorized",
            "news",
            "2024",
            "monday",
            "jan",
            "v1-2",
            "misc",
            "january",
        ] {
            assert!(!names(&d).contains(&bad), "{bad} in {d:?}");
        }
    }

    #[test]
    fn aliases_and_merges_resolve() {
        let t = tagger(
            "[aliases]\nrust = [\"rustlang\", \"rust-lang\"]\n[[merge]]\nfrom = \"golang\"\ninto = \"go\"\n",
        );
        let d = tags_of(
            &t,
            "x",
            "",
            &["RustLang", "Rust_Lang", "Golang", "golangs"],
            None,
        );
        assert_eq!(names(&d), ["rust", "go"]);
        assert_eq!(d[0].reason, "feed category \"RustLang\" (alias of rust)");
        assert_eq!(d[0].display, "rust");
        assert!(d[1].reason.contains("merged into go"), "{}", d[1].reason);
        assert_eq!(t.canonical("rust-lang").as_deref(), Some("rust"));
        assert_eq!(t.canonical("GoLang").as_deref(), Some("go"));
        assert_eq!(t.canonical("Uncategorized"), None);
        // Extracted keywords go through the same rules.
        let d = tags_of(
            &t,
            "Golang generics",
            "Golang generics arrive. Golang programs change.",
            &[],
            None,
        );
        assert!(names(&d).contains(&"go"), "{d:?}");
        assert!(!names(&d).contains(&"golang"), "{d:?}");
    }

    #[test]
    fn loops_through_aliases_and_merges_are_refused() {
        let rules = TagRules::from_toml(
            "[aliases]\nx = [\"y\"]\n[[merge]]\nfrom = \"x\"\ninto = \"y\"\n",
            Path::new("tags.toml"),
        )
        .unwrap();
        let err = Tagger::new(&rules).unwrap_err();
        assert!(matches!(err, crate::Error::Cycle { .. }), "{err}");
        assert!(
            err.to_string().contains("x -> y -> x") || err.to_string().contains("y -> x -> y"),
            "{err}"
        );
    }

    #[test]
    fn stop_tags_win_over_every_rule() {
        let t = tagger(
            "stop_tags = [\"personal\", \"life\"]\n[aliases]\npersonal = [\"diary\"]\n\
             [[phrase]]\nphrase = \"my life\"\ntag = \"life\"\n\
             [blogs.\"https://example.com/\"]\nadd = [\"personal\"]\nmap = { \"Days\" = \"life\" }\n",
        );
        let d = tags_of(
            &t,
            "My life",
            "This is my life and my diary.",
            &["Personal", "Diary", "Days", "Life"],
            Some("https://example.com/"),
        );
        for bad in ["personal", "life", "diary", "days"] {
            assert!(!names(&d).contains(&bad), "{bad} in {d:?}");
        }
    }

    #[test]
    fn phrase_rules_match_whole_words_in_scope() {
        let t = tagger(
            "[[phrase]]\nphrase = \"borrow checker\"\ntag = \"rust\"\n\
             [[phrase]]\nphrase = \"sourdough\"\ntag = \"baking\"\nscope = \"title\"\n\
             [[phrase]]\nphrase = \"k8s\"\ntag = \"kubernetes\"\nscope = \"text\"\n",
        );
        let d = tags_of(
            &t,
            "Notes",
            "We fought the Borrow\n Checker again.",
            &[],
            None,
        );
        let rust = d.iter().find(|d| d.tag == "rust").unwrap();
        assert_eq!(rust.source, TagSource::Rule);
        assert_eq!(rust.reason, "rule phrase \"borrow checker\"");
        assert_eq!(rust.score, RULE_SCORE);
        let d = tags_of(
            &t,
            "Notes",
            "Sourdough starters and k8s clusters.",
            &[],
            None,
        );
        assert!(!names(&d).contains(&"baking"), "title scope: {d:?}");
        assert!(names(&d).contains(&"kubernetes"));
        let d = tags_of(&t, "Sourdough at home", "Flour.", &[], None);
        assert!(names(&d).contains(&"baking"));
        let d = tags_of(&t, "Unborrow checkers", "The xk8s tool.", &[], None);
        assert!(
            !names(&d).contains(&"rust") && !names(&d).contains(&"kubernetes"),
            "{d:?}"
        );
    }

    #[test]
    fn regex_rules_and_blog_scoped_rules() {
        let t = tagger(
            "[[regex]]\npattern = '(?i)\\bpostgre(s|sql)\\b'\ntag = \"postgresql\"\n\
             [[phrase]]\nphrase = \"gopher\"\ntag = \"go\"\nblogs = [\"https://go.example/\"]\n",
        );
        let d = tags_of(&t, "Tuning Postgres", "Vacuum.", &[], None);
        let pg = d.iter().find(|d| d.tag == "postgresql").unwrap();
        assert!(pg.reason.starts_with("rule regex"), "{}", pg.reason);
        let d = tags_of(
            &t,
            "The gopher",
            "A gopher.",
            &[],
            Some("https://other.example/"),
        );
        assert!(!names(&d).contains(&"go"));
        let d = tags_of(
            &t,
            "The gopher",
            "A gopher.",
            &[],
            Some("http://www.go.example"),
        );
        assert!(names(&d).contains(&"go"), "identity of blog URLs: {d:?}");
    }

    #[test]
    fn exclusions_remove_a_tag_when_the_other_is_kept() {
        let t = tagger("[[exclude]]\ntag = \"java\"\nwhen = \"javascript\"\n");
        let d = tags_of(&t, "x", "", &["Java", "JavaScript"], None);
        assert_eq!(names(&d), ["javascript"]);
        let d = tags_of(&t, "x", "", &["Java"], None);
        assert_eq!(names(&d), ["java"]);
    }

    #[test]
    fn exclusions_only_count_tags_that_are_kept() {
        let mut rules = TagRules::from_toml(
            "[[exclude]]\ntag = \"a1\"\nwhen = \"z9\"\n",
            Path::new("tags.toml"),
        )
        .unwrap();
        rules.limits.max_tags_per_post = 2;
        let t = Tagger::new(&rules).unwrap();
        let d = tags_of(&t, "x", "", &["a1", "b2", "z9"], None);
        assert_eq!(
            names(&d),
            ["a1", "b2"],
            "z9 is beyond the limit, so a1 stays"
        );
    }

    #[test]
    fn per_blog_overrides() {
        let t = tagger(
            "[blogs.\"https://example.com/\"]\nmap = { \"Go\" = \"golang-news\", \"Thoughts\" = \"opinion\" }\n\
             add = [\"go\"]\ndrop = [\"til\"]\n",
        );
        let d = tags_of(
            &t,
            "x",
            "",
            &["Thoughts", "TIL", "Go"],
            Some("https://example.com/"),
        );
        assert_eq!(names(&d), ["opinion", "golang-news", "go"]);
        assert_eq!(d[0].source, TagSource::Author);
        assert!(
            d[0].reason
                .contains("mapped to opinion for https://example.com/"),
            "{}",
            d[0].reason
        );
        assert_eq!(d[2].source, TagSource::Rule);
        assert!(d[2].reason.starts_with("blog rule"), "{}", d[2].reason);
        let feed = cats(&["Thoughts", "TIL"]);
        let d = t.tag(
            &PostInput {
                categories: &feed,
                feed_url: Some("https://example.com/"),
                ..PostInput::default()
            },
            &NoDocFreq,
        );
        assert_eq!(names(&d), ["opinion", "go"], "the feed URL is a key too");
        let d = tags_of(
            &t,
            "x",
            "",
            &["Thoughts", "TIL"],
            Some("https://other.example/"),
        );
        assert_eq!(names(&d), ["thoughts", "til"]);
    }

    #[test]
    fn languages_use_their_stop_words() {
        let t = tagger("");
        let text = "Les conteneurs sont partout. Les conteneurs isolent les processus, \
                    et les conteneurs se déploient vite dans les grappes.";
        for lang in [Some("fra"), Some("fr"), None] {
            let d = t.tag(
                &PostInput {
                    title: "Les conteneurs en production",
                    text,
                    language: lang,
                    ..PostInput::default()
                },
                &NoDocFreq,
            );
            assert_eq!(d[0].tag, "conteneurs", "{lang:?}: {d:?}");
            for stop in ["les", "sont", "et", "dans"] {
                assert!(!names(&d).contains(&stop), "{stop} in {d:?}");
            }
        }
    }

    #[test]
    fn words_every_post_uses_are_not_tags() {
        let t = tagger("");
        let mut df = crate::DfTable::new();
        for i in 0..50 {
            df.add(
                "Weekly notes",
                &format!("Notes about gardening, item {i}. Notes again."),
            );
        }
        df.add("Tomatoes", "Tomatoes and notes.");
        let d = t.tag(
            &PostInput {
                title: "Tomatoes",
                text: "Tomatoes and notes. Notes on tomatoes.",
                ..PostInput::default()
            },
            &df,
        );
        assert_eq!(d[0].tag, "tomatoes");
        let notes = d.iter().position(|d| d.tag == "notes");
        assert!(notes.is_none_or(|i| i > 0), "{d:?}");
    }

    #[test]
    fn diff_reports_added_removed_and_moved() {
        let t = tagger("");
        let old = tags_of(&t, "x", "", &["rust", "go"], None);
        let t2 = tagger(
            "[[merge]]\nfrom = \"go\"\ninto = \"golang\"\n[[phrase]]\nphrase = \"x\"\ntag = \"rust\"\n",
        );
        let new = tags_of(&t2, "x", "", &["rust", "go"], None);
        let d = crate::diff(&old, &new);
        assert_eq!(names(&d.added), ["golang"]);
        assert_eq!(names(&d.removed), ["go"]);
        assert!(d.changed.is_empty(), "rust is still an author tag");
        assert!(crate::diff(&new, &new).is_empty());
        let t3 = tagger("[[phrase]]\nphrase = \"x\"\ntag = \"extra\"\n");
        let with_rule = tags_of(&t3, "x", "", &[], None);
        let as_author = tags_of(&t3, "x", "", &["extra"], None);
        let d = crate::diff(&with_rule, &as_author);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].0.source, TagSource::Rule);
    }

    #[test]
    fn empty_input_gives_no_tags() {
        let t = tagger("");
        assert!(t.tag(&PostInput::default(), &NoDocFreq).is_empty());
        let d = tags_of(&t, "", "the and of 2024 12:00", &[], None);
        assert!(d.is_empty(), "{d:?}");
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::NoDocFreq;
    use proptest::prelude::*;
    use std::path::Path;

    const VOCAB: &[&str] = &[
        "alpha", "beta", "gamma", "delta", "omega", "misc", "personal", "sigma",
    ];

    fn word() -> impl Strategy<Value = &'static str> {
        prop::sample::select(VOCAB)
    }

    /// Random rules over a small vocabulary, as TOML; invalid ones are skipped.
    fn rules_toml() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(word(), 0..3),
            prop::collection::vec((word(), prop::collection::vec(word(), 1..3)), 0..3),
            prop::collection::vec((word(), word()), 0..3),
            prop::collection::vec((word(), word()), 0..2),
            prop::collection::vec((word(), word()), 0..2),
        )
            .prop_map(|(stop, aliases, merges, phrases, excl)| {
                let mut s = format!("stop_tags = {stop:?}\n[aliases]\n");
                let mut seen = Vec::new();
                for (c, vs) in aliases {
                    if !seen.contains(&c) {
                        seen.push(c);
                        s.push_str(&format!("{c} = {vs:?}\n"));
                    }
                }
                for (f, i) in merges {
                    s.push_str(&format!("[[merge]]\nfrom = {f:?}\ninto = {i:?}\n"));
                }
                for (p, t) in phrases {
                    s.push_str(&format!("[[phrase]]\nphrase = {p:?}\ntag = {t:?}\n"));
                }
                for (x, w) in excl {
                    s.push_str(&format!("[[exclude]]\ntag = {x:?}\nwhen = {w:?}\n"));
                }
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the rules: no stop-tag and no retired (merged-away) tag is ever on a
        /// post, every tag is its own canonical form (aliases are idempotent), tags are
        /// unique, and the limit holds.
        #[test]
        fn rule_invariants(toml in rules_toml(), categories in prop::collection::vec(word(), 0..6), text_words in prop::collection::vec(word(), 0..12)) {
            let Ok(rules) = TagRules::from_toml(&toml, Path::new("tags.toml")) else {
                return Ok(());
            };
            let Ok(tagger) = Tagger::new(&rules) else {
                return Ok(());
            };
            let categories: Vec<String> = categories.iter().map(|s| s.to_string()).collect();
            let text = text_words.join(" ");
            let tags = tagger.tag(&PostInput { title: "t", text: &text, categories: &categories, language: Some("eng"), ..PostInput::default() }, &NoDocFreq);
            let stop = rules.effective_stop_tags();
            let retired: Vec<String> = rules.merges.iter().map(|m| m.get_ref().from.clone()).collect();
            prop_assert!(tags.len() <= rules.limits.max_tags_per_post);
            for (i, d) in tags.iter().enumerate() {
                prop_assert!(!stop.contains(&d.tag), "stop-tag {} in {:?} with {}", d.tag, tags, toml);
                prop_assert!(!retired.contains(&d.tag), "merged-away {} in {:?} with {}", d.tag, tags, toml);
                prop_assert_eq!(tagger.canonical(&d.tag), Some(d.tag.clone()));
                prop_assert!(tags[..i].iter().all(|e| e.tag != d.tag));
                // Resolution is idempotent on any input.
                let once = tagger.canonical(&d.display);
                prop_assert_eq!(once.as_deref().and_then(|o| tagger.canonical(o)), once.clone());
            }
            for (x, when, _) in &tagger.rules.exclusions {
                let has = |k: &str| tags.iter().any(|d| crate::match_key(&d.tag) == k);
                prop_assert!(!(has(x) && has(when)), "exclusion {} when {} broken: {:?}", x, when, tags);
            }
        }

        /// Aliases are idempotent for any word, listed or not.
        #[test]
        fn canonical_is_idempotent(toml in rules_toml(), w in "[a-zA-Z _.-]{1,12}") {
            let Ok(rules) = TagRules::from_toml(&toml, Path::new("tags.toml")) else { return Ok(()); };
            let Ok(tagger) = Tagger::new(&rules) else { return Ok(()); };
            if let Some(c) = tagger.canonical(&w) {
                prop_assert_eq!(tagger.canonical(&c), Some(c.clone()));
            }
        }
    }
}
