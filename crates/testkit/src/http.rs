//! HTTP plumbing shared by the blog servers, the WebSub hub and
//! [`StaticSite`](crate::StaticSite): the accept loop, documents with validators,
//! conditional GET and gzip, and the one client call the hub makes.
//!
//! The accept loop is hand-written on hyper rather than `axum::serve` so that aborting the
//! server task also aborts every connection it owns: an `Endless` body would otherwise keep
//! a graceful shutdown waiting forever.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header, response::Builder,
};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use flate2::write::GzEncoder;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use url::{Host, Position, Url};

/// Serve HTTP/1.1 on `listener` until the returned task is aborted; aborting it drops every
/// open connection too. The handler sees the request head only (no simulated blog reads
/// request bodies).
pub(crate) fn serve<H, F>(listener: TcpListener, handler: H) -> JoinHandle<()>
where
    H: Fn(Parts) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    accept_loop(listener, move |req: Request<Incoming>| {
        let (parts, _body) = req.into_parts();
        handler(parts)
    })
}

/// Like [`serve`], for a server that reads request bodies (the WebSub hub): the handler gets
/// the whole body, and a body over `limit` bytes is answered 413 without calling it.
pub(crate) fn serve_with_body<H, F>(
    listener: TcpListener,
    limit: usize,
    handler: H,
) -> JoinHandle<()>
where
    H: Fn(Parts, Bytes) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let handler = Arc::new(handler);
    accept_loop(listener, move |req: Request<Incoming>| {
        let handler = Arc::clone(&handler);
        async move {
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(Body::new(body), limit).await {
                Ok(body) => (*handler)(parts, body).await,
                Err(_) => text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the request body could not be read or is over {limit} bytes"),
                ),
            }
        }
    })
}

fn accept_loop<H, F>(listener: TcpListener, handler: H) -> JoinHandle<()>
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => {
                        // Small responses should not wait for Nagle.
                        let _ = stream.set_nodelay(true);
                        let handler = Arc::clone(&handler);
                        connections.spawn(async move {
                            let service = service_fn(move |req: Request<Incoming>| {
                                let response = (*handler)(req);
                                async move { Ok::<_, Infallible>(response.await) }
                            });
                            let served = http1::Builder::new()
                                .timer(TokioTimer::new())
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                            if let Err(error) = served {
                                tracing::debug!(%error, "simulated connection ended with an error");
                            }
                        });
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(%error, "simulated server could not accept");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    })
}

/// One request from the test kit to a loopback `url` (the WebSub hub calling a subscriber
/// back), on a fresh HTTP/1.1 connection: the response with up to `limit` bytes of its
/// body, or why there is none. `timeout` covers everything from connecting to the last
/// body byte.
pub(crate) async fn send(
    method: Method,
    url: &Url,
    headers: &[(HeaderName, String)],
    body: Bytes,
    limit: usize,
    timeout: Duration,
) -> Result<axum::http::Response<Bytes>, String> {
    let exchange = async {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("no port in {url}"))?;
        let stream = match url.host() {
            Some(Host::Ipv4(ip)) => TcpStream::connect((ip, port)).await,
            Some(Host::Ipv6(ip)) => TcpStream::connect((ip, port)).await,
            Some(Host::Domain(name)) => TcpStream::connect((name, port)).await,
            None => return Err(format!("no host in {url}")),
        }
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake with {url}: {e}"))?;
        let mut request = Request::builder()
            .method(method)
            .uri(&url[Position::BeforePath..Position::AfterQuery])
            .header(
                header::HOST,
                &url[Position::BeforeHost..Position::AfterPort],
            )
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::CONNECTION, "close");
        for (name, value) in headers {
            request = request.header(name, value.as_str());
        }
        let request = request
            .body(Body::from(body))
            .map_err(|e| format!("invalid request to {url}: {e}"))?;
        let call = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| format!("request to {url}: {e}"))?;
            let (head, body) = response.into_parts();
            let body = axum::body::to_bytes(Body::new(body), limit)
                .await
                .map_err(|e| format!("body from {url}: {e}"))?;
            Ok(axum::http::Response::from_parts(head, body))
        };
        // The connection must be driven while the call waits on it. When it ends first
        // (the peer closed), whatever arrived is buffered: finish the call from that.
        let mut call = std::pin::pin!(call);
        let mut connection = std::pin::pin!(connection);
        tokio::select! {
            biased;
            done = &mut call => done,
            _ = &mut connection => call.await,
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(format!("no answer from {url} within {timeout:?}")))
}

/// `User-Agent` of the requests the test kit makes.
const USER_AGENT: &str = concat!(
    "kith-testkit/",
    env!("CARGO_PKG_VERSION"),
    " (simulated WebSub hub)"
);

