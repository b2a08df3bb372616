//! Alerts: threshold crossings with hysteresis, whose messages say what is wrong, where, and what
//! to try.
//! Invariant: conditions are evaluated every tick with plain comparisons; a key or message is
//! formatted only when an alert starts or stops firing (this runs on the tick path).

use crate::level::Kind;
use crate::report::{Alert, ErrorCauses, Severity};
use crate::world::{BreakerState, World};

/// A condition must hold this long before its alert fires, and be gone this long to resolve.
const FIRE_AFTER_S: f64 = 1.0;
const RESOLVE_AFTER_S: f64 = 3.0;

/// One alert's hysteresis state.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Hysteresis {
    firing: bool,
    /// Consecutive ticks the condition has disagreed with `firing` (held while not firing,
    /// clear while firing). One counter is enough: the tick that flips `firing` is one where
    /// the condition agrees with the new state, so the other direction's count starts at 0.
    run: u32,
}

impl Hysteresis {
    /// Feeds each alert its condition; returns a mask of those whose `firing` changed.
    fn update_all<const N: usize>(
        alerts: &mut [Hysteresis; N],
        on: [bool; N],
        fire: u32,
        resolve: u32,
    ) -> u32 {
        let mut flipped = 0u32;
        for (k, (h, on)) in alerts.iter_mut().zip(on).enumerate() {
            if h.update(on, fire, resolve) {
                flipped |= 1 << k;
            }
        }
        flipped
    }

    /// Feeds this tick's condition; returns whether `firing` changed.
    fn update(&mut self, on: bool, fire: u32, resolve: u32) -> bool {
        if on == self.firing {
            self.run = 0;
            return false;
        }
        self.run += 1;
        if self.run >= if on { fire } else { resolve } {
            self.firing = on;
            self.run = 0;
            true
        } else {
            false
        }
    }
}

/// Alerts about the whole system.
const SYSTEM: [&str; 3] = ["p99", "errors", "budget"];
/// Alerts about one node; their index is their slot in `NodeRt::alerts`.
pub(crate) const NODE: [&str; 7] = [
    "down",
    "saturated",
    "errors",
    "dead_in_rotation",
    "replication_lag",
    "cold",
    "backlog",
];
/// Alerts about one edge; their index is their slot in `EdgeRt::alerts`.
pub(crate) const EDGE: [&str; 2] = ["breaker", "retry_storm"];

/// System alert states.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertBook {
    system: [Hysteresis; 3],
}

impl World {
    /// Updates every alert from this tick's metrics and reports the ones that changed.
    // Out of line: called once a tick, and a profile then shows its cost apart.
    #[inline(never)]
    pub(crate) fn raise_alerts(&mut self) {
        let hz = f64::from(self.level.tick_hz);
        let fire = (FIRE_AFTER_S * hz).ceil().max(1.0) as u32;
        let resolve = (RESOLVE_AFTER_S * hz).ceil().max(1.0) as u32;
        let mut out = std::mem::take(&mut self.report.alerts);
        let obj = &self.level.objectives;
        let s = &self.report.system;
        let system_on = [
            s.goodput > 0.0 && s.p99_ms > obj.p99_ms,
            s.error_rate > obj.error_rate,
            s.cost_per_hour > self.level.budget_per_hour,
        ];
        for (k, on) in system_on.into_iter().enumerate() {
            if self.alerts.system[k].update(on, fire, resolve) {
                let firing = self.alerts.system[k].firing;
                let message = if firing {
                    self.system_message(k)
                } else {
                    format!("resolved: {}", SYSTEM[k])
                };
                out.push(Alert {
                    key: format!("system/{}", SYSTEM[k]),
                    node: None,
                    severity: if k == 2 {
                        Severity::Warning
                    } else {
                        Severity::Critical
                    },
                    firing,
                    message,
                });
            }
        }
        for i in 0..self.nodes.len() {
            if self.arch.nodes[i].kind == Kind::Client {
                continue;
            }
            let m = &self.report.nodes[i];
            let rt = &self.nodes[i];
            let age = rt.queue.as_ref().map_or(0.0, |q| {
                if q.drained > 0.0 {
                    q.backlog / q.drained
                } else {
                    q.backlog
                }
            });
            let on = [
                m.state == "down",
                m.utilization >= 0.9 && m.in_rps > 0.0,
                m.error_rate > 0.05 && m.in_rps > 0.0,
                rt.undetected > 0,
                m.replication_lag_s.is_some_and(|lag| lag > 5.0),
                rt.cache
                    .as_ref()
                    .is_some_and(|c| c.stampede.is_some() || c.warm_n.is_some())
                    && m.in_rps > 0.0,
                age > 30.0,
            ];
            // Conditions are plain comparisons; the hysteresis updates record which alerts
            // flipped, and only those format anything.
            let flipped = Hysteresis::update_all(&mut self.nodes[i].alerts, on, fire, resolve);
            if flipped != 0 {
                self.push_node_alerts(i, flipped, &mut out);
            }
        }
        for j in 0..self.edges.len() {
            let e = &self.edges[j];
            let m = &self.report.edges[j];
            let base: f64 = e.base.iter().sum();
            let on = [
                // The report's breaker reads "open" exactly then.
                e.breaker == BreakerState::Open && self.arch.edges[j].config.breaker.is_some(),
                base > 0.0 && m.retries_rps > 0.5 * base,
            ];
            let flipped = Hysteresis::update_all(&mut self.edges[j].alerts, on, fire, resolve);
            if flipped != 0 {
                self.push_edge_alerts(j, flipped, &mut out);
            }
        }
        self.report.alerts = out;
    }

