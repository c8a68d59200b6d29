//! Kindred blogs: for each blogger, the people whose writing is closest to theirs.
//!
//! 1. A blog's **tag profile** weights each tag it writes by how characteristic the tag
//!    is of the blog (the share of its posts carrying it) times how rare the tag is across
//!    blogs (`ln(blogs / blogs writing it)`): a tag everyone uses, or one a blogger used
//!    once among hundreds of posts, says little about who they are. Only the
//!    [`KinParams::profile_tags`] heaviest tags are kept, and the profile is scaled to
//!    unit length, so two profiles compare by cosine.
//! 2. Cosines come from an **inverted index** of the profiles (tag -> the blogs whose
//!    profile holds it, heaviest first), never from all pairs of blogs or posts: a blog
//!    meets only the blogs sharing one of its characteristic tags. A tag's list is cut at
//!    [`KinParams::posting_cap`] blogs (those for whom it weighs most), which bounds the
//!    work at `blogs × profile_tags × posting_cap` however common a tag is; a pair counts
//!    a tag only when both are in its list, so the similarity stays symmetric.
//! 3. **Links** between two blogs (posts of one linking to posts of the other, both ways)
//!    are a further bond: `score = cosine + link_weight × links / (links + 2)`.
//! 4. Each kin comes with its **reasons**: the hubs both are members of (most telling
//!    first), the links, and a community both belong to.
//!
//! A blog with fewer than [`KinParams::min_posts`] posts is not judged
//! ([`BlogKin::TooLittle`]) rather than given strangers; kin below
//! [`KinParams::min_score`] are not kin.
//!
//! [`KinIndex`] keeps the profiles' index in the snapshot, so a blog that is not public
//! yet (a newcomer waiting for verification) can be matched against the public ones from
//! its own tags ([`KinIndex::match_profile`]).

use crate::{BlogCommunities, Hub};
use kith_model::BlogId;
use kith_store::HubStats;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// How kin are found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KinParams {
    /// Tagged posts a blog needs before its kin are judged.
    pub min_posts: u32,
    /// Kin kept per blog, best first (0: kin are not computed).
    pub limit: usize,
    /// Least score of a kin.
    pub min_score: f64,
    /// Weight of the link bond (`links / (links + 2)`, below 1) against the cosine.
    pub link_weight: f64,
    /// Tags kept in a profile, the most characteristic.
    pub profile_tags: usize,
    /// Blogs per tag in the inverted index, those for whom the tag weighs most.
    pub posting_cap: usize,
}

impl Default for KinParams {
    fn default() -> Self {
        Self {
            min_posts: 3,
            limit: 12,
            min_score: 0.1,
            link_weight: 0.25,
            profile_tags: 32,
            posting_cap: 128,
        }
    }
}

/// A kindred blog and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kin {
    pub blog: BlogId,
    /// Cosine of the tag profiles plus the link bond.
    pub score: f64,
    /// The cosine of the two tag profiles alone.
    pub similarity: f64,
    /// Hub tags both blogs are members of, most telling first.
    pub shared_hubs: Vec<String>,
    /// Links between the two blogs, both ways.
    pub links: u32,
    /// A community both belong to (the blog's own first, by share), if any.
    pub community: Option<String>,
}

/// A blog's kin, or why there are none to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BlogKin {
    /// Judged: the closest blogs, best first (empty when nobody writes close enough).
    Kin { kin: Vec<Kin> },
    /// Too little writing to judge.
    TooLittle { posts: u32, needed: u32 },
}

impl BlogKin {
    /// The kin, none when not judged.
    pub fn kin(&self) -> &[Kin] {
        match self {
            BlogKin::Kin { kin } => kin,
            BlogKin::TooLittle { .. } => &[],
        }
    }
}

