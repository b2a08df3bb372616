// The level's objectives with where the system stands now. Invariant: the targets come from the
// level; the current values from the latest report, and "–" before the first one.
import type { TickReport } from "../../protocol/generated";
import type { LevelDetail } from "../../api/http";
import { ms, pct } from "../format";

export function Objectives({ level, report }: { level: LevelDetail | null; report: TickReport | undefined }) {
  const o = level?.objectives;
  if (!o) return null;
  const s = report?.system;
  const availability = s && s.offered > 0 ? s.goodput / s.offered : undefined;
  const rows: { label: string; now: string; ok: boolean | undefined }[] = [];
  if (o.p99_ms !== undefined) {
    // p99 is over successful requests: with none served it is 0, which is not a pass.
    const noneServed = !!s && s.offered > 0 && s.goodput <= 0;
    rows.push({
      label: `p99 ≤ ${o.p99_ms} ms`,
      now: noneServed ? "nothing served" : ms(s?.p99_ms),
      ok: s ? !noneServed && s.p99_ms <= o.p99_ms : undefined,
    });
  }
  if (o.error_rate !== undefined)
    rows.push({
      label: `errors ≤ ${pct(o.error_rate, 1)}`,
      now: pct(s?.error_rate, 2),
      ok: s ? s.error_rate <= o.error_rate : undefined,
    });
  if (o.min_availability !== undefined)
    rows.push({
      label: `availability ≥ ${pct(o.min_availability, 1)}`,
      now: pct(availability, 2),
      ok: availability === undefined ? undefined : availability >= o.min_availability,
    });
  return (
    <section className="objectives panel" aria-label="Objectives">
      <h2>Objectives</h2>
      <ul>
        {rows.map((r) => (
          <li key={r.label} className={r.ok === undefined ? "" : r.ok ? "ok" : "bad"}>
            <span aria-hidden="true">{r.ok === undefined ? "○" : r.ok ? "✓" : "✗"}</span> {r.label}{" "}
            <span className="muted">now {r.now}</span>
          </li>
        ))}
      </ul>
      {o.min_compliance !== undefined && (
        <p className="muted small">Meet p99 and errors together for ≥ {pct(o.min_compliance)} of the run.</p>
      )}
    </section>
  );
}
