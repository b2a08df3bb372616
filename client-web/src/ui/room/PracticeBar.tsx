// Practice controls for the owner or a coach in a practice room: pause, speed, restart, inject
// a fault. Invariant: rendered only when the selector says the member may use them.
import { useState } from "react";
import type { RoomSnapshot } from "../../protocol/generated";
import { useController } from "../hooks";

export function PracticeBar({ room }: { room: RoomSnapshot }) {
  const controller = useController();
  const [fault, setFault] = useState(0);
  return (
    <section className="practice panel" aria-label="Practice controls">
      <h2>Practice</h2>
      <div className="row">
        <button
          type="button"
          className="small"
          onClick={() => controller.practice({ op: room.paused ? "unpause" : "pause" })}
        >
          {room.paused ? "Resume" : "Pause"}
        </button>
        {[1, 2, 4].map((f) => (
          <button
            key={f}
            type="button"
            className={`small${room.speed === f ? "" : " secondary"}`}
            aria-pressed={room.speed === f}
            onClick={() => controller.practice({ op: "speed", factor: f })}
          >
            {f}×
          </button>
        ))}
        <button type="button" className="small danger" onClick={() => controller.practice({ op: "restart" })}>
          Restart
        </button>
      </div>
      {room.injectable.length > 0 && (
        <div className="row">
          <label htmlFor="fault-select">Fault</label>
          <select id="fault-select" value={fault} onChange={(e) => setFault(Number(e.target.value))}>
            {room.injectable.map((d, i) => (
              <option key={i} value={i}>
                {d}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="small"
            onClick={() => controller.practice({ op: "inject_fault", index: fault })}
          >
            Inject
          </button>
        </div>
      )}
    </section>
  );
}
