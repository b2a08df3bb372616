//! Attempts, receipts and the outbox: the rows a ranked run leaves behind.
//! Invariant: every write is idempotent, keyed by ids made before the side effect (the
//! attempt id, the receipt id), so a retried job can never double a row.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use stampede_protocol::api::{AttemptPage, AttemptSummary, LevelProgress, Receipt};
use stampede_protocol::{Mode, PlayerId};

use super::{Db, StoreError, bounded};
use crate::leaderboard::{Periods, member_key};

/// The row written before a ranked clock starts.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptStart {
    /// Attempt id.
    pub id: String,
    /// The room that runs it.
    pub room_id: String,
    /// The server process that owns it (its running attempts are aborted when it restarts).
    pub node_id: String,
    /// Level id.
    pub level: String,
    /// SHA-256 of the level file.
    pub level_hash: String,
    /// Engine version.
    pub engine: String,
    /// Seed.
    pub seed: u64,
    /// Mode.
    pub mode: Mode,
    /// Players and their display names.
    pub players: Vec<(PlayerId, String)>,
    /// Unix ms.
    pub started_at: u64,
}

/// A finished attempt with its signed receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedAttempt {
    /// The start row (written again if it never was: the job is self-contained).
    pub start: AttemptStart,
    /// The signed receipt.
    pub receipt: Receipt,
    /// Its canonical signed encoding, stored verbatim.
    pub body: String,
}

pub(crate) fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Solo => "solo",
        Mode::Race => "race",
        Mode::Team => "team",
    }
}

pub(crate) fn parse_mode(s: &str) -> Result<Mode, StoreError> {
    match s {
        "solo" => Ok(Mode::Solo),
        "race" => Ok(Mode::Race),
        "team" => Ok(Mode::Team),
        other => Err(StoreError::Corrupt(format!("unknown mode `{other}`"))),
    }
}

/// Integers are stored as BIGINT; every one the server makes stays below 2^53.
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

const INSERT_ATTEMPT: &str = "INSERT INTO attempts \
    (id, room_id, node_id, level, level_hash, engine, seed, mode, status, started_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9) ON CONFLICT (id) DO NOTHING";
const INSERT_PLAYER: &str = "INSERT INTO attempt_players (attempt_id, player, name) \
    VALUES ($1, $2, $3) ON CONFLICT (attempt_id, player) DO NOTHING";

