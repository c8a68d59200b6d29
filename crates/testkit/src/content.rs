//! Deterministic content: who blogs about what, when, and what the posts say.
//!
//! Every random choice comes from a ChaCha stream keyed by `(seed, purpose, blog, post)`, so
//! a post's words depend only on the seed and its coordinates, never on the order in which
//! blogs or posts were generated. Only dates of posts published later (and slug collisions)
//! depend on the order of `publish`/`tick` calls.

use chrono::{DateTime, Duration, Utc};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::render::escape;
use crate::topics::{FIRST_NAMES, GENERIC_TAGS, LAST_NAMES, TOPICS, Topic, UNCATEGORIZED};
use crate::types::{FeedFormat, SimPost};

pub(crate) type SimRng = ChaCha8Rng;

/// What a random stream is for; keeps streams for different purposes independent.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Stream {
    Profile = 1,
    Names = 2,
    Draft = 3,
    Body = 4,
    Dates = 5,
    Tick = 6,
    Guid = 7,
    Link = 8,
}

/// The span the initial history covers, a little under the promised ~180 days.
const HISTORY_DAYS: f64 = 178.0;

/// SplitMix64 finaliser: a cheap, well-mixed hash step.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn key(seed: u64, stream: Stream, a: u64, b: u64) -> u64 {
    splitmix(splitmix(splitmix(seed ^ splitmix(stream as u64)) ^ a) ^ b.rotate_left(17))
}

/// A random stream for one purpose and coordinates.
pub(crate) fn rng_for(seed: u64, stream: Stream, a: usize, b: usize) -> SimRng {
    SimRng::seed_from_u64(key(seed, stream, a as u64, b as u64))
}

