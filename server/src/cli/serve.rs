//! `stampede serve`: logging, signals and the runtime around `stampede_server::run`.

use std::path::Path;

use anyhow::Context;
use stampede_server::{AppState, Catalog, Config};
use tokio_util::sync::CancellationToken;

pub(crate) fn run(mut config: Config, levels_dir: &Path) -> anyhow::Result<i32> {
    config.levels_dir = levels_dir.to_path_buf();
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid setting: {e}"))?;
    init_logging(config.log_json);
    let catalog = Catalog::load(levels_dir)
        .with_context(|| format!("loading levels from {}", levels_dir.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let shutdown = CancellationToken::new();
        tokio::spawn(signals(shutdown.clone()));
        let storage = stampede_server::persistence::Storage::start(&config)
            .await
            .context("starting storage")?;
        let state = AppState::new(config, catalog, storage, shutdown);
        stampede_server::run(state, listener)
            .await
            .context("serving")
    })?;
    Ok(0)
}

/// The first SIGINT or SIGTERM drains; a second one forces an exit.
async fn signals(shutdown: CancellationToken) {
    for round in 0..2 {
        #[cfg(unix)]
        {
            let kind = tokio::signal::unix::SignalKind::terminate();
            let Ok(mut term) = tokio::signal::unix::signal(kind) else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        if round == 0 {
            tracing::info!("signal received: draining (send it again to force)");
            shutdown.cancel();
        } else {
            tracing::warn!("second signal: exiting now");
            #[allow(clippy::exit)]
            std::process::exit(130);
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("stampede=info,stampede_server=info,tower_http=info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
