//! Failures as pages.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The request is wrong in a way the person can fix; the message says how.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] kith_store::Error),
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Store(_) | Self::Template(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            // The cause goes to the log, never to the visitor.
            tracing::error!(error = %self, "request failed");
            "Something went wrong on our side. It has been logged; please try again later."
                .to_owned()
        } else {
            self.to_string()
        };
        let title = status.canonical_reason().unwrap_or("Error");
        // A minimal page that cannot itself fail to render.
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{code} {title} · Kith</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
             <body><main class=\"page\"><h1>{code} {title}</h1><p>{msg}</p><p><a href=\"/\">Back to the front page</a></p></main></body></html>",
            code = status.as_u16(),
            title = title,
            msg = escape(&message),
        );
        (status, Html(body)).into_response()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