fn pick<T: Copy>(rng: &mut SimRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Index drawn with probability proportional to `weights[i]`.
fn weighted(rng: &mut SimRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random_range(0.0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// How a blogger spells tags: one of the realistic variations a tagger has to normalise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagStyle {
    /// `borrow-checker`
    Kebab,
    /// `Borrow Checker`
    Title,
    /// `borrow checker`
    Spaced,
}

impl TagStyle {
    fn apply(self, tag: &str) -> String {
        match self {
            TagStyle::Kebab => tag.to_string(),
            TagStyle::Spaced => tag.replace('-', " "),
            TagStyle::Title => tag.split('-').map(capitalize).collect::<Vec<_>>().join(" "),
        }
    }
}

/// Everything fixed about a blogger.
#[derive(Debug, Clone)]
pub(crate) struct BlogProfile {
    pub index: usize,
    pub name: String,
    pub author: String,
    pub description: String,
    pub topic: &'static Topic,
    pub second: Option<&'static Topic>,
    pub format: FeedFormat,
    /// Mean days between posts.
    pub rhythm_days: f64,
    pub tag_style: TagStyle,
    /// WordPress blogs sometimes leave posts "Uncategorized".
    pub wordpress: bool,
}

/// Clamp the requested number of communities to what the topic table offers.
pub(crate) fn community_count(requested: usize) -> usize {
    requested.clamp(1, TOPICS.len())
}

/// Profiles for `blogs` bloggers; blog `i` belongs to community `i % communities`.
pub(crate) fn profiles(seed: u64, blogs: usize, communities: usize) -> Vec<BlogProfile> {
    let communities = community_count(communities);
    // Unique author names: a seeded shuffle of every first x last combination.
    let mut names: Vec<(&str, &str)> = FIRST_NAMES
        .iter()
        .flat_map(|f| LAST_NAMES.iter().map(move |l| (*f, *l)))
        .collect();
    names.shuffle(&mut rng_for(seed, Stream::Names, 0, 0));

    (0..blogs)
        .map(|i| {
            let mut rng = rng_for(seed, Stream::Profile, i, 0);
            let topic = &TOPICS[i % communities];
            let second = if communities > 1 && rng.random_bool(0.1) {
                let other = (i % communities + rng.random_range(1..communities)) % communities;
                Some(&TOPICS[other])
            } else {
                None
            };
            let (first, last) = names[i % names.len()];
            let author = match i / names.len() {
                0 => format!("{first} {last}"),
                n => format!("{first} {last} {}", n + 1),
            };
            let name = match rng.random_range(0..7) {
                0 => format!("{first} {last}'s notes"),
                1 => format!("{first}'s notes"),
                2 => format!("{last} on {}", topic.name),
                3 => format!("Notes by {first} {last}"),
                4 => format!("{} by {first}", pick(&mut rng, topic.blog_titles)),
                _ => pick(&mut rng, topic.blog_titles).to_string(),
            };
            let description = format!("{author} writes about {}.", topic.name);
            let format = match rng.random_range(0..100) {
                0..50 => FeedFormat::Rss2,
                50..85 => FeedFormat::Atom,
                _ => FeedFormat::JsonFeed,
            };
            // Some blog daily, most weekly-ish, a few monthly.
            let rhythm_days = [1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 30.0]
                [weighted(&mut rng, &[1.0, 2.0, 2.0, 2.0, 3.0, 2.0, 2.0, 1.0])];
            let tag_style = match rng.random_range(0..100) {
                0..60 => TagStyle::Kebab,
                60..85 => TagStyle::Title,
                _ => TagStyle::Spaced,
            };
            let wordpress = rng.random_bool(0.25);
            BlogProfile {
                index: i,
                name,
                author,
                description,
                topic,
                second,
                format,
                rhythm_days,
                tag_style,
                wordpress,
            }
        })
        .collect()
}

/// `t` truncated to whole seconds (feeds carry seconds, so ground truth does too).
pub(crate) fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Dates of the initial history of a blog, oldest first, all before `now`, at most
/// ~180 days back, following the blog's rhythm with jitter.
pub(crate) fn history_dates(
    seed: u64,
    profile: &BlogProfile,
    count: usize,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut rng = rng_for(seed, Stream::Dates, profile.index, 0);
    let day = 86_400.0;
    let mut ages = Vec::with_capacity(count);
    // The newest post is recent, but not necessarily from today.
    let mut age = rng.random_range(0.02..profile.rhythm_days.min(7.0)) * day;
    for _ in 0..count {
        ages.push(age);
        age += profile.rhythm_days * rng.random_range(0.3..1.7) * day;
    }
    // Prolific-but-slow blogs would reach back years; squeeze them into the window.
    if let Some(&oldest) = ages.last()
        && oldest > HISTORY_DAYS * day
    {
        let scale = HISTORY_DAYS * day / oldest;
        ages.iter_mut().for_each(|a| *a *= scale);
    }
    let now = whole_seconds(now);
    let mut secs: Vec<i64> = ages.iter().map(|a| *a as i64).collect();
    for k in 1..secs.len() {
        // Strictly ordered, at least a minute apart.
        secs[k] = secs[k].max(secs[k - 1] + 60);
    }
    secs.iter()
        .rev()
        .map(|s| now - Duration::seconds(*s))
        .collect()
}

/// The parts of a post that do not need other blogs: topic, title, categories.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub topic: &'static Topic,
    pub title: String,
    pub categories: Vec<String>,
    /// Terms the post keeps coming back to (the title's first).
    pub focus: Vec<&'static str>,
}

const TITLE_TEMPLATES: &[&str] = &[
    "Why I stopped fighting {a}",
    "Notes on {act} {a}",
    "{A} in practice: what I learned",
    "A gentle introduction to {a}",
    "What nobody tells you about {a}",
    "{A} vs {b}: a practical comparison",
    "Lessons from a year of {act} {a}",
    "How I use {a} with {b}",
    "TIL: {a} and {b}",
    "The case for {a}",
    "Five mistakes I made with {a}",
    "Getting started with {a}",
    "Revisiting {a} after six months",
    "A week of {act} {a}",
    "{A}: easier than it looks",
    "Things I wish I knew about {a}",
    "From {a} to {b}",
    "{A}: a field report",
    "Small wins with {a}",
    "{A}: worth the effort?",
    "{Act} {a}, one step at a time",
    "What {a} taught me about {b}",
];

/// Expand `{a}`, `{A}` (capitalised), `{b}`, `{act}` and `{Act}` in one pass; anything else in
/// braces is kept as written.
fn fill(template: &str, a: &str, b: &str, act: &str) -> String {
    let mut out = String::with_capacity(template.len() + a.len() + b.len() + act.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let Some(end) = tail.find('}') else {
            rest = tail;
            break;
        };
        match &tail[1..end] {
            "a" => out.push_str(a),
            "A" => out.push_str(&capitalize(a)),
            "b" => out.push_str(b),
            "act" => out.push_str(act),
            "Act" => out.push_str(&capitalize(act)),
            _ => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Two different terms of a topic.
fn two_terms(rng: &mut SimRng, topic: &Topic) -> (&'static str, &'static str) {
    let a = pick(rng, topic.terms);
    let mut b = pick(rng, topic.terms);
    while b == a {
        b = pick(rng, topic.terms);
    }
    (a, b)
}

/// Title, topic and categories of post `index` of a blog.
pub(crate) fn draft(seed: u64, profile: &BlogProfile, index: usize) -> Draft {
    let mut rng = rng_for(seed, Stream::Draft, profile.index, index);
    let topic = match profile.second {
        Some(second) if rng.random_bool(0.25) => second,
        _ => profile.topic,
    };
    let (a, b) = two_terms(&mut rng, topic);
    let act = pick(&mut rng, topic.actions);
    let title = fill(pick(&mut rng, TITLE_TEMPLATES), a, b, act);
    let mut focus = vec![a, b];
    for _ in 0..2 {
        focus.push(pick(&mut rng, topic.terms));
    }
    let categories = categories(&mut rng, profile, topic);
    Draft {
        topic,
        title,
        categories,
        focus,
    }
}

/// 1-5 categories with a Zipf-like preference for the topic's first tags, some generic noise,
/// and WordPress's "Uncategorized" now and then.
fn categories(rng: &mut SimRng, profile: &BlogProfile, topic: &Topic) -> Vec<String> {
    if profile.wordpress && rng.random_bool(0.12) {
        return vec![UNCATEGORIZED.to_string()];
    }
    let count = 1 + weighted(rng, &[30.0, 30.0, 20.0, 12.0, 8.0]);
    let mut weights: Vec<f64> = (0..topic.tags.len())
        .map(|r| 1.0 / (r as f64 + 1.0))
        .collect();
    let mut chosen = Vec::with_capacity(count);
    while chosen.len() < count {
        let i = weighted(rng, &weights);
        weights[i] = 0.0;
        chosen.push(profile.tag_style.apply(topic.tags[i]));
    }
    if rng.random_bool(0.2) {
        let generic = pick(rng, GENERIC_TAGS).to_string();
        if chosen.len() == 5 {
            chosen.pop();
        }
        chosen.push(generic);
    }
    chosen
}

/// A published post as the server keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub sim: SimPost,
    /// Unique within the blog; the page is `/posts/{slug}.html`.
    pub slug: String,
    /// Plain-text opening (not escaped).
    pub summary: String,
}

/// A post of another blog that a new post may link to.
#[derive(Debug, Clone)]
pub(crate) struct LinkTarget {
    pub url: String,
    pub title: String,
    pub author: String,
    pub blog_name: String,
    pub published: DateTime<Utc>,
}

/// Maybe pick a post to cross-link: an older post of another blog of the same community.
/// `members` are the blogs of the post's community; `pool[b]` are blog `b`'s initial posts.
pub(crate) fn choose_link<'p>(
    seed: u64,
    blog: usize,
    index: usize,
    published: DateTime<Utc>,
    members: &[usize],
    pool: &'p [Vec<LinkTarget>],
) -> Option<&'p LinkTarget> {
    let mut rng = rng_for(seed, Stream::Link, blog, index);
    if !rng.random_bool(0.6) {
        return None;
    }
    let others: Vec<usize> = members.iter().copied().filter(|b| *b != blog).collect();
    if others.is_empty() {
        return None;
    }
    // A few tries: the chosen blog may have nothing older than this post.
    for _ in 0..4 {
        let older: Vec<&LinkTarget> = pool
            .get(pick(&mut rng, &others))
            .map(|posts| posts.iter().filter(|p| p.published < published).collect())
            .unwrap_or_default();
        if !older.is_empty() {
            return Some(older[rng.random_range(0..older.len())]);
        }
    }
    None
}

/// The generated body of a post.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub html: String,
    /// Plain-text opening (not escaped), for RSS `<description>` and Atom/JSON `summary`.
    pub summary: String,
    pub links_to: Vec<String>,
}

