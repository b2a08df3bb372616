//! Analytic queueing: Erlang C (tabulated per server count) and one M/M/c (Allen–Cunneen) station
//! integrated in time by the pointwise-stationary fluid-flow approximation, backward Euler.
//! Invariant: a station's state `x` (mean number in system) never jumps to steady state: it moves
//! by at most what arrived minus what was served in the tick (SIMULATION.md §2.6).

use crate::math;

/// Erlang C, the probability that an arrival waits in M/M/c with offered load `a` Erlangs.
/// Computed through the stable Erlang B recursion (SIMULATION.md §2.3); 1 when `a ≥ c`.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let c_f = f64::from(c);
    if a <= 0.0 {
        return 0.0;
    }
    if a >= c_f {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / c_f;
    b / (1.0 - rho * (1.0 - b))
}

/// One server is exact (C = ρ); more use a table in the Halfin–Whitt variable β = (1−ρ)√c,
/// where C is smooth, instead of an O(c) recursion per evaluation (the solver evaluates it
/// several times per station per tick).
const EXACT_MAX_C: u32 = 1;
const TABLE_POINTS: usize = 96;
const TABLE_BETA_MAX: f64 = 6.0;

/// Above this many servers the table comes from the Halfin–Whitt limit instead of an O(c)
/// recursion per point (a load balancer with 10 000 connections would cost a million steps).
/// There C depends on β alone, and it is within 0.01 of the exact value (tested).
const HALFIN_WHITT_MIN_C: u32 = 1000;

/// Halfin–Whitt: C ≈ [1 + β·Φ(β)/φ(β)]⁻¹ (SIMULATION.md §2.3).
fn halfin_whitt(beta: f64) -> f64 {
    if beta <= 0.0 {
        return 1.0;
    }
    let phi = math::exp(-0.5 * beta * beta) / (2.0 * std::f64::consts::PI).sqrt();
    1.0 / (1.0 + beta * crate::dist::normal_cdf(beta) / phi)
}

/// Erlang C for one server count, fast to evaluate many times per tick.
#[derive(Debug, Clone)]
pub struct ErlangTable {
    c: u32,
    /// √c, which every lookup scales by.
    sqrt_c: f64,
    beta_max: f64,
    /// C(RHO_CAP)·RHO_CAP/(1 − RHO_CAP): L(RHO_CAP) = c·RHO_CAP + `m_cap`·af, every tick.
    m_cap: f64,
    /// The table and its segments; none for one server. Fixed-size arrays, so lookups need no
    /// bounds checks.
    table: Option<Box<Nodes>>,
}

/// C at evenly spaced β in [0, beta_max], with what the solver needs at each node and on each
/// segment between nodes. C is linear in β, hence in ρ, on a segment, so there L(ρ) + kρ =
/// target is a quadratic that `Station::solve_rho` solves in closed form.
#[derive(Debug, Clone)]
struct Nodes {
    /// C at node j (β = beta_max·j/95).
    c: [f64; TABLE_POINTS],
    /// ρ at node j, falling from 1 (j = 0) to 1 − beta_max/√c.
    rho: [f64; TABLE_POINTS],
    /// C·ρ/(1 − ρ) at node j (L = cρ + af·this); infinite at ρ = 1.
    m: [f64; TABLE_POINTS],
    /// On segment j (between nodes j and j + 1), C(ρ) = p + q·ρ.
    p: [f64; TABLE_POINTS],
    q: [f64; TABLE_POINTS],
}

