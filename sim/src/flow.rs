//! One tick of flow: arrivals, a forward pass in topological order (admission, queues, routing,
//! retries released) and a reverse pass (latency mixtures, failure probabilities, retries
//! scheduled, breakers), as SIMULATION.md §1.3 lays out.
//! Invariant: the forward pass reads downstream state only from the previous tick (the Little's
//! law coupling); the reverse pass reads only this tick's, so each tick is one causal step.

// Per-class loops index several parallel per-class arrays at once; iterators would obscure that.
#![allow(clippy::needless_range_loop)]

use crate::arch::{LbPolicy, TtlMode};
use crate::dist::Mix;
use crate::level::{Kind, MAX_CLASSES, Op, Origin};
use crate::math;
use crate::report::{ErrorCauses, TickReport};
use crate::world::{BreakerState, ClassCost, RETRY_RING, Resp, World, ticks};

/// Default timeout of an edge that sets none, s.
const DEFAULT_TIMEOUT_S: f64 = 1.0;
/// Time to learn of a fast failure (refused connection, 503, open breaker), s.
const FAST_FAIL_S: f64 = 0.001;
/// Time constant of the request rate caches' hit ratios follow, s.
const RATE_SMOOTHING_S: f64 = 1.0;
/// Share of their capacity pull-based queue consumers use.
const CONSUMER_HEADROOM: f64 = 0.95;
/// Probe calls a half-open breaker lets through in its probing tick.
const HALF_OPEN_PROBES: f64 = 10.0;
/// Weight, relative to first tries, below which a retry generation's successes are left out of
/// the latency mixture (still counted as successes): at most a 1e-6 shift of any CDF value.
/// Dropped, not absorbed as `dist` absorbs its negligible parts: merging a path a timeout and a
/// backoff away would widen the first tries' spread.
const RARE_RETRY: f64 = 1e-6;

impl World {
    /// Simulates one tick and returns its report. After the run has ended it returns the last
    /// report unchanged.
    pub fn step(&mut self) -> &TickReport {
        if self.ended.is_some() {
            return &self.report;
        }
        self.report.events.clear();
        self.report.alerts.clear();
        self.causes = ErrorCauses::default();
        self.run_faults();
        self.run_timers();
        self.arrivals();
        self.forward();
        self.reverse();
        self.observe();
        self.tick += 1;
        let total = self.level.total_ticks();
        if self.ended.is_none() && self.tick >= total {
            self.finish();
            let msg = self.end_message();
            self.push_event("end", None, msg);
        }
        self.report.events.append(&mut self.pending);
        &self.report
    }

    fn arrivals(&mut self) {
        let t = self.tick as f64 * self.dt;
        let base = self.offered_rate(t) * self.spike;
        let noise = self.level.traffic.noise;
        for k in 0..self.level.classes.len() {
            let c = &self.level.classes[k];
            let mean = match c.origin {
                Origin::User => base * c.share,
                Origin::Bot => self.bot_rps[k],
            };
            // Poisson counts per tick, by their normal approximation, from the room's seeded RNG.
            self.ext[k] = if noise && mean > 0.0 {
                (mean + (mean / self.dt).sqrt() * self.rng.normal()).max(0.0)
            } else {
                mean
            };
        }
    }

    /// The traffic script's user rate at time `t`, before spikes injected as faults.
    pub(crate) fn offered_rate(&self, t: f64) -> f64 {
        let tr = &self.level.traffic;
        let pts = &tr.points;
        let mut rate = pts[pts.len() - 1].1;
        for w in pts.windows(2) {
            if t < w[1].0 {
                let (t0, r0) = w[0];
                let (t1, r1) = w[1];
                rate = if t <= t0 || t1 <= t0 {
                    r0
                } else {
                    r0 + (r1 - r0) * (t - t0) / (t1 - t0)
                };
                break;
            }
        }
        if t < pts[0].0 {
            rate = pts[0].1;
        }
        for s in &tr.spikes {
            if t >= s.at_s && t < s.at_s + s.for_s {
                rate *= s.multiplier;
            }
        }
        if let Some(d) = tr.diurnal {
            rate *= 1.0 + d.amplitude * math::sin(2.0 * std::f64::consts::PI * t / d.period_s);
        }
        rate
    }

    fn forward(&mut self) {
        let ca2 = self.level.traffic.ca2;
        for e in &mut self.edges {
            e.base.fill(0.0);
            e.sent.fill(0.0);
        }
        for n in &mut self.nodes {
            n.ca2_in = ca2;
        }
        for oi in 0..self.order.len() {
            let i = self.order[oi];
            let ncls = self.level.classes.len();
            for k in 0..ncls {
                self.nodes[i].arr[k] = if self.arch.nodes[i].kind == Kind::Client {
                    self.ext[k]
                } else {
                    self.ins[i].iter().map(|&e| self.edges[e].sent[k]).sum()
                };
            }
            self.process(i);
            self.route(i);
            for j in 0..self.outs[i].len() {
                let e = self.outs[i][j];
                self.send(e);
            }
        }
    }

