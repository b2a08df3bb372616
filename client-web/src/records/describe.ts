// One line of English per architecture action, for a receipt's action log.
// Invariant: total over Action (a new op fails the typecheck here, not at run time).
import type { Action } from "../protocol/generated";

export function describeAction(a: Action): string {
  switch (a.op) {
    case "add_node":
      return `add ${a.id} (${a.component}${a.instance_type ? `, ${a.instance_type}` : ""}${a.instances ? ` ×${a.instances}` : ""}${a.region ? `, ${a.region}` : ""})`;
    case "remove_node":
      return `remove ${a.id}`;
    case "connect":
      return `connect ${a.from} → ${a.to}`;
    case "disconnect":
      return `disconnect ${a.from} → ${a.to}`;
    case "configure_node":
      return `configure ${a.id}`;
    case "configure_edge":
      return `configure ${a.from} → ${a.to}`;
    case "resize":
      return `resize ${a.id} to ${a.instance_type}`;
    case "scale":
      return `scale ${a.id} to ×${a.instances}`;
    case "fail_over":
      return `fail over ${a.id}`;
    case "drain":
      return `${a.drain === false ? "undrain" : "drain"} ${a.id}`;
  }
}
