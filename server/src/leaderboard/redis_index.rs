//! The Redis leaderboard index: one lexicographic sorted set per board (all scores 0, members
//! are `member_key`s, so ZRANGE BYLEX gives keyset pages and ZRANK gives ranks in O(log n)),
//! plus a hash of each player's current key and one of their record.
//! Invariant: boards live under a generation (`{prefix}lb:{gen}:…`); a rebuild fills a new
//! generation and then switches `{prefix}lb:gen` to it in one SET, so readers never see a half
//! built index, and a flushed Redis (no `lb:gen`) reads as "not built".

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::{BoardError, BoardKey, Cursor, Record, Slice};

/// Longest a Redis round trip may take (RELIABILITY.md: ~500 ms).
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Commands per pipeline while rebuilding.
const BATCH: usize = 500;

/// Keeps a player's best key: replaces the old member only when the new key sorts first.
/// Compares bytes by hand: Lua's `<` on strings follows the server's locale (`strcoll`), and
/// the order that matters is the sorted set's, which is bytewise.
const OFFER: &str = r"
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  local a, b = ARGV[2], old
  local n = math.min(#a, #b)
  local better = #a < #b
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then better = x < y; break end
  end
  if a == b or not better then return 0 end
  redis.call('ZREM', KEYS[1], old)
end
redis.call('ZADD', KEYS[1], 0, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 1
";

/// A page in one round trip: `false` when the index is not built, else
/// `{rank of the first, board size, {records}}`. Keys are derived from the generation inside
/// the script (fine on a single Redis; a cluster would need hash tags).
const PAGE: &str = r"
local gen = redis.call('GET', KEYS[1])
if not gen then return false end
local base = ARGV[1] .. 'lb:' .. gen .. ':' .. ARGV[2]
local z, r = base .. ':z', base .. ':r'
local how, cursor, limit = ARGV[3], ARGV[4], tonumber(ARGV[5])
local members
if how == 'top' then
  members = redis.call('ZRANGE', z, 0, limit - 1)
elseif how == 'after' then
  members = redis.call('ZRANGE', z, '(' .. cursor, '+', 'BYLEX', 'LIMIT', 0, limit)
elseif how == 'before' then
  local rev = redis.call('ZRANGE', z, '(' .. cursor, '-', 'BYLEX', 'REV', 'LIMIT', 0, limit)
  members = {}
  for i = #rev, 1, -1 do members[#members + 1] = rev[i] end
else
  local key = redis.call('HGET', base .. ':k', cursor)
  if not key then return {0, 0, {}} end
  local at = redis.call('ZRANK', z, key)
  local total = redis.call('ZCARD', z)
  local start = math.max(0, math.min(at - math.floor(limit / 2), total - limit))
  members = redis.call('ZRANGE', z, start, math.min(start + limit, total) - 1)
end
local total = redis.call('ZCARD', z)
if #members == 0 then return {1, total, {}} end
local players = {}
for i, m in ipairs(members) do
  players[i] = string.sub(m, string.find(m, '|', 1, true) + 1)
end
return {redis.call('ZRANK', z, members[1]) + 1, total, redis.call('HMGET', r, unpack(players))}
";

/// Leaderboards in Redis.
pub struct RedisIndex {
    conn: ConnectionManager,
    prefix: String,
    offer: Script,
    page: Script,
}

impl std::fmt::Debug for RedisIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisIndex")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn err(e: impl std::fmt::Display) -> BoardError {
    BoardError::Index(e.to_string())
}

async fn bounded<T>(call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, BoardError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(r) => r.map_err(err),
        Err(_) => Err(BoardError::Index(format!(
            "redis did not answer within {CALL_TIMEOUT:?}"
        ))),
    }
}

struct Keys {
    zset: String,
    keys: String,
    records: String,
}

