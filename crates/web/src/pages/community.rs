//! `/communities/{id}`: a community's hubs, its members with roles and shares, and a map
//! of how its hubs connect.

use super::{blog_name, page};
use crate::svg::{self, Edge, Node};
use crate::{AppState, WebError};
use axum::extract::{Path, State};
use axum::response::Response;
use kith_hubs::Role;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use std::collections::HashMap;

/// Hubs drawn on the map (its first); the list below it names them all.
const MAP_HUBS: usize = 16;
/// Each hub's strongest connections drawn on the map: more is a hairball.
const MAP_EDGES_PER_HUB: usize = 3;
/// Members listed; the rest are counted.
const MEMBERS: usize = 120;
/// Connections listed in the map's text version.
const EDGES_LISTED: usize = 30;

pub(super) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let snapshot = state.hubs.get();
    if let Some(to) = snapshot.community_moved(&id) {
        let to = format!("/communities/{}", crate::feeds::segment(&to.id));
        return Ok(axum::response::IntoResponse::into_response(
            axum::response::Redirect::temporary(&to),
        ));
    }
    let Some(c) = snapshot.community(&id) else {
        return Err(WebError::NotFound(format!(
            "There is no community {id:?}. Communities are found anew every few minutes \
             as people write; see all communities at /communities."
        )));
    };
    let display = |t: &str| {
        snapshot
            .hub(t)
            .map_or_else(|| t.to_owned(), |h| h.display.clone())
    };

    #[derive(Serialize)]
    struct HubRow {
        tag: String,
        display: String,
        bloggers: u32,
        posts: u32,
    }
    let hubs: Vec<HubRow> = c
        .hubs
        .iter()
        .map(|t| {
            let h = snapshot.hub(t);
            HubRow {
                tag: t.clone(),
                display: display(t),
                bloggers: h.map_or(0, |h| h.bloggers),
                posts: h.map_or(0, |h| h.posts),
            }
        })
        .collect();

    // The community's own order: its defining hubs first (generic tags such as "til"
    // have more bloggers but say less about it).
    let drawn: Vec<&HubRow> = hubs.iter().take(MAP_HUBS).collect();
    let index: HashMap<&str, usize> = drawn
        .iter()
        .enumerate()
        .map(|(i, h)| (h.tag.as_str(), i))
        .collect();
    let nodes: Vec<Node> = drawn
        .iter()
        .map(|h| Node {
            label: h.display.clone(),
            weight: f64::from(h.bloggers),
        })
        .collect();
    let edges = svg::strongest_edges(
        &c.edges
            .iter()
            .filter_map(|e| {
                Some(Edge {
                    a: *index.get(e.a.as_str())?,
                    b: *index.get(e.b.as_str())?,
                    weight: e.weight,
                })
            })
            .collect::<Vec<_>>(),
        MAP_EDGES_PER_HUB,
    );
    let map = svg::node_map(
        "community-map",
        &format!("Map of the hubs of {}", c.name),
        &format!(
            "Its first {} hubs drawn as circles sized by their bloggers, with {} lines \
             joining each hub to the hubs sharing most of its bloggers.",
            nodes.len(),
            edges.len()
        ),
        &nodes,
        &edges,
    );
    #[derive(Serialize)]
    struct EdgeRow {
        a: String,
        a_display: String,
        b: String,
        b_display: String,
        weight: f64,
    }
    let mut edge_rows: Vec<EdgeRow> = c
        .edges
        .iter()
        .map(|e| EdgeRow {
            a_display: display(&e.a),
            b_display: display(&e.b),
            a: e.a.clone(),
            b: e.b.clone(),
            weight: e.weight,
        })
        .collect();
    edge_rows.sort_by(|x, y| y.weight.total_cmp(&x.weight));
    edge_rows.truncate(EDGES_LISTED);

    let dir = state
        .blogs
        .get(&state.store, c.members.iter().take(MEMBERS).map(|m| m.blog))
        .await?;
    #[derive(Serialize)]
    struct MemberView {
        blog_id: i64,
        title: String,
        role: Role,
        share: f64,
        primary: bool,
    }
    let members: Vec<MemberView> = c
        .members
        .iter()
        .take(MEMBERS)
        .map(|m| MemberView {
            blog_id: m.blog.0,
            title: blog_name(&dir, m.blog),
            role: m.role,
            share: m.share,
            primary: m.primary,
        })
        .collect();

    let html = state.templates.render(
        "community.html",
        context! {
            site_name => &state.site.name,
            nav => "communities",
            community => context! { id => &c.id, name => &c.name },
            hubs => Serde(&hubs),
            map => map,
            edges => Serde(&edge_rows),
            members => Serde(&members),
            members_total => c.members.len(),
            members_more => c.members.len().saturating_sub(MEMBERS),
        },
    )?;
    Ok(page(html))
}
