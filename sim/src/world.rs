//! The world: a level, the player's architecture, and every node's and edge's runtime state.
//! Invariant: `nodes[i]` is the runtime of `arch.nodes[i]` and `edges[j]` of `arch.edges[j]`, at
//! every moment between calls; actions, faults and timers are the only things that change them.

use std::sync::Arc;

use crate::action::{Action, Refusal};
use crate::alerts::{AlertBook, EDGE, Hysteresis, NODE};
use crate::arch::{Architecture, Edge, EdgeConfig, Node, NodeConfig};
use crate::cache::Popularity;
use crate::dist::Mix;
use crate::fault::{Fault, FaultSpec};
use crate::level::{Kind, Level, MAX_CLASSES, Op, TimedAction, valid_id};
use crate::observe::ScoreBook;
use crate::queueing::Station;
use crate::report::{RunResult, TickReport};
use crate::rng::Rng;

/// Retries are scheduled in a ring of this many ticks; longer backoffs are capped to it.
pub(crate) const RETRY_RING: usize = 64;

/// One value per request class, stored inline (no heap pointer to chase on every access):
/// the tick reads these in its innermost loops.
/// Invariant: the first `len` values are the classes'; the rest stay at their fill value, and
/// indexing past `len` is a bug (checked in debug builds; release reads the fill value).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PerClass<T: Copy> {
    len: u8,
    v: [T; MAX_CLASSES],
}

impl<T: Copy> PerClass<T> {
    /// `len` classes, each `fill`.
    pub(crate) fn filled(len: usize, fill: T) -> Self {
        Self {
            len: len.min(MAX_CLASSES) as u8,
            v: [fill; MAX_CLASSES],
        }
    }
}

impl<T: Copy> std::ops::Deref for PerClass<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.v[..usize::from(self.len)]
    }
}

impl<T: Copy> std::ops::DerefMut for PerClass<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.v[..usize::from(self.len)]
    }
}

impl<T: Copy> std::ops::Index<usize> for PerClass<T> {
    type Output = T;
    fn index(&self, k: usize) -> &T {
        debug_assert!(k < usize::from(self.len), "class {k} of {}", self.len);
        &self.v[k]
    }
}

impl<T: Copy> std::ops::IndexMut<usize> for PerClass<T> {
    fn index_mut(&mut self, k: usize) -> &mut T {
        debug_assert!(k < usize::from(self.len), "class {k} of {}", self.len);
        &mut self.v[k]
    }
}

/// A component's cost for one class, resolved once (`default` applied) so the tick never
/// looks costs up by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClassCost {
    pub ms: f64,
    pub cpu_ms: f64,
    pub cs2: f64,
}

/// How a class's requests fare at a node or over an edge, as its caller sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resp {
    /// Probability of success.
    pub ok: f64,
    /// Latency of successes (normalized mixture), s.
    pub mix: Mix,
    /// Mean time the caller is held, successes and failures together, s.
    pub held: f64,
    /// Variance of that time, s² (for the caller's service-time SCV).
    pub held_var: f64,
    /// Mean time until a failure is known, s.
    pub fail_time: f64,
}

impl Default for Resp {
    fn default() -> Self {
        Self {
            ok: 1.0,
            mix: Mix::zero(),
            held: 0.0,
            held_var: 0.0,
            fail_time: 0.0,
        }
    }
}

/// P(T > tau) of a node's response shifted by an edge's (mean, variance) delay, remembered for
/// the next caller with bit-identical arguments. The key compares bits, so a hit returns exactly
/// what the computation would.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TailMemo {
    /// `(shift mean, shift variance, tau)` as bits, when the memo holds a value.
    key: Option<[u64; 3]>,
    tail: f64,
}

impl TailMemo {
    /// The remembered tail for these arguments, else `compute()`, remembered.
    pub(crate) fn get_or(
        &mut self,
        shift_m: f64,
        shift_v: f64,
        tau: f64,
        compute: impl FnOnce() -> f64,
    ) -> f64 {
        let key = [shift_m.to_bits(), shift_v.to_bits(), tau.to_bits()];
        if self.key == Some(key) {
            return self.tail;
        }
        self.tail = compute();
        self.key = Some(key);
        self.tail
    }