/// What kind of markup a document is; decides where padding may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocKind {
    Html,
    Xml,
    Json,
    /// Anything else (static files): served as is, never padded inside.
    Other,
}

/// A response body with its validators. The gzip form is computed once, on first request.
#[derive(Debug)]
pub(crate) struct Doc {
    pub kind: DocKind,
    pub content_type: String,
    pub body: Bytes,
    /// Strong validator, quoted: `"0123456789abcdef"`.
    pub etag: String,
    pub last_modified: Option<DateTime<Utc>>,
    /// A `Link` header value sent with the document (a feed's WebSub hub and self URL).
    pub link: Option<String>,
    gzipped: OnceLock<Bytes>,
}

impl Doc {
    pub(crate) fn new(
        kind: DocKind,
        content_type: impl Into<String>,
        body: impl Into<Bytes>,
        last_modified: Option<DateTime<Utc>>,
    ) -> Self {
        let body = body.into();
        let etag = etag_of(&body);
        Self::with_etag(kind, content_type, body, last_modified, etag)
    }

    /// A document whose validator the caller derived some cheaper way.
    pub(crate) fn with_etag(
        kind: DocKind,
        content_type: impl Into<String>,
        body: impl Into<Bytes>,
        last_modified: Option<DateTime<Utc>>,
        etag: String,
    ) -> Self {
        Self {
            kind,
            content_type: content_type.into(),
            body: body.into(),
            etag,
            last_modified,
            link: None,
            gzipped: OnceLock::new(),
        }
    }

    /// The same document, sent with this `Link` header.
    pub(crate) fn with_link(mut self, link: Option<String>) -> Self {
        self.link = link;
        self
    }

    fn gzipped(&self) -> Bytes {
        self.gzipped.get_or_init(|| gzip(&self.body)).clone()
    }
}

/// FNV-1a over the body: not cryptographic, but a strong validator only has to change when
/// the bytes change.
pub(crate) fn etag_of(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

/// IMF-fixdate, the format HTTP uses for `Last-Modified`.
pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parse any of the three date formats HTTP/1.1 allows in requests.
pub(crate) fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
}

pub(crate) fn gzip(data: &[u8]) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 3 + 64), Compression::fast());
    // Writing into a Vec cannot fail.
    if encoder.write_all(data).is_err() {
        return Bytes::new();
    }
    encoder.finish().map(Bytes::from).unwrap_or_default()
}

/// A gzip stream that decompresses to `prefix`, `fill` spaces, then `suffix`, built in time
/// proportional to the *compressed* size: one megabyte of spaces is deflated once, as a
/// self-contained byte-aligned segment, and repeated; the CRC is combined per segment.
pub(crate) fn gzip_bomb(prefix: &[u8], fill: usize, suffix: &[u8]) -> Bytes {
    const CHUNK: usize = 1 << 20;
    // Magic, deflate, no flags, no mtime (deterministic), no extra flags, unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut crc = Crc::new();
    out.extend(deflate_segment(prefix, false));
    crc.update(prefix);
    let spaces = vec![b' '; CHUNK.min(fill)];
    if fill >= CHUNK {
        let segment = deflate_segment(&spaces, false);
        let mut segment_crc = Crc::new();
        segment_crc.update(&spaces);
        for _ in 0..fill / CHUNK {
            out.extend_from_slice(&segment);
            crc.combine(&segment_crc);
        }
    }
    let rest = &spaces[..fill % CHUNK];
    out.extend(deflate_segment(rest, false));
    crc.update(rest);
    out.extend(deflate_segment(suffix, true));
    crc.update(suffix);
    out.extend(crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32.
    let total = (prefix.len() + fill + suffix.len()) as u64;
    out.extend(((total & 0xffff_ffff) as u32).to_le_bytes());
    Bytes::from(out)
}

/// Raw deflate of `data` with a fresh compressor (no back-references outside it), ending
/// byte-aligned with a sync flush, or with the final block when `last`.
fn deflate_segment(data: &[u8], last: bool) -> Vec<u8> {
    let mut compress = Compress::new(Compression::fast(), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 4 + 1024);
    loop {
        let consumed = usize::try_from(compress.total_in()).unwrap_or(data.len());
        let status = compress.compress_vec(&data[consumed.min(data.len())..], &mut out, flush);
        let all_in = compress.total_in() == data.len() as u64;
        let done = match status {
            Ok(Status::StreamEnd) | Err(_) => true,
            // A flush is complete when it did not fill the output it was given.
            Ok(_) => !last && all_in && out.len() < out.capacity(),
        };
        if done {
            return out;
        }
        out.reserve(out.capacity().max(1024));
    }
}

/// Whether `Accept-Encoding` allows gzip (`gzip`, `x-gzip` or `*`, unless `q=0`).
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            ["gzip", "x-gzip", "*"]
                .iter()
                .any(|c| coding.eq_ignore_ascii_case(c))
                && !refused
        })
}