    /// Admission, liveness and the node's own queue: fills `proc`, `fast_fail` and `hop`.
    fn process(&mut self, i: usize) {
        // Borrowed field by field, not cloned: this runs for every node every tick.
        let lv = &*self.level;
        let ncls = lv.classes.len();
        let dt = self.dt;
        let kind = self.arch.nodes[i].kind;
        let cfg = &self.arch.nodes[i].config;
        let comp_ix = self.nodes[i].comp;
        let comp = &lv.components[comp_ix];
        let costs = &*self.costs;
        let itype = &lv.instance_types[self.nodes[i].itype];
        let mut adm = [0.0f64; MAX_CLASSES];
        let mut rejected = 0.0;
        let n = &mut self.nodes[i];
        for k in 0..ncls {
            let mut a = n.arr[k];
            if let Some(pc) = cfg.per_client_rps {
                a = a.min(lv.classes[k].clients * pc);
            }
            adm[k] = a;
        }
        if let Some(r) = cfg.rate_limit_rps {
            // Token bucket, refill then consume (SIMULATION.md §2.10).
            let burst = cfg.rate_limit_burst.unwrap_or(r);
            n.tokens = (n.tokens + r * dt).min(burst);
            let total: f64 = adm[..ncls].iter().sum();
            let allowed = total.min(n.tokens / dt);
            n.tokens -= allowed * dt;
            let scale = if total > 0.0 { allowed / total } else { 1.0 };
            for a in &mut adm[..ncls] {
                *a *= scale;
            }
        }
        for k in 0..ncls {
            rejected += n.arr[k] - adm[k];
            n.fast_fail[k] = 0.0;
            n.proc[k] = 0.0;
        }
        self.causes.rate_limited += rejected;
        if kind == Kind::Client {
            n.proc.copy_from_slice(&adm[..ncls]);
            n.hop.fill(Mix::zero());
            return;
        }
        if kind == Kind::Database {
            self.process_database(i, &adm[..ncls]);
            return;
        }
        let tau_in = self.incoming_timeout(i);
        let n = &mut self.nodes[i];
        let in_rotation = n.up + n.undetected;
        let is_cache = matches!(kind, Kind::Cache | Kind::Cdn);
        // A look-aside cache that is down is a miss, not an error: the caller falls through.
        let dead_frac = if in_rotation == 0 {
            1.0
        } else {
            f64::from(n.undetected) / f64::from(in_rotation)
        };
        let c = comp
            .concurrency
            .unwrap_or_else(|| (itype.vcpus * comp.threads_per_vcpu).round().max(1.0) as u32);
        let holds = matches!(
            kind,
            Kind::Service | Kind::LoadBalancer | Kind::RateLimiter | Kind::Cdn
        );
        let mut lam = 0.0;
        let (mut sum_h, mut sum_h2, mut mean_h_all) = (0.0, 0.0, 0.0);
        let mut svc = [0.0f64; MAX_CLASSES];
        let mut cs2s = [0.0f64; MAX_CLASSES];
        for k in 0..ncls {
            let ClassCost { ms, cs2, .. } = costs[comp_ix * ncls + k];
            svc[k] = ms / 1000.0 / itype.speed * n.slow;
            cs2s[k] = cs2;
            let h = svc[k] + if holds { n.down_mean[k] } else { 0.0 };
            let v = cs2 * svc[k] * svc[k] + if holds { n.down_var[k] } else { 0.0 };
            let l = adm[k] * (1.0 - dead_frac);
            lam += l;
            sum_h += l * h;
            sum_h2 += l * (v + h * h);
            mean_h_all += h / ncls as f64;
        }
        let h_bar = if lam > 0.0 {
            sum_h / lam
        } else {
            mean_h_all.max(1e-6)
        };
        let cs2 = if lam > 0.0 {
            (sum_h2 / lam / (h_bar * h_bar) - 1.0).max(0.0)
        } else {
            1.0
        };
        let up = n.up;
        if up == 0 {
            n.hop.fill(Mix::zero());
            n.rho = 0.0;
            n.lq = 0.0;
            n.wait = 0.0;
            n.capacity_rps = 0.0;
            for k in 0..ncls {
                if is_cache {
                    n.proc[k] = adm[k];
                } else {
                    n.fast_fail[k] = if n.arr[k] > 0.0 { 1.0 } else { 0.0 };
                }
            }
            if !is_cache {
                self.causes.down += adm[..ncls].iter().sum::<f64>();
            }
            self.finish_fast_fail(i, &adm[..ncls]);
            return;
        }
        let mut max_in = f64::from(c) + f64::from(cfg.queue_limit.unwrap_or(10_000));
        if cfg.shed_expired.unwrap_or(false) {
            // Deadline propagation: work older than the caller's timeout is dropped at dequeue,
            // which bounds the queue at about cμτ (SIMULATION.md §2.7).
            max_in = max_in.min(f64::from(c) + f64::from(c) / h_bar * tau_in);
        }
        let ca2 = n.ca2_in;
        let st = &mut n.stations[0];
        st.set_servers(c);
        let out = st.step(lam / f64::from(up), h_bar, ca2, cs2, max_in, dt);
        n.rho = out.rho;
        n.lq = out.lq * f64::from(up);
        n.wait = out.wait_mean;
        n.capacity_rps = f64::from(up) * f64::from(c) / h_bar;
        let served = out.served * f64::from(up);
        let drop_frac = if lam > 0.0 {
            (out.dropped * f64::from(up) / lam).min(1.0)
        } else {
            0.0
        };
        self.causes.overload += drop_frac * lam;
        for k in 0..ncls {
            let alive = adm[k] * (1.0 - dead_frac);
            n.proc[k] = if lam > 0.0 { served * alive / lam } else { 0.0 };
            n.hop[k] = Mix::point(
                out.wait_mean + svc[k],
                out.wait_var + cs2s[k] * svc[k] * svc[k],
            );
            if is_cache {
                // Dead cache instances answer nothing: their share falls through as misses.
                n.proc[k] += adm[k] * dead_frac;
                n.fast_fail[k] = drop_frac * alive / n.arr[k].max(1e-12);
            } else {
                n.fast_fail[k] = (adm[k] * dead_frac + alive * drop_frac) / n.arr[k].max(1e-12);
            }
        }
        if !is_cache {
            self.causes.down += adm[..ncls].iter().sum::<f64>() * dead_frac;
        }
        self.finish_fast_fail(i, &adm[..ncls]);
    }

    /// Adds rate-limit refusals to each class's fast-failure fraction.
    fn finish_fast_fail(&mut self, i: usize, adm: &[f64]) {
        let n = &mut self.nodes[i];
        for (k, a) in adm.iter().enumerate() {
            if n.arr[k] > 0.0 {
                n.fast_fail[k] = ((n.arr[k] - a) / n.arr[k] + n.fast_fail[k]).min(1.0);
            }
        }
    }

    fn incoming_timeout(&self, i: usize) -> f64 {
        self.ins[i]
            .iter()
            .map(|&e| self.edge_timeout(e))
            .fold(f64::INFINITY, f64::min)
            .min(3600.0)
    }

    pub(crate) fn edge_timeout(&self, e: usize) -> f64 {
        let cfg = &self.arch.edges[e].config;
        cfg.timeout_ms.map_or_else(
            || {
                if self.arch.nodes[self.edges[e].from].kind == Kind::Client {
                    self.level.traffic.user_timeout_ms / 1000.0
                } else {
                    DEFAULT_TIMEOUT_S
                }
            },
            |ms| ms / 1000.0,
        )
    }

