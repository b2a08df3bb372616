//! WebSocket close codes the server uses (RELIABILITY.md), each with what the client should do.

/// Normal closure: nothing to do.
pub const NORMAL: u16 = 1000;
/// Protocol error (for example a binary frame): do not resend the payload.
pub const PROTOCOL_ERROR: u16 = 1002;
/// Invalid UTF-8: do not resend the payload.
pub const INVALID_UTF8: u16 = 1007;
/// Message too big (over 16 KiB), sent explicitly: fix the client.
pub const TOO_BIG: u16 = 1009;
/// Internal error (the room was aborted): retry with backoff.
pub const INTERNAL: u16 = 1011;
/// Server restarting: resume, with jitter.
pub const RESTARTING: u16 = 4001;
/// The message does not decode or violates the schema: do not retry it.
pub const BAD_MESSAGE: u16 = 4002;
/// Not authenticated (no `hello` in time, or a message before it): authenticate.
pub const NOT_AUTHENTICATED: u16 = 4003;
/// Bad or revoked token: start a new session.
pub const BAD_TOKEN: u16 = 4004;
/// Protocol version not supported: update the client.
pub const VERSION_MISMATCH: u16 = 4005;
/// Rate limited: retry after a backoff.
pub const RATE_LIMITED: u16 = 4008;
/// Slow consumer or heartbeat timeout: resume.
pub const SLOW_CONSUMER: u16 = 4009;
/// Resume window expired: join again (full snapshot).
pub const RESUME_EXPIRED: u16 = 4010;
/// Storage unavailable: a competitive attempt cannot start; retry later (practice works).
pub const STORAGE_UNAVAILABLE: u16 = 4011;
