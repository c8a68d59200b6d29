//! `kith hubs` and `kith communities`: hubs and communities computed from the store, and
//! [`HubsCache`], the snapshot `kith serve` keeps fresh for the web pages.

use crate::cli::{CommunitiesArgs, HubsArgs};
use crate::{App, tagcmd};
use chrono::{DateTime, Utc};
use kith_config::{Config, TagRules};
use kith_hubs::{HubsCache, Params, RoleParams, Snapshot, Window};
use kith_model::{Blog, BlogId};
use kith_store::{DynStore, PostQuery};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Weeks of activity a hub shows, and the last of them that count as "now" for trends.
const WEEKS: i64 = 26;
const RISING_WEEKS: i64 = 4;

/// The computation's parameters: the curator's hub thresholds and the service's
/// `[communities]` settings.
pub fn params(config: &Config, rules: &TagRules) -> Params {
    let c = &config.communities;
    Params {
        min_posts: u32::try_from(rules.hubs.min_posts).unwrap_or(u32::MAX),
        min_bloggers: u32::try_from(rules.hubs.min_bloggers).unwrap_or(u32::MAX),
        roles: RoleParams {
            core_share: c.core_share,
            active_share: c.active_share,
            core_min_recent: c.core_min_posts,
            active_min_recent: c.active_min_posts,
            ..RoleParams::default()
        },
        related_min_jaccard: c.related_min_jaccard,
        community: kith_hubs::CommunityParams {
            min_edge: c.min_edge,
            resolution: c.resolution,
            seed: c.seed,
            member_min_share: c.member_min_share,
            ..kith_hubs::CommunityParams::default()
        },
        ..Params::default()
    }
}

/// Hubs and communities of the public posts, now. Windows end at the newest public post
/// when the site has been quiet (an archive, a paused crawler), so a quiet hub still shows
/// who its core was rather than nobody.
///
/// With `conversations` (what the hub pages show), each hub also gets its newest exchanges
/// between blogs, read in one more pass over the links; the commands that only print hubs
/// and communities go without.
pub async fn compute(
    store: &DynStore,
    config: &Config,
    rules: &TagRules,
    conversations: bool,
) -> anyhow::Result<Snapshot> {
    let mut params = params(config, rules);
    if !conversations {
        params.conversations = 0;
    }
    compute_with(store, config, params).await
}

/// [`compute`] under the given parameters.
pub async fn compute_with(
    store: &DynStore,
    config: &Config,
    params: Params,
) -> anyhow::Result<Snapshot> {
    let newest = store
        .latest_posts(PostQuery {
            limit: 1,
            ..PostQuery::default()
        })
        .await?
        .first()
        .map(|p| p.published);
    let now = Utc::now();
    let until = newest.map_or(now, |t| t.min(now));
    let window = Window::ending(
        until,
        i64::from(config.communities.window_days),
        RISING_WEEKS,
        WEEKS,
    );
    // Hubs' conversations come with them, so a hub page reads them from the snapshot
    // instead of asking the store on every request (none are asked for with 0).
    // With conversations, the links between blogs (kin) come from the same pass over the
    // links as the conversations; without, the aggregates count them.
    let (mut stats, (replies, links)) = if params.conversations > 0 {
        let aggregates = kith_store::HubStatsQuery {
            links: false,
            ..window.query(true)
        };
        tokio::try_join!(
            store.hub_stats(aggregates),
            store.replies_and_links(true, params.conversations),
        )?
    } else {
        (
            store.hub_stats(window.query(true)).await?,
            Default::default(),
        )
    };
    if params.conversations > 0 {
        stats.blog_links = links;
    }
    let mut snapshot = tokio::task::spawn_blocking(move || {
        let mut s = kith_hubs::compute(&stats, &window, &params);
        s.set_conversations(&replies);
        s
    })
    .await
    .map_err(|e| anyhow::anyhow!("hub computation failed: {e}"))?;
    // Hubs show the form most authors write, not whichever came first.
    let tags: Vec<String> = snapshot.hubs.iter().map(|h| h.tag.clone()).collect();
    snapshot.set_displays(&store.tag_displays(tags).await?);
    Ok(snapshot)
}

