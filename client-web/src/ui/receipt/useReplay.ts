// React handle on one receipt's replay: fetches the server's re-simulation (GET
// /api/v1/receipts/{id}/replay) and builds its trace. Invariant: only the latest request's
// answer is kept; one that arrives after a restart or after unmount is dropped.
import { useCallback, useEffect, useRef, useState } from "react";
import { getReplay } from "../../api/records";
import type { Replay } from "../../protocol/generated";
import { ReplayTrace } from "../../replay/trace";

export type ReplayStatus =
  | { state: "idle" }
  | { state: "loading" }
  | { state: "done"; replay: Replay; trace: ReplayTrace }
  | { state: "failed"; reason: string };

export interface ReplayHandle {
  status: ReplayStatus;
  /** The finished replay's trace, null until then. */
  trace: ReplayTrace | null;
  start: (receiptId: string) => void;
}

export function useReplay(): ReplayHandle {
  const [status, setStatus] = useState<ReplayStatus>({ state: "idle" });
  // Bumped by every start and by unmount: an answer for an older generation is stale.
  const gen = useRef(0);

  const start = useCallback((receiptId: string) => {
    const mine = ++gen.current;
    setStatus({ state: "loading" });
    getReplay(receiptId).then(
      (replay) => {
        if (gen.current === mine) setStatus({ state: "done", replay, trace: new ReplayTrace(replay) });
      },
      (e: unknown) => {
        if (gen.current === mine) setStatus({ state: "failed", reason: String(e instanceof Error ? e.message : e) });
      },
    );
  }, []);

  useEffect(
    () => () => {
      gen.current += 1;
    },
    [],
  );
  return { status, trace: status.state === "done" ? status.trace : null, start };
}
