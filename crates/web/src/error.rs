//! Failures as pages: a 4xx says what to fix, a 5xx is logged with its cause and shown
//! generically (the cause never reaches the visitor).
//!
//! The page is formatted here rather than by a template so that it cannot itself fail to
//! render; it uses the site's stylesheet and the same header, landmarks and footer as
//! `base.html`.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The request is wrong in a way the person can fix; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing at this address; the message says what was looked for.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] kith_store::Error),
    #[error("search index: {0}")]
    Index(#[from] kith_index::Error),
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
    /// A blocking task (an index read) panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Store(_) | Self::Index(_) | Self::Template(_) | Self::Task(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            // The cause goes to the log, never to the visitor.
            tracing::error!(error = %self, "request failed");
            "Something went wrong on our side. It has been logged; please try again in a \
             moment."
                .to_owned()
        } else {
            self.to_string()
        };
        let mut response = (status, Html(error_page(status, &message))).into_response();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        response
    }
}

/// The error page for `status` saying `message` (plain text; escaped here).
pub fn error_page(status: StatusCode, message: &str) -> String {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::BAD_REQUEST => "That request did not work",
        s if s.is_server_error() => "Something went wrong",
        s => s.canonical_reason().unwrap_or("Error"),
    };
    let hint = if status.is_server_error() {
        "<p>The rest of the site may still work: try the <a href=\"/\">front page</a> or \
         <a href=\"/hubs\">all hubs</a>.</p>"
    } else {
        "<ul class=\"next\"><li><a href=\"/\">The front page</a>: the latest posts</li>\
         <li><a href=\"/hubs\">All hubs</a>: what people write about</li>\
         <li><a href=\"/communities\">All communities</a></li>\
         <li><a href=\"/search\">Search</a> every post</li></ul>"
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Kith</title><meta name=\"robots\" content=\"noindex\">\
         <link rel=\"stylesheet\" href=\"{style}\">\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"></head>\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header class=\"site\"><a class=\"brand\" href=\"/\">Kith</a>\
         <nav aria-label=\"Site\" class=\"site-nav\"><a href=\"/hubs\">Hubs</a>\
         <a href=\"/communities\">Communities</a><a href=\"/search\">Search</a>\
         <a href=\"/about\">About</a></nav></header>\
         <main id=\"main\" class=\"page error-page\"><p class=\"status-code\">Error {code}</p>\
         <h1>{title}</h1><p class=\"lead\">{msg}</p>{hint}</main>\
         <footer class=\"site\"><p>Kith: posts from independent blogs, grouped by what their \
         authors write about.</p></footer></body></html>",
        code = status.as_u16(),
        msg = escape(message),
        style = crate::pages::stylesheet_path(),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_escaped_and_causes_hidden() {
        let page = error_page(StatusCode::BAD_REQUEST, "<script>x</script>");
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"));
        let r = WebError::Template(minijinja::Error::new(
            minijinja::ErrorKind::TemplateNotFound,
            "secret detail",
        ))
        .into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
