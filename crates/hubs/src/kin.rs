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
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How kin are found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// A kin as the snapshot keeps it: what ranks it. Its reasons (the hubs both write in, a
/// shared community) are read when it is shown ([`KinIndex::kin_of`]), so the snapshot
/// holds a few bytes per kin rather than lists of names.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct KinEntry {
    slot: u32,
    score: f32,
    similarity: f32,
    links: u32,
}

/// A blog's ranked kin, or its posts when too few to judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Ranked {
    TooLittle { posts: u32 },
    Kin(Vec<KinEntry>),
}

/// The profiles' inverted index and every public blog's ranked kin, kept with the snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KinIndex {
    /// Each slot's kin, best first.
    ranked: Vec<Ranked>,
    /// Tag name -> (rarity `ln(blogs / writers)`, its list: (blog slot, weight), heaviest
    /// first, at most [`KinParams::posting_cap`]).
    tags: HashMap<String, (f64, Vec<(u32, f32)>)>,
    /// Blog of each slot, in id order.
    blogs: Vec<BlogId>,
    /// Each blog's hubs (hub index) with the tag's weight in its full profile, by hub.
    hubs: Vec<Vec<(u32, f32)>>,
    /// The hubs' tags, by hub index.
    hub_tags: Vec<String>,
    params: KinParams,
}

/// Slots of blogs (their place in id order): a table by id when ids are dense enough (the
/// store's row ids), else a map.
enum Slots {
    Dense(Vec<u32>),
    Map(HashMap<BlogId, u32>),
}

impl Slots {
    fn new(blogs: &[BlogId]) -> Slots {
        let max = blogs.iter().map(|b| b.0).max().unwrap_or(0);
        let slot = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        match usize::try_from(max) {
            Ok(max) if blogs.iter().all(|b| b.0 >= 0) && max <= 16 * blogs.len() + 1024 => {
                let mut t = vec![u32::MAX; max + 1];
                for (i, b) in blogs.iter().enumerate() {
                    if let Ok(id) = usize::try_from(b.0) {
                        t[id] = slot(i);
                    }
                }
                Slots::Dense(t)
            }
            _ => Slots::Map(
                blogs
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| (b, slot(i)))
                    .collect(),
            ),
        }
    }

    fn of(&self, blog: BlogId) -> Option<u32> {
        match self {
            Slots::Dense(t) => usize::try_from(blog.0)
                .ok()
                .and_then(|i| t.get(i))
                .copied()
                .filter(|&s| s != u32::MAX),
            Slots::Map(m) => m.get(&blog).copied(),
        }
    }
}

