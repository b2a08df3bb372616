// The component palette: what this level lets the player place, with price and boot time.
// Clicking adds a node with a free id. Invariant: only placeable components are offered; the
// server still validates (budget, limits) and its refusal shows here.
import { useState } from "react";
import type { Action, Architecture } from "../../protocol/generated";
import type { LevelDetail } from "../../api/http";
import { RefusalNote } from "./RefusalNote";
import { EditBlockNote } from "./Inspector";
import { money } from "../format";

/** A free node id for a component: `web`, then `web-2`, `web-3`, … (engine ids: a-z 0-9 -). */
export function freeId(component: string, arch: Architecture): string {
  const base =
    component
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 36) || "node";
  const taken = new Set(arch.nodes.map((n) => n.id));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

export function Palette({
  level,
  arch,
  canEdit,
  onAct,
}: {
  level: LevelDetail | null;
  arch: Architecture;
  canEdit: boolean;
  onAct: (a: Action) => void;
}) {
  const [customId, setCustomId] = useState("");
  if (!level) return <aside className="palette panel">Loading components…</aside>;
  const placeable = level.components.filter((c) => c.placeable !== false && c.kind !== "client");
  return (
    <aside className="palette panel" aria-label="Components">
      <h2>Components</h2>
      {!canEdit && <EditBlockNote />}
      <ul>
        {placeable.map((c) => {
          const first = level.instance_types.find((t) => t.name === c.instance_types[0]);
          return (
            <li key={c.name}>
              <button
                type="button"
                className="palette-item"
                disabled={!canEdit}
                data-testid={`add-${c.name}`}
                onClick={() => {
                  const id = customId.trim() || freeId(c.name, arch);
                  onAct({ op: "add_node", id, component: c.name });
                  setCustomId("");
                }}
                title={`Add a ${c.name} (${c.kind.replaceAll("_", " ")})`}
              >
                <strong>+ {c.name}</strong>
                <span className="muted small">
                  {c.kind.replaceAll("_", " ")}
                  {first ? ` · ${money(first.price_per_hour)}/h` : ""}
                  {c.boot_s ? ` · boots ${c.boot_s}s` : ""}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {canEdit && (
        <div className="field">
          <label htmlFor="new-node-id" className="small">
            Id for the next node (optional)
          </label>
          <input
            id="new-node-id"
            value={customId}
            maxLength={40}
            pattern="[a-z0-9-]+"
            placeholder="auto"
            onChange={(e) => setCustomId(e.target.value.toLowerCase())}
          />
        </div>
      )}
      <RefusalNote target="palette" />
    </aside>
  );
}
