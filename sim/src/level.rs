//! Level files: the TOML model a level is written in, and its validation.
//! Invariant: a `Level` that `Level::from_toml` returned is internally consistent (every name it
//! uses resolves), so the engine never has to re-check it.

// Validation writes `!(x > 0.0)` on purpose: the negation also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::arch::{EdgeConfig, NodeConfig};
use crate::fault::FaultSpec;

/// A whole level as written in `levels/*.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Stable id, used in URLs and receipts (`[a-z0-9-]`).
    pub id: String,
    /// Bumped whenever the level's behaviour changes.
    pub version: u32,
    /// Title shown to players.
    pub title: String,
    /// Chapter of the campaign this level belongs to.
    #[serde(default)]
    pub chapter: String,
    /// The concept the level teaches, in a line.
    pub concept: String,
    /// The briefing: what happens, what matters, the numbers.
    pub briefing: String,
    /// Length of a run in simulated seconds.
    pub duration_s: f64,
    /// Ticks per simulated second (10 means Δt = 100 ms).
    #[serde(default = "default_tick_hz")]
    pub tick_hz: u32,
    /// Simulated seconds per wall-clock second when played live.
    #[serde(default = "one")]
    pub time_scale: f64,
    /// Default seed when none is given.
    #[serde(default)]
    pub seed: u64,
    /// The most the architecture may cost per hour; actions past it are refused.
    pub budget_per_hour: f64,
    /// Cost per hour that earns the full cost score.
    pub par_cost_per_hour: f64,
    /// Regions and the round-trip times between them.
    #[serde(default)]
    pub regions: Vec<Region>,
    /// Instance types the components may use.
    pub instance_types: Vec<InstanceType>,
    /// Components a player may place (and the level's own fixed ones).
    pub components: Vec<Component>,
    /// Request classes (read, write, static, ...), their mix and costs.
    pub classes: Vec<RequestClass>,
    /// The key space requests address (drives cache hit ratios and hot shards).
    #[serde(default)]
    pub keys: KeySpace,
    /// Offered load over time.
    pub traffic: Traffic,
    /// What goes wrong, and when.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Faults a practice room may inject by hand.
    #[serde(default)]
    pub injectable: Vec<FaultSpec>,
    /// The architecture the player starts from.
    pub start: StartArchitecture,
    /// What the run is judged on.
    pub objectives: Objectives,
    /// How the score is put together.
    #[serde(default)]
    pub scoring: Scoring,
    /// Reference solutions: action scripts that must pass with the top star.
    #[serde(default)]
    pub solutions: Vec<Solution>,
}

fn default_tick_hz() -> u32 {
    10
}
fn one() -> f64 {
    1.0
}

/// A region and its position in the latency matrix.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Region name, e.g. `us-east`.
    pub name: String,
    /// Round-trip time to other regions, in ms, by region name.
    #[serde(default)]
    pub rtt_ms: BTreeMap<String, f64>,
    /// Availability zones in the region (instances spread across them).
    #[serde(default = "default_zones")]
    pub zones: u32,
}

fn default_zones() -> u32 {
    3
}

/// A machine size with its price.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    /// Name, e.g. `small`.
    pub name: String,
    /// Cores; CPU% is computed against them.
    pub vcpus: f64,
    /// Memory in GB; a cache's capacity comes from it.
    #[serde(default)]
    pub memory_gb: f64,
    /// Relative speed: service times are divided by it.
    #[serde(default = "one")]
    pub speed: f64,
    /// Price per hour while the instance exists (booting included).
    pub price_per_hour: f64,
}

/// What a component does in the flow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Kind {
    /// Where user traffic comes from; the end-to-end view.
    Client,
    /// Splits requests among its targets by a policy, with health checks.
    LoadBalancer,
    /// An application tier: a thread pool that calls its dependencies synchronously.
    Service,
    /// A look-aside cache: hits answer, misses go to its dependency.
    Cache,
    /// Edge caches (points of presence) in front of an origin.
    Cdn,
    /// A database: primary, read replicas, shards, failover.
    Database,
    /// A message queue: writes are acknowledged at once, workers drain it.
    Queue,
    /// A pass-through node whose job is its token bucket.
    RateLimiter,
}

