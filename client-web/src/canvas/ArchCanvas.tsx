// The architecture on a React Flow canvas. The server's architecture is the truth: nodes and
// edges are derived from it on every change; only positions are local (layout, then wherever the
// player drags them). Connecting two handles sends `connect`; Delete sends `remove_node` /
// `disconnect`. Invariant: the canvas never changes the architecture itself; it only sends
// actions and waits for the server's `architecture_changed`.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { Action, Architecture, TickReport } from "../protocol/generated";
import { ArchNodeView, NodeMetricsContext, type ArchFlowNode } from "./ArchNodeView";
import { layeredLayout } from "./layout";
import { rps } from "../ui/format";

export type Selection = { type: "node"; id: string } | { type: "edge"; from: string; to: string } | null;

export const edgeId = (from: string, to: string) => `${from}->${to}`;

const nodeTypes = { arch: ArchNodeView };
/**
 * Past this many edges (a 30-node system) edges drop their per-frame detail: animated dashes
 * repaint every frame, and a label whose text changes is re-measured (getBBox) on every metrics
 * frame, together most of a frame's work at 40 edges. The selected edge keeps its rate; failing
 * and breaker-open edges say so in fixed words; every rate is in the inspector.
 */
const DETAIL_MAX_EDGES = 24;

interface Props {
  arch: Architecture;
  report: TickReport | undefined;
  firing: string[];
  canEdit: boolean;
  selection: Selection;
  onSelect: (s: Selection) => void;
  onAct: (a: Action) => void;
}

export function ArchCanvas({ arch, report, firing, canEdit, selection, onSelect, onAct }: Props) {
  // Positions the player dragged to; everything else comes from the layout.
  const moved = useRef(new Map<string, { x: number; y: number }>());
  const [movedVersion, setMovedVersion] = useState(0);
  const layout = useMemo(() => layeredLayout(arch), [arch]);

  const alertingNodes = useMemo(() => {
    const set = new Set<string>();
    for (const key of firing) {
      const node = key.split("/")[0];
      if (node) set.add(node);
    }
    return set;
  }, [firing]);

  // Nodes change with the architecture, the selection and alerts, never with a metrics frame
  // (node views read metrics from NodeMetricsContext), so React Flow keeps its nodes between frames.
  const selectedNode = selection?.type === "node" ? selection.id : null;
  const nodes: ArchFlowNode[] = useMemo(
    () =>
      arch.nodes.map((n) => ({
        id: n.id,
        type: "arch",
        position: moved.current.get(n.id) ?? layout.get(n.id) ?? { x: 0, y: 0 },
        data: { node: n, alerting: alertingNodes.has(n.id) },
        selected: selectedNode === n.id,
        deletable: canEdit && !n.fixed,
        connectable: canEdit,
      })),
    [arch, layout, movedVersion, alertingNodes, selectedNode, canEdit],
  );

  const detailed = arch.edges.length <= DETAIL_MAX_EDGES;
  const fresh: Edge[] = arch.edges.map((e) => {
    const m = report?.edges.find((x) => x.from === e.from && x.to === e.to);
    const id = edgeId(e.from, e.to);
    const failing = (m?.failure ?? 0) > 0.01;
    const isSelected = selection?.type === "edge" && edgeId(selection.from, selection.to) === id;
    return {
      id,
      source: e.from,
      target: e.to,
      animated: detailed && (m?.attempts_rps ?? 0) > 0,
      selected: isSelected,
      deletable: canEdit,
      markerEnd: { type: MarkerType.ArrowClosed },
      className: failing ? "edge-failing" : m?.breaker === "open" ? "edge-open" : "",
      ...(m && (detailed || isSelected)
        ? { label: `${rps(m.attempts_rps)}${m.breaker !== "none" && m.breaker !== "closed" ? ` · ${m.breaker}` : ""}` }
        : m && (failing || m.breaker === "open")
          ? { label: m.breaker === "open" ? "breaker open" : "failing" } // fixed text: measured once
          : {}),
      ariaLabel: `${e.from} calls ${e.to}`,
    };
  });

  // Past DETAIL_MAX_EDGES an edge's look rarely changes between frames: keep the same array when
  // nothing shown changed, so React Flow does not re-adopt every edge on every metrics frame.
  const edgesRef = useRef<{ key: string; edges: Edge[] }>({ key: "", edges: [] });
  const edgesKey = fresh
    .map(
      (e) =>
        `${e.id}|${e.animated ? 1 : 0}|${e.selected ? 1 : 0}|${e.className}|${String(e.label ?? "")}|${e.deletable ? 1 : 0}`,
    )
    .join(";");
  if (edgesRef.current.key !== edgesKey) edgesRef.current = { key: edgesKey, edges: fresh };
  const edges = edgesRef.current.edges;

  const onNodesChange = useCallback(
    (changes: NodeChange<ArchFlowNode>[]) => {
      let changed = false;
      for (const c of changes) {
        if (c.type === "position" && c.position) {
          moved.current.set(c.id, c.position);
          changed = true;
        } else if (c.type === "select" && c.selected) {
          onSelect({ type: "node", id: c.id });
        }
      }
      if (changed) setMovedVersion((v) => v + 1);
    },
    [onSelect],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      for (const c of changes) {
        if (c.type === "select" && c.selected) {
          const [from, to] = c.id.split("->");
          if (from && to) onSelect({ type: "edge", from, to });
        }
      }
    },
    [onSelect],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (canEdit && c.source && c.target) onAct({ op: "connect", from: c.source, to: c.target });
    },
    [canEdit, onAct],
  );

  return (
    <div className="canvas" data-testid="canvas">
      <NodeMetricsContext.Provider value={report?.nodes}>
        <ReactFlow<ArchFlowNode, Edge>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          onNodesDelete={(ns) => ns.forEach((n) => onAct({ op: "remove_node", id: n.id }))}
          onEdgesDelete={(es) => es.forEach((e) => onAct({ op: "disconnect", from: e.source, to: e.target }))}
          onPaneClick={() => onSelect(null)}
          nodesConnectable={canEdit}
          deleteKeyCode={canEdit ? ["Delete", "Backspace"] : null}
          fitView
          fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
          minZoom={0.3}
          proOptions={{ hideAttribution: false }}
        >
          <Background gap={20} />
          <Controls showInteractive={false} />
          <FitOnGrow shape={`${arch.nodes.length}:${arch.edges.length}`} />
        </ReactFlow>
      </NodeMetricsContext.Provider>
    </div>
  );
}

/** Fits the view when nodes or edges come or go (the layout moves), so nothing is off-screen. */
function FitOnGrow({ shape }: { shape: string }) {
  const flow = useReactFlow();
  useEffect(() => {
    const t = setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1.2, duration: 200 }), 50);
    return () => clearTimeout(t);
  }, [shape, flow]);
  return null;
}
