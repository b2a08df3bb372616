// The server's answer to an action, shown next to the control that sent it: the refusal's
// reason (dismissible) or "sending…" while the action is in flight. Invariant: it reads only the
// refusal and pending entries for its own target.
import { useController, useGame } from "../hooks";
import type { GameState } from "../../state/store";

export function RefusalNote({ target }: { target: string }) {
  const controller = useController();
  const refusal = useGame((s: GameState) => s.refusals[target]);
  const pending = useGame((s: GameState) => Object.values(s.pending).some((p) => p.target === target));
  if (!refusal && !pending) return null;
  return (
    <div className="refusal-slot" aria-live="polite">
      {pending && <span className="muted small">sending…</span>}
      {refusal && (
        <div className="refusal" role="alert" data-testid={`refusal-${target}`}>
          <strong>Refused ({refusal.code.replaceAll("_", " ")}):</strong> {refusal.message}
          <button
            type="button"
            className="link"
            aria-label="Dismiss"
            onClick={() => controller.game.dismissRefusal(target)}
          >
            ✕
          </button>
        </div>
      )}
    </div>
  );
}