impl ErlangTable {
    /// Builds the table for `c` servers (O(c · points) once; nothing for small `c`).
    pub fn new(c: u32) -> Self {
        let c = c.max(1);
        if c <= EXACT_MAX_C {
            return Self {
                c,
                sqrt_c: f64::from(c).sqrt(),
                beta_max: 0.0,
                m_cap: RHO_CAP * RHO_CAP / (1.0 - RHO_CAP),
                table: None,
            };
        }
        let sqrt_c = f64::from(c).sqrt();
        let beta_max = TABLE_BETA_MAX.min(sqrt_c);
        let mut nodes = Box::new(Nodes {
            c: [0.0; TABLE_POINTS],
            rho: [0.0; TABLE_POINTS],
            m: [0.0; TABLE_POINTS],
            p: [0.0; TABLE_POINTS],
            q: [0.0; TABLE_POINTS],
        });
        for i in 0..TABLE_POINTS {
            let beta = beta_max * i as f64 / (TABLE_POINTS - 1) as f64;
            let rho = 1.0 - beta / sqrt_c;
            let point = if c > HALFIN_WHITT_MIN_C {
                halfin_whitt(beta)
            } else {
                erlang_c(c, rho * f64::from(c))
            };
            nodes.c[i] = point;
            nodes.rho[i] = rho;
            nodes.m[i] = if i == 0 {
                f64::INFINITY
            } else {
                point * rho / (1.0 - rho)
            };
        }
        for i in 0..TABLE_POINTS - 1 {
            let q = (nodes.c[i] - nodes.c[i + 1]) / (nodes.rho[i] - nodes.rho[i + 1]);
            nodes.q[i] = q;
            nodes.p[i] = nodes.c[i] - q * nodes.rho[i];
        }
        let mut table = Self {
            c,
            sqrt_c,
            beta_max,
            m_cap: 0.0,
            table: Some(nodes),
        };
        table.m_cap = table.at(RHO_CAP) * RHO_CAP / (1.0 - RHO_CAP);
        table
    }

    /// Servers.
    pub fn servers(&self) -> u32 {
        self.c
    }

    /// C(c, cρ) for utilization `rho` in [0, 1].
    pub fn at(&self, rho: f64) -> f64 {
        if rho <= 0.0 {
            return 0.0;
        }
        if rho >= 1.0 {
            return 1.0;
        }
        let Some(nodes) = self.table.as_deref() else {
            // M/M/1: an arrival waits exactly when the server is busy.
            return rho;
        };
        let table = &nodes.c;
        let beta = (1.0 - rho) * self.sqrt_c;
        if beta >= self.beta_max {
            return if self.beta_max < TABLE_BETA_MAX {
                table[TABLE_POINTS - 1]
            } else {
                0.0
            };
        }
        let pos = beta / self.beta_max * (TABLE_POINTS - 1) as f64;
        // Through u32: the same index for every pos here ([0, 95]), with a cheaper conversion.
        let i = (pos as u32 as usize).min(TABLE_POINTS - 2);
        let f = pos - i as f64;
        table[i] * (1.0 - f) + table[i + 1] * f
    }
}

/// Highest utilization the stationary shape is used at; beyond it the backlog is fluid
/// (deterministic FIFO wait Q/(cμ)), which keeps the solver away from the pole at ρ = 1.
const RHO_CAP: f64 = 0.995;

/// What one station did in one tick (per instance).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StationTick {
    /// Utilization in [0, 1].
    pub rho: f64,
    /// Requests served per second.
    pub served: f64,
    /// Requests dropped per second (queue bound or expired work shed).
    pub dropped: f64,
    /// Mean number waiting (not in service) at the end of the tick.
    pub lq: f64,
    /// Mean number in system at the end of the tick.
    pub l: f64,
    /// Mean wait before service, s.
    pub wait_mean: f64,
    /// Variance of the wait, s².
    pub wait_var: f64,
    /// Probability of waiting at all.
    pub p_wait: f64,
}

/// One queue: `c` servers, a fluid mean number in system, Allen–Cunneen for non-Poisson traffic.
#[derive(Debug, Clone)]
pub struct Station {
    table: ErlangTable,
    x: f64,
    /// The table segment last tick's utilization lay on: where the solver looks first.
    seg: usize,
}

impl Station {
    /// An empty station with `c` servers.
    pub fn new(c: u32) -> Self {
        Self {
            table: ErlangTable::new(c),
            x: 0.0,
            seg: TABLE_POINTS - 1,
        }
    }

