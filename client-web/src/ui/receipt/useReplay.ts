// React handle on one receipt replay: a side connection under the player's session, a
// ReplayRun fed by it, and a re-render on each status change (not on each frame: charts read
// the trace on animation frames). Invariant: the connection is stopped when the replay ends,
// fails, is restarted, or the component unmounts; never left open.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Receipt } from "../../protocol/generated";
import { ReplayRun, type ReplayStatus } from "../../replay/replayRun";
import type { SocketAdapter } from "../../net/socket";
import { useController } from "../hooks";

export interface ReplayHandle {
  run: ReplayRun | null;
  status: ReplayStatus;
  start: (receipt: Receipt) => void;
}

export function useReplay(): ReplayHandle {
  const controller = useController();
  const [run, setRun] = useState<ReplayRun | null>(null);
  const [status, setStatus] = useState<ReplayStatus>({ state: "idle" });
  const socket = useRef<SocketAdapter | null>(null);

  const stop = useCallback(() => {
    socket.current?.stop();
    socket.current = null;
  }, []);

  const start = useCallback(
    (receipt: Receipt) => {
      stop();
      let replay: ReplayRun | null = null;
      const sock = controller.sideSocket(
        (msg) => replay?.receive(msg),
        (conn) => {
          if (conn.state === "stopped" || conn.state === "waiting")
            replay?.connectionLost("the replay's connection dropped; replay again");
        },
      );
      replay = new ReplayRun(
        receipt,
        (msg) => sock.send(msg),
        (r) => {
          setStatus(r.status);
          if (r.status.state === "done" || r.status.state === "failed") {
            // Give leave_room a moment to go out before closing.
            setTimeout(() => sock.stop(), 200);
            if (socket.current === sock) socket.current = null;
          }
        },
      );
      socket.current = sock;
      setRun(replay);
      setStatus({ state: "connecting" });
      sock.start();
    },
    [controller, stop],
  );

  useEffect(() => stop, [stop]);
  return { run, status, start };
}
