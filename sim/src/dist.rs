//! Latency distributions: small mixtures of moment-matched Gamma components, evaluated with the
//! Wilson–Hilferty approximation (SIMULATION.md §2.5).
//! Invariant: a mixture keeps path classes apart (hit vs miss, first try vs retry) up to `K`
//! components, sorted by mean; when it must merge, it merges the two closest (relative distance
//! of the means, which for non-negative means is smallest between neighbours in that order) and
//! preserves weight, mean and variance. A component of negligible weight (below `NEGLIGIBLE` of
//! the mixture's) is merged into its closer neighbour the same way rather than take a slot.

use std::cmp::Ordering;

use crate::math::{self, cbrt};

/// Most components a mixture keeps.
pub const K: usize = 4;

/// Weight, relative to the mixture's, below which a component is merged into a neighbour
/// instead of being kept apart: far below anything a quantile or a timeout can resolve.
const NEGLIGIBLE: f64 = 1e-9;

/// One component: weight, mean (s) and variance (s²).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Comp {
    /// Weight (probability mass).
    pub w: f64,
    /// Mean, s.
    pub m: f64,
    /// Variance, s².
    pub v: f64,
}

/// A mixture of up to `K` components, sorted by mean; weights need not sum to 1 (the rest is
/// "no success").
#[derive(Debug, Clone, Copy, Default)]
pub struct Mix {
    n: usize,
    /// Components; the slots from `n` on hold leftovers, never read.
    c: [Comp; K],
}

impl PartialEq for Mix {
    fn eq(&self, other: &Self) -> bool {
        self.comps() == other.comps()
    }
}

impl Mix {
    /// Zero time with certainty.
    pub fn zero() -> Self {
        Self::point(0.0, 0.0)
    }

    /// One component of weight 1.
    pub fn point(m: f64, v: f64) -> Self {
        let mut c = [Comp::default(); K];
        c[0] = Comp { w: 1.0, m, v };
        Self { n: 1, c }
    }

    /// An empty mixture (weight 0).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Components.
    pub fn comps(&self) -> &[Comp] {
        &self.c[..self.n]
    }

    /// Total weight.
    pub fn weight(&self) -> f64 {
        self.comps().iter().map(|c| c.w).sum()
    }

    /// Mean of the normalized mixture.
    pub fn mean(&self) -> f64 {
        let w = self.weight();
        if w <= 0.0 {
            return 0.0;
        }
        self.comps().iter().map(|c| c.w * c.m).sum::<f64>() / w
    }

    /// Variance of the normalized mixture.
    pub fn var(&self) -> f64 {
        self.mean_var().1
    }

    /// Mean and variance of the normalized mixture, the same numbers as `mean()` and `var()`
    /// from one pass over the weights.
    pub fn mean_var(&self) -> (f64, f64) {
        let w = self.weight();
        if w <= 0.0 {
            return (0.0, 0.0);
        }
        let m = self.comps().iter().map(|c| c.w * c.m).sum::<f64>() / w;
        let v = self
            .comps()
            .iter()
            .map(|c| c.w * (c.v + (c.m - m) * (c.m - m)))
            .sum::<f64>()
            / w;
        (m, v)
    }

    /// Adds an independent delay (mean, variance) to every component.
    pub fn shifted(&self, m: f64, v: f64) -> Self {
        self.mapped(|c| Comp {
            w: c.w,
            m: c.m + m,
            v: c.v + v,
        })
    }

    /// Multiplies every weight by `f`.
    pub fn scaled(&self, f: f64) -> Self {
        if f == 0.0 {
            // Components of no weight would only take slots (a cache's hit part at 100% misses).
            return Mix::empty();
        }
        self.mapped(|c| Comp { w: c.w * f, ..c })
    }

    /// A fresh mixture of `each` applied to every component, each written whole: updating a
    /// copy field by field stalls the wide copies that follow. All `K` slots go through `each`,
    /// the leftovers past `n` too (never read): a fixed-length loop has no branches to take.
    fn mapped(&self, each: impl Fn(Comp) -> Comp) -> Self {
        let mut c = [Comp::default(); K];
        for (o, &x) in c.iter_mut().zip(&self.c) {
            *o = each(x);
        }
        Mix { n: self.n, c }
    }

