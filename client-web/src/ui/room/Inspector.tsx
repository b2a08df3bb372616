// The inspector for the selected node or edge: live numbers, and every control that applies to
// it (scale, resize, drain, fail over, connect, remove, settings). Invariant: each control sends
// one action through `onAct`, and its refusal appears right below it (RefusalNote by target).
import { useState } from "react";
import type {
  Action,
  ArchEdge,
  ArchNode,
  Architecture,
  EdgeConfig,
  NodeConfig,
  TickReport,
} from "../../protocol/generated";
import type { LevelDetail } from "../../api/http";
import type { Selection } from "../../canvas/ArchCanvas";
import { ConfigForm } from "./ConfigForm";
import { RefusalNote } from "./RefusalNote";
import { AUTOSCALE_FIELDS, AUTOSCALE_KINDS, BREAKER_FIELDS, EDGE_FIELDS, NODE_FIELDS } from "./settings";
import { ms, num, pct, rps, money } from "../format";
import { useGame } from "../hooks";
import { selectEditBlock } from "../../state/selectors";

/** Says why the controls are missing: a spectator or coach watches; after the end nothing changes. */
export function EditBlockNote() {
  const block = useGame(selectEditBlock);
  if (block === "finished") return <p className="muted small">The run is over: the architecture is final.</p>;
  if (block === "rival")
    return <p className="muted small">This is another racer's system: switch back to yours to edit.</p>;
  return <p className="muted small">You are watching: only players can change the architecture.</p>;
}

interface Props {
  arch: Architecture;
  selection: Selection;
  report: TickReport | undefined;
  level: LevelDetail | null;
  canEdit: boolean;
  onAct: (a: Action) => void;
  onSelect: (s: Selection) => void;
}

export function Inspector(props: Props) {
  const { arch, selection } = props;
  if (!selection) {
    return (
      <aside className="inspector panel" aria-label="Inspector">
        <h2>Inspector</h2>
        <p className="muted small">Select a node or an edge on the canvas to see its numbers and settings.</p>
        <p className="muted small">Drag from a node's right handle to another node's left handle to connect them.</p>
      </aside>
    );
  }
  if (selection.type === "node") {
    const node = arch.nodes.find((n) => n.id === selection.id);
    if (!node) return null;
    return <NodeInspector {...props} node={node} />;
  }
  const edge = arch.edges.find((e) => e.from === selection.from && e.to === selection.to);
  if (!edge) return null;
  return <EdgeInspector {...props} edge={edge} />;
}

