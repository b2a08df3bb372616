// The small pure pieces: applying actions to an architecture, the close-code policy table,
// metric history alignment, the ring buffer.
import { describe, expect, it } from "vitest";
import type { Architecture } from "../src/protocol/generated";
import { CloseCode } from "../src/protocol/generated";
import { applyAction, type CatalogLookup } from "../src/state/architecture";
import { closePolicy } from "../src/net/closePolicy";
import { MetricsHistory } from "../src/state/metricsHistory";
import { Ring } from "../src/state/ring";
import { serverFixture } from "./fixtures";

const arch = (): Architecture => serverFixture("server_room_snapshot", "room_snapshot").room.worlds[0]!.architecture;

const catalog: CatalogLookup = {
  component: (name) =>
    name === "cache"
      ? {
          kind: "cache",
          instance_types: ["cache-1g", "cache-4g"],
          defaults: { ttl_s: 60, coalesce: null as unknown as boolean },
        }
      : undefined,
  defaultRegion: () => "eu",
};

describe("applyAction", () => {
  it("adds a node the way the engine does: component kind, first type, defaults under settings", () => {
    const a = applyAction(
      arch(),
      { op: "add_node", id: "c", component: "cache", config: { ttl_jitter: 0.1 } },
      catalog,
    );
    const c = a.nodes.find((n) => n.id === "c");
    expect(c).toMatchObject({ kind: "cache", instance_type: "cache-1g", instances: 1, region: "eu", fixed: false });
    // Defaults merged, explicit settings over them, nulls from the level JSON dropped.
    expect(c?.config).toEqual({ ttl_s: 60, ttl_jitter: 0.1 });
  });

  it("changes settings, type, count and rotation of one node only", () => {
    let a = arch();
    a = applyAction(a, { op: "configure_node", id: "app", config: { queue_limit: 50 } }, null);
    a = applyAction(a, { op: "resize", id: "app", instance_type: "large" }, null);
    a = applyAction(a, { op: "scale", id: "app", instances: 4 }, null);
    a = applyAction(a, { op: "drain", id: "app" }, null);
    const app = a.nodes.find((n) => n.id === "app");
    expect(app).toMatchObject({ instance_type: "large", instances: 4, drained: true, config: { queue_limit: 50 } });
    expect(a.nodes.find((n) => n.id === "db")).toEqual(arch().nodes.find((n) => n.id === "db"));
    a = applyAction(a, { op: "drain", id: "app", drain: false }, null);
    expect(a.nodes.find((n) => n.id === "app")?.drained).toBe(false);
  });

  it("merges edge settings and removes edges with their node", () => {
    let a = applyAction(arch(), { op: "configure_edge", from: "app", to: "db", config: { retries: 2 } }, null);
    expect(a.edges.find((e) => e.to === "db")?.config).toEqual({ timeout_ms: 1000, retries: 2 });
    a = applyAction(a, { op: "disconnect", from: "users", to: "app" }, null);
    expect(a.edges).toHaveLength(1);
    a = applyAction(a, { op: "remove_node", id: "db" }, null);
    expect(a.edges).toHaveLength(0);
  });

  it("leaves the architecture as it was for what does not fit", () => {
    const a = arch();
    expect(applyAction(a, { op: "scale", id: "ghost", instances: 2 }, null)).toBe(a);
    expect(applyAction(a, { op: "connect", from: "users", to: "app" }, null)).toBe(a);
    expect(applyAction(a, { op: "fail_over", id: "db" }, null)).toBe(a);
  });
});

describe("closePolicy", () => {
  it("has a decision for every close code", () => {
    for (const code of Object.values(CloseCode)) expect(closePolicy(code).message).not.toBe("");
  });

  it("resumes after drops, restarts, rate limits and slow reads; stops on the rest", () => {
    for (const code of [1006, 4001, 4008, 4009]) expect(closePolicy(code).action).toBe("resume");
    expect(closePolicy(CloseCode.NORMAL).action).toBe("stop");
    expect(closePolicy(CloseCode.BAD_TOKEN).action).toBe("new_session");
    expect(closePolicy(CloseCode.VERSION_MISMATCH).action).toBe("reload");
    for (const code of [1011, 4010, 4011]) expect(closePolicy(code).action).toBe("rejoin");
    for (const code of [1007, 1009, 4002]) expect(closePolicy(code).action).toBe("fatal");
    expect(closePolicy(CloseCode.RATE_LIMITED).minDelayMs).toBeGreaterThan(0);
  });
});

describe("MetricsHistory", () => {
  it("keeps a node added later aligned with the time axis", () => {
    const m = serverFixture("server_metrics", "metrics").report;
    const h = new MetricsHistory(10);
    h.push({ ...m, tick: 1, nodes: m.nodes.filter((n) => n.id !== "db") });
    h.push({ ...m, tick: 2 });
    const db = h.node("db");
    expect(db?.utilization.length).toBe(h.t.length);
    expect(Number.isNaN(db?.utilization.toArray()[0])).toBe(true);
  });
});

describe("Ring", () => {
  it("keeps the newest samples, oldest first", () => {
    const r = new Ring(3);
    for (const v of [1, 2, 3, 4, 5]) r.push(v);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.last()).toBe(5);
    r.clear();
    expect(r.length).toBe(0);
    expect(r.last()).toBeUndefined();
  });
});
