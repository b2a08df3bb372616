// Home: your name, the daily challenge, the levels (with the concept each teaches and your
// stars on each), join a room by code, live rooms to watch.
// Invariant: joining never happens without a session; the controller creates one on demand.
// Progress is the server's (`/players/{me}/progress`), fetched once the socket names the player.
import { useState, type FormEvent } from "react";
import { listLevels, listRooms, type LevelSummary } from "../api/http";
import { daily, playerProgress } from "../api/records";
import type { LevelProgress } from "../protocol/generated";
import { Link } from "./Link";
import { useController, useGame } from "./hooks";
import { selectMe } from "../state/selectors";
import { navigate } from "./router";
import { useFetch } from "./useFetch";
import { clock, money, stars } from "./format";
import type { JoinRole } from "../protocol/generated";

export function Home() {
  const levels = useFetch(listLevels, []);
  const rooms = useFetch(listRooms, [], 5000);
  const me = useGame(selectMe);
  const progress = useFetch(() => (me ? playerProgress(me.player) : Promise.resolve(null)), [me?.player]);
  const mine = new Map((progress.data?.levels ?? []).map((p) => [p.level, p]));
  const passed = progress.data?.levels.filter((p) => p.passed).length ?? 0;
  const starCount = progress.data?.levels.reduce((n, p) => n + p.stars, 0) ?? 0;
  return (
    <div className="home">
      <section className="panel">
        <h1>Design systems that survive the stampede</h1>
        <p className="muted">
          Pick a level, build an architecture on the canvas, and keep it up while the traffic ramps, caches empty and
          databases fail.
        </p>
        <NameForm />
      </section>
      <DailyCard levels={levels.data} />
      <section className="panel" aria-labelledby="levels-h">
        <div className="row spread">
          <h2 id="levels-h">Levels</h2>
          {levels.data && (
            <span className="muted small" data-testid="progress-summary">
              {passed} of {levels.data.length} passed · {starCount} of {levels.data.length * 3} ★
            </span>
          )}
          <Link to={{ name: "leaderboards" }}>Leaderboards</Link>
        </div>
        {levels.error && <p className="error">Could not load levels: {levels.error}</p>}
        {!levels.data && !levels.error && <p className="muted">Loading…</p>}
        <ol className="levels">
          {levels.data?.map((l) => (
            <li key={l.id}>
              <a
                href={`/levels/${l.id}`}
                className="level-card"
                data-testid={`level-${l.id}`}
                onClick={(e) => {
                  e.preventDefault();
                  navigate({ name: "level", id: l.id });
                }}
              >
                <span className="level-chapter">{l.chapter}</span>
                <strong>{l.title}</strong>
                <span>{l.concept}</span>
                <span className="muted small">
                  {clock(l.duration_s)} · budget {money(l.budget_per_hour)}/h · p99 ≤ {l.objectives.p99_ms ?? "–"} ms
                </span>
                <LevelBadge progress={mine.get(l.id)} />
              </a>
            </li>
          ))}
        </ol>
      </section>
      <section className="panel" aria-labelledby="join-h">
        <h2 id="join-h">Join a room</h2>
        <JoinForm />
        <h3>Live rooms</h3>
        {rooms.data && rooms.data.length === 0 && <p className="muted">No rooms right now.</p>}
        <ul className="rooms">
          {rooms.data?.map((r) => (
            <li key={r.id}>
              <span className="mono">{r.code}</span> {r.level} · {r.mode}
              {r.practice ? " · practice" : ""} · {r.phase} · {r.members} in room
              <JoinButtons code={r.code} mode={r.mode} phase={r.phase} />
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

/** Your standing on a level: stars and best score, or nothing yet. */
function LevelBadge({ progress }: { progress: LevelProgress | undefined }) {
  if (!progress) return <span className="level-progress muted small">not played yet</span>;
  return (
    <span className={`level-progress small${progress.passed ? " passed" : ""}`}>
      <span className="stars" aria-label={`${progress.stars} stars`}>
        {stars(progress.stars)}
      </span>{" "}
      best {Math.round(progress.best_score)} · {progress.attempts} {progress.attempts === 1 ? "try" : "tries"}
      {progress.passed ? "" : " · not passed yet"}
    </span>
  );
}

/** Today's challenge: the same level and seed for everyone, for one UTC day. */
function DailyCard({ levels }: { levels: LevelSummary[] | null }) {
  const today = useFetch(daily, []);
  const controller = useController();
  const [error, setError] = useState<string | null>(null);
  const d = today.data;
  if (today.error) return null; // the daily is a bonus: no card rather than an error box
  const title = levels?.find((l) => l.id === d?.level)?.title ?? d?.level;
  return (
    <section className="panel daily" aria-labelledby="daily-h" data-testid="daily">
      <h2 id="daily-h">Daily challenge{d ? ` · ${d.date}` : ""}</h2>
      {!d && <p className="muted">Loading…</p>}
      {d && (
        <>
          <p>
            <strong>{title}</strong>{" "}
            <span className="muted small">seed {d.seed}: the same traffic for everyone today</span>
          </p>
          <div className="row">
            <button
              type="button"
              onClick={() =>
                controller
                  .createRoom(d.level, "solo", false, d.seed)
                  .catch((e: unknown) => setError(String(e instanceof Error ? e.message : e)))
              }
            >
              Play today&apos;s challenge
            </button>
            <Link to={{ name: "level", id: d.level }}>Briefing</Link>
            <Link to={{ name: "leaderboards", level: d.level, window: "day", period: d.date }}>Today&apos;s board</Link>
          </div>
          {error && <p className="error small">{error}</p>}
        </>
      )}
    </section>
  );
}

function NameForm() {
  const controller = useController();
  const me = useGame(selectMe);
  const [name, setName] = useState(controller.playerName);
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    controller.setName(name).then(
      () => {
        setSaved(`Playing as ${name.trim() || "guest"}`);
        setError(null);
      },
      (err: unknown) => setError(String(err instanceof Error ? err.message : err)),
    );
  };
  return (
    <form className="row" onSubmit={submit}>
      <label htmlFor="player-name">Your name</label>
      <input
        id="player-name"
        value={name}
        maxLength={32}
        onChange={(e) => setName(e.target.value)}
        placeholder={me?.name ?? "Ada"}
      />
      <button type="submit">Save</button>
      {saved && <span className="muted small">{saved}</span>}
      {error && <span className="error small">{error}</span>}
    </form>
  );
}

function JoinForm() {
  const controller = useController();
  const [code, setCode] = useState("");
  const [role, setRole] = useState<JoinRole>("player");
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const c = code.trim().toUpperCase();
    if (!c) return;
    controller
      .joinRoom({ code: c }, role)
      .catch((err: unknown) => setError(String(err instanceof Error ? err.message : err)));
  };
  return (
    <form className="row" onSubmit={submit} aria-label="Join by code">
      <label htmlFor="join-code">Code</label>
      <input
        id="join-code"
        className="mono"
        value={code}
        maxLength={16}
        onChange={(e) => setCode(e.target.value)}
        placeholder="KX7M2Q"
        autoComplete="off"
      />
      <label htmlFor="join-role">as</label>
      <select id="join-role" value={role} onChange={(e) => setRole(e.target.value as JoinRole)}>
        <option value="player">player</option>
        <option value="spectator">spectator</option>
        <option value="coach">coach</option>
      </select>
      <button type="submit">Join</button>
      {error && <span className="error small">{error}</span>}
    </form>
  );
}

function JoinButtons({ code, mode, phase }: { code: string; mode: string; phase: string }) {
  const controller = useController();
  const canPlay = mode === "team" || (mode === "race" && phase === "lobby");
  return (
    <span className="join-buttons">
      {canPlay && (
        <button type="button" className="small" onClick={() => void controller.joinRoom({ code }, "player")}>
          Join
        </button>
      )}
      <button type="button" className="small secondary" onClick={() => void controller.joinRoom({ code }, "spectator")}>
        Watch
      </button>
    </span>
  );
}
