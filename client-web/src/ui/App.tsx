// The app shell: header with the connection badge, a notice line, and the screen for the route.
// Invariant: the room screen (React Flow, uPlot) is loaded lazily, so home and briefing stay
// light; whenever the store holds a room, the route shows it.
import { lazy, Suspense, useEffect } from "react";
import { ConnBadge } from "./ConnBadge";
import { Home } from "./Home";
import { Briefing } from "./Briefing";
import { NoticeBar } from "./NoticeBar";
import { useController, useGame } from "./hooks";
import { navigate, useRoute } from "./router";
import { selectRoom } from "../state/selectors";

const RoomScreen = lazy(() => import("./room/RoomScreen"));

export function App() {
  const route = useRoute();
  const room = useGame(selectRoom);
  const controller = useController();
  const roomId = room?.id;

  // A snapshot of a room (created, joined or resumed) takes the player there.
  useEffect(() => {
    if (roomId && !(route.name === "room" && route.id === roomId)) navigate({ name: "room", id: roomId }, route.name === "join");
  }, [roomId]); // eslint-disable-line react-hooks/exhaustive-deps -- only when the room changes

  // Opening /rooms/{id} or /join/{code} directly (a reload, a shared link): (re)join it.
  useEffect(() => {
    if (route.name === "room" && !roomId) {
      controller.joinRoom({ room: route.id }, "player").catch(() => undefined);
    } else if (route.name === "join" && !roomId) {
      controller.joinRoom({ code: route.code }, "player").catch(() => undefined);
    }
  }, [route.name === "room" ? route.id : route.name === "join" ? route.code : ""]); // eslint-disable-line react-hooks/exhaustive-deps

  const inRoom = route.name === "room" || route.name === "join";
  return (
    <div className={inRoom ? "app app-room" : "app"}>
      <header className="app-header">
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            if (room) controller.leave();
            navigate({ name: "home" });
          }}
        >
          Stampede
        </a>
        <ConnBadge />
      </header>
      <NoticeBar />
      <main className="app-main">
        {route.name === "home" && <Home />}
        {route.name === "level" && <Briefing id={route.id} />}
        {inRoom &&
          (room ? (
            <Suspense fallback={<p className="loading">Loading the room…</p>}>
              <RoomScreen />
            </Suspense>
          ) : (
            <p className="loading">Joining…</p>
          ))}
      </main>
    </div>
  );
}