function NodeInspector({ node, arch, report, level, canEdit, onAct, onSelect }: Props & { node: ArchNode }) {
  const m = report?.nodes.find((x) => x.id === node.id);
  const comp = level?.components.find((c) => c.name === node.component);
  const maxInstances = comp?.max_instances ?? 64;
  const [instances, setInstances] = useState(String(node.instances));
  const [itype, setItype] = useState(node.instance_type);
  const [connectTo, setConnectTo] = useState("");
  // Edge actions sent from here answer under the edge's target; show that answer here too.
  const [edgeTarget, setEdgeTarget] = useState<string | null>(null);
  const target = `node:${node.id}`;
  const targets = arch.nodes.filter(
    (n) => n.id !== node.id && n.kind !== "client" && !arch.edges.some((e) => e.from === node.id && e.to === n.id),
  );
  const price = level?.instance_types.find((t) => t.name === node.instance_type)?.price_per_hour;
  const fields = NODE_FIELDS[node.kind];
  const config = node.config as Record<string, unknown>;
  return (
    <aside className="inspector panel" aria-label={`Inspector: ${node.id}`} data-testid="inspector">
      <h2>
        {node.id}{" "}
        <span className="muted small">
          {node.component} · {node.kind.replaceAll("_", " ")}
        </span>
      </h2>
      <dl className="stats">
        <dt>State</dt>
        <dd>{m?.state ?? (node.drained ? "drained" : "–")}</dd>
        <dt>Instances</dt>
        <dd>
          {m ? `${m.up} up${m.booting ? `, ${m.booting} booting` : ""} of ` : ""}
          {node.instances} · {node.instance_type || "–"}
          {price !== undefined ? ` (${money(price)}/h each)` : ""}
        </dd>
        {m && (
          <>
            <dt>Load</dt>
            <dd>
              in {rps(m.in_rps)} · served {rps(m.served_rps)} · dropped {rps(m.dropped_rps)}
            </dd>
            <dt>Busy</dt>
            <dd>
              {pct(m.utilization)} util · cpu {pct(m.cpu)} · queue {num(m.queue)} · wait {ms(m.wait_ms)}
            </dd>
            <dt>Latency</dt>
            <dd>
              {ms(m.latency_ms)} · errors {pct(m.error_rate, 1)}
            </dd>
            {m.hit_ratio !== undefined && (
              <>
                <dt>Hit ratio</dt>
                <dd>{pct(m.hit_ratio)}</dd>
              </>
            )}
            {m.replication_lag_s !== undefined && (
              <>
                <dt>Replication lag</dt>
                <dd>{num(m.replication_lag_s, 1)} s</dd>
              </>
            )}
            {m.backlog !== undefined && (
              <>
                <dt>Backlog</dt>
                <dd>
                  {num(m.backlog)}
                  {m.dead_letters !== undefined ? ` · ${num(m.dead_letters)} dead letters` : ""}
                </dd>
              </>
            )}
            <dt>Cost</dt>
            <dd>{money(m.cost_per_hour)}/h</dd>
          </>
        )}
      </dl>
      {!canEdit && <EditBlockNote />}
      {canEdit && (
        <div className="controls">
          {node.kind !== "client" && (
            <form
              className="row"
              onSubmit={(e) => {
                e.preventDefault();
                onAct({ op: "scale", id: node.id, instances: Number(instances) });
              }}
            >
              <label htmlFor="scale-input">Instances</label>
              <input
                id="scale-input"
                type="number"
                min={1}
                max={maxInstances}
                step={1}
                value={instances}
                onChange={(e) => setInstances(e.target.value)}
                data-testid="scale-input"
              />
              <button type="submit" className="small" data-testid="scale-button">
                Scale
              </button>
            </form>
          )}
          {node.kind !== "client" && comp && comp.instance_types.length > 1 && (
            <form
              className="row"
              onSubmit={(e) => {
                e.preventDefault();
                onAct({ op: "resize", id: node.id, instance_type: itype });
              }}
            >
              <label htmlFor="resize-select">Type</label>
              <select id="resize-select" value={itype} onChange={(e) => setItype(e.target.value)}>
                {comp.instance_types.map((t) => {
                  const it = level?.instance_types.find((x) => x.name === t);
                  return (
                    <option key={t} value={t}>
                      {t}
                      {it ? ` (${it.vcpus ?? "?"} vCPU, ${money(it.price_per_hour)}/h)` : ""}
                    </option>
                  );
                })}
              </select>
              <button type="submit" className="small" disabled={itype === node.instance_type}>
                Resize
              </button>
            </form>
          )}
          {arch.edges.some((e) => e.from === node.id) && (
            <div className="row">
              <span className="small muted">Calls</span>
              {arch.edges
                .filter((e) => e.from === node.id)
                .map((e) => (
                  <span key={e.to} className="chip">
                    {e.to}
                    <button
                      type="button"
                      className="link"
                      aria-label={`Disconnect ${node.id} from ${e.to}`}
                      data-testid={`disconnect-${node.id}-${e.to}`}
                      onClick={() => {
                        setEdgeTarget(`edge:${node.id}->${e.to}`);
                        onAct({ op: "disconnect", from: node.id, to: e.to });
                      }}
                    >
                      ✕
                    </button>
                  </span>
                ))}
            </div>
          )}
          {node.kind !== "database" && (
            <form
              className="row"
              onSubmit={(e) => {
                e.preventDefault();
                if (!connectTo) return;
                setEdgeTarget(`edge:${node.id}->${connectTo}`);
                onAct({ op: "connect", from: node.id, to: connectTo });
              }}
            >
              <label htmlFor="connect-select">Call</label>
              <select
                id="connect-select"
                value={connectTo}
                onChange={(e) => setConnectTo(e.target.value)}
                data-testid="connect-select"
              >
                <option value="">choose a node…</option>
                {targets.map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.id}
                  </option>
                ))}
              </select>
              <button type="submit" className="small" disabled={!connectTo} data-testid="connect-button">
                Connect
              </button>
            </form>
          )}
          {node.kind !== "client" && (
            <div className="row">
              <button
                type="button"
                className="small secondary"
                onClick={() => onAct({ op: "drain", id: node.id, drain: !node.drained })}
              >
                {node.drained ? "Return to rotation" : "Drain"}
              </button>
              {node.kind === "database" && (
                <button
                  type="button"
                  className="small secondary"
                  onClick={() => onAct({ op: "fail_over", id: node.id })}
                >
                  Fail over now
                </button>
              )}
              {!node.fixed && (
                <button
                  type="button"
                  className="small danger"
                  onClick={() => {
                    onAct({ op: "remove_node", id: node.id });
                    onSelect(null);
                  }}
                >
                  Remove
                </button>
              )}
            </div>
          )}
        </div>
      )}
      <RefusalNote target={target} />
      {edgeTarget && <RefusalNote target={edgeTarget} />}
      {fields.length > 0 && (
        <details open={canEdit}>
          <summary>Settings</summary>
          <ConfigForm
            fields={fields}
            value={config}
            disabled={!canEdit}
            testId="node-settings"
            onApply={(changes) => onAct({ op: "configure_node", id: node.id, config: changes as NodeConfig })}
          />
        </details>
      )}
      {AUTOSCALE_KINDS.includes(node.kind) && (
        <details>
          <summary>Autoscaling {node.config.autoscale ? "(on)" : "(off)"}</summary>
          <ConfigForm
            fields={AUTOSCALE_FIELDS}
            value={
              (node.config.autoscale ?? { min: 1, max: maxInstances, target_utilization: 0.6 }) as Record<
                string,
                unknown
              >
            }
            disabled={!canEdit}
            sendAll
            submitLabel={node.config.autoscale ? "Update autoscaling" : "Turn on autoscaling"}
            onApply={(a) =>
              onAct({
                op: "configure_node",
                id: node.id,
                config: { autoscale: a as unknown as NodeConfig["autoscale"] } as NodeConfig,
              })
            }
          />
        </details>
      )}
    </aside>
  );
}

