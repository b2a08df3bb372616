//! The server's persistent side, started and stopped together: the database (migrated, with
//! orphaned attempts aborted), the write queue's task, the leaderboard index and its projector,
//! and the receipt key.
//! Invariant: started before the server accepts anyone; stopped after every room has ended,
//! so the rooms' last writes (finishes, aborts) are flushed before the process exits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::Config;
use crate::leaderboard::{Index, Leaderboards, MemoryIndex, RedisIndex, projector};
use crate::receipt::{Signer, Verifier};
use crate::storage::{Db, Writer, Writes};

/// Why the persistent side did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database.
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
    /// The receipt key.
    #[error(transparent)]
    Key(#[from] crate::receipt::KeyError),
    /// The leaderboard index.
    #[error(transparent)]
    Board(#[from] crate::leaderboard::BoardError),
}

/// Database, write queue, leaderboards and receipt key.
#[derive(Debug)]
pub struct Storage {
    /// The SQL store.
    pub db: Db,
    /// The write queue rooms hand finished attempts to.
    pub writes: Writes,
    /// Leaderboard reads.
    pub boards: Arc<Leaderboards>,
    /// Signs receipts.
    pub signer: Signer,
    /// Checks receipts.
    pub verifier: Verifier,
    /// This server's name in the attempts it owns.
    pub node_id: String,
    tasks: Mutex<Option<Tasks>>,
}

#[derive(Debug)]
struct Tasks {
    flush: CancellationToken,
    writer: JoinHandle<()>,
    stop_projector: CancellationToken,
    projector: JoinHandle<()>,
}

/// Connects to the database and migrates it (what `stampede migrate` does, and `serve` first).
///
/// # Errors
/// When the database cannot be reached or a migration fails.
pub async fn open_db(config: &Config) -> Result<Db, StartError> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

/// The leaderboard index the configuration names.
///
/// # Errors
/// When `REDIS_URL` is not a Redis URL.
pub fn open_index(config: &Config) -> Result<Index, StartError> {
    Ok(match &config.redis_url {
        Some(url) => Index::Redis(RedisIndex::new(url, &config.redis_prefix)?),
        None => Index::Memory(MemoryIndex::default()),
    })
}

impl Storage {
    /// Starts everything; the leaderboard index is (re)built from SQL in the background.
    ///
    /// # Errors
    /// When the database, the key or the index cannot be had.
    pub async fn start(config: &Config) -> Result<Self, StartError> {
        let signer = Signer::load(&config.key_source())?;
        let db = open_db(config).await?;
        let orphans = db.abort_orphans(&config.node_id).await?;
        if orphans > 0 {
            warn!(orphans, node = %config.node_id, "attempts left running by a previous run were aborted");
        }
        let index = open_index(config)?;
        if matches!(index, Index::Memory(_)) {
            info!(
                "leaderboards are in this process: correct for one server; set REDIS_URL to run several"
            );
        }
        let boards = Leaderboards::new(index, db.clone());
        let (writes, writer) = Writer::new(
            db.clone(),
            config.write_queue,
            config.max_ranked,
            Some(Arc::clone(&boards)),
        );
        let flush = CancellationToken::new();
        let stop_projector = CancellationToken::new();
        let grace = Duration::from_secs_f64(config.shutdown_grace_s);
        let tasks = Tasks {
            writer: tokio::spawn(writer.run(flush.clone(), grace)),
            projector: tokio::spawn(projector::run(Arc::clone(&boards), stop_projector.clone())),
            flush,
            stop_projector,
        };
        info!(
            database = db.backend().name(),
            leaderboards = boards.backend(),
            key_id = %signer.verifier().public().key_id,
            "storage ready"
        );
        Ok(Self {
            verifier: signer.verifier(),
            db,
            writes,
            boards,
            signer,
            node_id: config.node_id.clone(),
            tasks: Mutex::new(Some(tasks)),
        })
    }

    /// Flushes the write queue (for at most the grace period) and stops the projector. Call
    /// after the rooms have ended.
    pub async fn stop(&self) {
        let tasks = self.tasks.lock().ok().and_then(|mut t| t.take());
        let Some(t) = tasks else { return };
        t.flush.cancel();
        if let Err(e) = t.writer.await {
            warn!(error = %e, "storage writer ended abnormally");
        }
        t.stop_projector.cancel();
        let _ = t.projector.await;
        self.db.close().await;
    }
}
