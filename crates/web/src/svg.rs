//! Pictures drawn on the server as inline SVG: a hub's weekly activity and a community's
//! map of hubs. No script, no external assets, no inline `style` (the CSP forbids it):
//! colours come from classes in `style.css`, so dark mode applies. Every string that
//! reaches the markup passes through [`esc`]; tag names come from feeds.
//!
//! Both pictures are `role="img"` with a `<title>` and `<desc>`; the pages put the same
//! numbers beside them as text (a table, a list of links) for people who cannot see them.

use std::fmt::Write as _;

/// Escapes text for SVG/XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
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
            let _ = write!(
                s,
                r#"<text class="axis" x="{cx:.1}" y="{ty}" text-anchor="middle">{}</text>"#,
                esc(&b.label),
                cx = x + bar_w / 2.0,
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

const MAP_W: f64 = 640.0;
const MAP_H: f64 = 420.0;
const MARGIN: f64 = 56.0;

/// Positions of `n` nodes in the map's box, deterministic for the same input:
/// Fruchterman–Reingold started from a circle (node order decides the start, no randomness),
/// with edge weights pulling harder.
pub fn layout(n: usize, edges: &[Edge]) -> Vec<(f64, f64)> {
    let (cx, cy) = (MAP_W / 2.0, MAP_H / 2.0);
    let rx = MAP_W / 2.0 - MARGIN;
    let ry = MAP_H / 2.0 - MARGIN;
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
    let area = (MAP_W - 2.0 * MARGIN) * (MAP_H - 2.0 * MARGIN);
    let k = (area / n as f64).sqrt();
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
            pos[i].0 = (pos[i].0 + disp[i].0 / len * step).clamp(MARGIN, MAP_W - MARGIN);
            pos[i].1 = (pos[i].1 + disp[i].1 / len * step).clamp(MARGIN, MAP_H - MARGIN);
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
    let sx = (MAP_W - 2.0 * MARGIN) / (x1 - x0).max(1.0);
    let sy = (MAP_H - 2.0 * MARGIN) / (y1 - y0).max(1.0);
    let s = sx.min(sy);
    let ox = MARGIN + ((MAP_W - 2.0 * MARGIN) - (x1 - x0) * s) / 2.0;
    let oy = MARGIN + ((MAP_H - 2.0 * MARGIN) - (y1 - y0) * s) / 2.0;
    for p in pos.iter_mut() {
        *p = (ox + (p.0 - x0) * s, oy + (p.1 - y0) * s);
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
            1.0 + 7.0 * e.weight.clamp(0.0, 1.0)
        );
    }
    for (node, &(x, y)) in nodes.iter().zip(&pos) {
        let r = 6.0 + 18.0 * (node.weight.max(0.0) / max_w).sqrt();
        let _ = write!(
            s,
            r#"<circle class="node" cx="{x:.1}" cy="{y:.1}" r="{r:.1}"/><text class="label" x="{x:.1}" y="{ty:.1}" text-anchor="middle">{}</text>"#,
            esc(&node.label),
            ty = y + r + 14.0,
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
        let labels = svg.matches(r#"text-anchor="middle""#).count();
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
            assert!((MARGIN - 0.01..=MAP_W - MARGIN + 0.01).contains(&x), "{x}");
            assert!((MARGIN - 0.01..=MAP_H - MARGIN + 0.01).contains(&y), "{y}");
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
