//! # kith-hubs: where tags become communities of practice
//!
//! Consumes the store's tag aggregates ([`HubStats`]: per tag and blog, posts in all and in
//! a rolling window; weekly counts; co-occurring tags) and produces a [`Snapshot`]:
//!
//! - **hubs**: tags passing the curator's thresholds (minimum posts and distinct bloggers),
//!   each with its members ranked by engagement and given a role ([`roles`]), related hubs,
//!   weekly activity, its trend against its own baseline and its rising co-tags;
//! - **related hubs** by the Jaccard index of their *blogger* sets, counting only hubs that
//!   share at least two bloggers: one prolific blogger cannot relate two hubs, and a generic
//!   tag that everyone uses relates weakly to everything because its union is large;
//! - **communities** ([`communities`]): the hub graph (those Jaccard weights, weak edges
//!   pruned) clustered with Leiden, seeded so a run is reproducible; each blogger's
//!   **primary community** is where their posts concentrate;
//! - **conversations**: each hub's newest exchanges between blogs (a post linking to another
//!   blog's post, either of them carrying the hub's tag), from the store's [`TaggedReply`]s
//!   ([`Snapshot::set_conversations`]), so a hub page asks the store nothing for them;
//! - **kin** ([`kin`]): each blogger's kindred blogs, by their tag profiles and the links
//!   between them, each with its reasons.
//!
//! The computation is pure and deterministic: two web nodes computing from the same store
//! show the same hubs and communities.
//!
//! ## Layout
//! - [`roles`] — core / active / peripheral.
//! - [`communities`] — the hub graph, Leiden, community members.
//! - [`kin`] — kindred blogs: tag profiles, an inverted index, reasons.
//! - [`metrics`] — NMI and adjusted Rand index, to measure communities against labels.

pub mod communities;
pub mod kin;
pub mod metrics;
pub mod roles;

pub use communities::{BlogCommunities, Community, CommunityMember, CommunityParams};
pub use kin::{BlogKin, Kin, KinIndex, KinParams};
pub use roles::{Role, RoleParams};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kith_model::BlogId;
use kith_store::hubs::{week_of, week_start_day};
use kith_store::{HubStats, HubStatsQuery, Reply, TaggedReply};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What a hub computation needs besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Posts a tag needs to be a hub (the curator's `[hubs] min_posts`).
    pub min_posts: u32,
    /// Distinct bloggers a tag needs to be a hub (the curator's `[hubs] min_bloggers`).
    pub min_bloggers: u32,
    pub roles: RoleParams,
    /// Related hubs listed per hub, at most.
    pub related_limit: usize,
    /// Least Jaccard index of two hubs' blogger sets for them to be related.
    pub related_min_jaccard: f64,
    /// Least bloggers two hubs share to be related.
    pub related_min_shared: u32,
    /// Recent posts a co-tag needs to be called rising.
    pub rising_min_posts: u32,
    /// Least growth (recent rate over the baseline rate) of a rising tag.
    pub rising_min_growth: f64,
    pub community: CommunityParams,
    /// Conversations kept per hub ([`Snapshot::set_conversations`]).
    pub conversations: usize,
    pub kin: KinParams,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            min_posts: 5,
            min_bloggers: 3,
            roles: RoleParams::default(),
            related_limit: 8,
            related_min_jaccard: 0.05,
            related_min_shared: 2,
            rising_min_posts: 2,
            rising_min_growth: 1.5,
            community: CommunityParams::default(),
            conversations: 8,
            kin: KinParams::default(),
        }
    }
}

/// The time windows of a computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The end of every window: now, or the newest post when the site has been quiet.
    pub until: DateTime<Utc>,
    /// Engagement (roles) counts posts from here on.
    pub recent_since: DateTime<Utc>,
    /// "Rising" compares posts from here on with the weeks before.
    pub rising_since: DateTime<Utc>,
    /// Weekly activity starts here.
    pub weeks_since: DateTime<Utc>,
}