    /// Database: primary and replicas, a hot shard and the typical ones, replication lag.
    fn process_database(&mut self, i: usize, adm: &[f64]) {
        let lv = &*self.level;
        let ncls = lv.classes.len();
        let dt = self.dt;
        let cfg = &self.arch.nodes[i].config;
        let comp_ix = self.nodes[i].comp;
        let comp = &lv.components[comp_ix];
        let costs = &*self.costs;
        let itype = &lv.instance_types[self.nodes[i].itype];
        let shards = f64::from(cfg.shards.unwrap_or(1));
        let q1 = self.top_key_share();
        let n = &mut self.nodes[i];
        let Some(db) = n.db.as_mut() else { return };
        // The hottest shard holds the hottest key plus its fair share of the rest (§2.15).
        let hot = if shards > 1.0 {
            q1 + (1.0 - q1) / shards
        } else {
            1.0
        };
        let typical = if shards > 1.0 {
            (1.0 - hot) / (shards - 1.0)
        } else {
            0.0
        };
        let replicas = f64::from(db.replicas_up);
        let use_replicas = cfg.read_from_replicas.unwrap_or(false) && db.replicas_up > 0;
        let c = comp
            .concurrency
            .unwrap_or_else(|| (itype.vcpus * comp.threads_per_vcpu).round().max(1.0) as u32);
        // Station loads: 0 primary (typical shard), 1 primary (hot shard), 2/3 one replica of each.
        let mut lam = [0.0f64; 4];
        let mut work = [0.0f64; 4];
        let mut work2 = [0.0f64; 4];
        let mut svc = [0.0f64; MAX_CLASSES];
        let mut cs2s = [0.0f64; MAX_CLASSES];
        let mut writes = 0.0;
        let mut down = 0.0;
        for k in 0..ncls {
            let ClassCost { ms, cs2, .. } = costs[comp_ix * ncls + k];
            svc[k] = ms / 1000.0 / itype.speed * n.slow;
            cs2s[k] = cs2;
            let is_write = lv.classes[k].op == Op::Write;
            let to_replica = !is_write && use_replicas;
            let alive = if to_replica || db.primary_up {
                adm[k]
            } else {
                0.0
            };
            down += adm[k] - alive;
            n.fast_fail[k] = if n.arr[k] > 0.0 {
                (adm[k] - alive) / n.arr[k]
            } else {
                0.0
            };
            if is_write {
                writes += alive;
            }
            let (s_typ, s_hot) = if to_replica { (2, 3) } else { (0, 1) };
            let per = if to_replica { replicas } else { 1.0 };
            let sh = &mut db.shares[k];
            *sh = [0.0; 4];
            if shards > 1.0 {
                sh[s_typ] = 1.0 - hot;
                sh[s_hot] = hot;
                lam[s_typ] += alive * typical / per;
                lam[s_hot] += alive * hot / per;
            } else {
                sh[s_typ] = 1.0;
                lam[s_typ] += alive / per;
            }
            // Per-copy load: one typical shard (of S−1) and the hot one, each spread over replicas.
            let per_copy = if shards > 1.0 {
                [(s_typ, typical), (s_hot, hot)]
            } else {
                [(s_typ, 1.0), (s_hot, 0.0)]
            };
            for (s, share) in per_copy {
                let l = alive * share / per;
                work[s] += l * svc[k];
                work2[s] += l * (cs2 + 1.0) * svc[k] * svc[k];
            }
        }
        self.causes.down += down;
        let mut outs = [crate::queueing::StationTick::default(); 4];
        let mut rho_max: f64 = 0.0;
        let mut lq = 0.0;
        let (mut wait_sum, mut served_sum) = (0.0, 0.0);
        let mut dropped = 0.0;
        let max_in = f64::from(c) + f64::from(cfg.queue_limit.unwrap_or(10_000));
        let ca2 = n.ca2_in;
        for s in 0..4 {
            let st = &mut n.stations[s];
            if lam[s] <= 0.0 && st.in_system() <= 0.0 {
                // An unused station (no replicas, no hot shard) stays empty: its tick is zeros.
                outs[s] = crate::queueing::StationTick::default();
                continue;
            }
            st.set_servers(c);
            let h = if lam[s] > 0.0 {
                work[s] / lam[s]
            } else {
                svc[0].max(1e-6)
            };
            let cs2 = if lam[s] > 0.0 {
                (work2[s] / lam[s] / (h * h) - 1.0).max(0.0)
            } else {
                1.0
            };
            outs[s] = st.step(lam[s], h, ca2, cs2, max_in, dt);
            let copies = match s {
                0 => (shards - 1.0).max(if shards > 1.0 { 0.0 } else { 1.0 }),
                1 => f64::from(u8::from(shards > 1.0)),
                2 => (shards - 1.0).max(if shards > 1.0 { 0.0 } else { 1.0 }) * replicas,
                _ => f64::from(u8::from(shards > 1.0)) * replicas,
            };
            if lam[s] > 0.0 {
                rho_max = rho_max.max(outs[s].rho);
            }
            lq += outs[s].lq * copies;
            wait_sum += outs[s].served * copies * outs[s].wait_mean;
            served_sum += outs[s].served * copies;
            dropped += outs[s].dropped * copies;
        }
        n.rho = rho_max;
        n.lq = lq;
        n.wait = if served_sum > 0.0 {
            wait_sum / served_sum
        } else {
            0.0
        };
        n.capacity_rps = f64::from(c) / svc[0].max(1e-6);
        self.causes.overload += dropped;
        for k in 0..ncls {
            let sh = db.shares[k];
            let alive = n.arr[k] * (1.0 - n.fast_fail[k]);
            let mut mix = Mix::empty();
            let mut drop_frac = 0.0;
            let mut served_frac = 0.0;
            for s in 0..4 {
                if sh[s] <= 0.0 {
                    continue;
                }
                let o = outs[s];
                let df = if lam[s] > 0.0 {
                    (o.dropped / lam[s]).min(1.0)
                } else {
                    0.0
                };
                drop_frac += sh[s] * df;
                served_frac += sh[s]
                    * if lam[s] > 0.0 {
                        (o.served / lam[s]).min(10.0)
                    } else {
                        0.0
                    };
                mix.push(crate::dist::Comp {
                    w: sh[s],
                    m: o.wait_mean + svc[k],
                    v: o.wait_var + cs2s[k] * svc[k] * svc[k],
                });
            }
            n.hop[k] = mix.normalized();
            n.proc[k] = alive * served_frac;
            if n.arr[k] > 0.0 {
                n.fast_fail[k] = (n.fast_fail[k] + alive * drop_frac / n.arr[k]).min(1.0);
            }
        }
        // Replication of the hottest shard: a single-threaded apply at `replica_apply_rps` (§2.16).
        let w = writes * hot;
        let mu_r = comp.replica_apply_rps.unwrap_or(f64::INFINITY) * itype.speed;
        db.written += w * dt;
        db.backlog = if db.replicas_up > 0 {
            (db.backlog + (w - mu_r) * dt).max(0.0)
        } else {
            0.0
        };
        db.applied = db.written - db.backlog;
        let len = db.history.len();
        db.history[(self.tick as usize) % len] = db.written;
        db.lag_s = replication_lag(&db.history, self.tick, db.applied, dt);
    }

