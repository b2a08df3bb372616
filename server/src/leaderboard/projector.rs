//! The projector: one task that feeds the leaderboard index from the SQL outbox, and rebuilds
//! the index from SQL when it finds it empty (first start, Redis flushed or restarted).
//! Invariant: the only writer of the index; an outbox row is marked published only after
//! the index took it, and re-applying one is harmless (best-score semantics), so a crash
//! between the two at worst applies a row twice.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Leaderboards;

/// How often the projector looks without being woken (a finish wakes it at once).
const POLL: Duration = Duration::from_millis(500);
/// Outbox rows per round.
const BATCH: u32 = 200;

/// Runs until `stop` is cancelled.
pub async fn run(boards: Arc<Leaderboards>, stop: CancellationToken) {
    let mut failing = false;
    loop {
        let round = async {
            if !boards.index().built().await? {
                let n = boards.rebuild().await?;
                info!(
                    records = n,
                    backend = boards.backend(),
                    "leaderboard index rebuilt from SQL"
                );
            }
            drain(&boards).await
        };
        match round.await {
            Ok(()) => {
                if failing {
                    info!("leaderboard projection recovered");
                }
                failing = false;
                metrics::gauge!("stampede_leaderboard_projection_ok").set(1.0);
            }
            Err(e) => {
                // Logged on the first failure only: Redis or SQL being down is visible on
                // /readyz and in this gauge; a line per round would flood the log.
                if !failing {
                    warn!(error = %e, "leaderboard projection failing; reads fall back to SQL");
                }
                failing = true;
                metrics::gauge!("stampede_leaderboard_projection_ok").set(0.0);
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = boards.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Applies every pending outbox row to the index and marks it published.
async fn drain(boards: &Leaderboards) -> Result<(), super::BoardError> {
    loop {
        let mut pending = boards.db().outbox_pending(BATCH).await?;
        if pending.is_empty() {
            return Ok(());
        }
        // One row per (attempt, player): a full batch may have cut the last attempt's
        // players short, so that attempt waits for the next round (unless it is all there is).
        if pending.len() == BATCH as usize {
            let last = pending.last().map(|(id, _)| *id);
            if pending.iter().any(|(id, _)| Some(*id) != last) {
                pending.retain(|(id, _)| Some(*id) != last);
            }
        }
        let mut ids: Vec<i64> = Vec::with_capacity(pending.len());
        let mut records = Vec::new();
        for (id, placed) in pending {
            if ids.last() != Some(&id) {
                ids.push(id);
            }
            records.extend(placed);
        }
        boards.index().apply(&records).await?;
        boards.db().outbox_done(&ids, crate::now_ms()).await?;
        metrics::counter!("stampede_leaderboard_projected_total").increment(ids.len() as u64);
    }
}
