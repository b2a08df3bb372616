// What the client does for each WebSocket close code (RELIABILITY.md and PROTOCOL.md, "Close
// codes"). Invariant: every code in the generated CloseCode table has an explicit entry, and an
// unknown code is treated like a network drop (resume), never like a fatal error.
import { CloseCode } from "../protocol/generated";

export type CloseAction =
  /** Reconnect with backoff and resume the room (seat held 30 s). */
  | "resume"
  /** Do nothing: the close was intended (or another tab took the seat). */
  | "stop"
  /** The token is bad: make a new guest session, then reconnect. */
  | "new_session"
  /** The client is out of date: the player must reload. */
  | "reload"
  /** The room is gone: reconnect without resuming, and go back to joining. */
  | "rejoin"
  /** A client bug: stop, say so (retrying would send the same bad message). */
  | "fatal";

export interface ClosePolicy {
  action: CloseAction;
  /** What the connection badge says, for a person. */
  message: string;
  /** Extra delay floor before reconnecting, ms (rate limits). */
  minDelayMs?: number;
}

export function closePolicy(code: number): ClosePolicy {
  switch (code) {
    case CloseCode.NORMAL:
      return { action: "stop", message: "disconnected (the session continued in another tab?)" };
    case CloseCode.GOING_AWAY:
      return { action: "resume", message: "connection went away; reconnecting" };
    case CloseCode.PROTOCOL_ERROR:
      return { action: "resume", message: "protocol error; reconnecting" };
    case CloseCode.INVALID_UTF8:
      return { action: "fatal", message: "the client sent invalid text (a bug); reload the page" };
    case CloseCode.TOO_BIG:
      return { action: "fatal", message: "the client sent a message that was too big (a bug)" };
    case CloseCode.INTERNAL:
      return { action: "rejoin", message: "the room stopped after an internal error" };
    case CloseCode.RESTARTING:
      return { action: "resume", message: "the server is restarting; reconnecting", minDelayMs: 250 };
    case CloseCode.BAD_MESSAGE:
      return { action: "fatal", message: "the server refused a malformed message (a client bug)" };
    case CloseCode.NOT_AUTHENTICATED:
      return { action: "resume", message: "handshake timed out; reconnecting" };
    case CloseCode.BAD_TOKEN:
      return { action: "new_session", message: "session expired; starting a new one" };
    case CloseCode.VERSION_MISMATCH:
      return { action: "reload", message: "a new version of the game is out: reload the page" };
    case CloseCode.RATE_LIMITED:
      return { action: "resume", message: "too many messages; slowing down", minDelayMs: 2000 };
    case CloseCode.SLOW_CONSUMER:
      return { action: "resume", message: "connection fell behind; reconnecting" };
    case CloseCode.RESUME_EXPIRED:
      return { action: "rejoin", message: "your seat expired; join the room again" };
    case CloseCode.STORAGE_UNAVAILABLE:
      return { action: "rejoin", message: "storage is down: ranked play is unavailable; practice still works" };
    default:
      // 1006 (no close frame: network loss) and anything unknown.
      return { action: "resume", message: "connection lost; reconnecting" };
  }
}
