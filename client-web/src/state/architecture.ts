// Applies an accepted action (from an `architecture_changed` event) to the client's copy of an
// architecture, the way the engine does (sim/src/world.rs `plan`). Invariant: pure and total: it
// returns a new Architecture and never throws; an action that does not fit (unknown node) leaves
// the architecture as it was, since the server already validated it and a later snapshot wins.
import type { Action, ArchNode, Architecture, Kind, NodeConfig } from "../protocol/generated";

/** What add_node needs from the level's catalog. */
export interface CatalogLookup {
  component(name: string): { kind: Kind; instance_types: string[]; defaults?: NodeConfig } | undefined;
  defaultRegion(): string;
}

/** Settings over defaults; absent and null values never override (the REST level JSON may carry nulls). */
function mergeConfig<T extends object>(base: T, over: T | undefined): T {
  const out: Record<string, unknown> = {};
  for (const src of [base, over ?? {}]) {
    for (const [k, v] of Object.entries(src)) if (v !== null && v !== undefined) out[k] = v;
  }
  return out as T;
}

export function applyAction(arch: Architecture, action: Action, catalog: CatalogLookup | null): Architecture {
  const nodes = arch.nodes;
  const edges = arch.edges;
  const mapNode = (id: string, f: (n: ArchNode) => ArchNode): Architecture =>
    nodes.some((n) => n.id === id) ? { nodes: nodes.map((n) => (n.id === id ? f(n) : n)), edges } : arch;
  switch (action.op) {
    case "add_node": {
      if (nodes.some((n) => n.id === action.id)) return arch;
      const comp = catalog?.component(action.component);
      const node: ArchNode = {
        id: action.id,
        component: action.component,
        kind: comp?.kind ?? "service",
        instance_type: action.instance_type ?? comp?.instance_types[0] ?? "",
        instances: action.instances ?? 1,
        region: action.region ?? catalog?.defaultRegion() ?? "local",
        config: mergeConfig(comp?.defaults ?? {}, action.config),
        fixed: false,
        drained: false,
      };
      return { nodes: [...nodes, node], edges };
    }
    case "remove_node":
      return {
        nodes: nodes.filter((n) => n.id !== action.id),
        edges: edges.filter((e) => e.from !== action.id && e.to !== action.id),
      };
    case "connect":
      if (edges.some((e) => e.from === action.from && e.to === action.to)) return arch;
      return { nodes, edges: [...edges, { from: action.from, to: action.to, config: action.config ?? {} }] };
    case "disconnect":
      return { nodes, edges: edges.filter((e) => !(e.from === action.from && e.to === action.to)) };
    case "configure_node":
      return mapNode(action.id, (n) => ({ ...n, config: mergeConfig(n.config, action.config) }));
    case "configure_edge":
      return {
        nodes,
        edges: edges.map((e) =>
          e.from === action.from && e.to === action.to ? { ...e, config: mergeConfig(e.config, action.config) } : e,
        ),
      };
    case "resize":
      return mapNode(action.id, (n) => ({ ...n, instance_type: action.instance_type }));
    case "scale":
      return mapNode(action.id, (n) => ({ ...n, instances: action.instances }));
    case "drain":
      return mapNode(action.id, (n) => ({ ...n, drained: action.drain ?? true }));
    case "fail_over":
      return arch; // changes the running world, not the architecture
    default:
      return arch; // an op this client does not know yet: the next snapshot carries it
  }
}