impl Window {
    /// Windows ending at `until`: engagement over `recent_days`, rising over the last
    /// `rising_weeks` of `weeks` weeks of activity.
    pub fn ending(until: DateTime<Utc>, recent_days: i64, rising_weeks: i64, weeks: i64) -> Self {
        // Whole weeks, so the first and last bars of the chart are comparable.
        let this_week = week_start_day(week_of(until));
        let monday = |w: i64| {
            DateTime::<Utc>::from_timestamp((this_week - 7 * w) * 86_400, 0).unwrap_or(until)
        };
        Self {
            until,
            recent_since: until - Duration::days(recent_days),
            rising_since: monday(rising_weeks - 1),
            weeks_since: monday(weeks - 1),
        }
    }

    /// The store query for these windows.
    pub fn query(&self, public_only: bool) -> HubStatsQuery {
        HubStatsQuery {
            recent_since: self.recent_since,
            weeks_since: self.weeks_since,
            rising_since: self.rising_since,
            public_only,
            links: true,
        }
    }
}

/// A blogger in a hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub blog: BlogId,
    pub posts: u32,
    pub recent: u32,
    pub score: f64,
    pub role: Role,
    pub last: DateTime<Utc>,
}

/// Another hub whose bloggers overlap this one's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Related {
    pub tag: String,
    pub display: String,
    pub shared_bloggers: u32,
    pub jaccard: f64,
}

/// Posts in one week (starting on Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekCount {
    pub week: NaiveDate,
    pub posts: u32,
}

/// A tag used on the hub's posts more often lately than before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RisingTag {
    pub tag: String,
    pub display: String,
    /// Posts of the hub with this tag in the rising window.
    pub recent: u32,
    /// What the tag's baseline rate predicts for that window.
    pub expected: f64,
    /// `(recent + 1) / (expected + 1)`.
    pub growth: f64,
}

/// A tag with enough posts and bloggers to be a hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hub {
    pub tag: String,
    pub display: String,
    pub posts: u32,
    pub bloggers: u32,
    /// Posts in the engagement window.
    pub recent_posts: u32,
    /// Best first.
    pub members: Vec<Member>,
    pub related: Vec<Related>,
    pub weekly: Vec<WeekCount>,
    /// Posts in the rising window against the hub's own baseline, `(recent + 1) /
    /// (expected + 1)`: above 1 the hub is growing.
    pub trend: f64,
    pub rising: Vec<RisingTag>,
    /// The community the hub belongs to, if it is in one.
    pub community: Option<String>,
    /// Exchanges between blogs where either post carries the hub's tag, newest first (by
    /// the replying post), at most [`Params::conversations`]; empty until
    /// [`Snapshot::set_conversations`].
    pub conversations: Vec<Reply>,
}

/// Every hub and community at one moment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub computed_at: DateTime<Utc>,
    pub window: Window,
    pub params: Params,
    /// Most bloggers first.
    pub hubs: Vec<Hub>,
    /// Most members first.
    pub communities: Vec<Community>,
    /// Each blogger's communities, primary first.
    pub blogs: BTreeMap<BlogId, BlogCommunities>,
    /// Each public blogger's kindred blogs ([`Snapshot::kin`]), and the tag profiles they
    /// came from, to match a blog that is not public yet ([`Snapshot::match_kin`]).
    #[serde(skip)]
    pub kin_index: KinIndex,
    #[serde(skip)]
    by_tag: HashMap<String, usize>,
}

