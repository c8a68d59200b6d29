//! Atom, RSS, JSON Feed and OPML for the site, every hub and every community.

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