/// The profiles' inverted index, kept with the snapshot.
#[derive(Debug, Clone, Default)]
pub struct KinIndex {
    /// Tag name -> (rarity `ln(blogs / writers)`, its list: (blog slot, weight), heaviest
    /// first, at most [`KinParams::posting_cap`]).
    tags: HashMap<String, (f64, Vec<(u32, f32)>)>,
    /// Blog of each slot.
    blogs: Vec<BlogId>,
    /// Each blog's hubs (hub index) with the tag's weight in its full profile, by hub.
    hubs: Vec<Vec<(u32, f32)>>,
    /// The hubs' tags, by hub index.
    hub_tags: Vec<String>,
    params: KinParams,
}

/// Every public blog's kin and the index they came from.
pub(crate) fn compute(
    stats: &HubStats,
    hubs: &[Hub],
    communities: &BTreeMap<BlogId, BlogCommunities>,
    params: &KinParams,
) -> (BTreeMap<BlogId, BlogKin>, KinIndex) {
    // No kin wanted (limit 0): nothing to compute.
    if params.limit == 0 {
        let index = KinIndex {
            params: params.clone(),
            ..KinIndex::default()
        };
        return (BTreeMap::new(), index);
    }
    // Slots: blogs in id order.
    let mut blogs: Vec<BlogId> = stats.blog_posts.keys().copied().collect();
    blogs.sort_unstable();
    let slot: HashMap<BlogId, u32> = blogs
        .iter()
        .enumerate()
        .map(|(i, &b)| (b, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let n = blogs.len();
    let posts_of = |b: BlogId| f64::from(stats.blog_posts.get(&b).copied().unwrap_or(0).max(1));

    // Writers per tag, and rarity.
    let mut writers = vec![0u32; stats.tags.len()];
    for c in &stats.cells {
        writers[c.tag as usize] += 1;
    }
    let rarity = |t: u32| (n as f64 / f64::from(writers[t as usize].max(1))).ln();

    // Full profiles: (tag, weight) per blog; tags only one blog writes cannot be shared.
    let mut full: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    for c in &stats.cells {
        let Some(&s) = slot.get(&c.blog) else {
            continue;
        };
        if writers[c.tag as usize] < 2 {
            continue;
        }
        let w = f64::from(c.posts) / posts_of(c.blog) * rarity(c.tag);
        if w > 0.0 {
            full[s as usize].push((c.tag, w));
        }
    }

    // Each blog's hubs, with the weight of the hub's tag in its full profile.
    let hub_of_tag: HashMap<&str, u32> = hubs
        .iter()
        .enumerate()
        .map(|(h, hub)| (hub.tag.as_str(), u32::try_from(h).unwrap_or(u32::MAX)))
        .collect();
    let mut blog_hubs: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for (s, profile) in full.iter().enumerate() {
        for &(t, w) in profile {
            if let Some(&h) = hub_of_tag.get(stats.tags[t as usize].name.as_str()) {
                blog_hubs[s].push((h, w as f32));
            }
        }
        blog_hubs[s].sort_unstable_by_key(|&(h, _)| h);
    }

    // Truncated, unit-length profiles and the inverted index.
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); stats.tags.len()];
    for (s, profile) in full.iter_mut().enumerate() {
        profile.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        profile.truncate(params.profile_tags);
        let norm = profile.iter().map(|&(_, w)| w * w).sum::<f64>().sqrt();
        if norm <= 0.0 {
            continue;
        }
        for &(t, w) in profile.iter() {
            postings[t as usize].push((u32::try_from(s).unwrap_or(u32::MAX), (w / norm) as f32));
        }
    }
    for list in &mut postings {
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(params.posting_cap);
    }

    // Links both ways per pair of slots.
    let mut links: HashMap<(u32, u32), u32> = HashMap::new();
    for l in &stats.blog_links {
        if let (Some(&a), Some(&b)) = (slot.get(&l.from), slot.get(&l.to)) {
            *links.entry((a.min(b), a.max(b))).or_default() += l.links;
        }
    }
    let mut linked: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for (&(a, b), &k) in &links {
        linked[a as usize].push((b, k));
        linked[b as usize].push((a, k));
    }

    // Each blog's own entries in the index, by slot: (tag, weight), in tag order (so sums
    // run in the same order on every node).
    let mut own: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for (t, list) in postings.iter().enumerate() {
        for &(s, w) in list {
            own[s as usize].push((u32::try_from(t).unwrap_or(u32::MAX), w));
        }
    }
    let mut out = BTreeMap::new();
    let mut acc = vec![0f32; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut judged: Vec<usize> = Vec::new();
    for (s, &blog) in blogs.iter().enumerate() {
        let posts = stats.blog_posts.get(&blog).copied().unwrap_or(0);
        if posts < params.min_posts {
            out.insert(
                blog,
                BlogKin::TooLittle {
                    posts,
                    needed: params.min_posts,
                },
            );
        } else {
            judged.push(s);
        }
    }

    let index = KinIndex {
        tags: postings
            .iter()
            .enumerate()
            .filter(|(_, list)| !list.is_empty())
            .map(|(t, list)| {
                let t32 = u32::try_from(t).unwrap_or(u32::MAX);
                (stats.tags[t].name.clone(), (rarity(t32), list.clone()))
            })
            .collect(),
        blogs,
        hubs: blog_hubs,
        hub_tags: hubs.iter().map(|h| h.tag.clone()).collect(),
        params: params.clone(),
    };

    for s in judged {
        let s32 = u32::try_from(s).unwrap_or(u32::MAX);
        for &(t, w) in &own[s] {
            for &(o, wo) in &postings[t as usize] {
                if o != s32 {
                    if acc[o as usize] == 0.0 {
                        touched.push(o);
                    }
                    acc[o as usize] += w * wo;
                }
            }
        }
        let kin = index.rank(s32, &mut acc, &mut touched, &linked[s], communities);
        out.insert(index.blogs[s], BlogKin::Kin { kin });
    }
    (out, index)
}

impl KinIndex {
    /// Kin for the cosines accumulated in `acc` (cleared on the way) and the links of
    /// slot `s` (`None` for a blog outside the index).
    fn rank(
        &self,
        s: u32,
        acc: &mut [f32],
        touched: &mut Vec<u32>,
        linked: &[(u32, u32)],
        communities: &BTreeMap<BlogId, BlogCommunities>,
    ) -> Vec<Kin> {
        self.rank_with(Some(s), None, acc, touched, linked, communities)
    }

    fn rank_with(
        &self,
        s: Option<u32>,
        own: Option<(BlogId, &[(u32, f32)])>,
        acc: &mut [f32],
        touched: &mut Vec<u32>,
        linked: &[(u32, u32)],
        communities: &BTreeMap<BlogId, BlogCommunities>,
    ) -> Vec<Kin> {
        let p = &self.params;
        let mut links: HashMap<u32, u32> = HashMap::new();
        for &(o, k) in linked {
            if acc[o as usize] == 0.0 {
                touched.push(o);
            }
            links.insert(o, k);
        }
        let (blog, my_hubs): (BlogId, &[(u32, f32)]) = match (s, own) {
            (Some(s), _) => (self.blogs[s as usize], &self.hubs[s as usize]),
            (None, Some(o)) => o,
            (None, None) => return Vec::new(),
        };
        let mine = communities.get(&blog);
        let mut kin: Vec<Kin> = touched
            .drain(..)
            .filter(|&o| Some(o) != s)
            .filter_map(|o| {
                let similarity = f64::from(std::mem::take(&mut acc[o as usize]));
                let k = links.get(&o).copied().unwrap_or(0);
                let score = similarity + p.link_weight * f64::from(k) / (f64::from(k) + 2.0);
                (score >= p.min_score).then_some((o, similarity, score, k))
            })
            .map(|(o, similarity, score, k)| {
                let other = self.blogs[o as usize];
                Kin {
                    blog: other,
                    score,
                    similarity,
                    shared_hubs: Vec::new(),
                    links: k,
                    community: shared_community(mine, communities.get(&other)),
                }
            })
            .collect();
        kin.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.blog.cmp(&b.blog)));
        kin.truncate(p.limit);
        for k in &mut kin {
            if let Ok(o) = self.blogs.binary_search(&k.blog) {
                k.shared_hubs = shared_hubs(my_hubs, &self.hubs[o])
                    .into_iter()
                    .filter_map(|h| self.hub_tags.get(h as usize).cloned())
                    .collect();
            }
        }
        kin
    }

    /// Kin of a blog outside the index (one not public yet) from its own tags: `tags` are
    /// (normal-form tag, posts carrying it) over its `posts` posts, `communities` the
    /// public blogs' communities.
    pub fn match_profile(
        &self,
        blog: BlogId,
        tags: &[(String, u32)],
        posts: u32,
        communities: &BTreeMap<BlogId, BlogCommunities>,
    ) -> BlogKin {
        let p = &self.params;
        if posts < p.min_posts {
            return BlogKin::TooLittle {
                posts,
                needed: p.min_posts,
            };
        }
        // The profile under the index's rarities: tags no public blog writes weigh nothing.
        let mut profile: Vec<(&str, f64)> = tags
            .iter()
            .filter_map(|(t, k)| {
                let (rarity, _) = self.tags.get(t)?;
                let w = f64::from(*k) / f64::from(posts.max(1)) * rarity;
                (w > 0.0).then_some((t.as_str(), w))
            })
            .collect();
        profile.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        profile.truncate(p.profile_tags);
        let norm = profile.iter().map(|&(_, w)| w * w).sum::<f64>().sqrt();
        let mut acc = vec![0f32; self.blogs.len()];
        let mut touched = Vec::new();
        if norm > 0.0 {
            for &(t, w) in &profile {
                for &(o, wo) in &self.tags[t].1 {
                    if acc[o as usize] == 0.0 {
                        touched.push(o);
                    }
                    acc[o as usize] += (w / norm) as f32 * wo;
                }
            }
        }
        let hub_of_tag: HashMap<&str, u32> = self
            .hub_tags
            .iter()
            .enumerate()
            .map(|(h, tag)| (tag.as_str(), u32::try_from(h).unwrap_or(u32::MAX)))
            .collect();
        let mut my_hubs: Vec<(u32, f32)> = tags
            .iter()
            .filter_map(|(t, k)| {
                let &h = hub_of_tag.get(t.as_str())?;
                let rarity = self.tags.get(t).map_or(0.0, |e| e.0);
                Some((h, (f64::from(*k) / f64::from(posts.max(1)) * rarity) as f32))
            })
            .collect();
        my_hubs.sort_unstable_by_key(|&(h, _)| h);
        let kin = self.rank_with(
            None,
            Some((blog, &my_hubs)),
            &mut acc,
            &mut touched,
            &[],
            communities,
        );
        BlogKin::Kin {
            kin: kin.into_iter().filter(|k| k.blog != blog).collect(),
        }
    }
}

