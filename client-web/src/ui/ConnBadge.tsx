// The connection status, always visible: players must know when their clicks cannot arrive.
// Invariant: the badge text names the state and, when waiting, why and for how long.
import { useGame } from "./hooks";
import { selectConn } from "../state/selectors";
import type { GameState } from "../state/store";

const selectRtt = (s: GameState) => s.rttMs;

export function ConnBadge() {
  const conn = useGame(selectConn);
  const rtt = useGame(selectRtt);
  let text: string;
  let cls: string;
  switch (conn.state) {
    case "open":
      text = rtt === null ? "online" : `online · ${Math.round(rtt)} ms`;
      cls = "ok";
      break;
    case "connecting":
      text = conn.attempt > 0 ? `reconnecting (try ${conn.attempt + 1})` : "connecting";
      cls = "warn";
      break;
    case "waiting":
      text = `${conn.reason} · retry in ${(conn.retryInMs / 1000).toFixed(1)} s`;
      cls = "warn";
      break;
    case "stopped":
      text = conn.reason;
      cls = "bad";
      break;
    default:
      text = "offline";
      cls = "warn";
  }
  return (
    <span className={`conn conn-${cls}`} role="status" aria-live="polite" data-testid="conn">
      <span className="dot" aria-hidden="true" />
      {text}
      {conn.state === "stopped" && conn.action === "reload" && (
        <button type="button" className="link" onClick={() => location.reload()}>
          reload
        </button>
      )}
    </span>
  );
}
