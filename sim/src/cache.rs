//! Cache hit ratios derived from key popularity (never set by the player): Zipf popularity in
//! rank buckets, Che's approximation for LRU, TTL caches, invalidation on write and warm-up after
//! a flush (SIMULATION.md §2.13–2.14).
//! Invariant: every hit ratio here is in [0, 1] and is a sum over the whole key space.

use crate::level::KeySpace;
use crate::math;

/// Ranks below this are kept individually (the hot head); the tail is bucketed geometrically.
const HEAD: usize = 64;
/// Ratio between consecutive tail bucket bounds.
const TAIL_RATIO: f64 = 1.15;

/// Key popularity as buckets of keys with (nearly) equal request probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Popularity {
    /// `(keys in bucket, probability per key)`, hottest first.
    buckets: Vec<(f64, f64)>,
    keys: f64,
}

impl Popularity {
    /// Zipf(`s`) over `count` keys; with `hot_share`, rank 1 takes that share of requests and
    /// the rest keep their relative popularity.
    pub fn zipf(keys: &KeySpace, hot_share: Option<f64>) -> Self {
        let n = keys.count.max(1.0).floor();
        let s = keys.zipf_s;
        let head = (HEAD as f64).min(n) as usize;
        let mut raw: Vec<(f64, f64)> = (1..=head)
            .map(|i| (1.0, math::powf(i as f64, -s)))
            .collect();
        let mut lo = head as f64 + 1.0;
        while lo <= n {
            let hi = (lo * TAIL_RATIO).floor().max(lo).min(n);
            let count = hi - lo + 1.0;
            // Σ i^-s over [lo, hi] ≈ ∫ from lo−½ to hi+½ (midpoint rule on a smooth, convex sum).
            let sum = integral_pow(lo - 0.5, hi + 0.5, s);
            raw.push((count, sum / count));
            lo = hi + 1.0;
        }
        let total: f64 = raw.iter().map(|(c, q)| c * q).sum();
        let mut buckets: Vec<(f64, f64)> = raw.into_iter().map(|(c, q)| (c, q / total)).collect();
        if let Some(h) = hot_share {
            let q1 = buckets[0].1;
            let scale = (1.0 - h) / (1.0 - q1).max(1e-12);
            for b in buckets.iter_mut().skip(1) {
                b.1 *= scale;
            }
            buckets[0].1 = h;
        }
        Self { buckets, keys: n }
    }

    /// Number of keys.
    pub fn keys(&self) -> f64 {
        self.keys
    }

    /// Share of requests for the `k` hottest keys.
    pub fn top_share(&self, k: u32) -> f64 {
        let mut left = f64::from(k);
        let mut share = 0.0;
        for &(c, q) in &self.buckets {
            if left <= 0.0 {
                break;
            }
            let take = c.min(left);
            share += take * q;
            left -= take;
        }
        share
    }

    /// Σ over keys of q·f(q) and of g(q): the two sums every formula here needs.
    fn sums(&self, f: impl Fn(f64) -> f64, g: impl Fn(f64) -> f64) -> (f64, f64) {
        self.buckets.iter().fold((0.0, 0.0), |(a, b), &(c, q)| {
            (a + c * q * f(q), b + c * g(q))
        })
    }

    /// Che's characteristic time `t_C` (in requests) of an LRU cache holding `capacity` keys;
    /// infinite when everything fits.
    pub fn che_tc(&self, capacity: f64) -> f64 {
        if capacity >= self.keys {
            return f64::INFINITY;
        }
        if capacity <= 0.0 {
            return 0.0;
        }
        let occ = |t: f64| self.sums(|_| 0.0, |q| -math::exp_m1(-q * t)).1;
        // Bracket in log space, then bisect: occupancy rises monotonically from 0 to N.
        let (mut lo, mut hi) = (0.0f64, capacity.max(1.0));
        while occ(hi) < capacity {
            lo = hi;
            hi *= 4.0;
        }
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if occ(mid) < capacity {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-6 * hi {
                break;
            }
        }
        0.5 * (lo + hi)
    }

    /// LRU hit ratio for characteristic time `tc` requests: Σ qᵢ(1 − e^{−qᵢ t_C}).
    /// The same sum with `tc` = requests since a flush is the warm-up hit ratio.
    pub fn hit_within(&self, tc: f64) -> f64 {
        if tc.is_infinite() {
            return 1.0;
        }
        self.sums(|q| -math::exp_m1(-q * tc), |_| 0.0).0
    }

