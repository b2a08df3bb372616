// The records side without a server: API calls (URLs, exact receipt text, 404s), leaderboard
// periods as the server names them, the rank poll, replay traces and the replay driver.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  getReceipt,
  leaderboard,
  leaderboardAround,
  playerProgress,
  queryString,
  verifyReceipt,
} from "../src/api/records";
import { ApiError } from "../src/api/http";
import { isoWeek, periodOf, recentPeriods } from "../src/records/periods";
import { afterRecorded, pollRank, settled } from "../src/records/rankPoll";
import { ReplayTrace } from "../src/replay/trace";
import { ReplayRun } from "../src/replay/replayRun";
import { describeAction } from "../src/records/describe";
import { parseRoute, routePath } from "../src/ui/router";
import type { ClientMsg, LeaderboardEntry, LeaderboardPage, Receipt, TickReport } from "../src/protocol/generated";
import { serverFixture } from "./fixtures";

const entry = (rank: number, player: string, score: number, attempt = `a-${player}`): LeaderboardEntry => ({
  rank,
  player,
  name: player.toUpperCase(),
  score,
  stars: 3,
  cost_per_hour: 1.2,
  finished_at: 1_764_460_800_000,
  attempt_id: attempt,
  receipt_id: `r-${player}`,
});

export const page = (entries: LeaderboardEntry[], extra: Partial<LeaderboardPage> = {}): LeaderboardPage => ({
  level: "01-scale-out",
  mode: "solo",
  window: "all",
  period: "all",
  entries,
  total: entries.length,
  source: "memory",
  ...extra,
});

function mockFetch(respond: (url: string, init?: RequestInit) => Response) {
  const calls: { url: string; init?: RequestInit }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, ...(init ? { init } : {}) });
      return respond(url, init);
    }),
  );
  return calls;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

afterEach(() => vi.unstubAllGlobals());

describe("records API", () => {
  it("builds leaderboard URLs with mode, window, period and cursors (no period for all time)", async () => {
    const calls = mockFetch(() => json(page([])));
    await leaderboard("01-scale-out", { mode: "race", window: "week", period: "2026-w49", limit: 20, after: "c1" });
    await leaderboard("01-scale-out", { window: "all", period: "2026-w49" });
    await leaderboard("a b");
    expect(calls.map((c) => c.url)).toEqual([
      "/api/v1/leaderboards/01-scale-out?mode=race&window=week&period=2026-w49&limit=20&after=c1",
      "/api/v1/leaderboards/01-scale-out?window=all",
      "/api/v1/leaderboards/a%20b",
    ]);
    expect(queryString({ a: undefined, b: "", c: 0 })).toBe("?c=0");
  });

  it("reads a missing player as null around and in progress, and other errors as ApiError", async () => {
    mockFetch(() => json({ error: { code: "not_found", message: "`p` is not on this leaderboard" } }, 404));
    expect(await leaderboardAround("01-scale-out", "p")).toBeNull();
    expect(await playerProgress("p")).toBeNull();
    mockFetch(() => json({ error: { code: "unavailable", message: "storage is unavailable" } }, 503));
    await expect(leaderboard("01-scale-out")).rejects.toMatchObject({ status: 503, message: "storage is unavailable" });
    await expect(leaderboardAround("01-scale-out", "p")).rejects.toBeInstanceOf(ApiError);
  });

  it("keeps a receipt's exact text and sends exactly that text to verify", async () => {
    // Unusual spacing on purpose: re-encoding it would change the bytes the signature covers.
    const text = '{"version":1,  "id":"r1","result":{"score":912.5}}';
    const calls = mockFetch((url) => (url.endsWith("/verify") ? json({ valid: true }) : new Response(text)));
    const got = await getReceipt("r1");
    expect(got.text).toBe(text);
    expect(got.receipt.id).toBe("r1");
    expect(await verifyReceipt(got.text)).toEqual({ valid: true });
    const post = calls[1];
    expect(post?.url).toBe("/api/v1/receipts/verify");
    expect(post?.init?.method).toBe("POST");
    expect(post?.init?.body).toBe(text);
  });
});

