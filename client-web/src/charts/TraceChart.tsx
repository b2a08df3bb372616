// A uPlot chart of one series of a replayed run, with the same series of another run (the
// level's best, "ghost") drawn faint and dashed on the same axes. A replay arrives whole from
// the server, so the chart is drawn once per pair of traces.
// Invariant: one uPlot instance per mounted chart, destroyed on unmount; the ghost is only
// overlaid when it was sampled at the same ticks (it shares this run's x axis).
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ReplayTrace, TraceSeries } from "../replay/trace";

interface Props {
  title: string;
  mine: ReplayTrace;
  ghost: ReplayTrace | null;
  series: TraceSeries;
  color: string;
  unit: string;
  scale?: number;
  height?: number;
  testId?: string;
}

export function TraceChart({ title, mine, ghost, series, color, unit, scale = 1, height = 150, testId }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const overlay = ghost && mine.alignsWith(ghost) ? ghost : null;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false } },
      axes: [
        { stroke: "#667", grid: { stroke: "#eee" }, values: (_u, ticks) => ticks.map((t) => `${Math.round(t)}s`) },
        {
          stroke: "#667",
          grid: { stroke: "#eee" },
          size: 64,
          values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(2)}${unit}`),
        },
      ],
      series: [
        { label: "t" },
        { label: "this run", stroke: color, width: 1.5, points: { show: false }, spanGaps: true },
        ...(overlay
          ? [
              {
                label: "best run (ghost)",
                stroke: "rgba(90, 90, 110, 0.55)",
                width: 1.5,
                dash: [5, 4],
                points: { show: false },
                spanGaps: true,
              },
            ]
          : []),
      ],
    };
    const plot = new uPlot(
      opts,
      [mine.xs, mine.column(series, scale), ...(overlay ? [overlay.column(series, scale)] : [])],
      el,
    );
    const ro =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      plot.destroy();
    };
  }, [mine, overlay, series, color, unit, scale, height]);
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
