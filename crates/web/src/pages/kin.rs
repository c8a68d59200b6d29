//! Kindred blogs: the "Kindred blogs" list (on `/blogs/{id}`, `/blogs/{id}/kin` and a
//! newcomer's `/register/{id}`) and `/blogs/{id}/kin`, a river of the kin's newest posts
//! with its feeds and blogroll.
//!
//! Kin come from the hubs snapshot ([`kith_hubs::kin`]): computed with the hubs, the same
//! on every web node, so the page asks the store only for the posts it shows.

use super::hub::{RiverOf, river};
use super::{BlogCard, RiverParams, page, post_views};
use crate::{AppState, WebError};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kith_hubs::{BlogKin, Snapshot};
use kith_model::{Blog, BlogId, BlogStatus};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use std::collections::HashMap;

/// Shared hubs named per kin (the rest are counted).
const HUBS_SHOWN: usize = 5;

/// A kin as the pages show it.
#[derive(Debug, Serialize)]
pub(crate) struct KinView {
    blog_id: i64,
    title: String,
    homepage_url: String,
    score: f64,
    /// Percent, for people.
    closeness: u32,
    shared_hubs: Vec<HubLink>,
    more_hubs: usize,
    links: u32,
    community: Option<HubLink>,
}

#[derive(Debug, Serialize)]
struct HubLink {
    /// Tag or community id (for the link).
    id: String,
    display: String,
}

/// What the kin list shows: the kin, or why there are none.
#[derive(Debug, Serialize)]
pub(crate) struct KinList {
    kin: Vec<KinView>,
    /// "too_little" or "kin".
    state: &'static str,
    posts: u32,
    needed: u32,
}

impl KinList {
    /// The kin's blogs, best first.
    pub(crate) fn blog_ids(&self) -> Vec<BlogId> {
        self.kin.iter().map(|k| BlogId(k.blog_id)).collect()
    }
}

/// The view of `kin`, public blogs only (`dir` says which are).
pub(crate) fn kin_list(
    kin: &BlogKin,
    snapshot: &Snapshot,
    dir: &HashMap<BlogId, BlogCard>,
    limit: usize,
) -> KinList {
    let views = kin
        .kin()
        .iter()
        .filter_map(|k| {
            let card = dir.get(&k.blog)?;
            (card.status == BlogStatus::Verified).then_some((k, card))
        })
        .take(limit)
        .map(|(k, card)| KinView {
            blog_id: k.blog.0,
            title: card.name().to_owned(),
            homepage_url: card.homepage_url.clone(),
            score: k.score,
            closeness: (k.score.min(1.0) * 100.0).round() as u32,
            shared_hubs: k
                .shared_hubs
                .iter()
                .take(HUBS_SHOWN)
                .map(|t| HubLink {
                    id: t.clone(),
                    display: snapshot
                        .hub(t)
                        .map_or_else(|| t.clone(), |h| h.display.clone()),
                })
                .collect(),
            more_hubs: k.shared_hubs.len().saturating_sub(HUBS_SHOWN),
            links: k.links,
            community: k
                .community
                .as_deref()
                .and_then(|c| snapshot.community(c))
                .map(|c| HubLink {
                    id: c.id.clone(),
                    display: c.name.clone(),
                }),
        })
        .collect();
    match kin {
        BlogKin::TooLittle { posts, needed } => KinList {
            kin: Vec::new(),
            state: "too_little",
            posts: *posts,
            needed: *needed,
        },
        BlogKin::Kin { .. } => KinList {
            kin: views,
            state: "kin",
            posts: 0,
            needed: 0,
        },
    }
}

/// The blog's kin under the current snapshot (a newcomer's matched from its own posts).
pub(crate) async fn kin_of(
    state: &AppState,
    snapshot: &Snapshot,
    blog: &Blog,
    limit: usize,
) -> Result<KinList, WebError> {
    let kin = kith_hubs::kin::of_blog(snapshot, &state.store, blog).await?;
    let dir = state
        .blogs
        .get(&state.store, kin.kin().iter().map(|k| k.blog))
        .await?;
    Ok(kin_list(&kin, snapshot, &dir, limit))
}

/// A hub a newcomer's posts are in, and how many.
#[derive(Debug, Serialize)]
pub(crate) struct FirstHub {
    tag: String,
    display: String,
    posts: u32,
}

/// What a newcomer sees once the first crawl is in: the hubs their posts fall in (most
/// posts first) and their kin, from their newest posts, public yet or not.
pub(crate) async fn first_view(
    state: &AppState,
    blog: &Blog,
) -> Result<(Vec<FirstHub>, KinList), WebError> {
    let snapshot = state.hubs.get();
    let posts = state
        .store
        .latest_posts(kith_store::PostQuery {
            limit: kith_hubs::kin::NEWCOMER_POSTS,
            blog: Some(blog.id),
            public_only: false,
            ..kith_store::PostQuery::default()
        })
        .await?;
    let mut hubs: Vec<FirstHub> = kith_hubs::kin::tag_counts(&posts)
        .into_iter()
        .filter_map(|(tag, posts)| {
            let hub = snapshot.hub(&tag)?;
            Some(FirstHub {
                display: hub.display.clone(),
                tag,
                posts,
            })
        })
        .collect();
    hubs.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.tag.cmp(&b.tag)));
    let kin = kith_hubs::kin::of_posts(&snapshot, blog.id, &posts);
    let dir = state
        .blogs
        .get(&state.store, kin.kin().iter().map(|k| k.blog))
        .await?;
    Ok((hubs, kin_list(&kin, &snapshot, &dir, NEWCOMER_KIN)))
}

/// Kin shown to a newcomer.
const NEWCOMER_KIN: usize = 5;

/// `/blogs/{id}/kin`: the kin with their reasons and a river of their newest posts.
pub(super) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<RiverParams>,
) -> Result<Response, WebError> {
    let blog = public_blog(&state, &id).await?;
    let snapshot = state.hubs.get();
    let list = kin_of(&state, &snapshot, &blog, usize::MAX).await?;
    let ids = list.blog_ids();
    let (posts, older) = river(&state, RiverOf::Blogs(&ids), params.cursor()).await?;
    let posts = post_views(posts, &snapshot, None);
    let html = state.templates.render(
        "kin.html",
        context! {
            site_name => &state.site.name,
            blog => context! {
                id => blog.id.0,
                title => if blog.title.trim().is_empty() { &blog.homepage_url } else { &blog.title },
                homepage_url => &blog.homepage_url,
            },
            kin => Serde(&list),
            posts => Serde(&posts),
            older => older,
            paged => params.cursor().is_some(),
        },
    )?;
    Ok(page(html))
}

/// The blog `id` names, when it is public; a 404 saying why otherwise.
pub(crate) async fn public_blog(state: &AppState, id: &str) -> Result<Blog, WebError> {
    let not_found = || {
        WebError::NotFound(format!(
            "There is no public blog {id:?} here, so it has no kindred blogs to show."
        ))
    };
    let blog_id = id.parse::<i64>().map(BlogId).map_err(|_| not_found())?;
    let blog = state.store.blog(blog_id).await?.ok_or_else(not_found)?;
    if blog.status != BlogStatus::Verified {
        return Err(not_found());
    }
    Ok(blog)
}