/// `If-None-Match` uses the weak comparison: `W/` prefixes are ignored.
fn etag_matches(if_none_match: &HeaderValue, etag: &str) -> bool {
    let Ok(list) = if_none_match.to_str() else {
        return false;
    };
    let ours = etag.trim_start_matches("W/");
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// Whether the request's validators say the client already has `doc`. `If-None-Match`
/// wins over `If-Modified-Since` when both are sent (RFC 9110 13.2.2).
pub(crate) fn not_modified(headers: &HeaderMap, doc: &Doc) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        return etag_matches(inm, &doc.etag);
    }
    match (headers.get(header::IF_MODIFIED_SINCE), doc.last_modified) {
        (Some(ims), Some(modified)) => ims
            .to_str()
            .ok()
            .and_then(parse_http_date)
            .is_some_and(|since| since >= modified),
        _ => false,
    }
}

/// A finished response; a header value that does not parse becomes a plain 500 instead of
/// a panic in a test server.
pub(crate) fn finish(builder: Builder, body: Body) -> Response {
    builder.body(body).unwrap_or_else(|error| {
        tracing::warn!(%error, "simulated server built an invalid response");
        let mut response = Response::new(Body::from("invalid simulated response\n"));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}

/// Honest answer for `doc`: validators, 304 when they match, gzip when asked for.
pub(crate) fn respond(headers: &HeaderMap, doc: &Doc) -> Response {
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, doc.content_type.as_str())
        .header(header::ETAG, doc.etag.as_str())
        .header(header::VARY, "Accept-Encoding");
    if let Some(modified) = doc.last_modified {
        builder = builder.header(header::LAST_MODIFIED, http_date(modified));
    }
    if let Some(link) = &doc.link {
        builder = builder.header(header::LINK, link.as_str());
    }
    if not_modified(headers, doc) {
        return finish(builder.status(StatusCode::NOT_MODIFIED), Body::empty());
    }
    if accepts_gzip(headers) {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
        return finish(builder, Body::from(doc.gzipped()));
    }
    finish(builder, Body::from(doc.body.clone()))
}

/// A short text response for error statuses.
pub(crate) fn text(status: StatusCode, message: &str) -> Response {
    let builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
    finish(builder, Body::from(format!("{message}\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn gzip_bomb_decompresses_to_the_promised_size() {
        use std::io::Read;
        for fill in [0, 10, (1 << 20) + 7, 3 << 20] {
            let bomb = gzip_bomb(b"<a><!--", fill, b"--></a>");
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bomb[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out.len(), fill + 14);
            assert!(out.starts_with(b"<a><!--") && out.ends_with(b"--></a>"));
            assert!(bomb.len() < 64 * 1024 + fill / 100, "{} bytes", bomb.len());
        }
    }

    #[test]
    fn http_dates_round_trip() {
        let t = Utc.with_ymd_and_hms(2024, 11, 6, 8, 49, 37).unwrap();
        assert_eq!(http_date(t), "Wed, 06 Nov 2024 08:49:37 GMT");
        assert_eq!(parse_http_date(&http_date(t)), Some(t));
        assert_eq!(
            parse_http_date("Wednesday, 06-Nov-24 08:49:37 GMT"),
            Some(t)
        );
        assert_eq!(parse_http_date("Wed Nov  6 08:49:37 2024"), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1.0, GZIP;q=0.5"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn conditional_requests() {
        let modified = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let doc = Doc::new(DocKind::Other, "text/plain", "hello", Some(modified));
        let etag = doc.etag.clone();
        assert!(not_modified(&headers(&[("if-none-match", &etag)]), &doc));
        assert!(not_modified(
            &headers(&[("if-none-match", &format!("\"x\", W/{etag}"))]),
            &doc
        ));
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"other\"")]),
            &doc
        ));
        let same = http_date(modified);
        let earlier = http_date(modified - chrono::Duration::seconds(1));
        assert!(not_modified(
            &headers(&[("if-modified-since", &same)]),
            &doc
        ));
        assert!(!not_modified(
            &headers(&[("if-modified-since", &earlier)]),
            &doc
        ));
        // A stale ETag wins over a fresh date.
        let both = headers(&[("if-none-match", "\"old\""), ("if-modified-since", &same)]);
        assert!(!not_modified(&both, &doc));
    }
}