    /// Servers.
    pub fn servers(&self) -> u32 {
        self.table.servers()
    }

    /// Changes the server count, keeping the work in the system.
    pub fn set_servers(&mut self, c: u32) {
        if c.max(1) != self.table.servers() {
            self.table = ErlangTable::new(c);
        }
    }

    /// Mean number in system now.
    pub fn in_system(&self) -> f64 {
        self.x
    }

    /// Empties the station (a crash loses what was queued).
    pub fn clear(&mut self) {
        self.x = 0.0;
        self.seg = TABLE_POINTS - 1;
    }

    /// Advances one tick of `dt` seconds: arrivals `lambda`/s, mean service time `s` seconds,
    /// SCVs `ca2`, `cs2`, at most `max_in_system` requests held (the rest dropped).
    pub fn step(
        &mut self,
        lambda: f64,
        s: f64,
        ca2: f64,
        cs2: f64,
        max_in_system: f64,
        dt: f64,
    ) -> StationTick {
        let c = f64::from(self.table.servers());
        let mu = if s > 0.0 { 1.0 / s } else { f64::INFINITY };
        let af = ((ca2 + cs2) / 2.0).max(0.05);
        let target = self.x + lambda.max(0.0) * dt;
        if !mu.is_finite() || target <= 1e-12 {
            self.x = 0.0;
            return StationTick {
                served: lambda.max(0.0),
                ..StationTick::default()
            };
        }
        let k = c * mu * dt;
        let l_cap = c * RHO_CAP + self.table.m_cap * af;
        // Backward Euler: x' + cμΔt·G(x') = x + λΔt, solved for ρ' = G(x') since L(ρ) is monotone.
        // Past the stationary range the backlog is fluid and every server is busy.
        let (mut rho, mut x_new) = if target >= l_cap + k * RHO_CAP {
            (1.0, target - k)
        } else {
            self.solve_rho(target, c, c + k, af)
        };
        let mut dropped = 0.0;
        if x_new > max_in_system {
            // A full bounded queue keeps its servers busy; what does not fit is dropped.
            let busy = c.min(max_in_system);
            rho = busy / c;
            x_new = max_in_system;
            dropped = ((target - busy * mu * dt - x_new) / dt).max(0.0);
        }
        let served = c * mu * rho;
        self.x = x_new.max(0.0);
        let lq = (self.x - c * rho).max(0.0);
        // Wait, by Little's law Wq = Lq/served. Only the part of the queue that the current
        // arrivals sustain in steady state has the M/M/c shape (0 w.p. C, else exponential); a
        // backlog beyond it (overload, or draining after it) is a FIFO delay Q/(cμ) with the
        // small spread of Q exponential services, Q/(cμ)² (SIMULATION.md §2.7).
        let rho_a = lambda.max(0.0) / (c * mu);
        let (lq_stat, p_wait) = if rho_a < 1.0 {
            let r = rho_a.min(RHO_CAP);
            let p = self.table.at(r);
            (lq.min(p * r / (1.0 - r) * af), p)
        } else {
            (0.0, 1.0)
        };
        let backlog = lq - lq_stat;
        let (wait_stat, wait_backlog) = if served > 0.0 {
            (lq_stat / served, backlog / served)
        } else {
            (0.0, 0.0)
        };
        let stat_var = if p_wait > 0.0 {
            wait_stat * wait_stat * (2.0 / p_wait - 1.0)
        } else {
            0.0
        };
        let wait_var = stat_var + backlog / (c * mu * c * mu);
        StationTick {
            rho,
            served,
            dropped,
            lq,
            l: self.x,
            wait_mean: wait_stat + wait_backlog,
            wait_var,
            p_wait: if backlog > 1e-9 { 1.0 } else { p_wait },
        }
    }

