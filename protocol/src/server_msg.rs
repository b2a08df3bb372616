//! Server → client messages. Invariant: events carry a per-room `seq` with no gaps; metrics
//! frames carry a `tick` and may be skipped (latest wins) for a slow client.

use serde::{Deserialize, Serialize};
use stampede_sim::arch::Architecture;
use stampede_sim::report::{Alert, Event as SimEvent, RunResult, TickReport};
use stampede_sim::{Action, Refusal};
use ts_rs::TS;

use crate::client_msg::{Mode, PracticeOp};
use crate::ids::{PlayerId, RoomId};

/// What the server sends.
// Messages live for one decode or encode; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(optional_fields)]
pub enum ServerMsg {
    /// Answer to `hello`.
    Welcome {
        /// The server's protocol version.
        protocol: u32,
        /// Who you are.
        player: PlayerId,
        /// Your display name.
        name: String,
        /// Server wall clock, ms since the Unix epoch.
        server_time_ms: u64,
    },
    /// The whole room: sent on join, on resume past the history, and after a resync.
    RoomSnapshot {
        /// The room.
        room: Box<RoomSnapshot>,
    },
    /// A numbered room event; `seq` rises by one per event in a room.
    Event {
        /// Sequence number.
        seq: u64,
        /// What happened.
        event: RoomEvent,
    },
    /// Live metrics of one simulation (latest wins; alerts and events come as `event`s).
    Metrics {
        /// Whose simulation (race rooms; absent in solo and team rooms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        world: Option<PlayerId>,
        /// The tick report, without its alerts and events.
        report: Box<TickReport>,
    },
    /// Answer to `action`.
    ActionResult {
        /// The request id.
        req_id: u64,
        /// Whether it applied.
        ok: bool,
        /// Why not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<Refusal>,
        /// The tick it applied at (before that tick was simulated).
        tick: u64,
    },
    /// A simulation reached its end.
    AttemptFinished {
        /// The attempt's id.
        attempt_id: String,
        /// Whose simulation (race rooms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        world: Option<PlayerId>,
        /// The signed receipt (`GET /api/v1/receipts/{id}`); absent in practice rooms, which
        /// are not ranked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        receipt_id: Option<String>,
        /// The judged result.
        result: RunResult,
    },
    /// Live race standings.
    Standings {
        /// Best first.
        entries: Vec<Standing>,
    },
    /// Something the client asked for was refused; the connection stays open.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// What is wrong, for a person.
        message: String,
        /// The request it answers, when it was an `action`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<u64>,
    },
    /// Answer to `ping`.
    Pong {
        /// Echoed.
        nonce: u64,
        /// Server wall clock, ms since the Unix epoch.
        server_time_ms: u64,
    },
}

/// Stable error codes of `error` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The message needs a room and the connection is in none.
    NotInRoom,
    /// The connection is already in a room.
    AlreadyInRoom,
    /// No such room or join code.
    RoomNotFound,
    /// The room is full.
    RoomFull,
    /// No such level.
    LevelNotFound,
    /// Your role may not do that.
    NotAllowed,
    /// Not in this phase of the room.
    WrongPhase,
    /// The room's input queue is full; the input was dropped.
    Busy,
    /// A request id that is not above the last one: ignored.
    StaleRequest,
    /// A practice control in a ranked room, or a bad fault index.
    BadRequest,
    /// Too many chat lines.
    RateLimited,
    /// Storage cannot take a ranked attempt now (RELIABILITY.md's 4011 condition), or the
    /// server records as many ranked runs as it allows: the start is refused, the connection
    /// stays; practice rooms still work.
    StorageUnavailable,
}

