// The results of a finished run: score, stars, pass or fail with the reason, the score's parts
// and the run's numbers; retry or go back. Invariant: it shows the server's judged RunResult
// as is; nothing is recomputed here.
import type { RunResult } from "../../protocol/generated";
import { money, ms, pct, stars } from "../format";

export function Results({
  result,
  onRetry,
  onClose,
  onHome,
}: {
  result: RunResult;
  onRetry: () => void;
  onClose: () => void;
  onHome: () => void;
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
