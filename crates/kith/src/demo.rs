//! `kith demo`: a simulated blogosphere on loopback, registered, crawled and served, with
//! no network and no configuration.

use crate::cli::DemoArgs;
use crate::{App, BadInput, register::register, serve_on};
use anyhow::Context;
use futures::StreamExt;
use kith_config::Config;
use kith_testkit::{Blogosphere, BlogosphereConfig};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Registrations in flight at once while the demo starts.
const REGISTER_PARALLEL: usize = 64;
/// How often the simulated bloggers may publish, and how likely each one does.
const PUBLISH_EVERY: Duration = Duration::from_secs(20);
const PUBLISH_PROBABILITY: f64 = 0.03;

/// The configuration the demo runs with: loopback allowed, no verification, quick polls.
pub fn demo_config(args: &DemoArgs, data_dir: std::path::PathBuf) -> anyhow::Result<Config> {
    let mut config = Config {
        data_dir,
        ..Config::default()
    };
    config.web.listen = args.listen;
    config.crawl.allowed_networks = vec!["127.0.0.0/8".parse().context("loopback network")?];
    config.crawl.min_interval_secs = 60;
    config.crawl.sweep_every_secs = 10;
    config.registration.require_verification = false;
    config.validate(std::path::Path::new("<demo>"))?;
    Ok(config)
}

pub async fn run(args: DemoArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    let started = Instant::now();
    if args.blogs == 0 {
        return Err(BadInput("--blogs must be at least 1".into()).into());
    }
    let tmp = tempfile::tempdir().context("cannot create a temporary data directory")?;
    let data_dir = args.data.clone().unwrap_or_else(|| tmp.path().to_owned());
    let config = demo_config(&args, data_dir)?;
    // Bind first: a taken port should fail before anything else starts.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another Kith running? try --listen 127.0.0.1:0)",
                args.listen
            )
        })?;
    let addr = listener.local_addr()?;

    eprintln!("Starting {} simulated blogs on loopback...", args.blogs);
    let sphere = Blogosphere::start(BlogosphereConfig {
        blogs: args.blogs,
        seed: args.seed,
        ..BlogosphereConfig::default()
    })
    .await
    .context("cannot start the simulated blogosphere")?;

    let app = App::open(config).await?;
    let homepages: Vec<String> = (0..sphere.len()).map(|i| sphere.homepage_url(i)).collect();
    let enricher =
        std::sync::Arc::new(crate::enrich::Enricher::open(&app.config, &app.store).await?);
    let (mut added, mut known, mut failed, mut posts) = (0usize, 0usize, 0usize, 0usize);
    let mut results = futures::stream::iter(homepages)
        .map(|url| {
            let (store, crawler, enricher) = (&app.store, &app.crawler, &enricher);
            async move {
                (
                    register(store, crawler, Some(enricher), &url, false).await,
                    url,
                )
            }
        })
        .buffer_unordered(REGISTER_PARALLEL);
    while let Some((result, url)) = results.next().await {
        match result {
            Ok(r) => {
                added += 1;
                posts += r.new_posts;
            }
            Err(e)
                if e.downcast_ref::<BadInput>()
                    .is_some_and(|b| b.0.contains("already registered")) =>
            {
                known += 1
            }
            Err(e) => {
                failed += 1;
                tracing::warn!(url, error = %format!("{e:#}"), "demo blog not registered");
            }
        }
    }
    drop(results);
    eprintln!(
        "Registered {added} blogs ({known} already known, {failed} failed), {posts} posts read, in {:.1} s.",
        started.elapsed().as_secs_f64()
    );

    print_hubs(&app).await;

    let ticker = {
        let sphere = sphere.clone();
        let stop = shutdown.child_token();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(PUBLISH_EVERY) => {
                        let n = sphere.tick(PUBLISH_PROBABILITY);
                        tracing::debug!(published = n, "simulated bloggers published");
                    }
                }
            }
        })
    };
    let exit_when_ready = args.exit_when_ready;
    let stop = shutdown.clone();
    let served = serve_on(app, listener, shutdown, move |_| {
        println!(
            "Kith demo is ready at http://{addr}/ ({:.1} s after start; Ctrl-C to stop)",
            started.elapsed().as_secs_f64()
        );
        if exit_when_ready {
            stop.cancel();
        }
    })
    .await;
    ticker.abort();
    sphere.shutdown().await;
    drop(tmp);
    served
}

/// What the demo's crawl revealed: the biggest hubs and the communities, in a few lines.
async fn print_hubs(app: &App) {
    let computed = async {
        let rules = crate::tagcmd::load_rules(&app.config, None)?;
        crate::hubs::compute(&app.store, &app.config, &rules, false).await
    };
    let snapshot = match computed.await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Hubs not computed yet: {e:#}");
            return;
        }
    };
    eprintln!(
        "{} hubs and {} communities:",
        snapshot.hubs.len(),
        snapshot.communities.len()
    );
    for hub in snapshot.hubs.iter().take(8) {
        let related: Vec<&str> = hub
            .related
            .iter()
            .take(3)
            .map(|r| r.display.as_str())
            .collect();
        eprintln!(
            "  hub {:<24} {:>5} posts, {:>3} bloggers; related: {}",
            hub.display,
            hub.posts,
            hub.bloggers,
            if related.is_empty() {
                "-".to_string()
            } else {
                related.join(", ")
            }
        );
    }
    for c in snapshot.communities.iter().take(8) {
        eprintln!(
            "  community {:<40} {:>3} hubs, {:>3} members",
            c.name,
            c.hubs.len(),
            c.members.len()
        );
    }
}