    /// Reports the alerts of node `i` whose bit is set in `flipped` (they just started or stopped
    /// firing).
    fn push_node_alerts(&self, i: usize, flipped: u32, out: &mut Vec<Alert>) {
        let id = &self.arch.nodes[i].id;
        for k in (0..NODE.len()).filter(|k| flipped & (1 << k) != 0) {
            let firing = self.nodes[i].alerts[k].firing;
            let message = if firing {
                self.node_message(i, k)
            } else {
                format!("resolved: {id} {}", NODE[k].replace('_', " "))
            };
            out.push(Alert {
                key: format!("{id}/{}", NODE[k]),
                node: Some(id.clone()),
                severity: if matches!(k, 0 | 2 | 3) {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                firing,
                message,
            });
        }
    }

    /// Reports the alerts of edge `j` whose bit is set in `flipped`.
    fn push_edge_alerts(&self, j: usize, flipped: u32, out: &mut Vec<Alert>) {
        let e = &self.arch.edges[j];
        for k in (0..EDGE.len()).filter(|k| flipped & (1 << k) != 0) {
            let firing = self.edges[j].alerts[k].firing;
            let subject = format!("{}->{}", e.from, e.to);
            let message = if firing {
                self.edge_message(j, k)
            } else {
                format!("resolved: {subject} {}", EDGE[k].replace('_', " "))
            };
            out.push(Alert {
                key: format!("{subject}/{}", EDGE[k]),
                node: Some(subject),
                severity: if k == 1 {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                firing,
                message,
            });
        }
    }

    fn system_message(&self, k: usize) -> String {
        let s = &self.report.system;
        let obj = &self.level.objectives;
        match k {
            0 => format!(
                "p99 latency is {:.0} ms, over the {:.0} ms objective",
                s.p99_ms, obj.p99_ms
            ),
            1 => format!(
                "{:.1}% of requests fail (objective {:.1}%); most failures: {}",
                s.error_rate * 100.0,
                obj.error_rate * 100.0,
                worst_cause(&s.errors)
            ),
            _ => format!(
                "running cost ${:.2}/h is over the ${:.2}/h budget",
                s.cost_per_hour, self.level.budget_per_hour
            ),
        }
    }

    fn node_message(&self, i: usize, k: usize) -> String {
        let id = &self.arch.nodes[i].id;
        let m = &self.report.nodes[i];
        let rt = &self.nodes[i];
        match k {
            0 => format!("{id} has no healthy instance: requests to it fail"),
            1 if self.arch.nodes[i].kind == Kind::Service
                && m.cpu < 0.5 * m.utilization
                && !self.outs[i].is_empty() =>
            {
                format!(
                    "{id}: {:.0}% of threads busy but CPU only {:.0}%: it is waiting on a slow dependency. Add a timeout or a breaker on its calls, or fix what it calls",
                    m.utilization * 100.0,
                    m.cpu * 100.0
                )
            }
            1 => format!(
                "{id} is {:.0}% busy with {:.0} requests queued: latency climbs steeply now. Add instances or a larger type",
                m.utilization * 100.0,
                m.queue
            ),
            2 => format!("{id}: {:.0}% of its requests fail", m.error_rate * 100.0),
            3 => format!(
                "{id}: {} crashed instance(s) still get traffic until health checks notice",
                rt.undetected
            ),
            4 => format!(
                "{id}: replicas are {:.1} s behind the primary; reads there are stale and a failover now loses writes",
                m.replication_lag_s.unwrap_or(0.0)
            ),
            5 => format!(
                "{id} is cold (hit ratio {:.0}%): misses go to its origin",
                m.hit_ratio.unwrap_or(0.0) * 100.0
            ),
            _ => {
                let b = m.backlog.unwrap_or(0.0);
                format!("{id}: {b:.0} messages waiting: consumers are behind")
            }
        }
    }

    fn edge_message(&self, j: usize, k: usize) -> String {
        let e = &self.arch.edges[j];
        let m = &self.report.edges[j];
        match k {
            0 => format!(
                "breaker {} → {} is open: calls fail fast while {} recovers",
                e.from, e.to, e.to
            ),
            _ => {
                let base: f64 = self.edges[j].base.iter().sum();
                format!(
                    "{} → {}: retries are {:.0}% of first attempts: a retry storm. Add jitter, a retry budget or a breaker",
                    e.from,
                    e.to,
                    100.0 * m.retries_rps / base.max(1e-9)
                )
            }
        }
    }

    /// Keys of the alerts firing now.
    pub fn active_alerts(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for (k, h) in self.alerts.system.iter().enumerate() {
            if h.firing {
                keys.push(format!("system/{}", SYSTEM[k]));
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            for (k, h) in n.alerts.iter().enumerate() {
                if h.firing {
                    keys.push(format!("{}/{}", self.arch.nodes[i].id, NODE[k]));
                }
            }
        }
        for (j, e) in self.edges.iter().enumerate() {
            for (k, h) in e.alerts.iter().enumerate() {
                if h.firing {
                    let a = &self.arch.edges[j];
                    keys.push(format!("{}->{}/{}", a.from, a.to, EDGE[k]));
                }
            }
        }
        keys
    }
}

fn worst_cause(c: &ErrorCauses) -> &'static str {
    let all = [
        (c.timeout, "timeouts"),
        (c.overload, "queues full (overload)"),
        (c.down, "instances down"),
        (c.rate_limited, "rate limiting"),
        (c.breaker_open, "open breakers"),
        (c.partition, "a network partition"),
    ];
    all.iter()
        .fold(
            (0.0, "none"),
            |best, &(v, n)| if v > best.0 { (v, n) } else { best },
        )
        .1
}