/// How often a node checks whether it leads and whether a newer snapshot is stored.
const HUBS_TICK: std::time::Duration = std::time::Duration::from_secs(10);
/// How long the hubs leader's lease holds without renewal (renewed every tick).
const HUBS_LEASE_SECS: i64 = 60;
/// However often kicked, a leader recomputes at most this often.
const MIN_RECOMPUTE: std::time::Duration = std::time::Duration::from_secs(60);

/// Keeps `cache` (the snapshot `kith serve` shares with the web pages) fresh until
/// `shutdown`, computing hubs once for every node that shares the store:
/// - one node at a time leads (a lease in the store, renewed every [`HUBS_TICK`]; when
///   the leader dies, another takes over within [`HUBS_LEASE_SECS`]): it recomputes every
///   `config.communities.recompute_secs` (and when `kick` is notified, at most once a
///   minute) and stores each snapshot as the next generation;
/// - every other node loads the newest generation when it appears.
///
/// A failed computation or load keeps the old snapshot and is logged.
pub async fn refresh_loop(
    cache: HubsCache,
    store: DynStore,
    config: Config,
    kick: Arc<tokio::sync::Notify>,
    shutdown: CancellationToken,
) {
    let every = std::time::Duration::from_secs(config.communities.recompute_secs);
    let tick = HUBS_TICK.min(every);
    let owner = crate::pipeline::crawler_id();
    let lease = chrono::Duration::seconds(HUBS_LEASE_SECS);
    // The generation `cache` holds, and when this node last computed one.
    let mut serving: Option<i64> = None;
    let mut computed: Option<Instant> = None;
    let mut kicked = true;
    let mut first = true;
    loop {
        if !first {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
                _ = kick.notified() => kicked = true,
            }
        }
        first = false;
        let leads = match store.lead("hubs", &owner, Utc::now(), lease).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot take or renew the hubs lease");
                continue;
            }
        };
        if !leads {
            load_newest(&store, &cache, &mut serving).await;
            computed = None;
            continue;
        }
        let due = match computed {
            None => true,
            Some(at) => at.elapsed() >= every || (kicked && at.elapsed() >= MIN_RECOMPUTE),
        };
        if !due {
            continue;
        }
        kicked = false;
        computed = Some(Instant::now());
        let rules = match tagcmd::load_rules(&config, None) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "hubs not recomputed: the tag rules do not load");
                continue;
            }
        };
        let started = Instant::now();
        match compute(&store, &config, &rules, true).await {
            Ok(s) => {
                tracing::info!(
                    hubs = s.hubs.len(),
                    communities = s.communities.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "hubs and communities recomputed"
                );
                let stored = match s.encode() {
                    Ok(body) => match store.save_hubs(s.computed_at, body).await {
                        Ok(generation) => Some(generation),
                        Err(e) => {
                            tracing::error!(error = %e, "cannot store hubs for other nodes");
                            None
                        }
                    },
                    Err(e) => {
                        tracing::error!(error = %e, "cannot encode hubs for other nodes");
                        None
                    }
                };
                match stored {
                    Some(generation) => {
                        serving = Some(generation);
                        cache.set_stored(s, generation);
                    }
                    None => cache.set(s),
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "hubs not recomputed"),
        }
    }
}

