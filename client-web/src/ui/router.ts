// A tiny history-API router: the server's SPA fallback serves index.html for these paths, so
// they survive a reload. Invariant: `navigate` is the only writer of location; components read
// the route through `useRoute`.
import { useSyncExternalStore } from "react";

export type Route =
  { name: "home" } | { name: "level"; id: string } | { name: "room"; id: string } | { name: "join"; code: string };

export function parseRoute(path: string): Route {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "levels" && parts[1]) return { name: "level", id: parts[1] };
  if (parts[0] === "rooms" && parts[1]) return { name: "room", id: parts[1] };
  if (parts[0] === "join" && parts[1]) return { name: "join", code: parts[1] };
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
  }
}

const listeners = new Set<() => void>();
let current = typeof location === "undefined" ? "/" : location.pathname;

function notify(): void {
  current = location.pathname;
  for (const l of listeners) l();
}

if (typeof window !== "undefined") window.addEventListener("popstate", notify);

export function navigate(r: Route, replace = false): void {
  const path = routePath(r);
  if (path === location.pathname) return;
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
