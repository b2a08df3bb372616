//! Turning a tick's state into what people see: metrics, alerts that say what is wrong and where,
//! and the running score.
//! Invariant: observation reads the world and never changes how it evolves (except ending a run
//! that stayed in outage, which the rules define).

use crate::level::{Kind, Level, Origin};
use crate::report::{EdgeMetrics, NodeMetrics, RunResult, ScoreParts, SystemMetrics};
use crate::world::{BreakerState, World, billed_units};

/// Running totals for the score.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScoreBook {
    ticks: u64,
    compliant: u64,
    offered: f64,
    goodput: f64,
    cost: f64,
    worst_p99: f64,
    outage_run: u64,
    ended_in_outage: bool,
}

impl ScoreBook {
    fn record(&mut self, lv: &Level, s: &SystemMetrics) {
        let o = &lv.objectives;
        self.ticks += 1;
        self.offered += s.offered;
        self.goodput += s.goodput;
        self.cost += s.cost_per_hour;
        if s.goodput > 0.0 {
            self.worst_p99 = self.worst_p99.max(s.p99_ms);
        }
        let ok_latency = s.goodput <= 0.0 || s.p99_ms <= o.p99_ms;
        if ok_latency && s.error_rate <= o.error_rate {
            self.compliant += 1;
        }
        if s.offered > 0.0 && s.error_rate > o.outage_error_rate {
            self.outage_run += 1;
        } else {
            self.outage_run = 0;
        }
    }

    fn progress(&self) -> crate::report::Progress {
        crate::report::Progress {
            slo_compliance: if self.ticks > 0 {
                self.compliant as f64 / self.ticks as f64
            } else {
                1.0
            },
            availability: if self.offered > 0.0 {
                self.goodput / self.offered
            } else {
                1.0
            },
        }
    }

    fn in_outage_too_long(&self, lv: &Level) -> bool {
        self.outage_run as f64 >= lv.objectives.outage_s * f64::from(lv.tick_hz)
    }

    /// The judged result after `ticks` ticks; `time_up` is false when the run ended in outage.
    pub(crate) fn result(&self, lv: &Level, ticks: u64, time_up: bool) -> RunResult {
        let o = &lv.objectives;
        let survived = time_up && !self.ended_in_outage;
        let n = self.ticks.max(1) as f64;
        let compliance = self.compliant as f64 / n;
        let availability = if self.offered > 0.0 {
            self.goodput / self.offered
        } else {
            1.0
        };
        let avg_cost = self.cost / n;
        // Availability scores from a floor five times the allowed unavailability below the target.
        let floor = 1.0 - 5.0 * (1.0 - o.min_availability).max(1e-4);
        let avail_part = ((availability - floor) / (1.0 - floor)).clamp(0.0, 1.0);
        let cost_part = if avg_cost > 0.0 {
            (lv.par_cost_per_hour / avg_cost).min(1.0)
        } else {
            1.0
        };
        let survival = (ticks as f64 / lv.total_ticks().max(1) as f64).min(1.0);
        let s = &lv.scoring;
        let wsum = (s.slo + s.availability + s.cost).max(1e-9);
        let score =
            1000.0 * (s.slo * compliance + s.availability * avail_part + s.cost * cost_part) / wsum
                * survival;
        let failure = if !survived {
            Some(format!(
                "outage: error rate above {:.0}% for {}s",
                o.outage_error_rate * 100.0,
                o.outage_s
            ))
        } else if compliance < o.min_compliance {
            Some(format!(
                "SLO met {:.1}% of the time; {:.0}% needed",
                compliance * 100.0,
                o.min_compliance * 100.0
            ))
        } else if availability < o.min_availability {
            Some(format!(
                "availability {:.3}%; {:.2}% needed",
                availability * 100.0,
                o.min_availability * 100.0
            ))
        } else if avg_cost > lv.budget_per_hour + 1e-9 {
            Some(format!(
                "cost ${avg_cost:.2}/h over the ${:.2}/h budget",
                lv.budget_per_hour
            ))
        } else {
            None
        };
        let passed = failure.is_none();
        let stars = if passed {
            s.stars.iter().filter(|&&t| score >= t).count() as u8
        } else {
            0
        };
        RunResult {
            score: (score * 10.0).round() / 10.0,
            stars,
            passed,
            failure,
            ticks,
            survived,
            slo_compliance: compliance,
            availability,
            avg_cost_per_hour: avg_cost,
            worst_p99_ms: self.worst_p99,
            parts: ScoreParts {
                slo: compliance,
                availability: avail_part,
                cost: cost_part,
                survival,
            },
        }
    }
}

impl World {
    /// Fills this tick's metrics, alerts and score.
    pub(crate) fn observe(&mut self) {
        if self.detailed {
            self.node_metrics();
            self.system_metrics();
            self.edge_metrics();
            self.report_ids_stale = false;
            self.raise_alerts();
        } else {
            self.system_metrics();
        }
        self.score.record(&self.level, &self.report.system);
        if self.score.in_outage_too_long(&self.level) {
            self.score.ended_in_outage = true;
            self.ended = Some(self.score.result(&self.level, self.tick + 1, false));
            let msg = self.end_message();
            self.push_event("end", None, msg);
        }
    }

