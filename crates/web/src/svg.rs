//! Pictures drawn on the server as inline SVG: a hub's weekly activity and a community's
//! map of hubs. No script, no external assets, no inline `style` (the CSP forbids it):
//! colours come from classes in `style.css`, so dark mode applies. Every string that
//! reaches the markup passes through [`esc`]; tag names come from feeds.
//!
//! Both pictures are `role="img"` with a `<title>` and `<desc>`; the pages put the same
//! numbers beside them as text (a table, a list of links) for people who cannot see them.

use std::fmt::Write as _;

/// Escapes text for SVG/XML content and attribute values; control characters, which XML
/// cannot hold, are dropped.
pub fn esc(s: &str) -> String {
    if s.contains(char::is_control) {
        kith_index::search::escape_html(&s.replace(char::is_control, ""))
    } else {
        kith_index::search::escape_html(s)
    }
}

/// One bar of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Shown under the bar (only every few bars, so labels never collide).
    pub label: String,
    /// Said in the bar's tooltip, e.g. "week of 3 Mar 2025".
    pub long_label: String,
    pub value: u32,
}

/// A bar chart: `id` makes the title/desc ids unique on the page.
pub fn bar_chart(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    const LEFT: f64 = 34.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 28.0;
    let id = esc(id);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = bars.len().max(1) as f64;
    let slot = plot_w / n;
    let bar_w = (slot * 0.72).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc" preserveAspectRatio="xMidYMid meet"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    // Gridlines at 0, half and max.
    for (frac, value) in [(0.0, 0), (0.5, max / 2), (1.0, max)] {
        if frac > 0.0 && value == 0 {
            continue;
        }
        let y = TOP + plot_h * (1.0 - frac);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{lx}" y="{ty:.1}" text-anchor="end">{value}</text>"#,
            x2 = W - RIGHT,
            lx = LEFT - 6.0,
            ty = y + 4.0,
        );
    }
    // Label every k-th bar so at most ~8 labels show.
    let every = bars.len().div_ceil(8).max(1);
    for (i, b) in bars.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let h = plot_h * f64::from(b.value) / f64::from(max);
        let y = TOP + plot_h - h;
        let _ = write!(
            s,
            r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}"><title>{}: {} {}</title></rect>"#,
            esc(&b.long_label),
            b.value,
            if b.value == 1 { "post" } else { "posts" }
        );
        if (bars.len() - 1 - i).is_multiple_of(every) {
            // The newest label ends at its bar's right edge so it is never cut off.
            let (lx, anchor) = if i + 1 == bars.len() {
                (x + bar_w, "end")
            } else {
                (x + bar_w / 2.0, "middle")
            };
            let _ = write!(
                s,
                r#"<text class="axis" x="{lx:.1}" y="{ty}" text-anchor="{anchor}">{}</text>"#,
                esc(&b.label),
                ty = H - 8.0,
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A node of a map.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub label: String,
    /// Drawn with area proportional to it (e.g. bloggers).
    pub weight: f64,
}

/// An edge of a map between nodes `a` and `b` (indices), `weight` in (0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub a: usize,
    pub b: usize,
    pub weight: f64,
}

/// The edges worth drawing: for every node its `per_node` heaviest edges (an edge stays
/// if either end keeps it), heaviest first. Dense graphs otherwise draw as a hairball.
pub fn strongest_edges(edges: &[Edge], per_node: usize) -> Vec<Edge> {
    let mut sorted: Vec<Edge> = edges.to_vec();
    sorted.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    let mut kept_per_node: std::collections::HashMap<usize, usize> = Default::default();
    let mut out = Vec::new();
    for e in sorted {
        let ka = kept_per_node.get(&e.a).copied().unwrap_or(0);
        let kb = kept_per_node.get(&e.b).copied().unwrap_or(0);
        if ka < per_node || kb < per_node {
            *kept_per_node.entry(e.a).or_default() += 1;
            *kept_per_node.entry(e.b).or_default() += 1;
            out.push(e);
        }
    }
    out
}

const MAP_W: f64 = 720.0;
const MAP_H: f64 = 400.0;
/// Room around the nodes: wide at the sides, where labels run outward.
const MARGIN_X: f64 = 140.0;
const MARGIN_Y: f64 = 36.0;

