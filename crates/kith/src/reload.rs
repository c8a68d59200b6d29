//! Hot reload of the curator's tag rules in a running `kith serve` or `kith crawl`.
//!
//! The rules file is read every [`POLL`] and on SIGHUP. When its content changed (or on
//! SIGHUP), it is parsed, validated and compiled; on success the [`Enricher`] tags every
//! post from then on with the new rules ("tag rules reloaded"), on failure the error is
//! logged with its line and the rules in force stay. Posts already stored keep their tags
//! until `kith retag`.
//!
//! Polling the content rather than watching for file events: it needs no platform API,
//! sees edits made through editors' rename-and-replace and through mounted volumes alike,
//! and a rules file is a few kilobytes.

use crate::enrich::Enricher;
use kith_config::{Config, TagRules};
use kith_tag::Tagger;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the rules file is looked at.
pub const POLL: Duration = Duration::from_secs(2);
/// A changed file is read again after this long and used only if it is still the same,
/// so a file caught half-written is not taken for the curator's edit.
const SETTLE: Duration = Duration::from_millis(250);

/// Starts watching the configured rules file, if there is one; the task ends with
/// `shutdown`.
pub fn spawn(
    config: &Config,
    enricher: Arc<Enricher>,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let path = config.tags_file.clone()?;
    Some(tokio::spawn(watch(path, enricher, shutdown)))
}

/// What was last seen of the file: its content's fingerprint, or why it could not be read.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Content(String),
    Unreadable(String),
}

fn look(path: &Path) -> (Seen, Option<String>) {
    match std::fs::read_to_string(path) {
        Ok(text) => (
            Seen::Content(kith_model::content_hash("", &text)),
            Some(text),
        ),
        Err(e) => (Seen::Unreadable(e.to_string()), None),
    }
}

/// Compiles `text` and puts it in force, or says why not.
fn apply(path: &Path, text: &str, enricher: &Enricher) -> Result<TagRules, String> {
    let rules = TagRules::from_toml(text, path).map_err(|e| e.to_string())?;
    let tagger =
        Tagger::new(&rules).map_err(|e| format!("{}: cannot be used: {e}", path.display()))?;
    enricher.set_tagger(tagger);
    Ok(rules)
}

async fn watch(path: PathBuf, enricher: Arc<Enricher>, shutdown: CancellationToken) {
    let mut hangup = hangup_signal();
    // The rules in force were loaded at start from this same file.
    let (mut seen, _) = look(&path);
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!(path = %path.display(), "watching the tag rules for changes (SIGHUP reloads them too)");
    loop {
        let forced = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => false,
            _ = recv(&mut hangup) => true,
        };
        let (now, _) = look(&path);
        if now == seen && !forced {
            continue;
        }
        if !forced {
            tokio::time::sleep(SETTLE).await;
        }
        let (settled, text) = look(&path);
        if settled != now && !forced {
            // Still being written: look again on the next tick.
            continue;
        }
        seen = settled;
        match (&seen, text) {
            (_, Some(text)) => match apply(&path, &text, &enricher) {
                Ok(rules) => tracing::info!(
                    path = %path.display(),
                    aliases = rules.aliases.len(),
                    phrase_rules = rules.phrases.len(),
                    regex_rules = rules.regexes.len(),
                    forced,
                    "tag rules reloaded"
                ),
                Err(error) => tracing::error!(
                    path = %path.display(),
                    %error,
                    "tag rules rejected; the previous rules stay in force"
                ),
            },
            (Seen::Unreadable(error), None) => tracing::error!(
                path = %path.display(),
                %error,
                "cannot read the tag rules; the previous rules stay in force"
            ),
            (Seen::Content(_), None) => {}
        }
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; the rules file is still polled");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangup_signal() -> Hangup {
    None
}

/// The next SIGHUP; never, without a signal stream.
async fn recv(h: &mut Hangup) {
    #[cfg(unix)]
    if let Some(s) = h
        && s.recv().await.is_some()
    {
        return;
    }
    let _ = h;
    std::future::pending::<()>().await;
}