/// The cost of one request of a class on a component.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCost {
    /// Mean time a server (thread) is busy with it, ms, at speed 1.
    pub ms: f64,
    /// CPU time within that, ms (defaults to `ms`: CPU-bound).
    #[serde(default)]
    pub cpu_ms: Option<f64>,
    /// Squared coefficient of variation of the service time (1 = exponential).
    #[serde(default = "one")]
    pub cs2: f64,
}

/// A placeable component: a kind plus its numbers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Template name the actions refer to, e.g. `web`.
    pub name: String,
    /// Behaviour.
    pub kind: Kind,
    /// Instance types allowed (first is the default).
    #[serde(default)]
    pub instance_types: Vec<String>,
    /// Servers per vCPU (threads; 1 = CPU-bound). Concurrency = vcpus × this, rounded.
    #[serde(default = "one")]
    pub threads_per_vcpu: f64,
    /// Fixed concurrency per instance, overriding `threads_per_vcpu` (a pool of N).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Service cost per class name; the key `default` covers classes not listed.
    #[serde(default)]
    pub service: BTreeMap<String, ServiceCost>,
    /// Seconds from launch until an instance serves.
    #[serde(default = "default_boot_s")]
    pub boot_s: f64,
    /// Most instances a node of this component may run.
    #[serde(default = "default_max_instances")]
    pub max_instances: u32,
    /// Whether a player may add this component (false for fixed parts like the client).
    #[serde(default = "yes")]
    pub placeable: bool,
    /// Replica log-apply capacity in writes/s per replica (databases).
    #[serde(default)]
    pub replica_apply_rps: Option<f64>,
    /// Seconds a crashed database primary takes to come back by itself when nothing fails over.
    #[serde(default = "default_restart_s")]
    pub restart_s: f64,
    /// Default node configuration for new nodes of this component.
    #[serde(default)]
    pub defaults: NodeConfig,
}

fn default_boot_s() -> f64 {
    30.0
}
fn default_max_instances() -> u32 {
    32
}
fn default_restart_s() -> f64 {
    120.0
}
fn yes() -> bool {
    true
}

/// Whether traffic of a class comes from people or from bots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Counted in the SLO, goodput and availability.
    #[default]
    User,
    /// Counted apart; blocking it costs nothing.
    Bot,
}

/// What a request class does to state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Reads: cacheable, served by replicas.
    #[default]
    Read,
    /// Writes: invalidate caches, go to the primary, replicate.
    Write,
}

/// A request class.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestClass {
    /// Name, e.g. `read` (`default` is reserved).
    pub name: String,
    /// Share of the traffic script's rate (shares of user classes sum to 1); bots use `bot_flood`.
    #[serde(default)]
    pub share: f64,
    /// Read or write.
    #[serde(default)]
    pub op: Op,
    /// People or bots.
    #[serde(default)]
    pub origin: Origin,
    /// How many distinct clients send it (per-client rate limits bite when this is small).
    #[serde(default = "default_clients")]
    pub clients: f64,
    /// Whether a CDN may cache it.
    #[serde(default)]
    pub cdn_cacheable: bool,
    /// The class's own key space, if not the level's.
    #[serde(default)]
    pub keys: Option<KeySpace>,
}

fn default_clients() -> f64 {
    1.0e6
}

/// Key popularity: `count` keys with Zipf exponent `zipf_s`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySpace {
    /// Number of distinct keys.
    pub count: f64,
    /// Zipf exponent (0.6–1.2 is typical of web traffic).
    pub zipf_s: f64,
    /// Size of one cached item in KB (cache capacity = memory / item size).
    #[serde(default = "default_item_kb")]
    pub item_kb: f64,
}

fn default_item_kb() -> f64 {
    4.0
}

impl Default for KeySpace {
    fn default() -> Self {
        Self {
            count: 1.0e5,
            zipf_s: 0.9,
            item_kb: 4.0,
        }
    }
}

