//! Entry points for the fuzz targets (`crates/fuzz`, run with cargo-fuzz; see its
//! README): each stage that reads bytes from the network as one call, and the sanitiser's
//! two paths side by side for the differential target. Nothing else uses them.

use url::Url;

/// Bytes to text as the parser decodes a feed (BOMs, declarations, Content-Type).
pub fn charset(body: &[u8], content_type: Option<&str>) -> String {
    crate::parse::decode(body, content_type)
}

/// The XML repair pass over decoded text; the repaired document.
pub fn xml_repair(text: &str) -> String {
    crate::parse::repair_xml(text)
}

/// The JSON Feed reader: whether `text` was read as a feed.
pub fn json_feed(text: &str) -> bool {
    crate::parse::reads_json_feed(text)
}

/// A whole feed body parsed, sanitised and bounded as the crawler does (no language
/// detection, which is not ours to fuzz).
pub fn feed(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<crate::ParsedFeed, crate::ParseError> {
    let url = Url::parse("https://blog.example/feed.xml").map_err(|e| crate::ParseError {
        reason: e.to_string(),
    })?;
    let now = chrono::Utc::now();
    let mut feed = crate::parse::parse_feed_without_language(body, content_type, &url, now)?;
    crate::bounds::bound_feed(&mut feed, &crate::bounds::FieldLimits::default(), &url);
    Ok(feed)
}

/// The sanitiser's fast path (`None` where it defers) and ammonia alone, on the same
/// input with the same base: where the fast path answers, the two must be equal.
pub fn sanitizer_paths(html: &str) -> (Option<String>, String) {
    let base = Url::parse("https://blog.example/posts/1").ok();
    let s = crate::sanitize::Sanitizer::new(base.as_ref());
    (
        s.clean_fast(html).map(|(clean, _)| clean),
        s.clean_with_ammonia(html),
    )
}
