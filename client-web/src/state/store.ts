// The game state: one zustand store (framework-free: `zustand/vanilla`) fed by server messages,
// plus per-world metric histories kept outside it. React reads it through the selectors in
// ./selectors; only the controller writes it.
// Invariants (PROTOCOL.md, "Sequence numbers"): events before the first snapshot are ignored; an
// event with seq <= lastSeq is a duplicate and ignored; an event with seq > lastSeq + 1 is a gap,
// which `receive` reports (the controller resyncs) without applying anything.
import { createStore, type StoreApi } from "zustand/vanilla";
import type {
  Action,
  RoomEvent,
  RoomSnapshot,
  RunResult,
  ServerMsg,
  Severity,
  Standing,
  TickReport,
  WorldView,
} from "../protocol/generated";
import type { LevelDetail } from "../api/http";
import type { ConnStatus } from "../net/socket";
import { applyAction, type CatalogLookup } from "./architecture";
import { MetricsHistory } from "./metricsHistory";

export interface PendingAction {
  reqId: number;
  action: Action;
  target: string;
  sentAt: number;
}

export interface RefusalEntry {
  code: string;
  message: string;
  at: number;
  action?: Action;
}

export interface FeedItem {
  seq: number;
  tick: number;
  world?: string;
  kind: "alert" | "resolved" | "sim" | "practice";
  severity?: Severity;
  node?: string;
  message: string;
}

export interface Notice {
  kind: "error" | "info";
  text: string;
  /** Offer a practice room of the current level (ranked play is unavailable). */
  offerPractice?: boolean;
}

export interface GameState {
  conn: ConnStatus;
  rttMs: number | null;
  me: { player: string; name: string } | null;
  room: RoomSnapshot | null;
  lastSeq: number;
  /** The latest tick report per world key ("" for the shared world, else the racer's id). */
  latest: Record<string, TickReport>;
  /** Alerts and engine events, newest first. */
  feed: FeedItem[];
  pending: Record<number, PendingAction>;
  /** The last refusal per target ("palette", "node:web", "edge:lb->web", "room"). */
  refusals: Record<string, RefusalEntry>;
  /** Finished runs per world key; `receiptId` only in ranked rooms (practice is not signed). */
  results: Record<string, RunOutcome>;
  standings: Standing[];
  notice: Notice | null;
  level: LevelDetail | null;
  /** In a race, the racer whose world a spectator, coach or finished racer chose to watch. */
  watching: string | null;
}

export interface RunOutcome {
  attemptId?: string;
  receiptId?: string;
  result: RunResult;
}

export type ReceiveOutcome = "ok" | "gap" | "resync";

const FEED_MAX = 200;
const CHAT_MAX = 200;

export const initialState = (): GameState => ({
  conn: { state: "idle" },
  rttMs: null,
  me: null,
  room: null,
  lastSeq: 0,
  latest: {},
  feed: [],
  pending: {},
  refusals: {},
  results: {},
  standings: [],
  notice: null,
  level: null,
  watching: null,
});

/** The key of the world an event or metrics frame is about. */
export const worldKey = (world: string | undefined): string => world ?? "";
const keyOf = (w: WorldView): string => w.player ?? "";

/** Where a refusal for this action is shown: next to the control that sent it. */
export function actionTarget(a: Action): string {
  switch (a.op) {
    case "add_node":
      return "palette";
    case "connect":
    case "disconnect":
    case "configure_edge":
      return `edge:${a.from}->${a.to}`;
    default:
      return `node:${a.id}`;
  }
}

export function catalogOf(level: LevelDetail | null): CatalogLookup | null {
  if (!level) return null;
  return {
    component: (name) => level.components.find((c) => c.name === name),
    defaultRegion: () => level.regions?.[0]?.name ?? "local",
  };
}

export class GameStore {
  readonly store: StoreApi<GameState>;
  private readonly histories = new Map<string, MetricsHistory>();

  constructor() {
    this.store = createStore<GameState>()(() => initialState());
  }

  get state(): GameState {
    return this.store.getState();
  }

  set(patch: Partial<GameState>): void {
    this.store.setState(patch);
  }