/// The offered load: a piecewise-linear rate, spikes and an optional daily wave.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// `(at_s, rps)` points; the rate is linear between them and flat after the last.
    pub points: Vec<(f64, f64)>,
    /// Multiplicative spikes.
    #[serde(default)]
    pub spikes: Vec<Spike>,
    /// A sinusoidal daily pattern on top.
    #[serde(default)]
    pub diurnal: Option<Diurnal>,
    /// Poisson noise on arrivals (seeded); off for fidelity tests.
    #[serde(default)]
    pub noise: bool,
    /// Squared coefficient of variation of inter-arrival times (1 = Poisson).
    #[serde(default = "one")]
    pub ca2: f64,
    /// Users give up after this long, ms.
    #[serde(default = "default_user_timeout")]
    pub user_timeout_ms: f64,
}

fn default_user_timeout() -> f64 {
    10_000.0
}

/// A spike: the rate is multiplied by `multiplier` for `for_s` seconds from `at_s`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spike {
    /// Start, s.
    pub at_s: f64,
    /// Length, s.
    pub for_s: f64,
    /// Rate multiplier.
    pub multiplier: f64,
}

/// A daily wave: rate × (1 + amplitude·sin(2πt/period)).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Diurnal {
    /// Period in simulated seconds.
    pub period_s: f64,
    /// Relative amplitude in [0, 1).
    pub amplitude: f64,
}

/// The starting architecture: nodes and edges, as the actions would build them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartArchitecture {
    /// Nodes in the order they are placed.
    pub nodes: Vec<StartNode>,
    /// Edges.
    #[serde(default)]
    pub edges: Vec<StartEdge>,
}

/// A node of the starting architecture.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartNode {
    /// Node id.
    pub id: String,
    /// Component name.
    pub component: String,
    /// Instance type (default: the component's first).
    #[serde(default)]
    pub instance_type: Option<String>,
    /// Instances (default 1).
    #[serde(default)]
    pub instances: Option<u32>,
    /// Region (default: the first).
    #[serde(default)]
    pub region: Option<String>,
    /// Whether the player may remove it.
    #[serde(default)]
    pub fixed: bool,
    /// Configuration over the component's defaults.
    #[serde(default)]
    pub config: Option<NodeConfig>,
}

/// An edge of the starting architecture.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartEdge {
    /// Caller node id.
    pub from: String,
    /// Callee node id.
    pub to: String,
    /// Edge configuration.
    #[serde(default)]
    pub config: Option<EdgeConfig>,
}

/// What a run is judged on (user traffic only).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Objectives {
    /// End-to-end p99 latency target, ms.
    pub p99_ms: f64,
    /// Highest acceptable error rate in a second (0.01 = 1 %).
    pub error_rate: f64,
    /// Share of seconds that must meet both targets to pass.
    #[serde(default = "default_compliance")]
    pub min_compliance: f64,
    /// Lowest acceptable availability (goodput ÷ offered) over the run.
    #[serde(default = "default_availability")]
    pub min_availability: f64,
    /// A run whose error rate stays above this ...
    #[serde(default = "default_outage_error_rate")]
    pub outage_error_rate: f64,
    /// ... for this many seconds ends early as failed.
    #[serde(default = "default_outage_s")]
    pub outage_s: f64,
}

fn default_compliance() -> f64 {
    0.9
}
fn default_availability() -> f64 {
    0.99
}
fn default_outage_error_rate() -> f64 {
    0.5
}
fn default_outage_s() -> f64 {
    15.0
}

/// Score weights and star thresholds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// Weight of SLO compliance.
    #[serde(default = "w_slo")]
    pub slo: f64,
    /// Weight of availability.
    #[serde(default = "w_avail")]
    pub availability: f64,
    /// Weight of cost against par.
    #[serde(default = "w_cost")]
    pub cost: f64,
    /// Scores (out of 1000) for one, two and three stars; a failed run earns none.
    #[serde(default = "default_stars")]
    pub stars: [f64; 3],
}

fn w_slo() -> f64 {
    0.5
}
fn w_avail() -> f64 {
    0.3
}
fn w_cost() -> f64 {
    0.2
}
fn default_stars() -> [f64; 3] {
    [500.0, 750.0, 900.0]
}

impl Default for Scoring {
    fn default() -> Self {
        Self {
            slo: w_slo(),
            availability: w_avail(),
            cost: w_cost(),
            stars: default_stars(),
        }
    }
}

/// A reference solution: actions stamped with the tick they apply at.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Solution {
    /// Name shown in `levels check`.
    pub name: String,
    /// `reference` must pass with the top star; `naive` must score clearly worse.
    #[serde(default)]
    pub role: SolutionRole,
    /// The actions.
    pub actions: Vec<TimedAction>,
}

