#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use chrono::TimeZone;
use kith_store::{CoTag, TagBlogCell, TagName, TagWeek};

/// A hand-made store aggregate.
struct Fixture {
    stats: HubStats,
    until: DateTime<Utc>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            stats: HubStats::default(),
            until: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        }
    }

    fn tag(&mut self, name: &str) -> u32 {
        if let Some(i) = self.stats.tags.iter().position(|t| t.name == name) {
            return i as u32;
        }
        self.stats.tags.push(TagName {
            name: name.into(),
            display: name.to_uppercase(),
        });
        (self.stats.tags.len() - 1) as u32
    }

    /// Blog `blog` wrote `posts` posts tagged `tag`, `recent` of them lately.
    fn cell(&mut self, tag: &str, blog: i64, posts: u32, recent: u32) -> &mut Self {
        let tag = self.tag(tag);
        self.stats.cells.push(TagBlogCell {
            tag,
            blog: BlogId(blog),
            posts,
            recent,
            last: self.until,
        });
        *self.stats.blog_posts.entry(BlogId(blog)).or_default() += posts;
        self
    }

    fn window(&self) -> Window {
        Window::ending(self.until, 90, 4, 26)
    }

    fn compute(&self, params: &Params) -> Snapshot {
        compute(&self.stats, &self.window(), params)
    }
}

fn params() -> Params {
    Params {
        min_posts: 3,
        min_bloggers: 2,
        ..Params::default()
    }
}

/// Two practices (Go bloggers 1-6, Kubernetes bloggers 11-16), each writing under three
/// specific tags, plus a generic tag ("release") everyone uses.
fn two_practices() -> Fixture {
    let mut f = Fixture::new();
    for b in 1..=6 {
        f.cell("go", b, 5, 2).cell("goroutines", b, 3, 1);
        if b % 2 == 0 {
            f.cell("generics", b, 2, 1);
        }
        f.cell("release", b, 1, 0);
    }
    for b in 11..=16 {
        f.cell("kubernetes", b, 5, 2).cell("helm", b, 3, 1);
        if b % 2 == 1 {
            f.cell("operators", b, 2, 1);
        }
        f.cell("release", b, 1, 0);
    }
    f
}

#[test]
fn thresholds_decide_what_is_a_hub() {
    let mut f = Fixture::new();
    f.cell("many-posts-one-blogger", 1, 50, 5)
        .cell("two-bloggers", 1, 2, 1)
        .cell("two-bloggers", 2, 1, 1)
        .cell("too-few-posts", 1, 1, 1)
        .cell("too-few-posts", 2, 1, 1);
    let s = f.compute(&params());
    let tags: Vec<&str> = s.hubs.iter().map(|h| h.tag.as_str()).collect();
    assert_eq!(tags, vec!["two-bloggers"]);
    let h = s.hub("two-bloggers").unwrap();
    assert_eq!((h.posts, h.bloggers, h.recent_posts), (3, 2, 2));
    assert_eq!(h.display, "TWO-BLOGGERS");
    assert!(s.hub("too-few-posts").is_none());
}

#[test]
fn members_are_ranked_and_given_roles() {
    let mut f = Fixture::new();
    // Twenty bloggers: blog i wrote i recent posts (and one older one).
    for b in 1..=20 {
        f.cell("rust", b, b as u32 + 1, b as u32);
    }
    // A blogger with many old posts and nothing recent.
    f.cell("rust", 99, 40, 0);
    let s = f.compute(&params());
    let h = s.hub("rust").unwrap();
    assert_eq!(h.members.len(), 21);
    assert_eq!(h.members[0].blog, BlogId(20));
    let role_of = |b: i64| h.members.iter().find(|m| m.blog == BlogId(b)).unwrap().role;
    // 21 members: ceil(15%) = 4 core, ceil(20%) = 5 active.
    for b in [20, 19, 18, 17] {
        assert_eq!(role_of(b), Role::Core, "blog {b}");
    }
    for b in [16, 15, 14, 13, 12] {
        assert_eq!(role_of(b), Role::Active, "blog {b}");
    }
    assert_eq!(role_of(1), Role::Peripheral);
    // Forty old posts rank above a newcomer with one recent post but never make core.
    assert_eq!(role_of(99), Role::Peripheral);
    assert!(h.members.iter().position(|m| m.blog == BlogId(99)).unwrap() < 20);
    // Members are sorted by score.
    assert!(h.members.windows(2).all(|w| w[0].score >= w[1].score));
    // The blog's view lists its hubs with its role.
    let m = s.memberships(BlogId(20));
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].0.tag.as_str(), m[0].1.role), ("rust", Role::Core));
}

