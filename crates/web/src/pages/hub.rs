//! `/hubs/{tag}`: a hub's river (with why each post is there), members by role, related
//! hubs, weekly activity, conversations between members and subscribe links.

use super::{
    PAGE_SIZE, RiverParams, bad_cursor, blog_name, page, page_with, parse_time_cursor, post_views,
    time_cursor,
};
use crate::svg::{self, Bar};
use crate::templates::path_segment;
use crate::{AppState, WebError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kith_hubs::{Hub, Role, Snapshot};
use kith_index::RiverCursor;
use kith_model::{BlogId, Post, PostId};
use kith_store::PostQuery;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

/// Members listed per role; the rest are counted.
const MEMBERS_PER_ROLE: usize = 40;
/// Conversations shown (of those the snapshot keeps per hub).
const CONVERSATIONS: usize = 8;
/// Without an index, posts scanned (newest first) to fill one page of a hub's river.
const FALLBACK_SCAN: usize = 2_000;

pub(super) async fn show(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    Query(params): Query<RiverParams>,
) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    // `/hubs/Machine Learning` is the hub `machine-learning`, and a tag the curator's rules
    // alias or merge into another is that hub: one permanent redirect (a page cursor
    // belongs to the river it came from, so it is dropped).
    if let Some(to) = state.canonical_hub(&snapshot, &tag) {
        return Ok(Redirect::permanent(&format!("/hubs/{}", path_segment(&to))).into_response());
    }
    let Some(hub) = snapshot.hub(&tag) else {
        return missing(&state, &snapshot, &tag).await;
    };

    let (posts, older) = river(&state, RiverOf::Tag(&hub.tag), params.cursor()).await?;
    let posts = post_views(posts, &snapshot, Some(&hub.tag));

    // Computed with the hubs, in the background: no store query per request.
    let replies = &hub.conversations[..hub.conversations.len().min(CONVERSATIONS)];
    let want = hub
        .members
        .iter()
        .map(|m| m.blog)
        .chain(replies.iter().flat_map(|r| [r.from.blog_id, r.to.blog_id]));
    let dir = state.blogs.get(&state.store, want).await?;

    let members = member_groups(hub, &dir);
    #[derive(Serialize)]
    struct Conversation {
        from_blog_id: i64,
        from_blog: String,
        from_title: String,
        from_url: Option<String>,
        to_blog_id: i64,
        to_blog: String,
        to_title: String,
        to_url: Option<String>,
        published: String,
        date: String,
    }
    let conversations: Vec<Conversation> = replies
        .iter()
        .map(|r| Conversation {
            from_blog_id: r.from.blog_id.0,
            from_blog: blog_name(&dir, r.from.blog_id),
            to_blog_id: r.to.blog_id.0,
            to_blog: blog_name(&dir, r.to.blog_id),
            published: r.from.published.to_rfc3339(),
            date: r.from.published.format("%-d %b %Y").to_string(),
            from_title: r.from.title.clone(),
            from_url: r.from.url.clone().filter(|u| super::is_web_url(u)),
            to_title: r.to.title.clone(),
            to_url: r.to.url.clone().filter(|u| super::is_web_url(u)),
        })
        .collect();

    let weekly = weekly_bars(hub);
    let chart = svg::bar_chart(
        "activity-chart",
        &format!("Posts per week in {}", hub.display),
        &chart_description(&weekly),
        &weekly,
    );
    #[derive(Serialize)]
    struct WeekRow<'a> {
        long_label: &'a str,
        value: u32,
    }
    let week_rows: Vec<WeekRow> = weekly
        .iter()
        .map(|b| WeekRow {
            long_label: &b.long_label,
            value: b.value,
        })
        .collect();

    #[derive(Serialize)]
    struct RisingView<'a> {
        tag: &'a str,
        display: &'a str,
        hub: bool,
    }
    let rising: Vec<RisingView> = hub
        .rising
        .iter()
        .map(|t| RisingView {
            tag: &t.tag,
            display: &t.display,
            hub: snapshot.hub(&t.tag).is_some(),
        })
        .collect();
    let trend_words = if hub.trend >= 1.5 {
        "busier than usual lately"
    } else if hub.trend <= 0.67 {
        "quieter than usual lately"
    } else {
        ""
    };
    let community = hub
        .community
        .as_deref()
        .and_then(|id| snapshot.community(id))
        .map(|c| context! { id => &c.id, name => &c.name });
    let window_days = (snapshot.window.until - snapshot.window.recent_since).num_days();

    let html = state.templates.render(
        "hub.html",
        context! {
            site_name => &state.site.name,
            nav => "hubs",
            hub => context! {
                tag => &hub.tag,
                display => &hub.display,
                bloggers => hub.bloggers,
                posts => hub.posts,
                recent_posts => hub.recent_posts,
                trend_words => trend_words,
                related => Serde(&hub.related),
                rising => Serde(&rising),
            },
            community => community,
            window_days => window_days,
            posts => Serde(&posts),
            older => older,
            paged => params.cursor().is_some(),
            members => Serde(&members),
            conversations => Serde(&conversations),
            chart => chart,
            weekly => Serde(&week_rows),
        },
    )?;
    Ok(page(html))
}

