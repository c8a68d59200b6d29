//! WebSub (W3C Recommendation) subscriber side: finding a feed's hub, asking it for
//! pushes, and checking that a push really comes from the hub we subscribed at.
//!
//! - §4 discovery: `Link` headers, then `rel="hub"`/`rel="self"` links in the feed (RSS
//!   `atom:link`, Atom `link`), or JSON Feed's `hubs`;
//! - §5.1 subscribing: a form POST to the hub (see [`crate::Fetcher::post_form`]);
//! - §7.1 authenticated content distribution: `X-Hub-Signature: sha256=HEX`, checked in
//!   constant time with a per-subscription secret.
//!
//! The callback endpoint and the subscription table live with the binary and the store.

use hmac::{Hmac, KeyInit, Mac};
use url::Url;

/// A feed's hub and the topic URL to subscribe to there (its `rel="self"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubLinks {
    pub hub: Url,
    pub topic: Url,
}

/// `rel` / URL pairs of an HTTP `Link` header value (RFC 8288), resolved against `base`.
pub fn parse_link_header(value: &str, base: &Url) -> Vec<(String, Url)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let target = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        // Parameters run to the next link (a comma followed by '<') or the end.
        let params_end = rest
            .find(", <")
            .or_else(|| rest.find(",<"))
            .unwrap_or(rest.len());
        let params = &rest[..params_end];
        rest = &rest[params_end..];
        let Ok(url) = base.join(target.trim()) else {
            continue;
        };
        for p in params.split(';') {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("rel") {
                for rel in v.trim().trim_matches('"').split_whitespace() {
                    out.push((rel.to_ascii_lowercase(), url.clone()));
                }
            }
        }
    }
    out
}

/// Feed-level `<link>`/`<atom:link>` elements with a `rel` in an XML feed (before the
/// first item or entry), resolved against `base`. A light scan rather than a second parse:
/// it only needs the hub and self links.
pub fn xml_feed_links(body: &[u8], base: &Url) -> Vec<(String, Url)> {
    let head = &body[..body.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    let lower = text.to_ascii_lowercase();
    let stop = ["<item", "<entry"]
        .iter()
        .filter_map(|t| lower.find(t))
        .min()
        .unwrap_or(lower.len());
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..stop].find("link") {
        let start = at + found;
        at = start + 4;
        let opens_tag = lower[..start].ends_with('<') || lower[..start].ends_with(":");
        if !opens_tag {
            continue;
        }
        let Some(end) = lower[start..stop].find('>') else {
            break;
        };
        let tag = &text[start..start + end];
        let attr = |name: &str| {
            let l = tag.to_ascii_lowercase();
            let i = l.find(&format!("{name}="))? + name.len() + 1;
            let q = tag[i..]
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')?;
            let v = &tag[i + 1..];
            Some(v[..v.find(q)?].to_owned())
        };
        if let (Some(rel), Some(href)) = (attr("rel"), attr("href"))
            && let Ok(u) = base.join(href.trim())
        {
            for r in rel.split_whitespace() {
                out.push((r.to_ascii_lowercase(), u.clone()));
            }
        }
    }
    out
}

/// JSON Feed's `hubs` (type WebSub) and `feed_url`, when the body is a JSON Feed.
fn json_feed_links(body: &[u8], base: &Url) -> Vec<(String, Url)> {
    let trimmed = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &body[i..]);
    if !trimmed.starts_with(b"{") {
        return Vec::new();
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(hubs) = v.get("hubs").and_then(|h| h.as_array()) {
        for h in hubs {
            let websub = h
                .get("type")
                .and_then(|t| t.as_str())
                .is_none_or(|t| t.eq_ignore_ascii_case("websub"));
            if websub
                && let Some(u) = h
                    .get("url")
                    .and_then(|u| u.as_str())
                    .and_then(|u| base.join(u).ok())
            {
                out.push(("hub".to_owned(), u));
            }
        }
    }
    if let Some(u) = v
        .get("feed_url")
        .and_then(|u| u.as_str())
        .and_then(|u| base.join(u).ok())
    {
        out.push(("self".to_owned(), u));
    }
    out
}

/// The hub to subscribe at, from the response's `Link` headers first (the spec's order),
/// then the feed's own links. The topic is `rel="self"`, else the URL we fetched.
pub fn find_hub(header_links: &[(String, Url)], body: &[u8], fetched: &Url) -> Option<HubLinks> {
    let mut feed_links = xml_feed_links(body, fetched);
    feed_links.extend(json_feed_links(body, fetched));
    let pick = |rel: &str| {
        header_links
            .iter()
            .chain(&feed_links)
            .find(|(r, u)| r == rel && matches!(u.scheme(), "http" | "https"))
            .map(|(_, u)| u.clone())
    };
    let hub = pick("hub")?;
    let topic = pick("self").unwrap_or_else(|| fetched.clone());
    Some(HubLinks { hub, topic })
}

