// The metric curves of one replayed run, indexed by tick. A replay's frames arrive over the
// socket and may skip ticks (the server sends each connection only its latest frame), so samples
// go into per-tick slots instead of a growing list: two runs of the same level share the x axis
// (tick / tick_hz) and overlay without resampling. Invariant: every series has exactly
// `totalTicks` slots; a slot never received is NaN (a gap in the chart, not a zero).
import type { TickReport } from "../protocol/generated";

export const TRACE_SERIES = ["offered", "goodput", "error_rate", "p50_ms", "p99_ms", "cost_per_hour"] as const;
export type TraceSeries = (typeof TRACE_SERIES)[number];

export class ReplayTrace {
  readonly series: Record<TraceSeries, Float64Array>;
  /** Bumped on every change; charts compare it to skip redraws. */
  version = 0;
  /** The highest tick received, -1 before any. */
  lastTick = -1;
  samples = 0;

  constructor(
    readonly totalTicks: number,
    readonly tickHz: number,
  ) {
    const make = () => new Float64Array(Math.max(0, totalTicks)).fill(NaN);
    this.series = Object.fromEntries(TRACE_SERIES.map((k) => [k, make()])) as Record<TraceSeries, Float64Array>;
  }

  /** Records a frame; frames outside the run (or for a tick already recorded) are ignored. */
  push(report: TickReport): void {
    const i = report.tick;
    if (!Number.isInteger(i) || i < 0 || i >= this.totalTicks) return;
    if (!Number.isNaN(this.series.offered[i] ?? NaN)) return;
    for (const k of TRACE_SERIES) this.series[k][i] = report.system[k];
    this.lastTick = Math.max(this.lastTick, i);
    this.samples += 1;
    this.version += 1;
  }

  /** Seconds of simulated time for every slot (the shared x axis). */
  xs(): number[] {
    return Array.from({ length: this.totalTicks }, (_, i) => i / this.tickHz);
  }

  /** One series for a chart: scaled, with gaps as null. */
  column(k: TraceSeries, scale = 1): (number | null)[] {
    return Array.from(this.series[k], (v) => (Number.isFinite(v) ? v * scale : null));
  }
}