  /** The metric history of a world (created on first use). */
  history(key: string): MetricsHistory {
    let h = this.histories.get(key);
    if (!h) {
      h = new MetricsHistory();
      this.histories.set(key, h);
    }
    return h;
  }

  /** Forgets the room (left, lost, or a new one is coming). */
  clearRoom(): void {
    for (const h of this.histories.values()) h.clear();
    this.histories.clear();
    this.set({
      room: null,
      lastSeq: 0,
      latest: {},
      feed: [],
      pending: {},
      refusals: {},
      results: {},
      standings: [],
      watching: null,
    });
  }

  addPending(p: PendingAction): void {
    this.set({ pending: { ...this.state.pending, [p.reqId]: p } });
  }

  refuse(target: string, r: RefusalEntry): void {
    this.set({ refusals: { ...this.state.refusals, [target]: r } });
  }

  dismissRefusal(target: string): void {
    const { [target]: _gone, ...rest } = this.state.refusals;
    this.set({ refusals: rest });
  }

  receive(msg: ServerMsg): ReceiveOutcome {
    const s = this.state;
    switch (msg.type) {
      case "welcome":
        this.set({ me: { player: msg.player, name: msg.name } });
        return "ok";
      case "room_snapshot":
        this.applySnapshot(msg.room);
        return "ok";
      case "event": {
        if (!s.room) return "ok"; // rule 1: nothing before the first snapshot
        if (msg.seq <= s.lastSeq) return "ok"; // rule 2: already applied
        if (msg.seq > s.lastSeq + 1) return "gap"; // rule 3: lost something
        return this.applyEvent(msg.seq, msg.event);
      }
      case "metrics": {
        if (!s.room) return "ok";
        const key = worldKey(msg.world);
        this.history(key).push(msg.report);
        this.set({ latest: { ...s.latest, [key]: msg.report } });
        return "ok";
      }
      case "action_result": {
        const p = s.pending[msg.req_id];
        const { [msg.req_id]: _done, ...pending } = s.pending;
        const refusals = { ...s.refusals };
        if (p) {
          if (msg.ok) delete refusals[p.target];
          else if (msg.error) refusals[p.target] = { ...msg.error, at: msg.tick, action: p.action };
        }
        this.set({ pending, refusals });
        return "ok";
      }
      case "attempt_finished": {
        const key = worldKey(msg.world);
        const outcome: RunOutcome = {
          attemptId: msg.attempt_id,
          ...(msg.receipt_id ? { receiptId: msg.receipt_id } : {}),
          result: msg.result,
        };
        const results = { ...s.results, [key]: outcome };
        const room = s.room && {
          ...s.room,
          worlds: s.room.worlds.map((w) => (keyOf(w) === key ? { ...w, result: msg.result } : w)),
        };
        this.set({ results, room });
        return "ok";
      }
      case "standings":
        this.set({ standings: msg.entries });
        return "ok";
      case "error": {
        if (msg.req_id !== undefined) {
          const p = s.pending[msg.req_id];
          const { [msg.req_id]: _done, ...pending } = s.pending;
          const target = p?.target ?? "room";
          this.set({
            pending,
            refusals: {
              ...s.refusals,
              [target]: { code: msg.code, message: msg.message, at: Date.now(), ...(p ? { action: p.action } : {}) },
            },
          });
        } else if (msg.code === "storage_unavailable") {
          // A ranked run cannot be recorded right now: say so, and point at what still works.
          this.set({
            notice: {
              kind: "error",
              text: `${msg.message}. Ranked runs cannot be recorded right now; a practice room still works (not ranked).`,
              offerPractice: true,
            },
          });
        } else {
          this.set({ notice: { kind: "error", text: msg.message } });
        }
        return "ok";
      }
      case "pong":
        return "ok";
      default:
        return "ok"; // a message type this client does not know: ignore it
    }
  }