    /// Share of reads on the single hottest key (for the hot shard).
    fn top_key_share(&self) -> f64 {
        self.hot_share.unwrap_or(self.zipf_top)
    }

    /// Splits a node's processed requests over its outgoing edges.
    fn route(&mut self, i: usize) {
        let ncls = self.level.classes.len();
        let kind = self.arch.nodes[i].kind;
        match kind {
            Kind::Client | Kind::RateLimiter => {
                for k in 0..ncls {
                    let p = self.nodes[i].proc[k];
                    self.split_evenly(i, k, p);
                }
            }
            Kind::Service => {
                for j in 0..self.outs[i].len() {
                    let e = self.outs[i][j];
                    for k in 0..ncls {
                        if self.edges[e].carries[k] {
                            self.edges[e].base[k] = self.nodes[i].proc[k];
                        }
                    }
                }
            }
            Kind::LoadBalancer => self.route_lb(i),
            Kind::Cache | Kind::Cdn => {
                self.update_hit_ratios(i);
                for k in 0..ncls {
                    let cache = self.nodes[i].cache.as_ref();
                    let miss = cache.map_or(1.0, |c| c.miss_load[k]);
                    let p = self.nodes[i].proc[k] * miss;
                    self.split_evenly(i, k, p);
                }
            }
            Kind::Queue => self.route_queue(i),
            Kind::Database => {}
        }
    }

    fn split_evenly(&mut self, i: usize, k: usize, rate: f64) {
        let ncls = self.level.classes.len();
        let carriers = &self.carriers[i * ncls + k];
        let share = rate / carriers.len() as f64;
        for &e in carriers {
            self.edges[e].base[k] = share;
        }
    }

    fn route_lb(&mut self, i: usize) {
        let ncls = self.level.classes.len();
        let policy = self.arch.nodes[i]
            .config
            .lb_policy
            .unwrap_or(LbPolicy::RoundRobin);
        // Per target: instances in rotation (what blind policies count) and capacity (what
        // queue-aware ones follow). Drained and fully dead targets get nothing.
        let mut outs_buf = [0usize; 128];
        let outs = &mut outs_buf[..self.outs[i].len()];
        outs.copy_from_slice(&self.outs[i]);
        let outs = &*outs;
        let mut count = [0.0f64; 128];
        let mut capacity = [0.0f64; 128];
        let mut instances = 0u32;
        for (j, &e) in outs.iter().enumerate() {
            let t = self.edges[e].to;
            let rt = &self.nodes[t];
            let rotation = rt.up + rt.undetected;
            if self.arch.nodes[t].drained || rotation == 0 {
                continue;
            }
            instances += rotation;
            count[j] = f64::from(rotation);
            capacity[j] = if rt.capacity_rps > 0.0 {
                rt.capacity_rps
            } else {
                count[j]
            };
        }
        let (sum_n, sum_c) = (count.iter().sum::<f64>(), capacity.iter().sum::<f64>());
        let mut weights = [0.0f64; 128];
        for j in 0..outs.len() {
            if count[j] == 0.0 {
                continue;
            }
            let (by_count, by_capacity) = (count[j] / sum_n, capacity[j] / sum_c);
            weights[j] = match policy {
                LbPolicy::RoundRobin | LbPolicy::Random => by_count,
                LbPolicy::LeastConnections => by_capacity,
                // Two random choices sit between blind and fully informed.
                LbPolicy::PowerOfTwo => 0.5 * (by_count + by_capacity),
            };
        }
        // Round robin turns a Poisson stream into Erlang-n arrivals at each instance (§2.4);
        // join-the-shortest-queue policies do at least as well.
        let ca2_factor = match policy {
            LbPolicy::Random => 1.0,
            LbPolicy::PowerOfTwo => 0.5,
            LbPolicy::RoundRobin | LbPolicy::LeastConnections => 1.0 / f64::from(instances.max(1)),
        };
        let ca2_in = self.nodes[i].ca2_in;
        for k in 0..ncls {
            let total: f64 = outs
                .iter()
                .enumerate()
                .filter(|(_, e)| self.edges[**e].carries[k])
                .map(|(j, _)| weights[j])
                .sum();
            let p = self.nodes[i].proc[k];
            if total <= 0.0 {
                // No healthy target: the load balancer answers 503 at once.
                self.nodes[i].fast_fail[k] = 1.0;
                self.causes.down += p;
                continue;
            }
            for (j, &e) in outs.iter().enumerate() {
                if self.edges[e].carries[k] {
                    self.edges[e].base[k] = p * weights[j] / total;
                }
            }
        }
        for &e in outs {
            let t = self.edges[e].to;
            self.nodes[t].ca2_in = (ca2_in * ca2_factor).max(0.05);
        }
    }

