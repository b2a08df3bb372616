// The store's message handling: snapshot then numbered events (duplicates ignored, gaps
// reported), metrics into ring buffers, answers next to the control that asked.
import { describe, expect, it } from "vitest";
import type { ServerMsg } from "../src/protocol/generated";
import { actionTarget, GameStore } from "../src/state/store";
import { myWorldKey, selectCanEdit, selectMyWorld } from "../src/state/selectors";
import { serverFixture } from "./fixtures";

function withSnapshot(): GameStore {
  const g = new GameStore();
  g.receive(serverFixture("server_welcome", "welcome"));
  g.receive(serverFixture("server_room_snapshot", "room_snapshot"));
  return g;
}

const event = (seq: number, e: Extract<ServerMsg, { type: "event" }>["event"]): ServerMsg => ({
  type: "event",
  seq,
  event: e,
});

describe("GameStore", () => {
  it("ignores events before the first snapshot", () => {
    const g = new GameStore();
    expect(g.receive(event(1, { kind: "phase_changed", phase: "running" }))).toBe("ok");
    expect(g.state.room).toBeNull();
  });

  it("applies the next event and ignores duplicates", () => {
    const g = withSnapshot();
    expect(g.state.lastSeq).toBe(1);
    expect(g.receive(event(2, { kind: "phase_changed", phase: "countdown" }))).toBe("ok");
    expect(g.state.room?.phase).toBe("countdown");
    expect(g.state.lastSeq).toBe(2);
    // A replay of seq 2 (after a resume) must not apply twice.
    expect(g.receive(event(2, { kind: "phase_changed", phase: "lobby" }))).toBe("ok");
    expect(g.state.room?.phase).toBe("countdown");
    expect(g.receive(event(1, { kind: "phase_changed", phase: "finished" }))).toBe("ok");
    expect(g.state.room?.phase).toBe("countdown");
  });

  it("reports a gap without applying the event", () => {
    const g = withSnapshot();
    expect(g.receive(event(3, { kind: "phase_changed", phase: "running" }))).toBe("gap");
    expect(g.state.room?.phase).toBe("lobby");
    expect(g.state.lastSeq).toBe(1);
  });

  it("applies architecture changes to the shared world", () => {
    const g = withSnapshot();
    const fx = serverFixture("server_event_architecture_changed", "event");
    g.receive({ ...fx, seq: 2 });
    expect(selectMyWorld(g.state)?.architecture.nodes.find((n) => n.id === "app")?.instances).toBe(6);
    g.receive(
      event(3, {
        kind: "architecture_changed",
        player: "p",
        tick: 5,
        action: { op: "add_node", id: "lb", component: "load-balancer" },
      }),
    );
    g.receive(
      event(4, {
        kind: "architecture_changed",
        player: "p",
        tick: 5,
        action: { op: "connect", from: "lb", to: "app" },
      }),
    );
    const arch = selectMyWorld(g.state)?.architecture;
    expect(arch?.nodes.map((n) => n.id)).toEqual(["users", "app", "db", "lb"]);
    expect(arch?.edges.some((e) => e.from === "lb" && e.to === "app")).toBe(true);
    g.receive(
      event(5, { kind: "architecture_changed", player: "p", tick: 6, action: { op: "remove_node", id: "lb" } }),
    );
    expect(selectMyWorld(g.state)?.architecture.edges.some((e) => e.from === "lb")).toBe(false);
  });

  it("tracks firing alerts and feeds them newest first", () => {
    const g = withSnapshot();
    const alert = serverFixture("server_event_alert", "event");
    g.receive({ ...alert, seq: 2 });
    expect(selectMyWorld(g.state)?.alerts).toEqual(["app/saturated"]);
    expect(g.state.feed[0]).toMatchObject({ kind: "alert", node: "app", severity: "warning" });
    const resolved = serverFixture("server_event_alert_resolved", "event");
    g.receive({ ...resolved, seq: 3 });
    expect(g.state.feed).toHaveLength(2);
  });

  it("keeps metrics in ring buffers outside the React state", () => {
    const g = withSnapshot();
    const m = serverFixture("server_metrics", "metrics");
    g.receive(m);
    g.receive(m); // the same tick twice: one sample
    g.receive({ ...m, report: { ...m.report, tick: m.report.tick + 2, t: m.report.t + 0.2 } });
    const h = g.history("");
    expect(h.t.length).toBe(2);
    expect(h.system.p99_ms.last()).toBe(m.report.system.p99_ms);
    expect(h.node("app")?.utilization.length).toBe(2);
    expect(g.state.latest[""]?.tick).toBe(m.report.tick + 2);
    // A tick that goes backwards (practice restart) starts the history over.
    g.receive({ ...m, report: { ...m.report, tick: 0, t: 0.1 } });
    expect(h.t.length).toBe(1);
  });

  it("puts a refusal next to the control that sent the action", () => {
    const g = withSnapshot();
    const refused = serverFixture("server_action_result_refused", "action_result");
    const action = { op: "scale", id: "app", instances: 99 } as const;
    g.addPending({ reqId: refused.req_id, action, target: actionTarget(action), sentAt: 0 });
    g.receive(refused);
    expect(g.state.refusals["node:app"]).toMatchObject({ code: "bad_instances" });
    expect(g.state.pending[refused.req_id]).toBeUndefined();
    // A later success for the same target clears it.
    g.addPending({ reqId: 11, action: { op: "scale", id: "app", instances: 3 }, target: "node:app", sentAt: 0 });
    g.receive({ type: "action_result", req_id: 11, ok: true, tick: 220 });
    expect(g.state.refusals["node:app"]).toBeUndefined();
  });

  it("routes an error with a req_id to the action's target and others to the notice", () => {
    const g = withSnapshot();
    g.addPending({ reqId: 4, action: { op: "connect", from: "a", to: "b" }, target: "edge:a->b", sentAt: 0 });
    g.receive(serverFixture("server_error_action", "error"));
    expect(g.state.refusals["edge:a->b"]?.code).toBe("stale_request");
    g.receive(serverFixture("server_error", "error"));
    expect(g.state.notice?.kind).toBe("error");
  });

  it("records the result of a finished attempt", () => {
    const g = withSnapshot();
    g.receive(serverFixture("server_attempt_finished", "attempt_finished"));
    expect(g.state.results[""]?.result.stars).toBe(3);
    expect(selectMyWorld(g.state)?.result?.score).toBeCloseTo(912.4);
  });

  it("asks for a resync after a practice restart", () => {
    const g = withSnapshot();
    expect(g.receive(event(2, { kind: "practice", player: "p", op: { op: "restart" } }))).toBe("resync");
    expect(g.receive(event(3, { kind: "practice", player: "p", op: { op: "speed", factor: 4 } }))).toBe("ok");
    expect(g.state.room?.speed).toBe(4);
  });

  it("lets owners and players edit, not spectators", () => {
    const g = withSnapshot();
    expect(selectCanEdit(g.state)).toBe(true);
    const room = g.state.room;
    if (!room) throw new Error("no room");
    g.set({ room: { ...room, members: room.members.map((m) => ({ ...m, role: "spectator" as const })) } });
    expect(selectCanEdit(g.state)).toBe(false);
  });

  it("follows members joining, dropping and leaving", () => {
    const g = withSnapshot();
    const joined = serverFixture("server_event_member_joined", "event");
    g.receive({ ...joined, seq: 2 });
    expect(g.state.room?.members).toHaveLength(2);
    const who = g.state.room?.members[1]?.player ?? "";
    g.receive(event(3, { kind: "member_connection", player: who, connected: false }));
    expect(g.state.room?.members[1]?.connected).toBe(false);
    g.receive(event(4, { kind: "member_left", player: who }));
    expect(g.state.room?.members).toHaveLength(1);
  });

  it("ignores message types and event kinds it does not know", () => {
    const g = withSnapshot();
    expect(g.receive({ type: "from_the_future" } as unknown as ServerMsg)).toBe("ok");
    expect(g.receive({ type: "event", seq: 2, event: { kind: "new_kind" } } as unknown as ServerMsg)).toBe("ok");
    expect(g.state.lastSeq).toBe(2);
  });

  it("shows a racer their own world, and a rival's read-only when they pick it", () => {
    const g = new GameStore();
    g.receive(serverFixture("server_welcome", "welcome"));
    g.receive(serverFixture("server_room_snapshot_race", "room_snapshot"));
    const me = g.state.me?.player;
    expect(myWorldKey(g.state)).toBe(me);
    expect(selectCanEdit(g.state)).toBe(true);
    const rival = g.state.room?.worlds.find((w) => w.player !== me)?.player ?? null;
    g.set({ watching: rival });
    expect(myWorldKey(g.state)).toBe(rival);
    expect(selectCanEdit(g.state)).toBe(false);
    // Metrics of a race name their world; each goes to its own history.
    const m = serverFixture("server_metrics_race", "metrics");
    g.receive(m);
    expect(g.history(m.world ?? "").t.length).toBe(1);
  });
});

describe("GameStore and ranked runs", () => {
  it("keeps the receipt id of a finished ranked run across a later snapshot", () => {
    const g = withSnapshot();
    const finished = serverFixture("server_attempt_finished", "attempt_finished");
    g.receive({ ...finished, receipt_id: "r-1" });
    expect(g.state.results[""]).toMatchObject({ attemptId: finished.attempt_id, receiptId: "r-1" });
    const snap = serverFixture("server_room_snapshot", "room_snapshot");
    g.receive({
      ...snap,
      room: { ...snap.room, worlds: snap.room.worlds.map((w) => ({ ...w, result: finished.result })) },
    });
    expect(g.state.results[""]?.receiptId).toBe("r-1");
  });

  it("says a refused ranked start can still be practised", () => {
    const g = withSnapshot();
    g.receive({ type: "error", code: "storage_unavailable", message: "storage is unavailable" });
    expect(g.state.notice?.text).toMatch(/^storage is unavailable\. .*practice room still works/);
    expect(g.state.notice?.offerPractice).toBe(true);
  });
});