/// Loads the newest stored snapshot into `cache` when it is newer than `serving`.
async fn load_newest(store: &DynStore, cache: &HubsCache, serving: &mut Option<i64>) {
    match store.hubs_generation().await {
        Ok(Some(g)) if Some(g) != *serving => {}
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the hubs generation");
            return;
        }
    }
    let loaded = match store.load_hubs().await {
        Ok(Some(l)) => l,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "cannot load hubs");
            return;
        }
    };
    let (generation, body) = loaded;
    match tokio::task::spawn_blocking(move || Snapshot::decode(&body)).await {
        Ok(Ok(s)) => {
            tracing::info!(
                generation,
                hubs = s.hubs.len(),
                "hubs loaded from the store"
            );
            cache.set_stored(s, generation);
            *serving = Some(generation);
        }
        Ok(Err(e)) => tracing::error!(generation, error = %e, "stored hubs do not decode"),
        Err(e) => tracing::error!(error = %e, "decoding hubs failed"),
    }
}

#[derive(Debug, Serialize)]
struct MemberJson<'a> {
    blog_id: i64,
    homepage_url: &'a str,
    title: &'a str,
    role: kith_hubs::Role,
    score: f64,
    posts: u32,
    recent_posts: u32,
    last_post: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct RelatedJson<'a> {
    tag: &'a str,
    display: &'a str,
    shared_bloggers: u32,
    jaccard: f64,
}

#[derive(Debug, Serialize)]
struct HubJson<'a> {
    tag: &'a str,
    display: &'a str,
    posts: u32,
    member_count: usize,
    recent_posts: u32,
    trend: f64,
    community: Option<&'a str>,
    related: Vec<RelatedJson<'a>>,
    members: Vec<MemberJson<'a>>,
    rising: &'a [kith_hubs::RisingTag],
    weekly: &'a [kith_hubs::WeekCount],
}

#[derive(Debug, Serialize)]
struct CommunityMemberJson<'a> {
    blog_id: i64,
    homepage_url: &'a str,
    title: &'a str,
    role: kith_hubs::Role,
    score: f64,
    share: f64,
    primary: bool,
}

#[derive(Debug, Serialize)]
struct CommunityJson<'a> {
    id: &'a str,
    name: &'a str,
    hubs: &'a [String],
    members: Vec<CommunityMemberJson<'a>>,
    edges: &'a [kith_hubs::communities::HubEdge],
}

async fn snapshot_and_blogs(app: &App) -> anyhow::Result<(Snapshot, HashMap<BlogId, Blog>)> {
    let rules = tagcmd::load_rules(&app.config, None)?;
    let snapshot = compute(&app.store, &app.config, &rules, false).await?;
    let blogs = app
        .store
        .blogs()
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    Ok((snapshot, blogs))
}

fn blog_fields(blogs: &HashMap<BlogId, Blog>, id: BlogId) -> (&str, &str) {
    blogs
        .get(&id)
        .map_or(("", ""), |b| (b.homepage_url.as_str(), b.title.as_str()))
}

pub async fn cmd_hubs(app: App, args: HubsArgs) -> anyhow::Result<()> {
    let (s, blogs) = snapshot_and_blogs(&app).await?;
    let hubs = s.hubs.iter().take(args.limit.unwrap_or(usize::MAX));
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows: Vec<HubJson<'_>> = hubs
            .map(|h| HubJson {
                tag: &h.tag,
                display: &h.display,
                posts: h.posts,
                member_count: h.members.len(),
                recent_posts: h.recent_posts,
                trend: h.trend,
                community: h.community.as_deref(),
                related: h
                    .related
                    .iter()
                    .map(|r| RelatedJson {
                        tag: &r.tag,
                        display: &r.display,
                        shared_bloggers: r.shared_bloggers,
                        jaccard: r.jaccard,
                    })
                    .collect(),
                members: h
                    .members
                    .iter()
                    .map(|m| {
                        let (homepage_url, title) = blog_fields(&blogs, m.blog);
                        MemberJson {
                            blog_id: m.blog.0,
                            homepage_url,
                            title,
                            role: m.role,
                            score: m.score,
                            posts: m.posts,
                            recent_posts: m.recent,
                            last_post: m.last,
                        }
                    })
                    .collect(),
                rising: &h.rising,
                weekly: &h.weekly,
            })
            .collect();
        return crate::ignore_broken_pipe(
            serde_json::to_writer_pretty(&mut out, &rows)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out)),
        );
    }
    if s.hubs.is_empty() {
        writeln!(
            out,
            "No hubs yet: a tag becomes a hub with {} posts from {} bloggers (tag rules, [hubs]).",
            s.params.min_posts, s.params.min_bloggers
        )?;
        return Ok(());
    }
    let mut table = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        table,
        "{:<24} {:>6} {:>8} {:>5} {:>7}  {:<20} related",
        "HUB", "POSTS", "MEMBERS", "CORE", "ACTIVE", "COMMUNITY"
    );
    for h in hubs {
        let count = |r| h.members.iter().filter(|m| m.role == r).count();
        let related: Vec<&str> = h
            .related
            .iter()
            .take(4)
            .map(|r| r.display.as_str())
            .collect();
        let _ = writeln!(
            table,
            "{:<24} {:>6} {:>8} {:>5} {:>7}  {:<20} {}",
            truncate(&h.display, 24),
            h.posts,
            h.members.len(),
            count(kith_hubs::Role::Core),
            count(kith_hubs::Role::Active),
            truncate(h.community.as_deref().unwrap_or("-"), 20),
            related.join(", ")
        );
    }
    crate::ignore_broken_pipe(out.write_all(table.as_bytes()))
}