/// Every public blog's kin, in the index they are kept in.
pub(crate) fn compute(stats: &HubStats, hubs: &[Hub], params: &KinParams) -> KinIndex {
    // No kin wanted (limit 0): nothing to compute.
    if params.limit == 0 {
        return KinIndex {
            params: params.clone(),
            ..KinIndex::default()
        };
    }
    // Slots: blogs in id order.
    let mut blogs: Vec<BlogId> = stats.blog_posts.keys().copied().collect();
    blogs.sort_unstable();
    let slots = Slots::new(&blogs);
    let n = blogs.len();
    let posts: Vec<u32> = blogs
        .iter()
        .map(|b| stats.blog_posts.get(b).copied().unwrap_or(0))
        .collect();

    // Writers per tag, and rarity.
    let mut writers = vec![0u32; stats.tags.len()];
    for c in &stats.cells {
        writers[c.tag as usize] += 1;
    }
    let rarity = |t: u32| (n as f64 / f64::from(writers[t as usize].max(1))).ln();
    // Hub index of each tag.
    let hub_of_tag: HashMap<&str, u32> = hubs
        .iter()
        .enumerate()
        .map(|(h, hub)| (hub.tag.as_str(), u32::try_from(h).unwrap_or(u32::MAX)))
        .collect();
    let tag_hub: Vec<Option<u32>> = stats
        .tags
        .iter()
        .map(|t| hub_of_tag.get(t.name.as_str()).copied())
        .collect();

    // Full profiles: (tag, weight) per blog; tags only one blog writes cannot be shared.
    // Each blog's hubs, with the weight of the hub's tag in its full profile.
    let mut full: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    let mut blog_hubs: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for c in &stats.cells {
        let Some(s) = slots.of(c.blog) else {
            continue;
        };
        if writers[c.tag as usize] < 2 {
            continue;
        }
        let w = f64::from(c.posts) / f64::from(posts[s as usize].max(1)) * rarity(c.tag);
        if w > 0.0 {
            full[s as usize].push((c.tag, w));
            if let Some(h) = tag_hub[c.tag as usize] {
                blog_hubs[s as usize].push((h, w as f32));
            }
        }
    }
    for list in &mut blog_hubs {
        list.sort_unstable_by_key(|&(h, _)| h);
        list.shrink_to_fit();
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
    drop(full);
    for list in &mut postings {
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(params.posting_cap);
    }

    // Links both ways per pair of slots.
    let mut links: HashMap<(u32, u32), u32> = HashMap::new();
    for l in &stats.blog_links {
        if let (Some(a), Some(b)) = (slots.of(l.from), slots.of(l.to)) {
            *links.entry((a.min(b), a.max(b))).or_default() += l.links;
        }
    }
    let mut linked: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for (&(a, b), &k) in &links {
        linked[a as usize].push((b, k));
        linked[b as usize].push((a, k));
    }

    // Each blog's own entries in the index, in tag order (so sums run in the same order on
    // every node).
    let mut own: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for (t, list) in postings.iter().enumerate() {
        for &(s, w) in list {
            own[s as usize].push((u32::try_from(t).unwrap_or(u32::MAX), w));
        }
    }
    let mut index = KinIndex {
        ranked: Vec::new(),
        tags: HashMap::new(),
        blogs,
        hubs: blog_hubs,
        hub_tags: hubs.iter().map(|h| h.tag.clone()).collect(),
        params: params.clone(),
    };
    // Ranking, on every core: each worker takes a run of slots with buffers of its own.
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4)
        .min(n.max(1));
    let chunk = n.div_ceil(workers).max(1);
    let rank_run = |range: std::ops::Range<usize>| -> Vec<Ranked> {
        let mut acc = vec![0f32; n];
        let mut link_count = vec![0u32; n];
        let mut touched: Vec<u32> = Vec::new();
        range
            .map(|s| {
                if posts[s] < params.min_posts {
                    return Ranked::TooLittle { posts: posts[s] };
                }
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
                Ranked::Kin(index.rank(
                    Some(s32),
                    &mut acc,
                    &mut touched,
                    &linked[s],
                    &mut link_count,
                ))
            })
            .collect()
    };
    let runs: Vec<Vec<Ranked>> = if workers == 1 {
        vec![rank_run(0..n)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let range = (w * chunk).min(n)..((w + 1) * chunk).min(n);
                    scope.spawn(|| rank_run(range))
                })
                .collect();
            handles
                .into_iter()
                // A worker's panic is this computation's (slots must stay aligned).
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    index.ranked = runs.into_iter().flatten().collect();
    index.tags = postings
        .into_iter()
        .enumerate()
        .filter(|(_, list)| !list.is_empty())
        .map(|(t, list)| {
            let t32 = u32::try_from(t).unwrap_or(u32::MAX);
            (stats.tags[t].name.clone(), (rarity(t32), list))
        })
        .collect();
    index
}

impl KinIndex {
    /// The best [`KinParams::limit`] kin for the cosines accumulated in `acc` and the
    /// links `linked` (counted into `link_count` by slot), both cleared on the way with
    /// `touched`; slot `me` left out.
    fn rank(
        &self,
        me: Option<u32>,
        acc: &mut [f32],
        touched: &mut Vec<u32>,
        linked: &[(u32, u32)],
        link_count: &mut [u32],
    ) -> Vec<KinEntry> {
        let p = &self.params;
        for &(o, k) in linked {
            if acc[o as usize] == 0.0 && link_count[o as usize] == 0 {
                touched.push(o);
            }
            link_count[o as usize] = k;
        }
        let mut kin: Vec<KinEntry> = touched
            .drain(..)
            .filter_map(|o| {
                let similarity = std::mem::take(&mut acc[o as usize]);
                let k = std::mem::take(&mut link_count[o as usize]);
                let score =
                    f64::from(similarity) + p.link_weight * f64::from(k) / (f64::from(k) + 2.0);
                (Some(o) != me && score >= p.min_score).then_some(KinEntry {
                    slot: o,
                    score: score as f32,
                    similarity,
                    links: k,
                })
            })
            .collect();
        let best_first =
            |a: &KinEntry, b: &KinEntry| b.score.total_cmp(&a.score).then(a.slot.cmp(&b.slot));
        if kin.len() > p.limit {
            kin.select_nth_unstable_by(p.limit, best_first);
            kin.truncate(p.limit);
        }
        kin.sort_by(best_first);
        kin
    }

