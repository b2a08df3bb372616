// The running cost of an architecture at its configured size, as the engine bills it
// (sim/src/world.rs `arch_cost`, `billed_units`). Used before the first metrics arrive (lobby).
// Invariant: users cost nothing; databases bill (1 + replicas) × shards; CDNs bill per PoP.
import type { Architecture } from "../../protocol/generated";
import type { LevelDetail } from "../../api/http";

export function archCost(arch: Architecture, level: LevelDetail | null): number | undefined {
  if (!level) return undefined;
  let total = 0;
  for (const n of arch.nodes) {
    const price = level.instance_types.find((t) => t.name === n.instance_type)?.price_per_hour ?? 0;
    const units =
      n.kind === "client"
        ? 0
        : n.kind === "database"
          ? (1 + (n.config.replicas ?? 0)) * (n.config.shards ?? 1)
          : n.kind === "cdn"
            ? (n.config.pops ?? 4)
            : n.instances;
    total += price * units;
  }
  return total;
}