pub async fn cmd_communities(app: App, args: CommunitiesArgs) -> anyhow::Result<()> {
    let (s, blogs) = snapshot_and_blogs(&app).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows: Vec<CommunityJson<'_>> = s
            .communities
            .iter()
            .map(|c| CommunityJson {
                id: &c.id,
                name: &c.name,
                hubs: &c.hubs,
                members: c
                    .members
                    .iter()
                    .map(|m| {
                        let (homepage_url, title) = blog_fields(&blogs, m.blog);
                        CommunityMemberJson {
                            blog_id: m.blog.0,
                            homepage_url,
                            title,
                            role: m.role,
                            score: m.score,
                            share: m.share,
                            primary: m.primary,
                        }
                    })
                    .collect(),
                edges: &c.edges,
            })
            .collect();
        return crate::ignore_broken_pipe(
            serde_json::to_writer_pretty(&mut out, &rows)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out)),
        );
    }
    if s.communities.is_empty() {
        writeln!(
            out,
            "No communities yet: they form when hubs share bloggers ({} hubs so far).",
            s.hubs.len()
        )?;
        return Ok(());
    }
    let mut text = String::new();
    use std::fmt::Write as _;
    for c in &s.communities {
        let _ = writeln!(
            text,
            "{} ({} hubs, {} members)",
            c.name,
            c.hubs.len(),
            c.members.len()
        );
        let _ = writeln!(text, "  hubs: {}", c.hubs.join(", "));
        for m in c.members.iter().take(args.members.unwrap_or(10)) {
            let (url, title) = blog_fields(&blogs, m.blog);
            let _ = writeln!(
                text,
                "  {:<10} {:>5.1}  {}{}",
                m.role.as_str(),
                m.score,
                if title.is_empty() { url } else { title },
                if m.primary { "" } else { "  (also)" }
            );
        }
        if c.members.len() > args.members.unwrap_or(10) {
            let _ = writeln!(
                text,
                "  ... and {} more",
                c.members.len() - args.members.unwrap_or(10)
            );
        }
        text.push('\n');
    }
    crate::ignore_broken_pipe(out.write_all(text.as_bytes()))
}

/// What `kith blogs kin --json` prints of each kin (`/api/v1/blogs/{id}/kin` too).
#[derive(Debug, Serialize)]
pub struct KinJson<'a> {
    pub id: i64,
    pub title: &'a str,
    pub homepage_url: &'a str,
    pub score: f64,
    /// Hub tags (as `kith hubs --json` names them) both blogs are members of.
    pub shared_hubs: &'a [String],
    /// Links between the two blogs, both ways.
    pub links: u32,
    /// A community both belong to.
    pub community: Option<&'a str>,
}