    /// Kin as people read them: each with the hubs both write in and a shared community.
    fn view(
        &self,
        blog: BlogId,
        my_hubs: &[(u32, f32)],
        ranked: &[KinEntry],
        communities: &BTreeMap<BlogId, BlogCommunities>,
    ) -> Vec<Kin> {
        let mine = communities.get(&blog);
        ranked
            .iter()
            .map(|e| {
                let other = self.blogs[e.slot as usize];
                Kin {
                    blog: other,
                    score: f64::from(e.score),
                    similarity: f64::from(e.similarity),
                    shared_hubs: shared_hubs(my_hubs, &self.hubs[e.slot as usize])
                        .into_iter()
                        .filter_map(|h| self.hub_tags.get(h as usize).cloned())
                        .collect(),
                    links: e.links,
                    community: shared_community(mine, communities.get(&other)),
                }
            })
            .collect()
    }

    /// The kin of a public blog (`None` for a blog that has none judged here: not public,
    /// or no posts when the hubs were computed).
    pub fn kin_of(
        &self,
        blog: BlogId,
        communities: &BTreeMap<BlogId, BlogCommunities>,
    ) -> Option<BlogKin> {
        let s = self.blogs.binary_search(&blog).ok()?;
        Some(match self.ranked.get(s)? {
            Ranked::TooLittle { posts } => BlogKin::TooLittle {
                posts: *posts,
                needed: self.params.min_posts,
            },
            Ranked::Kin(ranked) => BlogKin::Kin {
                kin: self.view(blog, &self.hubs[s], ranked, communities),
            },
        })
    }

    /// The public blogs whose kin were computed, in id order.
    pub fn blogs(&self) -> &[BlogId] {
        &self.blogs
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
        // The blog may be in the index under an older state: never its own kin.
        let me = self
            .blogs
            .binary_search(&blog)
            .ok()
            .and_then(|s| u32::try_from(s).ok());
        let mut link_count = vec![0u32; self.blogs.len()];
        let ranked = self.rank(me, &mut acc, &mut touched, &[], &mut link_count);
        BlogKin::Kin {
            kin: self.view(blog, &my_hubs, &ranked, communities),
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
        return Ok(kin);
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
        Some(kin) => kin,
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

    fn ids(kin: impl std::borrow::Borrow<BlogKin>) -> Vec<i64> {
        kin.borrow().kin().iter().map(|k| k.blog.0).collect()
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
        for &blog in s.kin_index.blogs() {
            let kin = s.kin(blog).unwrap();
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
        for &a in s.kin_index.blogs() {
            for k in s.kin(a).unwrap().kin() {
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
            Some(BlogKin::TooLittle {
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
            Some(BlogKin::Kin { kin: Vec::new() })
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
                links: 3,
            },
        ];
        let with = snapshot(&s);
        let of_1 = with.kin(BlogId(1)).unwrap();
        let k = of_1.kin();
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
        // Links make a bond where the tags alone (one generic hub) would not.
        let six = k.iter().find(|k| k.blog == BlogId(6));
        assert!(six.is_some_and(|k| k.links == 3), "{k:?}");
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
        let lens = |index: &KinIndex| -> Vec<usize> {
            index
                .blogs()
                .iter()
                .map(|&b| index.kin_of(b, &BTreeMap::new()).unwrap().kin().len())
                .collect()
        };
        let index = compute(&s, &[], &p);
        assert_eq!(index.tags["common"].1.len(), 16);
        assert!(lens(&index).iter().all(|&n| n <= p.limit));
        assert!(lens(&index).iter().any(|&n| n > 0));
        // A tag every blog writes is not rare: it says nothing, and nobody is kin by it.
        let everyone: Vec<BlogRow<'_>> =
            (1..=50).map(|b| (b, 5, &[("everything", 5)][..])).collect();
        let index = compute(&stats(&everyone, &[]), &[], &p);
        assert!(lens(&index).iter().all(|&n| n == 0));
        p.limit = 2;
        let index = compute(&two_crafts(), &[], &p);
        assert!(lens(&index).iter().all(|&n| n <= 2));
        assert!(lens(&index).contains(&2));
    }
}
