//! Stampede's WebSocket protocol: JSON text frames, one object per message, tagged by `type`.
//! Invariant: every message a client may send decodes into `ClientMsg` or is refused with a
//! documented close code; `PROTOCOL.md` documents each message and code.
//!
//! The action and report payloads are the engine's own types (`stampede_sim`), re-exported here
//! rather than copied: they are the game's vocabulary, and a second copy would drift from the
//! rules that validate it. Everything else on the wire is defined in this crate.
#![warn(missing_docs)]

pub mod api;
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

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`). Every integer
/// on the wire stays at or below it, so the TypeScript types say `number` for `u64`.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

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
        // serde's `deny_unknown_fields` does not reach the field-less variants of an internally
        // tagged enum: `{"type":"start","now":true}` would decode. Those messages are tiny, so
        // they are read a second time to refuse extra fields.
        let bare: Option<&[&str]> = match &msg {
            ClientMsg::LeaveRoom | ClientMsg::Start => Some(&[]),
            ClientMsg::Practice {
                op: PracticeOp::Pause | PracticeOp::Unpause | PracticeOp::Restart,
            } => Some(&["op"]),
            _ => None,
        };
        if let Some(path) = bare {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DecodeError {
                message: e.to_string(),
            })?;
            let object = path
                .iter()
                .try_fold(&value, |v, k| v.get(k))
                .and_then(serde_json::Value::as_object);
            if object.is_none_or(|o| o.len() != 1) {
                return Err(DecodeError {
                    message: "unknown field: this message has no fields besides its tag".to_owned(),
                });
            }
        }
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
