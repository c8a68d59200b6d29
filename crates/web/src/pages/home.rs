//! The front page and the index pages: `/`, `/hubs`, `/communities`, `/about`.

use super::{PAGE_SIZE, RiverParams, page, parse_time_cursor, post_views, time_cursor};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::response::Response;
use kith_hubs::{Community, Snapshot};
use kith_store::PostQuery;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

/// Communities shown on the front page.
const HOME_COMMUNITIES: usize = 8;
/// Hubs named per community on a card.
const CARD_HUBS: usize = 4;
/// Rising hubs on the front page, and the recent posts each needs at least.
const RISING: usize = 8;
const RISING_MIN_RECENT: u32 = 2;

#[derive(Debug, Serialize)]
struct HubLink {
    tag: String,
    display: String,
}

#[derive(Debug, Serialize)]
struct CommunityCard {
    id: String,
    name: String,
    members: usize,
    hub_count: usize,
    top_hubs: Vec<HubLink>,
}

fn card(snapshot: &Snapshot, c: &Community) -> CommunityCard {
    CommunityCard {
        id: c.id.clone(),
        name: c.name.clone(),
        members: c.members.len(),
        hub_count: c.hubs.len(),
        top_hubs: c
            .hubs
            .iter()
            .take(CARD_HUBS)
            .map(|t| HubLink {
                tag: t.clone(),
                display: snapshot
                    .hub(t)
                    .map_or_else(|| t.clone(), |h| h.display.clone()),
            })
            .collect(),
    }
}

pub(super) async fn index(
    State(state): State<AppState>,
    Query(params): Query<RiverParams>,
) -> Result<Response, WebError> {
    let before = params.cursor().map(parse_time_cursor).transpose()?;
    let mut posts = state
        .store
        .latest_posts(PostQuery {
            limit: PAGE_SIZE + 1,
            before,
            ..PostQuery::default()
        })
        .await?;
    let more = posts.len() > PAGE_SIZE;
    posts.truncate(PAGE_SIZE);
    let older = more
        .then(|| posts.last().map(|p| time_cursor(p.published, p.id)))
        .flatten();
    let snapshot = state.hubs.get();
    let views = post_views(posts, &snapshot, None);
    let communities: Vec<CommunityCard> = snapshot
        .communities
        .iter()
        .take(HOME_COMMUNITIES)
        .map(|c| card(&snapshot, c))
        .collect();
    #[derive(Serialize)]
    struct Rising {
        tag: String,
        display: String,
        recent: u32,
        trend: String,
    }
    let rising: Vec<Rising> = snapshot
        .rising_hubs(RISING_MIN_RECENT, RISING)
        .into_iter()
        .map(|h| Rising {
            tag: h.tag.clone(),
            display: h.display.clone(),
            recent: h.recent_posts,
            trend: format!("{:.1}", h.trend),
        })
        .collect();
    let counts = state.store.counts().await?;
    let html = state.templates.render(
        "index.html",
        context! {
            site_name => &state.site.name,
            posts => Serde(&views),
            older => older,
            paged => before.is_some(),
            communities => Serde(&communities),
            more_communities => snapshot.communities.len() > HOME_COMMUNITIES,
            total_communities => snapshot.communities.len(),
            rising => Serde(&rising),
            counts => context! { blogs => counts.blogs, posts => counts.posts },
        },
    )?;
    Ok(page(html))
}

pub(super) async fn hubs(State(state): State<AppState>) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    #[derive(Serialize)]
    struct Row<'a> {
        tag: &'a str,
        display: &'a str,
        bloggers: u32,
        posts: u32,
        recent_posts: u32,
        rising: bool,
        community: Option<HubLinkC<'a>>,
    }
    #[derive(Serialize)]
    struct HubLinkC<'a> {
        id: &'a str,
        name: &'a str,
    }
    let rows: Vec<Row> = snapshot
        .hubs
        .iter()
        .map(|h| Row {
            tag: &h.tag,
            display: &h.display,
            bloggers: h.bloggers,
            posts: h.posts,
            recent_posts: h.recent_posts,
            rising: h.trend >= 1.5 && h.recent_posts >= RISING_MIN_RECENT,
            community: h
                .community
                .as_deref()
                .and_then(|id| snapshot.community(id))
                .map(|c| HubLinkC {
                    id: &c.id,
                    name: &c.name,
                }),
        })
        .collect();
    let html = state.templates.render(
        "hubs.html",
        context! {
            site_name => &state.site.name,
            nav => "hubs",
            hubs => Serde(&rows),
            min_posts => snapshot.params.min_posts,
            min_bloggers => snapshot.params.min_bloggers,
        },
    )?;
    Ok(page(html))
}

pub(super) async fn communities(State(state): State<AppState>) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    let cards: Vec<CommunityCard> = snapshot
        .communities
        .iter()
        .map(|c| {
            let mut card = card(&snapshot, c);
            // The index page names a few more hubs than the front page.
            card.top_hubs = c
                .hubs
                .iter()
                .take(8)
                .map(|t| HubLink {
                    tag: t.clone(),
                    display: snapshot
                        .hub(t)
                        .map_or_else(|| t.clone(), |h| h.display.clone()),
                })
                .collect();
            card
        })
        .collect();
    let html = state.templates.render(
        "communities.html",
        context! {
            site_name => &state.site.name,
            nav => "communities",
            communities => Serde(&cards),
        },
    )?;
    Ok(page(html))
}

pub(super) async fn about(State(state): State<AppState>) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    let counts = state.store.counts().await?;
    let html = state.templates.render(
        "about.html",
        context! {
            site_name => &state.site.name,
            nav => "about",
            min_posts => snapshot.params.min_posts,
            min_bloggers => snapshot.params.min_bloggers,
            counts => context! { blogs => counts.blogs, posts => counts.posts },
        },
    )?;
    Ok(page(html))
}
