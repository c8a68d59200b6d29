//! The template environment: templates compiled into the binary, auto-escaping on.
//!
//! Filters: `excerpt` (plain text cut at a word), `seg` (a URL path segment, percent-
//! encoded: tags come from feeds and may hold `/`, `?` or `#`), `pct` (a share as a whole
//! percentage).

use crate::WebError;
use minijinja::{Environment, Value};

/// Every page template, by name. Search and register add their own `search*.html` and
/// `register*.html` lines here; they may `{% extends "base.html" %}` and
/// `{% import "macros.html" as m %}` (the post river, `m.river(posts, hubs)`).
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("hub.html", include_str!("../templates/hub.html")),
    (
        "hub_missing.html",
        include_str!("../templates/hub_missing.html"),
    ),
    ("hubs.html", include_str!("../templates/hubs.html")),
    (
        "community.html",
        include_str!("../templates/community.html"),
    ),
    (
        "communities.html",
        include_str!("../templates/communities.html"),
    ),
    ("blog.html", include_str!("../templates/blog.html")),
    ("kin.html", include_str!("../templates/kin.html")),
    ("post.html", include_str!("../templates/post.html")),
    ("about.html", include_str!("../templates/about.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("register.html", include_str!("../templates/register.html")),
    (
        "register_preview.html",
        include_str!("../templates/register_preview.html"),
    ),
    (
        "register_status.html",
        include_str!("../templates/register_status.html"),
    ),
    (
        "register_message.html",
        include_str!("../templates/register_message.html"),
    ),
];

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Self, WebError> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        env.add_filter("excerpt", excerpt);
        env.add_filter("seg", path_segment);
        env.add_filter("pct", |share: f64| format!("{:.0}%", share * 100.0));
        env.add_global("stylesheet", crate::pages::stylesheet_path());
        Ok(Self { env })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, WebError> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }
}

/// The first `chars` characters of `text`, cut at a word boundary, with an ellipsis.
pub fn excerpt(text: &str, chars: Option<usize>) -> String {
    let chars = chars.unwrap_or(280);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= chars {
        return flat;
    }
    let cut: String = flat.chars().take(chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

/// `s` as one URL path segment: unreserved ASCII kept, every other byte percent-encoded.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_at_words() {
        assert_eq!(excerpt("short  text", None), "short text");
        assert_eq!(excerpt("one two three four", Some(9)), "one two…");
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(path_segment("rust"), "rust");
        assert_eq!(path_segment("c++/x?y#z"), "c%2B%2B%2Fx%3Fy%23z");
        assert_eq!(path_segment("café"), "caf%C3%A9");
    }

    #[test]
    fn every_template_compiles() {
        Templates::new().unwrap();
    }
}
