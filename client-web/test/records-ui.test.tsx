// Components of the records side against a mocked fetch: leaderboard rows, the results' rank
// around the player, the home page's progress and daily card, the leaderboards page's cursors,
// and the receipt page's verdicts (valid, and an edited copy that is not) and its replay from the
// server (this run and the best run as a ghost; an error shows the server's message).
import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { GameController } from "../src/state/controller";
import { ControllerContext } from "../src/ui/hooks";
import { LeaderboardTable } from "../src/ui/LeaderboardTable";
import { Results } from "../src/ui/room/Results";
import { Home } from "../src/ui/Home";
import { Leaderboards } from "../src/ui/Leaderboards";
import ReceiptPage from "../src/ui/receipt/ReceiptPage";
import { NoticeBar } from "../src/ui/NoticeBar";
import type { LeaderboardEntry, LeaderboardPage, Receipt, Replay } from "../src/protocol/generated";
import type { ReplayTrace } from "../src/replay/trace";
import { serverFixture } from "./fixtures";

// uPlot needs a real canvas (jsdom has none): the stub shows what the chart was handed.
vi.mock("../src/charts/TraceChart", () => ({
  TraceChart: ({ mine, ghost, testId }: { mine: ReplayTrace; ghost: ReplayTrace | null; testId?: string }) => (
    <figure data-testid={testId ?? "chart"}>
      {`${mine.samples} samples; ghost ${ghost && mine.alignsWith(ghost) ? ghost.samples : "none"}`}
    </figure>
  ),
}));

const entry = (rank: number, player: string, score: number): LeaderboardEntry => ({
  rank,
  player,
  name: `${player}-name`,
  score,
  stars: 3,
  cost_per_hour: 1.2,
  finished_at: 1_764_460_800_000,
  attempt_id: `a-${player}`,
  receipt_id: `r-${player}`,
});
const page = (entries: LeaderboardEntry[], extra: Partial<LeaderboardPage> = {}): LeaderboardPage => ({
  level: "01-scale-out",
  mode: "solo",
  window: "all",
  period: "all",
  entries,
  total: 40,
  source: "memory",
  ...extra,
});
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

function routes(table: [RegExp, (url: string, init?: RequestInit) => Response][]) {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(url);
      const hit = table.find(([re]) => re.test(url));
      return hit ? hit[1](url, init) : json({ error: { code: "not_found", message: "nope" } }, 404);
    }),
  );
  return calls;
}

function withController(ui: ReactNode, me?: string) {
  const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
  if (me) c.game.set({ me: { player: me, name: "Ada" } });
  render(<ControllerContext.Provider value={c}>{ui}</ControllerContext.Provider>);
  return c;
}

afterEach(() => vi.unstubAllGlobals());

describe("LeaderboardTable", () => {
  it("marks the viewer's row and links every row to its receipt", () => {
    render(<LeaderboardTable entries={[entry(1, "x", 990), entry(2, "me", 912)]} me="me" caption="board" />);
    const mine = screen.getByTestId("board-row-me");
    expect(mine.getAttribute("aria-current")).toBe("true");
    expect(mine.textContent).toContain("912");
    const link = screen.getByLabelText("Receipt of x-name's run, rank 1");
    expect(link.getAttribute("href")).toBe("/receipts/r-x");
  });
});

describe("Results", () => {
  const { result } = serverFixture("server_attempt_finished", "attempt_finished");

  it("links the receipt and shows the rank with the neighbours once the board has the run", async () => {
    let polls = 0;
    routes([
      [
        /\/players\/me\/attempts/,
        () =>
          json({
            attempts: [{ id: "a-me", level: "01-scale-out", mode: "solo", seed: 1, status: "finished", started_at: 0 }],
          }),
      ],
      [
        /\/around\/me/,
        () => {
          polls += 1;
          // The first poll comes before the board was fed.
          return polls === 1
            ? json({ error: { code: "not_found", message: "not on board" } }, 404)
            : json(page([entry(6, "x", 950), entry(7, "me", result.score), entry(8, "y", 700)]));
        },
      ],
    ]);
    withController(
      <Results
        result={result}
        receiptId="r-me"
        rank={{ level: "01-scale-out", mode: "solo", player: "me", attemptId: "a-me" }}
        onRetry={() => {}}
        onClose={() => {}}
        onHome={() => {}}
      />,
    );
    expect(screen.getByTestId("receipt-link").getAttribute("href")).toBe("/receipts/r-me");
    expect(screen.getByText("Finding your rank…")).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("my-rank").textContent).toBe("7"), { timeout: 6000 });
    expect(screen.getAllByTestId("board-row")).toHaveLength(2);
  });

  it("says practice runs are not ranked, and failed runs are not either", () => {
    withController(<Results result={result} onRetry={() => {}} onClose={() => {}} onHome={() => {}} />);
    expect(screen.getByText("Practice runs are not ranked.")).toBeTruthy();
  });
});

