//! The write queue between rooms and the database: rooms hand jobs over without waiting, one
//! task writes them in order, retrying with jittered backoff for as long as the database is
//! down. Invariant: a ranked attempt reserves its finishing slot when it starts (an owned
//! permit), so a full queue refuses new starts but never drops a finished attempt; every job
//! is idempotent, so a retry after an unknown outcome doubles nothing. The queue has two parts,
//! each counted by a semaphore whose permit travels with the job until it is written: `room` for
//! everyday jobs (new players, start rows) and one `seat` per ranked attempt for its result, so
//! running attempts never crowd out the other writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::OwnedPermit;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
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

/// A job in the queue, with the permit (of `room` or a seat) it gives back once written.
#[derive(Debug)]
struct Queued {
    job: WriteJob,
    _hold: OwnedSemaphorePermit,
}

/// The sending side, shared by rooms and HTTP handlers.
#[derive(Debug, Clone)]
pub struct Writes {
    tx: mpsc::Sender<Queued>,
    /// Everyday jobs queued or being written, at most `capacity`.
    room: Arc<Semaphore>,
    capacity: usize,
    /// Ranked attempts running or with a result not yet written.
    seats: Arc<Semaphore>,
    max_seats: usize,
    healthy: Arc<AtomicBool>,
}

/// A reserved queue slot and the permit that travels with its job.
#[derive(Debug)]
pub struct WriteSlot {
    permit: OwnedPermit<Queued>,
    hold: OwnedSemaphorePermit,
}

impl WriteSlot {
    /// Queues `job` in the reserved slot; it cannot fail.
    pub fn send(self, job: WriteJob) {
        self.permit.send(Queued {
            job,
            _hold: self.hold,
        });
    }
}

/// Why a ranked attempt could not reserve its writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveError {
    /// Every seat is taken: as many ranked attempts as the server allows are running or have
    /// results still to write.
    NoSeat,
    /// The queue is full (the database is down or behind), or the writer has stopped.
    QueueFull,
}

impl ReserveError {
    /// A label for metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoSeat => "no_seat",
            Self::QueueFull => "queue_full",
        }
    }

    /// What a player is told.
    pub fn message(self) -> String {
        let why = match self {
            Self::NoSeat => "this server is recording as many ranked runs as it can",
            Self::QueueFull => "storage is behind",
        };
        format!(
            "{why}, so a ranked attempt cannot start now; try again shortly, or play in a \
             practice room"
        )
    }
}

impl Writes {
    /// A slot in the part `of` counts, or `None` when that part is full.
    fn slot(&self, of: &Arc<Semaphore>) -> Option<WriteSlot> {
        let hold = Arc::clone(of).try_acquire_owned().ok()?;
        let permit = self.tx.clone().try_reserve_owned().ok()?;
        Some(WriteSlot { permit, hold })
    }

    /// For one ranked simulation: a slot for its start row, to send at once, and the slot its
    /// result (finish or abort) will take, which keeps its seat until written. All or nothing.
    ///
    /// # Errors
    /// [`ReserveError::NoSeat`] when every seat is taken, [`ReserveError::QueueFull`] when the
    /// everyday part of the queue is full.
    pub fn reserve_ranked(&self) -> Result<(WriteSlot, WriteSlot), ReserveError> {
        if self.tx.is_closed() {
            // The writer has stopped (shutting down): nothing more can be recorded.
            return Err(ReserveError::QueueFull);
        }
        let finish = self.slot(&self.seats).ok_or(ReserveError::NoSeat)?;
        let start = self.slot(&self.room).ok_or(ReserveError::QueueFull)?;
        Ok((start, finish))
    }

    /// Queues an everyday job if there is room; returns whether it was queued.
    pub fn try_send(&self, job: WriteJob) -> bool {
        self.slot(&self.room).map(|s| s.send(job)).is_some()
    }

    /// Everyday jobs queued or being written: when it reaches the capacity, ranked starts are
    /// refused.
    pub fn depth(&self) -> usize {
        self.capacity - self.room.available_permits()
    }

    /// Ranked attempts running or with a result still to write, each holding a seat.
    pub fn seats_taken(&self) -> usize {
        self.max_seats - self.seats.available_permits()
    }

    /// Whether the last write succeeded (for `/readyz`).
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}

/// The task that writes.
#[derive(Debug)]
pub struct Writer {
    rx: mpsc::Receiver<Queued>,
    db: Db,
    boards: Option<Arc<Leaderboards>>,
    healthy: Arc<AtomicBool>,
}

impl Writer {
    /// A queue writing to `db` that holds `capacity` jobs besides the finish slots of up to
    /// `seats` running ranked attempts, waking `boards`' projector after finishes.
    pub fn new(
        db: Db,
        capacity: usize,
        seats: usize,
        boards: Option<Arc<Leaderboards>>,
    ) -> (Writes, Self) {
        // The semaphores bound each part; the channel holds both.
        let capacity = capacity.max(1);
        let seats = seats.max(1);
        let (tx, rx) = mpsc::channel(capacity + seats);
        let healthy = Arc::new(AtomicBool::new(true));
        (
            Writes {
                tx,
                room: Arc::new(Semaphore::new(capacity)),
                capacity,
                seats: Arc::new(Semaphore::new(seats)),
                max_seats: seats,
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
    /// was written. Its permit goes back when this returns.
    async fn write(&self, queued: Queued, deadline: Option<tokio::time::Instant>) -> bool {
        let job = &queued.job;
        let mut backoff = FIRST_BACKOFF;
        let mut failures = 0u32;
        loop {
            match self.attempt(job).await {
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
