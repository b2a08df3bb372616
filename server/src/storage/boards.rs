//! Leaderboards read straight from SQL: the source a rebuild reads, the outbox the projector
//! drains, and the fallback pages served while the index is missing or rebuilding.
//! Invariant: a board is each player's best passing finished attempt by `sort_key`, the same
//! byte order the indexes use, so all three sources give the same ranks and cursors.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use stampede_protocol::api::Window;

use super::attempts::{int, parse_mode, uint};
use super::{Db, StoreError, bounded};
use crate::leaderboard::{
    BoardKey, Cursor, Periods, Record, Slice, boards_of, period_column, window_around,
};

/// The columns `record` reads, from `attempts a JOIN attempt_players p`.
const RECORD_COLUMNS: &str = "p.player, p.name, a.score, a.stars, a.cost_per_hour, \
    a.finished_at, a.id, a.receipt_id, p.sort_key";

fn record(r: &AnyRow, at: usize) -> Result<Record, sqlx::Error> {
    Ok(Record {
        player: r.try_get(at)?,
        name: r.try_get(at + 1)?,
        score: r.try_get(at + 2)?,
        stars: u8::try_from(r.try_get::<i64, _>(at + 3)?).unwrap_or(0),
        cost_per_hour: r.try_get(at + 4)?,
        finished_at: uint(r.try_get(at + 5)?),
        attempt_id: r.try_get(at + 6)?,
        receipt_id: r.try_get::<Option<String>, _>(at + 7)?.unwrap_or_default(),
        key: r.try_get::<Option<String>, _>(at + 8)?.unwrap_or_default(),
    })
}

/// Every board a row's record belongs on.
fn placed(r: &AnyRow) -> Result<Vec<(BoardKey, Record)>, StoreError> {
    let level: String = r.try_get(0)?;
    let mode = parse_mode(&r.try_get::<String, _>(1)?)?;
    let periods = Periods {
        day: r.try_get(2)?,
        week: r.try_get(3)?,
        season: r.try_get(4)?,
    };
    let rec = record(r, 5)?;
    Ok(boards_of(&level, mode, &periods)
        .into_iter()
        .map(|b| (b, rec.clone()))
        .collect())
}

