// The JSON API under /api/v1: guest sessions, levels, live rooms. These REST shapes are not in
// the generated protocol types yet, so the few fields the client reads are typed here, from
// server/src/http/mod.rs, and everything else is optional. Invariant: every call rejects with
// an ApiError carrying the server's message; nothing here touches the store.
import type { EdgeConfig, Kind, NodeConfig, Mode, Phase } from "../protocol/generated";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Session {
  token: string;
  player: string;
  name: string;
}

export interface Objectives {
  p99_ms?: number;
  error_rate?: number;
  min_compliance?: number;
  min_availability?: number;
  outage_error_rate?: number;
  outage_s?: number;
}

export interface LevelSummary {
  id: string;
  version: number;
  title: string;
  chapter?: string;
  concept: string;
  duration_s: number;
  tick_hz: number;
  budget_per_hour: number;
  objectives: Objectives;
}

export interface InstanceType {
  name: string;
  vcpus?: number;
  memory_gb?: number;
  speed?: number;
  price_per_hour: number;
}

export interface Component {
  name: string;
  kind: Kind;
  instance_types: string[];
  boot_s?: number;
  max_instances?: number;
  placeable?: boolean;
  defaults?: NodeConfig;
}

export interface LevelDetail extends LevelSummary {
  briefing: string;
  time_scale?: number;
  par_cost_per_hour?: number;
  regions?: { name: string }[];
  instance_types: InstanceType[];
  components: Component[];
  classes?: { name: string; share?: number; origin?: string }[];
  start?: {
    nodes: { id: string; component: string }[];
    edges: { from: string; to: string; config?: EdgeConfig }[];
  };
}

export interface RoomListing {
  id: string;
  code: string;
  level: string;
  mode: Mode;
  practice: boolean;
  phase: Phase | "unknown";
  members: number;
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, {
    ...init,
    headers: { Accept: "application/json", ...(init?.body ? { "Content-Type": "application/json" } : {}) },
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? "http_error", err?.message ?? `${path}: HTTP ${res.status}`);
  }
  return body as T;
}

export function createSession(name: string): Promise<Session> {
  return call<Session>("/api/v1/sessions", { method: "POST", body: JSON.stringify({ name }) });
}

export async function listLevels(): Promise<LevelSummary[]> {
  return (await call<{ levels: LevelSummary[] }>("/api/v1/levels")).levels;
}

export function getLevel(id: string): Promise<LevelDetail> {
  return call<LevelDetail>(`/api/v1/levels/${encodeURIComponent(id)}`);
}

export async function listRooms(): Promise<RoomListing[]> {
  return (await call<{ rooms: RoomListing[] }>("/api/v1/rooms")).rooms;
}