describe("leaderboard periods", () => {
  it("names days, ISO weeks and quarters as the server does (UTC)", () => {
    const t = Date.UTC(2026, 10, 30, 23, 59); // Monday 30 November 2026
    expect(periodOf("day", t)).toBe("2026-11-30");
    expect(periodOf("week", t)).toBe("2026-w49");
    expect(periodOf("season", t)).toBe("2026-q4");
    expect(periodOf("all", t)).toBe("all");
    // ISO years at the edges: 1 Jan 2027 is a Friday, so it belongs to 2026's week 53.
    expect(isoWeek(new Date(Date.UTC(2027, 0, 1)))).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(new Date(Date.UTC(2024, 11, 30)))).toEqual({ year: 2025, week: 1 });
  });

  it("lists the current period and the ones before it, newest first", () => {
    const t = Date.UTC(2026, 0, 2);
    expect(recentPeriods("day", t, 3)).toEqual(["2026-01-02", "2026-01-01", "2025-12-31"]);
    expect(recentPeriods("week", t, 2)).toEqual(["2026-w01", "2025-w52"]);
    expect(recentPeriods("season", t, 3)).toEqual(["2026-q1", "2025-q4", "2025-q3"]);
    expect(recentPeriods("all", t, 3)).toEqual([]);
  });
});

describe("rank poll", () => {
  it("settles on this attempt, or an older best at least as good", () => {
    expect(settled(undefined, { attemptId: "a", score: 900 })).toBe(false);
    expect(settled(entry(1, "me", 800, "old"), { attemptId: "new", score: 900 })).toBe(false);
    expect(settled(entry(1, "me", 900, "new"), { attemptId: "new", score: 900 })).toBe(true);
    expect(settled(entry(1, "me", 950, "old"), { attemptId: "new", score: 900 })).toBe(true);
  });

  it("polls until the row shows up, reporting every page", async () => {
    const pages = [null, page([entry(1, "x", 990)]), page([entry(1, "x", 990), entry(2, "me", 912, "att")])];
    let i = 0;
    const seen: (LeaderboardPage | null)[] = [];
    const r = await pollRank(
      async () => pages[i++] ?? null,
      "me",
      { attemptId: "att", score: 912 },
      {
        intervalMs: 1,
        onPage: (p) => seen.push(p),
      },
    );
    expect(r.state).toBe("found");
    expect(i).toBe(3);
    expect(seen).toHaveLength(3);
  });

  it("gives up after its tries, survives failed polls, and stops when aborted", async () => {
    let calls = 0;
    const r = await pollRank(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error("503");
        return page([]);
      },
      "me",
      { score: 1 },
      { tries: 3, intervalMs: 1 },
    );
    expect(r.state).toBe("missing");
    expect(calls).toBe(3);
    const abort = new AbortController();
    abort.abort();
    expect((await pollRank(async () => page([]), "me", { score: 1 }, { signal: abort.signal })).state).toBe("aborted");
  });
});

const report = (tick: number, goodput = 100): TickReport => {
  const base = serverFixture("server_metrics", "metrics").report;
  return { ...base, tick, t: tick / 10, system: { ...base.system, goodput } };
};

describe("rank poll gate", () => {
  it("asks the board only a poll after the attempt is recorded", async () => {
    const recorded = [false, true];
    let boardCalls = 0;
    const load = afterRecorded(
      async () => recorded.shift() ?? true,
      async () => (boardCalls++, page([])),
    );
    expect(await load()).toBeNull(); // not recorded yet
    expect(await load()).toBeNull(); // recorded: give the projector one poll
    expect(await load()).not.toBeNull();
    expect(boardCalls).toBe(1);
  });
});

describe("replay trace", () => {
  it("keeps one slot per tick, NaN (a gap) until a frame arrives, first frame wins", () => {
    const t = new ReplayTrace(5, 10);
    t.push(report(1, 50));
    t.push(report(1, 70)); // repeated frame
    t.push(report(9, 1)); // outside the run
    t.push(report(3, 80));
    expect(t.column("goodput")).toEqual([null, 50, null, 80, null]);
    expect(t.column("error_rate", 100)[1]).toBeCloseTo(0.4);
    expect(t.xs()).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(t.samples).toBe(2);
    expect(t.lastTick).toBe(3);
  });
});

function receiptWith(actions: Receipt["actions"]): Receipt {
  const result = serverFixture("server_attempt_finished", "attempt_finished").result;
  return {
    version: 1,
    id: "r1",
    attempt_id: "a1",
    level: "01-scale-out",
    level_version: 1,
    level_hash: "00",
    engine: "1",
    seed: 42,
    mode: "solo",
    players: [{ id: "p1", name: "Ada" }],
    actions,
    result,
    started_at: 0,
    finished_at: 1,
    key_id: "k",
  };
}