/// Whose posts a river shows: a hub's (by tag) or some blogs' (a blog's kin).
#[derive(Debug, Clone, Copy)]
pub(super) enum RiverOf<'a> {
    Tag(&'a str),
    Blogs(&'a [BlogId]),
}

impl RiverOf<'_> {
    fn holds(&self, p: &Post) -> bool {
        match self {
            RiverOf::Tag(tag) => p.tags.iter().any(|t| t.tag == *tag),
            RiverOf::Blogs(blogs) => blogs.contains(&p.blog_id),
        }
    }
}

/// One page of a river (a hub's, or some blogs'), newest first, and the cursor of the
/// next page.
///
/// From the search index when there is one (live posts above a new blog's backfill, see
/// [`kith_index::river_key`]); otherwise from the store, newest first, filtered.
pub(super) async fn river(
    state: &AppState,
    of: RiverOf<'_>,
    cursor: Option<&str>,
) -> Result<(Vec<Post>, Option<String>), WebError> {
    if let RiverOf::Blogs([]) = of {
        return Ok((Vec::new(), None));
    }
    if let Some(index) = state.search.clone() {
        let before = cursor.map(parse_river_cursor).transpose()?;
        let (tag, blogs) = match of {
            RiverOf::Tag(t) => (Some(t.to_owned()), Vec::new()),
            RiverOf::Blogs(b) => (None, b.to_vec()),
        };
        // One more than a page: an "Older posts" link only when there are older posts.
        let mut hits = tokio::task::spawn_blocking(move || match tag {
            Some(t) => index.river(Some(&t), None, before, PAGE_SIZE + 1, true),
            None => index.river_of_blogs(&blogs, before, PAGE_SIZE + 1, true),
        })
        .await??;
        let more = hits.len() > PAGE_SIZE;
        hits.truncate(PAGE_SIZE);
        let older = more
            .then(|| hits.last().map(|h| format!("{}_{}", h.river, h.post_id)))
            .flatten();
        let ids: Vec<PostId> = hits.iter().map(|h| h.post_id).collect();
        return Ok((state.store.posts_by_ids(&ids).await?, older));
    }
    // Without an index: scan the newest posts in batches, keep those of the river.
    let mut before = cursor.map(parse_time_cursor).transpose()?;
    let mut out: Vec<Post> = Vec::new();
    let mut scanned = 0;
    let batch = 200;
    while scanned < FALLBACK_SCAN {
        let posts = state
            .store
            .latest_posts(PostQuery {
                limit: batch,
                before,
                ..PostQuery::default()
            })
            .await?;
        let n = posts.len();
        scanned += n;
        for p in posts {
            let key = (p.published, p.id);
            if of.holds(&p) {
                if out.len() == PAGE_SIZE {
                    // A post beyond this page: the next page starts after the last shown.
                    let older = out.last().map(|p| time_cursor(p.published, p.id));
                    return Ok((out, older));
                }
                out.push(p);
            }
            before = Some(key);
        }
        if n < batch {
            return Ok((out, None));
        }
    }
    // Scanned enough for one request: the next page goes on from the last post scanned.
    Ok((
        out,
        before.map(|(published, id)| time_cursor(published, id)),
    ))
}

/// An index cursor `RIVER_ID` (two integers).
fn parse_river_cursor(s: &str) -> Result<RiverCursor, WebError> {
    let (river, id) = s.split_once('_').ok_or_else(|| bad_cursor(s))?;
    Ok(RiverCursor {
        river: river.parse().map_err(|_| bad_cursor(s))?,
        id: PostId(id.parse().map_err(|_| bad_cursor(s))?),
    })
}

#[derive(Debug, Serialize)]
struct MemberView {
    blog_id: i64,
    title: String,
    role: Role,
    posts: u32,
    recent: u32,
}

#[derive(Debug, Serialize)]
struct MemberGroup {
    title: &'static str,
    total: usize,
    members: Vec<MemberView>,
    more: usize,
}

