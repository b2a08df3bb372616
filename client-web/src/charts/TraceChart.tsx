// A uPlot chart of one series of a replayed run, with the same series of another run (the
// level's best, "ghost") drawn faint and dashed on the same axes. Samples never pass through
// React: the chart polls the traces' versions on animation frames.
// Invariant: one uPlot instance per mounted chart, destroyed on unmount; both traces share the
// x axis (tick / tick_hz), so they are only overlaid when their lengths agree.
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
  const overlay = ghost && ghost.totalTicks === mine.totalTicks ? ghost : null;
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
    const xs = mine.xs();
    const plot = new uPlot(
      opts,
      [xs, mine.column(series, scale), ...(overlay ? [overlay.column(series, scale)] : [])],
      el,
    );
    let seen = "";
    let frame = 0;
    let drawnAt = 0;
    const draw = (now: number) => {
      frame = requestAnimationFrame(draw);
      const v = `${mine.version}:${overlay?.version ?? 0}`;
      // A replay streams up to a few hundred frames a second into whole-run arrays: redraw at
      // most four times a second, so the page stays free to answer the replay on time.
      if (v === seen || now - drawnAt < 250) return;
      seen = v;
      drawnAt = now;
      plot.setData([xs, mine.column(series, scale), ...(overlay ? [overlay.column(series, scale)] : [])]);
    };
    frame = requestAnimationFrame(draw);
    const ro =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro?.observe(el);
    return () => {
      cancelAnimationFrame(frame);
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