describe("replay driver", () => {
  const snapshot = serverFixture("server_room_snapshot", "room_snapshot");

  function setup(actions: Receipt["actions"]) {
    const sent: ClientMsg[] = [];
    const run = new ReplayRun(
      receiptWith(actions),
      (m) => (sent.push(m), true),
      () => {},
      1000,
    );
    return { run, sent };
  }

  it("builds the lobby, starts once every lobby action is answered, and sends later actions a tick early", () => {
    const { run, sent } = setup([
      { tick: 0, player: "p1", action: { op: "add_node", id: "lb", component: "load-balancer" } },
      { tick: 0, player: "p1", action: { op: "connect", from: "lb", to: "web" } },
      { tick: 100, player: "p1", action: { op: "scale", id: "web", instances: 4 } },
    ]);
    run.receive({ type: "welcome", player: "p1", name: "Ada", server_time: 0 } as never);
    expect(sent[0]).toMatchObject({
      type: "create_room",
      level: "01-scale-out",
      seed: 42,
      practice: true,
      mode: "solo",
    });
    run.receive({ ...snapshot, room: { ...snapshot.room, total_ticks: 3000, tick_hz: 10 } });
    const lobby = sent.filter((m) => m.type === "action");
    expect(lobby).toHaveLength(2);
    expect(sent.some((m) => m.type === "start")).toBe(false);
    for (const m of lobby)
      if (m.type === "action") run.receive({ type: "action_result", req_id: m.req_id, ok: true, tick: 0 });
    expect(sent.filter((m) => m.type === "start")).toHaveLength(1);
    // Far from the next action: fast.
    expect(sent).toContainEqual({ type: "practice", op: { op: "speed", factor: 4 } });
    run.receive({ type: "metrics", report: report(10) });
    expect(sent.filter((m) => m.type === "action")).toHaveLength(2);
    // Within three seconds of it: slow, and nothing sent yet.
    run.receive({ type: "metrics", report: report(80) });
    expect(sent.at(-1)).toEqual({ type: "practice", op: { op: "speed", factor: 1 } });
    // The frame of tick 99: the world stands at 100, the action goes now.
    run.receive({ type: "metrics", report: report(99) });
    const scale = sent.filter((m) => m.type === "action")[2];
    expect(scale).toMatchObject({ action: { op: "scale", instances: 4 } });
    if (scale?.type === "action") run.receive({ type: "action_result", req_id: scale.req_id, ok: true, tick: 100 });
    expect(run.trace?.samples).toBe(3);
    const finished = serverFixture("server_attempt_finished", "attempt_finished");
    run.receive(finished);
    expect(run.status).toMatchObject({ state: "done", exact: true, matches: true, late: 0 });
    expect(sent.at(-1)).toEqual({ type: "leave_room" });
  });

  it("pauses a few ticks before a mid-run action and steps the world to its tick, probing where it stands", () => {
    const sent: ClientMsg[] = [];
    const timers: (() => void)[] = [];
    const run = new ReplayRun(
      receiptWith([{ tick: 100, player: "p1", action: { op: "scale", id: "web", instances: 4 } }]),
      (m) => (sent.push(m), true),
      () => {},
      1000,
      (f) => void timers.push(f),
    );
    run.receive({ type: "welcome", player: "p1", name: "Ada", server_time: 0 } as never);
    run.receive(snapshot);
    run.receive({ type: "metrics", report: report(96) }); // the world stands at 97: three ticks to go
    const probeOf = () => sent.filter((m) => m.type === "action").at(-1);
    expect(sent.slice(-2)).toMatchObject([
      { type: "practice", op: { op: "pause" } },
      { type: "action", action: { op: "fail_over", id: "replay-tick-probe" } },
    ]);
    const answer = (tick: number) => {
      const p = probeOf();
      if (p?.type === "action") run.receive({ type: "action_result", req_id: p.req_id, ok: false, tick });
    };
    for (const at of [97, 98, 99]) {
      answer(at);
      run.receive({ type: "metrics", report: report(at) }); // frames while stepping change nothing
      timers.shift()?.(); // the pause between steps
      expect(sent.at(-1)).toEqual({ type: "practice", op: { op: "unpause" } });
      timers.shift()?.(); // one tick's worth of clock
      expect(sent.slice(-2)).toMatchObject([{ type: "practice", op: { op: "pause" } }, { type: "action" }]);
    }
    expect(sent.some((m) => m.type === "action" && m.action.op === "scale")).toBe(false);
    answer(100);
    const scale = sent.find((m) => m.type === "action" && m.action.op === "scale");
    expect(scale).toBeTruthy();
    expect(sent.at(-1)).toMatchObject({ type: "practice", op: { op: "unpause" } });
    if (scale?.type === "action") run.receive({ type: "action_result", req_id: scale.req_id, ok: true, tick: 100 });
    run.receive(serverFixture("server_attempt_finished", "attempt_finished"));
    expect(run.status).toMatchObject({ state: "done", exact: true, refused: 0 });
  });

  it("keeps under the server's message rate: a long lobby goes out paced", () => {
    const sent: ClientMsg[] = [];
    const timers: (() => void)[] = [];
    let now = 0;
    const lobby = Array.from({ length: 50 }, (_, i) => ({
      tick: 0,
      player: "p1",
      action: { op: "scale" as const, id: "web", instances: (i % 9) + 1 },
    }));
    const run = new ReplayRun(
      receiptWith(lobby),
      (m) => (sent.push(m), true),
      () => {},
      1000,
      (f) => void timers.push(f),
      () => now,
    );
    run.receive({ type: "welcome", player: "p1", name: "Ada", server_time: 0 } as never);
    run.receive(snapshot);
    expect(sent).toHaveLength(30); // the burst: create_room and 29 actions
    now += 1000;
    timers.shift()?.();
    expect(sent).toHaveLength(45); // fifteen a second after that
  });

  it("counts an action that landed on a later tick, and fails on a second welcome (a dropped connection)", () => {
    const { run, sent } = setup([{ tick: 5, player: "p1", action: { op: "scale", id: "web", instances: 2 } }]);
    run.receive({ type: "welcome", player: "p1", name: "Ada", server_time: 0 } as never);
    run.receive(snapshot);
    run.receive({ type: "metrics", report: report(7) }); // frame of tick 4 skipped: sent late
    const a = sent.find((m) => m.type === "action");
    if (a?.type === "action") run.receive({ type: "action_result", req_id: a.req_id, ok: true, tick: 8 });
    const other = serverFixture("server_attempt_finished", "attempt_finished");
    run.receive({ ...other, result: { ...other.result, score: other.result.score - 10 } });
    expect(run.status).toMatchObject({ state: "done", exact: false, late: 1, matches: false });

    const second = setup([]);
    second.run.receive({ type: "welcome", player: "p1", name: "Ada", server_time: 0 } as never);
    second.run.receive({ type: "welcome", player: "p1", name: "Ada", server_time: 0 } as never);
    expect(second.run.status.state).toBe("failed");
  });

  it("fails with the server's message when the room cannot be made", () => {
    const { run } = setup([]);
    run.receive({ type: "welcome", player: "p1", name: "Ada", server_time: 0 } as never);
    run.receive({ type: "error", code: "level_not_found", message: "there is no level `x`" });
    expect(run.status).toEqual({ state: "failed", reason: "there is no level `x`" });
  });
});

describe("routes and action lines", () => {
  it("round-trips leaderboards with their coordinates, and receipts", () => {
    const r = parseRoute("/leaderboards/01-scale-out?mode=team&window=week&period=2026-w48&junk=1");
    expect(r).toEqual({
      name: "leaderboards",
      level: "01-scale-out",
      mode: "team",
      window: "week",
      period: "2026-w48",
    });
    expect(routePath(r)).toBe("/leaderboards/01-scale-out?mode=team&window=week&period=2026-w48");
    expect(parseRoute("/leaderboards?window=nope")).toEqual({ name: "leaderboards" });
    expect(routePath({ name: "leaderboards", window: "all", period: "x" })).toBe("/leaderboards?window=all");
    expect(parseRoute("/receipts/r-1")).toEqual({ name: "receipt", id: "r-1" });
  });

  it("describes actions in one line", () => {
    expect(describeAction({ op: "add_node", id: "lb", component: "load-balancer", instances: 2 })).toBe(
      "add lb (load-balancer ×2)",
    );
    expect(describeAction({ op: "connect", from: "users", to: "lb" })).toBe("connect users → lb");
    expect(describeAction({ op: "drain", id: "db", drain: false })).toBe("undrain db");
  });
});
