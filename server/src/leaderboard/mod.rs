//! Leaderboards: per level, mode and window, each player's best passing attempt, ordered by
//! score (higher first), then cost (lower), then finish time (earlier).
//! Invariant: SQL holds the truth; the index (Redis sorted sets or an in-process map) is a
//! projection fed only from the outbox and rebuildable at any time, and reads fall back to SQL
//! whenever the index is missing, rebuilding or failing.

mod memory;
pub mod projector;
mod redis_index;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use stampede_protocol::api::{LeaderboardEntry, LeaderboardPage, Window};
use stampede_protocol::{Mode, PlayerId};
use tracing::warn;

pub use memory::MemoryIndex;
pub use redis_index::RedisIndex;

use crate::storage::attempts::mode_name;
use crate::storage::{Db, StoreError};

/// Longest page.
pub const MAX_PAGE: u32 = 100;

/// The calendar periods a finish time falls in (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periods {
    /// `2026-11-30`.
    pub day: String,
    /// ISO week, `2026-w48`.
    pub week: String,
    /// Calendar quarter, `2026-q4`.
    pub season: String,
}

impl Periods {
    /// The periods of a unix-ms instant.
    pub fn of(unix_ms: u64) -> Self {
        let secs = i64::try_from(unix_ms / 1000).unwrap_or(i64::MAX);
        let t = time::OffsetDateTime::from_unix_timestamp(secs)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let d = t.date();
        let (iso_year, week, _) = d.to_iso_week_date();
        Self {
            day: format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            week: format!("{iso_year:04}-w{week:02}"),
            season: format!("{:04}-q{}", d.year(), (u8::from(d.month()) - 1) / 3 + 1),
        }
    }

    /// The period of `window` (`all` for all time).
    pub fn get(&self, window: Window) -> &str {
        match window {
            Window::All => "all",
            Window::Season => &self.season,
            Window::Week => &self.week,
            Window::Day => &self.day,
        }
    }
}

/// The SQL column holding a window's period (`None` for all time). Fixed names, never input.
pub(crate) fn period_column(window: Window) -> Option<&'static str> {
    match window {
        Window::All => None,
        Window::Season => Some("season"),
        Window::Week => Some("week"),
        Window::Day => Some("day"),
    }
}

/// One board.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BoardKey {
    /// Level id.
    pub level: String,
    /// Mode.
    pub mode: Mode,
    /// Window.
    pub window: Window,
    /// Period within the window.
    pub period: String,
}

impl BoardKey {
    /// A stable name, used in Redis keys: `level/mode/window/period`.
    pub fn name(&self) -> String {
        let window = match self.window {
            Window::All => "all",
            Window::Season => "season",
            Window::Week => "week",
            Window::Day => "day",
        };
        format!(
            "{}/{}/{}/{}",
            self.level,
            mode_name(self.mode),
            window,
            self.period
        )
    }
}

/// A player's best attempt on a board, as the index keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Player.
    pub player: String,
    /// Name at the time.
    pub name: String,
    /// Score.
    pub score: f64,
    /// Stars.
    pub stars: u8,
    /// Mean cost per hour.
    pub cost_per_hour: f64,
    /// Unix ms.
    pub finished_at: u64,
    /// Attempt.
    pub attempt_id: String,
    /// Receipt.
    pub receipt_id: String,
    /// The order key (`member_key`): byte order is rank order.
    pub key: String,
}

impl Record {
    fn entry(&self, rank: u64) -> LeaderboardEntry {
        LeaderboardEntry {
            rank,
            player: PlayerId(self.player.clone()),
            name: self.name.clone(),
            score: self.score,
            stars: self.stars,
            cost_per_hour: self.cost_per_hour,
            finished_at: self.finished_at,
            attempt_id: self.attempt_id.clone(),
            receipt_id: self.receipt_id.clone(),
        }
    }
}

/// A record and the boards it belongs on (every window of its mode and level).
pub(crate) fn boards_of(level: &str, mode: Mode, periods: &Periods) -> [BoardKey; 4] {
    [Window::All, Window::Season, Window::Week, Window::Day].map(|window| BoardKey {
        level: level.to_owned(),
        mode,
        window,
        period: periods.get(window).to_owned(),
    })
}

/// The key whose byte order is the leaderboard order: higher score, lower cost, earlier
/// finish, then player id. Non-negative floats order like their bit patterns, so the key is
/// exact (no rounding), and it fits a Redis lexicographic sorted set and SQL `ORDER BY`.
pub fn member_key(score: f64, cost_per_hour: f64, finished_at: u64, player: &PlayerId) -> String {
    let score = u64::MAX - score.max(0.0).to_bits();
    let cost = cost_per_hour.max(0.0).to_bits();
    format!("{score:016x}{cost:016x}{finished_at:016x}|{}", player.0)
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The first page.
    Top,
    /// Entries strictly after this key.
    After(String),
    /// Entries strictly before this key.
    Before(String),
}