/// Kin shown by default by `kith blogs kin`.
const KIN_LIMIT: usize = 10;

/// `kith blogs kin ID`: the blog's kindred blogs, computed now.
pub async fn cmd_kin(
    app: &App,
    blog: &Blog,
    json: bool,
    limit: Option<usize>,
) -> anyhow::Result<()> {
    let rules = tagcmd::load_rules(&app.config, None)?;
    let mut params = params(&app.config, &rules);
    params.conversations = 0;
    // `--limit` is honoured as given: the computation keeps that many.
    params.kin.limit = limit.unwrap_or(KIN_LIMIT);
    let snapshot = compute_with(&app.store, &app.config, params).await?;
    let kin = kith_hubs::kin::of_blog(&snapshot, &app.store, blog).await?;
    let blogs: HashMap<BlogId, Blog> = app
        .store
        .blogs()
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    let rows: Vec<KinJson<'_>> = kin
        .kin()
        .iter()
        .map(|k| {
            let (homepage_url, title) = blog_fields(&blogs, k.blog);
            KinJson {
                id: k.blog.0,
                title,
                homepage_url,
                score: k.score,
                shared_hubs: &k.shared_hubs,
                links: k.links,
                community: k.community.as_deref(),
            }
        })
        .collect();
    let mut out = std::io::stdout().lock();
    let name = if blog.title.is_empty() {
        blog.homepage_url.as_str()
    } else {
        blog.title.as_str()
    };
    let why_none = match &kin {
        kith_hubs::BlogKin::TooLittle { posts, needed } => Some(format!(
            "Too little writing to judge yet: blog #{} ({name}) has {posts} post{} read, and \
             kin are found from {needed}.",
            blog.id,
            if *posts == 1 { "" } else { "s" }
        )),
        kith_hubs::BlogKin::Kin { kin } if kin.is_empty() => Some(format!(
            "Nobody here writes close enough to blog #{} ({name}) yet: kin share its \
             characteristic tags or link to it.",
            blog.id
        )),
        kith_hubs::BlogKin::Kin { .. } => None,
    };
    if json {
        if let Some(why) = &why_none {
            eprintln!("{why}");
        }
        return crate::ignore_broken_pipe(
            serde_json::to_writer_pretty(&mut out, &rows)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out)),
        );
    }
    if let Some(why) = why_none {
        return crate::ignore_broken_pipe(writeln!(out, "{why}"));
    }
    let mut text = format!("Kindred blogs of #{} ({name}), closest first:\n", blog.id);
    use std::fmt::Write as _;
    for k in &rows {
        let mut why: Vec<String> = Vec::new();
        if !k.shared_hubs.is_empty() {
            let hubs: Vec<&str> = k.shared_hubs.iter().take(5).map(String::as_str).collect();
            why.push(format!("both write in {}", hubs.join(", ")));
        }
        if k.links > 0 {
            why.push(format!(
                "{} link{} between them",
                k.links,
                if k.links == 1 { "" } else { "s" }
            ));
        }
        if let Some(c) = k.community {
            why.push(format!("community {c}"));
        }
        let _ = writeln!(
            text,
            "{:>5}  {:>5.2}  {:<32} {}\n{:>14}{}",
            k.id,
            k.score,
            truncate(
                if k.title.is_empty() {
                    k.homepage_url
                } else {
                    k.title
                },
                32
            ),
            k.homepage_url,
            "",
            why.join("; ")
        );
    }
    crate::ignore_broken_pipe(out.write_all(text.as_bytes()))
}

/// Each blog's primary community id, for `kith blogs list --json`.
pub async fn primary_communities(app: &App) -> anyhow::Result<HashMap<BlogId, String>> {
    let rules = tagcmd::load_rules(&app.config, None)?;
    let s = compute(&app.store, &app.config, &rules, false).await?;
    Ok(s.blogs
        .iter()
        .filter_map(|(&b, c)| c.primary.clone().map(|p| (b, p)))
        .collect())
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