#[test]
fn related_hubs_count_distinct_bloggers_not_posts() {
    let mut f = two_practices();
    // One prolific blogger writes a lot under both "go" and "helm": still one blogger.
    f.cell("helm", 1, 100, 10);
    let s = f.compute(&params());
    let go = s.hub("go").unwrap();
    let related: Vec<&str> = go.related.iter().map(|r| r.tag.as_str()).collect();
    assert_eq!(related[0], "goroutines", "{related:?}");
    assert!(
        !related.contains(&"helm"),
        "one shared blogger makes no relation: {related:?}"
    );
    // The generic tag is related to both practices, but weakly: half its bloggers.
    let rel = go.related.iter().find(|r| r.tag == "release").unwrap();
    assert_eq!(rel.shared_bloggers, 6);
    assert!((rel.jaccard - 0.5).abs() < 1e-9, "{}", rel.jaccard);
    assert!(go.related[0].jaccard > rel.jaccard);
    // A generic tag is never a specific hub's closest relation.
    for tag in ["go", "goroutines", "kubernetes", "helm"] {
        assert_ne!(s.hub(tag).unwrap().related[0].tag, "release", "{tag}");
    }
}

#[test]
fn communities_separate_practices_and_are_reproducible() {
    let f = two_practices();
    let a = f.compute(&params());
    let b = f.compute(&params());
    let ids = |s: &Snapshot| {
        s.communities
            .iter()
            .map(|c| (c.id.clone(), c.hubs.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b), "same seed, same data, same communities");
    assert!(a.communities.len() >= 2, "{:?}", ids(&a));
    let go = a.hub("go").unwrap().community.clone().unwrap();
    let k8s = a.hub("kubernetes").unwrap().community.clone().unwrap();
    assert_ne!(go, k8s);
    assert_eq!(a.hub("goroutines").unwrap().community.as_ref(), Some(&go));
    assert_eq!(a.hub("helm").unwrap().community.as_ref(), Some(&k8s));
    for blog in 1..=6 {
        assert_eq!(
            a.blogs[&BlogId(blog)].primary.as_ref(),
            Some(&go),
            "blog {blog}"
        );
    }
    for blog in 11..=16 {
        assert_eq!(a.primary_community(BlogId(blog)).unwrap().id, k8s);
    }
    let c = a.community(&go).unwrap();
    assert_eq!(c.members.len(), 6);
    assert!(c.members.iter().all(|m| m.primary));
    assert!(c.name.contains("GO"), "{}", c.name);
    assert!(!c.edges.is_empty());
}

/// What a leader stores is what every other node serves: hubs, communities, kin.
#[test]
fn a_snapshot_survives_the_store_whole() {
    let a = two_practices().compute(&params());
    let bytes = a.encode().unwrap();
    let b = Snapshot::decode(&bytes).unwrap();
    // The same document (maps may list their keys in another order).
    let value = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).unwrap();
    assert!(value(&b.encode().unwrap()) == value(&bytes), "not the same");
    assert_eq!(b.hubs, a.hubs);
    assert_eq!(b.communities, a.communities);
    assert_eq!(b.hub("go"), a.hub("go"));
    for blog in [1, 11] {
        assert!(
            a.kin(BlogId(blog)).is_some(),
            "blog {blog} has kin to compare"
        );
        assert_eq!(b.kin(BlogId(blog)), a.kin(BlogId(blog)));
    }
    let tags = [("go".to_owned(), 3)];
    assert_eq!(
        b.match_kin(BlogId(99), &tags, 3),
        a.match_kin(BlogId(99), &tags, 3)
    );
    assert!(Snapshot::decode(b"{").is_err());
}

#[test]
fn communities_are_named_after_their_characteristic_hubs() {
    let s = two_practices().compute(&params());
    // "release" has the most bloggers, but half of them belong to the other community:
    // it does not lead a community's name nor give its id.
    let release = s.hub("release").unwrap().community.clone().unwrap();
    let c = s.community(&release).unwrap();
    assert!(c.hubs.contains(&"release".to_string()), "{:?}", c.hubs);
    assert_ne!(c.id, "release");
    assert!(!c.name.to_lowercase().starts_with("release"), "{}", c.name);
    for c in &s.communities {
        assert_eq!(c.hubs[0], c.id, "the id is the first-named hub");
    }
}