/// A room as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RoomSnapshot {
    /// Id.
    pub id: RoomId,
    /// Short join code.
    pub code: String,
    /// Level id.
    pub level: String,
    /// Level title.
    pub title: String,
    /// Mode.
    pub mode: Mode,
    /// Whether practice controls are on (and the room unranked).
    pub practice: bool,
    /// Phase.
    pub phase: Phase,
    /// Seed.
    pub seed: u64,
    /// Ticks per simulated second.
    pub tick_hz: u32,
    /// Ticks in a full run.
    pub total_ticks: u64,
    /// Clock speed (1, 2 or 4; × the server's clock rate).
    pub speed: u32,
    /// Whether the clock is paused.
    pub paused: bool,
    /// Members.
    pub members: Vec<Member>,
    /// The simulations: one (solo, team) or one per racer.
    pub worlds: Vec<WorldView>,
    /// Recent chat.
    pub chat: Vec<ChatLine>,
    /// Faults a practice room may inject, described.
    pub injectable: Vec<String>,
    /// The last event `seq` included in this snapshot.
    pub last_seq: u64,
}

/// A room phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for the owner to start.
    Lobby,
    /// About to start.
    Countdown,
    /// The clock runs.
    Running,
    /// Every simulation has ended.
    Finished,
}

/// A member's role in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Created the room: a player who may also start it.
    Owner,
    /// Plays.
    Player,
    /// Watches.
    Spectator,
    /// Watches and may use practice controls.
    Coach,
}

/// A member of a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Member {
    /// Player id.
    pub player: PlayerId,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Whether a connection is attached (a dropped player's seat is held for a while).
    pub connected: bool,
}

/// One simulation in a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(optional_fields)]
pub struct WorldView {
    /// Whose (race rooms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<PlayerId>,
    /// The next tick to simulate.
    pub tick: u64,
    /// The architecture now.
    pub architecture: Architecture,
    /// The last tick's report, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<TickReport>>,
    /// The result, once ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<RunResult>,
    /// Alert keys firing now.
    pub alerts: Vec<String>,
}

/// A chat line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChatLine {
    /// Who.
    pub player: PlayerId,
    /// Their name.
    pub name: String,
    /// What.
    pub text: String,
}

/// A race standing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(optional_fields)]
pub struct Standing {
    /// Who.
    pub player: PlayerId,
    /// Their name.
    pub name: String,
    /// Share of ticks so far meeting the objectives.
    pub slo_compliance: f64,
    /// Goodput ÷ offered so far.
    pub availability: f64,
    /// Cost per hour now.
    pub cost_per_hour: f64,
    /// The final result, once their run has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<RunResult>,
}

/// Numbered room events.
// Messages live for one decode or encode; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(optional_fields)]
pub enum RoomEvent {
    /// Someone joined.
    MemberJoined {
        /// Who.
        member: Member,
    },
    /// Someone left (or their held seat expired).
    MemberLeft {
        /// Who.
        player: PlayerId,
    },
    /// A member's connection dropped or came back.
    MemberConnection {
        /// Who.
        player: PlayerId,
        /// Attached now.
        connected: bool,
    },
    /// An action applied to a simulation.
    ArchitectureChanged {
        /// Who acted.
        player: PlayerId,
        /// Whose simulation (race rooms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        world: Option<PlayerId>,
        /// The action.
        action: Action,
        /// The tick it applied at.
        tick: u64,
    },
    /// The room changed phase.
    PhaseChanged {
        /// New phase.
        phase: Phase,
    },
    /// An alert started or stopped firing.
    Alert {
        /// Whose simulation (race rooms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        world: Option<PlayerId>,
        /// Tick.
        tick: u64,
        /// The alert.
        alert: Alert,
    },
    /// Something happened in a simulation (a fault, a failover, a breaker, the end).
    Sim {
        /// Whose simulation (race rooms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        world: Option<PlayerId>,
        /// Tick.
        tick: u64,
        /// What.
        event: SimEvent,
    },
    /// A chat line.
    Chat {
        /// The line.
        line: ChatLine,
    },
    /// A practice control was used.
    Practice {
        /// Who.
        player: PlayerId,
        /// What.
        op: PracticeOp,
    },
}
