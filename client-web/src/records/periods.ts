// Leaderboard periods as the server names them (server/src/leaderboard/mod.rs, `Periods::of`):
// day `2026-11-30`, ISO week `2026-w49`, season (calendar quarter) `2026-q4`, all UTC.
// Invariant: `periodOf(w, t)` equals the server's period for the same instant, so the current
// period the page offers is the one the server answers for a board without `period`.
import type { Window } from "../protocol/generated";

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** ISO 8601 week-numbering year and week of a UTC date. */
export function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7; // Monday 1 … Sunday 7
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of this week decides the year
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week };
}

export function periodOf(window: Window, unixMs: number): string {
  const d = new Date(unixMs);
  switch (window) {
    case "all":
      return "all";
    case "day":
      return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    case "week": {
      const { year, week } = isoWeek(d);
      return `${year}-w${pad(week)}`;
    }
    case "season":
      return `${d.getUTCFullYear()}-q${Math.floor(d.getUTCMonth() / 3) + 1}`;
  }
}

/** The current period and the `count - 1` before it, newest first (empty for all time). */
export function recentPeriods(window: Window, nowMs: number, count: number): string[] {
  if (window === "all") return [];
  const out: string[] = [];
  const d = new Date(nowMs);
  for (let i = 0; out.length < count && i < count * 100; i++) {
    const t =
      window === "day"
        ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - i)
        : window === "week"
          ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - 7 * i)
          : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 3 * i, 1);
    const p = periodOf(window, t);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}
