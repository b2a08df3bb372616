// React access to the controller and the store. Invariant: components read state only through
// `useGame(selector)` (zustand's useStore with a module-level selector), so a component
// re-renders only when its slice changes.
import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { GameController } from "../state/controller";
import type { GameState } from "../state/store";

export const ControllerContext = createContext<GameController | null>(null);

export function useController(): GameController {
  const c = useContext(ControllerContext);
  if (!c) throw new Error("useController outside <ControllerContext.Provider>");
  return c;
}

export function useGame<T>(selector: (s: GameState) => T): T {
  return useStore(useController().game.store, selector);
}
