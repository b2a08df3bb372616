// A node on the canvas: its id, component, instances and live badges (utilization, queue,
// errors, state). Invariant: it renders only from its `data` (no store reads), so React Flow
// re-renders a node only when its own data changes.
import { createContext, memo, useContext } from "react";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import type { ArchNode, NodeMetrics } from "../protocol/generated";
import { num, pct } from "../ui/format";

export type ArchNodeData = {
  node: ArchNode;
  alerting: boolean;
};

/**
 * The latest metrics frame, for node views to read their own numbers. Passing metrics through
 * React Flow's node data would hand it a new nodes array on every frame (it re-adopts every node
 * and edge); through a context only the node views re-render.
 */
export const NodeMetricsContext = createContext<readonly NodeMetrics[] | undefined>(undefined);

export type ArchFlowNode = Node<ArchNodeData, "arch">;

/** Short kind labels (text, not emoji: not every system font has the glyphs). */
const KIND_LABEL: Record<string, string> = {
  client: "users",
  load_balancer: "LB",
  service: "svc",
  cache: "cache",
  cdn: "CDN",
  database: "DB",
  queue: "queue",
  rate_limiter: "limiter",
};

function ArchNodeViewImpl({ data, selected }: NodeProps<ArchFlowNode>) {
  const { node, alerting } = data;
  const m = useContext(NodeMetricsContext)?.find((x) => x.id === node.id);
  const state = m?.state ?? (node.drained ? "drained" : "idle");
  const showInstances = node.kind !== "client";
  return (
    <div
      className={`arch-node state-${state}${selected ? " selected" : ""}${alerting ? " alerting" : ""}`}
      data-testid={`node-${node.id}`}
      aria-label={`${node.id}: ${node.component}, ${state}`}
    >
      {node.kind !== "client" && <Handle type="target" position={Position.Left} />}
      <div className="arch-node-title">
        <span className={`kind kind-${node.kind}`}>{KIND_LABEL[node.kind] ?? node.kind}</span>{" "}
        <strong>{node.id}</strong>
        {node.fixed && (
          <span className="tag" title="part of the level">
            fixed
          </span>
        )}
      </div>
      <div className="arch-node-sub">
        {node.component}
        {node.instance_type ? ` · ${node.instance_type}` : ""}
        {showInstances && (
          <span data-testid={`instances-${node.id}`}>
            {" "}
            · {m ? `${m.up}${m.booting ? `+${m.booting}` : ""}/` : ""}
            {node.instances}×
          </span>
        )}
      </div>
      {m && (
        <div className="badges">
          <span className="badge" title="utilization">
            {pct(m.utilization)}
          </span>
          <span className="badge" title="requests queued">
            q {num(m.queue)}
          </span>
          <span className={`badge${m.error_rate > 0.01 ? " bad" : ""}`} title="error rate">
            err {pct(m.error_rate, 1)}
          </span>
          <span className={`badge state`} title="state">
            {m.state}
          </span>
          {m.hit_ratio !== undefined && (
            <span className="badge" title="hit ratio">
              hit {pct(m.hit_ratio)}
            </span>
          )}
        </div>
      )}
      {node.kind !== "database" && <Handle type="source" position={Position.Right} />}
    </div>
  );
}

export const ArchNodeView = memo(ArchNodeViewImpl);
