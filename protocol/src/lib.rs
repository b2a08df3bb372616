//! Stampede's WebSocket protocol: JSON text frames, one object per message, tagged by `type`.
//! Invariant: every message a client may send decodes into `ClientMsg` or is refused with a
//! documented close code; `PROTOCOL.md` documents each message and code.
//!
//! The action and report payloads are the engine's own types (`stampede_sim`), re-exported here
//! rather than copied: they are the game's vocabulary, and a second copy would drift from the
//! rules that validate it. Everything else on the wire is defined in this crate.
#![warn(missing_docs)]

mod client_msg;
pub mod close_code;
mod ids;
mod server_msg;

pub use client_msg::{ClientMsg, JoinRole, Mode, PracticeOp};
pub use ids::{PlayerId, RoomId};
pub use server_msg::{
    ChatLine, ErrorCode, Member, Phase, Role, RoomEvent, RoomSnapshot, ServerMsg, Standing,
    WorldView,
};
pub use stampede_sim::report::{Alert, Event as SimEvent, RunResult, TickReport};
pub use stampede_sim::{Action, Refusal, arch::Architecture};

/// The protocol version exchanged in `hello` / `welcome`; bumped on any breaking change.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest inbound message, bytes (RELIABILITY.md: 16 KiB).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// Longest chat line, characters.
pub const MAX_CHAT_CHARS: usize = 500;

/// Why a frame did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What was wrong, for the client (no internals).
    pub message: String,
}

impl ClientMsg {
    /// Decodes one text frame.
    ///
    /// # Errors
    /// A `DecodeError` saying what is wrong: not JSON, no or unknown `type`, or a field of the
    /// wrong type or out of bounds.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let msg: ClientMsg = serde_json::from_str(text).map_err(|e| DecodeError {
            message: e.to_string(),
        })?;
        msg.check().map_err(|m| DecodeError { message: m })?;
        Ok(msg)
    }
}

impl ServerMsg {
    /// Encodes to the JSON text sent on the socket.
    pub fn encode(&self) -> String {
        // Serializing these types cannot fail: no maps with non-string keys, no custom impls.
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("ServerMsg serializes: {e}"))
    }
}
