//! Communities: clusters of hubs whose bloggers overlap, and the bloggers whose writing
//! concentrates there.
//!
//! 1. The hub graph: an edge between two hubs weighted by the Jaccard index of their
//!    blogger sets (so weights count distinct bloggers, not posts), edges below
//!    `min_edge` pruned.
//! 2. Leiden (modularity, the configured resolution, a fixed seed: the same data gives the
//!    same communities). Clusters of fewer than `min_hubs` hubs are not communities.
//! 3. A blogger's weight in a community is the sum, over its hubs, of their posts there,
//!    each hub weighted by how specific it is (`ln(1 + bloggers / hub's bloggers)`: a tag
//!    everyone uses says little about where someone belongs). Their share of that weight
//!    decides membership (at least `member_min_share`) and their **primary community**
//!    (the largest share).
//! 4. Roles in a community rank members by their engagement summed over its hubs.

use crate::Hub;
use crate::roles::{Role, RoleParams};
use kith_model::BlogId;
use leiden_rs::{GraphDataBuilder, Leiden, LeidenConfig};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How communities are found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityParams {
    /// Least edge weight (Jaccard of blogger sets) kept in the hub graph.
    pub min_edge: f64,
    /// Leiden resolution: above 1, more and smaller communities.
    pub resolution: f64,
    pub seed: u64,
    /// Fewest hubs a community has.
    pub min_hubs: usize,
    /// Least share of a blogger's (specificity-weighted) posts for membership.
    pub member_min_share: f64,
}

impl Default for CommunityParams {
    fn default() -> Self {
        Self {
            min_edge: 0.1,
            resolution: 1.0,
            seed: 42,
            min_hubs: 2,
            member_min_share: 0.2,
        }
    }
}

/// A blogger in a community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityMember {
    pub blog: BlogId,
    /// Share of the blogger's hub posts (weighted by hub specificity) that are here.
    pub share: f64,
    pub score: f64,
    pub role: Role,
    /// This is the blogger's primary community.
    pub primary: bool,
}

/// An edge of a community's map: two of its hubs and how strongly their bloggers overlap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubEdge {
    pub a: String,
    pub b: String,
    pub weight: f64,
}

/// A cluster of hubs and the people who write there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// Stable enough for URLs: the tag of its largest hub.
    pub id: String,
    /// Its top hubs' names.
    pub name: String,
    /// Tags of its hubs, most bloggers first.
    pub hubs: Vec<String>,
    /// Best first.
    pub members: Vec<CommunityMember>,
    pub edges: Vec<HubEdge>,
}

/// A blogger's communities.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlogCommunities {
    /// Community id of the largest share.
    pub primary: Option<String>,
    /// (community id, share), largest first; only communities it is a member of.
    pub shares: Vec<(String, f64)>,
}

/// Leiden over the hub graph. `edges` are (hub, hub, weight) with hub indices into `hubs`;
/// returns a cluster label per hub (hubs without a kept edge are alone).
fn cluster(n: usize, edges: &[(usize, usize, f64)], p: &CommunityParams) -> Vec<usize> {
    let alone: Vec<usize> = (0..n).collect();
    let kept: Vec<&(usize, usize, f64)> = edges.iter().filter(|e| e.2 >= p.min_edge).collect();
    if kept.is_empty() {
        return alone;
    }
    let mut b = GraphDataBuilder::new(n);
    for &&(x, y, w) in &kept {
        if b.add_edge(x, y, w).is_err() {
            return alone;
        }
    }
    let Ok(graph) = b.build() else { return alone };
    let config = LeidenConfig {
        seed: Some(p.seed),
        resolution: p.resolution,
        ..LeidenConfig::default()
    };
    match Leiden::new(config).run(&graph) {
        Ok(out) => (0..n).map(|i| out.partition.community_of(i)).collect(),
        Err(_) => alone,
    }
}

