// A receipt: who played which level with which seed, the result, every action; whether it
// verifies (signature and the server's re-simulation); and a replay of its metric curves with
// the level's best run overlaid as a ghost. Loaded lazily (uPlot).
// Invariants: verification always sends the receipt's exact text as fetched (any other encoding
// fails the signature); the replay is the server's exact re-simulation of the run, fetched on
// demand, and the verification is the verdict.
import { useState } from "react";
import { getReceipt, leaderboard, verifyReceipt, type FetchedReceipt } from "../../api/records";
import type { Receipt, Verification } from "../../protocol/generated";
import { TraceChart } from "../../charts/TraceChart";
import { describeAction } from "../../records/describe";
import { Link } from "../Link";
import { when } from "../LeaderboardTable";
import { useFetch } from "../useFetch";
import { money, ms, pct, stars } from "../format";
import { useReplay, type ReplayHandle } from "./useReplay";

export default function ReceiptPage({ id }: { id: string }) {
  const fetched = useFetch(() => getReceipt(id), [id]);
  const r = fetched.data;
  return (
    <div className="receipt-page">
      <Link
        to={{ name: "leaderboards", ...(r ? { level: r.receipt.level, mode: r.receipt.mode } : {}) }}
        className="link"
      >
        ← Leaderboard
      </Link>
      {fetched.error && (
        <p className="error panel">
          Could not load receipt {id}: {fetched.error}
        </p>
      )}
      {!r && !fetched.error && <p className="loading">Loading the receipt…</p>}
      {r && <ReceiptView fetched={r} />}
    </div>
  );
}

function ReceiptView({ fetched }: { fetched: FetchedReceipt }) {
  const { receipt, text } = fetched;
  const verdict = useFetch(() => verifyReceipt(text), [text]);
  const res = receipt.result;
  const names = new Map(receipt.players.map((p) => [p.id, p.name]));
  return (
    <>
      <section className="panel" aria-labelledby="receipt-h">
        <h1 id="receipt-h">
          Receipt <span className="mono small">{receipt.id}</span>
        </h1>
        <VerdictLine verdict={verdict.data} error={verdict.error} />
        <dl className="facts receipt-facts">
          <dt>Who</dt>
          <dd data-testid="receipt-players">{receipt.players.map((p) => p.name).join(", ")}</dd>
          <dt>Level</dt>
          <dd>
            <Link to={{ name: "level", id: receipt.level }}>{receipt.level}</Link>{" "}
            <span className="muted small">
              v{receipt.level_version} · engine {receipt.engine}
            </span>
          </dd>
          <dt>Mode · seed</dt>
          <dd>
            {receipt.mode} · <span className="mono">{receipt.seed}</span>
          </dd>
          <dt>Score</dt>
          <dd>
            <strong data-testid="receipt-score">{Math.round(res.score)}</strong> / 1000{" "}
            <span className="stars" aria-label={`${res.stars} stars`}>
              {stars(res.stars)}
            </span>{" "}
            {res.passed ? "objectives met" : `not passed${res.failure ? `: ${res.failure}` : ""}`}
          </dd>
          <dt>Run</dt>
          <dd>
            SLO {pct(res.parts.slo, 1)} · availability {pct(res.availability, 2)} · worst p99 {ms(res.worst_p99_ms)} ·{" "}
            {money(res.avg_cost_per_hour)}/h
          </dd>
          <dt>When</dt>
          <dd>{when(receipt.finished_at)} UTC</dd>
          <dt>Signed by</dt>
          <dd className="mono small">key {receipt.key_id}</dd>
        </dl>
      </section>
      <ReplaySection receipt={receipt} />
      <section className="panel" aria-labelledby="actions-h">
        <h2 id="actions-h">
          Actions <span className="muted small">({receipt.actions.length})</span>
        </h2>
        {receipt.actions.length === 0 ? (
          <p className="muted">No changes: the starting architecture as it was.</p>
        ) : (
          <ol className="actions" data-testid="receipt-actions">
            {receipt.actions.map((a, i) => (
              <li key={i}>
                <span className="mono muted">{a.tick === 0 ? "lobby" : `tick ${a.tick}`}</span>{" "}
                {describeAction(a.action)}
                {receipt.players.length > 1 && (
                  <span className="muted small"> · {names.get(a.player) ?? a.player}</span>
                )}
              </li>
            ))}
          </ol>
        )}
      </section>
      <VerifyCopy original={text} />
    </>
  );
}

