// Rows of a leaderboard: rank, name, score, stars, cost, when, and a link to each row's receipt.
// Used by the briefing (top), the results (around me) and the leaderboards page.
// Invariant: rows are shown in the server's order with the server's ranks; the viewer's own row
// is marked (for the eye and for assistive tech), nothing is re-sorted here.
import type { LeaderboardEntry } from "../protocol/generated";
import { Link } from "./Link";
import { money, stars } from "./format";

export function when(unixMs: number): string {
  const d = new Date(unixMs);
  return Number.isFinite(d.getTime()) ? d.toISOString().slice(0, 16).replace("T", " ") : "–";
}

export function LeaderboardTable({
  entries,
  me,
  caption,
  compact = false,
  testId,
  onFollow,
}: {
  entries: LeaderboardEntry[];
  me?: string | undefined;
  caption: string;
  compact?: boolean;
  testId?: string;
  /** Called when a receipt link is followed in this tab (the room screen leaves its room). */
  onFollow?: () => void;
}) {
  return (
    <table className="board" data-testid={testId}>
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Player</th>
          <th scope="col" className="num">
            Score
          </th>
          <th scope="col">Stars</th>
          {!compact && (
            <th scope="col" className="num hide-narrow">
              Cost
            </th>
          )}
          {!compact && (
            <th scope="col" className="hide-narrow">
              Finished (UTC)
            </th>
          )}
          <th scope="col">Receipt</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => {
          const mine = e.player === me;
          return (
            <tr
              key={`${e.rank}-${e.player}`}
              className={mine ? "mine" : undefined}
              data-testid={mine ? "board-row-me" : "board-row"}
              aria-current={mine ? "true" : undefined}
            >
              <td className="num">{e.rank}</td>
              <td>
                {e.name}
                {mine && <span className="tag"> you</span>}
              </td>
              <td className="num">{Math.round(e.score)}</td>
              <td className="stars" aria-label={`${e.stars} stars`}>
                {stars(e.stars)}
              </td>
              {!compact && <td className="num hide-narrow">{money(e.cost_per_hour)}/h</td>}
              {!compact && <td className="hide-narrow">{when(e.finished_at)}</td>}
              <td>
                <Link
                  to={{ name: "receipt", id: e.receipt_id }}
                  label={`Receipt of ${e.name}'s run, rank ${e.rank}`}
                  {...(onFollow ? { before: onFollow } : {})}
                >
                  receipt
                </Link>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
