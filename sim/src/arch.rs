//! The player's architecture: nodes, edges and their configuration.
//! Invariant: the graph is acyclic and every edge joins two existing nodes; node order is
//! insertion order, which is the engine's iteration order (determinism).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::level::Kind;

/// How a load balancer picks a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum LbPolicy {
    /// In turn: equal shares, smoother arrivals (Erlang-n inter-arrivals).
    RoundRobin,
    /// Fewest in flight: shares follow capacity, so uneven servers are used well.
    LeastConnections,
    /// Uniformly at random: equal shares, Poisson arrivals at each target.
    Random,
    /// Power of two choices: the less loaded of two random targets.
    PowerOfTwo,
}

/// Whether a cache entry's TTL restarts on every hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TtlMode {
    /// Set at insertion (Redis `SET EX`, CDN max-age).
    Fixed,
    /// Restarted on every access (idle timeout).
    Sliding,
}

/// Target tracking autoscaling of a node's instance count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Autoscale {
    /// Fewest instances.
    pub min: u32,
    /// Most instances.
    pub max: u32,
    /// Target utilization in (0, 1).
    pub target_utilization: f64,
    /// Metric period, s (EC2: 60).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    #[serde(default = "default_period")]
    pub period_s: f64,
    /// Consecutive breaching periods before scaling out (EC2 target tracking: 3).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    #[serde(default = "default_datapoints")]
    pub datapoints: u32,
    /// Seconds after a scaling action before the next.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    #[serde(default = "default_cooldown")]
    pub cooldown_s: f64,
}

fn default_period() -> f64 {
    60.0
}
fn default_datapoints() -> u32 {
    3
}
fn default_cooldown() -> f64 {
    300.0
}

/// Per-node settings. Every field is optional: a node's effective setting is its own value,
/// else its component's default, else the engine default named in the field's doc.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct NodeConfig {
    /// Load balancer policy (default `round_robin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lb_policy: Option<LbPolicy>,
    /// Health check interval, s (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check_s: Option<f64>,
    /// Failed checks before a target is taken out (default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unhealthy_after: Option<u32>,
    /// Most requests waiting per instance; more are dropped (default 10 000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_limit: Option<u32>,
    /// Drop queued work whose caller has timed out (deadline propagation; default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shed_expired: Option<bool>,
    /// Token bucket rate for the whole node, req/s (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_rps: Option<f64>,
    /// Token bucket size (default: one second of `rate_limit_rps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_burst: Option<f64>,
    /// Per-client limit, req/s (default none); bites on classes with few clients (bots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_client_rps: Option<f64>,
    /// Cache TTL, s (default none: entries live until evicted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<f64>,
    /// TTL semantics (default `fixed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_mode: Option<TtlMode>,
    /// TTL jitter as a fraction of the TTL (default 0: entries loaded together expire together).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_jitter: Option<f64>,
    /// Coalesce concurrent misses on one key into one fetch (single-flight; default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coalesce: Option<bool>,
    /// Refresh hot entries before they expire (XFetch; default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_refresh: Option<bool>,
    /// CDN points of presence (default 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pops: Option<u32>,
    /// CDN origin shield re-aggregating PoP misses (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_shield: Option<bool>,
    /// Database read replicas (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Serve reads from replicas (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_from_replicas: Option<bool>,
    /// Database shards (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    /// Promote a replica when the primary fails (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_failover: Option<bool>,
    /// Seconds to detect a failed primary (default 30, Sentinel's down-after).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detect_s: Option<f64>,
    /// Seconds to promote a replica and redirect clients (default 15).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promote_s: Option<f64>,
    /// Most messages a queue holds; more are refused (default 1 000 000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<f64>,
    /// Deliveries before a message goes to the dead-letter queue (default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_receives: Option<u32>,
    /// Autoscaling (default off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,
}

macro_rules! merge_fields {
    ($dst:ident, $src:ident; $($f:ident),*) => { $( if $src.$f.is_some() { $dst.$f = $src.$f; } )* };
}

impl NodeConfig {
    /// Overlays every field `patch` sets.
    pub fn merge(&mut self, patch: &NodeConfig) {
        merge_fields!(self, patch; lb_policy, health_check_s, unhealthy_after, queue_limit, shed_expired,
            rate_limit_rps, rate_limit_burst, per_client_rps, ttl_s, ttl_mode, ttl_jitter, coalesce,
            early_refresh, pops, origin_shield, replicas, read_from_replicas, shards, auto_failover,
            detect_s, promote_s, max_depth, max_receives, autoscale);
    }