async fn insert_start(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    a: &AttemptStart,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT_ATTEMPT)
        .bind(&a.id)
        .bind(&a.room_id)
        .bind(&a.node_id)
        .bind(&a.level)
        .bind(&a.level_hash)
        .bind(&a.engine)
        .bind(int(a.seed))
        .bind(mode_name(a.mode))
        .bind(int(a.started_at))
        .execute(&mut **tx)
        .await?;
    for (player, name) in &a.players {
        sqlx::query(INSERT_PLAYER)
            .bind(&a.id)
            .bind(&player.0)
            .bind(name)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Db {
    /// Records that a ranked attempt is starting.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn start_attempt(&self, a: &AttemptStart) -> Result<(), StoreError> {
        bounded(async {
            let mut tx = self.pool().begin().await?;
            insert_start(&mut tx, a).await?;
            tx.commit().await
        })
        .await
    }

    /// Finishes an attempt: the attempt row, its receipt and an outbox row for the leaderboards,
    /// in one transaction. Running it twice changes nothing the second time.
    ///
    /// # Errors
    /// When the database fails or times out (nothing is written then).
    pub async fn finish_attempt(&self, f: &FinishedAttempt) -> Result<(), StoreError> {
        let r = &f.receipt;
        let periods = Periods::of(r.finished_at);
        let cost = r.result.avg_cost_per_hour;
        bounded(async {
            let mut tx = self.pool().begin().await?;
            insert_start(&mut tx, &f.start).await?;
            let updated = sqlx::query(
                "UPDATE attempts SET status = 'finished', finished_at = $2, score = $3, \
                 stars = $4, passed = $5, cost_per_hour = $6, receipt_id = $7, day = $8, \
                 week = $9, season = $10 WHERE id = $1 AND status = 'running'",
            )
            .bind(&f.start.id)
            .bind(int(r.finished_at))
            .bind(r.result.score)
            .bind(i64::from(r.result.stars))
            .bind(i64::from(r.result.passed))
            .bind(cost)
            .bind(&r.id)
            .bind(&periods.day)
            .bind(&periods.week)
            .bind(&periods.season)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 1 {
                for (player, _) in &f.start.players {
                    let key = member_key(r.result.score, cost, r.finished_at, player);
                    sqlx::query(
                        "UPDATE attempt_players SET sort_key = $3 \
                         WHERE attempt_id = $1 AND player = $2",
                    )
                    .bind(&f.start.id)
                    .bind(&player.0)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO receipts (id, attempt_id, body, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&r.id)
                .bind(&f.start.id)
                .bind(&f.body)
                .bind(int(r.finished_at))
                .execute(&mut *tx)
                .await?;
                if r.result.passed {
                    sqlx::query(
                        "INSERT INTO outbox (attempt_id, created_at) VALUES ($1, $2) \
                         ON CONFLICT (attempt_id) DO NOTHING",
                    )
                    .bind(&f.start.id)
                    .bind(int(r.finished_at))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await
        })
        .await
    }

    /// Marks a running attempt aborted (its room ended without a result). Never ranked.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn abort_attempt(&self, id: &str) -> Result<(), StoreError> {
        bounded(
            sqlx::query(
                "UPDATE attempts SET status = 'aborted' WHERE id = $1 AND status = 'running'",
            )
            .bind(id)
            .execute(self.pool()),
        )
        .await?;
        Ok(())
    }

    /// Marks every running attempt of a room aborted (the room panicked).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn abort_room(&self, room_id: &str) -> Result<(), StoreError> {
        bounded(
            sqlx::query(
                "UPDATE attempts SET status = 'aborted' WHERE room_id = $1 AND status = 'running'",
            )
            .bind(room_id)
            .execute(self.pool()),
        )
        .await?;
        Ok(())
    }

    /// At start: the attempts this node left running when it died are aborted. Returns how many.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn abort_orphans(&self, node_id: &str) -> Result<u64, StoreError> {
        let done = bounded(
            sqlx::query(
                "UPDATE attempts SET status = 'aborted' WHERE node_id = $1 AND status = 'running'",
            )
            .bind(node_id)
            .execute(self.pool()),
        )
        .await?;
        Ok(done.rows_affected())
    }

    /// A receipt's stored canonical encoding.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn receipt(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = bounded(
            sqlx::query("SELECT body FROM receipts WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool()),
        )
        .await?;
        row.map(|r| r.try_get::<String, _>(0).map_err(StoreError::Sql))
            .transpose()
    }

    /// A player's attempts, newest first, `limit` at a time; `before` is the previous page's
    /// `next` cursor (an attempt's start time and id).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn attempts_of(
        &self,
        player: &str,
        before: Option<(u64, String)>,
        limit: u32,
    ) -> Result<AttemptPage, StoreError> {
        const COLUMNS: &str = "SELECT a.id, a.level, a.mode, a.seed, a.status, a.started_at, \
            a.finished_at, a.score, a.stars, a.passed, a.receipt_id FROM attempts a \
            JOIN attempt_players p ON p.attempt_id = a.id WHERE p.player = $1";
        let fetch = i64::from(limit) + 1;
        let rows = match before {
            None => {
                let sql = format!("{COLUMNS} ORDER BY a.started_at DESC, a.id DESC LIMIT $2");
                bounded(
                    sqlx::query(AssertSqlSafe(sql))
                        .bind(player)
                        .bind(fetch)
                        .fetch_all(self.pool()),
                )
                .await?
            }
            Some((t, id)) => {
                let sql = format!(
                    "{COLUMNS} AND (a.started_at < $2 OR (a.started_at = $2 AND a.id < $3)) \
                     ORDER BY a.started_at DESC, a.id DESC LIMIT $4"
                );
                bounded(
                    sqlx::query(AssertSqlSafe(sql))
                        .bind(player)
                        .bind(int(t))
                        .bind(id)
                        .bind(fetch)
                        .fetch_all(self.pool()),
                )
                .await?
            }
        };
        let mut attempts = rows
            .iter()
            .map(summary)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let next = (attempts.len() > limit as usize).then(|| {
            attempts.truncate(limit as usize);
            attempts
                .last()
                .map(|a| format!("{}.{}", a.started_at, a.id))
                .unwrap_or_default()
        });
        Ok(AttemptPage { attempts, next })
    }

    /// A player's progress: per level with a finished attempt, passed, stars, best score.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn progress_of(&self, player: &str) -> Result<Vec<LevelProgress>, StoreError> {
        let rows = bounded(
            sqlx::query(
                "SELECT a.level, MAX(a.passed), MAX(a.stars), MAX(a.score), COUNT(*) \
                 FROM attempts a JOIN attempt_players p ON p.attempt_id = a.id \
                 WHERE p.player = $1 AND a.status = 'finished' GROUP BY a.level ORDER BY a.level",
            )
            .bind(player)
            .fetch_all(self.pool()),
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LevelProgress {
                    level: r.try_get(0)?,
                    passed: r.try_get::<i64, _>(1)? != 0,
                    stars: u8::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0),
                    best_score: r.try_get(3)?,
                    attempts: uint(r.try_get(4)?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::Sql)
    }

    /// How many attempts have each status (tests and operators).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn attempt_status(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = bounded(
            sqlx::query("SELECT status FROM attempts WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool()),
        )
        .await?;
        row.map(|r| r.try_get::<String, _>(0).map_err(StoreError::Sql))
            .transpose()
    }

    /// Counts of rows per table for one attempt: (attempts, receipts, outbox). Tests use it to
    /// prove a finish was stored exactly once.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn rows_for(&self, attempt_id: &str) -> Result<(u64, u64, u64), StoreError> {
        let row = bounded(
            sqlx::query(
                "SELECT (SELECT COUNT(*) FROM attempts WHERE id = $1), \
                 (SELECT COUNT(*) FROM receipts WHERE attempt_id = $1), \
                 (SELECT COUNT(*) FROM outbox WHERE attempt_id = $1)",
            )
            .bind(attempt_id)
            .fetch_one(self.pool()),
        )
        .await?;
        Ok((
            uint(row.try_get(0)?),
            uint(row.try_get(1)?),
            uint(row.try_get(2)?),
        ))
    }
}

fn summary(r: &AnyRow) -> Result<AttemptSummary, StoreError> {
    let finished: Option<i64> = r.try_get(6)?;
    let stars: Option<i64> = r.try_get(8)?;
    let passed: Option<i64> = r.try_get(9)?;
    Ok(AttemptSummary {
        id: r.try_get(0)?,
        level: r.try_get(1)?,
        mode: parse_mode(&r.try_get::<String, _>(2)?)?,
        seed: uint(r.try_get(3)?),
        status: r.try_get(4)?,
        started_at: uint(r.try_get(5)?),
        finished_at: finished.map(uint),
        score: r.try_get(7)?,
        stars: stars.map(|s| u8::try_from(s).unwrap_or(0)),
        passed: passed.map(|p| p != 0),
        receipt_id: r.try_get(10)?,
    })
}