impl Snapshot {
    /// The snapshot as the store keeps it for other nodes (`kith serve` nodes that load
    /// the hubs one leader computed): everything, the kin index included, as JSON.
    pub fn encode(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&(self, &self.kin_index))
    }

    /// The inverse of [`Snapshot::encode`].
    pub fn decode(bytes: &[u8]) -> serde_json::Result<Snapshot> {
        let (mut snapshot, kin_index): (Snapshot, KinIndex) = serde_json::from_slice(bytes)?;
        snapshot.kin_index = kin_index;
        snapshot.by_tag = snapshot
            .hubs
            .iter()
            .enumerate()
            .map(|(i, h)| (h.tag.clone(), i))
            .collect();
        Ok(snapshot)
    }

    /// No hubs yet: what a site shows before its first computation finishes.
    pub fn empty(params: &Params) -> Snapshot {
        let window = Window::ending(Utc::now(), 28, 4, 12);
        compute(&HubStats::default(), &window, params)
    }

    /// Shows each hub under `displays[tag]` (for example the most common surface form
    /// authors use, which the store knows better than the first-seen form the
    /// computation started from), in hubs, related hubs and community names.
    pub fn set_displays(&mut self, displays: &HashMap<String, String>) {
        let show = |tag: &str, display: &mut String| {
            if let Some(d) = displays.get(tag).filter(|d| !d.trim().is_empty()) {
                d.clone_into(display);
            }
        };
        for hub in &mut self.hubs {
            show(&hub.tag, &mut hub.display);
            for r in &mut hub.related {
                show(&r.tag, &mut r.display);
            }
        }
        for c in &mut self.communities {
            c.name = communities::name_of(c.hubs.iter().map(|t| {
                displays
                    .get(t)
                    .filter(|d| !d.trim().is_empty())
                    .map_or(t.as_str(), String::as_str)
            }));
        }
    }

    /// Gives each hub its newest [`Params::conversations`] exchanges among `replies`: those
    /// where the replying post or the post it answers carries the hub's tag (the store's
    /// [`kith_store::Store::tagged_replies`], which keeps at least that many per tag).
    pub fn set_conversations(&mut self, replies: &[TaggedReply]) {
        for hub in &mut self.hubs {
            hub.conversations.clear();
        }
        for r in replies {
            for tag in &r.tags {
                if let Some(&h) = self.by_tag.get(tag) {
                    self.hubs[h].conversations.push(r.reply.clone());
                }
            }
        }
        for hub in &mut self.hubs {
            hub.conversations.sort_by(|a, b| {
                b.from
                    .published
                    .cmp(&a.from.published)
                    .then(b.from.id.cmp(&a.from.id))
                    .then(a.to.id.cmp(&b.to.id))
            });
            hub.conversations.truncate(self.params.conversations);
        }
    }

    pub fn hub(&self, tag: &str) -> Option<&Hub> {
        self.by_tag.get(tag).map(|&i| &self.hubs[i])
    }

    pub fn community(&self, id: &str) -> Option<&Community> {
        self.communities.iter().find(|c| c.id == id)
    }

    /// The community that now holds the hub `id` when no community is called `id`: a
    /// community is called after its largest hub, which changes as people write, so an
    /// address (a bookmark, a feed subscription) made under an earlier name leads on to
    /// the community its hub is in now.
    pub fn community_moved(&self, id: &str) -> Option<&Community> {
        if self.community(id).is_some() {
            return None;
        }
        self.communities
            .iter()
            .find(|c| c.hubs.iter().any(|h| h == id))
    }

    /// The blog's kindred blogs, with their reasons (`None` for a blog with no public
    /// posts).
    pub fn kin(&self, blog: BlogId) -> Option<BlogKin> {
        self.kin_index.kin_of(blog, &self.blogs)
    }

    /// Kindred blogs of a blog that is not public yet, from its posts' tags ((normal form,
    /// posts carrying it) over `posts` posts), matched against the public blogs.
    pub fn match_kin(&self, blog: BlogId, tags: &[(String, u32)], posts: u32) -> BlogKin {
        self.kin_index.match_profile(blog, tags, posts, &self.blogs)
    }

    /// The blog's primary community.
    pub fn primary_community(&self, blog: BlogId) -> Option<&Community> {
        self.blogs
            .get(&blog)
            .and_then(|b| b.primary.as_deref())
            .and_then(|id| self.community(id))
    }

    /// Hubs growing fastest against their own baseline, with at least `min_recent` recent
    /// posts.
    pub fn rising_hubs(&self, min_recent: u32, limit: usize) -> Vec<&Hub> {
        let mut v: Vec<&Hub> = self
            .hubs
            .iter()
            .filter(|h| h.trend > 1.0 && recent_weeks_posts(h, &self.window) >= min_recent)
            .collect();
        v.sort_by(|a, b| b.trend.total_cmp(&a.trend).then_with(|| a.tag.cmp(&b.tag)));
        v.truncate(limit);
        v
    }

    /// The hubs `blog` is a member of, with its role, most engaged first.
    pub fn memberships(&self, blog: BlogId) -> Vec<(&Hub, &Member)> {
        let mut v: Vec<(&Hub, &Member)> = self
            .hubs
            .iter()
            .filter_map(|h| h.members.iter().find(|m| m.blog == blog).map(|m| (h, m)))
            .collect();
        v.sort_by(|a, b| {
            a.1.role
                .cmp(&b.1.role)
                .then(b.1.score.total_cmp(&a.1.score))
                .then_with(|| a.0.tag.cmp(&b.0.tag))
        });
        v
    }
}