    pub(crate) fn end_message(&self) -> String {
        match &self.ended {
            Some(r) if r.passed => format!(
                "run complete: passed with {} star(s), score {:.0}",
                r.stars, r.score
            ),
            Some(r) => format!(
                "run over: failed ({}), score {:.0}",
                r.failure.as_deref().unwrap_or("objectives not met"),
                r.score
            ),
            None => String::new(),
        }
    }

    pub(crate) fn push_event(&mut self, kind: &str, node: Option<&str>, message: String) {
        self.pending.push(crate::report::Event {
            kind: kind.to_owned(),
            node: node.map(str::to_owned),
            message,
        });
    }

    // Out of line: called once a tick, and a profile then shows its cost apart.
    #[inline(never)]
    fn system_metrics(&mut self) {
        let lv = &self.level;
        let client = self.arch.nodes.iter().position(|n| n.kind == Kind::Client);
        let mut s = SystemMetrics {
            errors: self.causes,
            ..SystemMetrics::default()
        };
        let mut mix = crate::dist::Mix::empty();
        let mut cap: f64 = 0.0;
        if let Some(c) = client {
            for &e in &self.outs[c] {
                cap = cap.max(self.edge_timeout(e));
                s.attempts += self.edges[e].sent.iter().sum::<f64>();
            }
            for (k, class) in lv.classes.iter().enumerate() {
                let r = &self.nodes[c].resp[k];
                let offered = self.ext[k];
                match class.origin {
                    Origin::User => {
                        s.offered += offered;
                        s.goodput += offered * r.ok;
                        mix.add_scaled(&r.mix, offered * r.ok);
                    }
                    Origin::Bot => {
                        s.bot_offered += offered;
                        s.bot_served += offered * r.ok;
                    }
                }
            }
        }
        s.error_rate = if s.offered > 0.0 {
            (1.0 - s.goodput / s.offered).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let weight = mix.weight();
        if weight > 0.0 && cap > 0.0 {
            let mix = mix.scaled(1.0 / weight);
            mix.quantiles(&[0.5, 0.95, 0.99], cap, &mut self.p_guess);
            s.p50_ms = self.p_guess[0] * 1000.0;
            s.p95_ms = self.p_guess[1] * 1000.0;
            s.p99_ms = self.p_guess[2] * 1000.0;
        }
        // Serving, booting and restarting instances bill; crashed ones do not. With detail on,
        // `node_metrics` has just priced every node; bare reports price them here.
        s.cost_per_hour = if self.detailed {
            self.report.nodes.iter().map(|n| n.cost_per_hour).sum()
        } else {
            (0..self.nodes.len()).map(|i| self.node_cost(i)).sum()
        };
        self.report.tick = self.tick;
        self.report.t = (self.tick + 1) as f64 * self.dt;
        self.report.system = s;
    }

    // Out of line: called once a tick, and a profile then shows its cost apart.
    #[inline(never)]
    fn node_metrics(&mut self) {
        let lv = &*self.level;
        let ncls = lv.classes.len();
        self.report
            .nodes
            .resize_with(self.nodes.len(), NodeMetrics::default);
        for i in 0..self.nodes.len() {
            let n = &self.arch.nodes[i];
            let rt = &self.nodes[i];
            let itype = &lv.instance_types[rt.itype];
            // One pass over the classes for every per-class sum. Each sum adds the same terms in
            // the same order, from -0.0 like `Iterator::sum`, so the results are bit-identical
            // to separate sums; the slices (`ncls` long) are taken once so the loop has no bounds checks.
            let arr_k = &*rt.arr;
            let proc_k = &*rt.proc;
            let resp_k = &*rt.resp;
            let fast_fail_k = &*rt.fast_fail;
            let (mut arr, mut served, mut failed, mut dropped, mut cpu_work) =
                (-0.0, -0.0, -0.0, -0.0, -0.0);
            for k in 0..ncls {
                let a = arr_k[k];
                arr += a;
                served += proc_k[k];
                failed += a * (1.0 - resp_k[k].ok);
                dropped += a * fast_fail_k[k];
                cpu_work +=
                    proc_k[k] * self.cost(rt.comp, k).cpu_ms / 1000.0 / itype.speed * rt.slow;
            }
            let latency = if arr > 0.0 {
                let mut sum = -0.0;
                for k in 0..ncls {
                    sum += arr_k[k] * resp_k[k].mix.mean();
                }
                sum / arr
            } else {
                rt.resp.first().map_or(0.0, |r| r.mix.mean())
            };
            let cores = itype.vcpus
                * f64::from(rt.up.max(1))
                * match n.kind {
                    Kind::Database => {
                        f64::from(1 + rt.db.as_ref().map_or(0, |d| d.replicas_up))
                            * f64::from(n.config.shards.unwrap_or(1))
                    }
                    _ => 1.0,
                };
            let db = rt.db.as_ref();
            let state = if n.kind == Kind::Client {
                "ok"
            } else if db.is_some_and(|d| !d.primary_up) {
                if db.is_some_and(|d| d.detect_at.is_some() || d.promote_at.is_some()) {
                    "failing_over"
                } else {
                    "down"
                }
            } else if rt.up == 0 && n.kind != Kind::Database && n.kind != Kind::Cdn {
                if rt.booting.is_empty() {
                    "down"
                } else {
                    "booting"
                }
            } else if rt.rho >= 0.98 {
                "saturated"
            } else if rt.undetected > 0 || rt.down > 0 || (arr > 0.0 && failed / arr > 0.05) {
                "degraded"
            } else {
                "ok"
            };
            let cost_per_hour = self.node_cost(i);
            let m = &mut self.report.nodes[i];
            m.cost_per_hour = cost_per_hour;
            if self.report_ids_stale {
                m.id.clone_from(&n.id);
            }
            set_str(&mut m.state, state);
            m.up = if n.kind == Kind::Database {
                db.map_or(0, |d| u32::from(d.primary_up) + d.replicas_up)
            } else {
                rt.up
            };
            m.booting = rt.booting.len() as u32 + u32::from(rt.rolling > 0);
            m.utilization = rt.rho.min(1.0);
            m.cpu = if n.kind == Kind::Client {
                0.0
            } else {
                (cpu_work / cores).min(1.0)
            };
            m.queue = rt.lq;
            m.in_rps = arr;
            m.served_rps = served;
            m.dropped_rps = dropped;
            m.latency_ms = latency * 1000.0;
            m.wait_ms = rt.wait * 1000.0;
            m.error_rate = if arr > 0.0 {
                (failed / arr).clamp(0.0, 1.0)
            } else {
                0.0
            };
            m.hit_ratio = rt.cache.as_ref().map(|c| {
                let (mut h, mut w) = (0.0, 0.0);
                for k in 0..ncls {
                    let cacheable = if n.kind == Kind::Cdn {
                        lv.classes[k].cdn_cacheable
                    } else {
                        lv.classes[k].op == crate::level::Op::Read
                    };
                    if cacheable {
                        h += rt.arr[k] * c.hit[k];
                        w += rt.arr[k];
                    }
                }
                if w > 0.0 { h / w } else { 0.0 }
            });
            m.replication_lag_s = db.filter(|d| d.replicas_up > 0).map(|d| d.lag_s);
            m.pool_use = rt.rho.min(1.0);
            m.backlog = rt.queue.as_ref().map(|q| q.backlog);
            m.dead_letters = rt.queue.as_ref().map(|q| q.dead);
        }
    }

    /// What node `i` bills per hour now: serving, booting and restarting instances.
    fn node_cost(&self, i: usize) -> f64 {
        let (n, rt) = (&self.arch.nodes[i], &self.nodes[i]);
        let units = match n.kind {
            Kind::Database | Kind::Cdn | Kind::Client => billed_units(n),
            _ => rt.up + rt.booting.len() as u32 + u32::from(rt.rolling > 0),
        };
        self.level.instance_types[rt.itype].price_per_hour * f64::from(units)
    }

    // Out of line: called once a tick, and a profile then shows its cost apart.
    #[inline(never)]
    fn edge_metrics(&mut self) {
        let ncls = self.level.classes.len();
        self.report
            .edges
            .resize_with(self.edges.len(), EdgeMetrics::default);
        for (j, e) in self.edges.iter().enumerate() {
            let a = &self.arch.edges[j];
            // Every per-class sum in one pass, each adding the same terms in the same order as
            // `Iterator::sum` (from -0.0): bit-identical, without bounds checks. The failure sum
            // is only used when there were attempts.
            debug_assert!(e.base.len() == ncls && e.due.len() == ncls);
            let (base, due, fail) = (&*e.base, &*e.due, &*e.fail);
            let (mut base_sum, mut due_sum, mut fail_sum) = (-0.0, -0.0, -0.0);
            for k in 0..ncls {
                base_sum += base[k];
                due_sum += due[k];
                fail_sum += (base[k] + due[k]) * fail[k];
            }
            let attempts: f64 = base_sum + due_sum;
            let fail = if attempts > 0.0 {
                fail_sum / attempts
            } else {
                0.0
            };
            let m = &mut self.report.edges[j];
            if self.report_ids_stale {
                m.from.clone_from(&a.from);
                m.to.clone_from(&a.to);
            }
            m.attempts_rps = attempts;
            m.retries_rps = e.retries_rps;
            m.failure = fail;
            let breaker = match (a.config.breaker.is_some(), e.breaker) {
                (false, _) => "none",
                (true, BreakerState::Closed) => "closed",
                (true, BreakerState::Open) => "open",
                (true, BreakerState::HalfOpen) => "half_open",
            };
            set_str(&mut m.breaker, breaker);
        }
    }

    /// How the run is going so far.
    pub fn progress(&self) -> crate::report::Progress {
        self.score.progress()
    }
}

/// Overwrites a metrics string in place: the report is reused every tick, so this allocates
/// only when the text grows.
fn set_str(dst: &mut String, src: &str) {
    if dst != src {
        dst.clear();
        dst.push_str(src);
    }
}