    /// `shifted(m, v).scaled(f)` in one pass.
    pub fn shifted_scaled(&self, m: f64, v: f64, f: f64) -> Self {
        if f == 0.0 {
            return Mix::empty();
        }
        self.mapped(|c| Comp {
            w: c.w * f,
            m: c.m + m,
            v: c.v + v,
        })
    }

    /// The mixture scaled to weight 1; zero time when it has no weight.
    pub fn normalized(self) -> Self {
        let w = self.weight();
        if w > 0.0 {
            self.scaled(1.0 / w)
        } else {
            Mix::zero()
        }
    }

    /// Adds a component in its place by mean, merging the closest pair when full; one of
    /// negligible weight is merged into its closer neighbour instead.
    pub fn push(&mut self, comp: Comp) {
        if comp.w <= 0.0 {
            return;
        }
        let n = self.n;
        if n > 0 && comp.w < NEGLIGIBLE * self.weight() {
            // Its place: after every component whose mean is not above its own.
            let mut i = n;
            while i > 0 && self.c[i - 1].m > comp.m {
                i -= 1;
            }
            let j = closer_neighbour(self.comps(), i, comp.m);
            self.c[j] = merged(self.c[j], comp);
            return;
        }
        if n < K {
            // Insertion, one move at a time: a memmove call costs more than the few moves.
            let mut i = n;
            while i > 0 && self.c[i - 1].m > comp.m {
                self.c[i] = self.c[i - 1];
                i -= 1;
            }
            self.c[i] = comp;
            self.n = n + 1;
            return;
        }
        // Full: the closest pair among the K + 1 is a pair of neighbours.
        let mut all = [comp; K + 1];
        all[..K].copy_from_slice(&self.c);
        let mut i = K;
        while i > 0 && all[i - 1].m > comp.m {
            all[i] = all[i - 1];
            i -= 1;
        }
        all[i] = comp;
        let (mut best, mut gap_best) = (0, gap(all[0].m, all[1].m));
        for j in 1..K {
            let g = gap(all[j].m, all[j + 1].m);
            if g < gap_best {
                (best, gap_best) = (j, g);
            }
        }
        for j in 0..K {
            self.c[j] = match j.cmp(&best) {
                Ordering::Less => all[j],
                Ordering::Equal => merged(all[j], all[j + 1]),
                Ordering::Greater => all[j + 1],
            };
        }
    }

    /// The mixture of `self` and `other` (weights as they are).
    pub fn plus(mut self, other: &Mix) -> Self {
        self.add_shifted_scaled(other, 0.0, 0.0, 1.0);
        self
    }

    /// `self.plus(&other.scaled(f))`, without the intermediate copy.
    pub fn plus_scaled(mut self, other: &Mix, f: f64) -> Self {
        self.add_scaled(other, f);
        self
    }

    /// In place: `*self = self.plus(&other.scaled(f))`.
    pub fn add_scaled(&mut self, other: &Mix, f: f64) {
        self.add_shifted_scaled(other, 0.0, 0.0, f);
    }

    /// In place: `*self = self.plus(&other.shifted_scaled(m, v, f))`.
    pub fn add_shifted_scaled(&mut self, other: &Mix, m: f64, v: f64, f: f64) {
        if self.n == 0 && f > 0.0 {
            // Nothing to merge with: `other` is in order and reduced already.
            *self = other.shifted_scaled(m, v, f);
            return;
        }
        for &c in other.comps() {
            self.push(Comp {
                w: c.w * f,
                m: c.m + m,
                v: c.v + v,
            });
        }
    }

    /// Sequential composition: independent sums, weights multiplied. The products are put in
    /// order of mean and reduced once: merging the closest of all of them, not the closest
    /// among those that came first.
    pub fn then(&self, other: &Mix) -> Self {
        // Most hops are one component: composing with one is a shift, with nothing to merge.
        if self.n == 1 {
            let a = self.c[0];
            return other.shifted_scaled(a.m, a.v, a.w);
        }
        if other.n == 1 {
            let b = other.c[0];
            return self.shifted_scaled(b.m, b.v, b.w);
        }
        let mut buf = [Comp::default(); K * K];
        let mut n = 0;
        for a in self.comps() {
            for b in other.comps() {
                let p = Comp {
                    w: a.w * b.w,
                    m: a.m + b.m,
                    v: a.v + b.v,
                };
                if p.w <= 0.0 {
                    continue;
                }
                // Each row is in order already: the insertion moves past earlier rows only.
                let mut j = n;
                while j > 0 && buf[j - 1].m > p.m {
                    buf[j] = buf[j - 1];
                    j -= 1;
                }
                buf[j] = p;
                n += 1;
            }
        }
        reduced(&mut buf, n)
    }

