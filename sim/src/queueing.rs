//! Analytic queueing: Erlang C (tabulated per server count) and one M/M/c (Allen–Cunneen) station
//! integrated in time by the pointwise-stationary fluid-flow approximation, backward Euler.
//! Invariant: a station's state `x` (mean number in system) never jumps to steady state: it moves
//! by at most what arrived minus what was served in the tick (SIMULATION.md §2.6).

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
    let phi = (-0.5 * beta * beta).exp() / (2.0 * std::f64::consts::PI).sqrt();
    1.0 / (1.0 + beta * crate::dist::normal_cdf(beta) / phi)
}

/// Erlang C for one server count, fast to evaluate many times per tick.
#[derive(Debug, Clone)]
pub struct ErlangTable {
    c: u32,
    /// √c, which every lookup scales by.
    sqrt_c: f64,
    beta_max: f64,
    /// C at evenly spaced β in [0, beta_max]; none for one server. A fixed-size array, so
    /// lookups need no bounds checks.
    table: Option<Box<[f64; TABLE_POINTS]>>,
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
                table: None,
            };
        }
        let sqrt_c = f64::from(c).sqrt();
        let beta_max = TABLE_BETA_MAX.min(sqrt_c);
        let mut table = Box::new([0.0; TABLE_POINTS]);
        for (i, point) in table.iter_mut().enumerate() {
            let beta = beta_max * i as f64 / (TABLE_POINTS - 1) as f64;
            *point = if c > HALFIN_WHITT_MIN_C {
                halfin_whitt(beta)
            } else {
                erlang_c(c, (1.0 - beta / sqrt_c) * f64::from(c))
            };
        }
        Self {
            c,
            sqrt_c,
            beta_max,
            table: Some(table),
        }
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
        let Some(table) = self.table.as_deref() else {
            // M/M/1: an arrival waits exactly when the server is busy.
            return rho;
        };
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
    rho: f64,
}

impl Station {
    /// An empty station with `c` servers.
    pub fn new(c: u32) -> Self {
        Self {
            table: ErlangTable::new(c),
            x: 0.0,
            rho: 0.0,
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
        self.rho = 0.0;
    }

    /// Stationary mean number in system at utilization `rho`, with queue factor `af = (ca²+cs²)/2`.
    fn l_of(&self, rho: f64, af: f64) -> f64 {
        let c = f64::from(self.table.servers());
        c * rho + self.table.at(rho) * rho / (1.0 - rho) * af
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
            self.rho = 0.0;
            return StationTick {
                served: lambda.max(0.0),
                ..StationTick::default()
            };
        }
        let k = c * mu * dt;
        let l_cap = self.l_of(RHO_CAP, af);
        // Backward Euler: x' + cμΔt·G(x') = x + λΔt, solved for ρ' = G(x') since L(ρ) is monotone.
        // Past the stationary range the backlog is fluid and every server is busy.
        let (mut rho, mut x_new) = if target >= l_cap + k * RHO_CAP {
            (1.0, target - k)
        } else {
            let r = self.solve_rho(target, k, af, l_cap);
            (r, self.l_of(r, af))
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
        self.rho = rho;
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

    /// Solves L(ρ) + kρ = target for ρ in [0, RHO_CAP] by the Illinois method, warm-started.
    /// `l_cap` is L(RHO_CAP), which the caller has already worked out.
    fn solve_rho(&self, target: f64, k: f64, af: f64, l_cap: f64) -> f64 {
        let g = |r: f64| self.l_of(r, af) + k * r - target;
        let (mut a, mut b) = (0.0, RHO_CAP);
        let (mut fa, mut fb) = (g(a), l_cap + k * b - target);
        if fa >= 0.0 {
            return 0.0;
        }
        if fb <= 0.0 {
            return RHO_CAP;
        }
        // Warm start: shrink the bracket around last tick's answer when it still brackets.
        let w = self.rho.clamp(0.0, RHO_CAP);
        for guess in [w * 0.98, w * 1.02] {
            if guess > a && guess < b {
                let fg = g(guess);
                if fg < 0.0 {
                    a = guess;
                    fa = fg;
                } else {
                    b = guess;
                    fb = fg;
                }
            }
        }
        let mut side = 0i8;
        for _ in 0..60 {
            let r = (a * fb - b * fa) / (fb - fa);
            let fr = g(r);
            if fr.abs() < 1e-9 * target.max(1.0) || (b - a) < 1e-12 {
                return r;
            }
            if fr < 0.0 {
                a = r;
                fa = fr;
                if side == -1 {
                    fb /= 2.0;
                }
                side = -1;
            } else {
                b = r;
                fb = fr;
                if side == 1 {
                    fa /= 2.0;
                }
                side = 1;
            }
        }
        (a + b) / 2.0
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