const SENTENCES: &[&str] = &[
    "I have been spending a lot of time with {a} lately, mostly because {b} kept getting in the way.",
    "The first thing to understand about {a} is how tightly it ties into {b}, in ways that are easy to miss.",
    "Most guides skip over {a}, but in my experience that part deserves more attention than {b}.",
    "After a few weeks of {act} {a}, the difference was obvious.",
    "If you only remember one thing, make it this: do not confuse {a} with {b}.",
    "My setup is simple: {a}, a bit of {b}, and plenty of patience.",
    "It turns out that the story of {a} changes completely once you add {b}.",
    "I tried {act} {a} three different ways before settling on the approach below.",
    "A friend pointed out that {a} and {b} solve the same problem from opposite ends.",
    "The documentation on {a} is decent, although the part about {b} could be clearer.",
    "None of this is new, but writing it down helped me think about {a} more clearly.",
    "There is a surprising amount of folklore around {a}, and much of it is outdated.",
    "When something goes wrong with {a}, the symptoms usually show up in {b} first.",
    "I keep a small notebook of experiments with {a}, and this one was worth sharing.",
    "The real trade-off is between {a} and {b}, and there is no universal answer.",
    "Here is roughly what {act} {a} looks like for me today.",
    "Honestly, {a} felt intimidating at first, but {b} made it click.",
    "Next time I will start with {a} and leave {b} for later.",
    "The people who know {a} well have been incredibly generous with advice.",
    "What surprised me most was how much {b} improved once I sorted out {a}.",
    "I used to think {a} did not deserve the attention, and I was wrong about that.",
    "Getting {a} right took longer than I expected, mostly because of {b}.",
    "The short version is that patience pays off with {a} and shortcuts do not.",
    "Somebody asked me about {a} last week, so here is the longer answer.",
    "Compared to last year, my approach to {a} is much calmer and more deliberate.",
    "For {b}, the usual advice works; for {a}, it really does not.",
    "I spent a whole weekend {act} {a}, and it was time well spent.",
    "{A} belongs to the things that look simple until you try them yourself.",
    "Once I had {a} in place, {b} stopped being a problem almost overnight.",
    "I would not call myself an expert on {a}, but I have made most of the mistakes.",
];

