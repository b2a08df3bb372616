// One dismissible line for errors that belong to no control (room not found, lost room, ranked
// play refused because storage is down, with a way to practise instead).
// Invariant: it shows the latest notice only; dismissing clears it from the store.
import { useController, useGame } from "./hooks";
import { selectNotice, selectRoom } from "../state/selectors";

export function NoticeBar() {
  const notice = useGame(selectNotice);
  const room = useGame(selectRoom);
  const controller = useController();
  if (!notice) return null;
  return (
    <div className={`notice notice-${notice.kind}`} role="alert">
      <span>
        {notice.text}
        {notice.offerPractice && room && (
          <>
            {" "}
            <button
              type="button"
              className="small"
              onClick={() => {
                controller.dismissNotice();
                void controller.createRoom(room.level, "solo", true);
              }}
            >
              Practise this level
            </button>
          </>
        )}
      </span>
      <button type="button" className="link" onClick={() => controller.dismissNotice()} aria-label="Dismiss">
        ✕
      </button>
    </div>
  );
}
