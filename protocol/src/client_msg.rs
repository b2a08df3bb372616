//! Client → server messages. Invariant: `check` bounds every string and number a client sends.

use serde::{Deserialize, Serialize};
use stampede_sim::Action;
use ts_rs::TS;

use crate::ids::RoomId;

/// What a client sends.
// Messages live for one decode or encode; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[ts(optional_fields)]
pub enum ClientMsg {
    /// First message on every connection.
    Hello {
        /// The client's `PROTOCOL_VERSION`.
        protocol: u32,
        /// The guest session token from `POST /api/v1/sessions`.
        token: String,
    },
    /// Create a room and join it as its owner.
    CreateRoom {
        /// Level id.
        level: String,
        /// Solo, race or team.
        mode: Mode,
        /// Seed (default: the level's, so a race or a daily is the same for everyone); at most
        /// 2^53 − 1, so a JavaScript number holds it exactly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
        /// A practice room: pause, speed, restart and fault injection allowed, not ranked.
        #[serde(default)]
        #[ts(as = "Option<_>", optional)]
        practice: bool,
    },
    /// Join a room by id or by its short code.
    JoinRoom {
        /// Room id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<RoomId>,
        /// Join code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// Player (default), spectator or coach.
        #[serde(default)]
        #[ts(as = "Option<_>", optional)]
        role: JoinRole,
    },
    /// Re-attach to a room after a dropped connection.
    Resume {
        /// Room id.
        room: RoomId,
        /// The last event `seq` the client saw.
        last_seq: u64,
    },
    /// Leave the current room.
    LeaveRoom,
    /// Start the run (owner, in the lobby).
    Start,
    /// Change the architecture.
    Action {
        /// Client-chosen id, echoed in `action_result`. Must increase for as long as you are a
        /// member of the room, across resumes (the room remembers the last one); a repeat is
        /// answered `stale_request` and ignored.
        req_id: u64,
        /// The action.
        action: Action,
    },
    /// A chat line to the room.
    Chat {
        /// Text, at most `MAX_CHAT_CHARS` characters.
        text: String,
    },
    /// A practice-room control (owner or coach).
    Practice {
        /// What to do.
        op: PracticeOp,
    },
    /// Application-level ping (browsers cannot see protocol pings).
    Ping {
        /// Echoed in `pong`.
        #[serde(default)]
        #[ts(as = "Option<_>", optional)]
        nonce: u64,
    },
}

/// Room modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One player, ranked.
    Solo,
    /// Several players, same level and seed, each with their own simulation.
    Race,
    /// One shared architecture that every player may change.
    Team,
}

/// The role asked for when joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JoinRole {
    /// Plays (changes the architecture).
    #[default]
    Player,
    /// Watches.
    Spectator,
    /// Watches and may use practice controls, never the architecture.
    Coach,
}

/// Practice-room controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum PracticeOp {
    /// Stop the clock.
    Pause,
    /// Start it again.
    Unpause,
    /// Run the clock 1, 2 or 4 times faster.
    Speed {
        /// 1, 2 or 4.
        factor: u32,
    },
    /// Back to the start, same seed.
    Restart,
    /// Inject one of the level's injectable faults now.
    InjectFault {
        /// Index into the snapshot's `injectable` list.
        index: u32,
    },
}

impl ClientMsg {
    /// Bounds on what decoding alone cannot express.
    pub(crate) fn check(&self) -> Result<(), String> {
        let short = |what: &str, s: &str, max: usize| {
            if s.is_empty() || s.len() > max {
                Err(format!("{what} must be 1 to {max} bytes"))
            } else {
                Ok(())
            }
        };
        match self {
            ClientMsg::Hello { token, .. } => short("token", token, 128),
            ClientMsg::CreateRoom {
                seed: Some(seed), ..
            } if *seed > crate::MAX_SAFE_INTEGER => {
                Err("seed must be at most 2^53 - 1 (a JavaScript number)".to_owned())
            }
            ClientMsg::CreateRoom { level, .. } => short("level", level, 64),
            ClientMsg::JoinRoom { room, code, .. } => match (room, code) {
                (Some(r), None) => short("room", &r.0, 64),
                (None, Some(c)) => short("code", c, 16),
                _ => Err("join_room needs exactly one of `room` and `code`".to_owned()),
            },
            ClientMsg::Resume { room, .. } => short("room", &room.0, 64),
            ClientMsg::Chat { text }
                if text.trim().is_empty() || text.chars().count() > crate::MAX_CHAT_CHARS =>
            {
                Err(format!(
                    "chat text must be 1 to {} characters",
                    crate::MAX_CHAT_CHARS
                ))
            }
            ClientMsg::Practice {
                op: PracticeOp::Speed { factor },
            } if ![1, 2, 4].contains(factor) => Err("speed factor must be 1, 2 or 4".to_owned()),
            _ => Ok(()),
        }
    }
}