fn recent_weeks_posts(h: &Hub, w: &Window) -> u32 {
    let since = w.rising_since.date_naive();
    h.weekly
        .iter()
        .filter(|c| c.week >= since)
        .map(|c| c.posts)
        .sum()
}

fn day(d: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(d * 86_400, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// Growth of `recent` against a baseline of `older` posts spread over `older_weeks`, for a
/// window of `recent_weeks`.
fn growth(recent: u32, older: u32, recent_weeks: i64, older_weeks: i64) -> (f64, f64) {
    let expected = if older_weeks > 0 {
        f64::from(older) * recent_weeks as f64 / older_weeks as f64
    } else {
        0.0
    };
    (expected, (f64::from(recent) + 1.0) / (expected + 1.0))
}

/// Computes every hub and community from the store's aggregates.
pub fn compute(stats: &HubStats, window: &Window, params: &Params) -> Snapshot {
    let ntags = stats.tags.len();
    // Cells per tag.
    let mut by_tag: Vec<Vec<usize>> = vec![Vec::new(); ntags];
    for (i, c) in stats.cells.iter().enumerate() {
        if let Some(v) = by_tag.get_mut(c.tag as usize) {
            v.push(i);
        }
    }
    let is_hub: Vec<bool> = by_tag
        .iter()
        .map(|cells| {
            let posts: u32 = cells.iter().map(|&i| stats.cells[i].posts).sum();
            let bloggers = u32::try_from(cells.len()).unwrap_or(u32::MAX);
            posts >= params.min_posts && bloggers >= params.min_bloggers
        })
        .collect();
    // Hub order: most bloggers, then most posts, then name.
    let mut hub_tags: Vec<usize> = (0..ntags).filter(|&t| is_hub[t]).collect();
    let posts_of = |t: usize| -> u32 { by_tag[t].iter().map(|&i| stats.cells[i].posts).sum() };
    hub_tags.sort_by(|&a, &b| {
        by_tag[b]
            .len()
            .cmp(&by_tag[a].len())
            .then(posts_of(b).cmp(&posts_of(a)))
            .then_with(|| stats.tags[a].name.cmp(&stats.tags[b].name))
    });
    let mut hub_index: Vec<Option<usize>> = vec![None; ntags];
    for (h, &t) in hub_tags.iter().enumerate() {
        hub_index[t] = Some(h);
    }

    let first_week = week_of(window.weeks_since);
    let last_week = week_of(window.until);
    let rising_week = week_of(window.rising_since);
    let recent_weeks = (last_week - rising_week + 1).max(1);
    let older_weeks = (rising_week - first_week).max(0);

    let mut weekly: Vec<Vec<u32>> =
        vec![vec![0; usize::try_from(last_week - first_week + 1).unwrap_or(0)]; hub_tags.len()];
    for w in &stats.weeks {
        if let Some(h) = hub_index.get(w.tag as usize).copied().flatten()
            && let Ok(k) = usize::try_from(w.week - first_week)
            && let Some(slot) = weekly[h].get_mut(k)
        {
            *slot += w.posts;
        }
    }

    let related = related_hubs(stats, &by_tag, &hub_tags, params);

    let mut hubs: Vec<Hub> = hub_tags
        .iter()
        .enumerate()
        .map(|(h, &t)| {
            let name = &stats.tags[t];
            let mut members: Vec<Member> = by_tag[t]
                .iter()
                .map(|&i| {
                    let c = &stats.cells[i];
                    Member {
                        blog: c.blog,
                        posts: c.posts,
                        recent: c.recent,
                        score: params.roles.score(c.posts, c.recent),
                        role: Role::Peripheral,
                        last: c.last,
                    }
                })
                .collect();
            members.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then(b.last.cmp(&a.last))
                    .then(a.blog.cmp(&b.blog))
            });
            let recent: Vec<u32> = members.iter().map(|m| m.recent).collect();
            for (m, role) in members.iter_mut().zip(params.roles.assign(&recent)) {
                m.role = role;
            }
            let series = &weekly[h];
            let split = usize::try_from(rising_week - first_week)
                .unwrap_or(0)
                .min(series.len());
            let (older, now): (u32, u32) =
                (series[..split].iter().sum(), series[split..].iter().sum());
            let (_, trend) = growth(now, older, recent_weeks, older_weeks);
            Hub {
                tag: name.name.clone(),
                display: name.display.clone(),
                posts: members.iter().map(|m| m.posts).sum(),
                bloggers: u32::try_from(members.len()).unwrap_or(u32::MAX),
                recent_posts: members.iter().map(|m| m.recent).sum(),
                members,
                related: related[h]
                    .iter()
                    .take(params.related_limit)
                    .map(|&(o, shared, j)| Related {
                        tag: stats.tags[hub_tags[o]].name.clone(),
                        display: stats.tags[hub_tags[o]].display.clone(),
                        shared_bloggers: shared,
                        jaccard: j,
                    })
                    .collect(),
                weekly: series
                    .iter()
                    .enumerate()
                    .map(|(k, &posts)| WeekCount {
                        week: day(week_start_day(first_week + k as i64)),
                        posts,
                    })
                    .collect(),
                trend,
                rising: Vec::new(),
                community: None,
                conversations: Vec::new(),
            }
        })
        .collect();

    // Rising co-tags, against each co-tag's own baseline within the hub.
    for co in &stats.co_tags {
        let Some(h) = hub_index.get(co.tag as usize).copied().flatten() else {
            continue;
        };
        let (expected, g) = growth(co.recent, co.posts - co.recent, recent_weeks, older_weeks);
        if co.recent >= params.rising_min_posts && g >= params.rising_min_growth {
            let other = &stats.tags[co.other as usize];
            hubs[h].rising.push(RisingTag {
                tag: other.name.clone(),
                display: other.display.clone(),
                recent: co.recent,
                expected,
                growth: g,
            });
        }
    }
    for h in &mut hubs {
        h.rising.sort_by(|a, b| {
            b.growth
                .total_cmp(&a.growth)
                .then(b.recent.cmp(&a.recent))
                .then_with(|| a.tag.cmp(&b.tag))
        });
        h.rising.truncate(5);
    }

    let edges: Vec<(usize, usize, f64)> = related
        .iter()
        .enumerate()
        .flat_map(|(a, rel)| {
            rel.iter()
                .filter(move |&&(b, _, _)| a < b)
                .map(move |&(b, _, j)| (a, b, j))
        })
        .collect();
    let total_bloggers = stats.blog_posts.len().max(1);
    let (communities, blogs) = communities::detect(
        &mut hubs,
        &edges,
        total_bloggers,
        &params.community,
        &params.roles,
    );
    let kin_index = kin::compute(stats, &hubs, &params.kin);

    let by_tag = hubs
        .iter()
        .enumerate()
        .map(|(i, h)| (h.tag.clone(), i))
        .collect();
    Snapshot {
        computed_at: Utc::now(),
        window: *window,
        params: params.clone(),
        hubs,
        communities,
        blogs,
        kin_index,
        by_tag,
    }
}

