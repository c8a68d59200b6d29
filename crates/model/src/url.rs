//! One definition of "the same URL".
//!
//! Blogs are registered by people typing URLs, and feeds are reached through redirects,
//! with or without a trailing slash, over http or https. [`normalize_url`] gives the form
//! we store and show; [`identity_key`] the looser form under which two URLs count as one
//! feed.

use url::Url;

/// Why a string is not a URL Kith can crawl.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("{input:?} is not a URL ({reason}); expected something like https://example.com/")]
    Invalid { input: String, reason: String },
    #[error("{input:?} uses the {scheme}: scheme; only http and https can be crawled")]
    UnsupportedScheme { input: String, scheme: String },
    #[error("{input:?} has no host name")]
    NoHost { input: String },
}

/// Tracking parameters that never change what a URL points at.
const TRACKING_PARAMS: &[&str] = &["fbclid", "gclid", "mc_cid", "mc_eid", "ref_src"];

/// Parses and normalises a URL typed by a person or found in a page.
///
/// - `example.com/blog` (no scheme, but a dotted host) becomes `https://example.com/blog`;
/// - only `http` and `https` are accepted;
/// - host lower-cased (the `url` crate does IDNA), default port and fragment dropped;
/// - `utm_*` and other tracking parameters dropped, an empty query removed.
pub fn normalize_url(input: &str) -> Result<Url, UrlError> {
    let trimmed = input.trim();
    let invalid = |reason: &str| UrlError::Invalid {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let mut url = match Url::parse(trimmed) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            // A bare "example.com/blog": accept it only when it looks like a host name,
            // so that a typo such as "not-a-url" is an error, not a request to a host.
            let host = trimmed.split(['/', '?', '#']).next().unwrap_or("");
            if !host.contains('.') || host.contains(' ') {
                return Err(invalid("no scheme, and it does not start with a host name"));
            }
            Url::parse(&format!("https://{trimmed}")).map_err(|e| invalid(&e.to_string()))?
        }
        Err(e) => return Err(invalid(&e.to_string())),
    };
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(UrlError::UnsupportedScheme {
                input: input.to_owned(),
                scheme: other.to_owned(),
            });
        }
    }
    match url.host_str() {
        None | Some("") => {
            return Err(UrlError::NoHost {
                input: input.to_owned(),
            });
        }
        Some(_) => {}
    }
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Ok(url)
}

/// The key under which two URLs are the same feed: no scheme, no trailing slash, no
/// leading `www.`. `https://www.example.com/feed/` and `http://example.com/feed` share it.
pub fn identity_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let mut key = String::with_capacity(url.as_str().len());
    key.push_str(host);
    if let Some(port) = url.port() {
        key.push(':');
        key.push_str(&port.to_string());
    }
    key.push_str(url.path().trim_end_matches('/'));
    if let Some(q) = url.query() {
        key.push('?');
        key.push_str(q);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize_url(s)
            .map(|u| u.to_string())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn normalises_what_people_type() {
        assert_eq!(
            norm("HTTPS://Example.COM:443/Blog#top"),
            "https://example.com/Blog"
        );
        assert_eq!(norm("example.com/blog"), "https://example.com/blog");
        assert_eq!(norm("http://example.com"), "http://example.com/");
        assert_eq!(
            norm("http://e.com/f?utm_source=x&id=3"),
            "http://e.com/f?id=3"
        );
        assert_eq!(norm("http://e.com/f?utm_source=x"), "http://e.com/f");
    }

    #[test]
    fn rejects_what_cannot_be_crawled() {
        assert!(matches!(
            normalize_url("not-a-url"),
            Err(UrlError::Invalid { .. })
        ));
        assert!(matches!(normalize_url(""), Err(UrlError::Invalid { .. })));
        assert!(matches!(
            normalize_url("ftp://x"),
            Err(UrlError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            normalize_url("javascript:alert(1)"),
            Err(UrlError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn identity_ignores_scheme_www_and_trailing_slash() {
        let a = normalize_url("https://www.example.com/feed/").ok();
        let b = normalize_url("http://example.com/feed").ok();
        let c = normalize_url("http://example.com/other").ok();
        let key = |u: &Option<Url>| u.as_ref().map(identity_key);
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Normalising twice changes nothing, and the result always passes again.
        #[test]
        fn normalisation_is_idempotent(
            scheme in prop::sample::select(vec!["http", "https", "HTTP", ""]),
            host in "[a-zA-Z][a-zA-Z0-9-]{0,10}(\\.[a-zA-Z]{2,5}){1,2}",
            path in "(/[a-zA-Z0-9._~%-]{0,8}){0,4}/?",
            query in prop::option::of("[a-z]{1,5}=[a-z0-9]{0,5}(&utm_[a-z]{1,4}=[a-z]{1,3})?"),
            frag in prop::option::of("[a-z]{0,5}"),
        ) {
            let mut s = if scheme.is_empty() { host.clone() } else { format!("{scheme}://{host}") };
            s.push_str(&path);
            if let Some(q) = &query { s.push('?'); s.push_str(q); }
            if let Some(f) = &frag { s.push('#'); s.push_str(f); }
            let once = normalize_url(&s);
            prop_assert!(once.is_ok(), "{s:?} rejected: {once:?}");
            let once = once.map_err(|e| TestCaseError::fail(e.to_string()))?;
            let twice = normalize_url(once.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(once.as_str(), twice.as_str());
            prop_assert!(once.fragment().is_none());
            prop_assert!(!once.as_str().contains("utm_"));
            prop_assert_eq!(identity_key(&once), identity_key(&twice));
        }

        /// Anything that is not http(s) is refused, whatever follows the scheme.
        #[test]
        fn other_schemes_are_refused(scheme in "(ftp|file|gopher|data|mailto)", rest in "[a-z/.:]{1,20}") {
            let refused = normalize_url(&format!("{scheme}:{rest}")).is_err();
            prop_assert!(refused);
        }
    }
}