    /// Range checks: `(field, problem)` for the first value out of range.
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub fn check(&self) -> Result<(), (String, String)> {
        let bad = |f: &str, p: &str| Err((f.to_owned(), p.to_owned()));
        let pos = |v: Option<f64>| v.is_none_or(|x| x.is_finite() && x > 0.0);
        if !pos(self.health_check_s) || self.health_check_s.is_some_and(|x| x > 300.0) {
            return bad("health_check_s", "must be in (0, 300] seconds");
        }
        if self.unhealthy_after.is_some_and(|x| !(1..=10).contains(&x)) {
            return bad("unhealthy_after", "must be in 1..=10");
        }
        if self.queue_limit.is_some_and(|x| x > 1_000_000) {
            return bad("queue_limit", "must be at most 1 000 000");
        }
        if !pos(self.rate_limit_rps) || !pos(self.rate_limit_burst) || !pos(self.per_client_rps) {
            return bad("rate_limit_rps", "rate limits must be positive numbers");
        }
        if !pos(self.ttl_s) || self.ttl_s.is_some_and(|x| x > 86_400.0) {
            return bad("ttl_s", "must be in (0, 86400] seconds");
        }
        if self.ttl_jitter.is_some_and(|x| !(0.0..=0.5).contains(&x)) {
            return bad("ttl_jitter", "must be in [0, 0.5]");
        }
        if self.pops.is_some_and(|x| !(1..=64).contains(&x)) {
            return bad("pops", "must be in 1..=64");
        }
        if self.replicas.is_some_and(|x| x > 8) {
            return bad("replicas", "at most 8");
        }
        if self.shards.is_some_and(|x| !(1..=64).contains(&x)) {
            return bad("shards", "must be in 1..=64");
        }
        if !pos(self.detect_s) || !pos(self.promote_s) {
            return bad("detect_s", "failover times must be positive");
        }
        if !pos(self.max_depth) || self.max_receives.is_some_and(|x| !(1..=100).contains(&x)) {
            return bad("max_depth", "max_depth > 0 and max_receives in 1..=100");
        }
        if let Some(a) = self.autoscale
            && !(a.min >= 1
                && a.min <= a.max
                && a.target_utilization > 0.0
                && a.target_utilization < 1.0
                && a.period_s >= 1.0
                && a.datapoints >= 1
                && a.cooldown_s >= 0.0)
        {
            return bad(
                "autoscale",
                "needs 1 ≤ min ≤ max, target_utilization in (0, 1), period_s ≥ 1",
            );
        }
        Ok(())
    }
}

/// A circuit breaker on an edge (Hystrix-style time window).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Breaker {
    /// Failure rate over the window that opens the breaker (Hystrix: 0.5).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    #[serde(default = "half")]
    pub failure_rate: f64,
    /// Rolling window, s (Hystrix: 10).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    #[serde(default = "ten")]
    pub window_s: f64,
    /// Calls in the window below which it never opens (Hystrix: 20).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    #[serde(default = "twenty")]
    pub min_calls: f64,
    /// Seconds open before probing (Hystrix sleep window: 5).
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    #[serde(default = "five")]
    pub open_s: f64,
}

fn half() -> f64 {
    0.5
}
fn ten() -> f64 {
    10.0
}
fn twenty() -> f64 {
    20.0
}
fn five() -> f64 {
    5.0
}

/// Per-edge settings (the caller's client for that dependency).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct EdgeConfig {
    /// The caller gives up after this long, ms (default 1000; from the client node: the users' timeout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    /// Retries after a failed attempt (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// First backoff, ms; doubles per retry (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<f64>,
    /// Full jitter on the backoff (default false: retries of one failure burst stay together).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<bool>,
    /// Retries allowed as a fraction of first attempts (SRE book: 0.1); default unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_budget: Option<f64>,
    /// Circuit breaker (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<Breaker>,
    /// Connections per caller instance (default: no pool limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<u32>,
    /// Request classes carried (default: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
}

impl EdgeConfig {
    /// Overlays every field `patch` sets.
    pub fn merge(&mut self, patch: &EdgeConfig) {
        merge_fields!(self, patch; timeout_ms, retries, backoff_ms, jitter, retry_budget, breaker, pool);
        if patch.classes.is_some() {
            self.classes.clone_from(&patch.classes);
        }
    }