describe("Home", () => {
  it("shows stars per level from the player's progress, and the daily challenge", async () => {
    routes([
      [
        /\/api\/v1\/levels$/,
        () =>
          json({
            levels: [
              {
                id: "01-scale-out",
                title: "One",
                concept: "c",
                duration_s: 300,
                tick_hz: 10,
                budget_per_hour: 2,
                objectives: {},
              },
              {
                id: "02-cache",
                title: "Two",
                concept: "c",
                duration_s: 300,
                tick_hz: 10,
                budget_per_hour: 2,
                objectives: {},
              },
            ],
          }),
      ],
      [/\/api\/v1\/rooms/, () => json({ rooms: [] })],
      [/\/api\/v1\/daily/, () => json({ date: "2026-11-30", level: "02-cache", seed: 77 })],
      [
        /\/players\/me\/progress/,
        () =>
          json({
            player: "me",
            name: "Ada",
            levels: [{ level: "01-scale-out", passed: true, stars: 2, best_score: 812.4, attempts: 3 }],
          }),
      ],
    ]);
    withController(<Home />, "me");
    await waitFor(() => expect(screen.getByText(/best 812 · 3 tries/)).toBeTruthy());
    expect(screen.getByTestId("level-01-scale-out").querySelector('[aria-label="2 stars"]')).toBeTruthy();
    expect(screen.getByTestId("level-02-cache").textContent).toContain("not played yet");
    expect(screen.getByTestId("progress-summary").textContent).toBe("1 of 2 passed · 2 of 6 ★");
    const daily = screen.getByTestId("daily");
    await waitFor(() => expect(daily.textContent).toContain("Two"));
    expect(daily.textContent).toContain("seed 77");
    expect(screen.getByText("Today's board").getAttribute("href")).toBe(
      "/leaderboards/02-cache?window=day&period=2026-11-30",
    );
  });
});

