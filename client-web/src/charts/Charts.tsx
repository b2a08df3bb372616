// The room's live charts: throughput, error rate, latency percentiles, cost per hour, and the
// selected node's load. Invariant: series specs are module constants (or memoized), so charts
// are built once per history, not on every render.
import { useMemo } from "react";
import type { MetricsHistory } from "../state/metricsHistory";
import { TimeChart, type SeriesSpec } from "./TimeChart";

const THROUGHPUT: SeriesSpec[] = [
  { label: "offered", color: "#7a869a", pick: (h) => h.system.offered },
  { label: "goodput", color: "#2e7d32", pick: (h) => h.system.goodput },
];
const ERRORS: SeriesSpec[] = [{ label: "errors", color: "#c62828", pick: (h) => h.system.error_rate, scale: 100 }];
const LATENCY: SeriesSpec[] = [
  { label: "p50", color: "#1565c0", pick: (h) => h.system.p50_ms },
  { label: "p95", color: "#ef6c00", pick: (h) => h.system.p95_ms },
  { label: "p99", color: "#c62828", pick: (h) => h.system.p99_ms },
];
const COST: SeriesSpec[] = [{ label: "cost", color: "#6a1b9a", pick: (h) => h.system.cost_per_hour }];

export function Charts({ history, node }: { history: MetricsHistory; node: string | null }) {
  const nodeSeries = useMemo<SeriesSpec[] | null>(
    () =>
      node
        ? [
            { label: "util %", color: "#1565c0", pick: (h) => h.node(node)?.utilization, scale: 100 },
            { label: "errors %", color: "#c62828", pick: (h) => h.node(node)?.error_rate, scale: 100 },
          ]
        : null,
    [node],
  );
  return (
    <section className="charts" aria-label="Live metrics">
      <TimeChart title="Throughput (req/s)" history={history} series={THROUGHPUT} unit="" testId="chart-throughput" />
      <TimeChart title="Error rate" history={history} series={ERRORS} unit="%" />
      <TimeChart title="Latency" history={history} series={LATENCY} unit="ms" />
      <TimeChart title="Cost" history={history} series={COST} unit="$/h" />
      {node && nodeSeries && (
        <TimeChart
          key={node}
          title={`${node}: utilization and errors`}
          history={history}
          series={nodeSeries}
          unit="%"
        />
      )}
    </section>
  );
}
