// The room: top bar, palette, canvas, inspector, charts, objectives, alerts, people and chat,
// practice controls and the results. Loaded lazily (it carries React Flow and uPlot).
// Invariant: everything the player changes goes out as an action through the controller; this
// screen holds only view state (selection, whether the results panel is dismissed).
import { memo, useCallback, useEffect, useMemo, useState } from "react";
import { ReactFlowProvider } from "@xyflow/react";
import type { Action } from "../../protocol/generated";
import { ArchCanvas, type Selection } from "../../canvas/ArchCanvas";
import { Charts } from "../../charts/Charts";
import { useController, useGame } from "../hooks";
import { navigate } from "../router";
import {
  myWorldKey,
  selectCanEdit,
  selectCanPractice,
  selectCanStart,
  selectFeed,
  selectLevel,
  selectMe,
  selectMyReport,
  selectMyResult,
  selectMyWorld,
  selectRoom,
  selectStandings,
} from "../../state/selectors";
import { AlertFeed } from "./AlertFeed";
import { archCost } from "./cost";
import { Inspector } from "./Inspector";
import { Objectives } from "./Objectives";
import { Palette } from "./Palette";
import { People } from "./People";
import { PracticeBar } from "./PracticeBar";
import { Results } from "./Results";
import { TopBar } from "./TopBar";
import { pct } from "../format";

// Metrics arrive 10-40 times a second and re-render this screen; the panels that do not read
// them are memoized so a frame only re-renders what shows live numbers (canvas, top bar,
// inspector, objectives). Their props are stable between metrics frames.
const PaletteM = memo(Palette);
const PeopleM = memo(People);
const AlertFeedM = memo(AlertFeed);
const ChartsM = memo(Charts);
const PracticeBarM = memo(PracticeBar);

export default function RoomScreen() {
  const controller = useController();
  const room = useGame(selectRoom);
  const world = useGame(selectMyWorld);
  const worldKey = useGame(myWorldKey);
  const report = useGame(selectMyReport);
  const result = useGame(selectMyResult);
  const level = useGame(selectLevel);
  const feed = useGame(selectFeed);
  const me = useGame(selectMe);
  const canEdit = useGame(selectCanEdit);
  const canPractice = useGame(selectCanPractice);
  const canStart = useGame(selectCanStart);
  const standings = useGame(selectStandings);
  const [selection, setSelection] = useState<Selection>(null);
  const [resultsHidden, setResultsHidden] = useState(false);
  const onAct = useCallback((a: Action) => void controller.act(a), [controller]);
  const onSelect = useCallback((s: Selection) => setSelection(s), []);
  const onPick = useCallback((id: string) => setSelection({ type: "node", id }), []);
  const worldFeed = useMemo(() => feed.filter((f) => !f.world || f.world === worldKey), [feed, worldKey]);

  // A new result (a new run) shows the panel again.
  useEffect(() => setResultsHidden(false), [result?.result.score, result?.result.ticks]);

  if (!room || !world) return null;
  const levelMatches = level?.id === room.level ? level : null;
  const cost = report?.system.cost_per_hour ?? archCost(world.architecture, levelMatches);
  const history = controller.game.history(worldKey);
  const selectedNode = selection?.type === "node" ? selection.id : null;
  const inspectorKey =
    selection?.type === "node"
      ? `n:${selection.id}:${world.architecture.nodes.find((n) => n.id === selection.id)?.instances ?? ""}`
      : selection
        ? `e:${selection.from}->${selection.to}`
        : "none";

  return (
    <div className="room" data-testid="room">
      <TopBar
        room={room}
        report={report}
        level={levelMatches}
        cost={cost}
        canStart={canStart}
        onStart={() => controller.start()}
        onLeave={() => {
          controller.leave();
          navigate({ name: "home" });
        }}
      />
      {canPractice && <PracticeBarM room={room} />}
      {room.mode === "race" && room.worlds.length > 1 && (
        <div className="row panel">
          <label htmlFor="watch-select">Showing the system of</label>
          <select
            id="watch-select"
            value={worldKey}
            onChange={(e) => controller.game.set({ watching: e.target.value })}
          >
            {room.worlds.map((w) => (
              <option key={w.player} value={w.player}>
                {room.members.find((m) => m.player === w.player)?.name ?? w.player}
                {w.player === me?.player ? " (you)" : ""}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="workbench">
        <PaletteM level={levelMatches} arch={world.architecture} canEdit={canEdit} onAct={onAct} />
        <ReactFlowProvider>
          <ArchCanvas
            arch={world.architecture}
            report={report}
            firing={world.alerts}
            canEdit={canEdit}
            selection={selection}
            onSelect={onSelect}
            onAct={onAct}
          />
        </ReactFlowProvider>
        <Inspector
          key={inspectorKey}
          arch={world.architecture}
          selection={selection}
          report={report}
          level={levelMatches}
          canEdit={canEdit}
          onAct={onAct}
          onSelect={onSelect}
        />
      </div>
      <div className="dashboard">
        <div>
          {(room.phase === "lobby" || room.phase === "countdown") && (
            <p className="muted small">Live metrics start with the run. Build in the lobby, then press Start.</p>
          )}
          <ChartsM history={history} node={selectedNode} />
        </div>
        <div className="side">
          <Objectives level={levelMatches} report={report} />
          <AlertFeedM feed={worldFeed} tickHz={room.tick_hz} onPick={onPick} />
          {room.mode === "race" && standings.length > 0 && (
            <section className="panel" aria-label="Standings">
              <h2>Standings</h2>
              <ol>
                {standings.map((s) => (
                  <li key={s.player}>
                    {s.name}: SLO {pct(s.slo_compliance, 1)} · avail {pct(s.availability, 2)}
                    {s.result ? ` · ${Math.round(s.result.score)} pts` : ""}
                  </li>
                ))}
              </ol>
            </section>
          )}
          <PeopleM members={room.members} chat={room.chat} me={me?.player} />
        </div>
      </div>
      {result && !resultsHidden && (
        <Results
          result={result.result}
          receiptId={result.receiptId}
          rank={
            room.practice || !me
              ? undefined
              : { level: room.level, mode: room.mode, player: me.player, attemptId: result.attemptId }
          }
          onLeaveForLink={() => controller.leave()}
          onClose={() => setResultsHidden(true)}
          onHome={() => {
            controller.leave();
            navigate({ name: "home" });
          }}
          onRetry={() => void controller.createRoom(room.level, room.mode, room.practice, room.seed)}
        />
      )}
    </div>
  );
}
