// A tiny history-API router: the server's SPA fallback serves index.html for these paths, so
// they survive a reload. Invariant: `navigate` is the only writer of location; components read
// the route through `useRoute`.
import { useSyncExternalStore } from "react";
import type { Mode, Window } from "../protocol/generated";

/** A leaderboard's coordinates; absent fields mean the server's defaults (solo, all time). */
export interface BoardView {
  mode?: Mode;
  window?: Window;
  period?: string;
}

export type Route =
  | { name: "home" }
  | { name: "level"; id: string }
  | { name: "room"; id: string }
  | { name: "join"; code: string }
  | ({ name: "leaderboards"; level?: string } & BoardView)
  | { name: "receipt"; id: string };

const MODES: readonly string[] = ["solo", "race", "team"];
const WINDOWS: readonly string[] = ["all", "season", "week", "day"];

function boardView(search: string): BoardView {
  const q = new URLSearchParams(search);
  const mode = q.get("mode");
  const window = q.get("window");
  const period = q.get("period");
  return {
    ...(mode && MODES.includes(mode) ? { mode: mode as Mode } : {}),
    ...(window && WINDOWS.includes(window) ? { window: window as Window } : {}),
    ...(period ? { period } : {}),
  };
}

/** Parses a path, optionally with its `?query` (only the leaderboards page reads one). */
export function parseRoute(pathWithQuery: string): Route {
  const [path = "", search = ""] = pathWithQuery.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "levels" && parts[1]) return { name: "level", id: parts[1] };
  if (parts[0] === "rooms" && parts[1]) return { name: "room", id: parts[1] };
  if (parts[0] === "join" && parts[1]) return { name: "join", code: parts[1] };
  if (parts[0] === "leaderboards")
    return { name: "leaderboards", ...(parts[1] ? { level: parts[1] } : {}), ...boardView(search) };
  if (parts[0] === "receipts" && parts[1]) return { name: "receipt", id: parts[1] };
  return { name: "home" };
}

export function routePath(r: Route): string {
  switch (r.name) {
    case "home":
      return "/";
    case "level":
      return `/levels/${encodeURIComponent(r.id)}`;
    case "room":
      return `/rooms/${encodeURIComponent(r.id)}`;
    case "join":
      return `/join/${encodeURIComponent(r.code)}`;
    case "leaderboards": {
      const q = new URLSearchParams();
      if (r.mode) q.set("mode", r.mode);
      if (r.window) q.set("window", r.window);
      if (r.period && r.window && r.window !== "all") q.set("period", r.period);
      const search = q.toString();
      return (
        (r.level ? `/leaderboards/${encodeURIComponent(r.level)}` : "/leaderboards") + (search ? `?${search}` : "")
      );
    }
    case "receipt":
      return `/receipts/${encodeURIComponent(r.id)}`;
  }
}

const listeners = new Set<() => void>();
const here = (): string => location.pathname + location.search;
let current = typeof location === "undefined" ? "/" : here();

function notify(): void {
  current = here();
  for (const l of listeners) l();
}

if (typeof window !== "undefined") window.addEventListener("popstate", notify);

export function navigate(r: Route, replace = false): void {
  const path = routePath(r);
  if (path === here()) return;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  notify();
}

export function useRoute(): Route {
  const path = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
    () => "/",
  );
  return parseRoute(path);
}
