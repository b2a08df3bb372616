// Waiting for a finished run to reach its leaderboard. The server feeds boards asynchronously
// (a write queue, then the index), so right after `attempt_finished` the player's row may be
// missing or still show an older best. Invariant: polling is bounded (tries × interval), stops
// as soon as the row reflects this attempt (or a better older one), and stops when aborted.
import type { LeaderboardEntry, LeaderboardPage } from "../protocol/generated";

export interface RankPollOptions {
  tries?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called with every page fetched, so the UI can show the neighbours while it waits. */
  onPage?: (page: LeaderboardPage | null) => void;
}

/** The row that shows this attempt is on the board: the attempt itself, or an older best at least as good. */
export function settled(
  row: LeaderboardEntry | undefined,
  attempt: { attemptId?: string | undefined; score: number },
): boolean {
  if (!row) return false;
  return row.attempt_id === attempt.attemptId || row.score >= attempt.score;
}

export type RankPollResult =
  { state: "found"; page: LeaderboardPage } | { state: "missing" | "aborted"; page: LeaderboardPage | null };

export async function pollRank(
  load: () => Promise<LeaderboardPage | null>,
  player: string,
  attempt: { attemptId?: string | undefined; score: number },
  opts: RankPollOptions = {},
): Promise<RankPollResult> {
  const tries = opts.tries ?? 15;
  const interval = opts.intervalMs ?? 1000;
  let last: LeaderboardPage | null = null;
  for (let i = 0; i < tries; i++) {
    if (opts.signal?.aborted) return { state: "aborted", page: last };
    try {
      last = await load();
      opts.onPage?.(last);
      const row = last?.entries.find((e) => e.player === player);
      if (last && settled(row, attempt)) return { state: "found", page: last };
    } catch {
      // A failed poll (storage hiccup) is one try spent, not the end.
    }
    if (i + 1 < tries) await sleep(interval, opts.signal);
  }
  return { state: opts.signal?.aborted ? "aborted" : "missing", page: last };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}

/**
 * Wraps a board load so it is only asked once the attempt is recorded, and one poll later: the
 * projector feeds the board from the database a moment after the write, and asking `around`
 * before that is a 404, which browsers log as a console error. Until then the load yields null.
 */
export function afterRecorded(
  isRecorded: () => Promise<boolean>,
  load: () => Promise<LeaderboardPage | null>,
): () => Promise<LeaderboardPage | null> {
  let stage: "unrecorded" | "recorded" | "ready" = "unrecorded";
  return async () => {
    if (stage === "ready") return load();
    if (stage === "recorded") {
      stage = "ready";
      return load();
    }
    if (await isRecorded()) stage = "recorded";
    return null;
  };
}
