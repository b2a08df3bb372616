// Alerts and engine events, newest first, each pointing at its node (click selects it).
// Invariant: the feed is display only; it never changes the architecture.
import type { FeedItem } from "../../state/store";

export function AlertFeed({
  feed,
  tickHz,
  onPick,
}: {
  feed: FeedItem[];
  tickHz: number;
  onPick: (node: string) => void;
}) {
  return (
    <section className="feed panel" aria-label="Alerts and events">
      <h2>Alerts</h2>
      {feed.length === 0 && <p className="muted small">Quiet so far.</p>}
      <ol aria-live="polite" data-testid="feed">
        {feed.slice(0, 60).map((f) => (
          <li key={f.seq} className={`feed-${f.kind}${f.severity ? ` sev-${f.severity}` : ""}`}>
            <span className="muted small mono">{(f.tick / tickHz).toFixed(0)}s</span>{" "}
            {f.kind === "alert" ? "▲" : f.kind === "resolved" ? "✓" : "•"}{" "}
            {f.node ? (
              <button type="button" className="link" onClick={() => onPick(f.node ?? "")}>
                {f.node}
              </button>
            ) : null}{" "}
            {f.message}
          </li>
        ))}
      </ol>
    </section>
  );
}