  private applySnapshot(room: RoomSnapshot): void {
    const s = this.state;
    const sameRoom = s.room?.id === room.id;
    if (!sameRoom) this.clearRoom();
    const latest: Record<string, TickReport> = sameRoom ? { ...s.latest } : {};
    const results: Record<string, RunOutcome> = {};
    for (const w of room.worlds) {
      const key = keyOf(w);
      if (w.report) {
        latest[key] = w.report;
        this.history(key).push(w.report);
      } else if (w.tick === 0) {
        // A fresh world (new room or a practice restart): old samples would mislead.
        delete latest[key];
        this.history(key).clear();
      }
      if (w.result) {
        // A snapshot carries the result but not the ids: keep those an attempt_finished gave.
        const prev = s.results[key];
        results[key] = {
          ...(prev?.attemptId ? { attemptId: prev.attemptId } : {}),
          ...(prev?.receiptId ? { receiptId: prev.receiptId } : {}),
          result: w.result,
        };
      }
    }
    this.set({ room, lastSeq: room.last_seq, latest, results, notice: null });
  }

  private applyEvent(seq: number, ev: RoomEvent): ReceiveOutcome {
    const s = this.state;
    const room = s.room;
    if (!room) return "ok";
    let next: RoomSnapshot = room;
    let feed = s.feed;
    let outcome: ReceiveOutcome = "ok";
    const pushFeed = (item: FeedItem) => {
      feed = [item, ...feed].slice(0, FEED_MAX);
    };
    const mapWorld = (world: string | undefined, f: (w: WorldView) => WorldView) => {
      const key = worldKey(world);
      next = {
        ...next,
        worlds: next.worlds.map((w) => (keyOf(w) === key || (!world && next.worlds.length === 1) ? f(w) : w)),
      };
    };
    switch (ev.kind) {
      case "member_joined": {
        const members = next.members.filter((m) => m.player !== ev.member.player);
        next = { ...next, members: [...members, ev.member] };
        break;
      }
      case "member_left":
        next = { ...next, members: next.members.filter((m) => m.player !== ev.player) };
        break;
      case "member_connection":
        next = {
          ...next,
          members: next.members.map((m) => (m.player === ev.player ? { ...m, connected: ev.connected } : m)),
        };
        break;
      case "architecture_changed": {
        const catalog = catalogOf(s.level);
        mapWorld(ev.world, (w) => ({ ...w, architecture: applyAction(w.architecture, ev.action, catalog) }));
        break;
      }
      case "phase_changed":
        next = { ...next, phase: ev.phase };
        break;
      case "alert": {
        const a = ev.alert;
        mapWorld(ev.world, (w) => ({
          ...w,
          alerts: a.firing ? [...w.alerts.filter((k) => k !== a.key), a.key] : w.alerts.filter((k) => k !== a.key),
        }));
        pushFeed({
          seq,
          tick: ev.tick,
          ...(ev.world ? { world: ev.world } : {}),
          kind: a.firing ? "alert" : "resolved",
          severity: a.severity,
          ...(a.node ? { node: a.node } : {}),
          message: a.message,
        });
        break;
      }
      case "sim":
        pushFeed({
          seq,
          tick: ev.tick,
          ...(ev.world ? { world: ev.world } : {}),
          kind: "sim",
          ...(ev.event.node ? { node: ev.event.node } : {}),
          message: ev.event.message,
        });
        break;
      case "chat":
        next = { ...next, chat: [...next.chat, ev.line].slice(-CHAT_MAX) };
        break;
      case "practice": {
        const op = ev.op;
        if (op.op === "pause") next = { ...next, paused: true };
        else if (op.op === "unpause") next = { ...next, paused: false };
        else if (op.op === "speed") next = { ...next, speed: op.factor };
        else if (op.op === "restart") outcome = "resync"; // every world was rebuilt: fetch them whole
        const who = next.members.find((m) => m.player === ev.player)?.name ?? "someone";
        pushFeed({ seq, tick: 0, kind: "practice", message: `${who}: ${describePractice(op)}` });
        break;
      }
      default:
        break; // an event kind this client does not know: counted, not applied
    }
    this.set({ room: { ...next, last_seq: seq }, lastSeq: seq, feed });
    return outcome;
  }
}

function describePractice(op: { op: string; factor?: number; index?: number }): string {
  switch (op.op) {
    case "pause":
      return "paused the clock";
    case "unpause":
      return "resumed the clock";
    case "speed":
      return `set the speed to ${op.factor ?? 1}×`;
    case "restart":
      return "restarted the run";
    case "inject_fault":
      return `injected fault #${op.index ?? 0}`;
    default:
      return op.op;
  }
}
