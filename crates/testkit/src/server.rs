//! One blog's HTTP server: routing, request log, in-flight counting and [`Behaviour`]s.
//!
//! Routes: `/` (and `/index.html`), the feed path of the blog's format, and
//! `/posts/{slug}.html`. Everything else, `/robots.txt` included, is 404, which crawlers
//! read as "allow all".

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header, response::Builder};
use axum::response::Response;
use bytes::Bytes;

use crate::http::{self, Doc, DocKind, finish, respond, text};
use crate::sphere::{BlogState, Shared, lock, read};
use crate::types::{Behaviour, RequestRecord};

/// Size and pace of an `Endless` body: about 3 MB/s, enough to trip any sane size limit
/// quickly without flooding the machine.
const ENDLESS_CHUNK: usize = 16 * 1024;
const ENDLESS_PAUSE: Duration = Duration::from_millis(5);

/// Counts a request as in flight for as long as it lives; for an `Endless` body it lives in
/// the body stream, so the request stays in flight until the client hangs up.
struct InFlight {
    shared: Arc<Shared>,
    blog: usize,
}

impl InFlight {
    fn enter(shared: Arc<Shared>, blog: usize) -> Self {
        let state = &shared.blogs[blog];
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self { shared, blog }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.blogs[self.blog]
            .in_flight
            .fetch_sub(1, Ordering::SeqCst);
    }
}

fn record(state: &BlogState, req: &Parts) {
    let header = |name: header::HeaderName| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let entry = RequestRecord {
        method: req.method.to_string(),
        path: req.uri.path().to_string(),
        if_none_match: header(header::IF_NONE_MATCH),
        if_modified_since: header(header::IF_MODIFIED_SINCE),
        user_agent: header(header::USER_AGENT),
        accept_encoding: header(header::ACCEPT_ENCODING),
        at: Instant::now(),
    };
    lock(&state.requests).push(entry);
}

/// Answer one request to blog `blog`.
pub(crate) async fn handle(shared: Arc<Shared>, blog: usize, req: Parts) -> Response {
    let Some(state) = shared.blogs.get(blog) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "no such blog");
    };
    record(state, &req);
    let guard = InFlight::enter(Arc::clone(&shared), blog);
    let behaviour = read(&state.behaviour).clone();
    if let Behaviour::Slow(delay) = behaviour {
        tokio::time::sleep(delay).await;
    }

    let path = req.uri.path();
    let is_homepage = path == "/" || path == "/index.html";
    let is_feed = path == state.info.format.path();
    match &behaviour {
        Behaviour::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return text(status, &format!("simulated {status}"));
        }
        Behaviour::TooManyRequests { retry_after_secs } => {
            let builder = Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header(header::RETRY_AFTER, retry_after_secs.to_string())
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
            return finish(builder, Body::from("slow down\n"));
        }
        Behaviour::Gone => return text(StatusCode::GONE, "this blog is gone"),
        Behaviour::Redirect { status, to } if is_homepage || is_feed => {
            let status = StatusCode::from_u16(*status)
                .ok()
                .filter(StatusCode::is_redirection)
                .unwrap_or(StatusCode::FOUND);
            let builder = Response::builder()
                .status(status)
                .header(header::LOCATION, to.as_str())
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
            return finish(builder, Body::from(format!("moved to {to}\n")));
        }
        _ => {}
    }

    if req.method != Method::GET && req.method != Method::HEAD {
        let builder = Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET, HEAD");
        return finish(builder, Body::from("method not allowed\n"));
    }
    let doc = if is_homepage {
        state.homepage()
    } else if is_feed {
        state.feed(shared.config.feed_limit)
    } else if let Some(page) = path
        .strip_prefix("/posts/")
        .and_then(|p| p.strip_suffix(".html"))
        .and_then(|slug| state.post_page(slug))
    {
        Arc::new(page)
    } else {
        return text(StatusCode::NOT_FOUND, "not found");
    };

    match behaviour {
        Behaviour::Oversized { bytes } => respond(&req.headers, &oversized(&doc, bytes)),
        Behaviour::GzipBomb { bytes } => gzip_bomb(state, &doc, bytes).await,
        Behaviour::Endless => endless(&doc, guard),
        Behaviour::Malformed => respond(&req.headers, &malformed(&doc)),
        _ => respond(&req.headers, &doc),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Where filler can go without breaking the document: the offset, and the text to put
/// before and after the filler (a comment in markup, an extension member in JSON Feed).
fn padding_slot(doc: &Doc) -> (usize, &'static str, &'static str) {
    let body = &doc.body[..];
    match doc.kind {
        DocKind::Xml => (rfind(body, b"</").unwrap_or(body.len()), "<!-- ", " -->\n"),
        DocKind::Html => (
            rfind(body, b"</body>").unwrap_or(body.len()),
            "<!-- ",
            " -->\n",
        ),
        DocKind::Json => (
            find(body, b"{").map_or(0, |i| i + 1),
            "\n  \"_padding\": \"",
            "\",",
        ),
        DocKind::Other => (body.len(), "", ""),
    }
}

/// Pseudo-random base64 letters: well-formed inside a comment or a JSON string, and barely
/// compressible, so the padding really crosses the wire.
fn noise(out: &mut Vec<u8>, n: usize) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut left = n;
    while left > 0 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let take = left.min(8);
        for k in 0..take {
            out.push(ALPHABET[((x >> (k * 6)) & 63) as usize]);
        }
        left -= take;
    }
}