    fn update_hit_ratios(&mut self, i: usize) {
        let fetch_time = self.fetch_time(i);
        let lv = &*self.level;
        let ncls = lv.classes.len();
        let dt = self.dt;
        let now = self.tick;
        let kind = self.arch.nodes[i].kind;
        let cfg = &self.arch.nodes[i].config;
        let itype = &lv.instance_types[self.nodes[i].itype];
        let up = self.nodes[i].up;
        let n = &mut self.nodes[i];
        let Some(c) = n.cache.as_mut() else { return };
        let reads: f64 = (0..ncls)
            .filter(|&k| lv.classes[k].op == Op::Read)
            .map(|k| n.arr[k])
            .sum();
        // Only writes to the keys this cache holds invalidate it (a write class with its own key
        // space, such as creating new short links, never touches cached entries).
        let writes: f64 = (0..ncls)
            .filter(|&k| lv.classes[k].op == Op::Write && lv.classes[k].keys.is_none())
            .map(|k| n.arr[k])
            .sum();
        let cap = f64::from(up) * itype.memory_gb * 1.0e6 / lv.keys.item_kb;
        if (cap - c.capacity).abs() > 0.5 || c.dirty {
            c.capacity = cap;
            c.tc = c.pop.che_tc(cap);
            c.steady_rate.fill(-1.0);
            c.dirty = false;
        }
        if c.cohort_at.is_some_and(|at| at <= now) {
            // Entries loaded together after a flush, with one fixed TTL, expire together.
            c.warm_n = Some(0.0);
            c.cohort_at = cfg.ttl_s.map(|t| now + ticks(t, lv.tick_hz).max(1));
        }
        if cfg.early_refresh.unwrap_or(false) {
            c.stampede = None;
        }
        let ttl = cfg.ttl_s;
        let mode = if cfg.early_refresh.unwrap_or(false) {
            TtlMode::Sliding
        } else {
            cfg.ttl_mode.unwrap_or(TtlMode::Fixed)
        };
        let pops = f64::from(cfg.pops.unwrap_or(4));
        // Reads of this tick count at its midpoint, so the curve does not lag a tick behind.
        let warm = c.warm_n.map(|w| {
            let n = w + 0.5 * reads * dt;
            c.pop
                .hit_within(if kind == Kind::Cdn { n / pops } else { n })
        });
        let stampede_share = c.stampede.map_or(0.0, |(count, _)| c.pop.top_share(count));
        let coalesce = cfg.coalesce.unwrap_or(false);
        // Warm-up only progresses (and ends) while the cache is up and being read.
        let mut warm_done = warm.is_some() && up > 0;
        for k in 0..ncls {
            let class = &lv.classes[k];
            let cacheable = if kind == Kind::Cdn {
                class.cdn_cacheable
            } else {
                class.op == Op::Read
            };
            if !cacheable || up == 0 {
                c.hit[k] = 0.0;
                c.miss_load[k] = 1.0;
                c.miss_latency[k] = 1.0;
                continue;
            }
            let raw = if kind == Kind::Cdn { n.arr[k] } else { reads };
            let alpha = (dt / RATE_SMOOTHING_S).min(1.0);
            let prev = c.smooth_rate[k];
            let rate = if prev < 0.0 {
                raw
            } else {
                prev + alpha * (raw - prev)
            };
            c.smooth_rate[k] = rate;
            if (rate - c.steady_rate[k]).abs() > 0.02 * c.steady_rate[k].max(1e-9) {
                c.steady_rate[k] = rate;
                c.steady[k] = if kind == Kind::Cdn {
                    c.pop.hit_cdn(
                        rate,
                        ttl.unwrap_or(300.0),
                        pops,
                        cfg.origin_shield.unwrap_or(false),
                    )
                } else {
                    let lru = c.pop.hit_within(c.tc);
                    let with_ttl = match (ttl, mode) {
                        (None, _) => lru,
                        (Some(t), TtlMode::Fixed) => lru.min(c.pop.hit_ttl_fixed(rate, t)),
                        (Some(t), TtlMode::Sliding) => lru.min(c.pop.hit_ttl_sliding(rate, t)),
                    };
                    // Invalidate on write: a read hits only if the last event on its key was a read.
                    with_ttl
                        * if reads + writes > 0.0 {
                            reads / (reads + writes)
                        } else {
                            1.0
                        }
                };
            }
            let steady = c.steady[k];
            let h = match warm {
                Some(w) if w < steady => {
                    warm_done = false;
                    w * if kind == Kind::Cdn || reads + writes <= 0.0 {
                        1.0
                    } else {
                        reads / (reads + writes)
                    }
                }
                _ => steady,
            };
            let extra = stampede_share * h;
            c.hit[k] = h - extra;
            c.miss_latency[k] = 1.0 - h + extra;
            // Without single-flight, every request for an expired hot key goes to the origin.
            c.miss_load[k] = if coalesce { 1.0 - h } else { 1.0 - h + extra };
        }
        if let Some(w) = c.warm_n.as_mut() {
            *w += reads * dt;
        }
        if warm_done {
            c.warm_n = None;
        }
        if let Some((count, elapsed)) = c.stampede {
            let elapsed = elapsed + dt;
            // The window closes when the first refill returns; a failing origin keeps it open.
            let closes = fetch_time.is_some_and(|f| elapsed >= f) || elapsed > 600.0;
            c.stampede = if closes { None } else { Some((count, elapsed)) };
        }
    }

    /// How long a refill takes right now (the origin's response time), if refills succeed.
    fn fetch_time(&self, i: usize) -> Option<f64> {
        let ncls = self.level.classes.len();
        let outs = &self.outs[i];
        if outs.is_empty() {
            return None;
        }
        let (mut sum, mut ok, mut n) = (0.0, 0.0, 0.0);
        for &e in outs {
            for k in 0..ncls {
                if self.level.classes[k].op == Op::Read && self.edges[e].carries[k] {
                    sum += self.edges[e].resp[k].held;
                    ok += self.edges[e].resp[k].ok;
                    n += 1.0;
                }
            }
        }
        (n > 0.0 && ok / n >= 0.5).then(|| sum / n)
    }