/// Positions of `n` nodes in the map's box, deterministic for the same input:
/// Fruchterman–Reingold started from a circle (node order decides the start, no randomness),
/// with edge weights pulling harder.
pub fn layout(n: usize, edges: &[Edge]) -> Vec<(f64, f64)> {
    let (cx, cy) = (MAP_W / 2.0, MAP_H / 2.0);
    let rx = MAP_W / 2.0 - MARGIN_X;
    let ry = MAP_H / 2.0 - MARGIN_Y;
    let mut pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a =
                std::f64::consts::TAU * i as f64 / n.max(1) as f64 - std::f64::consts::FRAC_PI_2;
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect();
    if n < 3 {
        if n == 2 {
            pos = vec![(cx - rx / 2.0, cy), (cx + rx / 2.0, cy)];
        } else if n == 1 {
            pos = vec![(cx, cy)];
        }
        return pos;
    }
    let area = (MAP_W - 2.0 * MARGIN_X) * (MAP_H - 2.0 * MARGIN_Y);
    // A little more room than the textbook `sqrt(area / n)`: labels need it.
    let k = 1.3 * (area / n as f64).sqrt();
    let mut temp = MAP_W / 8.0;
    let iterations = 250;
    let cool = temp / f64::from(iterations);
    for _ in 0..iterations {
        let mut disp = vec![(0.0f64, 0.0f64); n];
        for i in 0..n {
            for j in (i + 1)..n {
                let (dx, dy) = (pos[i].0 - pos[j].0, pos[i].1 - pos[j].1);
                let d = (dx * dx + dy * dy).sqrt().max(0.01);
                let f = k * k / d;
                disp[i].0 += dx / d * f;
                disp[i].1 += dy / d * f;
                disp[j].0 -= dx / d * f;
                disp[j].1 -= dy / d * f;
            }
        }
        for e in edges {
            if e.a >= n || e.b >= n || e.a == e.b {
                continue;
            }
            let (dx, dy) = (pos[e.a].0 - pos[e.b].0, pos[e.a].1 - pos[e.b].1);
            let d = (dx * dx + dy * dy).sqrt().max(0.01);
            let f = d * d / k * (0.5 + e.weight.clamp(0.0, 1.0));
            disp[e.a].0 -= dx / d * f;
            disp[e.a].1 -= dy / d * f;
            disp[e.b].0 += dx / d * f;
            disp[e.b].1 += dy / d * f;
        }
        for i in 0..n {
            // A gentle pull to the centre keeps unconnected hubs on the map.
            disp[i].0 += (cx - pos[i].0) * 0.05;
            disp[i].1 += (cy - pos[i].1) * 0.05;
            let len = (disp[i].0 * disp[i].0 + disp[i].1 * disp[i].1)
                .sqrt()
                .max(0.01);
            let step = len.min(temp);
            // Free to leave the box: `fit` scales the result into it, so nodes do not
            // pile up along its edges.
            pos[i].0 += disp[i].0 / len * step;
            pos[i].1 += disp[i].1 / len * step;
        }
        temp = (temp - cool).max(1.0);
    }
    fit(&mut pos);
    pos
}

/// Scales positions to fill the box (inside the margins), keeping proportions.
fn fit(pos: &mut [(f64, f64)]) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pos.iter() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let sx = (MAP_W - 2.0 * MARGIN_X) / (x1 - x0).max(1.0);
    let sy = (MAP_H - 2.0 * MARGIN_Y) / (y1 - y0).max(1.0);
    // Each axis stretched on its own: the map is wider than tall, the layout is not.
    let (sx, sy) = (sx.min(3.0 * sy), sy.min(3.0 * sx));
    let ox = MARGIN_X + ((MAP_W - 2.0 * MARGIN_X) - (x1 - x0) * sx) / 2.0;
    let oy = MARGIN_Y + ((MAP_H - 2.0 * MARGIN_Y) - (y1 - y0) * sy) / 2.0;
    for p in pos.iter_mut() {
        *p = (ox + (p.0 - x0) * sx, oy + (p.1 - y0) * sy);
    }
}