/// Each player's best row on one board, as a subquery with its bound parameters.
fn best_rows(board: &BoardKey) -> (String, Vec<String>) {
    let mut binds = vec![
        board.level.clone(),
        super::attempts::mode_name(board.mode).to_owned(),
    ];
    let period = match period_column(board.window) {
        Some(col) => {
            binds.push(board.period.clone());
            format!(" AND a.{col} = $3")
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT * FROM (SELECT {RECORD_COLUMNS}, ROW_NUMBER() OVER \
         (PARTITION BY p.player ORDER BY p.sort_key) AS rn \
         FROM attempts a JOIN attempt_players p ON p.attempt_id = a.id \
         WHERE a.level = $1 AND a.mode = $2 AND a.status = 'finished' AND a.passed = 1{period}) \
         best WHERE rn = 1"
    );
    (sql, binds)
}

impl Db {
    /// Every passing finished attempt on every board (for a rebuild; the index keeps the best).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn board_records(&self) -> Result<Vec<(BoardKey, Record)>, StoreError> {
        let sql = format!(
            "SELECT a.level, a.mode, a.day, a.week, a.season, {RECORD_COLUMNS} \
             FROM attempts a JOIN attempt_players p ON p.attempt_id = a.id \
             WHERE a.status = 'finished' AND a.passed = 1"
        );
        let rows = bounded(sqlx::query(AssertSqlSafe(sql)).fetch_all(self.pool())).await?;
        let mut out = Vec::with_capacity(rows.len() * 4);
        for r in &rows {
            out.extend(placed(r)?);
        }
        Ok(out)
    }

    /// Up to `limit` outbox rows not yet projected: `(outbox id, boards and record)`.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn outbox_pending(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, Vec<(BoardKey, Record)>)>, StoreError> {
        let sql = format!(
            "SELECT a.level, a.mode, a.day, a.week, a.season, {RECORD_COLUMNS}, o.id \
             FROM outbox o JOIN attempts a ON a.id = o.attempt_id \
             JOIN attempt_players p ON p.attempt_id = a.id \
             WHERE o.published_at IS NULL ORDER BY o.id LIMIT $1"
        );
        let rows = bounded(
            sqlx::query(AssertSqlSafe(sql))
                .bind(i64::from(limit))
                .fetch_all(self.pool()),
        )
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(14)?, placed(r)?)))
            .collect()
    }

    /// Marks outbox rows projected.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn outbox_done(&self, ids: &[i64], now_ms: u64) -> Result<(), StoreError> {
        bounded(async {
            let mut tx = self.pool().begin().await?;
            for id in ids {
                sqlx::query("UPDATE outbox SET published_at = $1 WHERE id = $2")
                    .bind(int(now_ms))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })
        .await
    }

    /// Outbox rows not yet projected (for `/readyz` and tests).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        let row = bounded(
            sqlx::query("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(self.pool()),
        )
        .await?;
        Ok(uint(row.try_get(0)?))
    }

    async fn board_count(&self, board: &BoardKey, below: Option<&str>) -> Result<u64, StoreError> {
        let (best, binds) = best_rows(board);
        let n = binds.len();
        let filter = if below.is_some() {
            format!(" AND sort_key < ${}", n + 1)
        } else {
            String::new()
        };
        let sql = format!("SELECT COUNT(*) FROM ({best}{filter}) counted");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        if let Some(k) = below {
            q = q.bind(k);
        }
        let row = bounded(q.fetch_one(self.pool())).await?;
        Ok(uint(row.try_get(0)?))
    }

    /// A page of a board computed in SQL.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn board_slice(
        &self,
        board: &BoardKey,
        cursor: &Cursor,
        limit: u32,
    ) -> Result<Slice, StoreError> {
        let (best, binds) = best_rows(board);
        let n = binds.len();
        let (filter, order, key) = match cursor {
            Cursor::Top => (String::new(), "ASC", None),
            Cursor::After(k) => (format!(" AND sort_key > ${}", n + 1), "ASC", Some(k)),
            Cursor::Before(k) => (format!(" AND sort_key < ${}", n + 1), "DESC", Some(k)),
        };
        let limit_at = n + usize::from(key.is_some()) + 1;
        let sql = format!("{best}{filter} ORDER BY sort_key {order} LIMIT ${limit_at}");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        if let Some(k) = key {
            q = q.bind(k);
        }
        let rows = bounded(q.bind(i64::from(limit)).fetch_all(self.pool())).await?;
        let mut records = rows
            .iter()
            .map(|r| record(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        if matches!(cursor, Cursor::Before(_)) {
            records.reverse();
        }
        let total = self.board_count(board, None).await?;
        let first_rank = match records.first() {
            Some(r) => self.board_count(board, Some(&r.key)).await? + 1,
            None => 1,
        };
        Ok(Slice {
            first_rank,
            records,
            total,
        })
    }

    /// The entries around a player, computed in SQL; `None` when the player is not on it.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn board_around(
        &self,
        board: &BoardKey,
        player: &str,
        limit: u32,
    ) -> Result<Option<Slice>, StoreError> {
        let (best, binds) = best_rows(board);
        let sql = format!("{best} AND player = ${}", binds.len() + 1);
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        let Some(row) = bounded(q.bind(player).fetch_optional(self.pool())).await? else {
            return Ok(None);
        };
        let mine = record(&row, 0)?;
        let at = self.board_count(board, Some(&mine.key)).await? as usize;
        let total = self.board_count(board, None).await?;
        let (start, end) = window_around(at, total as usize, limit);
        let sql = format!(
            "{best} ORDER BY sort_key ASC LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        let rows = bounded(
            q.bind(int((end - start) as u64))
                .bind(int(start as u64))
                .fetch_all(self.pool()),
        )
        .await?;
        let records = rows
            .iter()
            .map(|r| record(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Slice {
            first_rank: start as u64 + 1,
            records,
            total,
        }))
    }
}

/// Which window names a client may ask for.
pub fn parse_window(s: &str) -> Option<Window> {
    match s {
        "all" => Some(Window::All),
        "season" => Some(Window::Season),
        "week" => Some(Window::Week),
        "day" => Some(Window::Day),
        _ => None,
    }
}
