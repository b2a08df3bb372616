// Which settings a player may configure on which node kind, and how to edit each one. Mirrors
// the engine's `check_node_config` (sim/src/world.rs) and levels/README.md. Invariant: a field
// listed for a kind is one the engine accepts for that kind; anything else would be refused.
import type { Kind } from "../../protocol/generated";

export type FieldSpec =
  | {
      key: string;
      label: string;
      type: "number";
      min?: number;
      max?: number;
      step?: number;
      unit?: string;
      help: string;
    }
  | { key: string; label: string; type: "bool"; help: string }
  | { key: string; label: string; type: "select"; options: string[]; help: string };

const queueLimit: FieldSpec = {
  key: "queue_limit",
  label: "Queue limit",
  type: "number",
  min: 1,
  step: 1,
  help: "requests waiting per instance; more are dropped",
};
const shed: FieldSpec = {
  key: "shed_expired",
  label: "Shed expired work",
  type: "bool",
  help: "drop queued requests whose caller already gave up",
};
const rate: FieldSpec[] = [
  {
    key: "rate_limit_rps",
    label: "Rate limit",
    type: "number",
    min: 0,
    unit: "req/s",
    help: "token bucket for the whole node",
  },
  {
    key: "rate_limit_burst",
    label: "Burst",
    type: "number",
    min: 0,
    unit: "req",
    help: "bucket size (default one second)",
  },
  {
    key: "per_client_rps",
    label: "Per-client limit",
    type: "number",
    min: 0,
    unit: "req/s",
    help: "bites on few, busy clients (bots)",
  },
];
const lb: FieldSpec[] = [
  {
    key: "lb_policy",
    label: "Policy",
    type: "select",
    options: ["round_robin", "least_connections", "random", "power_of_two"],
    help: "how a target is picked",
  },
  {
    key: "health_check_s",
    label: "Health check",
    type: "number",
    min: 0.1,
    unit: "s",
    help: "interval between checks",
  },
  {
    key: "unhealthy_after",
    label: "Unhealthy after",
    type: "number",
    min: 1,
    step: 1,
    help: "failed checks before a target is taken out",
  },
];
const cache: FieldSpec[] = [
  { key: "ttl_s", label: "TTL", type: "number", min: 0, unit: "s", help: "entries expire after this long" },
  {
    key: "ttl_mode",
    label: "TTL mode",
    type: "select",
    options: ["fixed", "sliding"],
    help: "sliding restarts the TTL on every hit",
  },
  {
    key: "ttl_jitter",
    label: "TTL jitter",
    type: "number",
    min: 0,
    max: 1,
    step: 0.05,
    help: "fraction of the TTL; spreads expiries",
  },
  { key: "coalesce", label: "Coalesce misses", type: "bool", help: "one fetch per key at a time (single-flight)" },
  { key: "early_refresh", label: "Early refresh", type: "bool", help: "refresh hot entries before they expire" },
];
const cdn: FieldSpec[] = [
  { key: "pops", label: "Points of presence", type: "number", min: 1, step: 1, help: "each PoP bills as an instance" },
  { key: "origin_shield", label: "Origin shield", type: "bool", help: "one tier re-aggregating PoP misses" },
];
const db: FieldSpec[] = [
  { key: "replicas", label: "Read replicas", type: "number", min: 0, step: 1, help: "each bills as an instance" },
  {
    key: "read_from_replicas",
    label: "Read from replicas",
    type: "bool",
    help: "serve reads from replicas (they lag)",
  },
  { key: "shards", label: "Shards", type: "number", min: 1, step: 1, help: "split the key space" },
  { key: "auto_failover", label: "Auto failover", type: "bool", help: "promote a replica when the primary fails" },
  {
    key: "detect_s",
    label: "Detect after",
    type: "number",
    min: 0,
    unit: "s",
    help: "seconds to notice a dead primary",
  },
  { key: "promote_s", label: "Promote in", type: "number", min: 0, unit: "s", help: "seconds to promote and redirect" },
];
const queue: FieldSpec[] = [
  { key: "max_depth", label: "Max depth", type: "number", min: 1, step: 1, help: "messages held; more are refused" },
  {
    key: "max_receives",
    label: "Max receives",
    type: "number",
    min: 1,
    step: 1,
    help: "deliveries before dead-lettering",
  },
];

export const NODE_FIELDS: Record<Kind, FieldSpec[]> = {
  client: [],
  load_balancer: [...lb, ...rate, queueLimit, shed],
  service: [...rate, queueLimit, shed],
  rate_limiter: [...rate, queueLimit, shed],
  cache: [...cache, queueLimit, shed],
  cdn: [...cache, ...cdn, queueLimit, shed],
  database: [...db, queueLimit, shed],
  queue: [...queue, queueLimit, shed],
};

/** Kinds that may autoscale (engine: services, caches, load balancers). */
export const AUTOSCALE_KINDS: Kind[] = ["service", "cache", "load_balancer"];

export const AUTOSCALE_FIELDS: FieldSpec[] = [
  { key: "min", label: "Min", type: "number", min: 1, step: 1, help: "fewest instances" },
  { key: "max", label: "Max", type: "number", min: 1, step: 1, help: "most instances" },
  {
    key: "target_utilization",
    label: "Target utilization",
    type: "number",
    min: 0.05,
    max: 0.95,
    step: 0.05,
    help: "in (0, 1)",
  },
  { key: "period_s", label: "Period", type: "number", min: 1, unit: "s", help: "metric period" },
  {
    key: "datapoints",
    label: "Datapoints",
    type: "number",
    min: 1,
    step: 1,
    help: "breaching periods before scaling out",
  },
  { key: "cooldown_s", label: "Cooldown", type: "number", min: 0, unit: "s", help: "between scaling actions" },
];

export const EDGE_FIELDS: FieldSpec[] = [
  {
    key: "timeout_ms",
    label: "Timeout",
    type: "number",
    min: 1,
    unit: "ms",
    help: "the caller gives up after this long",
  },
  { key: "retries", label: "Retries", type: "number", min: 0, step: 1, help: "after a failed attempt" },
  { key: "backoff_ms", label: "Backoff", type: "number", min: 0, unit: "ms", help: "first backoff; doubles per retry" },
  { key: "jitter", label: "Jitter", type: "bool", help: "full jitter on the backoff" },
  {
    key: "retry_budget",
    label: "Retry budget",
    type: "number",
    min: 0,
    max: 1,
    step: 0.05,
    help: "retries as a fraction of first attempts",
  },
  { key: "pool", label: "Pool", type: "number", min: 1, step: 1, help: "connections per caller instance" },
];

export const BREAKER_FIELDS: FieldSpec[] = [
  {
    key: "failure_rate",
    label: "Failure rate",
    type: "number",
    min: 0.01,
    max: 1,
    step: 0.05,
    help: "opens above this (Hystrix 0.5)",
  },
  { key: "window_s", label: "Window", type: "number", min: 1, unit: "s", help: "rolling window" },
  { key: "min_calls", label: "Min calls", type: "number", min: 1, step: 1, help: "never opens below this many calls" },
  { key: "open_s", label: "Open for", type: "number", min: 1, unit: "s", help: "before probing again" },
];