    /// Solves L(ρ) + kρ = target for ρ in (0, RHO_CAP) and returns (ρ, L(ρ)); `ck` is c + k.
    /// The caller has checked that the root lies below RHO_CAP (and target > 0 puts it above 0).
    ///
    /// L(ρ) = cρ + C(ρ)·ρ/(1−ρ)·af with C piecewise linear in ρ (the table interpolates linearly
    /// in β = (1−ρ)√c; one server has C = ρ exactly). On the segment holding the root, with
    /// C = p + qρ, multiplying by (1 − ρ) > 0 gives the quadratic
    ///   (af·q − ck)·ρ² + (ck + af·p + target)·ρ − target = 0,
    /// whose root on the segment is taken in closed form: exact up to rounding (residual of a
    /// few ulps of target), tighter than the 1e-9·target the bracketing solver stopped at.
    /// The segment is found from the sign of the residual at the nodes, searching outward from
    /// last tick's segment.
    fn solve_rho(&mut self, target: f64, c: f64, ck: f64, af: f64) -> (f64, f64) {
        let Some(n) = self.table.table.as_deref() else {
            // M/M/1: C = ρ on the whole range.
            let r = quadratic_root(af - ck, ck + target, target).clamp(0.0, RHO_CAP);
            return (r, r + r * r / (1.0 - r) * af);
        };
        // Residual at node j; it falls with j (ρ falls), from +∞ at node 0.
        let g = |j: usize| ck * n.rho[j] + af * n.m[j] - target;
        // The segment i with g(i) ≥ 0 > g(i + 1); i = 95 is the tail below the last node, where
        // the table reads C = 0 (or ρ ≤ 0 when beta_max = √c).
        let last = TABLE_POINTS - 1;
        // Gallop from last tick's segment (the root moves a few segments a tick when the load is
        // noisy), then bisect what is left. Invariant: g(lo) ≥ 0 > g(hi), with hi = 96 standing
        // for "below the last node".
        let w = self.seg.min(last);
        let (mut lo, mut hi);
        let mut step = 1;
        if g(w) >= 0.0 {
            lo = w;
            loop {
                let j = lo + step;
                if j > last {
                    hi = TABLE_POINTS;
                    break;
                }
                if g(j) < 0.0 {
                    hi = j;
                    break;
                }
                lo = j;
                step *= 2;
            }
        } else {
            hi = w;
            loop {
                if step >= hi {
                    lo = 0;
                    break;
                }
                let j = hi - step;
                if g(j) >= 0.0 {
                    lo = j;
                    break;
                }
                hi = j;
                step *= 2;
            }
        }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if g(mid) >= 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let i = lo;
        self.seg = i;
        if i == last {
            let r = (target / ck).min(n.rho[last]);
            return (r, c * r);
        }
        let (p, q) = (n.p[i], n.q[i]);
        let r = quadratic_root(af * q - ck, ck + af * p + target, target)
            .clamp(n.rho[i + 1], n.rho[i])
            .min(RHO_CAP);
        (r, c * r + (p + q * r) * r / (1.0 - r) * af)
    }
}