pub(crate) fn detect(
    hubs: &mut [Hub],
    edges: &[(usize, usize, f64)],
    total_bloggers: usize,
    p: &CommunityParams,
    roles: &RoleParams,
) -> (Vec<Community>, BTreeMap<BlogId, BlogCommunities>) {
    let labels = cluster(hubs.len(), edges, p);
    // Clusters in hub order (hubs are sorted most bloggers first), big enough to keep.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of_label: HashMap<usize, usize> = HashMap::new();
    for (h, &l) in labels.iter().enumerate() {
        let g = *group_of_label.entry(l).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(h);
    }
    groups.retain(|g| g.len() >= p.min_hubs.max(1));
    let mut community_of: Vec<Option<usize>> = vec![None; hubs.len()];
    for (c, g) in groups.iter().enumerate() {
        for &h in g {
            community_of[h] = Some(c);
        }
    }

    // Bloggers' specificity-weighted posts per community, and engagement.
    let mut total: HashMap<BlogId, f64> = HashMap::new();
    let mut weight: HashMap<(BlogId, usize), f64> = HashMap::new();
    let mut engagement: HashMap<(BlogId, usize), (f64, u32)> = HashMap::new();
    for (h, hub) in hubs.iter().enumerate() {
        let idf = (1.0 + total_bloggers as f64 / f64::from(hub.bloggers.max(1))).ln();
        for m in &hub.members {
            let w = f64::from(m.posts) * idf;
            *total.entry(m.blog).or_default() += w;
            if let Some(c) = community_of[h] {
                *weight.entry((m.blog, c)).or_default() += w;
                let e = engagement.entry((m.blog, c)).or_default();
                e.0 += m.score;
                e.1 += m.recent;
            }
        }
    }
    // (blog, share, engagement score, recent posts, primary) per community.
    type Candidate = (BlogId, f64, f64, u32, bool);
    let mut members: Vec<Vec<Candidate>> = vec![Vec::new(); groups.len()];
    let mut by_blog: BTreeMap<BlogId, Vec<(usize, f64)>> = BTreeMap::new();
    let mut primary_of: HashMap<BlogId, usize> = HashMap::new();
    for (&(blog, c), &w) in &weight {
        let t = total.get(&blog).copied().unwrap_or(w);
        if t > 0.0 {
            by_blog.entry(blog).or_default().push((c, w / t));
        }
    }
    let mut kept_of: BTreeMap<BlogId, Vec<(usize, f64)>> = BTreeMap::new();
    for (blog, mut shares) in by_blog {
        shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let primary = shares.first().map(|s| s.0);
        if let Some(c) = primary {
            primary_of.insert(blog, c);
        }
        let kept: Vec<(usize, f64)> = shares
            .into_iter()
            .filter(|&(c, s)| Some(c) == primary || s >= p.member_min_share)
            .collect();
        for &(c, share) in &kept {
            let (score, recent) = engagement.get(&(blog, c)).copied().unwrap_or_default();
            members[c].push((blog, share, score, recent, Some(c) == primary));
        }
        kept_of.insert(blog, kept);
    }
    // Each community is named after its most characteristic hubs and identified by the
    // first of them: a hub whose bloggers mostly belong here (not a generic tag that
    // members of every community use), weighted by how many of them there are.
    for (c, g) in groups.iter_mut().enumerate() {
        let score = |h: usize| {
            let hub = &hubs[h];
            let here = hub
                .members
                .iter()
                .filter(|m| primary_of.get(&m.blog) == Some(&c))
                .count() as f64;
            here / f64::from(hub.bloggers.max(1)) * (1.0 + here).ln()
        };
        let mut ranked: Vec<(usize, f64)> = g.iter().map(|&h| (h, score(h))).collect();
        // Stable: ties keep hub order (most bloggers first).
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        *g = ranked.into_iter().map(|(h, _)| h).collect();
    }
    let mut blogs: BTreeMap<BlogId, BlogCommunities> = BTreeMap::new();
    for (blog, kept) in kept_of {
        blogs.insert(
            blog,
            BlogCommunities {
                primary: primary_of
                    .get(&blog)
                    .map(|&c| hubs[groups[c][0]].tag.clone()),
                shares: kept
                    .iter()
                    .map(|&(c, s)| (hubs[groups[c][0]].tag.clone(), s))
                    .collect(),
            },
        );
    }

    let mut communities: Vec<Community> = groups
        .iter()
        .zip(members)
        .map(|(g, mut ms)| {
            ms.sort_by(|a, b| {
                b.2.total_cmp(&a.2)
                    .then(b.1.total_cmp(&a.1))
                    .then(a.0.cmp(&b.0))
            });
            let recent: Vec<u32> = ms.iter().map(|m| m.3).collect();
            let roles = roles.assign(&recent);
            let in_group = |h: usize| g.contains(&h);
            Community {
                id: hubs[g[0]].tag.clone(),
                name: name_of(g.iter().map(|&h| hubs[h].display.as_str())),
                hubs: g.iter().map(|&h| hubs[h].tag.clone()).collect(),
                members: ms
                    .into_iter()
                    .zip(roles)
                    .map(|((blog, share, score, _, primary), role)| CommunityMember {
                        blog,
                        share,
                        score,
                        role,
                        primary,
                    })
                    .collect(),
                edges: edges
                    .iter()
                    .filter(|e| e.2 >= p.min_edge && in_group(e.0) && in_group(e.1))
                    .map(|&(a, b, weight)| HubEdge {
                        a: hubs[a].tag.clone(),
                        b: hubs[b].tag.clone(),
                        weight,
                    })
                    .collect(),
            }
        })
        .collect();
    for (c, g) in groups.iter().enumerate() {
        for &h in g {
            hubs[h].community = Some(communities[c].id.clone());
        }
    }
    communities.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then_with(|| a.id.cmp(&b.id))
    });
    (communities, blogs)
}

/// A community's name: its first three hubs' display forms.
pub fn name_of<'a>(hubs: impl Iterator<Item = &'a str>) -> String {
    hubs.take(3).collect::<Vec<_>>().join(" · ")
}
