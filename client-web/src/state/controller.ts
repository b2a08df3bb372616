// The glue between the socket, the store and the HTTP API: the one object the UI calls to do
// anything (create or join a room, act, chat, practice). Framework-free.
// Invariants: req_ids strictly increase for the life of the page and across reloads (they start
// at the wall clock in ms), as the server requires across resumes; every action is recorded as
// pending before it is sent, so its answer lands next to the control that sent it.
import type { Action, ClientMsg, JoinRole, Mode, PracticeOp, ServerMsg } from "../protocol/generated";
import { MAX_CHAT_CHARS } from "../protocol/generated";
import { createSession, getLevel, type Session } from "../api/http";
import { SocketAdapter, type ConnStatus, type WebSocketFactory } from "../net/socket";
import { clearSession, lastName, loadSession, saveSession } from "./session";
import { actionTarget, GameStore } from "./store";

export interface ControllerOptions {
  wsUrl?: string;
  createSocket?: WebSocketFactory;
}

function defaultWsUrl(): string {
  const loc = globalThis.location;
  const proto = loc?.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${loc?.host ?? "127.0.0.1:8080"}/ws`;
}

export class GameController {
  readonly game = new GameStore();
  readonly socket: SocketAdapter;
  private session: Session | null = loadSession();
  private lastReqId = 0;
  private levelLoading: string | null = null;
  private joinInFlight: string | null = null;
  private readonly opts: ControllerOptions;

  constructor(opts: ControllerOptions = {}) {
    this.opts = opts;
    this.socket = new SocketAdapter({
      url: opts.wsUrl ?? defaultWsUrl(),
      ...(opts.createSocket ? { createSocket: opts.createSocket } : {}),
      getToken: async () => (await this.ensureSession()).token,
      renewSession: async () => {
        clearSession();
        this.session = null;
        await this.ensureSession();
      },
      resumeTarget: () => {
        const { room, lastSeq } = this.game.state;
        return room ? { room: room.id, last_seq: lastSeq } : null;
      },
      onMessage: (msg) => {
        if (msg.type === "room_snapshot" || msg.type === "error") this.joinInFlight = null;
        const outcome = this.game.receive(msg);
        if (outcome !== "ok") this.socket.resync();
        if (msg.type === "room_snapshot") void this.loadLevel(msg.room.level);
        if (msg.type === "event" && msg.event.kind === "sim" && msg.event.event.kind === "end") {
          this.expectResult(msg.event.world ?? "");
        }
      },
      onStatus: (conn) => {
        // Answers to requests in flight are not replayed after a drop (PROTOCOL.md, resume):
        // forget them; actions that did apply come back as architecture_changed events.
        if (conn.state !== "open" && Object.keys(this.game.state.pending).length > 0) this.game.set({ pending: {} });
        this.game.set({ conn });
      },
      onRoomLost: (reason) => {
        this.game.clearRoom();
        this.game.set({ notice: { kind: "error", text: reason } });
      },
      onRtt: (rttMs) => this.game.set({ rttMs }),
    });
  }

  get playerName(): string {
    return this.session?.name ?? lastName();
  }

  get hasSession(): boolean {
    return this.session !== null;
  }

  /** Sets the display name: a new guest session under that name. */
  async setName(name: string): Promise<void> {
    const s = await createSession(name.trim() || "guest");
    saveSession(s);
    this.session = s;
    if (this.socket.connStatus.state !== "idle") {
      // The socket speaks for the old session; reconnect as the new one.
      this.socket.stop();
      this.socket.start();
    }
  }

  async ensureSession(): Promise<Session> {
    if (this.session) return this.session;
    const s = await createSession(lastName() || `guest-${Math.floor(Math.random() * 9000 + 1000)}`);
    saveSession(s);
    this.session = s;
    return s;
  }

  /** Opens the connection (idempotent). */
  connect(): void {
    this.socket.start();
  }

  /** Waits until the socket is welcomed (or rejects after `ms`). */
  whenOpen(ms = 10_000): Promise<void> {
    if (this.socket.isOpen) return Promise.resolve();
    this.connect();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsub();
        reject(new Error("could not reach the server"));
      }, ms);
      const unsub = this.game.store.subscribe((s) => {
        if (s.conn.state === "open" && this.socket.isOpen) {
          clearTimeout(timer);
          unsub();
          resolve();
        }
      });
    });
  }

  private send(msg: ClientMsg): boolean {
    const ok = this.socket.send(msg);
    if (!ok) this.game.set({ notice: { kind: "error", text: "offline: reconnecting, try again in a moment" } });
    return ok;
  }

  /** Creates a room; `seed` only for a run that must match another (the daily challenge). */
  async createRoom(level: string, mode: Mode, practice: boolean, seed?: number): Promise<void> {
    await this.whenOpen();
    if (this.game.state.room) this.leave();
    this.send({
      type: "create_room",
      level,
      mode,
      ...(seed !== undefined ? { seed } : {}),
      ...(practice ? { practice } : {}),
    });
  }

  async joinRoom(target: { code: string } | { room: string }, role: JoinRole): Promise<void> {
    // The same join twice before its answer (a double-mounted effect, a double click) would be
    // answered `already_in_room`: send it once.
    const key = JSON.stringify([target, role]);
    if (this.joinInFlight === key) return;
    this.joinInFlight = key;
    try {
      await this.whenOpen();
      if (this.game.state.room) this.leave();
      if (!this.send({ type: "join_room", ...target, role })) this.joinInFlight = null;
    } catch (e) {
      this.joinInFlight = null;
      throw e;
    }
  }

  leave(): void {
    if (this.game.state.room) this.send({ type: "leave_room" });
    this.game.clearRoom();
  }

  start(): void {
    this.send({ type: "start" });
  }

  /** Sends an action; its result (or refusal) shows up under `actionTarget(action)`. */
  act(action: Action): number | null {
    const reqId = Math.max(this.lastReqId + 1, Date.now());
    const target = actionTarget(action);
    if (!this.socket.isOpen) {
      this.game.refuse(target, {
        code: "offline",
        message: "not connected: try again once reconnected",
        at: Date.now(),
        action,
      });
      return null;
    }
    this.lastReqId = reqId;
    this.game.addPending({ reqId, action, target, sentAt: Date.now() });
    this.send({ type: "action", req_id: reqId, action });
    return reqId;
  }

  chat(text: string): boolean {
    const t = text.trim();
    if (!t) return false;
    return this.send({ type: "chat", text: [...t].slice(0, MAX_CHAT_CHARS).join("") });
  }

  practice(op: PracticeOp): void {
    this.send({ type: "practice", op });
  }

  dismissNotice(): void {
    this.game.set({ notice: null });
  }

  /**
   * A run ended: its attempt_finished follows at once, but it is not replayed after a resume
   * (PROTOCOL.md). If it has not come shortly, ask for a fresh snapshot, which carries the result.
   */
  private expectResult(world: string): void {
    setTimeout(() => {
      const { room, results } = this.game.state;
      if (room && !results[world] && room.worlds.some((w) => (w.player ?? "") === world && !w.result)) {
        this.socket.resync();
      }
    }, 2000);
  }

  private async loadLevel(id: string): Promise<void> {
    if (this.game.state.level?.id === id || this.levelLoading === id) return;
    this.levelLoading = id;
    try {
      const level = await getLevel(id);
      // Nodes added by events that arrived before the level did got a guessed kind: fix them.
      const room = this.game.state.room;
      const kindOf = (component: string) => level.components.find((c) => c.name === component)?.kind;
      const fixed =
        room?.level === id
          ? {
              ...room,
              worlds: room.worlds.map((w) => ({
                ...w,
                architecture: {
                  ...w.architecture,
                  nodes: w.architecture.nodes.map((n) => ({ ...n, kind: kindOf(n.component) ?? n.kind })),
                },
              })),
            }
          : room;
      this.game.set({ level, room: fixed });
    } catch (e) {
      this.game.set({ notice: { kind: "error", text: `could not load level ${id}: ${String(e)}` } });
    } finally {
      this.levelLoading = null;
    }
  }
}
