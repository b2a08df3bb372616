// Number formatting for badges, charts and results. Invariant: every function returns a short,
// finite-looking string ("–" for NaN or undefined), never "NaN" or "Infinity".
const ok = (v: number | undefined | null): v is number => typeof v === "number" && Number.isFinite(v);

export const pct = (v: number | undefined, digits = 0): string => (ok(v) ? `${(v * 100).toFixed(digits)}%` : "–");
export const ms = (v: number | undefined): string =>
  ok(v) ? (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`) : "–";
export const rps = (v: number | undefined): string =>
  ok(v) ? (v >= 1000 ? `${(v / 1000).toFixed(1)}k/s` : `${v.toFixed(0)}/s`) : "–";
export const money = (v: number | undefined): string => (ok(v) ? `$${v.toFixed(2)}` : "–");
export const num = (v: number | undefined, digits = 0): string => (ok(v) ? v.toFixed(digits) : "–");

/** Simulated seconds as m:ss. */
export function clock(seconds: number | undefined): string {
  if (!ok(seconds) || seconds < 0) return "0:00";
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export const stars = (n: number): string =>
  "★".repeat(Math.max(0, Math.min(3, n))) + "☆".repeat(3 - Math.max(0, Math.min(3, n)));
