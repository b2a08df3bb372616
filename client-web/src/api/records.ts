// What finished attempts leave behind, over /api/v1 (server/src/http/records.rs): leaderboards,
// receipts (fetch, verify, replay), a player's progress and history, the daily challenge.
// Invariants: the types are the generated ones (only the daily challenge, not generated, is
// typed here); a receipt is kept as the exact text the server signed, because verification
// fails on any other encoding; every call rejects with an ApiError carrying the server's message.
import type {
  AttemptPage,
  LeaderboardPage,
  Mode,
  PlayerProgress,
  Receipt,
  Replay,
  Verification,
  Window,
} from "../protocol/generated";
import { ApiError } from "./http";

export interface BoardQuery {
  mode?: Mode;
  window?: Window;
  /** The period within the window (`2026-w49`); the current one when absent. */
  period?: string;
  limit?: number;
  after?: string;
  before?: string;
}

/** The daily challenge (`GET /api/v1/daily`); not a generated type, so only what is read. */
export interface Daily {
  date: string;
  level: string;
  seed: number;
}

/** A receipt as fetched: the signed text, byte for byte, and its parsed form. */
export interface FetchedReceipt {
  text: string;
  receipt: Receipt;
}

async function errorOf(res: Response, path: string): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  return new ApiError(
    res.status,
    body?.error?.code ?? "http_error",
    body?.error?.message ?? `${path}: HTTP ${res.status}`,
  );
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw await errorOf(res, path);
  return (await res.json()) as T;
}

/** `?k=v&…` for the defined entries, in a fixed order (stable URLs, stable test expectations). */
export function queryString(q: Record<string, string | number | undefined>): string {
  const parts = Object.entries(q)
    .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

const enc = encodeURIComponent;

export function leaderboard(level: string, q: BoardQuery = {}): Promise<LeaderboardPage> {
  const { mode, window, period, limit, after, before } = q;
  return getJson(
    `/api/v1/leaderboards/${enc(level)}${queryString({ mode, window, period: window === "all" ? undefined : period, limit, after, before })}`,
  );
}

/** The page centred on `player`, or null when they are not on this board (404). */
export async function leaderboardAround(
  level: string,
  player: string,
  q: Omit<BoardQuery, "after" | "before"> = {},
): Promise<LeaderboardPage | null> {
  const { mode, window, period, limit } = q;
  try {
    return await getJson<LeaderboardPage>(
      `/api/v1/leaderboards/${enc(level)}/around/${enc(player)}${queryString({ mode, window, period: window === "all" ? undefined : period, limit })}`,
    );
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export async function getReceipt(id: string): Promise<FetchedReceipt> {
  const path = `/api/v1/receipts/${enc(id)}`;
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw await errorOf(res, path);
  const text = await res.text();
  return { text, receipt: JSON.parse(text) as Receipt };
}

/** Sends the receipt's text exactly as given: the signature covers those bytes. */
export async function verifyReceipt(text: string): Promise<Verification> {
  const path = "/api/v1/receipts/verify";
  const res = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: text,
  });
  if (!res.ok) throw await errorOf(res, path);
  return (await res.json()) as Verification;
}

/**
 * A receipt re-simulated on the server: system metrics every `every` ticks (the server's default
 * keeps it near a thousand frames) and whether the result equals the recorded one. Rejects with
 * an ApiError: 404 (no such receipt), 409 (its level or engine changed since), 503 (storage down).
 */
export function getReplay(id: string, every?: number): Promise<Replay> {
  return getJson(`/api/v1/receipts/${enc(id)}/replay${queryString({ every })}`);
}

/** The player's progress; a player with no finished attempt yet (404) has none. */
export async function playerProgress(player: string): Promise<PlayerProgress | null> {
  try {
    return await getJson<PlayerProgress>(`/api/v1/players/${enc(player)}/progress`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export function playerAttempts(player: string, before?: string, limit?: number): Promise<AttemptPage> {
  return getJson(`/api/v1/players/${enc(player)}/attempts${queryString({ before, limit })}`);
}

export function daily(): Promise<Daily> {
  return getJson("/api/v1/daily");
}
