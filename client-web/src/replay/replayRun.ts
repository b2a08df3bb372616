// Replaying a receipt over the socket: a practice room with the receipt's level and seed, every
// action sent at the tick it was applied at, every metrics frame recorded in a ReplayTrace.
// Framework-free: it speaks through a `send` function and is fed server messages, so tests drive
// it without a server.
// Invariants: tick-0 actions (built in the lobby) all land before the start; an action recorded
// at tick T is sent on the frame of tick T-1 (the world then stands at tick T, and the server
// applies an action at the world's current tick); the clock runs at 4× and slows to 1× ahead of
// each later action so the send lands inside the right tick; every action's landing tick is
// checked, and the outcome says whether the replay was exact and whether it reproduced the
// receipt's result (the server's re-simulation in `verify` is the authority; this is a view).
import type { ClientMsg, Receipt, RunResult, ServerMsg } from "../protocol/generated";
import { ReplayTrace } from "./trace";

export type ReplayStatus =
  | { state: "idle" }
  | { state: "connecting" }
  | { state: "building"; sent: number; total: number }
  | { state: "running"; tick: number; totalTicks: number }
  | { state: "done"; result: RunResult; exact: boolean; late: number; refused: number; matches: boolean }
  | { state: "failed"; reason: string };

/** Ticks (at the level's rate, in seconds of simulated time) before an action to slow to 1×. */
const SLOW_AHEAD_S = 3;
const FAST = 4;

export class ReplayRun {
  trace: ReplayTrace | null = null;
  status: ReplayStatus = { state: "idle" };
  private roomId: string | null = null;
  private next = 0; // index of the next action to send
  private reqId: number;
  private readonly expected = new Map<number, number>(); // req_id -> tick it should land on
  private late = 0;
  private refused = 0;
  private acked = 0;
  private started = false;
  private speed = 1;
  private welcomed = false;
  private finished = false;

  constructor(
    readonly receipt: Receipt,
    private readonly send: (msg: ClientMsg) => boolean,
    private readonly onChange: (run: ReplayRun) => void,
    reqIdBase = Date.now(),
  ) {
    this.reqId = reqIdBase;
  }

  /** Feed every server message of the replay's own connection. */
  receive(msg: ServerMsg): void {
    if (this.finished) return;
    switch (msg.type) {
      case "welcome":
        if (this.welcomed) return this.fail("the connection dropped during the replay; replay again");
        this.welcomed = true;
        this.set({ state: "connecting" });
        this.send({
          type: "create_room",
          level: this.receipt.level,
          mode: "solo",
          seed: this.receipt.seed,
          practice: true,
        });
        return;
      case "room_snapshot":
        if (this.roomId) return; // a later snapshot (resync) changes nothing the replay needs
        this.roomId = msg.room.id;
        this.trace = new ReplayTrace(msg.room.total_ticks, msg.room.tick_hz);
        this.buildLobby();
        return;
      case "action_result": {
        const want = this.expected.get(msg.req_id);
        if (want === undefined) return;
        this.expected.delete(msg.req_id);
        this.acked += 1;
        if (!msg.ok) this.refused += 1;
        else if (msg.tick !== want) this.late += 1;
        if (!this.started) this.maybeStart();
        return;
      }
      case "metrics": {
        if (!this.trace || !this.started) return;
        this.trace.push(msg.report);
        this.sendDue(msg.report.tick);
        this.set({ state: "running", tick: msg.report.tick, totalTicks: this.trace.totalTicks });
        return;
      }
      case "attempt_finished": {
        const r = this.receipt.result;
        const matches =
          msg.result.ticks === r.ticks && Math.abs(msg.result.score - r.score) < 1e-6 && msg.result.passed === r.passed;
        this.finished = true;
        this.send({ type: "leave_room" });
        this.set({
          state: "done",
          result: msg.result,
          exact: this.late === 0 && this.refused === 0 && this.next === this.receipt.actions.length,
          late: this.late,
          refused: this.refused,
          matches,
        });
        return;
      }
      case "error":
        // Refusals of actions come as action_result; an error here is the room itself failing.
        if (msg.req_id !== undefined && this.expected.has(msg.req_id)) {
          this.expected.delete(msg.req_id);
          this.acked += 1;
          this.refused += 1;
          return;
        }
        return this.fail(msg.message);
      default:
        return;
    }
  }

  /** The replay's connection ended before the run did. */
  connectionLost(reason: string): void {
    if (!this.finished) this.fail(reason);
  }

  private set(s: ReplayStatus): void {
    this.status = s;
    this.onChange(this);
  }

  private fail(reason: string): void {
    this.finished = true;
    this.set({ state: "failed", reason });
  }

  private actionAt(i: number) {
    return this.receipt.actions[i];
  }

  private buildLobby(): void {
    const lobby = this.receipt.actions.filter((a) => a.tick === 0).length;
    this.set({ state: "building", sent: 0, total: lobby });
    while (this.actionAt(this.next)?.tick === 0) this.sendAction(this.next++);
    this.maybeStart();
  }

  private maybeStart(): void {
    if (this.started || this.expected.size > 0 || !this.trace) return;
    this.started = true;
    this.setSpeed(this.needsSlow(0) ? 1 : FAST);
    this.send({ type: "start" });
  }

  private sendAction(i: number): void {
    const a = this.actionAt(i);
    if (!a) return;
    const reqId = ++this.reqId;
    this.expected.set(reqId, a.tick);
    this.send({ type: "action", req_id: reqId, action: a.action });
  }

  /** On the frame of `tick`: send every action due at tick + 1 (or overdue), then pick the speed. */
  private sendDue(tick: number): void {
    while (this.next < this.receipt.actions.length && (this.actionAt(this.next)?.tick ?? 0) <= tick + 1) {
      this.sendAction(this.next++);
    }
    this.setSpeed(this.needsSlow(tick) ? 1 : FAST);
  }

  private needsSlow(tick: number): boolean {
    const a = this.actionAt(this.next);
    if (!a || !this.trace) return false;
    return a.tick - 1 - tick <= SLOW_AHEAD_S * this.trace.tickHz;
  }

  private setSpeed(factor: number): void {
    if (factor === this.speed) return;
    this.speed = factor;
    this.send({ type: "practice", op: { op: "speed", factor } });
  }
}
