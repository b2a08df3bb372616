// A small data-fetching hook for the REST calls (levels, rooms), with optional polling.
// Invariant: a response that arrives after unmount or after a newer request is dropped.
import { useEffect, useState } from "react";

export interface Fetched<T> {
  data: T | null;
  error: string | null;
}

export function useFetch<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Fetched<T> {
  const [state, setState] = useState<Fetched<T>>({ data: null, error: null });
  useEffect(() => {
    let live = true;
    let gen = 0;
    const run = () => {
      const mine = ++gen;
      load().then(
        (data) => live && mine === gen && setState({ data, error: null }),
        (e: unknown) =>
          live &&
          mine === gen &&
          setState((s) => ({ data: s.data, error: String(e instanceof Error ? e.message : e) })),
      );
    };
    run();
    const timer = pollMs ? setInterval(run, pollMs) : null;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, deps); // the caller names the deps
  return state;
}
