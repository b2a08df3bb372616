// The app shell: header with the connection badge, a notice line, and the screen for the route.
// Invariant: the room screen (React Flow, uPlot) is loaded lazily, so home and briefing stay
// light; whenever the store holds a room, the route shows it.
import { lazy, Suspense, useEffect } from "react";
import { ConnBadge } from "./ConnBadge";
import { Home } from "./Home";
import { Briefing } from "./Briefing";
import { Leaderboards } from "./Leaderboards";
import { NoticeBar } from "./NoticeBar";
import { useController, useGame } from "./hooks";
import { navigate, useRoute } from "./router";
import { selectConn, selectNotice, selectRoom } from "../state/selectors";

const RoomScreen = lazy(() => import("./room/RoomScreen"));
// The receipt page replays runs into uPlot charts: loaded lazily like the room.
const ReceiptPage = lazy(() => import("./receipt/ReceiptPage"));

export function App() {
  const route = useRoute();
  const room = useGame(selectRoom);
  const controller = useController();
  const roomId = room?.id;

  // A snapshot of a room (created, joined or resumed) takes the player there.
  useEffect(() => {
    if (roomId && !(route.name === "room" && route.id === roomId))
      navigate({ name: "room", id: roomId }, route.name === "join");
  }, [roomId]); // deliberately: only when the room changes, not on every navigation

  // Opening /rooms/{id} or /join/{code} directly (a reload, a shared link): (re)join it.
  useEffect(() => {
    if (route.name === "room" && !roomId) {
      controller.joinRoom({ room: route.id }, "player").catch(() => undefined);
    } else if (route.name === "join" && !roomId) {
      controller.joinRoom({ code: route.code }, "player").catch(() => undefined);
    }
  }, [route.name === "room" ? route.id : route.name === "join" ? route.code : ""]); // deliberately: once per address

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
        <nav className="app-nav" aria-label="Main">
          <a
            href="/leaderboards"
            onClick={(e) => {
              e.preventDefault();
              if (room) controller.leave();
              navigate({ name: "leaderboards" });
            }}
          >
            Leaderboards
          </a>
        </nav>
        <ConnBadge />
      </header>
      <NoticeBar />
      <main className="app-main">
        {route.name === "home" && <Home />}
        {route.name === "level" && <Briefing id={route.id} />}
        {route.name === "leaderboards" && <Leaderboards level={route.level} view={route} />}
        {route.name === "receipt" && (
          <Suspense fallback={<p className="loading">Loading the receipt…</p>}>
            <ReceiptPage id={route.id} />
          </Suspense>
        )}
        {inRoom &&
          (room ? (
            <Suspense fallback={<p className="loading">Loading the room…</p>}>
              <RoomScreen />
            </Suspense>
          ) : (
            <NotInRoom target={route.name === "room" ? { room: route.id } : { code: route.code }} />
          ))}
      </main>
    </div>
  );
}

/** Shown on a room's address while this client is not in it: joining, or the room was lost. */
function NotInRoom({ target }: { target: { room: string } | { code: string } }) {
  const controller = useController();
  const conn = useGame(selectConn);
  const notice = useGame(selectNotice);
  if (!notice && conn.state !== "stopped") return <p className="loading">Joining…</p>;
  return (
    <div className="panel loading">
      <p>You are not in this room{notice ? `: ${notice.text}` : "."}</p>
      <div className="row" style={{ justifyContent: "center" }}>
        <button type="button" onClick={() => void controller.joinRoom(target, "player")}>
          Join again
        </button>
        <button type="button" className="secondary" onClick={() => void controller.joinRoom(target, "spectator")}>
          Watch
        </button>
        <button type="button" className="secondary" onClick={() => navigate({ name: "home" })}>
          Home
        </button>
      </div>
    </div>
  );
}
