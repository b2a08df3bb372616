//! WebSocket close codes the server uses (RELIABILITY.md), each with what the client should do.

/// Normal closure: nothing to do.
pub const NORMAL: u16 = 1000;
/// Going away (RELIABILITY.md lists it; this server sends 4001 when it restarts, so a 1001
/// comes from something in between, such as a proxy): nothing to do.
pub const GOING_AWAY: u16 = 1001;
/// WebSocket protocol error (bad framing, as the transport sees it): do not resend the payload.
pub const PROTOCOL_ERROR: u16 = 1002;
/// Invalid UTF-8: do not resend the payload.
pub const INVALID_UTF8: u16 = 1007;
/// Message too big (over 16 KiB), sent explicitly: fix the client.
pub const TOO_BIG: u16 = 1009;
/// Internal error (the room was aborted): retry with backoff.
pub const INTERNAL: u16 = 1011;
/// Server restarting: resume, with jitter.
pub const RESTARTING: u16 = 4001;
/// The message does not decode or violates the schema (a binary frame, a second `hello`, a
/// field out of bounds): do not retry it.
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

/// Every code above with its constant's name, in numeric order (for generated client constants
/// and for checking that `PROTOCOL.md` documents each one).
pub const ALL: [(&str, u16); 15] = [
    ("NORMAL", NORMAL),
    ("GOING_AWAY", GOING_AWAY),
    ("PROTOCOL_ERROR", PROTOCOL_ERROR),
    ("INVALID_UTF8", INVALID_UTF8),
    ("TOO_BIG", TOO_BIG),
    ("INTERNAL", INTERNAL),
    ("RESTARTING", RESTARTING),
    ("BAD_MESSAGE", BAD_MESSAGE),
    ("NOT_AUTHENTICATED", NOT_AUTHENTICATED),
    ("BAD_TOKEN", BAD_TOKEN),
    ("VERSION_MISMATCH", VERSION_MISMATCH),
    ("RATE_LIMITED", RATE_LIMITED),
    ("SLOW_CONSUMER", SLOW_CONSUMER),
    ("RESUME_EXPIRED", RESUME_EXPIRED),
    ("STORAGE_UNAVAILABLE", STORAGE_UNAVAILABLE),
];

#[cfg(test)]
mod tests {
    #[test]
    fn all_lists_every_code_once_in_order() {
        let declared: Vec<&str> = include_str!("close_code.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("pub const ")?.split_once(": u16 = "))
            .map(|(name, _)| name)
            .collect();
        let listed: Vec<&str> = super::ALL.iter().map(|(name, _)| *name).collect();
        assert_eq!(declared, listed);
        assert!(super::ALL.windows(2).all(|w| w[0].1 < w[1].1));
    }
}