fn member_groups(
    hub: &Hub,
    dir: &std::collections::HashMap<kith_model::BlogId, super::BlogCard>,
) -> Vec<MemberGroup> {
    [
        (Role::Core, "Core"),
        (Role::Active, "Active"),
        (Role::Peripheral, "Peripheral"),
    ]
    .into_iter()
    .map(|(role, title)| {
        let all: Vec<_> = hub.members.iter().filter(|m| m.role == role).collect();
        MemberGroup {
            title,
            total: all.len(),
            more: all.len().saturating_sub(MEMBERS_PER_ROLE),
            members: all
                .into_iter()
                .take(MEMBERS_PER_ROLE)
                .map(|m| MemberView {
                    blog_id: m.blog.0,
                    title: blog_name(dir, m.blog),
                    role: m.role,
                    posts: m.posts,
                    recent: m.recent,
                })
                .collect(),
        }
    })
    .collect()
}

fn weekly_bars(hub: &Hub) -> Vec<Bar> {
    hub.weekly
        .iter()
        .map(|w| Bar {
            label: w.week.format("%-d %b").to_string(),
            long_label: format!("week of {}", w.week.format("%-d %b %Y")),
            value: w.posts,
        })
        .collect()
}

/// The chart in one sentence, for its `<desc>`.
fn chart_description(bars: &[Bar]) -> String {
    let total: u32 = bars.iter().map(|b| b.value).sum();
    let Some(busiest) = bars.iter().max_by_key(|b| b.value) else {
        return "No activity yet.".into();
    };
    let last = bars.last().map_or(0, |b| b.value);
    format!(
        "{total} posts over the last {} weeks; the busiest was the {} with {}; {} this week.",
        bars.len(),
        busiest.long_label,
        busiest.value,
        last
    )
}

/// The 404 page for a tag that is not a hub, with hubs it may have meant.
async fn missing(state: &AppState, snapshot: &Snapshot, tag: &str) -> Result<Response, WebError> {
    #[derive(Serialize)]
    struct Suggestion<'a> {
        tag: &'a str,
        display: &'a str,
        bloggers: u32,
    }
    let suggestions: Vec<Suggestion> = similar_hubs(snapshot, tag, 8)
        .into_iter()
        .map(|h| Suggestion {
            tag: &h.tag,
            display: &h.display,
            bloggers: h.bloggers,
        })
        .collect();
    let normal = kith_model::normalize_tag(tag).unwrap_or_default();
    let tagged = !normal.is_empty() && state.store.tag_display(&normal).await?.is_some();
    let html = state.templates.render(
        "hub_missing.html",
        context! {
            site_name => &state.site.name,
            nav => "hubs",
            tag => tag,
            tagged => tagged,
            suggestions => Serde(&suggestions),
            min_posts => snapshot.params.min_posts,
            min_bloggers => snapshot.params.min_bloggers,
        },
    )?;
    let mut r = page_with(html, "no-store");
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    Ok(r)
}

/// Hubs whose tag contains `tag` (or is contained in it) or is a few edits away, closest
/// first; the biggest hubs when nothing is close.
fn similar_hubs<'a>(snapshot: &'a Snapshot, tag: &str, limit: usize) -> Vec<&'a Hub> {
    let want = kith_model::normalize_tag(tag).unwrap_or_default();
    let mut scored: Vec<(usize, &Hub)> = snapshot
        .hubs
        .iter()
        .filter_map(|h| {
            if want.is_empty() {
                return None;
            }
            if h.tag.contains(&want) || (want.len() >= 3 && want.contains(&h.tag)) {
                return Some((0, h));
            }
            let d = levenshtein(&want, &h.tag);
            (d <= (want.chars().count() / 3).max(2)).then_some((d, h))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.bloggers.cmp(&a.1.bloggers)));
    let mut out: Vec<&Hub> = scored.into_iter().map(|(_, h)| h).take(limit).collect();
    if out.is_empty() {
        out = snapshot.hubs.iter().take(limit).collect();
    }
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("rust", "rust"), 0);
        assert_eq!(levenshtein("rsut", "rust"), 2);
        assert_eq!(levenshtein("pyton", "python"), 1);
        assert_eq!(levenshtein("", "go"), 2);
    }

    #[test]
    fn river_cursors() {
        let c = parse_river_cursor("1099511627776_17").unwrap();
        assert_eq!((c.river, c.id), (1 << 40, PostId(17)));
        assert!(parse_river_cursor("x_1").is_err());
        assert!(parse_river_cursor("17").is_err());
    }
}
