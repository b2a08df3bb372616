//! The Stampede server: axum HTTP and WebSocket, one task per room, guest sessions, storage,
//! receipts, leaderboards, metrics.
//! Invariant: `run` returns only after every room task has ended (or the grace period is over)
//! and the storage queue has been flushed; nothing it spawns outlives it untracked.

pub mod catalog;
pub mod config;
pub mod daily;
pub mod http;
pub mod leaderboard;
pub mod persistence;
pub mod receipt;
mod room;
pub mod session;
pub mod storage;
mod ws;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

pub use catalog::Catalog;
pub use config::Config;
pub use http::app;

/// Shared server state.
#[derive(Debug)]
pub struct AppState {
    /// Settings.
    pub config: Config,
    /// Levels.
    pub catalog: Catalog,
    /// Guest sessions.
    pub sessions: session::Sessions,
    /// Database, write queue, leaderboards, receipt key.
    pub storage: persistence::Storage,
    pub(crate) registry: room::Registry,
    pub(crate) metrics: PrometheusHandle,
    /// Cancelled on shutdown; rooms and connections hold children of it.
    pub(crate) shutdown: CancellationToken,
    /// Every room task and WebSocket connection, so shutdown can wait for them.
    pub(crate) tracker: TaskTracker,
    draining: AtomicBool,
    conn_ids: AtomicU64,
}

impl AppState {
    /// State for a server with these settings, levels and started storage.
    pub fn new(
        config: Config,
        catalog: Catalog,
        storage: persistence::Storage,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            config,
            catalog,
            sessions: session::Sessions::default(),
            storage,
            registry: room::Registry::default(),
            metrics: prometheus(),
            shutdown,
            tracker: TaskTracker::new(),
            draining: AtomicBool::new(false),
            conn_ids: AtomicU64::new(1),
        })
    }

    /// Revokes a guest session here at once and in storage through the write queue (so it
    /// stays revoked after a restart). Returns whether this process knew the token.
    pub fn revoke_session(&self, token: &str) -> bool {
        let known = self.sessions.revoke(token);
        let queued = self
            .storage
            .writes
            .try_send(storage::WriteJob::Revoke(session::token_hash(token)));
        if !queued {
            warn!("write queue full: a revoked session is revoked in this process only");
        }
        known
    }

    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed) || self.shutdown.is_cancelled()
    }

    pub(crate) fn next_conn_id(&self) -> u64 {
        self.conn_ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// The process-wide Prometheus recorder (one per process, however many servers tests start).
fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                    0.1, 0.25, 0.5, 1.0,
                ])
                .unwrap_or_else(|_| unreachable!("the bucket list is not empty"))
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

/// Milliseconds since the Unix epoch (for `welcome` and `pong`; never used by the simulation).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Why the server stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Accepting or serving failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves until `shutdown` is cancelled, then drains: readiness turns 503, new upgrades are
/// refused, every connection is closed with 4001 (resumable), room tasks end, and the process
/// waits at most the grace period for them and for the connections' close frames.
///
/// # Errors
/// When the listener fails.
pub async fn run(state: Arc<AppState>, listener: TcpListener) -> Result<(), ServerError> {
    let addr = listener.local_addr()?;
    info!(%addr, levels = state.catalog.all().count(), "listening");
    let shutdown = state.shutdown.clone();
    let grace = config::Config::secs(state.config.shutdown_grace_s);
    // Without the exporter's own upkeep task, histogram samples (one per room tick) pile up
    // until a scrape drains them: an unscraped server would grow without bound.
    let upkeep = {
        let (metrics, shutdown) = (state.metrics.clone(), shutdown.clone());
        async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = every.tick() => metrics.run_upkeep(),
                }
            }
        }
    };
    state.tracker.spawn(upkeep);
    let server = axum::serve(listener, app(Arc::clone(&state)))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let deadline = async {
        shutdown.cancelled().await;
        state.draining.store(true, Ordering::Relaxed);
        info!("shutting down: draining connections and rooms");
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r?,
        () = deadline => warn!("grace period over: forcing shutdown"),
    }
    state.tracker.close();
    if tokio::time::timeout(grace, state.tracker.wait())
        .await
        .is_err()
    {
        warn!("rooms still running after the grace period");
    }
    state.storage.stop().await;
    info!("stopped");
    Ok(())
}