fn oversized(doc: &Doc, bytes: usize) -> Doc {
    let (at, open, close) = padding_slot(doc);
    let fill = bytes.saturating_sub(doc.body.len() + open.len() + close.len());
    let mut body = Vec::with_capacity(doc.body.len() + open.len() + fill + close.len());
    body.extend_from_slice(&doc.body[..at]);
    body.extend_from_slice(open.as_bytes());
    noise(&mut body, fill);
    body.extend_from_slice(close.as_bytes());
    body.extend_from_slice(&doc.body[at..]);
    // Hashing a huge body per request would be slow in debug builds; the padding is a pure
    // function of the document and the size, so derive the validator from those.
    let etag = format!("\"{}-pad{bytes}\"", doc.etag.trim_matches('"'));
    Doc::with_etag(
        doc.kind,
        doc.content_type.clone(),
        body,
        doc.last_modified,
        etag,
    )
    .with_link(doc.link.clone())
}

/// Always gzip-encoded, asked for or not: the point is to hurt a client that inflates
/// without a limit. Built once per (size, document) and kept.
async fn gzip_bomb(state: &BlogState, doc: &Doc, bytes: usize) -> Response {
    let cached = lock(&state.bomb)
        .as_ref()
        .filter(|(size, etag, _)| *size == bytes && *etag == doc.etag)
        .map(|(_, _, body)| body.clone());
    let body = match cached {
        Some(body) => body,
        None => {
            let (at, open, close) = padding_slot(doc);
            let prefix = [&doc.body[..at], open.as_bytes()].concat();
            let suffix = [close.as_bytes(), &doc.body[at..]].concat();
            let fill = bytes.saturating_sub(prefix.len() + suffix.len());
            let built =
                tokio::task::spawn_blocking(move || http::gzip_bomb(&prefix, fill, &suffix))
                    .await
                    .unwrap_or_default();
            *lock(&state.bomb) = Some((bytes, doc.etag.clone(), built.clone()));
            built
        }
    };
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, doc.content_type.as_str())
        .header(header::CONTENT_ENCODING, "gzip")
        .header(header::VARY, "Accept-Encoding");
    finish(with_link(builder, doc), Body::from(body))
}

/// The start of the document, then filler forever.
fn endless(doc: &Doc, guard: InFlight) -> Response {
    let (at, open, _) = padding_slot(doc);
    let head = Bytes::from([&doc.body[..at], open.as_bytes()].concat());
    let chunk = Bytes::from(vec![b' '; ENDLESS_CHUNK]);
    let stream = futures_util::stream::unfold((Some(head), guard), move |(head, guard)| {
        let chunk = chunk.clone();
        async move {
            let next = match head {
                Some(head) => head,
                None => {
                    tokio::time::sleep(ENDLESS_PAUSE).await;
                    chunk
                }
            };
            Some((Ok::<_, Infallible>(next), (None, guard)))
        }
    });
    let builder = Response::builder().header(header::CONTENT_TYPE, doc.content_type.as_str());
    finish(with_link(builder, doc), Body::from_stream(stream))
}

/// The document's `Link` header (WebSub discovery), for responses built by hand.
fn with_link(builder: Builder, doc: &Doc) -> Builder {
    match &doc.link {
        Some(link) => builder.header(header::LINK, link.as_str()),
        None => builder,
    }
}

/// Truncated just inside a tag somewhere past 60%, with two bytes that are not UTF-8 and a
/// bare `&` a third of the way in.
fn malformed(doc: &Doc) -> Doc {
    let body = &doc.body[..];
    let from = body.len() * 3 / 5;
    let cut = find(&body[from..], b"<")
        .map_or(body.len(), |i| from + i + 2)
        .min(body.len());
    let third = body.len() / 3;
    let bad_at = find(&body[third..], b">")
        .map_or(0, |i| third + i + 1)
        .min(cut);
    let mut out = Vec::with_capacity(cut + 8);
    out.extend_from_slice(&body[..bad_at]);
    out.extend_from_slice(b" \xFF\xFE & ");
    out.extend_from_slice(&body[bad_at..cut]);
    Doc::new(doc.kind, doc.content_type.clone(), out, doc.last_modified).with_link(doc.link.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: DocKind, body: &str) -> Doc {
        Doc::new(kind, "x/y", body.to_string(), None)
    }

    #[test]
    fn padding_keeps_documents_well_formed() {
        let json = oversized(&doc(DocKind::Json, "{\n  \"a\": 1\n}\n"), 5000);
        assert!(json.body.len() >= 5000);
        let v: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(v["a"], 1);
        assert!(v["_padding"].as_str().unwrap().len() > 4900);

        let xml = oversized(
            &doc(DocKind::Xml, "<?xml version=\"1.0\"?>\n<a><b/></a>\n"),
            3000,
        );
        let text = std::str::from_utf8(&xml.body).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\"?>\n<a><b/><!-- "));
        assert!(text.ends_with(" -->\n</a>\n") && !text[34..text.len() - 10].contains("--"));
        assert_ne!(xml.etag, doc(DocKind::Xml, "<a/>").etag);

        let html = oversized(
            &doc(DocKind::Html, "<html><body><p>x</p></body></html>"),
            100,
        );
        assert!(
            std::str::from_utf8(&html.body)
                .unwrap()
                .contains("<p>x</p><!-- ")
        );
    }

    #[test]
    fn malformed_documents_do_not_parse() {
        let body = format!(
            "{{\"items\": [{}]}}",
            vec!["{\"html\": \"<p>x</p>\"}"; 20].join(",")
        );
        let broken = malformed(&doc(DocKind::Json, &body));
        assert!(broken.body.len() < body.len());
        assert!(serde_json::from_slice::<serde_json::Value>(&broken.body).is_err());
        assert!(std::str::from_utf8(&broken.body).is_err());
    }
}
