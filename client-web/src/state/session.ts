// The guest session kept in localStorage, so a reload keeps the player (and their seat).
// Invariant: a stored session is only ever replaced by a fresh one from the server; a corrupt
// entry reads as none.
import type { Session } from "../api/http";

const KEY = "stampede.session";
const NAME_KEY = "stampede.name";

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // blocked storage (privacy mode): the session lives for this page only
  }
}

export function loadSession(): Session | null {
  const raw = storage()?.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.token === "string" && typeof s.player === "string" && typeof s.name === "string"
      ? { token: s.token, player: s.player, name: s.name }
      : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  storage()?.setItem(KEY, JSON.stringify(s));
  storage()?.setItem(NAME_KEY, s.name);
}

export function clearSession(): void {
  storage()?.removeItem(KEY);
}

/** The last name the player used (kept when the session is renewed). */
export function lastName(): string {
  return storage()?.getItem(NAME_KEY) ?? "";
}
