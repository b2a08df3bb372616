// Module-level selectors over GameState (the React Flow pattern: stable functions, so a
// component re-renders only when what it reads changes). Invariant: selectors are pure and never
// allocate for unchanged input where a component subscribes with them directly.
import type { Member, Role, WorldView } from "../protocol/generated";
import type { GameState } from "./store";

export const selectRoom = (s: GameState) => s.room;
export const selectConn = (s: GameState) => s.conn;
export const selectMe = (s: GameState) => s.me;
export const selectFeed = (s: GameState) => s.feed;
export const selectRefusals = (s: GameState) => s.refusals;
export const selectLevel = (s: GameState) => s.level;
export const selectNotice = (s: GameState) => s.notice;
export const selectStandings = (s: GameState) => s.standings;

/** The world this client looks at: its own in a race (or the one it chose to watch), else the room's only one. */
export function myWorldKey(s: GameState): string {
  if (s.room?.mode === "race") {
    const watched = s.watching && s.room.worlds.find((w) => w.player === s.watching);
    if (watched) return watched.player ?? "";
    const mine = s.room.worlds.find((w) => w.player === s.me?.player);
    return mine?.player ?? s.room.worlds[0]?.player ?? "";
  }
  return "";
}

/** Whether the world on screen is this member's own (a racer watching a rival cannot edit it). */
export function selectWatchingOwn(s: GameState): boolean {
  return s.room?.mode !== "race" || myWorldKey(s) === s.me?.player;
}

export function selectMyWorld(s: GameState): WorldView | undefined {
  const key = myWorldKey(s);
  return s.room?.worlds.find((w) => (w.player ?? "") === key);
}

export const selectMyReport = (s: GameState) => s.latest[myWorldKey(s)];
export const selectMyResult = (s: GameState) => s.results[myWorldKey(s)];

export function selectMyMember(s: GameState): Member | undefined {
  return s.room?.members.find((m) => m.player === s.me?.player);
}

export function selectMyRole(s: GameState): Role | undefined {
  return selectMyMember(s)?.role;
}

/** Owners and players change the architecture; spectators and coaches watch (PROTOCOL.md, Roles). */
export function selectCanEdit(s: GameState): boolean {
  const role = selectMyRole(s);
  return (role === "owner" || role === "player") && s.room?.phase !== "finished" && selectWatchingOwn(s);
}

/** Practice controls: owner or coach, in a practice room. */
export function selectCanPractice(s: GameState): boolean {
  const role = selectMyRole(s);
  return !!s.room?.practice && (role === "owner" || role === "coach");
}

export function selectCanStart(s: GameState): boolean {
  const room = s.room;
  if (!room || room.phase !== "lobby") return false;
  const role = selectMyRole(s);
  if (role === "owner") return true;
  return role === "player" && !room.members.some((m) => m.role === "owner");
}

/** Why this member cannot edit, for the UI to say so (null when they can). */
export function selectEditBlock(s: GameState): "watching" | "rival" | "finished" | null {
  const role = selectMyRole(s);
  if (role !== "owner" && role !== "player") return "watching";
  if (!selectWatchingOwn(s)) return "rival";
  return s.room?.phase === "finished" ? "finished" : null;
}
