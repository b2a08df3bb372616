// Level briefing: what the level teaches, its objectives, budget and time, the ways to play, and
// the top of its (solo, all-time) leaderboard.
// Invariant: buttons only ask the controller; the room screen appears when the snapshot arrives.
import { useState } from "react";
import { getLevel } from "../api/http";
import { leaderboard } from "../api/records";
import { LeaderboardTable } from "./LeaderboardTable";
import { Link } from "./Link";
import { selectMe } from "../state/selectors";
import { useController, useGame } from "./hooks";
import { navigate } from "./router";
import { useFetch } from "./useFetch";
import { clock, money, pct } from "./format";
import type { Mode } from "../protocol/generated";

export function Briefing({ id }: { id: string }) {
  const level = useFetch(() => getLevel(id), [id]);
  const controller = useController();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const play = (mode: Mode, practice: boolean) => {
    setBusy(true);
    setError(null);
    controller
      .createRoom(id, mode, practice)
      .catch((e: unknown) => setError(String(e instanceof Error ? e.message : e)))
      .finally(() => setBusy(false));
  };
  const l = level.data;
  return (
    <div className="briefing panel">
      <button type="button" className="link" onClick={() => navigate({ name: "home" })}>
        ← All levels
      </button>
      {level.error && <p className="error">{level.error}</p>}
      {l && (
        <>
          <p className="level-chapter">{l.chapter}</p>
          <h1>{l.title}</h1>
          <p className="concept">{l.concept}</p>
          <div className="briefing-text">
            {l.briefing
              .trim()
              .split(/\n\s*\n/)
              .map((para, i) => (
                <p key={i}>{para}</p>
              ))}
          </div>
          <dl className="facts">
            <dt>Time</dt>
            <dd>{clock(l.duration_s)} of simulated time</dd>
            <dt>Budget</dt>
            <dd>
              {money(l.budget_per_hour)}/h{l.par_cost_per_hour ? ` (par ${money(l.par_cost_per_hour)}/h)` : ""}
            </dd>
            <dt>Objectives</dt>
            <dd>
              <ul>
                {l.objectives.p99_ms !== undefined && <li>p99 latency ≤ {l.objectives.p99_ms} ms</li>}
                {l.objectives.error_rate !== undefined && <li>errors ≤ {pct(l.objectives.error_rate, 1)}</li>}
                {l.objectives.min_compliance !== undefined && (
                  <li>both met for ≥ {pct(l.objectives.min_compliance)} of the run</li>
                )}
                {l.objectives.min_availability !== undefined && (
                  <li>availability ≥ {pct(l.objectives.min_availability, 1)}</li>
                )}
              </ul>
            </dd>
          </dl>
          <div className="row">
            <button type="button" disabled={busy} onClick={() => play("solo", false)}>
              Play solo
            </button>
            <button type="button" disabled={busy} onClick={() => play("team", false)}>
              Create team room
            </button>
            <button type="button" disabled={busy} onClick={() => play("race", false)}>
              Create race room
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => play("solo", true)}>
              Practice
            </button>
          </div>
          {error && <p className="error">{error}</p>}
          <TopRuns level={id} />
        </>
      )}
    </div>
  );
}

/** The first ten of the level's solo board, with a link to the whole of it. */
function TopRuns({ level }: { level: string }) {
  const board = useFetch(() => leaderboard(level, { limit: 10 }), [level]);
  const me = useGame(selectMe);
  return (
    <section aria-labelledby="top-h" className="top-runs">
      <div className="row spread">
        <h2 id="top-h">Best runs</h2>
        <Link to={{ name: "leaderboards", level }} testId="full-board">
          Full leaderboard
        </Link>
      </div>
      {board.error && <p className="muted small">Leaderboard unavailable: {board.error}</p>}
      {board.data && board.data.entries.length === 0 && (
        <p className="muted small">Nobody has passed this level yet. Be the first.</p>
      )}
      {board.data && board.data.entries.length > 0 && (
        <LeaderboardTable entries={board.data.entries} me={me?.player} caption="Best runs" compact testId="top-runs" />
      )}
    </section>
  );
}