#[test]
fn weekly_activity_and_rising_tags() {
    let mut f = two_practices();
    let go = f.tag("go");
    let wasm = f.tag("wasm");
    let last = week_of(f.until);
    // Go: 2 posts a week for 22 weeks, then 10 a week for the last 4.
    for w in 0..26 {
        let posts = if w >= 22 { 10 } else { 2 };
        f.stats.weeks.push(TagWeek {
            tag: go,
            week: last - 25 + w,
            posts,
        });
    }
    // "wasm" appears with "go" 6 times lately and once before; "goroutines" steadily.
    let goroutines = f.tag("goroutines");
    f.stats.co_tags.push(CoTag {
        tag: go,
        other: wasm,
        recent: 6,
        posts: 7,
    });
    f.stats.co_tags.push(CoTag {
        tag: go,
        other: goroutines,
        recent: 3,
        posts: 18,
    });
    let s = f.compute(&params());
    let hub = s.hub("go").unwrap();
    assert_eq!(hub.weekly.len(), 26);
    assert_eq!(hub.weekly.last().unwrap().posts, 10);
    assert_eq!(hub.weekly[0].posts, 2);
    assert_eq!(
        hub.weekly.last().unwrap().week,
        day(week_start_day(last)),
        "the last bar is this week"
    );
    // 40 recent posts against 8 expected from the baseline: (40+1)/(8+1).
    assert!((hub.trend - 41.0 / 9.0).abs() < 1e-9, "{}", hub.trend);
    let rising: Vec<&str> = hub.rising.iter().map(|r| r.tag.as_str()).collect();
    assert_eq!(rising, vec!["wasm"]);
    assert_eq!(s.rising_hubs(1, 5)[0].tag, "go");
}

#[test]
fn an_empty_store_has_no_hubs() {
    let s = Fixture::new().compute(&params());
    assert!(s.hubs.is_empty() && s.communities.is_empty() && s.blogs.is_empty());
}

#[test]
fn displays_follow_the_forms_authors_use() {
    let mut s = two_practices().compute(&params());
    let displays: HashMap<String, String> = [
        ("go".to_string(), "Go".to_string()),
        ("goroutines".to_string(), "Goroutines".to_string()),
        ("helm".to_string(), " ".to_string()),
    ]
    .into_iter()
    .collect();
    s.set_displays(&displays);
    assert_eq!(s.hub("go").unwrap().display, "Go");
    // A blank form is ignored.
    assert_ne!(s.hub("helm").unwrap().display.trim(), "");
    let go = s.hub("go").unwrap().community.clone().unwrap();
    let name = &s.community(&go).unwrap().name;
    assert!(name.contains("Go") && name.contains("Goroutines"), "{name}");
    assert!(
        s.hubs
            .iter()
            .flat_map(|h| &h.related)
            .filter(|r| r.tag == "go")
            .all(|r| r.display == "Go")
    );
}

/// Each hub gets the newest exchanges where either post carries its tag, at most
/// `params.conversations`, whatever order they come in; tags that are not hubs get none.
#[test]
fn conversations_go_to_the_hubs_of_either_posts_tags() {
    use kith_model::PostId;
    use kith_store::{PostRef, Reply, TaggedReply};
    let f = two_practices();
    let mut s = f.compute(&Params {
        conversations: 2,
        ..params()
    });
    let post = |id: i64, hours: i64| PostRef {
        id: PostId(id),
        blog_id: BlogId(id / 100),
        title: format!("post {id}"),
        url: None,
        published: f.until - Duration::hours(hours),
    };
    let reply = |from: i64, to: i64, hours: i64, tags: &[&str]| TaggedReply {
        reply: Reply {
            from: post(from, hours),
            to: post(to, 100),
        },
        tags: tags.iter().map(|t| t.to_string()).collect(),
    };
    s.set_conversations(&[
        reply(301, 101, 5, &["go", "release"]),
        reply(302, 102, 1, &["go"]),
        reply(1101, 1201, 3, &["helm", "not-a-hub"]),
        reply(303, 103, 2, &["go", "kubernetes"]),
    ]);
    let ids = |s: &Snapshot, tag: &str| -> Vec<i64> {
        s.hub(tag)
            .unwrap()
            .conversations
            .iter()
            .map(|r| r.from.id.0)
            .collect()
    };
    assert_eq!(ids(&s, "go"), [302, 303]);
    assert_eq!(ids(&s, "kubernetes"), [303]);
    assert_eq!(ids(&s, "helm"), [1101]);
    assert_eq!(ids(&s, "release"), [301]);
    assert!(ids(&s, "goroutines").is_empty());
    // Set again, not added to.
    s.set_conversations(&[]);
    assert!(ids(&s, "go").is_empty());
}