describe("Leaderboards page", () => {
  it("pages with the server's cursors and jumps to the viewer's neighbourhood", async () => {
    const calls = routes([
      [/\/api\/v1\/levels$/, () => json({ levels: [] })],
      [/around\/me/, () => json(page([entry(21, "me", 500)]))],
      [
        /players\/me\/progress/,
        () =>
          json({
            player: "me",
            name: "Ada",
            levels: [{ level: "01-scale-out", passed: true, stars: 1, best_score: 500, attempts: 1 }],
          }),
      ],
      [/after=c2/, () => json(page([entry(21, "z", 400)], { prev: "c3" }))],
      [/leaderboards\/01-scale-out/, () => json(page([entry(1, "x", 990)], { next: "c2" }))],
    ]);
    withController(<Leaderboards level="01-scale-out" view={{ window: "week", period: "2026-w48" }} />, "me");
    await waitFor(() => expect(screen.getByTestId("board").textContent).toContain("x-name"));
    expect(calls.some((u) => u.includes("window=week&period=2026-w48"))).toBe(true);
    fireEvent.click(screen.getByText("Worse →"));
    await waitFor(() => expect(screen.getByTestId("board").textContent).toContain("z-name"));
    expect((screen.getByText("← Better") as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(screen.getByTestId("around-me-button"));
    await waitFor(() => expect(screen.getByTestId("board-row-me")).toBeTruthy());
  });
});

describe("Receipt page", () => {
  const result = serverFixture("server_attempt_finished", "attempt_finished").result;
  const receipt: Receipt = {
    version: 1,
    id: "r-me",
    attempt_id: "a-me",
    level: "01-scale-out",
    level_version: 1,
    level_hash: "00",
    engine: "1",
    seed: 42,
    mode: "solo",
    players: [{ id: "me", name: "Ada" }],
    actions: [{ tick: 0, player: "me", action: { op: "add_node", id: "lb", component: "load-balancer" } }],
    result,
    started_at: 0,
    finished_at: 1_764_460_800_000,
    key_id: "abcd",
    signature: "sig",
  };
  const text = JSON.stringify(receipt);

  it("verifies the exact text, shows who and what, and reads an edited copy as invalid", async () => {
    const bodies: string[] = [];
    routes([
      [
        /receipts\/verify/,
        (_u, init) => {
          const body = String(init?.body);
          bodies.push(body);
          return json(body === text ? { valid: true } : { valid: false, reason: "the signature does not match" });
        },
      ],
      [/receipts\/r-me/, () => new Response(text)],
      [/leaderboards/, () => json(page([entry(1, "me", result.score)]))],
    ]);
    withController(<ReceiptPage id="r-me" />, "me");
    await waitFor(() => expect(screen.getByTestId("verdict").textContent).toContain("Valid"));
    expect(bodies[0]).toBe(text);
    expect(screen.getByTestId("receipt-players").textContent).toBe("Ada");
    expect(screen.getByTestId("receipt-actions").textContent).toContain("add lb (load-balancer)");
    await waitFor(() => expect(screen.getByText(/This is the best run on its board/)).toBeTruthy());
    const area = screen.getByLabelText("Receipt text") as HTMLTextAreaElement;
    fireEvent.change(area, { target: { value: text.replace('"seed":42', '"seed":43') } });
    fireEvent.click(screen.getByTestId("verify-copy"));
    await waitFor(() =>
      expect(screen.getByTestId("copy-verdict").textContent).toContain("Invalid: the signature does not match"),
    );
  });

  const metrics = serverFixture("server_metrics", "metrics").report.system;
  const replayOf = (id: string, matches: boolean): Replay => ({
    receipt_id: id,
    level: "01-scale-out",
    seed: 42,
    tick_hz: 10,
    total_ticks: 30,
    every: 10,
    frames: [0, 10, 20, 29].map((tick) => ({ tick, t: (tick + 1) / 10, system: metrics })),
    result,
    matches,
  });

  it("replays this run and the best run from the server and says whether the result is the same", async () => {
    const calls = routes([
      [/receipts\/r-me\/replay/, () => json(replayOf("r-me", true))],
      [/receipts\/r-top\/replay/, () => json(replayOf("r-top", false))],
      [/receipts\/verify/, () => json({ valid: true })],
      [/receipts\/r-me/, () => new Response(text)],
      [/leaderboards/, () => json(page([entry(1, "top", result.score + 10)]))],
    ]);
    withController(<ReceiptPage id="r-me" />, "me");
    await waitFor(() => expect(screen.getByText(/The dashed line is the best run on this board/)).toBeTruthy());
    fireEvent.click(screen.getByTestId("replay"));
    await waitFor(() => expect(screen.getByTestId("replay-status").getAttribute("data-state")).toBe("done"));
    expect(screen.getByTestId("replay-status").textContent).toContain("re-simulated: same result");
    await waitFor(() => expect(screen.getByTestId("ghost-status").getAttribute("data-state")).toBe("done"));
    expect(screen.getByTestId("ghost-status").textContent).toContain("a different result from the receipt");
    expect(screen.getByTestId("replay-goodput").textContent).toBe("4 samples; ghost 4");
    expect(calls.filter((u) => u.includes("/replay"))).toEqual([
      "/api/v1/receipts/r-me/replay",
      "/api/v1/receipts/r-top/replay",
    ]);
  });

  it("shows the server's message when the run cannot be replayed", async () => {
    routes([
      [/\/replay/, () => json({ error: { code: "conflict", message: "the level changed since the run" } }, 409)],
      [/receipts\/verify/, () => json({ valid: true })],
      [/receipts\/r-me/, () => new Response(text)],
      [/leaderboards/, () => json(page([entry(1, "me", result.score)]))],
    ]);
    withController(<ReceiptPage id="r-me" />, "me");
    await waitFor(() => expect(screen.getByText(/This is the best run on its board/)).toBeTruthy());
    fireEvent.click(screen.getByTestId("replay"));
    await waitFor(() => expect(screen.getByTestId("replay-status").getAttribute("data-state")).toBe("failed"));
    expect(screen.getByTestId("replay-status").textContent).toContain("the level changed since the run");
    expect(screen.queryByTestId("ghost-status")).toBeNull();
    expect(screen.queryByTestId("replay-charts")).toBeNull();
  });
});

describe("NoticeBar", () => {
  it("offers a practice room of the level when ranked play is refused", () => {
    const c = new GameController({ wsUrl: "ws://127.0.0.1:9/ws" });
    c.game.receive(serverFixture("server_room_snapshot", "room_snapshot"));
    c.game.receive({ type: "error", code: "storage_unavailable", message: "storage is unavailable" });
    const create = vi.spyOn(c, "createRoom").mockResolvedValue();
    render(
      <ControllerContext.Provider value={c}>
        <NoticeBar />
      </ControllerContext.Provider>,
    );
    fireEvent.click(screen.getByText("Practise this level"));
    expect(create).toHaveBeenCalledWith(c.game.state.room?.level, "solo", true);
    expect(c.game.state.notice).toBeNull();
  });
});