    /// P(T > t) of the normalized mixture. Components whose Chernoff bound puts the tail below
    /// 1e-12 count as 0 without evaluating their CDF (most edges of a healthy system).
    pub fn tail(&self, t: f64) -> f64 {
        let w = self.weight();
        if w <= 0.0 {
            return 0.0;
        }
        if t <= 0.0 {
            return self.comps().iter().map(|c| c.w).sum::<f64>() / w;
        }
        let mut tail = 0.0;
        for c in self.comps() {
            if c.m <= 0.0 || c.w == 0.0 {
                continue;
            }
            let (k, theta) = shape(c.m, c.v);
            if t > c.m && chernoff_negligible(k, t / c.m, t / theta) {
                continue;
            }
            tail += c.w * Gamma::from_shape(k, theta).sf(t);
        }
        tail / w
    }

    /// P(T ≤ t) of the normalized mixture.
    pub fn cdf(&self, t: f64) -> f64 {
        let w = self.weight();
        if w <= 0.0 {
            return 1.0;
        }
        self.comps()
            .iter()
            .map(|c| c.w * gamma_cdf(t, c.m, c.v))
            .sum::<f64>()
            / w
    }

    /// The p-quantile of the mixture conditioned on T ≤ `cap` (successes within a timeout),
    /// by Newton from `guess`, safeguarded by bisection.
    pub fn quantile(&self, p: f64, cap: f64, guess: f64) -> f64 {
        let mut out = [guess];
        self.quantiles(&[p], cap, &mut out);
        out[0]
    }

    /// Several quantiles at once: `ts[j]` holds the warm start for `ps[j]` and receives its
    /// answer, each exactly as `quantile` finds it. The components' Gamma fits and the mass
    /// within `cap` are worked out once for all of them.
    pub fn quantiles(&self, ps: &[f64], cap: f64, ts: &mut [f64]) {
        let w = self.weight();
        if w <= 0.0 {
            ts.fill(0.0);
            return;
        }
        let fits = GammaFits::new(self, w);
        let f_cap = fits.cdf_pdf(cap).0.max(1e-12);
        let mean = self.mean();
        for (&p, t) in ps.iter().zip(ts.iter_mut()) {
            *t = fits.solve(p * f_cap, cap, *t, mean);
        }
    }
}

/// A normalized mixture's components as Gamma fits, ready for repeated CDF and density
/// evaluations (the quantile solver's inner loop).
struct GammaFits {
    n: usize,
    w: [f64; K],
    fit: [Option<Gamma>; K],
    total: f64,
}

impl GammaFits {
    /// `total` is the mixture's weight.
    fn new(mix: &Mix, total: f64) -> Self {
        let mut fits = Self {
            n: mix.n,
            w: [0.0; K],
            fit: [None; K],
            total,
        };
        for (j, c) in mix.comps().iter().enumerate() {
            fits.w[j] = c.w;
            fits.fit[j] = (c.m > 0.0).then(|| Gamma::new(c.m, c.v));
        }
        fits
    }

    /// The mixture's CDF and density at `t`: the same sums, term for term, as `Mix::cdf` and
    /// a density pass, from one cube root per component.
    fn cdf_pdf(&self, t: f64) -> (f64, f64) {
        let (mut f, mut d) = (-0.0, -0.0);
        for j in 0..self.n {
            let (cf, pf) = match &self.fit[j] {
                None => (1.0, 0.0),
                Some(_) if t <= 0.0 => (0.0, 0.0),
                Some(g) => g.cdf_pdf(t),
            };
            f += self.w[j] * cf;
            d += self.w[j] * pf;
        }
        (f / self.total, d / self.total)
    }