/// Hubs in both lists (hub index, weight; sorted by hub), most telling first: by the
/// product of the two weights.
fn shared_hubs(a: &[(u32, f32)], b: &[(u32, f32)]) -> Vec<u32> {
    let (mut i, mut j) = (0, 0);
    let mut both: Vec<(u32, f32)> = Vec::new();
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both.push((a[i].0, a[i].1 * b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    both.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    both.into_iter().map(|(h, _)| h).collect()
}

/// The first of `a`'s communities (by share) that `b` belongs to.
fn shared_community(a: Option<&BlogCommunities>, b: Option<&BlogCommunities>) -> Option<String> {
    let (a, b) = (a?, b?);
    a.shares
        .iter()
        .map(|(c, _)| c)
        .find(|c| b.shares.iter().any(|(d, _)| d == *c))
        .cloned()
}

/// Posts of a blog that is not public yet read to match it ([`of_blog`]): its newest.
pub const NEWCOMER_POSTS: usize = 500;

/// The kin of `blog` under `snapshot`: what the snapshot computed for a public blog; for
/// one that is not public yet (a newcomer waiting for verification), its newest
/// [`NEWCOMER_POSTS`] posts' tags matched against the public blogs.
pub async fn of_blog(
    snapshot: &crate::Snapshot,
    store: &kith_store::DynStore,
    blog: &kith_model::Blog,
) -> kith_store::Result<BlogKin> {
    if let Some(kin) = snapshot.kin(blog.id) {
        return Ok(kin.clone());
    }
    let posts = store
        .latest_posts(kith_store::PostQuery {
            limit: NEWCOMER_POSTS,
            blog: Some(blog.id),
            public_only: false,
            ..kith_store::PostQuery::default()
        })
        .await?;
    Ok(of_posts(snapshot, blog.id, &posts))
}

/// The kin of `blog` whose newest posts are `posts`: the snapshot's for a public blog,
/// else those posts' tags matched against the public blogs.
pub fn of_posts(snapshot: &crate::Snapshot, blog: BlogId, posts: &[kith_model::Post]) -> BlogKin {
    match snapshot.kin(blog) {
        Some(kin) => kin.clone(),
        None => snapshot.match_kin(
            blog,
            &tag_counts(posts),
            u32::try_from(posts.len()).unwrap_or(u32::MAX),
        ),
    }
}

/// (tag, posts carrying it) over `posts`, each tag once per post.
pub fn tag_counts(posts: &[kith_model::Post]) -> Vec<(String, u32)> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for p in posts {
        let mut tags: Vec<&str> = p.tags.iter().map(|t| t.tag.as_str()).collect();
        tags.sort_unstable();
        tags.dedup();
        for t in tags {
            *counts.entry(t).or_default() += 1;
        }
    }
    counts.into_iter().map(|(t, k)| (t.to_owned(), k)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::{Params, Snapshot, Window};
    use chrono::{TimeZone, Utc};
    use kith_store::{BlogLink, TagBlogCell, TagName};

    /// A blog of a hand-made aggregate: `(blog, posts, [(tag, posts)])`.
    type BlogRow<'a> = (i64, u32, &'a [(&'a str, u32)]);

    /// A hand-made aggregate.
    fn stats(blogs: &[BlogRow<'_>], links: &[(i64, i64, u32)]) -> HubStats {
        let mut s = HubStats::default();
        for &(blog, posts, tags) in blogs {
            s.blog_posts.insert(BlogId(blog), posts);
            for &(tag, k) in tags {
                let t = match s.tags.iter().position(|t| t.name == tag) {
                    Some(t) => t,
                    None => {
                        s.tags.push(TagName {
                            name: tag.into(),
                            display: tag.into(),
                        });
                        s.tags.len() - 1
                    }
                };
                s.cells.push(TagBlogCell {
                    tag: t as u32,
                    blog: BlogId(blog),
                    posts: k,
                    recent: k,
                    last: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
                });
            }
        }
        s.blog_links = links
            .iter()
            .map(|&(from, to, links)| BlogLink {
                from: BlogId(from),
                to: BlogId(to),
                links,
            })
            .collect();
        s
    }

    fn snapshot(s: &HubStats) -> Snapshot {
        let params = Params {
            min_posts: 2,
            min_bloggers: 2,
            ..Params::default()
        };
        let until = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        crate::compute(s, &Window::ending(until, 90, 4, 26), &params)
    }

    fn ids(kin: &BlogKin) -> Vec<i64> {
        kin.kin().iter().map(|k| k.blog.0).collect()
    }

    /// Rustaceans (1-4) and gophers (5-8); everyone writes "programming" a lot, and the
    /// gopher 8 also wrote one post about rust among many.
    fn two_crafts() -> HubStats {
        stats(
            &[
                (1, 10, &[("rust", 8), ("ownership", 3), ("programming", 6)]),
                (2, 12, &[("rust", 9), ("cargo", 4), ("programming", 8)]),
                (
                    3,
                    6,
                    &[
                        ("rust", 4),
                        ("ownership", 2),
                        ("cargo", 2),
                        ("programming", 4),
                    ],
                ),
                (4, 9, &[("rust", 5), ("wasm", 3), ("programming", 9)]),
                (5, 10, &[("go", 8), ("goroutines", 3), ("programming", 7)]),
                (6, 10, &[("go", 9), ("modules", 4), ("programming", 7)]),
                (
                    7,
                    8,
                    &[
                        ("go", 6),
                        ("goroutines", 2),
                        ("modules", 2),
                        ("programming", 8),
                    ],
                ),
                (
                    8,
                    40,
                    &[("go", 30), ("modules", 5), ("rust", 1), ("programming", 30)],
                ),
                (9, 2, &[("rust", 2)]),
            ],
            &[],
        )
    }

    #[test]
    fn kin_write_in_the_same_craft_and_say_which_hubs_they_share() {
        let s = snapshot(&two_crafts());
        // Blog 9 (two rust posts) is too new to be judged, but is a rustacean.
        let (rust, go) = (&[1, 2, 3, 4, 9][..], &[5, 6, 7, 8][..]);
        for (blog, craft) in [(1, rust), (2, rust), (4, rust), (5, go), (7, go)] {
            let kin = s.kin(BlogId(blog)).unwrap();
            let top: Vec<i64> = ids(kin).into_iter().take(3).collect();
            assert_eq!(top.len(), 3, "blog {blog}");
            assert!(
                top.iter().all(|b| craft.contains(b) && *b != blog),
                "blog {blog}: {top:?}"
            );
        }
        // Scores best first; the reasons are hubs both are members of.
        for (&blog, kin) in &s.kin {
            let kin = kin.kin();
            assert!(kin.windows(2).all(|w| w[0].score >= w[1].score), "{kin:?}");
            for k in kin {
                assert!(!k.shared_hubs.is_empty(), "{blog}: {k:?}");
                for tag in &k.shared_hubs {
                    let hub = s.hub(tag).expect("a shared hub is a hub");
                    assert!(hub.members.iter().any(|m| m.blog == blog), "{tag}");
                    assert!(hub.members.iter().any(|m| m.blog == k.blog), "{tag}");
                }
            }
        }
        // The tag everyone uses is the least telling reason.
        for k in s.kin(BlogId(1)).unwrap().kin() {
            if k.shared_hubs.len() > 1 && k.shared_hubs.contains(&"programming".to_owned()) {
                assert_eq!(k.shared_hubs.last().unwrap(), "programming", "{k:?}");
            }
        }
        // One rust post among forty does not make the gopher a rustacean's closest kin.
        let of_1 = ids(s.kin(BlogId(1)).unwrap());
        assert!(
            of_1.iter().position(|&b| b == 8).is_none_or(|p| p >= 3),
            "{of_1:?}"
        );
    }

    #[test]
    fn kinship_is_symmetric() {
        let s = snapshot(&two_crafts());
        for (&a, kin) in &s.kin {
            for k in kin.kin() {
                if let Some(back) = s.kin(k.blog).unwrap().kin().iter().find(|j| j.blog == a) {
                    assert!((back.similarity - k.similarity).abs() < 1e-6, "{a} {k:?}");
                    assert_eq!(back.links, k.links);
                }
            }
        }
    }

    #[test]
    fn too_little_writing_is_said_rather_than_guessed() {
        let s = snapshot(&two_crafts());
        assert_eq!(
            s.kin(BlogId(9)),
            Some(&BlogKin::TooLittle {
                posts: 2,
                needed: 3
            })
        );
        assert_eq!(s.kin(BlogId(42)), None, "not a public blog");
        // A blog whose tags nobody shares is judged, and has no kin.
        let lonely = snapshot(&stats(
            &[
                (1, 5, &[("rust", 5)]),
                (2, 5, &[("rust", 5)]),
                (3, 5, &[("knitting", 5)]),
            ],
            &[],
        ));
        assert_eq!(
            lonely.kin(BlogId(3)),
            Some(&BlogKin::Kin { kin: Vec::new() })
        );
        assert_eq!(ids(lonely.kin(BlogId(1)).unwrap()), [2]);
    }

    #[test]
    fn links_bind_two_blogs_and_are_counted_both_ways() {
        let mut s = two_crafts();
        let without = snapshot(&s);
        let rank_of_4 = |snap: &Snapshot| {
            ids(snap.kin(BlogId(1)).unwrap())
                .iter()
                .position(|&b| b == 4)
        };
        s.blog_links = vec![
            BlogLink {
                from: BlogId(1),
                to: BlogId(4),
                links: 3,
            },
            BlogLink {
                from: BlogId(4),
                to: BlogId(1),
                links: 2,
            },
            BlogLink {
                from: BlogId(1),
                to: BlogId(6),
                links: 1,
            },
        ];
        let with = snapshot(&s);
        let k = with.kin(BlogId(1)).unwrap().kin();
        let four = k.iter().find(|k| k.blog == BlogId(4)).unwrap();
        assert_eq!(four.links, 5);
        assert!(rank_of_4(&with).unwrap() <= rank_of_4(&without).unwrap());
        let before = without
            .kin(BlogId(1))
            .unwrap()
            .kin()
            .iter()
            .find(|k| k.blog == BlogId(4))
            .unwrap()
            .score;
        assert!(four.score > before, "{} vs {before}", four.score);
        // A link alone makes a bond, with no shared hub to show.
        let six = k.iter().find(|k| k.blog == BlogId(6));
        assert!(six.is_some_and(|k| k.links == 1), "{k:?}");
    }

    #[test]
    fn a_newcomer_is_matched_from_its_own_tags() {
        let s = snapshot(&two_crafts());
        let tags = vec![
            ("go".to_owned(), 4),
            ("goroutines".to_owned(), 2),
            ("unknown".to_owned(), 1),
        ];
        let kin = s.match_kin(BlogId(100), &tags, 5);
        let top: Vec<i64> = ids(&kin).into_iter().take(3).collect();
        assert!(top.iter().all(|b| (5..=8).contains(b)), "{top:?}");
        assert_eq!(kin.kin()[0].shared_hubs[0], "go");
        assert_eq!(
            s.match_kin(BlogId(100), &tags, 2),
            BlogKin::TooLittle {
                posts: 2,
                needed: 3
            }
        );
    }

    #[test]
    fn a_common_tags_list_is_cut_and_the_work_with_it() {
        // 300 blogs share one tag, 300 others another; with lists cut at 16, each blog
        // meets at most 16 others through a tag, and kin lists stay within the limit.
        let tags: Vec<BlogRow<'_>> = (1..=600)
            .map(|b| {
                (
                    b,
                    5,
                    if b <= 300 {
                        &[("common", 5)][..]
                    } else {
                        &[("other", 5)][..]
                    },
                )
            })
            .collect();
        let s = stats(&tags, &[]);
        let mut p = KinParams {
            posting_cap: 16,
            ..KinParams::default()
        };
        let (kin, index) = compute(&s, &[], &BTreeMap::new(), &p);
        assert_eq!(index.tags["common"].1.len(), 16);
        assert!(kin.values().all(|k| k.kin().len() <= p.limit));
        assert!(kin.values().any(|k| !k.kin().is_empty()));
        // A tag every blog writes is not rare: it says nothing, and nobody is kin by it.
        let everyone: Vec<BlogRow<'_>> =
            (1..=50).map(|b| (b, 5, &[("everything", 5)][..])).collect();
        let (kin, _) = compute(&stats(&everyone, &[]), &[], &BTreeMap::new(), &p);
        assert!(kin.values().all(|k| k.kin().is_empty()));
        p.limit = 2;
        let (kin, _) = compute(&two_crafts(), &[], &BTreeMap::new(), &p);
        assert!(kin.values().all(|k| k.kin().len() <= 2));
        assert!(kin.values().any(|k| k.kin().len() == 2));
    }
}