function EdgeInspector({ edge, report, level, canEdit, onAct, onSelect }: Props & { edge: ArchEdge }) {
  const m = report?.edges.find((x) => x.from === edge.from && x.to === edge.to);
  const target = `edge:${edge.from}->${edge.to}`;
  const classes = level?.classes?.map((c) => c.name) ?? [];
  const carried = edge.config.classes ?? classes;
  const [picked, setPicked] = useState<string[]>(carried);
  const config = edge.config as Record<string, unknown>;
  const act = (config: EdgeConfig) => onAct({ op: "configure_edge", from: edge.from, to: edge.to, config });
  return (
    <aside className="inspector panel" aria-label={`Inspector: ${edge.from} to ${edge.to}`} data-testid="inspector">
      <h2>
        {edge.from} → {edge.to}
      </h2>
      {m && (
        <dl className="stats">
          <dt>Attempts</dt>
          <dd>
            {rps(m.attempts_rps)} ({rps(m.retries_rps)} retries)
          </dd>
          <dt>Failure</dt>
          <dd>{pct(m.failure, 1)}</dd>
          <dt>Breaker</dt>
          <dd>{m.breaker}</dd>
        </dl>
      )}
      {canEdit && (
        <div className="row">
          <button
            type="button"
            className="small danger"
            onClick={() => {
              onAct({ op: "disconnect", from: edge.from, to: edge.to });
              onSelect(null);
            }}
          >
            Remove edge
          </button>
        </div>
      )}
      <RefusalNote target={target} />
      <details open={canEdit}>
        <summary>Client settings</summary>
        <ConfigForm fields={EDGE_FIELDS} value={config} disabled={!canEdit} onApply={(c) => act(c as EdgeConfig)} />
      </details>
      <details>
        <summary>Circuit breaker {edge.config.breaker ? "(on)" : "(off)"}</summary>
        <ConfigForm
          fields={BREAKER_FIELDS}
          value={
            (edge.config.breaker ?? { failure_rate: 0.5, window_s: 10, min_calls: 20, open_s: 5 }) as Record<
              string,
              unknown
            >
          }
          disabled={!canEdit}
          sendAll
          submitLabel={edge.config.breaker ? "Update breaker" : "Add breaker"}
          onApply={(b) => act({ breaker: b })}
        />
      </details>
      {classes.length > 1 && (
        <details>
          <summary>Request classes</summary>
          <fieldset className="classes" disabled={!canEdit}>
            {classes.map((c) => (
              <label key={c}>
                <input
                  type="checkbox"
                  checked={picked.includes(c)}
                  onChange={(e) => setPicked(e.target.checked ? [...picked, c] : picked.filter((x) => x !== c))}
                />{" "}
                {c}
              </label>
            ))}
          </fieldset>
          {canEdit && (
            <button
              type="button"
              className="small"
              disabled={picked.length === 0}
              onClick={() => act({ classes: picked })}
            >
              Carry these classes
            </button>
          )}
        </details>
      )}
    </aside>
  );
}