    fn route_queue(&mut self, i: usize) {
        let ncls = self.level.classes.len();
        let dt = self.dt;
        let max_depth = self.arch.nodes[i].config.max_depth.unwrap_or(1.0e6);
        let capacity: f64 = self.outs[i]
            .iter()
            .map(|&e| self.nodes[self.edges[e].to].capacity_rps)
            .sum();
        let n = &mut self.nodes[i];
        let Some(q) = n.queue.as_mut() else { return };
        let incoming: f64 = n.proc.iter().sum();
        let room = ((max_depth - q.backlog) / dt).max(0.0);
        let accept = if incoming > 0.0 {
            (room / incoming).min(1.0)
        } else {
            1.0
        };
        let before = q.backlog;
        for k in 0..ncls {
            let acc = n.proc[k] * accept;
            if n.arr[k] > 0.0 {
                n.fast_fail[k] = (n.fast_fail[k] + (n.proc[k] - acc) / n.arr[k]).min(1.0);
            }
            q.mix[k] = q.mix[k] * before + acc * dt;
        }
        self.causes.overload += incoming * (1.0 - accept);
        q.backlog += incoming * accept * dt;
        let total: f64 = q.mix.iter().sum();
        for m in &mut q.mix {
            *m = if total > 0.0 { *m / total } else { 0.0 };
        }
        // Consumers pull: they take work only while they have a free thread, so they keep some
        // headroom instead of building a second queue behind the first one.
        let drain = (q.backlog / dt).min(capacity * CONSUMER_HEADROOM);
        q.backlog -= drain * dt;
        q.drained = drain;
        for k in 0..ncls {
            let share = self.nodes[i].queue.as_ref().map_or(0.0, |q| q.mix[k]);
            self.split_evenly(i, k, drain * share);
        }
    }

    /// Adds due retries to an edge's first attempts, applies the retry budget, the breaker,
    /// partitions and the connection pool, and sets what reaches the callee.
    fn send(&mut self, e: usize) {
        let ncls = self.level.classes.len();
        let now = self.tick;
        let dt = self.dt;
        let cut = {
            let (a, b) = (
                &self.arch.nodes[self.edges[e].from].region,
                &self.arch.nodes[self.edges[e].to].region,
            );
            self.partitions
                .iter()
                .any(|(x, y)| (x == a && y == b) || (x == b && y == a))
        };
        let budget = self.arch.edges[e].config.retry_budget;
        let pool = self.arch.edges[e].config.pool;
        // Only edges with a connection pool need the callee's holding time.
        let held_child: f64 = if pool.is_some() {
            let r = &self.nodes[self.edges[e].to].resp;
            r.iter().map(|x| x.held).sum::<f64>() / ncls as f64
        } else {
            0.0
        };
        let caller_up = f64::from(self.nodes[self.edges[e].from].up.max(1));
        let ed = &mut self.edges[e];
        ed.cut = cut;
        let gens = ed.gens;
        let slot = ed.ring_pos;
        let mut due_total = 0.0;
        for k in 0..ncls {
            ed.by_gen[k] = ed.base[k];
        }
        for g in 0..gens {
            for k in 0..ncls {
                let idx = (slot * gens + g) * ncls + k;
                let due = ed.ring[idx];
                ed.ring[idx] = 0.0;
                ed.by_gen[(g + 1) * ncls + k] = due;
                due_total += due;
            }
        }
        if gens > 0 {
            ed.ring_pos = (slot + 1) % RETRY_RING;
        }
        let base_total: f64 = ed.base.iter().sum();
        ed.budget_ratio = match budget {
            Some(b) if due_total > b * base_total => (b * base_total / due_total).max(0.0),
            _ => 1.0,
        };
        let ratio = ed.budget_ratio;
        for v in &mut ed.by_gen[ncls..] {
            *v *= ratio;
        }
        ed.retries_rps = due_total * ratio;
        if ed.breaker == BreakerState::Open && now >= ed.open_until {
            ed.breaker = BreakerState::HalfOpen;
        }
        let mut sent_total = 0.0;
        for k in 0..ncls {
            let attempts: f64 = (0..=gens).map(|g| ed.by_gen[g * ncls + k]).sum();
            ed.due[k] = attempts - ed.base[k];
            ed.sent[k] = match ed.breaker {
                _ if cut => 0.0,
                BreakerState::Open => 0.0,
                BreakerState::HalfOpen => {
                    attempts * (HALF_OPEN_PROBES / (attempts * dt).max(HALF_OPEN_PROBES))
                }
                BreakerState::Closed => attempts,
            };
            sent_total += ed.sent[k];
        }
        if let (Some(p), Some(st)) = (pool, ed.pool.as_mut()) {
            // A connection is held for the callee's whole response: an M/M/P queue (§2.8).
            st.set_servers((f64::from(p) * caller_up) as u32);
            let out = st.step(
                sent_total,
                held_child.max(1e-6),
                1.0,
                1.0,
                f64::INFINITY,
                dt,
            );
            ed.pool_wait = (out.wait_mean, out.wait_var);
        }
    }

    fn reverse(&mut self) {
        for oi in (0..self.order.len()).rev() {
            let i = self.order[oi];
            for j in 0..self.outs[i].len() {
                let e = self.outs[i][j];
                self.edge_response(e);
            }
            self.node_response(i);
        }
    }