    /// The t where the CDF reaches `target`, by Newton from `guess`, safeguarded by bisection.
    fn solve(&self, target: f64, cap: f64, guess: f64, mean: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, cap);
        let mut t = if guess > 0.0 && guess < cap {
            guess
        } else {
            mean.min(cap * 0.5)
        };
        for _ in 0..40 {
            let (cdf, d) = self.cdf_pdf(t);
            let f = cdf - target;
            if f.abs() < 1e-7 {
                return t;
            }
            if f < 0.0 {
                lo = t;
            } else {
                hi = t;
            }
            let next = if d > 0.0 { t - f / d } else { f64::NAN };
            t = if next.is_finite() && next > lo && next < hi {
                next
            } else {
                0.5 * (lo + hi)
            };
            if hi - lo < 1e-9 * cap.max(1e-3) {
                break;
            }
        }
        t
    }
}

/// A Gamma distribution fitted to a mean and variance, with the constants its Wilson–Hilferty
/// CDF and density need.
#[derive(Debug, Clone, Copy)]
struct Gamma {
    /// Standard deviation of the cube root: √(1/(9k)).
    s: f64,
    /// Mean of the cube root: 1 − 1/(9k).
    mid: f64,
    /// kθ, the scale the cube root is taken at.
    scale: f64,
}

impl Gamma {
    fn new(m: f64, v: f64) -> Self {
        let (k, theta) = shape(m, v);
        Self::from_shape(k, theta)
    }

    fn from_shape(k: f64, theta: f64) -> Self {
        Self {
            s: (1.0 / (9.0 * k)).sqrt(),
            mid: 1.0 - 1.0 / (9.0 * k),
            scale: k * theta,
        }
    }

    /// P(T ≤ t) for t > 0.
    fn cdf(&self, t: f64) -> f64 {
        let z = (cbrt(t / self.scale) - self.mid) / self.s;
        normal_cdf(z)
    }

    /// P(T > t) for t > 0: the upper normal tail directly, not 1 − CDF, which loses the small
    /// tails to cancellation.
    fn sf(&self, t: f64) -> f64 {
        let z = (cbrt(t / self.scale) - self.mid) / self.s;
        0.5 * erfc(z / std::f64::consts::SQRT_2)
    }

    /// P(T ≤ t) and the density at t, for t > 0.
    fn cdf_pdf(&self, t: f64) -> (f64, f64) {
        let root = cbrt(t / self.scale);
        let z = (root - self.mid) / self.s;
        let dz = root / (3.0 * t * self.s);
        let pdf = math::exp(-0.5 * z * z) / (2.0 * std::f64::consts::PI).sqrt() * dz;
        (normal_cdf(z), pdf)
    }
}

/// Whether the Gamma Chernoff bound for t > kθ, P(T > t) ≤ (t/kθ)^k · e^{k − t/θ}, is below
/// 1e-12: `k·ln(ratio) + k − t_over_theta < −27.6`, with `ratio` = t/m > 1. Most calls are far
/// from the threshold, where bounds on the logarithm decide without computing it; near it the
/// logarithm is computed, so the answer is always the exact expression's.
fn chernoff_negligible(k: f64, ratio: f64, t_over_theta: f64) -> bool {
    const THRESHOLD: f64 = -27.6;
    // With t/θ = k·ratio the exponent is −k·h(ratio), h(r) = r − 1 − ln r, and for r > 1
    // (r−1)²/(2r) ≤ h(r) ≤ r − 1 (from ln r ≤ (r²−1)/(2r) and ln r ≥ 0): both bounds cost no
    // logarithm and settle most calls, with a slack far above the rounding of t/θ against k·r.
    let d = ratio - 1.0;
    if k * d * d > 2.0 * 27.6 * (1.0 + 1e-9) * ratio {
        return true;
    }
    if k * d < 27.6 * (1.0 - 1e-9) {
        return false;
    }
    if let Some((lo, hi)) = ln_bounds(ratio) {
        // Rounding in either expression is far below this slack.
        let slack = 1e-9 * (k * hi.abs() + k + t_over_theta.abs() + 27.6);
        if k * hi + k - t_over_theta < THRESHOLD - slack {
            return true;
        }
        if k * lo + k - t_over_theta > THRESHOLD + slack {
            return false;
        }
    }
    k * math::ln(ratio) + k - t_over_theta < THRESHOLD
}