/// Sentences with no topic words: the glue real posts have.
const FILLER: &[&str] = &[
    "It has been a busy few weeks.",
    "As usual, the details matter more than the headline.",
    "Thanks to everyone who sent feedback on the last post.",
    "I will probably change my mind about some of this.",
    "That is more or less where things stand.",
    "This took longer to write than I would like to admit.",
    "Your mileage may vary, of course.",
    "More on that another time.",
];

const HEADINGS: &[&str] = &[
    "What I tried first",
    "Where {a} fits in",
    "A closer look at {a}",
    "What changed",
    "What I would do differently",
    "The short version",
    "Why bother with {a}",
    "Open questions",
];

const LIST_ITEMS: &[&str] = &[
    "Start with {a}.",
    "Measure {a} before touching {b}.",
    "Keep notes on {a}.",
    "Do not ignore {b}.",
    "Try {act} {a} on a small scale first.",
    "Read up on {b} before you commit.",
    "Ask for help early.",
    "Write down what changed and why.",
];

const LINK_SENTENCES: &[&str] = &[
    "{author} wrote about something similar in {link}, which is worth reading alongside this.",
    "For a different take on {a}, see {link} by {author}.",
    "This builds on {link} over at {blog}.",
    "I only got this working after reading {link} by {author}.",
];

