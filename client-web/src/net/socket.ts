// The WebSocket adapter: one logical connection to the server that survives drops. It sends
// `hello` first, pings at the application level (browsers hide protocol pings), reconnects with
// backoff and jitter, and resumes the room it was in. Framework-free: no React, no store.
// Invariants: at most one live socket at a time (handlers of a replaced socket are detached);
// nothing but `hello` is sent before `welcome`; `send` never queues (a caller learns at once
// that it is offline and says so, instead of firing stale actions minutes later).
import type { ClientMsg, ServerMsg } from "../protocol/generated";
import { PROTOCOL_VERSION } from "../protocol/generated";
import { decodeServerMsg, encodeClientMsg } from "../protocol/codec";
import { Backoff } from "./backoff";
import { closePolicy, type CloseAction } from "./closePolicy";

export type ConnStatus =
  | { state: "idle" }
  | { state: "connecting"; attempt: number }
  | { state: "open" }
  | { state: "waiting"; retryInMs: number; reason: string }
  | { state: "stopped"; reason: string; action: CloseAction };

export interface ResumeTarget {
  room: string;
  last_seq: number;
}

/** The subset of the DOM WebSocket the adapter uses (the `ws` package matches it in tests). */
export interface WebSocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface SocketOptions {
  url: string;
  /** The guest token to send in `hello`. */
  getToken: () => string | Promise<string>;
  /** Called on 4004: make a new guest session (the next getToken returns it). */
  renewSession: () => Promise<void>;
  /** The room to resume after a drop, if any (asked on every welcome). */
  resumeTarget: () => ResumeTarget | null;
  /** Every decoded server message, welcome included, in order. */
  onMessage: (msg: ServerMsg) => void;
  onStatus: (status: ConnStatus) => void;
  /** The room is gone (1011, 4010, 4011): the caller clears it and offers to join again. */
  onRoomLost?: (reason: string) => void;
  /** Round trip of the application ping, ms. */
  onRtt?: (rttMs: number, serverOffsetMs: number) => void;
  createSocket?: WebSocketFactory;
  pingIntervalMs?: number;
  backoff?: Backoff;
}

const OPEN = 1;

export class SocketAdapter {
  private ws: WebSocketLike | null = null;
  private welcomed = false;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private nonce = 0;
  private readonly pingsSent = new Map<number, number>();
  private readonly backoff: Backoff;
  private readonly createSocket: WebSocketFactory;
  private status: ConnStatus = { state: "idle" };
  /** Set by `resync`: the next welcome resumes from seq 0 (a full snapshot). */
  private forceSnapshot = false;

  constructor(private readonly opts: SocketOptions) {
    this.backoff = opts.backoff ?? new Backoff();
    this.createSocket = opts.createSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
  }

  get connStatus(): ConnStatus {
    return this.status;
  }

  /** True once `welcome` arrived on the current socket. */
  get isOpen(): boolean {
    return this.welcomed && this.ws?.readyState === OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.backoff.reset();
    void this.connect();
  }

  /** Closes for good (1000) and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.detach();
    if (ws && ws.readyState <= OPEN) ws.close(1000, "client stop");
    this.setStatus({ state: "idle" });
  }

  /**
   * Sends one message if the connection is welcomed. Returns false when offline; nothing is
   * queued. Throws MessageTooBig for a message the server would refuse.
   */
  send(msg: ClientMsg): boolean {
    if (!this.isOpen || !this.ws) return false;
    this.ws.send(encodeClientMsg(msg));
    return true;
  }

  /**
   * Drops the socket and reconnects at once, resuming from seq 0 (a full snapshot). Used when the
   * client sees a gap in `seq` or needs the whole room again (after a practice restart).
   */
  resync(): void {
    if (this.stopped) return;
    this.forceSnapshot = true;
    const ws = this.ws;
    this.detach();
    if (ws && ws.readyState <= OPEN) ws.close(1000, "resync");
    this.clearTimers();
    void this.connect();
  }