/// A fresh secret for one subscription (the spec caps secrets below 200 bytes).
pub fn new_secret() -> String {
    format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    )
}

/// Whether `header` (`X-Hub-Signature: method=hex`) is the HMAC of `body` under `secret`.
/// sha256, sha384 and sha512 are accepted; sha1 is refused as too weak.
pub fn verify_signature(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some((method, hex)) = header.and_then(|h| h.trim().split_once('=')) else {
        return false;
    };
    let Some(expected) = decode_hex(hex.trim()) else {
        return false;
    };
    fn check<D>(secret: &str, body: &[u8], expected: &[u8]) -> bool
    where
        Hmac<D>: KeyInit + Mac,
        D: hmac::EagerHash,
    {
        let Ok(mut mac) = <Hmac<D> as KeyInit>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(expected).is_ok()
    }
    match method.trim().to_ascii_lowercase().as_str() {
        "sha256" => check::<sha2::Sha256>(secret, body, &expected),
        "sha384" => check::<sha2::Sha384>(secret, body, &expected),
        "sha512" => check::<sha2::Sha512>(secret, body, &expected),
        _ => false,
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 256 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example/feed.xml").unwrap()
    }

    #[test]
    fn link_headers_are_split_and_resolved() {
        let links = parse_link_header(
            r#"<https://hub.example/>; rel="hub", </feed.xml>; rel="self alternate""#,
            &base(),
        );
        let rels: Vec<(&str, &str)> = links
            .iter()
            .map(|(r, u)| (r.as_str(), u.as_str()))
            .collect();
        assert_eq!(
            rels,
            [
                ("hub", "https://hub.example/"),
                ("self", "https://blog.example/feed.xml"),
                ("alternate", "https://blog.example/feed.xml")
            ]
        );
        assert!(parse_link_header("garbage", &base()).is_empty());
    }

    #[test]
    fn headers_win_over_the_feed_and_json_feeds_count() {
        let header = parse_link_header("<https://h1.example/>; rel=hub", &base());
        let rss = br#"<rss xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
            <atom:link rel="hub" href="https://h2.example/"/><atom:link href="/feed.xml?x=1" rel='self' type="application/rss+xml"/>
            <item><link>https://blog.example/p</link><atom:link rel="hub" href="https://wrong.example/"/></item></channel></rss>"#;
        let found = find_hub(&header, rss, &base()).unwrap();
        assert_eq!(
            found.hub.as_str(),
            "https://h1.example/",
            "the Link header wins"
        );
        assert_eq!(found.topic.as_str(), "https://blog.example/feed.xml?x=1");
        let found = find_hub(&[], rss, &base()).unwrap();
        assert_eq!(
            found.hub.as_str(),
            "https://h2.example/",
            "feed-level links only"
        );
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="https://h3.example/"/><entry/></feed>"#;
        let found = find_hub(&[], atom, &base()).unwrap();
        assert_eq!(found.hub.as_str(), "https://h3.example/");
        assert_eq!(found.topic, base(), "no rel=self: the fetched URL");
        let json = br#"{"version":"https://jsonfeed.org/version/1.1","feed_url":"https://blog.example/feed.json","hubs":[{"type":"WebSub","url":"https://hub.example/"}]}"#;
        let found = find_hub(&[], json, &base()).unwrap();
        assert_eq!(found.topic.as_str(), "https://blog.example/feed.json");
        assert!(find_hub(&[], b"<rss/>", &base()).is_none());
    }

    #[test]
    fn signatures_are_checked() {
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"s3cret").unwrap();
        mac.update(b"body");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(verify_signature(
            "s3cret",
            b"body",
            Some(&format!("sha256={hex}"))
        ));
        assert!(!verify_signature(
            "s3cret",
            b"body!",
            Some(&format!("sha256={hex}"))
        ));
        assert!(!verify_signature(
            "other",
            b"body",
            Some(&format!("sha256={hex}"))
        ));
        assert!(!verify_signature(
            "s3cret",
            b"body",
            Some(&format!("sha1={hex}"))
        ));
        assert!(!verify_signature("s3cret", b"body", None));
        assert!(!verify_signature("s3cret", b"body", Some("sha256=zz")));
    }
}