/// Bounds on ln x for a normal x > 1, within 2e-4 of each other: x = 2^e·f with f in [1, 2),
/// and ln f = 2·atanh(u), u = (f−1)/(f+1) < 1/3, whose series has positive terms; three terms
/// bound it from below, and the rest is at most 2u⁷/(7(1−u²)).
fn ln_bounds(x: f64) -> Option<(f64, f64)> {
    if !(x.is_normal() && x > 1.0) {
        return None;
    }
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let f = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let u = (f - 1.0) / (f + 1.0);
    let u2 = u * u;
    let series = 2.0 * u * (1.0 + u2 * (1.0 / 3.0 + u2 * 0.2));
    let lo = e as f64 * std::f64::consts::LN_2 + series;
    let rest = 2.0 * u2 * u2 * u2 * u / (7.0 * (1.0 - u2));
    Some((lo, lo + rest))
}

/// Of the components of `cs` (not empty, in order of mean) either side of place `i`, the one
/// closer to mean `m`.
fn closer_neighbour(cs: &[Comp], i: usize, m: f64) -> usize {
    if i == 0 {
        0
    } else if i == cs.len() || gap(cs[i - 1].m, m) <= gap(m, cs[i].m) {
        i - 1
    } else {
        i
    }
}

/// The mixture of `buf[..n]` (positive weights, in order of mean): each component below
/// `NEGLIGIBLE` of the total merged into its closer neighbour, then the closest neighbours
/// merged until at most `K` are left.
fn reduced(buf: &mut [Comp; K * K], mut n: usize) -> Mix {
    let total: f64 = buf[..n].iter().map(|c| c.w).sum();
    let floor = NEGLIGIBLE * total;
    let mut i = 0;
    while i < n && n > 1 {
        if buf[i].w >= floor {
            i += 1;
            continue;
        }
        let c = buf[i];
        for j in i..n - 1 {
            buf[j] = buf[j + 1];
        }
        n -= 1;
        let j = closer_neighbour(&buf[..n], i, c.m);
        buf[j] = merged(buf[j], c);
    }
    if n > K {
        // gaps[j] is the gap between components j and j + 1.
        let mut gaps = [0.0; K * K];
        for j in 0..n - 1 {
            gaps[j] = gap(buf[j].m, buf[j + 1].m);
        }
        while n > K {
            let mut best = 0;
            for j in 1..n - 1 {
                if gaps[j] < gaps[best] {
                    best = j;
                }
            }
            buf[best] = merged(buf[best], buf[best + 1]);
            for j in best + 1..n - 1 {
                buf[j] = buf[j + 1];
            }
            for j in best + 1..n - 2 {
                gaps[j] = gaps[j + 1];
            }
            n -= 1;
            if best > 0 {
                gaps[best - 1] = gap(buf[best - 1].m, buf[best].m);
            }
            if best + 1 < n {
                gaps[best] = gap(buf[best].m, buf[best + 1].m);
            }
        }
    }
    // A fixed-size copy: the slots past `n` are not read.
    let mut c = [Comp::default(); K];
    c.copy_from_slice(&buf[..K]);
    Mix { n, c }
}

/// How far apart two means are for merging: |a − b| / (a + b), with the sum floored at 1 ns.
fn gap(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a + b).max(1e-9)
}

/// One component with the weight, mean and variance of the two together.
fn merged(a: Comp, b: Comp) -> Comp {
    let w = a.w + b.w;
    let m = (a.w * a.m + b.w * b.m) / w;
    let v = (a.w * (a.v + (a.m - m).powi(2)) + b.w * (b.v + (b.m - m).powi(2))) / w;
    // Rounding must not carry the mean past either part's: the order by mean stays.
    let m = m.max(a.m.min(b.m)).min(a.m.max(b.m));
    Comp { w, m, v }
}

/// Variance floor relative to the mean: a zero-variance delay is a step the Gamma fit can't make.
const MIN_SCV: f64 = 1e-4;

fn shape(m: f64, v: f64) -> (f64, f64) {
    let v = v.max(m * m * MIN_SCV).max(1e-18);
    (m * m / v, v / m)
}

/// Gamma CDF with mean `m` and variance `v`, by Wilson–Hilferty.
pub fn gamma_cdf(t: f64, m: f64, v: f64) -> f64 {
    if m <= 0.0 {
        return 1.0;
    }
    if t <= 0.0 {
        return 0.0;
    }
    Gamma::new(m, v).cdf(t)
}

/// Standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function, fractional error below 1.2e-7 (Chebyshev fit, Numerical Recipes §6.2).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t * math::exp(
        -z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))),
    );
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_quantiles_are_close_to_exact() {
        // M/M/1 sojourn is exponential: p99 = ln(100)·mean.
        let m = Mix::point(0.05, 0.0025);
        let p99 = m.quantile(0.99, 100.0, 0.0);
        let exact = math::ln(100.0) * 0.05;
        assert!((p99 / exact - 1.0).abs() < 0.03, "{p99} vs {exact}");
    }

    #[test]
    fn merging_preserves_mean_and_variance() {
        let mut m = Mix::empty();
        for i in 0..7 {
            m.push(Comp {
                w: 0.1 + f64::from(i) * 0.01,
                m: 0.01 * f64::from(i + 1),
                v: 1e-5,
            });
        }
        let mut all = [Comp::default(); 7];
        for (i, c) in all.iter_mut().enumerate() {
            *c = Comp {
                w: 0.1 + i as f64 * 0.01,
                m: 0.01 * (i + 1) as f64,
                v: 1e-5,
            };
        }
        let w: f64 = all.iter().map(|c| c.w).sum();
        let mean: f64 = all.iter().map(|c| c.w * c.m).sum::<f64>() / w;
        let var: f64 = all
            .iter()
            .map(|c| c.w * (c.v + (c.m - mean).powi(2)))
            .sum::<f64>()
            / w;
        assert_eq!(m.comps().len(), K);
        assert!((m.mean() - mean).abs() < 1e-12);
        assert!((m.var() - var).abs() < 1e-12);
    }

    /// Weight, mean and variance of a list of components, unnormalized mean and variance.
    fn moments(cs: &[Comp]) -> (f64, f64, f64) {
        let w: f64 = cs.iter().map(|c| c.w).sum();
        let m = cs.iter().map(|c| c.w * c.m).sum::<f64>() / w;
        let v = cs
            .iter()
            .map(|c| c.w * (c.v + (c.m - m).powi(2)))
            .sum::<f64>()
            / w;
        (w, m, v)
    }

    fn assert_close(a: (f64, f64, f64), b: (f64, f64, f64)) {
        for (x, y) in [(a.0, b.0), (a.1, b.1), (a.2, b.2)] {
            assert!(
                (x - y).abs() <= 1e-12 * y.abs().max(1e-12),
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn composition_keeps_order_and_moments() {
        let comps = |k: f64| {
            [
                Comp {
                    w: 0.5,
                    m: 0.01 * k,
                    v: 1e-5,
                },
                Comp {
                    w: 0.3,
                    m: 0.2 * k,
                    v: 1e-3,
                },
                Comp {
                    w: 1e-12,
                    m: 1.5 * k,
                    v: 1e-2,
                },
                Comp {
                    w: 0.1999,
                    m: 0.05 * k,
                    v: 1e-4,
                },
            ]
        };
        let (mut a, mut b) = (Mix::empty(), Mix::empty());
        for (x, y) in comps(1.0).into_iter().zip(comps(1.7)) {
            a.push(x);
            b.push(y);
        }
        // The negligible component was merged on arrival, moments kept.
        assert_eq!(a.comps().len(), 3);
        assert_close(moments(a.comps()), moments(&comps(1.0)));
        let ab = a.then(&b);
        let mut products = Vec::new();
        for x in comps(1.0) {
            for y in comps(1.7) {
                products.push(Comp {
                    w: x.w * y.w,
                    m: x.m + y.m,
                    v: x.v + y.v,
                });
            }
        }
        assert!(ab.comps().len() <= K);
        assert_close(moments(ab.comps()), moments(&products));
        for m in [&a, &b, &ab, &a.plus_scaled(&b, 0.3)] {
            assert!(m.comps().windows(2).all(|p| p[0].m <= p[1].m), "{m:?}");
        }
        // A zero-weight part takes no slot.
        let hit = Mix::point(0.0, 0.0).scaled(0.0).plus_scaled(&b, 1.0);
        assert_eq!(hit.comps(), b.comps());
    }

    #[test]
    fn erfc_is_accurate() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((normal_cdf(2.326_347_874) - 0.99).abs() < 1e-6);
    }
}