/// A node-link map: circles sized by weight, lines as thick as their weight.
pub fn node_map(id: &str, title: &str, desc: &str, nodes: &[Node], edges: &[Edge]) -> String {
    let id = esc(id);
    let pos = layout(nodes.len(), edges);
    let max_w = nodes
        .iter()
        .map(|n| n.weight)
        .fold(0.0f64, f64::max)
        .max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="map" viewBox="0 0 {MAP_W} {MAP_H}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc" preserveAspectRatio="xMidYMid meet"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    for e in edges {
        let (Some(a), Some(b)) = (pos.get(e.a), pos.get(e.b)) else {
            continue;
        };
        let _ = write!(
            s,
            r#"<line class="edge" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke-width="{:.1}"/>"#,
            a.0,
            a.1,
            b.0,
            b.1,
            1.0 + 5.0 * e.weight.clamp(0.0, 1.0)
        );
    }
    let (cx, cy) = (MAP_W / 2.0, MAP_H / 2.0);
    for (node, &(x, y)) in nodes.iter().zip(&pos) {
        let r = 4.0 + 12.0 * (node.weight.max(0.0) / max_w).sqrt();
        let _ = write!(
            s,
            r#"<circle class="node" cx="{x:.1}" cy="{y:.1}" r="{r:.1}"/>"#
        );
        // Labels point away from the centre, where there is room.
        // About 8 px a character at the label's 14 px: enough to keep it in the box.
        let width = 8.0 * node.label.chars().count() as f64;
        let right = (x > cx && x + r + 4.0 + width <= MAP_W) || x - r - 4.0 - width < 0.0;
        let (lx, ly, anchor) = if (x - cx).abs() < 40.0 {
            let below = y >= cy;
            (x, if below { y + r + 14.0 } else { y - r - 6.0 }, "middle")
        } else if right {
            (x + r + 4.0, y + 4.0, "start")
        } else {
            (x - r - 4.0, y + 4.0, "end")
        };
        let _ = write!(
            s,
            r#"<text class="label" x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{}</text>"#,
            esc(&node.label),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<script>\"a\" & 'b'\u{7}"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;"
        );
        let svg = bar_chart(
            "c",
            "<t>",
            "d",
            &[Bar {
                label: "<x>".into(),
                long_label: "<y>".into(),
                value: 3,
            }],
        );
        assert!(!svg.contains("<t>") && !svg.contains("<x>") && !svg.contains("<y>"));
        assert!(svg.contains("&lt;x&gt;"));
    }

    #[test]
    fn bars_scale_to_the_largest() {
        let bars: Vec<Bar> = (0..12)
            .map(|i| Bar {
                label: i.to_string(),
                long_label: format!("week {i}"),
                value: i,
            })
            .collect();
        let svg = bar_chart("w", "t", "d", &bars);
        assert_eq!(svg.matches("<rect").count(), 12);
        // The tallest bar fills the plot (180 - 12 - 28 = 140).
        assert!(svg.contains(r#"height="140.0""#), "{svg}");
        // At most eight labels under the bars, the newest always labelled.
        let labels = svg.matches(r#"<text class="axis" x="#).count() - 3;
        assert!((1..=8).contains(&labels), "{labels}");
        assert!(svg.contains(">11</text>"));
    }

    #[test]
    fn layout_is_deterministic_and_inside_the_box() {
        let edges = vec![
            Edge {
                a: 0,
                b: 1,
                weight: 0.8,
            },
            Edge {
                a: 1,
                b: 2,
                weight: 0.3,
            },
            Edge {
                a: 3,
                b: 4,
                weight: 0.5,
            },
        ];
        let a = layout(6, &edges);
        assert_eq!(a, layout(6, &edges));
        for &(x, y) in &a {
            assert!(
                (MARGIN_X - 0.01..=MAP_W - MARGIN_X + 0.01).contains(&x),
                "{x}"
            );
            assert!(
                (MARGIN_Y - 0.01..=MAP_H - MARGIN_Y + 0.01).contains(&y),
                "{y}"
            );
        }
        // Strongly linked hubs sit closer than unlinked ones.
        let d = |i: usize, j: usize| ((a[i].0 - a[j].0).powi(2) + (a[i].1 - a[j].1).powi(2)).sqrt();
        assert!(d(0, 1) < d(0, 4), "{a:?}");
        // No two nodes on top of each other.
        for i in 0..6 {
            for j in (i + 1)..6 {
                assert!(d(i, j) > 20.0, "{i} {j} {a:?}");
            }
        }
    }

    #[test]
    fn maps_keep_each_nodes_strongest_edges() {
        let e = |a, b, weight| Edge { a, b, weight };
        // A complete graph on four nodes, one edge per node kept.
        let all = vec![
            e(0, 1, 0.9),
            e(0, 2, 0.2),
            e(0, 3, 0.1),
            e(1, 2, 0.3),
            e(1, 3, 0.15),
            e(2, 3, 0.8),
        ];
        assert_eq!(strongest_edges(&all, 1), vec![e(0, 1, 0.9), e(2, 3, 0.8)]);
        assert_eq!(strongest_edges(&all, 3).len(), 6);
    }

    #[test]
    fn map_draws_every_node_and_edge() {
        let nodes: Vec<Node> = ["rust", "go", "<b>"]
            .iter()
            .map(|l| Node {
                label: (*l).into(),
                weight: 3.0,
            })
            .collect();
        let svg = node_map(
            "m",
            "Map",
            "How hubs connect",
            &nodes,
            &[Edge {
                a: 0,
                b: 1,
                weight: 0.4,
            }],
        );
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("<line").count(), 1);
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
    }
}