impl RedisIndex {
    /// An index at `url` whose keys start with `prefix`. Connects lazily: a server starts
    /// while Redis is down, and reads fall back to SQL until it answers.
    ///
    /// # Errors
    /// When the URL is not a Redis URL.
    pub fn new(url: &str, prefix: &str) -> Result<Self, BoardError> {
        let client = redis::Client::open(url).map_err(err)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(err)?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            offer: Script::new(OFFER),
            page: Script::new(PAGE),
        })
    }

    fn gen_key(&self) -> String {
        format!("{}lb:gen", self.prefix)
    }

    fn keys(&self, generation: u64, board: &BoardKey) -> Keys {
        let base = format!("{}lb:{generation}:{}", self.prefix, board.name());
        Keys {
            zset: format!("{base}:z"),
            keys: format!("{base}:k"),
            records: format!("{base}:r"),
        }
    }

    async fn generation(&self) -> Result<Option<u64>, BoardError> {
        let mut c = self.conn.clone();
        bounded(c.get::<_, Option<u64>>(self.gen_key())).await
    }

    async fn current(&self) -> Result<u64, BoardError> {
        self.generation().await?.ok_or(BoardError::NotBuilt)
    }

    pub(super) async fn built(&self) -> Result<bool, BoardError> {
        Ok(self.generation().await?.is_some())
    }

    pub(super) async fn apply(&self, records: &[(BoardKey, Record)]) -> Result<(), BoardError> {
        let generation = self.current().await?;
        let mut c = self.conn.clone();
        for (board, r) in records {
            let k = self.keys(generation, board);
            let json = serde_json::to_string(r).map_err(err)?;
            let _: i64 = bounded(
                self.offer
                    .key(&k.zset)
                    .key(&k.keys)
                    .key(&k.records)
                    .arg(&r.player)
                    .arg(&r.key)
                    .arg(json)
                    .invoke_async(&mut c),
            )
            .await?;
        }
        Ok(())
    }

    pub(super) async fn rebuild(&self, records: Vec<(BoardKey, Record)>) -> Result<(), BoardError> {
        // Best per (board, player), computed here so the new generation is written blind.
        let mut best: BTreeMap<(BoardKey, String), Record> = BTreeMap::new();
        for (board, r) in records {
            let slot = best.entry((board, r.player.clone()));
            match slot {
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    if r.key < o.get().key {
                        o.insert(r);
                    }
                }
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(r);
                }
            }
        }
        let mut c = self.conn.clone();
        let old = self.generation().await?;
        let generation: u64 = bounded(c.incr(format!("{}lb:seq", self.prefix), 1)).await?;
        let mut pipe = redis::pipe();
        let mut queued = 0;
        for ((board, player), r) in &best {
            let k = self.keys(generation, board);
            let json = serde_json::to_string(r).map_err(err)?;
            pipe.zadd(&k.zset, &r.key, 0)
                .ignore()
                .hset(&k.keys, player, &r.key)
                .ignore()
                .hset(&k.records, player, json)
                .ignore();
            queued += 3;
            if queued >= BATCH {
                bounded(pipe.query_async::<()>(&mut c)).await?;
                pipe = redis::pipe();
                queued = 0;
            }
        }
        if queued > 0 {
            bounded(pipe.query_async::<()>(&mut c)).await?;
        }
        let _: () = bounded(c.set(self.gen_key(), generation)).await?;
        if let Some(old) = old.filter(|&o| o != generation) {
            self.drop_generation(old).await?;
        }
        Ok(())
    }

    /// Deletes an old generation's keys (after the switch, so no reader uses them).
    async fn drop_generation(&self, generation: u64) -> Result<(), BoardError> {
        let mut c = self.conn.clone();
        let pattern = format!("{}lb:{generation}:*", self.prefix);
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = bounded(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(BATCH)
                    .query_async(&mut c),
            )
            .await?;
            if !keys.is_empty() {
                let _: () = bounded(redis::cmd("UNLINK").arg(&keys).query_async(&mut c)).await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Runs the page script: `None` when the index is not built.
    async fn read(
        &self,
        board: &BoardKey,
        how: &str,
        cursor: &str,
        limit: u32,
    ) -> Result<Option<Slice>, BoardError> {
        let mut c = self.conn.clone();
        let reply: Option<(u64, u64, Vec<Option<String>>)> = bounded(
            self.page
                .key(self.gen_key())
                .arg(&self.prefix)
                .arg(board.name())
                .arg(how)
                .arg(cursor)
                .arg(limit)
                .invoke_async(&mut c),
        )
        .await?;
        let Some((first_rank, total, json)) = reply else {
            return Err(BoardError::NotBuilt);
        };
        if first_rank == 0 {
            return Ok(None);
        }
        let records = json
            .into_iter()
            .flatten()
            .map(|j| serde_json::from_str::<Record>(&j).map_err(err))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Slice {
            first_rank,
            records,
            total,
        }))
    }

    pub(super) async fn slice(
        &self,
        board: &BoardKey,
        cursor: &Cursor,
        limit: u32,
    ) -> Result<Slice, BoardError> {
        let (how, key) = match cursor {
            Cursor::Top => ("top", ""),
            Cursor::After(k) => ("after", k.as_str()),
            Cursor::Before(k) => ("before", k.as_str()),
        };
        Ok(self.read(board, how, key, limit).await?.unwrap_or_default())
    }

    pub(super) async fn around(
        &self,
        board: &BoardKey,
        player: &str,
        limit: u32,
    ) -> Result<Option<Slice>, BoardError> {
        self.read(board, "around", player, limit).await
    }
}
