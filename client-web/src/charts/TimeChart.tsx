// A live uPlot chart over a MetricsHistory. Samples never pass through React: the chart polls
// the history's version on animation frames and calls setData only when it changed.
// Invariant: one uPlot instance per mounted chart, destroyed on unmount; width follows the
// container (ResizeObserver), so the page reflows on a phone.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { MetricsHistory } from "../state/metricsHistory";
import type { Ring } from "../state/ring";

/** Charts share SLOTS animation frames between them (a few tens of ms of delay at most). */
const SLOTS = 4;
let nextSlot = 0;
/** A frame number shared by every chart: the animation frame's time in 60 Hz frames. */
const frameNo = (): number => Math.round(performance.now() / (1000 / 60));

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
    const slot = nextSlot++ % SLOTS;
    const xs: number[] = [];
    const ys: number[][] = series.map(() => []);
    const draw = () => {
      frame = requestAnimationFrame(draw);
      // Each chart redraws on its own frame of every SLOTS, so a metrics frame's redraws spread
      // over several animation frames instead of all landing on the one the canvas re-renders.
      if (history.version === seen || frameNo() % SLOTS !== slot) return;
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