    /// Keys resident `tc` requests after a flush: Σ(1 − e^{−qᵢ n}).
    pub fn occupancy_within(&self, tc: f64) -> f64 {
        if tc.is_infinite() {
            return self.keys;
        }
        self.sums(|_| 0.0, |q| -math::exp_m1(-q * tc)).1
    }

    /// TTL set at insertion, request rate `rate`/s, TTL `ttl` s: Σ qᵢ·λᵢT/(1+λᵢT).
    pub fn hit_ttl_fixed(&self, rate: f64, ttl: f64) -> f64 {
        self.sums(
            |q| {
                let x = rate * q * ttl;
                x / (1.0 + x)
            },
            |_| 0.0,
        )
        .0
    }

    /// TTL restarted on every access: Σ qᵢ(1 − e^{−λᵢT}).
    pub fn hit_ttl_sliding(&self, rate: f64, ttl: f64) -> f64 {
        self.hit_within(rate * ttl)
    }

    /// Per-PoP TTL caching at rate `rate / pops` each, optionally behind an origin shield that
    /// re-aggregates the PoPs' misses (Poisson approximation). Returns the share of requests
    /// answered without reaching the origin.
    pub fn hit_cdn(&self, rate: f64, ttl: f64, pops: f64, shield: bool) -> f64 {
        let per_pop = rate / pops.max(1.0);
        self.sums(
            |q| {
                let x = per_pop * q * ttl;
                let h_pop = x / (1.0 + x);
                if !shield {
                    return h_pop;
                }
                let miss_rate = rate * q * (1.0 - h_pop);
                let y = miss_rate * ttl;
                h_pop + (1.0 - h_pop) * y / (1.0 + y)
            },
            |_| 0.0,
        )
        .0
    }
}

fn integral_pow(a: f64, b: f64, s: f64) -> f64 {
    if (s - 1.0).abs() < 1e-9 {
        math::ln(b / a)
    } else {
        (math::powf(b, 1.0 - s) - math::powf(a, 1.0 - s)) / (1.0 - s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_che(n: usize, s: f64, capacity: f64) -> f64 {
        let q: Vec<f64> = (1..=n).map(|i| math::powf(i as f64, -s)).collect();
        let h: f64 = q.iter().sum();
        let q: Vec<f64> = q.iter().map(|x| x / h).collect();
        let occ = |t: f64| q.iter().map(|qi| 1.0 - math::exp(-qi * t)).sum::<f64>();
        let (mut lo, mut hi) = (0.0, 1e12);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if occ(mid) < capacity {
                lo = mid
            } else {
                hi = mid
            }
        }
        q.iter().map(|qi| qi * (1.0 - math::exp(-qi * lo))).sum()
    }

    #[test]
    fn bucketed_che_matches_the_exact_per_key_sum() {
        for (n, s, cap) in [
            (20_000usize, 0.8, 1000.0),
            (50_000, 1.0, 500.0),
            (10_000, 0.6, 4000.0),
        ] {
            let pop = Popularity::zipf(
                &KeySpace {
                    count: n as f64,
                    zipf_s: s,
                    item_kb: 1.0,
                },
                None,
            );
            let h = pop.hit_within(pop.che_tc(cap));
            let exact = exact_che(n, s, cap);
            assert!(
                (h - exact).abs() < 0.005,
                "n={n} s={s} C={cap}: {h} vs {exact}"
            );
        }
    }

    #[test]
    fn hot_share_sets_the_top_key() {
        let pop = Popularity::zipf(
            &KeySpace {
                count: 1e6,
                zipf_s: 0.9,
                item_kb: 1.0,
            },
            Some(0.3),
        );
        assert!((pop.top_share(1) - 0.3).abs() < 1e-12);
        let total = pop.sums(|_| 1.0, |_| 0.0).0;
        assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn more_pops_lower_the_cdn_hit_ratio() {
        let pop = Popularity::zipf(
            &KeySpace {
                count: 1e5,
                zipf_s: 0.8,
                item_kb: 1.0,
            },
            None,
        );
        let few = pop.hit_cdn(2000.0, 60.0, 2.0, false);
        let many = pop.hit_cdn(2000.0, 60.0, 32.0, false);
        let shielded = pop.hit_cdn(2000.0, 60.0, 32.0, true);
        assert!(few > many, "{few} vs {many}");
        assert!(shielded > many);
    }
}
