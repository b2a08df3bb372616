// The controller's contract with the server: req_ids strictly increase (also past the wall
// clock, across reconnects), every action is pending under its target until answered, and an
// offline client refuses locally instead of queueing.
import { describe, expect, it, vi } from "vitest";
import type { ClientMsg } from "../src/protocol/generated";
import { GameController } from "../src/state/controller";

function online(c: GameController): ClientMsg[] {
  const sent: ClientMsg[] = [];
  Object.defineProperty(c.socket, "isOpen", { get: () => true });
  c.socket.send = vi.fn((m: ClientMsg) => {
    sent.push(m);
    return true;
  });
  return sent;
}

describe("GameController", () => {
  it("refuses an action locally when offline", () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    expect(c.act({ op: "scale", id: "web", instances: 2 })).toBeNull();
    expect(c.game.state.refusals["node:web"]?.code).toBe("offline");
    expect(c.game.state.pending).toEqual({});
  });

  it("sends actions with strictly increasing req_ids, each pending under its target", () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    const sent = online(c);
    const now = vi.spyOn(Date, "now").mockReturnValue(1_000);
    const a = c.act({ op: "scale", id: "web", instances: 2 });
    const b = c.act({ op: "connect", from: "lb", to: "web" });
    now.mockReturnValue(500); // the clock stepping back must not repeat an id
    const d = c.act({ op: "add_node", id: "lb", component: "load-balancer" });
    now.mockRestore();
    expect(a).toBe(1_000);
    expect(b).toBe(1_001);
    expect(d).toBe(1_002);
    expect(sent.map((m) => (m.type === "action" ? m.req_id : -1))).toEqual([1_000, 1_001, 1_002]);
    expect(Object.values(c.game.state.pending).map((p) => p.target)).toEqual(["node:web", "edge:lb->web", "palette"]);
  });

  it("forgets answers in flight when the connection drops", () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    online(c);
    c.act({ op: "scale", id: "web", instances: 2 });
    expect(Object.keys(c.game.state.pending)).toHaveLength(1);
    // What the socket reports on a drop.
    (c.socket as unknown as { opts: { onStatus: (s: unknown) => void } }).opts.onStatus({
      state: "waiting",
      retryInMs: 100,
      reason: "connection lost",
    });
    expect(c.game.state.pending).toEqual({});
  });

  it("sends the same join once until it is answered", async () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    const sent = online(c);
    await Promise.all([c.joinRoom({ code: "KX7M2Q" }, "player"), c.joinRoom({ code: "KX7M2Q" }, "player")]);
    expect(sent.filter((m) => m.type === "join_room")).toHaveLength(1);
    // The answer (through the socket, as the server would send it) frees the join.
    (c.socket as unknown as { opts: { onMessage: (m: unknown) => void } }).opts.onMessage({
      type: "error",
      code: "room_not_found",
      message: "no such room or join code",
    });
    await c.joinRoom({ code: "KX7M2Q" }, "player");
    expect(sent.filter((m) => m.type === "join_room")).toHaveLength(2);
  });

  it("trims chat to the server's bound and drops blank lines", () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    const sent = online(c);
    expect(c.chat("   ")).toBe(false);
    expect(c.chat("x".repeat(600))).toBe(true);
    const m = sent[0];
    expect(m?.type === "chat" && m.text.length).toBe(500);
  });
});
