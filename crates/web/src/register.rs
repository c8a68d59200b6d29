//! Registering a blog from the web: discover, preview, confirm, verify.

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
