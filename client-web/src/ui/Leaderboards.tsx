// The leaderboards page: one board per level, mode, window and period, paged with the server's
// opaque cursors, with a jump to the viewer's own neighbourhood; every row links to its receipt.
// Invariant: the address holds the board's coordinates (level, mode, window, period), so a board
// can be shared and survives a reload; the page position (cursor) is view state only.
import { useEffect, useState } from "react";
import { listLevels } from "../api/http";
import { leaderboard, leaderboardAround, playerProgress } from "../api/records";
import type { LeaderboardPage, Mode, Window } from "../protocol/generated";
import { recentPeriods } from "../records/periods";
import { LeaderboardTable } from "./LeaderboardTable";
import { Link } from "./Link";
import { useGame } from "./hooks";
import { navigate, type BoardView } from "./router";
import { selectMe } from "../state/selectors";
import { useFetch } from "./useFetch";

const PAGE = 20;
const WINDOW_LABEL: Record<Window, string> = { all: "All time", season: "Season", week: "Week", day: "Day" };
const PERIODS_SHOWN: Record<Window, number> = { all: 0, season: 8, week: 12, day: 14 };

type Position =
  { kind: "top" } | { kind: "after"; cursor: string } | { kind: "before"; cursor: string } | { kind: "me" };

/**
 * The page around the player, asked only when they have passed the level at all: `around` answers
 * 404 for a player not on the board, which browsers log as a console error.
 */
async function aroundIfPassed(
  level: string,
  player: string,
  q: Parameters<typeof leaderboardAround>[2],
): Promise<LeaderboardPage | null> {
  const progress = await playerProgress(player);
  if (!progress?.levels.some((l) => l.level === level && l.passed)) return null;
  return leaderboardAround(level, player, q);
}

export function Leaderboards({ level, view }: { level: string | undefined; view: BoardView }) {
  const levels = useFetch(listLevels, []);
  const me = useGame(selectMe);
  const mode: Mode = view.mode ?? "solo";
  const window: Window = view.window ?? "all";
  const periods = recentPeriods(window, Date.now(), PERIODS_SHOWN[window]);
  const period = window === "all" ? undefined : (view.period ?? periods[0]);
  const levelId = level ?? levels.data?.[0]?.id;
  const [pos, setPos] = useState<Position>({ kind: "top" });
  // A different board starts at its top.
  useEffect(() => setPos({ kind: "top" }), [levelId, mode, window, period]);

  const board = useFetch<LeaderboardPage | null>(() => {
    if (!levelId) return Promise.resolve(null);
    const q = { mode, window, ...(period ? { period } : {}) };
    if (pos.kind === "me") return me ? aroundIfPassed(levelId, me.player, { ...q, limit: 11 }) : Promise.resolve(null);
    return leaderboard(levelId, {
      ...q,
      limit: PAGE,
      ...(pos.kind === "after" ? { after: pos.cursor } : pos.kind === "before" ? { before: pos.cursor } : {}),
    });
  }, [
    levelId,
    mode,
    window,
    period,
    pos.kind,
    pos.kind === "after" || pos.kind === "before" ? pos.cursor : "",
    me?.player,
  ]);

  const go = (patch: Partial<BoardView> & { level?: string }) => {
    const next = { mode, window, ...(period ? { period } : {}), ...patch };
    if (patch.window && patch.window !== window) delete next.period; // the new window's current period
    navigate(
      { name: "leaderboards", ...(levelId || patch.level ? { level: patch.level ?? levelId } : {}), ...next },
      true,
    );
  };

  const page = board.data;
  return (
    <div className="leaderboards panel">
      <Link to={{ name: "home" }} className="link">
        ← Home
      </Link>
      <h1>Leaderboards</h1>
      <form className="row board-filters" aria-label="Which leaderboard" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="lb-level">Level</label>
        <select id="lb-level" value={levelId ?? ""} onChange={(e) => go({ level: e.target.value })}>
          {levels.data?.map((l) => (
            <option key={l.id} value={l.id}>
              {l.id}: {l.title}
            </option>
          ))}
        </select>
        <label htmlFor="lb-mode">Mode</label>
        <select id="lb-mode" value={mode} onChange={(e) => go({ mode: e.target.value as Mode })}>
          <option value="solo">solo</option>
          <option value="race">race</option>
          <option value="team">team</option>
        </select>
        <label htmlFor="lb-window">Window</label>
        <select id="lb-window" value={window} onChange={(e) => go({ window: e.target.value as Window })}>
          {(Object.keys(WINDOW_LABEL) as Window[]).map((w) => (
            <option key={w} value={w}>
              {WINDOW_LABEL[w]}
            </option>
          ))}
        </select>
        {window !== "all" && (
          <>
            <label htmlFor="lb-period">Period</label>
            <select id="lb-period" value={period} onChange={(e) => go({ period: e.target.value })}>
              {[...new Set([...periods, ...(period ? [period] : [])])].map((p) => (
                <option key={p} value={p}>
                  {p}
                  {p === periods[0] ? " (current)" : ""}
                </option>
              ))}
            </select>
          </>
        )}
      </form>
      {board.error && <p className="error">Could not load the leaderboard: {board.error}</p>}
      {pos.kind === "me" && board.data === null && !board.error && me && (
        <p className="muted" data-testid="not-on-board">
          You are not on this board yet.
        </p>
      )}
      {page && (
        <>
          <p className="muted small" data-testid="board-total">
            {page.total} {page.total === 1 ? "player" : "players"} · {page.mode} · {WINDOW_LABEL[page.window]}
            {page.window !== "all" ? ` ${page.period}` : ""}
          </p>
          {page.entries.length === 0 ? (
            <p className="muted">Nobody on this board yet.</p>
          ) : (
            <LeaderboardTable
              entries={page.entries}
              me={me?.player}
              caption={`Leaderboard of ${page.level}, ${page.mode}, ${WINDOW_LABEL[page.window]}`}
              testId="board"
            />
          )}
        </>
      )}
      <nav className="row pager" aria-label="Pages">
        <button
          type="button"
          className="secondary"
          disabled={pos.kind === "top"}
          onClick={() => setPos({ kind: "top" })}
        >
          Top
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!page?.prev}
          onClick={() => page?.prev && setPos({ kind: "before", cursor: page.prev })}
        >
          ← Better
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!page?.next}
          onClick={() => page?.next && setPos({ kind: "after", cursor: page.next })}
        >
          Worse →
        </button>
        <button
          type="button"
          disabled={!me || pos.kind === "me"}
          onClick={() => setPos({ kind: "me" })}
          data-testid="around-me-button"
        >
          Around me
        </button>
      </nav>
    </div>
  );
}
