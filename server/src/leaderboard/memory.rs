//! The in-process leaderboard index: per board, records ordered by their member key, and each
//! player's current key. Correct for one server instance only (set `REDIS_URL` to scale out).
//! Invariant: a board holds at most one record per player, the best by key order.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{BoardError, BoardKey, Cursor, Record, Slice, window_around};

#[derive(Debug, Default)]
struct Board {
    by_key: BTreeMap<String, Record>,
    key_of: BTreeMap<String, String>,
}

impl Board {
    /// Keeps the better of the player's current record and `r`.
    fn offer(&mut self, r: &Record) {
        if let Some(old) = self.key_of.get(&r.player) {
            if *old <= r.key {
                return;
            }
            self.by_key.remove(old);
        }
        self.key_of.insert(r.player.clone(), r.key.clone());
        self.by_key.insert(r.key.clone(), r.clone());
    }

    fn rank_of(&self, key: &str) -> u64 {
        // O(n) in the board's size; fine for one instance's boards, and the reason the
        // Redis index (O(log n) ranks) is the one to run at scale.
        self.by_key
            .range::<str, _>((Unbounded, Excluded(key)))
            .count() as u64
            + 1
    }
}

/// In-process boards behind a std `RwLock`: every access is short and never held across an
/// `.await`, so an async lock would only add cost.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    boards: RwLock<BTreeMap<BoardKey, Board>>,
    built: AtomicBool,
}

impl MemoryIndex {
    pub(super) fn built(&self) -> bool {
        self.built.load(Ordering::Acquire)
    }

    pub(super) fn apply(&self, records: &[(BoardKey, Record)]) {
        let mut boards = self.boards.write().unwrap_or_else(|p| p.into_inner());
        for (board, r) in records {
            boards.entry(board.clone()).or_default().offer(r);
        }
    }

    pub(super) fn rebuild(&self, records: &[(BoardKey, Record)]) {
        let mut fresh: BTreeMap<BoardKey, Board> = BTreeMap::new();
        for (board, r) in records {
            fresh.entry(board.clone()).or_default().offer(r);
        }
        *self.boards.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.built.store(true, Ordering::Release);
    }

    pub(super) fn slice(
        &self,
        board: &BoardKey,
        cursor: &Cursor,
        limit: u32,
    ) -> Result<Slice, BoardError> {
        if !self.built() {
            return Err(BoardError::NotBuilt);
        }
        let boards = self.boards.read().unwrap_or_else(|p| p.into_inner());
        let Some(b) = boards.get(board) else {
            return Ok(Slice {
                first_rank: 1,
                ..Slice::default()
            });
        };
        let total = b.by_key.len() as u64;
        let limit = limit as usize;
        let records: Vec<Record> = match cursor {
            Cursor::Top => b.by_key.values().take(limit).cloned().collect(),
            Cursor::After(k) => b
                .by_key
                .range::<str, _>((Excluded(k.as_str()), Unbounded))
                .take(limit)
                .map(|(_, r)| r.clone())
                .collect(),
            Cursor::Before(k) => {
                let mut v: Vec<Record> = b
                    .by_key
                    .range::<str, _>((Unbounded, Excluded(k.as_str())))
                    .rev()
                    .take(limit)
                    .map(|(_, r)| r.clone())
                    .collect();
                v.reverse();
                v
            }
        };
        let first_rank = records.first().map_or(1, |r| b.rank_of(&r.key));
        Ok(Slice {
            first_rank,
            records,
            total,
        })
    }

    pub(super) fn around(
        &self,
        board: &BoardKey,
        player: &str,
        limit: u32,
    ) -> Result<Option<Slice>, BoardError> {
        if !self.built() {
            return Err(BoardError::NotBuilt);
        }
        let boards = self.boards.read().unwrap_or_else(|p| p.into_inner());
        let Some(b) = boards.get(board) else {
            return Ok(None);
        };
        let Some(key) = b.key_of.get(player) else {
            return Ok(None);
        };
        let at = (b.rank_of(key) - 1) as usize;
        let (start, end) = window_around(at, b.by_key.len(), limit);
        Ok(Some(Slice {
            first_rank: start as u64 + 1,
            records: b
                .by_key
                .values()
                .skip(start)
                .take(end - start)
                .cloned()
                .collect(),
            total: b.by_key.len() as u64,
        }))
    }
}