/// For each hub (by hub index), every hub sharing enough bloggers: (other hub, shared
/// bloggers, Jaccard), best first. Hub pages show the first few; the community graph uses
/// them all.
fn related_hubs(
    stats: &HubStats,
    by_tag: &[Vec<usize>],
    hub_tags: &[usize],
    params: &Params,
) -> Vec<Vec<(usize, u32, f64)>> {
    // Hubs of each blog.
    let mut blog_hubs: HashMap<BlogId, Vec<usize>> = HashMap::new();
    for (h, &t) in hub_tags.iter().enumerate() {
        for &i in &by_tag[t] {
            blog_hubs.entry(stats.cells[i].blog).or_default().push(h);
        }
    }
    let size: Vec<u32> = hub_tags
        .iter()
        .map(|&t| u32::try_from(by_tag[t].len()).unwrap_or(u32::MAX))
        .collect();
    let n = hub_tags.len();
    let mut shared = vec![0u32; n];
    let mut touched: Vec<usize> = Vec::new();
    let mut out = vec![Vec::new(); n];
    for (h, &t) in hub_tags.iter().enumerate() {
        for &i in &by_tag[t] {
            for &o in &blog_hubs[&stats.cells[i].blog] {
                if o != h {
                    if shared[o] == 0 {
                        touched.push(o);
                    }
                    shared[o] += 1;
                }
            }
        }
        for &o in &touched {
            let s = shared[o];
            shared[o] = 0;
            if s < params.related_min_shared {
                continue;
            }
            let j = f64::from(s) / f64::from(size[h] + size[o] - s);
            if j >= params.related_min_jaccard {
                out[h].push((o, s, j));
            }
        }
        touched.clear();
        out[h].sort_by(|a: &(usize, u32, f64), b| {
            b.2.total_cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0))
        });
    }
    out
}

