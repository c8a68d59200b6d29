//! The JSON API under `/api/v1` and its OpenAPI document.

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
