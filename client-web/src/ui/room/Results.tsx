// The results of a finished run: score, stars, pass or fail with the reason, the score's parts
// and the run's numbers, its receipt and where it ranks (with the neighbours); retry or go back.
// Invariant: it shows the server's judged RunResult as is; nothing is recomputed here. The rank
// comes from the leaderboard, polled briefly because boards are fed asynchronously.
import { useEffect, useState } from "react";
import type { LeaderboardPage, Mode, RunResult } from "../../protocol/generated";
import { leaderboardAround, playerAttempts } from "../../api/records";
import { afterRecorded, pollRank } from "../../records/rankPoll";
import { LeaderboardTable } from "../LeaderboardTable";
import { Link } from "../Link";
import { money, ms, pct, stars } from "../format";

/** Where the run is ranked: which board, who is asking, which attempt. */
export interface RankTarget {
  level: string;
  mode: Mode;
  player: string;
  attemptId?: string | undefined;
}

export function Results({
  result,
  receiptId,
  rank,
  onRetry,
  onClose,
  onHome,
  onLeaveForLink,
}: {
  result: RunResult;
  /** The signed receipt (ranked rooms only). */
  receiptId?: string | undefined;
  /** Where to look the run up; absent in practice rooms (not ranked). */
  rank?: RankTarget | undefined;
  onRetry: () => void;
  onClose: () => void;
  onHome: () => void;
  /** Called before following a link out of the room (receipts, leaderboards). */
  onLeaveForLink?: () => void;
}) {
  return (
    <div
      className="results-backdrop"
      role="dialog"
      aria-modal="true"
      aria-labelledby="results-h"
      onKeyDown={(e) => e.key === "Escape" && onClose()}
    >
      <div className="results panel" data-testid="results">
        <h2 id="results-h">{result.passed ? "Objectives met" : "Not this time"}</h2>
        <p className="score">
          <span className="big" data-testid="score">
            {Math.round(result.score)}
          </span>
          <span className="muted"> / 1000</span>
          <span className="stars" aria-label={`${result.stars} stars`}>
            {stars(result.stars)}
          </span>
        </p>
        {result.failure && <p className="error">{result.failure}</p>}
        <table className="breakdown">
          <caption className="sr-only">Score breakdown</caption>
          <tbody>
            <tr>
              <th scope="row">SLO compliance</th>
              <td>{pct(result.parts.slo, 1)}</td>
            </tr>
            <tr>
              <th scope="row">Availability</th>
              <td>{pct(result.parts.availability, 1)}</td>
            </tr>
            <tr>
              <th scope="row">Cost</th>
              <td>{pct(result.parts.cost, 1)}</td>
            </tr>
            <tr>
              <th scope="row">Survival</th>
              <td>{pct(result.parts.survival, 1)}</td>
            </tr>
          </tbody>
        </table>
        <p className="muted small">
          availability {pct(result.availability, 2)} · worst p99 {ms(result.worst_p99_ms)} · average cost{" "}
          {money(result.avg_cost_per_hour)}/h · {result.survived ? "survived the whole run" : "ended early"}
        </p>
        {receiptId && (
          <p className="small">
            <Link
              to={{ name: "receipt", id: receiptId }}
              testId="receipt-link"
              {...(onLeaveForLink ? { before: onLeaveForLink } : {})}
            >
              Signed receipt of this run
            </Link>{" "}
            <span className="muted">(verify it, replay it against the best run)</span>
          </p>
        )}
        {rank ? (
          result.passed ? (
            <RankAround target={rank} score={result.score} onLeaveForLink={onLeaveForLink} />
          ) : (
            <p className="muted small">Only runs that meet the objectives are ranked.</p>
          )
        ) : (
          <p className="muted small">Practice runs are not ranked.</p>
        )}
        <div className="row">
          <button type="button" onClick={onRetry} autoFocus>
            Retry
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Look at the system
          </button>
          <button type="button" className="secondary" onClick={onHome}>
            Levels
          </button>
        </div>
      </div>
    </div>
  );
}

/** The player's rank and neighbours on the run's board, polled until the run shows up. */
function RankAround({
  target,
  score,
  onLeaveForLink,
}: {
  target: RankTarget;
  score: number;
  onLeaveForLink?: (() => void) | undefined;
}) {
  const [page, setPage] = useState<LeaderboardPage | null>(null);
  const [state, setState] = useState<"waiting" | "found" | "missing">("waiting");
  const { level, mode, player, attemptId } = target;
  useEffect(() => {
    const abort = new AbortController();
    setState("waiting");
    const around = () => leaderboardAround(level, player, { mode, limit: 7 });
    const recorded = async () =>
      !attemptId ||
      (await playerAttempts(player, undefined, 10)).attempts.some((a) => a.id === attemptId && a.status === "finished");
    void pollRank(
      afterRecorded(recorded, around),
      player,
      { attemptId, score },
      {
        signal: abort.signal,
        onPage: (p) => !abort.signal.aborted && p && setPage(p),
      },
    ).then((r) => {
      if (r.state !== "aborted") setState(r.state);
    });
    return () => abort.abort();
  }, [level, mode, player, attemptId, score]);
  const mine = page?.entries.find((e) => e.player === player);
  return (
    <section className="rank" aria-labelledby="rank-h" aria-live="polite">
      <h3 id="rank-h">
        {mine ? (
          <>
            Rank <span data-testid="my-rank">{mine.rank}</span> of {page?.total} · {mode}, all time
          </>
        ) : state === "waiting" ? (
          "Finding your rank…"
        ) : (
          "Not on the board yet: it may take a moment"
        )}
      </h3>
      {page && page.entries.length > 0 && (
        <LeaderboardTable
          entries={page.entries}
          me={player}
          caption="Your neighbours on the leaderboard"
          compact
          testId="around-me"
          {...(onLeaveForLink ? { onFollow: onLeaveForLink } : {})}
        />
      )}
      <Link
        to={{ name: "leaderboards", level, mode }}
        testId="results-board-link"
        {...(onLeaveForLink ? { before: onLeaveForLink } : {})}
      >
        Full leaderboard
      </Link>
    </section>
  );
}