/// Fill one of `templates`, choosing `a` from the post's focus terms half of the time.
fn sentence(rng: &mut SimRng, templates: &[&str], draft: &Draft) -> String {
    let template = pick(rng, templates);
    let (mut a, b) = two_terms(rng, draft.topic);
    if rng.random_bool(0.5) {
        a = pick(rng, &draft.focus);
    }
    let act = pick(rng, draft.topic.actions);
    fill(template, a, if a == b { draft.focus[1] } else { b }, act)
}

/// Body of post `index`; `url_base` is the blog's origin (for images), `slug` the post's.
pub(crate) fn body(
    seed: u64,
    profile: &BlogProfile,
    index: usize,
    draft: &Draft,
    url_base: &str,
    slug: &str,
    link: Option<&LinkTarget>,
) -> Body {
    let mut rng = rng_for(seed, Stream::Body, profile.index, index);
    let topic = draft.topic;
    let paragraphs = rng.random_range(3..=7usize);
    let words_per_paragraph = rng.random_range(250..=700usize) / paragraphs;
    let link_at = rng.random_range(0..paragraphs);
    let heading_at = rng
        .random_bool(0.5)
        .then(|| rng.random_range(1..paragraphs));
    let list_at = rng
        .random_bool(0.35)
        .then(|| rng.random_range(0..paragraphs));
    let code_at = (!topic.snippets.is_empty() && rng.random_bool(0.55))
        .then(|| rng.random_range(0..paragraphs));
    let image_chance = if topic.visual { 0.5 } else { 0.08 };
    let image_at = rng
        .random_bool(image_chance)
        .then(|| rng.random_range(0..paragraphs));

    let mut html = String::new();
    let mut summary = String::new();
    let mut links_to = Vec::new();
    for k in 0..paragraphs {
        if heading_at == Some(k) {
            let heading = sentence(&mut rng, HEADINGS, draft);
            html.push_str(&format!("<h2>{}</h2>\n", escape(&heading)));
        }
        let mut text = Vec::new();
        let mut words = 0;
        while words < words_per_paragraph || text.len() < 2 {
            let s = if rng.random_bool(0.08) {
                pick(&mut rng, FILLER).to_string()
            } else {
                sentence(&mut rng, SENTENCES, draft)
            };
            // Templates use single spaces; counting them is much cheaper than splitting.
            words += s.bytes().filter(|b| *b == b' ').count() + 1;
            text.push(escape(&s));
            if k == 0 && text.len() <= 2 {
                if !summary.is_empty() {
                    summary.push(' ');
                }
                summary.push_str(&s);
            }
        }
        if let (Some(target), true) = (link, link_at == k) {
            let anchor = format!(
                "<a href=\"{}\">{}</a>",
                escape(&target.url),
                escape(&target.title)
            );
            let s = pick(&mut rng, LINK_SENTENCES)
                .replace("{author}", &escape(&target.author))
                .replace("{blog}", &escape(&target.blog_name))
                .replace("{a}", &escape(pick(&mut rng, &draft.focus)))
                .replace("{link}", &anchor);
            let at = rng.random_range(1..=text.len());
            text.insert(at, s);
            links_to.push(target.url.clone());
        }
        html.push_str(&format!("<p>{}</p>\n", text.join(" ")));
        if list_at == Some(k) {
            html.push_str("<ul>\n");
            for _ in 0..rng.random_range(3..=5) {
                let item = sentence(&mut rng, LIST_ITEMS, draft);
                html.push_str(&format!("<li>{}</li>\n", escape(&item)));
            }
            html.push_str("</ul>\n");
        }
        if code_at == Some(k) {
            let snippet = pick(&mut rng, topic.snippets);
            html.push_str(&format!("<pre><code>{}</code></pre>\n", escape(snippet)));
        }
        if image_at == Some(k) {
            let alt = capitalize(pick(&mut rng, &draft.focus));
            html.push_str(&format!(
                "<figure><img src=\"{url_base}/images/{slug}-{k}.jpg\" alt=\"{alt}\" \
                 width=\"1200\" height=\"800\"><figcaption>{alt}.</figcaption></figure>\n",
                alt = escape(&alt),
            ));
        }
    }
    // Feed parsers trim surrounding whitespace; keep the ground truth equal to what they see.
    html.truncate(html.trim_end().len());
    Body {
        html,
        summary,
        links_to,
    }
}

