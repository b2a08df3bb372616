// Time series of the metrics frames, kept outside React: charts read them on animation frames,
// so a 10 Hz stream never re-renders components. Invariant: every series of one history has the
// same length as `t` (one sample per accepted frame), and frames are accepted in tick order only
// (a stale or repeated tick is ignored; a tick that goes backwards, after a practice restart,
// clears the history).
import type { TickReport } from "../protocol/generated";
import { Ring } from "./ring";

export const SYSTEM_SERIES = [
  "offered",
  "goodput",
  "error_rate",
  "p50_ms",
  "p95_ms",
  "p99_ms",
  "cost_per_hour",
] as const;
export type SystemSeries = (typeof SYSTEM_SERIES)[number];

export const NODE_SERIES = ["utilization", "queue", "in_rps", "error_rate", "latency_ms"] as const;
export type NodeSeries = (typeof NODE_SERIES)[number];

export class MetricsHistory {
  readonly t: Ring;
  readonly system: Record<SystemSeries, Ring>;
  private readonly nodes = new Map<string, { since: number; series: Record<NodeSeries, Ring> }>();
  private lastTick = -1;
  private listeners = new Set<() => void>();
  /** Bumped on every change; charts compare it to skip redraws. */
  version = 0;

  constructor(readonly capacity = 1800) {
    this.t = new Ring(capacity);
    this.system = Object.fromEntries(SYSTEM_SERIES.map((k) => [k, new Ring(capacity)])) as Record<SystemSeries, Ring>;
  }

  push(report: TickReport): void {
    if (report.tick < this.lastTick) this.clear();
    if (report.tick === this.lastTick) return;
    this.lastTick = report.tick;
    this.t.push(report.t);
    const s = report.system;
    for (const k of SYSTEM_SERIES) this.system[k].push(s[k]);
    const seen = new Set<string>();
    for (const n of report.nodes) {
      seen.add(n.id);
      let entry = this.nodes.get(n.id);
      if (!entry) {
        entry = {
          since: this.t.length - 1,
          series: Object.fromEntries(NODE_SERIES.map((k) => [k, new Ring(this.capacity)])) as Record<NodeSeries, Ring>,
        };
        // Pad with NaN (a gap in the chart) so the node's series line up with `t`.
        for (let i = 0; i < this.t.length - 1; i++) for (const k of NODE_SERIES) entry.series[k].push(NaN);
        this.nodes.set(n.id, entry);
      }
      for (const k of NODE_SERIES) entry.series[k].push(n[k]);
    }
    for (const [id, entry] of this.nodes) {
      if (!seen.has(id)) for (const k of NODE_SERIES) entry.series[k].push(NaN);
    }
    this.version += 1;
    for (const l of this.listeners) l();
  }

  node(id: string): Record<NodeSeries, Ring> | undefined {
    return this.nodes.get(id)?.series;
  }

  clear(): void {
    this.t.clear();
    for (const k of SYSTEM_SERIES) this.system[k].clear();
    this.nodes.clear();
    this.lastTick = -1;
    this.version += 1;
    for (const l of this.listeners) l();
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
