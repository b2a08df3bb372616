// Where nodes go on the canvas when the player has not moved them: columns by call depth from
// the users (longest path), rows in placement order. Invariant: deterministic for a given
// architecture (every client of a team room sees the same picture), and terminates on cycles.
import type { Architecture } from "../protocol/generated";

export const COL_W = 230;
export const ROW_H = 130;

export function layeredLayout(arch: Architecture): Map<string, { x: number; y: number }> {
  const depth = new Map<string, number>();
  for (const n of arch.nodes) depth.set(n.id, n.kind === "client" ? 0 : 1);
  // Bellman-Ford style relaxation, bounded by the node count so a cycle cannot loop forever.
  for (let round = 0; round < arch.nodes.length; round++) {
    let changed = false;
    for (const e of arch.edges) {
      const d = (depth.get(e.from) ?? 0) + 1;
      if (d > (depth.get(e.to) ?? 0) && d <= arch.nodes.length) {
        depth.set(e.to, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const rows = new Map<number, number>();
  const out = new Map<string, { x: number; y: number }>();
  for (const n of arch.nodes) {
    const d = depth.get(n.id) ?? 0;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    out.set(n.id, { x: d * COL_W, y: row * ROW_H });
  }
  return out;
}
