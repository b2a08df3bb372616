// The room's header: level, join code, mode and phase, the game clock, budget, and Start.
// Invariant: the clock is simulated time from the latest report (the server's truth), never a
// local timer; it only moves when metrics arrive.
import type { RoomSnapshot, TickReport } from "../../protocol/generated";
import type { LevelDetail } from "../../api/http";
import { clock, money } from "../format";

interface Props {
  room: RoomSnapshot;
  report: TickReport | undefined;
  level: LevelDetail | null;
  cost: number | undefined;
  canStart: boolean;
  onStart: () => void;
  onLeave: () => void;
}

export function TopBar({ room, report, level, cost, canStart, onStart, onLeave }: Props) {
  const total = room.total_ticks / room.tick_hz;
  // Metrics frames are sampled (5 a second), so the last one may stop short of the end.
  const endTicks = room.worlds.find((w) => w.result)?.result?.ticks;
  const elapsed =
    room.phase === "finished" && endTicks !== undefined
      ? endTicks / room.tick_hz
      : report
        ? (report.tick + 1) / room.tick_hz
        : 0;
  const budget = level?.budget_per_hour;
  const over = budget !== undefined && cost !== undefined && cost > budget + 1e-9;
  return (
    <div className="topbar panel">
      <div className="topbar-title">
        <h1>{room.title}</h1>
        <span className="muted small">
          code{" "}
          <strong className="mono" data-testid="room-code">
            {room.code}
          </strong>{" "}
          · {room.mode}
          {room.practice ? " · practice" : ""}
        </span>
      </div>
      <div className={`phase phase-${room.phase}`} data-testid="phase">
        {room.phase}
        {room.paused ? " (paused)" : ""}
        {room.speed !== 1 ? ` · ${room.speed}×` : ""}
      </div>
      <div className="timer" aria-label="game clock" data-testid="timer">
        <span className="big">{clock(elapsed)}</span>
        <span className="muted"> / {clock(total)}</span>
        <progress max={total} value={Math.min(elapsed, total)} aria-hidden="true" />
      </div>
      <div className={`budget${over ? " over" : ""}`} data-testid="budget">
        <span className="big">{money(cost)}</span>
        <span className="muted">/h of {money(budget)}/h</span>
      </div>
      <div className="row">
        {canStart && (
          <button type="button" onClick={onStart} data-testid="start">
            Start
          </button>
        )}
        <button type="button" className="secondary" onClick={onLeave}>
          Leave
        </button>
      </div>
    </div>
  );
}