    fn edge_response(&mut self, e: usize) {
        let ncls = self.level.classes.len();
        let dt = self.dt;
        let now = self.tick;
        let tau = self.edge_timeout(e);
        let cfg = &self.arch.edges[e].config;
        let to = self.edges[e].to;
        let backoff = cfg.backoff_ms.unwrap_or(100.0) / 1000.0;
        let jitter = cfg.jitter.unwrap_or(false);
        let breaker = cfg.breaker;
        let ed = &mut self.edges[e];
        let gens = ed.gens;
        let (mut calls, mut fails) = (0.0, 0.0);
        for k in 0..ncls {
            if !ed.carries[k] {
                continue;
            }
            let attempts: f64 = (0..=gens).map(|g| ed.by_gen[g * ncls + k]).sum();
            // The callee's response is read in place, not copied whole.
            let (r_ok, r_fail_time) = (self.nodes[to].resp[k].ok, self.nodes[to].resp[k].fail_time);
            let (f, fail_time, mix) = if ed.cut {
                self.causes.partition += attempts;
                (1.0, tau, Mix::zero())
            } else if ed.breaker == BreakerState::Open {
                self.causes.breaker_open += attempts;
                (1.0, FAST_FAIL_S, Mix::zero())
            } else {
                let (shift_m, shift_v) = (ed.rtt + ed.pool_wait.0, ed.pool_wait.1);
                let mix = self.nodes[to].resp[k].mix.shifted(shift_m, shift_v);
                let tail =
                    self.nodes[to].tail_memo[k].get_or(shift_m, shift_v, tau, || mix.tail(tau));
                let late = r_ok * tail;
                let f = ((1.0 - r_ok) + late).clamp(0.0, 1.0);
                let ft = if f > 0.0 {
                    ((1.0 - r_ok) * (r_fail_time + ed.rtt) + late * tau) / f
                } else {
                    0.0
                };
                let sent = ed.sent[k];
                self.causes.timeout += sent * late;
                if ed.breaker == BreakerState::HalfOpen {
                    // The unprobed part of a half-open tick fails fast.
                    self.causes.breaker_open += attempts - sent;
                }
                (f, ft, mix)
            };
            let f_eff = if ed.breaker == BreakerState::HalfOpen && attempts > 0.0 {
                1.0 - (1.0 - f) * ed.sent[k] / attempts
            } else {
                f
            };
            calls += ed.sent[k] * dt;
            fails += ed.sent[k] * f * dt;
            let q = f_eff * ed.budget_ratio;
            let mut ok = 0.0;
            let mut out = Mix::empty();
            let mut held = 0.0;
            let mut offset = 0.0;
            let mut reach = 1.0;
            let (mix_mean, mix_var) = mix.mean_var();
            let attempt_mean = (1.0 - f_eff) * mix_mean + f_eff * fail_time;
            if gens == 0 {
                // No retries: the caller sees exactly one attempt.
                ed.fail[k] = f_eff;
                ed.resp[k] = Resp {
                    ok: 1.0 - f_eff,
                    mix,
                    held: attempt_mean,
                    held_var: mix_var,
                    fail_time: attempt_mean,
                };
                continue;
            }
            // Whether any retry generation is worth a place in the mixture; if none is, the
            // successes are the first tries', whose mixture is the callee's, shifted.
            let retried = q >= RARE_RETRY;
            for g in 0..=gens {
                if g > 0 {
                    let b = backoff * 2f64.powi(g as i32 - 1) * if jitter { 0.5 } else { 1.0 };
                    offset += fail_time + b;
                    held += reach * b;
                }
                held += reach * attempt_mean;
                let w = reach * (1.0 - f_eff);
                ok += w;
                if !retried || (g > 0 && w < RARE_RETRY * (1.0 - f_eff)) {
                    // A retry path this rare cannot move a reported percentile; leaving it out
                    // of the mixture keeps the mixture small for every caller upstream.
                } else if g <= 2 {
                    out.add_shifted_scaled(&mix, offset, 0.0, w);
                } else {
                    out.push(crate::dist::Comp {
                        w,
                        m: mix_mean + offset,
                        v: mix_var,
                    });
                }
                reach *= q;
            }
            ed.fail[k] = f_eff;
            ed.resp[k] = Resp {
                ok: ok.min(1.0),
                mix: if retried { out.normalized() } else { mix },
                held,
                held_var: mix_var,
                fail_time: held,
            };
            // Retries by generation: the failures of generation g come back as g+1 after the
            // failure is known plus the backoff (spread over [0, backoff] with full jitter).
            for g in 0..gens {
                let failed = ed.by_gen[g * ncls + k] * f_eff;
                if failed <= 0.0 {
                    continue;
                }
                let b = backoff * 2f64.powi(g as i32);
                let first = ((fail_time / dt).ceil() as usize).max(1);
                let last = (((fail_time + b) / dt).round() as usize).max(first);
                let (lo, hi) = if jitter { (first, last) } else { (last, last) };
                let lo = lo.min(RETRY_RING - 1);
                let hi = hi.min(RETRY_RING - 1);
                let share = failed / (hi - lo + 1) as f64;
                for d in lo..=hi {
                    let slot = (ed.ring_pos + d - 1) % RETRY_RING;
                    ed.ring[(slot * gens + g) * ncls + k] += share;
                }
            }
        }
        if let Some(b) = breaker {
            let len = ed.window.len();
            let pos = ed.window_pos;
            let gone = std::mem::replace(&mut ed.window[pos], (calls, fails));
            ed.window_pos = (pos + 1) % len;
            // A running sum, summed afresh once per lap so rounding cannot build up.
            ed.window_sum = if ed.window_pos == 0 {
                ed.window
                    .iter()
                    .fold((0.0, 0.0), |a, w| (a.0 + w.0, a.1 + w.1))
            } else {
                (
                    ed.window_sum.0 - gone.0 + calls,
                    ed.window_sum.1 - gone.1 + fails,
                )
            };
            let (c, f) = ed.window_sum;
            let ed = &mut self.edges[e];
            let hz = self.level.tick_hz;
            // The breaker's transition, if any: (opened?, failure rate that tripped it).
            let change = match ed.breaker {
                BreakerState::Closed if c >= b.min_calls && c > 0.0 && f / c >= b.failure_rate => {
                    ed.breaker = BreakerState::Open;
                    ed.open_until = now + ticks(b.open_s, hz).max(1);
                    ed.window.fill((0.0, 0.0));
                    ed.window_sum = (0.0, 0.0);
                    Some(true)
                }
                BreakerState::HalfOpen => {
                    let probe_fail = if calls > 0.0 { fails / calls } else { 0.0 };
                    if probe_fail >= b.failure_rate {
                        ed.breaker = BreakerState::Open;
                        ed.open_until = now + ticks(b.open_s, hz).max(1);
                        None
                    } else {
                        ed.breaker = BreakerState::Closed;
                        ed.window.fill((0.0, 0.0));
                        ed.window_sum = (0.0, 0.0);
                        Some(false)
                    }
                }
                _ => None,
            };
            if let Some(opened) = change {
                let (from, to_id) = (&self.arch.edges[e].from, &self.arch.edges[e].to);
                let msg = if opened {
                    format!(
                        "breaker {from}→{to_id} opened: {:.0}% of calls failed; failing fast for {}s",
                        100.0 * f / c,
                        b.open_s
                    )
                } else {
                    format!("breaker {from}→{to_id} closed: probes succeeded")
                };
                let from = from.clone();
                self.push_event("breaker", Some(&from), msg);
            }
        }
    }

