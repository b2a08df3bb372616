//! The JSON bodies of the HTTP API (`/api/v1`) that clients read: receipts, leaderboards,
//! players. Invariant: these are the only shapes the API returns for them; the TypeScript
//! client imports them generated, never copied.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use stampede_sim::report::SystemMetrics;

use crate::{Action, Mode, PlayerId, RunResult};

/// Receipt format version; a verifier refuses versions it does not know.
pub const RECEIPT_VERSION: u32 = 1;

/// The signed record of one finished attempt. The signature covers the canonical encoding:
/// this struct serialized by `serde_json` in field order with `signature` absent. A receipt is
/// valid only in exactly that encoding (plus the signature), so changing any byte fails it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// `RECEIPT_VERSION` at signing.
    pub version: u32,
    /// Receipt id.
    pub id: String,
    /// The attempt it records.
    pub attempt_id: String,
    /// Level id.
    pub level: String,
    /// The level file's version field.
    pub level_version: u32,
    /// SHA-256 of the level file, hex: re-simulation needs the very same file.
    pub level_hash: String,
    /// `stampede_sim::ENGINE_VERSION` that simulated it.
    pub engine: String,
    /// Simulation seed.
    pub seed: u64,
    /// Room mode.
    pub mode: Mode,
    /// Who played.
    pub players: Vec<ReceiptPlayer>,
    /// Every accepted action, in the order the room applied them.
    pub actions: Vec<ReceiptAction>,
    /// The result the server simulated.
    pub result: RunResult,
    /// When the clock started, unix ms.
    pub started_at: u64,
    /// When the run ended, unix ms.
    pub finished_at: u64,
    /// Which signing key: the first 16 hex digits of SHA-256 of the public key.
    pub key_id: String,
    /// Ed25519 signature of the canonical encoding, base64 (standard alphabet, padded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub signature: Option<String>,
}

/// A player named in a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ReceiptPlayer {
    /// Player id.
    pub id: PlayerId,
    /// Display name at the time.
    pub name: String,
}

/// One accepted action: the tick it applied before, who sent it, what it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ReceiptAction {
    /// Tick.
    pub tick: u64,
    /// Who.
    pub player: PlayerId,
    /// What.
    pub action: Action,
}

/// What verifying a receipt found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Verification {
    /// Signature valid and the re-simulation gave the same result.
    pub valid: bool,
    /// Why not, for a person, when not valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
    /// The re-simulated result, when the receipt got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub resimulated: Option<RunResult>,
}

/// The receipt signing key, for verifying receipts offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PublicKey {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, base64.
    pub key: String,
    /// As in receipts.
    pub key_id: String,
}

/// A leaderboard's time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Since the beginning.
    All,
    /// A calendar quarter (UTC), e.g. `2026-q4`.
    Season,
    /// An ISO week (UTC), e.g. `2026-w48`.
    Week,
    /// A day (UTC), e.g. `2026-11-30`.
    Day,
}

/// One row of a leaderboard: a player's best passing attempt in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LeaderboardEntry {
    /// 1-based rank.
    pub rank: u64,
    /// Player.
    pub player: PlayerId,
    /// Display name at the time of the attempt.
    pub name: String,
    /// Score out of 1000.
    pub score: f64,
    /// Stars, 1–3.
    pub stars: u8,
    /// Mean cost per hour over the run (lower breaks ties).
    pub cost_per_hour: f64,
    /// When the attempt finished, unix ms (earlier breaks ties).
    pub finished_at: u64,
    /// The attempt.
    pub attempt_id: String,
    /// Its receipt: `GET /api/v1/receipts/{receipt_id}`.
    pub receipt_id: String,
}

/// A page of a leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LeaderboardPage {
    /// Level id.
    pub level: String,
    /// Mode.
    pub mode: Mode,
    /// Window.
    pub window: Window,
    /// The period within the window (`all`, `2026-q4`, `2026-w48`, `2026-11-30`).
    pub period: String,
    /// Rows, best first.
    pub entries: Vec<LeaderboardEntry>,
    /// Players on the board.
    pub total: u64,
    /// Cursor for the page after this one (`?after=`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub next: Option<String>,
    /// Cursor for the page before this one (`?before=`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub prev: Option<String>,
    /// Which index answered: `redis`, `memory`, or `sql` (the fallback while the index is
    /// missing or rebuilding).
    pub source: String,
}

/// A player's standing on one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LevelProgress {
    /// Level id.
    pub level: String,
    /// Passed at least once.
    pub passed: bool,
    /// Most stars earned.
    pub stars: u8,
    /// Best score among finished attempts.
    pub best_score: f64,
    /// Finished attempts.
    pub attempts: u64,
}

/// A player's progress through the campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PlayerProgress {
    /// Player.
    pub player: PlayerId,
    /// Display name.
    pub name: String,
    /// Levels with at least one finished attempt, in id order.
    pub levels: Vec<LevelProgress>,
}

/// An attempt as the history lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AttemptSummary {
    /// Attempt id.
    pub id: String,
    /// Level id.
    pub level: String,
    /// Mode.
    pub mode: Mode,
    /// Seed.
    pub seed: u64,
    /// `running`, `finished` or `aborted`.
    pub status: String,
    /// Unix ms.
    pub started_at: u64,
    /// Unix ms, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub finished_at: Option<u64>,
    /// Score, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub score: Option<f64>,
    /// Stars, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub stars: Option<u8>,
    /// Passed, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub passed: Option<bool>,
    /// The receipt, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub receipt_id: Option<String>,
}

/// A page of a player's attempts, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AttemptPage {
    /// Attempts.
    pub attempts: Vec<AttemptSummary>,
    /// Cursor for older attempts (`?before=`), when there are more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub next: Option<String>,
}

/// A receipt re-simulated on the server: its system metrics every `every` ticks, for replaying
/// a run's curves (and drawing the best run as a ghost) without playing it again live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Replay {
    /// The receipt replayed.
    pub receipt_id: String,
    /// Level id.
    pub level: String,
    /// Seed.
    pub seed: u64,
    /// Ticks per simulated second.
    pub tick_hz: u32,
    /// Ticks in the whole level.
    pub total_ticks: u64,
    /// A frame every this many ticks (and always the last tick).
    pub every: u64,
    /// The frames, in tick order.
    pub frames: Vec<ReplayFrame>,
    /// The re-simulated result.
    pub result: RunResult,
    /// Whether it equals the result the receipt records.
    pub matches: bool,
}

/// One sampled tick of a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReplayFrame {
    /// Tick.
    pub tick: u64,
    /// Simulated seconds at the end of the tick.
    pub t: f64,
    /// System metrics at that tick.
    pub system: SystemMetrics,
}
