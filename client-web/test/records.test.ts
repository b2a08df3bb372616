// The records side without a server: API calls (URLs, exact receipt text, 404s), leaderboard
// periods as the server names them, the rank poll, the server's replays and their traces.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  getReceipt,
  getReplay,
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
import { describeAction } from "../src/records/describe";
import { parseRoute, routePath } from "../src/ui/router";
import type { LeaderboardEntry, LeaderboardPage, Replay, ReplayFrame } from "../src/protocol/generated";
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

/** A replay frame of tick `tick` (10 ticks a second: t is the end of the tick). */
const frame = (tick: number, goodput = 100): ReplayFrame => {
  const base = serverFixture("server_metrics", "metrics").report;
  return { tick, t: (tick + 1) / 10, system: { ...base.system, goodput } };
};

const replayOf = (id: string, frames: ReplayFrame[]): Replay => ({
  receipt_id: id,
  level: "01-scale-out",
  seed: 42,
  tick_hz: 10,
  total_ticks: 3000,
  every: 10,
  frames,
  result: serverFixture("server_attempt_finished", "attempt_finished").result,
  matches: true,
});

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

describe("replay", () => {
  it("fetches the server's replay, with the step only when asked", async () => {
    const calls = mockFetch(() => json(replayOf("r1", [frame(0, 50), frame(10, 60)])));
    const r = await getReplay("r 1");
    expect(calls[0]?.url).toBe("/api/v1/receipts/r%201/replay");
    expect(r.matches).toBe(true);
    expect(r.frames.map((f) => f.tick)).toEqual([0, 10]);
    await getReplay("r1", 5);
    expect(calls[1]?.url).toBe("/api/v1/receipts/r1/replay?every=5");
  });

  it("rejects with the server's code and message (a changed level is a 409)", async () => {
    mockFetch(() => json({ error: { code: "conflict", message: "the level changed since the run" } }, 409));
    const e = await getReplay("r1").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 409, code: "conflict", message: "the level changed since the run" });
    mockFetch(() => json({ error: { code: "storage_unavailable", message: "storage is unavailable" } }, 503));
    await expect(getReplay("r1")).rejects.toMatchObject({ status: 503 });
  });

  it("builds a trace with one sample per frame, x in simulated seconds, gaps as null", () => {
    const gap = { ...frame(20, 0), system: { ...frame(20, 0).system, goodput: null as unknown as number } };
    // Out of order on purpose: the x axis must still increase.
    const t = new ReplayTrace(replayOf("r1", [frame(10, 60), frame(0, 50), gap]));
    expect(t.xs).toEqual([0.1, 1.1, 2.1]);
    expect(t.column("goodput")).toEqual([50, 60, null]);
    expect(t.column("error_rate", 100)[0]).toBeCloseTo(frame(0, 50).system.error_rate * 100);
    expect(t.samples).toBe(3);
  });

  it("overlays a ghost only when it was sampled at the same ticks", () => {
    const a = new ReplayTrace(replayOf("a", [frame(0), frame(10)]));
    expect(a.alignsWith(new ReplayTrace(replayOf("b", [frame(0, 7), frame(10, 8)])))).toBe(true);
    expect(a.alignsWith(new ReplayTrace(replayOf("c", [frame(0), frame(5)])))).toBe(false);
    expect(a.alignsWith(new ReplayTrace(replayOf("d", [frame(0)])))).toBe(false);
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