function VerdictLine({
  verdict,
  error,
  testId = "verdict",
}: {
  verdict: Verification | null;
  error: string | null;
  testId?: string;
}) {
  if (error) return <p className="error">Could not verify: {error}</p>;
  if (!verdict) return <p className="muted">Verifying the signature and re-simulating the run…</p>;
  return verdict.valid ? (
    <p className="verdict ok" data-testid={testId}>
      ✓ Valid: the signature holds and the server&apos;s re-simulation gives the same result.
    </p>
  ) : (
    <p className="verdict bad" data-testid={testId}>
      ✗ Invalid: {verdict.reason ?? "no reason given"}
    </p>
  );
}

/** The replay of this run and of the level's best (the ghost), side by side on the same charts. */
function ReplaySection({ receipt }: { receipt: Receipt }) {
  const mine = useReplay();
  const ghost = useReplay();
  const best = useFetch(
    () => leaderboard(receipt.level, { mode: receipt.mode, limit: 1 }),
    [receipt.level, receipt.mode],
  );
  const top = best.data?.entries[0];
  const ghostId = top && top.receipt_id !== receipt.id ? top.receipt_id : null;
  const play = () => {
    mine.start(receipt.id);
    if (ghostId) ghost.start(ghostId);
  };
  const busy = mine.status.state === "loading";
  const trace = mine.trace;
  return (
    <section className="panel" aria-labelledby="replay-h">
      <div className="row spread">
        <h2 id="replay-h">Replay</h2>
        <button type="button" onClick={play} disabled={busy} data-testid="replay">
          {mine.status.state === "idle" ? "Replay with curves" : "Replay again"}
        </button>
      </div>
      <p className="muted small">
        The server re-runs the actions at their ticks with the same seed and returns the metrics.
        {top
          ? ghostId
            ? ` The dashed line is the best run on this board (${top.name}, ${Math.round(top.score)}).`
            : " This is the best run on its board."
          : ""}
      </p>
      <ReplayStatusLine label="This run" handle={mine} testId="replay-status" />
      {ghostId && ghost.status.state !== "idle" && (
        <ReplayStatusLine label="Best run" handle={ghost} testId="ghost-status" />
      )}
      {trace && (
        <div className="charts" data-testid="replay-charts">
          <TraceChart
            title="Goodput (req/s)"
            mine={trace}
            ghost={ghost.trace}
            series="goodput"
            color="#2e7d32"
            unit=""
            testId="replay-goodput"
          />
          <TraceChart
            title="Error rate"
            mine={trace}
            ghost={ghost.trace}
            series="error_rate"
            color="#c62828"
            unit="%"
            scale={100}
          />
          <TraceChart title="p99 latency" mine={trace} ghost={ghost.trace} series="p99_ms" color="#ef6c00" unit="ms" />
          <TraceChart title="Cost" mine={trace} ghost={ghost.trace} series="cost_per_hour" color="#6a1b9a" unit="$/h" />
        </div>
      )}
    </section>
  );
}

function ReplayStatusLine({ label, handle, testId }: { label: string; handle: ReplayHandle; testId: string }) {
  const s = handle.status;
  let text: string;
  switch (s.state) {
    case "idle":
      return null;
    case "loading":
      text = "re-simulating…";
      break;
    case "done":
      text = `${Math.round(s.replay.result.score)} points; re-simulated: ${
        s.replay.matches ? "same result" : "a different result from the receipt"
      }`;
      break;
    case "failed":
      text = `failed: ${s.reason}`;
      break;
  }
  return (
    <p
      className={`small replay-status${s.state === "failed" ? " error" : ""}`}
      data-testid={testId}
      data-state={s.state}
    >
      <strong>{label}:</strong> {text}
    </p>
  );
}

/** Verify any receipt text, e.g. an edited copy of this one: an edited receipt reads as invalid. */
function VerifyCopy({ original }: { original: string }) {
  const [text, setText] = useState(original);
  const [result, setResult] = useState<Verification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const check = () => {
    setBusy(true);
    setError(null);
    verifyReceipt(text)
      .then(setResult, (e: unknown) => {
        setResult(null);
        setError(String(e instanceof Error ? e.message : e));
      })
      .finally(() => setBusy(false));
  };
  return (
    <details className="panel verify-copy">
      <summary>Verify a copy of this receipt</summary>
      <p className="muted small">
        The text below is the receipt exactly as signed. Change anything (a score, an action) and verify: the server
        says why it no longer holds.
      </p>
      <label htmlFor="receipt-text" className="sr-only">
        Receipt text
      </label>
      <textarea
        id="receipt-text"
        className="mono"
        rows={8}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setResult(null);
        }}
        spellCheck={false}
      />
      <div className="row">
        <button type="button" onClick={check} disabled={busy} data-testid="verify-copy">
          Verify this text
        </button>
        <button type="button" className="secondary" onClick={() => setText(original)} disabled={text === original}>
          Restore the original
        </button>
      </div>
      {error && <p className="error">{error}</p>}
      {result && <VerdictLine verdict={result} error={null} testId="copy-verdict" />}
    </details>
  );
}