    /// Forgets the value (the response it was computed from changed).
    pub(crate) fn clear(&mut self) {
        self.key = None;
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CacheRt {
    pub pop: Popularity,
    pub tc: f64,
    pub capacity: f64,
    pub warm_n: Option<f64>,
    pub cohort_at: Option<u64>,
    pub stampede: Option<(u32, f64)>,
    pub steady: Vec<f64>,
    pub steady_rate: Vec<f64>,
    /// Request rate per class smoothed over about a second: hit ratios follow the rate a cache
    /// has seen over time, not one tick's Poisson noise.
    pub smooth_rate: Vec<f64>,
    pub hit: Vec<f64>,
    /// Per class: share of lookups that load the origin, and that wait for it.
    pub miss_load: Vec<f64>,
    pub miss_latency: Vec<f64>,
    pub dirty: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct DbRt {
    pub primary_up: bool,
    pub replicas_up: u32,
    pub detect_at: Option<u64>,
    pub promote_at: Option<u64>,
    pub restart_at: Option<u64>,
    pub replica_back_at: Vec<u64>,
    pub backlog: f64,
    pub written: f64,
    pub applied: f64,
    /// Cumulative writes at the end of each recent tick (ring), for lag in seconds.
    pub history: Vec<f64>,
    pub lag_s: f64,
    /// Per class and station: share of the class's admitted requests each station gets.
    pub shares: Vec<[f64; 4]>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct QueueRt {
    pub backlog: f64,
    pub mix: Vec<f64>,
    pub dead: f64,
    pub drained: f64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct AsgRt {
    pub util_sum: f64,
    pub util_n: u32,
    pub next_eval: u64,
    pub breaches: u32,
    pub lows: u32,
    pub cooldown_until: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct NodeRt {
    pub comp: usize,
    pub itype: usize,
    pub up: u32,
    pub booting: Vec<u64>,
    pub down: u32,
    pub undetected: u32,
    pub detect_at: u64,
    pub restore: Vec<(u64, u32)>,
    pub rolling: u32,
    pub roll_at: u64,
    pub slow: f64,
    pub stations: Vec<Station>,
    pub tokens: f64,
    pub arr: PerClass<f64>,
    pub proc: PerClass<f64>,
    pub fast_fail: PerClass<f64>,
    pub hop: PerClass<Mix>,
    pub resp: PerClass<Resp>,
    /// Per class: the last tail probability asked of `resp`, for callers with the same shift
    /// and timeout (parallel callers of one node usually are). Cleared whenever `resp` changes.
    pub tail_memo: PerClass<TailMemo>,
    pub down_mean: PerClass<f64>,
    pub down_var: PerClass<f64>,
    pub rho: f64,
    pub lq: f64,
    /// Mean wait before service, s, over the node's stations (load-weighted).
    pub wait: f64,
    pub capacity_rps: f64,
    pub ca2_in: f64,
    pub cache: Option<CacheRt>,
    pub db: Option<DbRt>,
    pub queue: Option<QueueRt>,
    pub asg: Option<AsgRt>,
    /// Alert states, by the index of `alerts::NODE`.
    pub alerts: [Hysteresis; NODE.len()],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone)]
pub(crate) struct EdgeRt {
    pub from: usize,
    pub to: usize,
    pub carries: PerClass<bool>,
    pub rtt: f64,
    pub base: PerClass<f64>,
    pub sent: PerClass<f64>,
    pub due: PerClass<f64>,
    pub retries_rps: f64,
    /// `RETRY_RING × gens × classes` retry attempts due per tick slot.
    pub ring: Vec<f64>,
    pub ring_pos: usize,
    pub gens: usize,
    /// Attempts sent this tick, by generation and class (`(gens+1) × classes`).
    pub by_gen: Vec<f64>,
    pub budget_ratio: f64,
    pub fail: PerClass<f64>,
    pub resp: PerClass<Resp>,
    pub breaker: BreakerState,
    pub open_until: u64,
    /// Per-tick (calls, failures) over the breaker window.
    pub window: Vec<(f64, f64)>,
    pub window_pos: usize,
    /// Sums of `window`.
    pub window_sum: (f64, f64),
    pub pool: Option<Station>,
    pub pool_wait: (f64, f64),
    pub cut: bool,
    /// Alert states, by the index of `alerts::EDGE`.
    pub alerts: [Hysteresis; EDGE.len()],
}

#[derive(Debug, Clone)]
pub(crate) struct ScheduledFault {
    pub spec: FaultSpec,
    pub start: u64,
    pub end: Option<u64>,
    pub started: bool,
    pub ended: bool,
}

/// A running simulation of one attempt.
#[derive(Debug, Clone)]
pub struct World {
    pub(crate) level: Arc<Level>,
    pub(crate) seed: u64,
    pub(crate) rng: Rng,
    pub(crate) tick: u64,
    pub(crate) dt: f64,
    pub(crate) arch: Architecture,
    pub(crate) nodes: Vec<NodeRt>,
    pub(crate) edges: Vec<EdgeRt>,
    pub(crate) order: Vec<usize>,
    pub(crate) faults: Vec<ScheduledFault>,
    pub(crate) hot_share: Option<f64>,
    pub(crate) partitions: Vec<(String, String)>,
    pub(crate) spike: f64,
    pub(crate) bot_rps: Vec<f64>,
    pub(crate) report: TickReport,
    pub(crate) alerts: AlertBook,
    pub(crate) score: ScoreBook,
    pub(crate) ended: Option<RunResult>,
    pub(crate) ext: Vec<f64>,
    /// Incoming and outgoing edge indices per node.
    pub(crate) ins: Vec<Vec<usize>>,
    pub(crate) outs: Vec<Vec<usize>>,
    /// Events raised between reports (actions, faults, timers), emitted with the next report.
    pub(crate) pending: Vec<crate::report::Event>,
    pub(crate) causes: crate::report::ErrorCauses,
    /// Last tick's p50/p95/p99, the warm start for this tick's quantile solve.
    pub(crate) p_guess: [f64; 3],
    /// The report's node and edge ids no longer match the architecture (set by every change
    /// to it): the ids are copied into the report only then, not every tick.
    pub(crate) report_ids_stale: bool,
    /// Share of requests on the most popular key of the level's key space.
    pub(crate) zipf_top: f64,
    /// `costs[component × classes + class]`.
    pub(crate) costs: Arc<[ClassCost]>,
    /// `receives[node × classes + class]`: the node can see the class at all (the client, or
    /// an incoming edge carries it). The reverse pass skips the rest; derived with the graph.
    pub(crate) receives: Vec<bool>,
    /// `carriers[node × classes + class]`: the node's out-edges that carry the class, in
    /// `outs` order; derived with the graph.
    pub(crate) carriers: Vec<Vec<usize>>,
    /// Reports carry per-node and per-edge metrics and alerts (on unless a replay turns them
    /// off); either way the world evolves the same.
    pub(crate) detailed: bool,
}

impl World {
    /// Builds the level's starting architecture, ready to run tick 0.
    ///
    /// # Errors
    /// A refusal when the level's start architecture does not build.
    pub fn new(level: Arc<Level>, seed: u64) -> Result<Self, Refusal> {
        let ncls = level.classes.len();
        let faults = level
            .faults
            .iter()
            .map(|f| schedule(f, 0, level.tick_hz))
            .collect();
        let mut w = Self {
            dt: level.dt(),
            rng: Rng::new(seed),
            seed,
            tick: 0,
            arch: Architecture::default(),
            nodes: Vec::new(),
            edges: Vec::new(),
            order: Vec::new(),
            faults,
            hot_share: None,
            partitions: Vec::new(),
            spike: 1.0,
            bot_rps: vec![0.0; ncls],
            report: TickReport::default(),
            alerts: AlertBook::default(),
            score: ScoreBook::default(),
            ended: None,
            ext: vec![0.0; ncls],
            ins: Vec::new(),
            outs: Vec::new(),
            pending: Vec::new(),
            causes: crate::report::ErrorCauses::default(),
            p_guess: [0.0; 3],
            report_ids_stale: true,
            receives: Vec::new(),
            carriers: Vec::new(),
            detailed: true,
            zipf_top: Popularity::zipf(&level.keys, None).top_share(1),
            costs: level
                .components
                .iter()
                .flat_map(|c| {
                    level.classes.iter().map(move |k| {
                        let cost = c.service.get(&k.name).or_else(|| c.service.get("default"));
                        // Only the client has no costs (validation requires them elsewhere).
                        cost.map_or(
                            ClassCost {
                                ms: 0.1,
                                cpu_ms: 0.0,
                                cs2: 1.0,
                            },
                            |x| ClassCost {
                                ms: x.ms,
                                cpu_ms: x.cpu_ms.unwrap_or(x.ms),
                                cs2: x.cs2,
                            },
                        )
                    })
                })
                .collect(),
            level,
        };
        let start = w.level.start.clone();
        for n in &start.nodes {
            w.apply(&Action::AddNode {
                id: n.id.clone(),
                component: n.component.clone(),
                instance_type: n.instance_type.clone(),
                instances: n.instances,
                region: n.region.clone(),
                config: n.config.clone(),
            })?;
            let i = w.nodes.len() - 1;
            w.arch.nodes[i].fixed = n.fixed;
            let rt = &mut w.nodes[i];
            rt.up += rt.booting.len() as u32;
            rt.booting.clear();
            if let Some(c) = rt.cache.as_mut() {
                c.warm_n = None;
            }
        }
        for e in &start.edges {
            w.apply(&Action::Connect {
                from: e.from.clone(),
                to: e.to.clone(),
                config: e.config.clone(),
            })?;
        }
        Ok(w)
    }

    pub(crate) fn cost(&self, comp: usize, class: usize) -> ClassCost {
        self.costs[comp * self.level.classes.len() + class]
    }

    /// The level.
    pub fn level(&self) -> &Level {
        &self.level
    }

    /// The architecture as it stands.
    pub fn arch(&self) -> &Architecture {
        &self.arch
    }

    /// The next tick to simulate.
    pub fn tick(&self) -> u64 {
        self.tick
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The result, once the run has ended (time up or outage).
    pub fn result(&self) -> Option<&RunResult> {
        self.ended.as_ref()
    }

    /// Whether the run is over.
    pub fn is_over(&self) -> bool {
        self.ended.is_some()
    }

    /// The last tick's report.
    pub fn last_report(&self) -> &TickReport {
        &self.report
    }

    /// Cost per hour of the architecture as the player configured it.
    pub fn planned_cost(&self) -> f64 {
        arch_cost(&self.level, &self.arch)
    }

    /// Ends the run now (time up) and returns the result.
    pub fn finish(&mut self) -> &RunResult {
        if self.ended.is_none() {
            self.ended = Some(self.score.result(&self.level, self.tick, true));
        }
        self.ended
            .as_ref()
            .unwrap_or_else(|| unreachable!("set just above"))
    }

    /// Starts a fault now (practice rooms).
    ///
    /// # Errors
    /// When the fault does not fit the level.
    pub fn inject_fault(&mut self, spec: &FaultSpec) -> Result<(), Refusal> {
        spec.check(&self.level)
            .map_err(|p| Refusal::new("bad_fault", p))?;
        let mut s = spec.clone();
        s.at_s = 0.0;
        self.faults
            .push(schedule(&s, self.tick, self.level.tick_hz));
        Ok(())
    }

    /// Validates and applies one action between ticks.
    ///
    /// # Errors
    /// A refusal with a reason a person understands; nothing changes then.
    pub fn apply(&mut self, action: &Action) -> Result<(), Refusal> {
        if self.ended.is_some() {
            return Err(Refusal::new("run_over", "the run is over"));
        }
        let next = self.plan(action)?;
        let budget = self.level.budget_per_hour;
        let cost = arch_cost(&self.level, &next);
        if cost > budget + 1e-9 && cost > self.planned_cost() + 1e-9 {
            return Err(Refusal::new(
                "over_budget",
                format!("that would cost ${cost:.2}/h; the budget is ${budget:.2}/h"),
            ));
        }
        self.commit(action, next);
        self.push_event("action", None, describe_action(action));
        Ok(())
    }

    /// Turns per-node and per-edge metrics and alerts in the tick reports on or off. Off, a
    /// report keeps its system metrics, events and score (all a receipt check or a replay's
    /// curve needs), and the run is the same tick for tick: observation never steers it.
    pub fn set_detailed_reports(&mut self, on: bool) {
        self.detailed = on;
        if !on {
            self.report.nodes.clear();
            self.report.edges.clear();
            self.report.alerts.clear();
        }
        self.report_ids_stale = true;
    }

    /// Runs a whole level with an action script (applied at their ticks) and returns the result.
    /// Actions that are refused are skipped, as a live room would answer them with their reason.
    pub fn run_script(
        &mut self,
        actions: &[TimedAction],
        each: impl FnMut(&TickReport),
    ) -> RunResult {
        let total = self.level.total_ticks();
        self.run_script_until(actions, total, each, |_, _| {})
    }

    /// Like `run_script`, but stops after tick `until` (the result then judges the ticks run),
    /// and tells `refused` about each refused action (its index in `actions`, the refusal).
    pub fn run_script_until(
        &mut self,
        actions: &[TimedAction],
        until: u64,
        mut each: impl FnMut(&TickReport),
        mut refused: impl FnMut(usize, &Refusal),
    ) -> RunResult {
        let mut next = 0;
        while self.tick < until && self.ended.is_none() {
            while next < actions.len() && actions[next].tick <= self.tick {
                if let Err(r) = self.apply(&actions[next].action) {
                    refused(next, &r);
                }
                next += 1;
            }
            each(self.step());
        }
        self.finish().clone()
    }

    fn plan(&self, action: &Action) -> Result<Architecture, Refusal> {
        let lv = &self.level;
        let mut a = self.arch.clone();
        let node = |a: &Architecture, id: &str| {
            a.node_index(id)
                .ok_or_else(|| Refusal::new("no_such_node", format!("there is no node `{id}`")))
        };
        match action {
            Action::AddNode {
                id,
                component,
                instance_type,
                instances,
                region,
                config,
            } => {
                if !valid_id(id) {
                    return Err(Refusal::new(
                        "bad_id",
                        format!("`{id}` is not a valid id: use 1-40 of a-z, 0-9, -"),
                    ));
                }
                if a.node_index(id).is_some() {
                    return Err(Refusal::new(
                        "duplicate_id",
                        format!("there is already a node `{id}`"),
                    ));
                }
                if a.nodes.len() >= 64 {
                    return Err(Refusal::new(
                        "too_many_nodes",
                        "an architecture holds at most 64 nodes",
                    ));
                }
                let comp = lv.component(component).ok_or_else(|| {
                    Refusal::new(
                        "no_such_component",
                        format!("this level has no component `{component}`"),
                    )
                })?;
                if !comp.placeable && self.tick > 0 {
                    return Err(Refusal::new(
                        "not_placeable",
                        format!("`{component}` is part of the level"),
                    ));
                }
                let itype = match instance_type {
                    Some(t) => {
                        check_itype(comp, t)?;
                        t.clone()
                    }
                    None => comp.instance_types.first().cloned().unwrap_or_default(),
                };
                let n = instances.unwrap_or(1);
                check_instances(comp, n)?;
                let region = region
                    .clone()
                    .unwrap_or_else(|| lv.default_region().to_owned());
                if region != lv.default_region() && !lv.regions.iter().any(|r| r.name == region) {
                    return Err(Refusal::new(
                        "no_such_region",
                        format!("this level has no region `{region}`"),
                    ));
                }
                let mut cfg = comp.defaults.clone();
                if let Some(c) = config {
                    check_node_config(comp.kind, c)?;
                    cfg.merge(c);
                }
                a.nodes.push(Node {
                    id: id.clone(),
                    component: component.clone(),
                    kind: comp.kind,
                    instance_type: itype,
                    instances: n,
                    region,
                    config: cfg,
                    fixed: false,
                    drained: false,
                });
            }
            Action::RemoveNode { id } => {
                let i = node(&a, id)?;
                if a.nodes[i].fixed {
                    return Err(Refusal::new(
                        "fixed",
                        format!("`{id}` is part of the level and cannot be removed"),
                    ));
                }
                a.nodes.remove(i);
                a.edges.retain(|e| e.from != *id && e.to != *id);
            }
            Action::Connect { from, to, config } => {
                let f = node(&a, from)?;
                let t = node(&a, to)?;
                if from == to {
                    return Err(Refusal::new("self_edge", "a node cannot call itself"));
                }
                if a.edge_index(from, to).is_some() {
                    return Err(Refusal::new(
                        "duplicate_edge",
                        format!("{from} already calls {to}"),
                    ));
                }
                if a.nodes[t].kind == Kind::Client {
                    return Err(Refusal::new(
                        "bad_edge",
                        "nothing calls the users".to_owned(),
                    ));
                }
                if a.nodes[f].kind == Kind::Database {
                    return Err(Refusal::new(
                        "bad_edge",
                        format!("{from} is a database: it does not call other components"),
                    ));
                }
                if a.would_cycle(from, to) {
                    return Err(Refusal::new(
                        "cycle",
                        format!("{to} already reaches {from}: that edge would make a loop"),
                    ));
                }
                if a.edges.len() >= 128 {
                    return Err(Refusal::new(
                        "too_many_edges",
                        "an architecture holds at most 128 edges",
                    ));
                }
                let mut cfg = EdgeConfig::default();
                if let Some(c) = config {
                    check_edge_config(lv, c)?;
                    cfg.merge(c);
                }
                a.edges.push(Edge {
                    from: from.clone(),
                    to: to.clone(),
                    config: cfg,
                });
            }
            Action::Disconnect { from, to } => {
                let e = a.edge_index(from, to).ok_or_else(|| {
                    Refusal::new("no_such_edge", format!("{from} does not call {to}"))
                })?;
                a.edges.remove(e);
            }
            Action::ConfigureNode { id, config } => {
                let i = node(&a, id)?;
                check_node_config(a.nodes[i].kind, config)?;
                a.nodes[i].config.merge(config);
                if let Some(asg) = a.nodes[i].config.autoscale {
                    let comp = lv
                        .component(&a.nodes[i].component)
                        .map_or(1, |c| c.max_instances);
                    if asg.max > comp {
                        return Err(Refusal::new(
                            "too_many_instances",
                            format!("{id} runs at most {comp} instances"),
                        ));
                    }
                }
            }
            Action::ConfigureEdge { from, to, config } => {
                let e = a.edge_index(from, to).ok_or_else(|| {
                    Refusal::new("no_such_edge", format!("{from} does not call {to}"))
                })?;
                check_edge_config(lv, config)?;
                a.edges[e].config.merge(config);
            }
            Action::Resize { id, instance_type } => {
                let i = node(&a, id)?;
                let comp = component_of(lv, &a.nodes[i]);
                check_itype(comp, instance_type)?;
                if a.nodes[i].instance_type == *instance_type {
                    return Err(Refusal::new(
                        "no_change",
                        format!("{id} already runs on {instance_type}"),
                    ));
                }
                a.nodes[i].instance_type.clone_from(instance_type);
            }
            Action::Scale { id, instances } => {
                let i = node(&a, id)?;
                let comp = component_of(lv, &a.nodes[i]);
                if matches!(a.nodes[i].kind, Kind::Database | Kind::Cdn | Kind::Client) {
                    let how = match a.nodes[i].kind {
                        Kind::Database => "add replicas or shards with configure_node",
                        Kind::Cdn => "set pops with configure_node",
                        _ => "it is the users",
                    };
                    return Err(Refusal::new(
                        "not_scalable",
                        format!("{id} does not scale by instances: {how}"),
                    ));
                }
                check_instances(comp, *instances)?;
                a.nodes[i].instances = *instances;
            }
            Action::FailOver { id } => {
                let i = node(&a, id)?;
                let db = self.nodes[i].db.as_ref().ok_or_else(|| {
                    Refusal::new(
                        "not_a_database",
                        format!("{id} is not a database: only databases fail over"),
                    )
                })?;
                if db.primary_up {
                    return Err(Refusal::new(
                        "primary_healthy",
                        format!("the primary of {id} is healthy: nothing to fail over"),
                    ));
                }
                if db.replicas_up == 0 {
                    return Err(Refusal::new(
                        "no_replica",
                        format!("{id} has no healthy replica to promote"),
                    ));
                }
                if db.promote_at.is_some() {
                    return Err(Refusal::new(
                        "in_progress",
                        format!("{id} is already failing over"),
                    ));
                }
            }
            Action::Drain { id, drain } => {
                let i = node(&a, id)?;
                if a.nodes[i].kind == Kind::Client {
                    return Err(Refusal::new("bad_target", "the users cannot be drained"));
                }
                a.nodes[i].drained = *drain;
            }
        }
        Ok(a)
    }

    fn commit(&mut self, action: &Action, next: Architecture) {
        let now = self.tick;
        let lv = Arc::clone(&self.level);
        match action {
            Action::AddNode { .. } => {
                let n = next
                    .nodes
                    .last()
                    .unwrap_or_else(|| unreachable!("plan pushed a node"));
                let rt = self.new_runtime(n);
                self.nodes.push(rt);
            }
            Action::RemoveNode { id } => {
                if let Some(i) = self.arch.node_index(id) {
                    self.nodes.remove(i);
                }
            }
            Action::Resize { id, .. } => {
                if let Some(i) = next.node_index(id) {
                    let boot = ticks(component_of(&lv, &next.nodes[i]).boot_s, lv.tick_hz);
                    let it = lv
                        .instance_types
                        .iter()
                        .position(|t| t.name == next.nodes[i].instance_type)
                        .unwrap_or(0);
                    let rt = &mut self.nodes[i];
                    rt.itype = it;
                    if let Some(db) = rt.db.as_mut() {
                        // A database primary restarts on its new type; replicas keep serving reads.
                        if db.primary_up {
                            db.primary_up = false;
                            db.restart_at = Some(now + boot.max(1));
                        }
                        return self.finish_commit(next);
                    }
                    rt.rolling = rt.up;
                    if rt.rolling > 0 {
                        rt.up -= 1;
                        rt.roll_at = now + boot.max(1);
                    }
                }
            }
            Action::Scale { id, instances } => {
                if let Some(i) = next.node_index(id) {
                    let boot = ticks(component_of(&lv, &next.nodes[i]).boot_s, lv.tick_hz);
                    scale_to(&mut self.nodes[i], *instances, now, boot);
                }
            }
            Action::FailOver { id } => {
                if let Some(i) = next.node_index(id) {
                    let promote = ticks(next.nodes[i].config.promote_s.unwrap_or(15.0), lv.tick_hz);
                    if let Some(db) = self.nodes[i].db.as_mut() {
                        db.detect_at = None;
                        db.promote_at = Some(now + promote);
                    }
                }
            }
            _ => {}
        }
        self.finish_commit(next);
    }

    fn finish_commit(&mut self, next: Architecture) {
        let old: Vec<(String, String, EdgeRt)> = self
            .arch
            .edges
            .iter()
            .zip(std::mem::take(&mut self.edges))
            .map(|(e, rt)| (e.from.clone(), e.to.clone(), rt))
            .collect();
        self.arch = next;
        self.report_ids_stale = true;
        self.sync_runtime(old);
    }

    fn new_runtime(&self, n: &Node) -> NodeRt {
        let lv = &self.level;
        let ncls = lv.classes.len();
        let comp = lv
            .components
            .iter()
            .position(|c| c.name == n.component)
            .unwrap_or(0);
        let itype = lv
            .instance_types
            .iter()
            .position(|t| t.name == n.instance_type)
            .unwrap_or(0);
        let boot = ticks(lv.components[comp].boot_s, lv.tick_hz);
        let stations = if n.kind == Kind::Database { 4 } else { 1 };
        let keys = |k: usize| lv.classes[k].keys.unwrap_or(lv.keys);
        let cache = matches!(n.kind, Kind::Cache | Kind::Cdn).then(|| {
            let key_space = if n.kind == Kind::Cdn {
                lv.classes
                    .iter()
                    .position(|c| c.cdn_cacheable)
                    .map_or(lv.keys, keys)
            } else {
                lv.classes
                    .iter()
                    .position(|c| c.op == Op::Read)
                    .map_or(lv.keys, keys)
            };
            CacheRt {
                pop: Popularity::zipf(&key_space, self.hot_share),
                tc: 0.0,
                capacity: 0.0,
                // A new cache starts empty; the level's own start caches are warm.
                warm_n: Some(0.0),
                cohort_at: None,
                stampede: None,
                steady: vec![0.0; ncls],
                steady_rate: vec![-1.0; ncls],
                smooth_rate: vec![-1.0; ncls],
                hit: vec![0.0; ncls],
                miss_load: vec![1.0; ncls],
                miss_latency: vec![1.0; ncls],
                dirty: true,
            }
        });
        let db = (n.kind == Kind::Database).then(|| DbRt {
            primary_up: true,
            replicas_up: n.config.replicas.unwrap_or(0),
            detect_at: None,
            promote_at: None,
            restart_at: None,
            replica_back_at: Vec::new(),
            backlog: 0.0,
            written: 0.0,
            applied: 0.0,
            history: vec![0.0; 4096],
            lag_s: 0.0,
            shares: vec![[0.0; 4]; ncls],
        });
        NodeRt {
            comp,
            itype,
            up: 0,
            booting: vec![self.tick + boot; n.instances as usize],
            down: 0,
            undetected: 0,
            detect_at: 0,
            restore: Vec::new(),
            rolling: 0,
            roll_at: 0,
            slow: 1.0,
            stations: (0..stations).map(|_| Station::new(1)).collect(),
            tokens: n
                .config
                .rate_limit_burst
                .or(n.config.rate_limit_rps)
                .unwrap_or(0.0),
            arr: PerClass::filled(ncls, 0.0),
            proc: PerClass::filled(ncls, 0.0),
            fast_fail: PerClass::filled(ncls, 0.0),
            hop: PerClass::filled(ncls, Mix::zero()),
            resp: PerClass::filled(ncls, Resp::default()),
            tail_memo: PerClass::filled(ncls, TailMemo::default()),
            down_mean: PerClass::filled(ncls, 0.0),
            down_var: PerClass::filled(ncls, 0.0),
            rho: 0.0,
            lq: 0.0,
            wait: 0.0,
            capacity_rps: 0.0,
            ca2_in: 1.0,
            cache,
            db,
            queue: (n.kind == Kind::Queue).then(|| QueueRt {
                mix: vec![0.0; ncls],
                ..QueueRt::default()
            }),
            asg: None,
            alerts: Default::default(),
        }
    }

    /// Re-derives edge runtimes, indices and the topological order after the graph changed,
    /// keeping the state of edges that still exist.
    fn sync_runtime(&mut self, mut old: Vec<(String, String, EdgeRt)>) {
        let lv = Arc::clone(&self.level);
        let ncls = lv.classes.len();
        let mut edges = Vec::with_capacity(self.arch.edges.len());
        for e in &self.arch.edges {
            let from = self.arch.node_index(&e.from).unwrap_or(0);
            let to = self.arch.node_index(&e.to).unwrap_or(0);
            let mut carries = PerClass::filled(ncls, false);
            for (k, c) in lv.classes.iter().enumerate() {
                carries[k] = e
                    .config
                    .classes
                    .as_ref()
                    .is_none_or(|cs| cs.contains(&c.name));
            }
            let rtt =
                lv.rtt_ms(&self.arch.nodes[from].region, &self.arch.nodes[to].region) / 1000.0;
            let gens = e.config.retries.unwrap_or(0) as usize;
            let window = e
                .config
                .breaker
                .map_or(0, |b| ticks(b.window_s, lv.tick_hz).max(1) as usize);
            let keep = old.iter().position(|(f, t, _)| *f == e.from && *t == e.to);
            let mut rt = match keep {
                Some(p) => old.swap_remove(p).2,
                None => EdgeRt {
                    from,
                    to,
                    carries: PerClass::filled(ncls, false),
                    rtt,
                    base: PerClass::filled(ncls, 0.0),
                    sent: PerClass::filled(ncls, 0.0),
                    due: PerClass::filled(ncls, 0.0),
                    retries_rps: 0.0,
                    ring: Vec::new(),
                    ring_pos: 0,
                    gens: 0,
                    by_gen: Vec::new(),
                    budget_ratio: 1.0,
                    fail: PerClass::filled(ncls, 0.0),
                    resp: PerClass::filled(ncls, Resp::default()),
                    breaker: BreakerState::Closed,
                    open_until: 0,
                    window: Vec::new(),
                    window_pos: 0,
                    window_sum: (0.0, 0.0),
                    pool: None,
                    pool_wait: (0.0, 0.0),
                    cut: false,
                    alerts: Default::default(),
                },
            };
            rt.from = from;
            rt.to = to;
            rt.carries = carries;
            rt.rtt = rtt;
            if rt.gens != gens {
                rt.gens = gens;
                rt.ring = vec![0.0; RETRY_RING * gens * ncls];
                rt.ring_pos = 0;
            }
            rt.by_gen = vec![0.0; (gens + 1) * ncls];
            if rt.window.len() != window {
                rt.window = vec![(0.0, 0.0); window];
                rt.window_pos = 0;
                rt.window_sum = (0.0, 0.0);
            }
            if e.config.pool.is_none() {
                rt.pool = None;
            } else if rt.pool.is_none() {
                rt.pool = Some(Station::new(1));
            }
            edges.push(rt);
        }
        self.edges = edges;
        self.order = self.arch.topo_order();
        self.ins = vec![Vec::new(); self.nodes.len()];
        self.outs = vec![Vec::new(); self.nodes.len()];
        for (j, e) in self.edges.iter().enumerate() {
            self.outs[e.from].push(j);
            self.ins[e.to].push(j);
        }
        self.carriers = (0..self.nodes.len() * ncls)
            .map(|ik| {
                let (i, k) = (ik / ncls, ik % ncls);
                self.outs[i]
                    .iter()
                    .copied()
                    .filter(|&e| self.edges[e].carries[k])
                    .collect()
            })
            .collect();
        self.receives = vec![false; self.nodes.len() * ncls];
        for (i, n) in self.arch.nodes.iter().enumerate() {
            for k in 0..ncls {
                let sees =
                    n.kind == Kind::Client || self.ins[i].iter().any(|&e| self.edges[e].carries[k]);
                self.receives[i * ncls + k] = sees;
                if !sees {
                    // Nobody reads a response the node never gives; a class that arrives later
                    // starts from rest, as a new node does.
                    let rt = &mut self.nodes[i];
                    rt.resp[k] = Resp::default();
                    rt.tail_memo[k].clear();
                    rt.down_mean[k] = 0.0;
                    rt.down_var[k] = 0.0;
                }
            }
        }
        for (i, n) in self.arch.nodes.iter().enumerate() {
            let rt = &mut self.nodes[i];
            if n.config.autoscale.is_some() && rt.asg.is_none() {
                rt.asg = Some(AsgRt::default());
            } else if n.config.autoscale.is_none() {
                rt.asg = None;
            }
            if let Some(c) = rt.cache.as_mut() {
                c.dirty = true;
            }
            if let Some(db) = rt.db.as_mut() {
                let want = n.config.replicas.unwrap_or(0);
                let pending = db.replica_back_at.len() as u32;
                let promoting = u32::from(db.promote_at.is_some());
                if db.replicas_up + pending + promoting > want {
                    db.replicas_up = want.saturating_sub(pending + promoting);
                } else if db.replicas_up + pending + promoting < want {
                    // New replicas boot from a snapshot before they serve.
                    let boot = ticks(lv.components[rt.comp].boot_s, lv.tick_hz);
                    for _ in 0..want - (db.replicas_up + pending + promoting) {
                        db.replica_back_at.push(self.tick + boot);
                    }
                }
            }
        }
    }

    /// Starts and ends scripted faults due at this tick.
    pub(crate) fn run_faults(&mut self) {
        let now = self.tick;
        for i in 0..self.faults.len() {
            if !self.faults[i].started && self.faults[i].start <= now {
                self.faults[i].started = true;
                let spec = self.faults[i].spec.clone();
                self.start_fault(&spec);
            }
            if self.faults[i].started
                && !self.faults[i].ended
                && self.faults[i].end.is_some_and(|e| e <= now)
            {
                self.faults[i].ended = true;
                let spec = self.faults[i].spec.clone();
                self.end_fault(&spec);
            }
        }
    }

    fn start_fault(&mut self, spec: &FaultSpec) {
        let hz = self.level.tick_hz;
        let now = self.tick;
        let restore_at = (spec.for_s > 0.0).then(|| now + ticks(spec.for_s, hz).max(1));
        let mut touched = true;
        match &spec.fault {
            Fault::Crash { node, instances } => match self.arch.node_index(node) {
                Some(i) => {
                    if let Some(db) = self.nodes[i].db.as_ref()
                        && db.primary_up
                    {
                        self.fail_primary(i, restore_at);
                    } else {
                        let n = instances.unwrap_or(self.nodes[i].up);
                        self.crash(i, n, restore_at);
                    }
                }
                None => touched = false,
            },
            Fault::LoseZone { region } | Fault::LoseRegion { region } => {
                let whole = matches!(spec.fault, Fault::LoseRegion { .. });
                let zones = self
                    .level
                    .regions
                    .iter()
                    .find(|r| &r.name == region)
                    .map_or(3, |r| r.zones);
                for i in 0..self.arch.nodes.len() {
                    if &self.arch.nodes[i].region != region
                        || self.arch.nodes[i].kind == Kind::Client
                    {
                        continue;
                    }
                    if self.nodes[i].db.is_some() {
                        self.fail_primary(i, restore_at);
                        continue;
                    }
                    let up = self.nodes[i].up;
                    // Instances spread round-robin over zones; zone `a` holds ⌈n/zones⌉ of them.
                    let lost = if whole { up } else { up.div_ceil(zones) };
                    self.crash(i, lost, restore_at);
                }
            }
            Fault::FlushCache { node } => match self
                .arch
                .node_index(node)
                .and_then(|i| Some((i, self.nodes[i].cache.as_ref()?)))
            {
                Some((i, _)) => self.flush(i),
                None => touched = false,
            },
            Fault::HotKey { share } => {
                self.hot_share = Some(*share);
                self.refresh_popularity();
            }
            Fault::ExpireHotKeys { node, count } => {
                match self
                    .arch
                    .node_index(node)
                    .and_then(|i| self.nodes[i].cache.as_mut())
                {
                    Some(c) => c.stampede = Some((*count, 0.0)),
                    None => touched = false,
                }
            }
            Fault::SlowNode { node, factor } => match self.arch.node_index(node) {
                Some(i) => self.nodes[i].slow = *factor,
                None => touched = false,
            },
            Fault::FailPrimary { node } => match self
                .arch
                .node_index(node)
                .filter(|&i| self.nodes[i].db.is_some())
            {
                Some(i) => self.fail_primary(i, restore_at),
                None => touched = false,
            },
            Fault::Partition { a, b } => self.partitions.push((a.clone(), b.clone())),
            Fault::BotFlood { class, rps } => {
                if let Some(k) = self.level.class_index(class) {
                    self.bot_rps[k] = *rps;
                }
            }
            Fault::TrafficSpike { multiplier } => self.spike = *multiplier,
        }
        let msg = if touched {
            spec.describe()
        } else {
            format!(
                "{} (skipped: that node is not in the architecture)",
                spec.describe()
            )
        };
        self.push_event("fault", fault_node(&spec.fault), msg);
    }

    fn end_fault(&mut self, spec: &FaultSpec) {
        match &spec.fault {
            Fault::HotKey { .. } => {
                self.hot_share = None;
                self.refresh_popularity();
            }
            Fault::SlowNode { node, .. } => {
                if let Some(i) = self.arch.node_index(node) {
                    self.nodes[i].slow = 1.0;
                }
            }
            Fault::Partition { a, b } => {
                if let Some(p) = self.partitions.iter().position(|(x, y)| x == a && y == b) {
                    self.partitions.remove(p);
                }
            }
            Fault::BotFlood { class, .. } => {
                if let Some(k) = self.level.class_index(class) {
                    self.bot_rps[k] = 0.0;
                }
            }
            Fault::TrafficSpike { .. } => self.spike = 1.0,
            // Crashes and failures are repaired by their own timers.
            _ => {}
        }
        self.push_event(
            "fault_ended",
            fault_node(&spec.fault),
            format!("over: {}", spec.describe()),
        );
    }

    fn refresh_popularity(&mut self) {
        for i in 0..self.nodes.len() {
            if let Some(c) = self.nodes[i].cache.as_mut() {
                let kind = self.arch.nodes[i].kind;
                let lv = &self.level;
                let ks = lv
                    .classes
                    .iter()
                    .find(|c| {
                        if kind == Kind::Cdn {
                            c.cdn_cacheable
                        } else {
                            c.op == Op::Read
                        }
                    })
                    .and_then(|c| c.keys)
                    .unwrap_or(lv.keys);
                c.pop = Popularity::zipf(&ks, self.hot_share);
                c.dirty = true;
            }
        }
    }

    fn crash(&mut self, i: usize, n: u32, restore_at: Option<u64>) {
        let detect = self.detect_ticks(i);
        let rt = &mut self.nodes[i];
        let n = n.min(rt.up);
        if n == 0 {
            return;
        }
        rt.up -= n;
        rt.down += n;
        rt.undetected += n;
        rt.detect_at = self.tick + detect;
        if rt.up == 0 {
            for s in &mut rt.stations {
                s.clear();
            }
        }
        if let Some(at) = restore_at {
            rt.restore.push((at, n));
        }
    }

    fn flush(&mut self, i: usize) {
        let hz = self.level.tick_hz;
        let cfg = &self.arch.nodes[i].config;
        let cohort = cfg.ttl_s.filter(|_| {
            cfg.ttl_mode.unwrap_or(crate::arch::TtlMode::Fixed) == crate::arch::TtlMode::Fixed
                && cfg.ttl_jitter.unwrap_or(0.0) == 0.0
                && !cfg.early_refresh.unwrap_or(false)
        });
        if let Some(c) = self.nodes[i].cache.as_mut() {
            c.warm_n = Some(0.0);
            c.stampede = None;
            c.cohort_at = cohort.map(|t| self.tick + ticks(t, hz).max(1));
        }
    }

    fn fail_primary(&mut self, i: usize, restore_at: Option<u64>) {
        let hz = self.level.tick_hz;
        let cfg = self.arch.nodes[i].config.clone();
        let restart = ticks(self.level.components[self.nodes[i].comp].restart_s, hz);
        let now = self.tick;
        let rt = &mut self.nodes[i];
        let Some(db) = rt.db.as_mut() else { return };
        if !db.primary_up {
            return;
        }
        db.primary_up = false;
        rt.stations[0].clear();
        rt.stations[1].clear();
        if cfg.auto_failover.unwrap_or(false) && db.replicas_up > 0 {
            db.detect_at = Some(now + ticks(cfg.detect_s.unwrap_or(30.0), hz));
        } else {
            db.restart_at = Some(restore_at.unwrap_or(now + restart));
        }
    }

    /// Ticks until a load balancer in front notices a dead target (interval × threshold).
    fn detect_ticks(&self, i: usize) -> u64 {
        let id = &self.arch.nodes[i].id;
        let secs = self
            .arch
            .edges
            .iter()
            .filter(|e| &e.to == id)
            .filter_map(|e| self.arch.node_index(&e.from))
            .filter(|&p| self.arch.nodes[p].kind == Kind::LoadBalancer)
            .map(|p| {
                let c = &self.arch.nodes[p].config;
                c.health_check_s.unwrap_or(10.0) * f64::from(c.unhealthy_after.unwrap_or(3))
            })
            .fold(f64::NAN, f64::min);
        ticks(if secs.is_nan() { 30.0 } else { secs }, self.level.tick_hz)
    }

    /// Boots, repairs, rolling restarts, failovers, replication history and autoscaling.
    pub(crate) fn run_timers(&mut self) {
        let now = self.tick;
        let hz = self.level.tick_hz;
        for i in 0..self.nodes.len() {
            let id = &self.arch.nodes[i].id;
            let boot = ticks(self.level.components[self.nodes[i].comp].boot_s, hz);
            let rt = &mut self.nodes[i];
            let before = rt.booting.len();
            rt.booting.retain(|&at| at > now);
            let ready = (before - rt.booting.len()) as u32;
            rt.up += ready;
            if rt.undetected > 0 && now >= rt.detect_at {
                rt.undetected = 0;
            }
            let mut back = 0;
            rt.restore.retain(|&(at, n)| {
                if at <= now {
                    back += n;
                    false
                } else {
                    true
                }
            });
            let back = back.min(rt.down);
            rt.down -= back;
            rt.up += back;
            rt.undetected = rt.undetected.min(rt.down);
            if rt.rolling > 0 && now >= rt.roll_at {
                rt.up += 1;
                rt.rolling -= 1;
                if rt.rolling > 0 {
                    rt.up -= 1;
                    rt.roll_at = now + boot.max(1);
                }
            }
            let mut msgs: Vec<(&str, String)> = Vec::new();
            if ready > 0 {
                msgs.push((
                    "instance_ready",
                    format!("{ready} instance(s) of {id} finished booting and serve now"),
                ));
            }
            if back > 0 {
                msgs.push((
                    "instance_ready",
                    format!("{back} instance(s) of {id} recovered"),
                ));
            }
            if let Some(db) = rt.db.as_mut() {
                let nb = db.replica_back_at.len();
                db.replica_back_at.retain(|&at| at > now);
                db.replicas_up += (nb - db.replica_back_at.len()) as u32;
                if db.detect_at.is_some_and(|at| at <= now) {
                    db.detect_at = None;
                    let promote = ticks(self.arch.nodes[i].config.promote_s.unwrap_or(15.0), hz);
                    db.promote_at = Some(now + promote);
                    msgs.push((
                        "failover",
                        format!("{id}: primary declared down; promoting a replica"),
                    ));
                }
                if db.promote_at.is_some_and(|at| at <= now) {
                    db.promote_at = None;
                    if db.replicas_up > 0 {
                        db.replicas_up -= 1;
                        db.primary_up = true;
                        let lost = db.backlog;
                        db.backlog = 0.0;
                        db.applied = db.written;
                        // The old primary rejoins as a replica once it has restarted.
                        let restart = ticks(self.level.components[rt.comp].restart_s, hz);
                        db.replica_back_at.push(now + restart);
                        db.restart_at = None;
                        msgs.push(("failover", format!("{id}: a replica is the new primary; {lost:.0} unreplicated writes were lost")));
                    }
                }
                if db.restart_at.is_some_and(|at| at <= now) {
                    db.restart_at = None;
                    db.primary_up = true;
                    msgs.push(("failover", format!("{id}: the primary restarted")));
                }
            }
            if !msgs.is_empty() {
                // Cloned only when there is news: this loop runs for every node every tick.
                let id = id.clone();
                for (k, m) in msgs {
                    self.push_event(k, Some(&id), m);
                }
            }
        }
        self.run_autoscaling();
    }

    fn run_autoscaling(&mut self) {
        let now = self.tick;
        let hz = self.level.tick_hz;
        for i in 0..self.nodes.len() {
            let Some(cfg) = self.arch.nodes[i].config.autoscale else {
                continue;
            };
            let boot = ticks(self.level.components[self.nodes[i].comp].boot_s, hz);
            let rt = &mut self.nodes[i];
            let rho = rt.rho;
            let Some(asg) = rt.asg.as_mut() else { continue };
            asg.util_sum += rho;
            asg.util_n += 1;
            if now < asg.next_eval {
                continue;
            }
            asg.next_eval = now + ticks(cfg.period_s, hz).max(1);
            let u = if asg.util_n > 0 {
                asg.util_sum / f64::from(asg.util_n)
            } else {
                0.0
            };
            asg.util_sum = 0.0;
            asg.util_n = 0;
            let current = rt.up + rt.booting.len() as u32;
            if u > cfg.target_utilization {
                asg.breaches += 1;
                asg.lows = 0;
            } else if u < cfg.target_utilization * 0.7 {
                asg.lows += 1;
                asg.breaches = 0;
            } else {
                asg.breaches = 0;
                asg.lows = 0;
            }
            // Replace dead instances as soon as health checks have noticed them.
            let mut want = current;
            if current < cfg.min {
                want = cfg.min;
            }
            if now >= asg.cooldown_until {
                if asg.breaches >= cfg.datapoints {
                    // Utilization saturates at 100 %, so one round under-provisions in overload.
                    let serving = f64::from(rt.up.max(1));
                    want = want.max(
                        ((serving * u / cfg.target_utilization).ceil() as u32).max(current + 1),
                    );
                } else if asg.lows >= cfg.datapoints * 3 {
                    let serving = f64::from(rt.up.max(1));
                    want = ((serving * u / cfg.target_utilization).ceil() as u32)
                        .max(cfg.min)
                        .min(current);
                }
            }
            let want = want.clamp(cfg.min, cfg.max);
            if want != current {
                asg.cooldown_until = now + ticks(cfg.cooldown_s, hz);
                asg.breaches = 0;
                asg.lows = 0;
                rt.down = 0;
                rt.undetected = 0;
                scale_to(rt, want, now, boot);
                self.arch.nodes[i].instances = want;
                let id = self.arch.nodes[i].id.clone();
                self.push_event(
                    "autoscale",
                    Some(&id),
                    format!(
                        "{id} autoscaled from {current} to {want} instances (utilization {:.0}%)",
                        u * 100.0
                    ),
                );
            }
        }
    }
}

/// Scales a node's runtime to `want` instances: new ones boot, surplus ones stop at once
/// (booting first), and crashed ones are written off.
fn scale_to(rt: &mut NodeRt, want: u32, now: u64, boot: u64) {
    rt.down = 0;
    rt.undetected = 0;
    rt.restore.clear();
    let have = rt.up + rt.booting.len() as u32;
    if want > have {
        for _ in have..want {
            rt.booting.push(now + boot);
        }
    } else {
        let mut surplus = have - want;
        while surplus > 0 && !rt.booting.is_empty() {
            rt.booting.pop();
            surplus -= 1;
        }
        rt.up -= surplus.min(rt.up);
    }
}

fn schedule(f: &FaultSpec, from: u64, hz: u32) -> ScheduledFault {
    let start = from + ticks(f.at_s, hz);
    let end = (f.for_s > 0.0).then(|| start + ticks(f.for_s, hz).max(1));
    ScheduledFault {
        spec: f.clone(),
        start,
        end,
        started: false,
        ended: false,
    }
}

fn fault_node(f: &Fault) -> Option<&str> {
    match f {
        Fault::Crash { node, .. }
        | Fault::FlushCache { node }
        | Fault::ExpireHotKeys { node, .. }
        | Fault::SlowNode { node, .. }
        | Fault::FailPrimary { node } => Some(node),
        _ => None,
    }
}

/// Seconds to whole ticks.
pub(crate) fn ticks(seconds: f64, hz: u32) -> u64 {
    (seconds * f64::from(hz)).round().max(0.0) as u64
}

fn component_of<'a>(lv: &'a Level, n: &Node) -> &'a crate::level::Component {
    lv.component(&n.component)
        .unwrap_or_else(|| unreachable!("nodes are built from the level's components"))
}

fn check_itype(comp: &crate::level::Component, t: &str) -> Result<(), Refusal> {
    if comp.instance_types.iter().any(|x| x == t) {
        Ok(())
    } else {
        Err(Refusal::new(
            "bad_instance_type",
            format!(
                "`{}` runs on {}, not `{t}`",
                comp.name,
                comp.instance_types.join(", ")
            ),
        ))
    }
}

fn check_instances(comp: &crate::level::Component, n: u32) -> Result<(), Refusal> {
    if (1..=comp.max_instances).contains(&n) {
        Ok(())
    } else {
        Err(Refusal::new(
            "bad_instances",
            format!(
                "`{}` runs between 1 and {} instances, not {n}",
                comp.name, comp.max_instances
            ),
        ))
    }
}

fn check_node_config(kind: Kind, c: &NodeConfig) -> Result<(), Refusal> {
    c.check()
        .map_err(|(f, p)| Refusal::new("bad_config", format!("{f}: {p}")))?;
    let for_kinds = |set: bool, field: &str, kinds: &[Kind], what: &str| {
        if set && !kinds.contains(&kind) {
            Err(Refusal::new(
                "bad_config",
                format!("{field} applies to {what}, not to a {kind:?} node"),
            ))
        } else {
            Ok(())
        }
    };
    use Kind::*;
    for_kinds(
        c.lb_policy.is_some() || c.health_check_s.is_some() || c.unhealthy_after.is_some(),
        "load balancing",
        &[LoadBalancer],
        "load balancers",
    )?;
    for_kinds(
        c.ttl_s.is_some()
            || c.ttl_mode.is_some()
            || c.ttl_jitter.is_some()
            || c.coalesce.is_some()
            || c.early_refresh.is_some(),
        "cache settings",
        &[Cache, Cdn],
        "caches and CDNs",
    )?;
    for_kinds(
        c.pops.is_some() || c.origin_shield.is_some(),
        "pops",
        &[Cdn],
        "CDNs",
    )?;
    for_kinds(
        c.replicas.is_some()
            || c.read_from_replicas.is_some()
            || c.shards.is_some()
            || c.auto_failover.is_some()
            || c.detect_s.is_some()
            || c.promote_s.is_some(),
        "replication settings",
        &[Database],
        "databases",
    )?;
    for_kinds(
        c.max_depth.is_some() || c.max_receives.is_some(),
        "queue settings",
        &[Queue],
        "message queues",
    )?;
    for_kinds(
        c.autoscale.is_some(),
        "autoscale",
        &[Service, Cache, LoadBalancer],
        "services",
    )?;
    for_kinds(
        c.rate_limit_rps.is_some() || c.per_client_rps.is_some() || c.rate_limit_burst.is_some(),
        "rate limits",
        &[RateLimiter, LoadBalancer, Service],
        "rate limiters, load balancers and services",
    )?;
    for_kinds(kind == Client, "settings", &[], "the users")?;
    Ok(())
}

fn check_edge_config(lv: &Level, c: &EdgeConfig) -> Result<(), Refusal> {
    c.check()
        .map_err(|(f, p)| Refusal::new("bad_config", format!("{f}: {p}")))?;
    if let Some(cs) = &c.classes {
        if let Some(bad) = cs.iter().find(|k| lv.class_index(k).is_none()) {
            return Err(Refusal::new(
                "bad_config",
                format!("classes: this level has no class `{bad}`"),
            ));
        }
        if cs.is_empty() {
            return Err(Refusal::new(
                "bad_config",
                "classes: an edge must carry at least one class",
            ));
        }
    }
    Ok(())
}

/// Cost per hour of an architecture at its configured instance counts.
pub fn arch_cost(lv: &Level, a: &Architecture) -> f64 {
    a.nodes
        .iter()
        .map(|n| {
            let price = lv
                .instance_type(&n.instance_type)
                .map_or(0.0, |t| t.price_per_hour);
            price * f64::from(billed_units(n))
        })
        .sum()
}

/// How many instances a node bills for at its configured size.
pub(crate) fn billed_units(n: &Node) -> u32 {
    match n.kind {
        Kind::Client => 0,
        Kind::Database => (1 + n.config.replicas.unwrap_or(0)) * n.config.shards.unwrap_or(1),
        Kind::Cdn => n.config.pops.unwrap_or(4),
        _ => n.instances,
    }
}

fn describe_action(a: &Action) -> String {
    match a {
        Action::AddNode { id, component, .. } => format!("added {id} ({component})"),
        Action::RemoveNode { id } => format!("removed {id}"),
        Action::Connect { from, to, .. } => format!("connected {from} → {to}"),
        Action::Disconnect { from, to } => format!("disconnected {from} → {to}"),
        Action::ConfigureNode { id, .. } => format!("configured {id}"),
        Action::ConfigureEdge { from, to, .. } => format!("configured {from} → {to}"),
        Action::Resize { id, instance_type } => {
            format!("resizing {id} to {instance_type} (rolling restart)")
        }
        Action::Scale { id, instances } => format!("scaling {id} to {instances} instances"),
        Action::FailOver { id } => format!("failing over {id}"),
        Action::Drain { id, drain: true } => format!("draining {id}"),
        Action::Drain { id, drain: false } => format!("returning {id} to rotation"),
    }
}
