// A live uPlot chart over a MetricsHistory. Samples never pass through React: the chart polls
// the history's version on animation frames and calls setData only when it changed.
// Invariant: one uPlot instance per mounted chart, destroyed on unmount; width follows the
// container (ResizeObserver), so the page reflows on a phone.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { MetricsHistory } from "../state/metricsHistory";
import type { Ring } from "../state/ring";

export interface SeriesSpec {
  label: string;
  color: string;
  pick: (h: MetricsHistory) => Ring | undefined;
  /** Multiply samples (e.g. 100 for percentages). */
  scale?: number;
}

interface Props {
  title: string;
  history: MetricsHistory;
  series: SeriesSpec[];
  unit: string;
  height?: number;
  testId?: string;
}

export function TimeChart({ title, history, series, unit, height = 140, testId }: Props) {
  const box = useRef<HTMLDivElement>(null);
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
          size: 50,
          values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(2)}${unit}`),
        },
      ],
      series: [
        { label: "t" },
        ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, points: { show: false } })),
      ],
    };
    const empty: uPlot.AlignedData = [[], ...series.map(() => [])];
    const plot = new uPlot(opts, empty, el);
    let seen = -1;
    let frame = 0;
    const xs: number[] = [];
    const ys: number[][] = series.map(() => []);
    const draw = () => {
      frame = requestAnimationFrame(draw);
      if (history.version === seen) return;
      seen = history.version;
      history.t.toArray(xs);
      const data: (number | null)[][] = [xs];
      series.forEach((s, i) => {
        const ring = s.pick(history);
        const out = ys[i] ?? [];
        if (ring) ring.toArray(out);
        else out.length = 0;
        const k = s.scale ?? 1;
        data.push(out.map((v) => (Number.isFinite(v) ? v * k : null)));
      });
      plot.setData(data as uPlot.AlignedData);
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
  }, [history, series, unit, height]);
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