/// A stable, UUID-shaped id for a post.
pub(crate) fn guid(seed: u64, blog: usize, index: usize) -> String {
    let hi = key(seed, Stream::Guid, blog as u64, index as u64);
    let lo = splitmix(hi ^ 0x5EED);
    format!(
        "urn:uuid:{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xfff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    )
}

/// URL slug for a title: lowercase ASCII words joined by `-`.
pub(crate) fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("post");
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn profiles_are_deterministic_and_planted() {
        let a = profiles(7, 50, 8);
        let b = profiles(7, 50, 8);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.name, y.name);
            assert_eq!(x.author, y.author);
            assert_eq!(x.format, y.format);
        }
        for p in &a {
            assert_eq!(p.topic.id, TOPICS[p.index % 8].id);
        }
        let authors: std::collections::HashSet<_> = a.iter().map(|p| &p.author).collect();
        assert_eq!(authors.len(), a.len(), "authors are unique");
        assert_ne!(profiles(8, 50, 8)[0].author, a[0].author);
    }

    #[test]
    fn history_fits_the_window_and_is_ordered() {
        for p in profiles(1, 40, 8) {
            let dates = history_dates(1, &p, 40, now());
            assert_eq!(dates.len(), 40);
            assert!(dates.windows(2).all(|w| w[0] < w[1]));
            assert!(*dates.last().unwrap() < now());
            assert!(dates[0] >= now() - Duration::days(181), "{:?}", dates[0]);
        }
    }

    #[test]
    fn bodies_have_the_promised_shape() {
        let profiles = profiles(3, 30, 8);
        for p in &profiles {
            for index in 0..10 {
                let d = draft(3, p, index);
                assert!((1..=5).contains(&d.categories.len()), "{:?}", d.categories);
                let b = body(3, p, index, &d, "http://x", "s", None);
                let text_words = b.html.split_whitespace().count();
                assert!((230..=1100).contains(&text_words), "{text_words} words");
                let paras = b.html.matches("<p>").count();
                assert!((3..=7).contains(&paras));
                assert!(!b.summary.is_empty());
                assert!(b.links_to.is_empty());
            }
        }
    }

    #[test]
    fn templates_fill_in_one_pass() {
        assert_eq!(fill("{A} vs {b}", "a term", "b", "x"), "A term vs b");
        assert_eq!(
            fill("{Act} {a} {link}", "t", "b", "doing"),
            "Doing t {link}"
        );
        assert_eq!(fill("open { brace", "t", "b", "x"), "open { brace");
    }

    #[test]
    fn tag_styles_and_slugs() {
        assert_eq!(TagStyle::Title.apply("borrow-checker"), "Borrow Checker");
        assert_eq!(TagStyle::Spaced.apply("borrow-checker"), "borrow checker");
        assert_eq!(
            slugify("Is a Dutch oven worth it?"),
            "is-a-dutch-oven-worth-it"
        );
        assert_eq!(slugify("TIL: the :has() selector"), "til-the-has-selector");
        assert_eq!(slugify("???"), "post");
    }

    #[test]
    fn guids_are_stable_and_distinct() {
        assert_eq!(guid(1, 2, 3), guid(1, 2, 3));
        assert_ne!(guid(1, 2, 3), guid(1, 3, 2));
        assert_ne!(guid(1, 2, 3), guid(2, 2, 3));
        assert_eq!(guid(1, 2, 3).len(), "urn:uuid:".len() + 36);
    }
}
