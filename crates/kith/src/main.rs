//! `kith`: parse arguments, set up logging, run, map the outcome to an exit code.

use clap::Parser;
use kith::{BadInput, cli::Cli, cli::Command};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's malloc. glibc gives threads up to eight arenas per core and
/// the memory one arena frees serves no other: a `kith serve` that crawls while it serves
/// (tokio workers, the blocking pool, tantivy's threads) grew its anonymous memory by
/// ~28 MiB a minute in the soak bench (`cargo bench --bench soak -- --bench`) with glibc's.
/// mimalloc 2 (the crate's `v2`), not 3: 3 keeps freed pages a second before it returns
/// them, and a cold `kith crawl --once` of 1,000 feeds peaked at 575-626 MB with it against
/// 398-408 MB with 2, and was no faster (7.6 s against 7.2 s, one run, both alternated).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match (cli.verbose, &cli.command) {
        (0, Command::Serve(_) | Command::Demo(_) | Command::Crawl(_)) => "info",
        (0, _) => "warn",
        (1, _) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{default_level},html5ever=error,selectors=error"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    runtime.spawn(stop_on_signal(shutdown.clone()));
    let result = runtime.block_on(kith::run(cli, shutdown));
    // Background tasks (the testkit's servers, idle connections) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<BadInput>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM; a second Ctrl-C exits at once.
async fn stop_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    eprintln!("stopping (finishing requests and polls in flight; Ctrl-C again to quit now)");
    token.cancel();
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}
