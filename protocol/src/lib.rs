//! Stampede wire types. Only serde; no IO. The room server (a later issue) fills this crate in;
//! today it carries the protocol version that every other part agrees on.
#![warn(missing_docs)]

/// The WebSocket protocol version exchanged in `hello` / `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;
