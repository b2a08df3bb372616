//! The write queue between rooms and the database: rooms hand jobs over without waiting, one
//! task writes them in order, retrying with jittered backoff for as long as the database is
//! down. Invariant: a ranked attempt reserves its finishing slot when it starts (an owned
//! permit), so a full queue refuses new starts but never drops a finished attempt; every job
//! is idempotent, so a retry after an unknown outcome doubles nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::sync::mpsc::OwnedPermit;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::players::PlayerRow;
use super::{AttemptStart, Db, FinishedAttempt, StoreError};
use crate::leaderboard::Leaderboards;

/// First retry delay; doubled per failure up to `MAX_BACKOFF`, with ±50 % jitter so many
/// servers do not retry in step against a recovering database.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One thing to write.
#[derive(Debug, Clone)]
pub enum WriteJob {
    /// A new guest player.
    Player(PlayerRow),
    /// A revoked session token (by its hash).
    Revoke(String),
    /// A ranked attempt is starting.
    Start(AttemptStart),
    /// A ranked attempt finished: attempt, receipt and outbox in one transaction.
    Finish(Box<FinishedAttempt>),
    /// A ranked attempt ended without a result (its room closed).
    Abort(String),
    /// Every running attempt of a room that panicked.
    AbortRoom(String),
}

impl WriteJob {
    fn kind(&self) -> &'static str {
        match self {
            Self::Player(_) => "player",
            Self::Revoke(_) => "revoke",
            Self::Start(_) => "start",
            Self::Finish(_) => "finish",
            Self::Abort(_) => "abort",
            Self::AbortRoom(_) => "abort_room",
        }
    }
}

/// The sending side, shared by rooms and HTTP handlers.
#[derive(Debug, Clone)]
pub struct Writes {
    tx: mpsc::Sender<WriteJob>,
    healthy: Arc<AtomicBool>,
}

impl Writes {
    /// A slot in the queue, held until used (or dropped, which frees it). `None` when full.
    pub fn reserve(&self) -> Option<OwnedPermit<WriteJob>> {
        self.tx.clone().try_reserve_owned().ok()
    }

    /// Queues a job if there is room; returns whether it was queued.
    pub fn try_send(&self, job: WriteJob) -> bool {
        self.tx.try_send(job).is_ok()
    }

    /// Jobs waiting (reserved slots included).
    pub fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Whether the last write succeeded (for `/readyz`).
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}

/// The task that writes.
#[derive(Debug)]
pub struct Writer {
    rx: mpsc::Receiver<WriteJob>,
    db: Db,
    boards: Option<Arc<Leaderboards>>,
    healthy: Arc<AtomicBool>,
}

impl Writer {
    /// A queue of `capacity` jobs writing to `db`, waking `boards`' projector after finishes.
    pub fn new(db: Db, capacity: usize, boards: Option<Arc<Leaderboards>>) -> (Writes, Self) {
        let (tx, rx) = mpsc::channel(capacity.max(2));
        let healthy = Arc::new(AtomicBool::new(true));
        (
            Writes {
                tx,
                healthy: Arc::clone(&healthy),
            },
            Self {
                rx,
                db,
                boards,
                healthy,
            },
        )
    }

    /// Writes jobs until every sender is gone, or until `flush` is cancelled and then for at
    /// most `grace` more (what is still queued then is logged as unwritten: its attempts stay
    /// `running` and are aborted at the next start).
    pub async fn run(mut self, flush: CancellationToken, grace: Duration) {
        loop {
            let job = tokio::select! {
                job = self.rx.recv() => job,
                () = flush.cancelled() => break,
            };
            let Some(job) = job else { return };
            self.write(job, None).await;
        }
        let deadline = tokio::time::Instant::now() + grace;
        self.rx.close();
        let mut written = 0;
        while let Ok(job) = self.rx.try_recv() {
            if !self.write(job, Some(deadline)).await {
                let left = self.rx.len() + 1;
                error!(
                    left,
                    "storage still failing at the end of the grace period: jobs unwritten"
                );
                return;
            }
            written += 1;
        }
        info!(written, "storage queue flushed");
    }

    /// Writes one job, retrying until it succeeds or `deadline` passes; returns whether it
    /// was written.
    async fn write(&self, job: WriteJob, deadline: Option<tokio::time::Instant>) -> bool {
        let mut backoff = FIRST_BACKOFF;
        let mut failures = 0u32;
        loop {
            match self.attempt(&job).await {
                Ok(()) => {
                    if failures > 0 {
                        info!(
                            kind = job.kind(),
                            failures, "storage write succeeded after retries"
                        );
                    }
                    self.healthy.store(true, Ordering::Relaxed);
                    metrics::counter!("stampede_storage_writes_total", "kind" => job.kind())
                        .increment(1);
                    if matches!(job, WriteJob::Finish(_))
                        && let Some(b) = &self.boards
                    {
                        b.wake.notify_one();
                    }
                    return true;
                }
                Err(e) => {
                    failures += 1;
                    self.healthy.store(false, Ordering::Relaxed);
                    metrics::counter!("stampede_storage_retries_total").increment(1);
                    if failures == 1 || failures.is_power_of_two() {
                        warn!(kind = job.kind(), failures, error = %e, "storage write failed; retrying");
                    }
                    let pause = jitter(backoff);
                    if deadline.is_some_and(|d| tokio::time::Instant::now() + pause > d) {
                        return false;
                    }
                    tokio::time::sleep(pause).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn attempt(&self, job: &WriteJob) -> Result<(), StoreError> {
        match job {
            WriteJob::Player(p) => self.db.put_player(p).await,
            WriteJob::Revoke(hash) => self.db.revoke_token(hash).await,
            WriteJob::Start(a) => self.db.start_attempt(a).await,
            WriteJob::Finish(f) => self.db.finish_attempt(f).await,
            WriteJob::Abort(id) => self.db.abort_attempt(id).await,
            WriteJob::AbortRoom(room) => self.db.abort_room(room).await,
        }
    }
}

/// `d` scaled by a random factor in [0.5, 1.5).
fn jitter(d: Duration) -> Duration {
    let r = getrandom::u32().unwrap_or(u32::MAX / 2);
    d.mul_f64(0.5 + f64::from(r) / f64::from(u32::MAX))
}
