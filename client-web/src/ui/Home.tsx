// Home: your name, the levels (with the concept each teaches), join a room by code, live rooms.
// Invariant: joining never happens without a session; the controller creates one on demand.
import { useState, type FormEvent } from "react";
import { listLevels, listRooms } from "../api/http";
import { useController, useGame } from "./hooks";
import { selectMe } from "../state/selectors";
import { navigate } from "./router";
import { useFetch } from "./useFetch";
import { clock, money } from "./format";
import type { JoinRole } from "../protocol/generated";

export function Home() {
  const levels = useFetch(listLevels, []);
  const rooms = useFetch(listRooms, [], 5000);
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
      <section className="panel" aria-labelledby="levels-h">
        <h2 id="levels-h">Levels</h2>
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