    /// Range checks: `(field, problem)` for the first value out of range.
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub fn check(&self) -> Result<(), (String, String)> {
        let bad = |f: &str, p: &str| Err((f.to_owned(), p.to_owned()));
        if self
            .timeout_ms
            .is_some_and(|x| !(x.is_finite() && (1.0..=120_000.0).contains(&x)))
        {
            return bad("timeout_ms", "must be in [1, 120000] ms");
        }
        if self.retries.is_some_and(|x| x > 5) {
            return bad("retries", "at most 5");
        }
        if self
            .backoff_ms
            .is_some_and(|x| !(x.is_finite() && (0.0..=30_000.0).contains(&x)))
        {
            return bad("backoff_ms", "must be in [0, 30000] ms");
        }
        if self
            .retry_budget
            .is_some_and(|x| !(x.is_finite() && (0.0..=10.0).contains(&x)))
        {
            return bad("retry_budget", "must be in [0, 10]");
        }
        if let Some(b) = self.breaker
            && !(b.failure_rate > 0.0
                && b.failure_rate <= 1.0
                && b.window_s >= 0.5
                && b.window_s <= 120.0
                && b.min_calls >= 0.0
                && b.open_s > 0.0
                && b.open_s <= 600.0)
        {
            return bad(
                "breaker",
                "failure_rate in (0, 1], window_s in [0.5, 120], open_s in (0, 600]",
            );
        }
        if self.pool.is_some_and(|x| !(1..=10_000).contains(&x)) {
            return bad("pool", "must be in 1..=10000");
        }
        Ok(())
    }
}

/// A node of the architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "ArchNode"))]
pub struct Node {
    /// Player-chosen id.
    pub id: String,
    /// Component template name.
    pub component: String,
    /// Behaviour (copied from the component).
    pub kind: Kind,
    /// Instance type name.
    pub instance_type: String,
    /// Instances the player asked for.
    pub instances: u32,
    /// Region name.
    pub region: String,
    /// Effective configuration (component defaults with the node's settings over them).
    pub config: NodeConfig,
    /// Part of the level: cannot be removed.
    pub fixed: bool,
    /// Taken out of rotation by a `drain` action.
    pub drained: bool,
}

/// A directed edge: `from` calls `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "ArchEdge"))]
pub struct Edge {
    /// Caller node id.
    pub from: String,
    /// Callee node id.
    pub to: String,
    /// Settings.
    pub config: EdgeConfig,
}

/// The whole architecture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Architecture {
    /// Nodes in placement order.
    pub nodes: Vec<Node>,
    /// Edges in connection order.
    pub edges: Vec<Edge>,
}

impl Architecture {
    /// Index of a node by id.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Index of an edge by endpoints.
    pub fn edge_index(&self, from: &str, to: &str) -> Option<usize> {
        self.edges.iter().position(|e| e.from == from && e.to == to)
    }

    /// Whether adding `from → to` would close a cycle (is `from` reachable from `to`?).
    pub fn would_cycle(&self, from: &str, to: &str) -> bool {
        let mut stack = vec![to];
        let mut seen: Vec<&str> = Vec::new();
        while let Some(n) = stack.pop() {
            if n == from {
                return true;
            }
            if seen.contains(&n) {
                continue;
            }
            seen.push(n);
            stack.extend(
                self.edges
                    .iter()
                    .filter(|e| e.from == n)
                    .map(|e| e.to.as_str()),
            );
        }
        false
    }

    /// Node indices in topological order, ties by placement order (deterministic).
    pub fn topo_order(&self) -> Vec<usize> {
        let n = self.nodes.len();
        let mut indeg = vec![0usize; n];
        let idx: Vec<(usize, usize)> = self
            .edges
            .iter()
            .filter_map(|e| Some((self.node_index(&e.from)?, self.node_index(&e.to)?)))
            .collect();
        for &(_, t) in &idx {
            indeg[t] += 1;
        }
        let mut order = Vec::with_capacity(n);
        let mut done = vec![false; n];
        while order.len() < n {
            // Acyclic by construction, so some node is always ready.
            let Some(next) = (0..n).find(|&i| !done[i] && indeg[i] == 0) else {
                break;
            };
            done[next] = true;
            order.push(next);
            for &(f, t) in &idx {
                if f == next {
                    indeg[t] -= 1;
                }
            }
        }
        order
    }
}