/// Encodes a key as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// Decodes a cursor made by `encode_cursor`.
///
/// # Errors
/// A message for the client when it is not one.
pub fn decode_cursor(cursor: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| "the cursor is not one this server made".to_owned())?;
    let key = String::from_utf8(bytes).map_err(|_| "the cursor is not valid".to_owned())?;
    let valid = key.len() > 49
        && key.as_bytes()[48] == b'|'
        && key[..48].bytes().all(|b| b.is_ascii_hexdigit());
    if valid {
        Ok(key)
    } else {
        Err("the cursor is not valid".to_owned())
    }
}

/// Records in rank order with the rank of the first, and the board's size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Slice {
    /// Rank of `records[0]` (1-based).
    pub first_rank: u64,
    /// Records, best first.
    pub records: Vec<Record>,
    /// Players on the board.
    pub total: u64,
}

/// Why a leaderboard read failed.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The index is empty: not built yet, or Redis lost it (the caller falls back to SQL).
    #[error("the leaderboard index is not built")]
    NotBuilt,
    /// The index failed (the caller falls back to SQL).
    #[error("leaderboard index: {0}")]
    Index(String),
    /// SQL failed too.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The projection behind the leaderboards.
#[derive(Debug)]
pub enum Index {
    /// In-process (one server instance).
    Memory(MemoryIndex),
    /// Redis sorted sets (any number of instances).
    Redis(RedisIndex),
}

impl Index {
    fn name(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Redis(_) => "redis",
        }
    }

    /// Whether the index has been built (Redis forgets everything when flushed or restarted).
    pub(crate) async fn built(&self) -> Result<bool, BoardError> {
        match self {
            Self::Memory(m) => Ok(m.built()),
            Self::Redis(r) => r.built().await,
        }
    }

    /// Puts records on their boards, keeping each player's best (idempotent).
    pub(crate) async fn apply(&self, records: &[(BoardKey, Record)]) -> Result<(), BoardError> {
        match self {
            Self::Memory(m) => {
                m.apply(records);
                Ok(())
            }
            Self::Redis(r) => r.apply(records).await,
        }
    }

    /// Replaces every board with those built from `records` (best per player), atomically.
    pub(crate) async fn rebuild(&self, records: Vec<(BoardKey, Record)>) -> Result<(), BoardError> {
        match self {
            Self::Memory(m) => {
                m.rebuild(&records);
                Ok(())
            }
            Self::Redis(r) => r.rebuild(records).await,
        }
    }

    async fn slice(
        &self,
        board: &BoardKey,
        cursor: &Cursor,
        limit: u32,
    ) -> Result<Slice, BoardError> {
        match self {
            Self::Memory(m) => m.slice(board, cursor, limit),
            Self::Redis(r) => r.slice(board, cursor, limit).await,
        }
    }

    async fn around(
        &self,
        board: &BoardKey,
        player: &str,
        limit: u32,
    ) -> Result<Option<Slice>, BoardError> {
        match self {
            Self::Memory(m) => m.around(board, player, limit),
            Self::Redis(r) => r.around(board, player, limit).await,
        }
    }
}

/// Leaderboard reads: the index when it is built and answering, SQL otherwise.
#[derive(Debug)]
pub struct Leaderboards {
    index: Index,
    db: Db,
    /// Set while a rebuild runs: reads go to SQL meanwhile.
    rebuilding: AtomicBool,
    /// Wakes the projector when the writer has stored a finish.
    pub(crate) wake: tokio::sync::Notify,
}