#[cfg(test)]
mod tests;

/// The latest [`Snapshot`], shared by everything that reads hubs (the web pages, the
/// API); replaced whole when recomputed, so a reader never sees half of one computation.
#[derive(Clone)]
pub struct HubsCache {
    current: std::sync::Arc<std::sync::RwLock<std::sync::Arc<Snapshot>>>,
    /// Counts [`HubsCache::set`]s: what was made from one snapshot is stale after the next.
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The store's generation of the snapshot held (the one the hubs leader stored), -1
    /// for none.
    stored: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl HubsCache {
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            current: std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(snapshot))),
            generation: std::sync::Arc::default(),
            stored: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(-1)),
        }
    }

    /// The store's generation of the snapshot held ([`HubsCache::set_stored`]).
    pub fn stored_generation(&self) -> Option<i64> {
        let g = self.stored.load(std::sync::atomic::Ordering::Acquire);
        (g >= 0).then_some(g)
    }

    /// [`HubsCache::set`] for a snapshot the store keeps as `generation`.
    pub fn set_stored(&self, snapshot: Snapshot, generation: i64) {
        self.set(snapshot);
        self.stored
            .store(generation, std::sync::atomic::Ordering::Release);
    }

    /// Which snapshot [`HubsCache::get`] returns now, as a number that grows with each
    /// [`HubsCache::set`].
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The current snapshot (cheap: one reference count).
    pub fn get(&self) -> std::sync::Arc<Snapshot> {
        match self.current.read() {
            Ok(s) => std::sync::Arc::clone(&s),
            Err(poisoned) => std::sync::Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the snapshot for every later [`HubsCache::get`].
    pub fn set(&self, snapshot: Snapshot) {
        let mut slot = match self.current.write() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = std::sync::Arc::new(snapshot);
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }
}
