//! `/blogs/{id}`: a blogger's posts, the hubs and communities they belong to with their
//! role in each, and their feed's health in plain words, so a blogger can see why their
//! posts are not showing. A pending blog shows how to verify it instead of posts.

use super::{
    PAGE_SIZE, RiverParams, every, page, page_with, parse_time_cursor, post_views, time_cursor,
    when,
};
use crate::{AppState, WebError};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use kith_hubs::Role;
use kith_model::{Blog, BlogId, BlogStatus, Health};
use kith_store::PostQuery;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

/// Kindred blogs listed on the blog's page (all of them on `/blogs/{id}/kin`).
const KIN_SHOWN: usize = 5;

pub(super) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<RiverParams>,
) -> Result<Response, WebError> {
    let not_found = || {
        WebError::NotFound(format!(
            "There is no blog {id:?} here. Blogs are numbered; find one from a hub's members \
             or search for its posts."
        ))
    };
    let blog_id = id.parse::<i64>().map(BlogId).map_err(|_| not_found())?;
    let blog = state.store.blog(blog_id).await?.ok_or_else(not_found)?;
    let public = blog.status == BlogStatus::Verified;
    let snapshot = state.hubs.get();

    let before = params.cursor().map(parse_time_cursor).transpose()?;
    let (posts, older) = if public {
        let mut posts = state
            .store
            .latest_posts(PostQuery {
                limit: PAGE_SIZE + 1,
                before,
                blog: Some(blog.id),
                ..PostQuery::default()
            })
            .await?;
        let more = posts.len() > PAGE_SIZE;
        posts.truncate(PAGE_SIZE);
        let older = more
            .then(|| posts.last().map(|p| time_cursor(p.published, p.id)))
            .flatten();
        (post_views(posts, &snapshot, None), older)
    } else {
        (Vec::new(), None)
    };

    #[derive(Serialize)]
    struct HubRole<'a> {
        tag: &'a str,
        display: &'a str,
        role: Role,
        posts: u32,
    }
    let hubs: Vec<HubRole> = snapshot
        .memberships(blog.id)
        .into_iter()
        .map(|(h, m)| HubRole {
            tag: &h.tag,
            display: &h.display,
            role: m.role,
            posts: m.posts,
        })
        .collect();
    #[derive(Serialize)]
    struct CommunityRole<'a> {
        id: &'a str,
        name: &'a str,
        share: f64,
        role: Option<Role>,
        primary: bool,
    }
    let communities: Vec<CommunityRole> = snapshot
        .blogs
        .get(&blog.id)
        .map(|bc| {
            bc.shares
                .iter()
                .filter_map(|(cid, share)| {
                    let c = snapshot.community(cid)?;
                    let member = c.members.iter().find(|m| m.blog == blog.id);
                    Some(CommunityRole {
                        id: &c.id,
                        name: &c.name,
                        share: *share,
                        role: member.map(|m| m.role),
                        primary: bc.primary.as_deref() == Some(cid.as_str()),
                    })
                })
                .collect()
        })
        .unwrap_or_default();

    let kin = if public {
        Some(super::kin::kin_of(&state, &snapshot, &blog, KIN_SHOWN).await?)
    } else {
        None
    };

    let html = state.templates.render(
        "blog.html",
        context! {
            site_name => &state.site.name,
            blog => context! {
                id => blog.id.0,
                title => &blog.title,
                homepage_url => &blog.homepage_url,
                feed_url => &blog.feed_url,
                status => blog.status.as_str(),
                status_words => status_words(blog.status),
                token => (blog.status == BlogStatus::Pending).then_some(&blog.verification_token),
            },
            public => public,
            health => Serde(&HealthView::of(&blog)),
            posts => Serde(&posts),
            older => older,
            paged => before.is_some(),
            hubs => Serde(&hubs),
            communities => Serde(&communities),
            kin => Serde(&kin),
        },
    )?;
    // A blogger watching for verification or a fix should see it soon.
    Ok(if public {
        page(html)
    } else {
        page_with(html, "no-cache")
    })
}

fn status_words(s: BlogStatus) -> &'static str {
    match s {
        BlogStatus::Pending => "waiting for verification",
        BlogStatus::Verified => "verified",
        BlogStatus::Paused => "paused",
        BlogStatus::Gone => "gone",
    }
}

/// The feed's health as a blogger reads it.
#[derive(Debug, Serialize)]
struct HealthView {
    /// new, ok, degraded, failing, paused, gone (for styling).
    word: &'static str,
    summary: &'static str,
    last_success: Option<String>,
    last_checked: Option<String>,
    last_status: Option<u16>,
    last_error: Option<String>,
    consecutive_errors: u32,
    next_poll: Option<String>,
    interval: Option<String>,
    added: String,
    advice: Option<&'static str>,
    /// What the last read of the feed left out or changed.
    notes: Vec<String>,
}

impl HealthView {
    fn of(blog: &Blog) -> HealthView {
        let now = Utc::now();
        let f = &blog.feed;
        let health = blog.health();
        let (summary, advice) = match health {
            Health::New => (
                "not read yet",
                Some("The feed is read for the first time shortly after registration."),
            ),
            Health::Ok if !f.notes.is_empty() => (
                "working, with entries left out",
                Some(
                    "The feed is read, but not everything in it could be kept: the notes \
                     above say what and why.",
                ),
            ),
            Health::Ok => ("working", None),
            Health::Degraded => (
                "had a problem on the last check",
                Some(
                    "One or two failures in a row are usually temporary; Kith keeps trying and \
                     waits a little longer each time.",
                ),
            ),
            Health::Failing => (
                "failing",
                Some(
                    "The feed has failed several checks in a row. Kith keeps trying, less \
                     often; fix the error above and the next check picks the posts up.",
                ),
            ),
            Health::Paused => ("paused", None),
            Health::Gone => ("gone", None),
        };
        HealthView {
            word: health.as_str(),
            summary,
            last_success: f.last_success_at.map(|t| when(t, now)),
            last_checked: f.last_checked_at.map(|t| when(t, now)),
            last_status: f.last_status,
            last_error: f.last_error.clone(),
            consecutive_errors: f.consecutive_errors,
            next_poll: f
                .next_check_at
                .filter(|_| blog.status.is_polled())
                .map(|t| when(t, now)),
            interval: f.interval_secs.map(every),
            added: when(blog.added_at, now),
            advice,
            notes: f.notes.clone(),
        }
    }
}
