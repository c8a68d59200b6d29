//! [`StaticSite`]: a directory tree served over loopback HTTP, for tests that want real
//! feed files (fixtures) behind a real server, with the same validators and gzip as the
//! simulated blogs.

use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::content::whole_seconds;
use crate::http::{self, Doc, DocKind, finish, respond, text};
use crate::sphere::lock;
use crate::types::RequestRecord;

/// Serves a directory tree over HTTP. See [`StaticSite::serve`].
#[derive(Debug)]
pub struct StaticSite;

#[derive(Debug)]
struct SiteState {
    root: PathBuf,
    requests: Mutex<Vec<RequestRecord>>,
}

impl StaticSite {
    /// Serve `dir` on `addr` (a loopback address; port 0 picks a free port). A directory
    /// path serves its `index.html`. Content type comes from the extension; responses carry
    /// `ETag` (hash of the file) and `Last-Modified` (its mtime) and answer conditional
    /// requests with 304.
    pub async fn serve(dir: PathBuf, addr: SocketAddr) -> io::Result<StaticSiteHandle> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the test kit only serves on loopback, not {addr}"),
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(SiteState {
            root: dir,
            requests: Mutex::new(Vec::new()),
        });
        let for_server = Arc::clone(&state);
        let task = http::serve(listener, move |parts| {
            handle(Arc::clone(&for_server), parts)
        });
        Ok(StaticSiteHandle { addr, task, state })
    }
}

/// A running [`StaticSite`]; stops on [`shutdown`](Self::shutdown) or drop.
#[derive(Debug)]
pub struct StaticSiteHandle {
    addr: SocketAddr,
    task: JoinHandle<()>,
    state: Arc<SiteState>,
}

impl StaticSiteHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Absolute URL of `path` (with or without its leading `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.state.requests).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// Stop serving and wait until the listener is closed.
    pub async fn shutdown(mut self) {
        self.task.abort();
        // Cancelled is the expected outcome.
        let _ = (&mut self.task).await;
    }
}

impl Drop for StaticSiteHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Content type by extension; JSON files that declare a JSON Feed version get the JSON Feed
/// type, as a well-configured server would send.
fn content_type(path: &Path, body: &[u8]) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "xml" => "application/xml",
        "rss" => "application/rss+xml",
        "atom" => "application/atom+xml",
        "rdf" => "application/rdf+xml",
        "opml" => "text/x-opml",
        "json" if body.windows(20).any(|w| w == b"jsonfeed.org/version") => "application/feed+json",
        "json" => "application/json",
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    }
}

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decode `%XX` escapes; `None` for a bad escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL path as a path relative to the root, refusing anything that could climb out.
fn relative_path(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut out = PathBuf::new();
    for segment in decoded.split('/') {
        if segment.contains(['\\', '\0']) {
            return None;
        }
        match Path::new(segment).components().next() {
            None | Some(Component::CurDir) => {}
            Some(Component::Normal(part)) if Path::new(segment).components().count() == 1 => {
                out.push(part);
            }
            _ => return None,
        }
    }
    Some(out)
}

async fn handle(site: Arc<SiteState>, req: Parts) -> Response {
    let header_value = |name: header::HeaderName| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    lock(&site.requests).push(RequestRecord {
        method: req.method.to_string(),
        path: req.uri.path().to_string(),
        if_none_match: header_value(header::IF_NONE_MATCH),
        if_modified_since: header_value(header::IF_MODIFIED_SINCE),
        user_agent: header_value(header::USER_AGENT),
        accept_encoding: header_value(header::ACCEPT_ENCODING),
        at: Instant::now(),
    });
    if req.method != Method::GET && req.method != Method::HEAD {
        let builder = Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET, HEAD");
        return finish(builder, Body::from("method not allowed\n"));
    }
    let Some(relative) = relative_path(req.uri.path()) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let mut path = site.root.join(relative);
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path.push("index.html");
    }
    let (Ok(body), Ok(meta)) = (
        tokio::fs::read(&path).await,
        tokio::fs::metadata(&path).await,
    ) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let modified = meta
        .modified()
        .ok()
        .map(|t| whole_seconds(DateTime::<Utc>::from(t)));
    let doc = Doc::new(DocKind::Other, content_type(&path, &body), body, modified);
    respond(&req.headers, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_the_root() {
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(
            relative_path("/feeds/a%20b.xml"),
            Some(PathBuf::from("feeds/a b.xml"))
        );
        assert_eq!(relative_path("/./x"), Some(PathBuf::from("x")));
        assert_eq!(relative_path("/../etc/passwd"), None);
        assert_eq!(relative_path("/a/%2e%2e/%2e%2e/b"), None);
        assert_eq!(relative_path("/a%5c..%5cb"), None);
        assert_eq!(relative_path("/bad%zz"), None);
    }

    #[test]
    fn content_types_by_extension() {
        let ct = |p: &str, body: &[u8]| content_type(Path::new(p), body);
        assert_eq!(ct("a/feed.xml", b""), "application/xml");
        assert_eq!(ct("f.rss", b""), "application/rss+xml");
        assert_eq!(ct("f.atom", b""), "application/atom+xml");
        assert_eq!(ct("f.rdf", b""), "application/rdf+xml");
        assert_eq!(ct("index.HTML", b""), "text/html; charset=utf-8");
        assert_eq!(ct("data.json", b"{}"), "application/json");
        let feed = br#"{"version": "https://jsonfeed.org/version/1.1"}"#;
        assert_eq!(ct("feed.json", feed), "application/feed+json");
    }
}