/// What a stored solution is meant to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SolutionRole {
    /// Passes with three stars.
    #[default]
    Reference,
    /// What a beginner would try: it scores clearly worse than the reference.
    Naive,
}

/// An action and the tick at which it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimedAction {
    /// Tick at which the action applies (before that tick is simulated).
    pub tick: u64,
    /// The action, in the shape of the protocol's `action` message.
    pub action: Action,
}

/// A problem found while loading a level: which file, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct LevelError {
    /// The file (or `<inline>`).
    pub file: String,
    /// Dotted path of the field.
    pub field: String,
    /// What is wrong, for a person.
    pub problem: String,
}

impl Level {
    /// Parses and validates a level from TOML text; `file` names it in errors.
    ///
    /// # Errors
    /// A `LevelError` naming the file, the field and the problem.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, LevelError> {
        let level: Level = toml::from_str(text).map_err(|e| {
            let field = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].lines().count().max(1);
                    format!("line {line}")
                })
                .unwrap_or_else(|| "(document)".to_owned());
            LevelError {
                file: file.to_owned(),
                field,
                problem: e.message().to_owned(),
            }
        })?;
        level.validate().map_err(|(field, problem)| LevelError {
            file: file.to_owned(),
            field,
            problem,
        })?;
        Ok(level)
    }

    /// The JSON Schema of level files, generated from these types.
    pub fn json_schema() -> String {
        serde_json::to_string_pretty(&schemars::schema_for!(Level)).unwrap_or_default()
    }

    /// Seconds per tick.
    pub fn dt(&self) -> f64 {
        1.0 / f64::from(self.tick_hz)
    }

    /// Number of ticks in a full run.
    pub fn total_ticks(&self) -> u64 {
        (self.duration_s * f64::from(self.tick_hz)).round() as u64
    }

    /// The component template by name.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The instance type by name.
    pub fn instance_type(&self, name: &str) -> Option<&InstanceType> {
        self.instance_types.iter().find(|t| t.name == name)
    }

    /// Index of a class by name.
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }

    /// Round-trip time between two regions, ms (0 within a region).
    pub fn rtt_ms(&self, a: &str, b: &str) -> f64 {
        if a == b {
            return 0.0;
        }
        let find = |x: &str, y: &str| {
            self.regions
                .iter()
                .find(|r| r.name == x)
                .and_then(|r| r.rtt_ms.get(y).copied())
        };
        find(a, b).or_else(|| find(b, a)).unwrap_or(0.0)
    }

    /// The first region's name (where nodes go by default).
    pub fn default_region(&self) -> &str {
        self.regions.first().map_or("local", |r| r.name.as_str())
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let err = |f: &str, p: String| Err((f.to_owned(), p));
        if !valid_id(&self.id) {
            return err(
                "id",
                format!("`{}` must be 1-40 characters of a-z, 0-9 and -", self.id),
            );
        }
        if !(self.duration_s > 0.0 && self.duration_s <= 3600.0) {
            return err(
                "duration_s",
                format!("{} must be in (0, 3600]", self.duration_s),
            );
        }
        if !(1..=100).contains(&self.tick_hz) {
            return err("tick_hz", format!("{} must be in 1..=100", self.tick_hz));
        }
        if self.seed > MAX_SAFE_SEED {
            return err(
                "seed",
                format!(
                    "{} is above 2^53 − 1, the largest integer a browser reads exactly",
                    self.seed
                ),
            );
        }
        if !(self.time_scale > 0.0) {
            return err("time_scale", "must be positive".to_owned());
        }
        if !(self.budget_per_hour > 0.0 && self.par_cost_per_hour > 0.0) {
            return err(
                "budget_per_hour",
                "budget and par cost must be positive".to_owned(),
            );
        }
        for (i, r) in self.regions.iter().enumerate() {
            for (other, rtt) in &r.rtt_ms {
                if !self.regions.iter().any(|x| &x.name == other) {
                    return err(
                        &format!("regions[{i}].rtt_ms.{other}"),
                        "no such region".to_owned(),
                    );
                }
                if !(*rtt >= 0.0) {
                    return err(
                        &format!("regions[{i}].rtt_ms.{other}"),
                        "must be ≥ 0".to_owned(),
                    );
                }
            }
            if r.zones == 0 {
                return err(
                    &format!("regions[{i}].zones"),
                    "must be at least 1".to_owned(),
                );
            }
        }
        for (i, t) in self.instance_types.iter().enumerate() {
            if !(t.vcpus > 0.0 && t.speed > 0.0 && t.price_per_hour >= 0.0 && t.memory_gb >= 0.0) {
                return err(
                    &format!("instance_types[{i}]"),
                    format!("`{}` needs vcpus > 0, speed > 0, prices ≥ 0", t.name),
                );
            }
        }
        if self.classes.is_empty() {
            return err(
                "classes",
                "a level needs at least one request class".to_owned(),
            );
        }
        if self.classes.len() > MAX_CLASSES {
            return err(
                "classes",
                format!(
                    "{} request classes; a level has at most {MAX_CLASSES}",
                    self.classes.len()
                ),
            );
        }
        let mut user_share = 0.0;
        for (i, c) in self.classes.iter().enumerate() {
            if c.name == "default" || !valid_id(&c.name) {
                return err(
                    &format!("classes[{i}].name"),
                    format!("`{}` is reserved or not a-z0-9-", c.name),
                );
            }
            if self.classes[..i].iter().any(|o| o.name == c.name) {
                return err(
                    &format!("classes[{i}].name"),
                    format!("`{}` is defined twice", c.name),
                );
            }
            if !(c.share >= 0.0 && c.clients >= 1.0) {
                return err(
                    &format!("classes[{i}]"),
                    "share must be ≥ 0 and clients ≥ 1".to_owned(),
                );
            }
            if c.origin == Origin::User {
                user_share += c.share;
            }
            if let Some(k) = &c.keys {
                check_keys(k).map_err(|p| (format!("classes[{i}].keys"), p))?;
            }
        }
        if (user_share - 1.0).abs() > 1e-6 {
            return err(
                "classes",
                format!("the shares of user classes add up to {user_share}, not 1"),
            );
        }
        check_keys(&self.keys).map_err(|p| ("keys".to_owned(), p))?;
        for (i, c) in self.components.iter().enumerate() {
            let f = format!("components[{i}]");
            if self.components[..i].iter().any(|o| o.name == c.name) {
                return err(
                    &format!("{f}.name"),
                    format!("`{}` is defined twice", c.name),
                );
            }
            if c.kind != Kind::Client && c.instance_types.is_empty() {
                return err(
                    &format!("{f}.instance_types"),
                    format!("`{}` needs at least one instance type", c.name),
                );
            }
            for t in &c.instance_types {
                if self.instance_type(t).is_none() {
                    return err(
                        &format!("{f}.instance_types"),
                        format!("no instance type `{t}`"),
                    );
                }
            }
            for (class, cost) in &c.service {
                if class != "default" && self.class_index(class).is_none() {
                    return err(
                        &format!("{f}.service.{class}"),
                        "no such request class".to_owned(),
                    );
                }
                if !(cost.ms > 0.0 && cost.cs2 >= 0.0 && cost.cpu_ms.unwrap_or(0.0) >= 0.0) {
                    return err(
                        &format!("{f}.service.{class}"),
                        "ms must be > 0 and cs2 ≥ 0".to_owned(),
                    );
                }
            }
            if c.kind != Kind::Client && !c.service.contains_key("default") {
                let missing = self
                    .classes
                    .iter()
                    .find(|k| !c.service.contains_key(&k.name));
                if let Some(k) = missing {
                    return err(
                        &format!("{f}.service"),
                        format!("no cost for class `{}` and no `default`", k.name),
                    );
                }
            }
            if !(c.threads_per_vcpu > 0.0 && c.boot_s >= 0.0 && c.max_instances >= 1) {
                return err(
                    &f,
                    "threads_per_vcpu > 0, boot_s ≥ 0 and max_instances ≥ 1 are required"
                        .to_owned(),
                );
            }
            if c.concurrency == Some(0) {
                return err(&format!("{f}.concurrency"), "must be at least 1".to_owned());
            }
            c.defaults
                .check()
                .map_err(|(field, p)| (format!("{f}.defaults.{field}"), p))?;
        }
        if self.traffic.points.is_empty() {
            return err(
                "traffic.points",
                "needs at least one (at_s, rps) point".to_owned(),
            );
        }
        for (i, (t, r)) in self.traffic.points.iter().enumerate() {
            if !(*t >= 0.0 && *r >= 0.0) || (i > 0 && *t < self.traffic.points[i - 1].0) {
                return err(
                    &format!("traffic.points[{i}]"),
                    "times must rise from 0 and rates be ≥ 0".to_owned(),
                );
            }
        }
        for (i, s) in self.traffic.spikes.iter().enumerate() {
            if !(s.for_s > 0.0 && s.multiplier >= 0.0 && s.at_s >= 0.0) {
                return err(
                    &format!("traffic.spikes[{i}]"),
                    "at_s ≥ 0, for_s > 0, multiplier ≥ 0".to_owned(),
                );
            }
        }
        if let Some(d) = self.traffic.diurnal
            && !(d.period_s > 0.0 && (0.0..1.0).contains(&d.amplitude))
        {
            return err(
                "traffic.diurnal",
                "period_s > 0 and amplitude in [0, 1)".to_owned(),
            );
        }
        if !(self.traffic.ca2 >= 0.0 && self.traffic.user_timeout_ms > 0.0) {
            return err("traffic", "ca2 ≥ 0 and user_timeout_ms > 0".to_owned());
        }
        for (i, f) in self.faults.iter().chain(self.injectable.iter()).enumerate() {
            f.check(self).map_err(|p| (format!("faults[{i}]"), p))?;
        }
        let o = &self.objectives;
        if !(o.p99_ms > 0.0
            && (0.0..=1.0).contains(&o.error_rate)
            && (0.0..=1.0).contains(&o.min_compliance))
        {
            return err(
                "objectives",
                "p99_ms > 0; error_rate and min_compliance in [0, 1]".to_owned(),
            );
        }
        let s = &self.scoring;
        if !(s.stars[0] <= s.stars[1] && s.stars[1] <= s.stars[2]) {
            return err("scoring.stars", "thresholds must not decrease".to_owned());
        }
        // The start architecture and every solution must build: replaying them through the same
        // validation the players get is the only check that cannot drift from the engine.
        let mut world = crate::World::new(std::sync::Arc::new(self.clone()), self.seed)
            .map_err(|r| ("start".to_owned(), r.message))?;
        if !world.arch().nodes.iter().any(|n| n.kind == Kind::Client) {
            return err(
                "start.nodes",
                "needs a node of a `client` component (where traffic enters)".to_owned(),
            );
        }
        for (i, sol) in self.solutions.iter().enumerate() {
            world = crate::World::new(std::sync::Arc::new(self.clone()), self.seed)
                .map_err(|r| ("start".to_owned(), r.message))?;
            let mut last = 0;
            for (j, a) in sol.actions.iter().enumerate() {
                if a.tick < last {
                    return err(
                        &format!("solutions[{i}].actions[{j}].tick"),
                        "ticks must not go backwards".to_owned(),
                    );
                }
                last = a.tick;
                if a.tick == 0 {
                    world
                        .apply(&a.action)
                        .map_err(|r| (format!("solutions[{i}].actions[{j}]"), r.message))?;
                }
            }
        }
        Ok(())
    }
}

fn check_keys(k: &KeySpace) -> Result<(), String> {
    if !(k.count >= 1.0
        && k.count <= 1.0e10
        && k.zipf_s >= 0.0
        && k.zipf_s <= 3.0
        && k.item_kb > 0.0)
    {
        return Err("count in [1, 1e10], zipf_s in [0, 3], item_kb > 0".to_owned());
    }
    Ok(())
}

/// Most request classes a level may define (the campaign uses three at most): per-class state
/// is held inline, this many slots a node and an edge, and per-class scratch on the stack.
pub const MAX_CLASSES: usize = 8;

/// Seeds travel as JSON numbers, which browsers read as f64: exact only up to 2^53 − 1.
pub const MAX_SAFE_SEED: u64 = (1 << 53) - 1;

/// Ids of levels, nodes and classes: 1-40 characters of `a-z 0-9 -`.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
