//! CPU-bound work (parsing, sanitising, tagging) off the async workers, at most one job
//! per core at a time.
//!
//! A sweep keeps hundreds of polls in flight. Were each to take its own blocking thread
//! for its CPU work, they would all run at once: no faster on two cores, but each thread
//! holds its allocator's cache and its feed's working memory, and memory grows with the
//! polls in flight instead of with the cores. Waiting for a permit costs nothing: the
//! cores are busy either way.

use std::sync::LazyLock;
use tokio::sync::Semaphore;

static PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// Runs `f` on the blocking pool once a core is free.
pub async fn run<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    // The semaphore is never closed.
    let _permit = PERMITS.acquire().await.ok();
    tokio::task::spawn_blocking(f).await
}
