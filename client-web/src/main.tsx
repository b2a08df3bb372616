// Entry point: one GameController for the page, the React tree on top of it.
// Invariant: the controller (socket, store) lives outside React, so a re-render never
// reconnects and a StrictMode double-mount never opens a second socket.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { GameController } from "./state/controller";
import { App } from "./ui/App";
import { ControllerContext } from "./ui/hooks";
import "./styles.css";

const controller = new GameController();
controller.connect();

// Reconnect at once when the tab comes back or the network returns, instead of waiting out
// the backoff (tldraw's visibility-aware reconnect).
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") controller.socket.nudge();
});
window.addEventListener("online", () => controller.socket.nudge());

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ControllerContext.Provider value={controller}>
        <App />
      </ControllerContext.Provider>
    </StrictMode>,
  );
}
