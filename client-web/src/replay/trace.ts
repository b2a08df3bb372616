// The metric curves of one replayed run, built once from the server's replay (GET
// /api/v1/receipts/{id}/replay): one sample per returned frame, x in simulated seconds (the
// frame's `t`), so two runs of the same level, sampled with the same step, overlay without
// resampling. Invariant: `xs` and every series have one entry per frame, in tick order; a
// non-finite value is a gap in the chart (null), never a zero.
import type { Replay } from "../protocol/generated";

export const TRACE_SERIES = ["offered", "goodput", "error_rate", "p50_ms", "p99_ms", "cost_per_hour"] as const;
export type TraceSeries = (typeof TRACE_SERIES)[number];

export class ReplayTrace {
  /** Simulated seconds at the end of each sampled tick (the shared x axis). */
  readonly xs: number[];
  /** The sampled ticks, for telling whether two traces share their x axis. */
  readonly ticks: number[];
  readonly series: Record<TraceSeries, Float64Array>;

  constructor(replay: Pick<Replay, "frames">) {
    // The server sends frames in tick order; sorting anyway keeps a chart's x axis monotonic
    // (uPlot requires it) whatever arrives.
    const frames = [...replay.frames].sort((a, b) => a.tick - b.tick);
    this.xs = frames.map((f) => f.t);
    this.ticks = frames.map((f) => f.tick);
    this.series = Object.fromEntries(
      // serde writes a non-finite float as null: keep it a gap (NaN), not the 0 that null becomes.
      TRACE_SERIES.map((k) => [k, Float64Array.from(frames, (f) => f.system[k] ?? NaN)]),
    ) as Record<TraceSeries, Float64Array>;
  }

  get samples(): number {
    return this.xs.length;
  }

  /** Whether `other` was sampled at the same ticks, so its columns can share this x axis. */
  alignsWith(other: ReplayTrace): boolean {
    return other.ticks.length === this.ticks.length && other.ticks.every((t, i) => t === this.ticks[i]);
  }

  /** One series for a chart: scaled, with gaps as null. */
  column(k: TraceSeries, scale = 1): (number | null)[] {
    return Array.from(this.series[k], (v) => (Number.isFinite(v) ? v * scale : null));
  }
}
