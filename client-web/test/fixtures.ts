// The protocol's golden messages (protocol/tests/fixtures/*.json), shared with the Rust tests, so
// serde drift shows up on both sides. Invariant: read from the repository, never copied here.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClientMsg, ServerMsg } from "../src/protocol/generated";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../../protocol/tests/fixtures");

export function fixtureNames(prefix: "client_" | "server_"): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".json"))
    .sort();
}

export function rawFixture(name: string): string {
  return readFileSync(join(dir, name.endsWith(".json") ? name : `${name}.json`), "utf8");
}

export function serverFixture<T extends ServerMsg["type"]>(name: string, type: T): Extract<ServerMsg, { type: T }> {
  const v = JSON.parse(rawFixture(name)) as ServerMsg;
  if (v.type !== type) throw new Error(`${name} is a ${v.type}, not a ${type}`);
  return v as Extract<ServerMsg, { type: T }>;
}

export function clientFixture(name: string): ClientMsg {
  return JSON.parse(rawFixture(name)) as ClientMsg;
}