/// The root of a·r² + b·r − t = 0 (t > 0) that the solver's bracket holds: the smallest positive
/// one, written to avoid cancellation (2t/(b + √D) for b ≥ 0; b < 0 implies a > 0).
fn quadratic_root(a: f64, b: f64, t: f64) -> f64 {
    let d = (b * b + 4.0 * a * t).max(0.0).sqrt();
    if b >= 0.0 {
        2.0 * t / (b + d)
    } else {
        (d - b) / (2.0 * a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_known_values() {
        // M/M/1: C = ρ.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // M/M/2 at a = 1: C = a²/(a² + 2·(2−a)·(1+a)/2·... ) = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn table_tracks_exact_erlang_c_for_many_servers() {
        for c in [2u32, 3, 4, 8, 16, 17, 40, 100, 500, 1001, 5000] {
            let t = ErlangTable::new(c);
            for i in 1..100 {
                let rho = f64::from(i) / 100.0;
                let exact = erlang_c(c, rho * f64::from(c));
                assert!(
                    (t.at(rho) - exact).abs() < 0.01,
                    "c={c} rho={rho}: {} vs {exact}",
                    t.at(rho)
                );
            }
        }
    }

    /// L(ρ) + kρ − target through the table lookup, as the model defines it.
    fn residual(t: &ErlangTable, rho: f64, k: f64, af: f64, target: f64) -> f64 {
        let c = f64::from(t.servers());
        c * rho + t.at(rho) * rho / (1.0 - rho) * af + k * rho - target
    }

    #[test]
    fn solver_finds_the_root_of_the_tabulated_model_to_rounding() {
        for c in [1u32, 2, 3, 8, 17, 36, 40, 100, 1001, 5000] {
            let mut st = Station::new(c);
            let cf = f64::from(c);
            for af in [0.05, 0.5, 1.0, 2.5, 8.0] {
                for k in [1e-3, 0.1, 1.0, 10.0, 1e3, 1e5] {
                    let l_cap = cf * RHO_CAP + st.table.m_cap * af;
                    for i in 0..200 {
                        // Targets from tiny to just under the fluid threshold, in both directions
                        // so the warm start is exercised from either side.
                        let j = if i < 100 { i } else { 199 - i };
                        let frac = f64::from(j) / 100.0;
                        let target = (l_cap + k * RHO_CAP) * math::powf(1e-9, 1.0 - frac) * 0.9999;
                        let (r, l) = st.solve_rho(target, cf, cf + k, af);
                        assert!(r > 0.0 && r <= RHO_CAP, "c={c} r={r}");
                        let res = residual(&st.table, r, k, af, target);
                        let tol = 1e-12 * target.max(1.0);
                        // Past the last node the table reads 0 instead of a C below 1e-8: a tiny
                        // step in L where the root may sit exactly.
                        let at_step =
                            (r - st.table.table.as_ref().map_or(-1.0, |n| n.rho[95])).abs() < 1e-15;
                        assert!(
                            res.abs() <= tol || at_step,
                            "c={c} af={af} k={k} target={target}: r={r} residual {res}"
                        );
                        assert!((l + k * r - target).abs() <= tol || at_step);
                    }
                }
            }
        }
    }

    #[test]
    fn station_converges_to_mm1_mean_and_never_jumps() {
        let mut st = Station::new(1);
        let first = st.step(80.0, 0.01, 1.0, 1.0, f64::INFINITY, 0.1);
        assert!(
            first.l <= 8.0 + 1e-9,
            "first tick may hold at most what arrived"
        );
        let mut last = first;
        for _ in 0..2000 {
            last = st.step(80.0, 0.01, 1.0, 1.0, f64::INFINITY, 0.1);
        }
        // M/M/1 at ρ = 0.8: L = 4.
        assert!((last.l - 4.0).abs() < 0.02, "L = {}", last.l);
        assert!((last.served - 80.0).abs() < 0.5);
    }

    #[test]
    fn overload_builds_a_backlog_at_lambda_minus_capacity_and_drains() {
        let mut st = Station::new(2);
        for _ in 0..100 {
            st.step(300.0, 0.01, 1.0, 1.0, f64::INFINITY, 0.1);
        }
        // 10 s at 100/s over capacity.
        assert!(
            (st.in_system() - 1000.0).abs() < 20.0,
            "x = {}",
            st.in_system()
        );
        let mut ticks = 0;
        while st.in_system() > 10.0 && ticks < 1000 {
            st.step(100.0, 0.01, 1.0, 1.0, f64::INFINITY, 0.1);
            ticks += 1;
        }
        // Drains at (200 − 100)/s: about 10 s.
        assert!((90..=110).contains(&ticks), "drained in {ticks} ticks");
    }

    #[test]
    fn bounded_queue_drops_the_overflow() {
        let mut st = Station::new(1);
        let mut t = StationTick::default();
        for _ in 0..100 {
            t = st.step(200.0, 0.01, 1.0, 1.0, 51.0, 0.1);
        }
        assert!(st.in_system() <= 51.0 + 1e-9);
        assert!((t.dropped - 100.0).abs() < 1.0, "dropped {}", t.dropped);
    }
}
