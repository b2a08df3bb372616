// One dismissible line for errors that belong to no control (room not found, lost room).
// Invariant: it shows the latest notice only; dismissing clears it from the store.
import { useController, useGame } from "./hooks";
import { selectNotice } from "../state/selectors";

export function NoticeBar() {
  const notice = useGame(selectNotice);
  const controller = useController();
  if (!notice) return null;
  return (
    <div className={`notice notice-${notice.kind}`} role="alert">
      <span>{notice.text}</span>
      <button type="button" className="link" onClick={() => controller.dismissNotice()} aria-label="Dismiss">
        ✕
      </button>
    </div>
  );
}