impl Leaderboards {
    /// Leaderboards over `index`, falling back to `db`.
    pub fn new(index: Index, db: Db) -> Arc<Self> {
        Arc::new(Self {
            index,
            db,
            rebuilding: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// `memory` or `redis`.
    pub fn backend(&self) -> &'static str {
        self.index.name()
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Rebuilds the index from SQL; reads use SQL while it runs.
    ///
    /// # Errors
    /// When SQL or the index fails; the old index (if any) stays in place.
    pub async fn rebuild(&self) -> Result<usize, BoardError> {
        self.rebuilding.store(true, Ordering::Release);
        let result = async {
            let records = self.db.board_records().await?;
            let n = records.len();
            self.index.rebuild(records).await?;
            Ok(n)
        }
        .await;
        self.rebuilding.store(false, Ordering::Release);
        result
    }

    /// Logs an index read that failed (a missing index is expected after a flush: not logged).
    fn fell_back(e: &BoardError) {
        if !matches!(e, BoardError::NotBuilt) {
            warn!(error = %e, "leaderboard read failed: reading from SQL");
        }
    }

    /// A page of a board.
    ///
    /// # Errors
    /// Only when both the index and SQL fail.
    pub async fn page(
        &self,
        board: &BoardKey,
        cursor: &Cursor,
        limit: u32,
    ) -> Result<LeaderboardPage, BoardError> {
        let limit = limit.clamp(1, MAX_PAGE);
        if !self.rebuilding.load(Ordering::Acquire) {
            match self.index.slice(board, cursor, limit).await {
                Ok(s) => return Ok(page(board, &s, self.index.name())),
                Err(e) => Self::fell_back(&e),
            }
        }
        let s = self.db.board_slice(board, cursor, limit).await?;
        Ok(page(board, &s, "sql"))
    }

    /// The entries around a player (the player in the middle), or `None` when the player is
    /// not on the board.
    ///
    /// # Errors
    /// Only when both the index and SQL fail.
    pub async fn around(
        &self,
        board: &BoardKey,
        player: &str,
        limit: u32,
    ) -> Result<Option<LeaderboardPage>, BoardError> {
        let limit = limit.clamp(1, MAX_PAGE);
        if !self.rebuilding.load(Ordering::Acquire) {
            match self.index.around(board, player, limit).await {
                Ok(Some(s)) => return Ok(Some(page(board, &s, self.index.name()))),
                // The index trails SQL by the projector's lag: a run SQL has just recorded may
                // not be in it yet, so SQL says whether the player is on the board.
                Ok(None) => {}
                Err(e) => Self::fell_back(&e),
            }
        }
        let s = self.db.board_around(board, player, limit).await?;
        Ok(s.map(|s| page(board, &s, "sql")))
    }
}

/// The slice `limit` entries around the record at `at` (0-based) in `ranked`.
pub(crate) fn window_around(at: usize, len: usize, limit: u32) -> (usize, usize) {
    let limit = limit as usize;
    let start = at.saturating_sub(limit / 2).min(len.saturating_sub(limit));
    (start, (start + limit).min(len))
}

fn page(board: &BoardKey, s: &Slice, source: &str) -> LeaderboardPage {
    // Ranks are 1-based: the last record shown has rank `first_rank + len - 1`.
    let shown_to = (s.first_rank + s.records.len() as u64).saturating_sub(1);
    let prev = (s.first_rank > 1)
        .then(|| s.records.first().map(|r| encode_cursor(&r.key)))
        .flatten();
    let next = (shown_to < s.total)
        .then(|| s.records.last().map(|r| encode_cursor(&r.key)))
        .flatten();
    LeaderboardPage {
        level: board.level.clone(),
        mode: board.mode,
        window: board.window,
        period: board.period.clone(),
        entries: s
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| r.entry(s.first_rank + i as u64))
            .collect(),
        total: s.total,
        next,
        prev,
        source: source.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_is_rank_order() {
        let p = |s: &str| PlayerId(s.to_owned());
        let better_score = member_key(900.5, 10.0, 5, &p("b"));
        let worse_score = member_key(900.25, 1.0, 1, &p("a"));
        assert!(better_score < worse_score, "higher score first");
        let cheaper = member_key(800.0, 2.0, 9, &p("b"));
        let dearer = member_key(800.0, 2.5, 1, &p("a"));
        assert!(cheaper < dearer, "lower cost breaks a score tie");
        let earlier = member_key(800.0, 2.0, 3, &p("b"));
        let later = member_key(800.0, 2.0, 4, &p("a"));
        assert!(earlier < later, "earlier finish breaks a cost tie");
        assert!(later.ends_with("|a"), "the player closes the key: {later}");
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let k = member_key(1.0, 2.0, 3, &PlayerId("p-1".to_owned()));
        assert_eq!(decode_cursor(&encode_cursor(&k)), Ok(k));
        assert!(decode_cursor("not base64 !").is_err());
        assert!(decode_cursor(&encode_cursor("short|x")).is_err());
    }

    #[test]
    fn periods_are_utc_calendar_periods() {
        // 2026-11-30T12:00:00Z is a Monday in ISO week 49 of 2026, fourth quarter.
        let p = Periods::of(1_796_040_000_000);
        assert_eq!(p.day, "2026-11-30");
        assert_eq!(p.week, "2026-w49");
        assert_eq!(p.season, "2026-q4");
        // 2027-01-01 belongs to ISO week 53 of 2026.
        let p = Periods::of(1_798_761_600_000);
        assert_eq!(
            (p.day.as_str(), p.week.as_str()),
            ("2027-01-01", "2026-w53")
        );
    }

    #[test]
    fn window_around_centres_and_clamps() {
        assert_eq!(window_around(50, 100, 10), (45, 55));
        assert_eq!(window_around(1, 100, 10), (0, 10));
        assert_eq!(window_around(99, 100, 10), (90, 100));
        assert_eq!(window_around(2, 3, 10), (0, 3));
    }
}
