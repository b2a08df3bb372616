// Replaying a receipt over the socket: a practice room with the receipt's level and seed, every
// action sent at the tick it was applied at, every metrics frame recorded in a ReplayTrace.
// Framework-free: it speaks through a `send` function and is fed server messages, so tests drive
// it without a server.
// Invariants: tick-0 actions (built in the lobby) all land before the start; an action recorded
// at tick T is applied when the world stands at tick T (the server applies an action at the
// world's current tick). The clock runs at 4× and slows to 1× ahead of each later action; a few
// ticks before it, the replay pauses the room and steps it: unpause, pause again a moment later
// (one tick passes), and ask where the world stands with a probe (an action the server refuses,
// whose answer carries the world's tick exactly), until it stands at T; then it sends the
// action and lets the clock run. Every action's landing tick is checked, and the outcome says
// whether the replay was exact and whether it reproduced the receipt's result (the server's
// re-simulation in `verify` is the authority; this is a view).
import type { ClientMsg, Receipt, RunResult, ServerMsg } from "../protocol/generated";
import { ReplayTrace } from "./trace";

export type ReplayStatus =
  | { state: "idle" }
  | { state: "connecting" }
  | { state: "building"; sent: number; total: number }
  | { state: "running"; tick: number; totalTicks: number }
  | { state: "done"; result: RunResult; exact: boolean; late: number; refused: number; matches: boolean }
  | { state: "failed"; reason: string };

/** Seconds of simulated time before an action to slow to 1×. */
const SLOW_AHEAD_S = 3;
const FAST = 4;
/** Ticks before an action to pause and step instead of running. */
const STEP_AHEAD = 3;
/** How long a step lets the clock run, ms: enough for the tick due at once after a pause. */
const STEP_MS = 3;
/** How long the room stays paused between steps, ms: longer than a tick at 1× on the real clock
 * (so the next unpause runs exactly the one tick that fell due), and paced for the rate limit. */
const STEP_PAUSE_MS = 200;
/** The server closes a connection sending over 20 messages a second (burst 40): stay under. */
const SEND_RATE = 15;
const SEND_BURST = 30;
/** Steps before giving up on stepping (then the action goes on the next frame, maybe late). */
const MAX_STEPS = 400;
/** An action no world accepts (there is no such node): its refusal carries the world's tick. */
const PROBE = { op: "fail_over", id: "replay-tick-probe" } as const;

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
  /** While stepping towards an action's tick: the probe in flight and the steps taken. */
  private stepping: { probe: number | null; steps: number } | null = null;
  private readonly outbox: ClientMsg[] = [];
  private tokens = SEND_BURST;
  private refilledAt: number;
  private flushTimer = false;
  private readonly send: (msg: ClientMsg) => void;

  constructor(
    readonly receipt: Receipt,
    private readonly transmit: (msg: ClientMsg) => boolean,
    private readonly onChange: (run: ReplayRun) => void,
    reqIdBase = Date.now(),
    private readonly later: (f: () => void, ms: number) => void = (f, ms) => void setTimeout(f, ms),
    private readonly now: () => number = () => Date.now(),
  ) {
    this.reqId = reqIdBase;
    this.refilledAt = now();
    this.send = (msg) => {
      this.outbox.push(msg);
      this.flush();
    };
  }

  /** Sends what the rate budget allows, in order; the rest follows as tokens come back. */
  private flush(): void {
    const t = this.now();
    this.tokens = Math.min(SEND_BURST, this.tokens + ((t - this.refilledAt) / 1000) * SEND_RATE);
    this.refilledAt = t;
    while (this.outbox.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.transmit(this.outbox.shift() as ClientMsg);
    }
    if (this.outbox.length > 0 && !this.flushTimer) {
      this.flushTimer = true;
      this.later(
        () => {
          this.flushTimer = false;
          this.flush();
        },
        Math.ceil(((1 - this.tokens) / SEND_RATE) * 1000),
      );
    }
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
        if (this.stepping && msg.req_id === this.stepping.probe) return this.stepped(msg.tick);
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

  /**
   * On the frame of `tick` (the world stands at tick + 1): close to the next action, pause and
   * step to it; past it (a frame skipped), send it now, late; else pick the speed.
   */
  private sendDue(tick: number): void {
    if (this.stepping || this.finished) return;
    const due = this.actionAt(this.next)?.tick;
    if (due !== undefined && due > tick + 1 && due - (tick + 1) <= STEP_AHEAD) {
      this.stepping = { probe: null, steps: 0 };
      this.send({ type: "practice", op: { op: "pause" } });
      this.probe();
      return;
    }
    this.sendUpTo(tick + 1);
    this.setSpeed(this.needsSlow(tick) ? 1 : FAST);
  }

  private sendUpTo(worldTick: number): void {
    while (this.next < this.receipt.actions.length && (this.actionAt(this.next)?.tick ?? 0) <= worldTick) {
      this.sendAction(this.next++);
    }
  }

  /** Asks where the (paused) world stands; answered in order after the pause. */
  private probe(): void {
    if (!this.stepping) return;
    const reqId = ++this.reqId;
    this.stepping.probe = reqId;
    this.send({ type: "action", req_id: reqId, action: PROBE });
  }

  /** The probe's answer: the world stands (paused) at `worldTick`. */
  private stepped(worldTick: number): void {
    const st = this.stepping;
    if (!st || this.finished) return;
    st.probe = null;
    const due = this.actionAt(this.next)?.tick;
    // There (or past it): the actions due go now, at this tick. Out of patience: the next one
    // goes now too, early (counted as off its tick).
    if (due !== undefined && (worldTick >= due || st.steps >= MAX_STEPS)) this.sendUpTo(Math.max(worldTick, due));
    const next = this.actionAt(this.next)?.tick;
    if (next === undefined || next - worldTick > STEP_AHEAD || st.steps >= MAX_STEPS) {
      // Nothing close: let the clock run again.
      this.stepping = null;
      this.send({ type: "practice", op: { op: "unpause" } });
      this.setSpeed(this.needsSlow(worldTick - 1) ? 1 : FAST);
      return;
    }
    // Let one tick pass: after a pause longer than a tick, the tick that fell due runs at once
    // on unpause, and the next is a whole tick away.
    st.steps += 1;
    this.later(() => {
      if (this.stepping !== st || this.finished) return;
      this.send({ type: "practice", op: { op: "unpause" } });
      this.later(() => {
        if (this.stepping !== st || this.finished) return;
        this.send({ type: "practice", op: { op: "pause" } });
        this.probe();
      }, STEP_MS);
    }, STEP_PAUSE_MS);
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