  /** Reconnects now if waiting (tab became visible, network came back). */
  nudge(): void {
    if (this.status.state === "waiting") {
      this.clearTimers();
      void this.connect();
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setStatus({ state: "connecting", attempt: this.backoff.attempts });
    let token: string;
    try {
      token = await this.opts.getToken();
    } catch (e) {
      this.scheduleReconnect(`could not get a session: ${String(e)}`);
      return;
    }
    if (this.stopped) return;
    let ws: WebSocketLike;
    try {
      ws = this.createSocket(this.opts.url);
    } catch (e) {
      this.scheduleReconnect(`could not open a socket: ${String(e)}`);
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    ws.onopen = () => {
      ws.send(encodeClientMsg({ type: "hello", protocol: PROTOCOL_VERSION, token }));
    };
    ws.onmessage = (ev) => this.handleFrame(ev.data);
    ws.onerror = () => {
      // The close event follows with the code; nothing to do here.
    };
    ws.onclose = (ev) => this.handleClose(ev.code, ev.reason);
  }

  private handleFrame(data: unknown): void {
    const text = typeof data === "string" ? data : data instanceof Uint8Array ? null : String(data);
    const msg = decodeServerMsg(text);
    if (!msg) return; // not an object with a type: ignore, like an unknown type
    if (msg.type === "welcome") {
      this.welcomed = true;
      this.backoff.reset();
      this.setStatus({ state: "open" });
      this.startPings();
      this.opts.onMessage(msg);
      const target = this.opts.resumeTarget();
      if (target) {
        const last_seq = this.forceSnapshot ? 0 : target.last_seq;
        this.send({ type: "resume", room: target.room, last_seq });
      }
      this.forceSnapshot = false;
      return;
    }
    if (msg.type === "pong") {
      const sentAt = this.pingsSent.get(msg.nonce);
      if (sentAt !== undefined) {
        this.pingsSent.delete(msg.nonce);
        const now = Date.now();
        const rtt = now - sentAt;
        // Server clock minus ours, assuming the pong was stamped halfway through the round trip.
        this.opts.onRtt?.(rtt, msg.server_time_ms - (sentAt + rtt / 2));
      }
    }
    this.opts.onMessage(msg);
  }

  private handleClose(code: number, reason: string): void {
    this.detach();
    this.clearTimers();
    if (this.stopped) return;
    const policy = closePolicy(code);
    const why = reason ? `${policy.message} (${reason})` : policy.message;
    switch (policy.action) {
      case "stop":
      case "fatal":
      case "reload":
        this.stopped = true;
        this.setStatus({ state: "stopped", reason: why, action: policy.action });
        return;
      case "new_session":
        void this.opts.renewSession().then(
          () => this.scheduleReconnect(why),
          (e: unknown) => this.scheduleReconnect(`${why}; ${String(e)}`),
        );
        return;
      case "rejoin":
        this.opts.onRoomLost?.(why);
        this.scheduleReconnect(why, policy.minDelayMs);
        return;
      case "resume":
        this.scheduleReconnect(why, policy.minDelayMs);
        return;
    }
  }

  private scheduleReconnect(reason: string, minDelayMs = 0): void {
    if (this.stopped) return;
    const delay = Math.max(minDelayMs, this.backoff.next());
    this.setStatus({ state: "waiting", retryInMs: delay, reason });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private startPings(): void {
    const every = this.opts.pingIntervalMs ?? 10_000;
    this.pingsSent.clear();
    this.sendPing();
    this.pingTimer = setInterval(() => this.sendPing(), every);
  }

  private sendPing(): void {
    this.nonce = (this.nonce + 1) % 1_000_000;
    if (this.send({ type: "ping", nonce: this.nonce })) {
      this.pingsSent.set(this.nonce, Date.now());
      // Unanswered pings are forgotten after a few: the map never grows.
      if (this.pingsSent.size > 4) {
        const oldest = this.pingsSent.keys().next().value;
        if (oldest !== undefined) this.pingsSent.delete(oldest);
      }
    }
  }

  private detach(): void {
    const ws = this.ws;
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = null;
    }
    this.ws = null;
    this.welcomed = false;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }

  private setStatus(status: ConnStatus): void {
    this.status = status;
    this.opts.onStatus(status);
  }
}