    fn node_response(&mut self, i: usize) {
        let ncls = self.level.classes.len();
        let kind = self.arch.nodes[i].kind;
        for k in 0..ncls {
            if !self.receives[i * ncls + k] {
                continue;
            }
            // Downstream part: (ok, success mixture, mean held, variance held).
            let (ok_d, mix_d, held_d, var_d) = match kind {
                Kind::Database | Kind::Queue => (1.0, Mix::zero(), 0.0, 0.0),
                Kind::Service => {
                    let mut ok = 1.0;
                    let mut mix = Mix::zero();
                    let (mut held, mut var) = (0.0, 0.0);
                    for e in self.carriers(i, k) {
                        let r = &self.edges[e].resp[k];
                        ok *= r.ok;
                        mix = mix.then(&r.mix);
                        held += r.held;
                        var += r.held_var;
                    }
                    (ok, mix, held, var)
                }
                Kind::Cache | Kind::Cdn => {
                    let miss = self.nodes[i]
                        .cache
                        .as_ref()
                        .map_or(1.0, |c| c.miss_latency[k]);
                    let (ok_m, mix_m, held_m, var_m) = self.mixture_over(i, k);
                    let ok_m = if self.carriers(i, k).next().is_none() {
                        0.0
                    } else {
                        ok_m
                    };
                    let ok = (1.0 - miss) + miss * ok_m;
                    // Hits take no time downstream; a cache that never hits has no such part.
                    let mut mix = Mix::empty();
                    mix.push(crate::dist::Comp {
                        w: 1.0 - miss,
                        m: 0.0,
                        v: 0.0,
                    });
                    mix.add_scaled(&mix_m, miss * ok_m);
                    let mix = mix.normalized();
                    (ok, mix, miss * held_m, miss * var_m)
                }
                Kind::Client | Kind::LoadBalancer | Kind::RateLimiter => {
                    if self.carriers(i, k).next().is_none() {
                        (0.0, Mix::zero(), 0.0, 0.0)
                    } else {
                        self.mixture_over(i, k)
                    }
                }
            };
            let n = &mut self.nodes[i];
            let ff = n.fast_fail[k].clamp(0.0, 1.0);
            let hop = n.hop[k];
            let ok = (1.0 - ff) * ok_d;
            let mix = hop.then(&mix_d);
            let (own, hop_var) = hop.mean_var();
            n.tail_memo[k].clear();
            n.resp[k] = Resp {
                ok,
                mix,
                held: (1.0 - ff) * (own + held_d) + ff * FAST_FAIL_S,
                held_var: hop_var + var_d,
                fail_time: if ok < 1.0 {
                    ((1.0 - ff) * (own + held_d) * (1.0 - ok_d) + ff * FAST_FAIL_S) / (1.0 - ok)
                } else {
                    0.0
                },
            };
            n.down_mean[k] = held_d;
            n.down_var[k] = var_d;
        }
        if kind == Kind::Queue {
            self.settle_queue(i);
        }
    }

    /// Node `i`'s out-edges that carry class `k`.
    fn carriers(&self, i: usize, k: usize) -> std::iter::Copied<std::slice::Iter<'_, usize>> {
        self.carriers[i * self.level.classes.len() + k]
            .iter()
            .copied()
    }

    /// A weighted mixture over node `i`'s edges that split class `k` (load balancers, caches'
    /// misses).
    fn mixture_over(&self, i: usize, k: usize) -> (f64, Mix, f64, f64) {
        let total: f64 = self.carriers(i, k).map(|e| self.edges[e].base[k]).sum();
        // Only an idle split weighs its edges evenly.
        let even = if total > 0.0 {
            0.0
        } else {
            1.0 / self.carriers(i, k).len().max(1) as f64
        };
        let weight = |e: usize| {
            if total > 0.0 {
                self.edges[e].base[k] / total
            } else {
                even
            }
        };
        if let &[e] = self.carriers[i * self.level.classes.len() + k].as_slice() {
            // One target: its response as it is (a cache's origin, a single backend).
            let r = &self.edges[e].resp[k];
            let mix = if r.ok > 0.0 { r.mix } else { Mix::zero() };
            return (r.ok, mix, r.held, r.held_var);
        }
        let (mut ok, mut held, mut var) = (0.0, 0.0, 0.0);
        for e in self.carriers(i, k) {
            let (w, r) = (weight(e), &self.edges[e].resp[k]);
            ok += w * r.ok;
            held += w * r.held;
            var += w * r.held_var;
        }
        if ok <= 0.0 {
            return (ok, Mix::zero(), held, var);
        }
        // Each target's successes weighted by its share of all successes: already normalized.
        let mut mix = Mix::empty();
        for e in self.carriers(i, k) {
            let (w, r) = (weight(e), &self.edges[e].resp[k]);
            mix.add_scaled(&r.mix, w * r.ok / ok);
        }
        (ok, mix, held, var)
    }

    /// Failed deliveries go back on the queue, or to the dead letters after `max_receives`.
    fn settle_queue(&mut self, i: usize) {
        let ncls = self.level.classes.len();
        let dt = self.dt;
        let receives = self.arch.nodes[i].config.max_receives.unwrap_or(5);
        let mut failed = 0.0;
        let mut f_avg = 0.0;
        let mut w = 0.0;
        for &e in &self.outs[i] {
            for k in 0..ncls {
                let sent = self.edges[e].base[k];
                failed += sent * self.edges[e].fail[k];
                f_avg += sent * self.edges[e].fail[k];
                w += sent;
            }
        }
        let f = if w > 0.0 { f_avg / w } else { 0.0 };
        let Some(q) = self.nodes[i].queue.as_mut() else {
            return;
        };
        // A message dies on its last receive: of the failures, f^(receives−1) were the last try.
        let to_dead = failed * f.powi(receives.saturating_sub(1) as i32);
        q.dead += to_dead * dt;
        q.backlog += (failed - to_dead) * dt;
    }
}

/// Seconds behind: now minus the commit time of the last write the replica applied (§2.16),
/// read off the ring of cumulative writes per tick.
fn replication_lag(history: &[f64], tick: u64, applied: f64, dt: f64) -> f64 {
    let len = history.len() as u64;
    let newest = history[(tick % len) as usize];
    if applied >= newest - 1e-9 {
        return 0.0;
    }
    let oldest_tick = tick.saturating_sub(len - 1);
    let mut back = tick;
    while back > oldest_tick && history[((back - 1) % len) as usize] > applied {
        back -= 1;
    }
    (tick - back + 1) as f64 * dt
}
