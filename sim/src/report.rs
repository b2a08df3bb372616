//! What the engine says each tick (metrics, alerts, events) and at the end (the result).
//! Invariant: every field is a plain number or string, so a report serializes to the same bytes
//! for the same run; `sim/REPORT.md` documents each field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Errors per second by where they arose (counted per failed attempt).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorCauses {
    /// The caller gave up waiting (edge timeout or the user's).
    pub timeout: f64,
    /// Refused by a token bucket.
    pub rate_limited: f64,
    /// Dropped because a queue was full, or shed because its caller had already gone.
    pub overload: f64,
    /// Sent to an instance or node that is down.
    pub down: f64,
    /// Failed fast by an open circuit breaker.
    pub breaker_open: f64,
    /// Calls across a network partition.
    pub partition: f64,
}

/// Whole-system metrics for user traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SystemMetrics {
    /// User requests offered, per second.
    pub offered: f64,
    /// User requests answered successfully within the user timeout, per second.
    pub goodput: f64,
    /// Attempts arriving at the first tier (retries included), per second.
    pub attempts: f64,
    /// Share of user requests that finally failed.
    pub error_rate: f64,
    /// Where failures arose.
    pub errors: ErrorCauses,
    /// Latency of successful user requests, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Bot requests offered per second.
    pub bot_offered: f64,
    /// Bot requests that got through, per second.
    pub bot_served: f64,
    /// Running cost, per hour.
    pub cost_per_hour: f64,
}

/// Per-node metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct NodeMetrics {
    /// Node id.
    pub id: String,
    /// `ok`, `degraded`, `saturated`, `down`, `booting`, `failing_over`.
    pub state: String,
    /// Instances serving.
    pub up: u32,
    /// Instances booting.
    pub booting: u32,
    /// Busy server time ÷ servers, in [0, 1].
    pub utilization: f64,
    /// CPU use, in [0, 1] (can be low while threads are all busy waiting).
    pub cpu: f64,
    /// Requests waiting, not in service.
    pub queue: f64,
    /// Requests arriving, per second.
    pub in_rps: f64,
    /// Requests served, per second.
    pub served_rps: f64,
    /// Requests dropped or refused here, per second.
    pub dropped_rps: f64,
    /// Mean response time seen by callers (downstream included), ms.
    pub latency_ms: f64,
    /// Mean wait for a server (thread) before service starts, ms; `queue` = `served_rps` × this
    /// (Little's law).
    pub wait_ms: f64,
    /// Share of failed requests among those answered here.
    pub error_rate: f64,
    /// Cache or CDN hit ratio (absent for other kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    /// Database replication lag, s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_lag_s: Option<f64>,
    /// Threads (or connections) in use ÷ available.
    pub pool_use: f64,
    /// Queue (message queue) backlog depth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<f64>,
    /// Messages in the dead-letter queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letters: Option<f64>,
    /// Cost per hour of this node.
    pub cost_per_hour: f64,
}

/// Per-edge metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EdgeMetrics {
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
    /// Attempts per second (retries included).
    pub attempts_rps: f64,
    /// Of which retries.
    pub retries_rps: f64,
    /// Probability that one attempt fails.
    pub failure: f64,
    /// `closed`, `open`, `half_open`, or `none`.
    pub breaker: String,
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// Users are hurting.
    Critical,
}

/// An alert that started or stopped firing this tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct Alert {
    /// Stable key, e.g. `web/saturated`.
    pub key: String,
    /// The node (or `from->to` edge) it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// True when it starts firing, false when it resolves.
    pub firing: bool,
    /// What is wrong, where, and what to try.
    pub message: String,
}

/// Something that happened this tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename = "SimEvent", optional_fields))]
pub struct Event {
    /// `fault`, `fault_ended`, `action`, `instance_ready`, `failover`, `breaker`, `autoscale`, `end`.
    pub kind: String,
    /// The node it is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// A sentence for a person.
    pub message: String,
}

/// Everything the engine says about one tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TickReport {
    /// Tick number (the first simulated tick is 0).
    pub tick: u64,
    /// Simulated time at the end of the tick, s.
    pub t: f64,
    /// System metrics.
    pub system: SystemMetrics,
    /// Per-node metrics, in placement order.
    pub nodes: Vec<NodeMetrics>,
    /// Per-edge metrics, in connection order.
    pub edges: Vec<EdgeMetrics>,
    /// Alerts that changed state.
    pub alerts: Vec<Alert>,
    /// Events.
    pub events: Vec<Event>,
}

/// The judged result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub struct RunResult {
    /// Score out of 1000.
    pub score: f64,
    /// Stars, 0–3 (0 when not passed).
    pub stars: u8,
    /// Whether the objectives were met.
    pub passed: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Ticks simulated.
    pub ticks: u64,
    /// Whether the run lasted the whole level (no outage end).
    pub survived: bool,
    /// Share of ticks meeting both the p99 and error-rate targets.
    pub slo_compliance: f64,
    /// Goodput ÷ offered over the run (user traffic).
    pub availability: f64,
    /// Mean cost per hour over the run.
    pub avg_cost_per_hour: f64,
    /// Highest p99 seen, ms.
    pub worst_p99_ms: f64,
    /// Score parts before weighting, each in [0, 1].
    pub parts: ScoreParts,
}

/// The parts of the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScoreParts {
    /// SLO compliance.
    pub slo: f64,
    /// Availability against the objective.
    pub availability: f64,
    /// Par cost ÷ actual cost, capped at 1.
    pub cost: f64,
    /// Share of the level survived.
    pub survival: f64,
}

/// How a run is going so far (live standings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Progress {
    /// Share of ticks so far meeting both objectives.
    pub slo_compliance: f64,
    /// Goodput ÷ offered so far.
    pub availability: f64,
}
