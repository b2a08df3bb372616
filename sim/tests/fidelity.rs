//! Fidelity: the engine against closed forms computed here from SIMULATION.md's formulas
//! (M/M/1, M/M/c, Little's law, Che's approximation, token bucket, retry amplification).
//! Invariant: every expected value is computed independently of the engine's code.
#![expect(
    clippy::disallowed_methods,
    reason = "closed forms use the platform's libm: independent of the engine's bundled one"
)]

use std::sync::Arc;

use stampede_sim::level::Level;
use stampede_sim::{Action, TickReport, World};

fn mmc_level(c: u32, service_ms: f64, rps: f64) -> Level {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/levels/mmc.toml"
    ))
    .unwrap();
    let mut lv = Level::from_toml("mmc.toml", &text).unwrap();
    lv.traffic.points = vec![(0.0, rps)];
    lv.components[1].concurrency = Some(c);
    lv.components[1].service.get_mut("default").unwrap().ms = service_ms;
    lv
}

/// Runs `ticks` ticks and returns the last report.
fn settle(world: &mut World, ticks: u32) -> TickReport {
    for _ in 1..ticks {
        world.step();
    }
    world.step().clone()
}

fn node<'a>(r: &'a TickReport, id: &str) -> &'a stampede_sim::report::NodeMetrics {
    r.nodes.iter().find(|n| n.id == id).unwrap()
}

/// Erlang C by its textbook sum (not the engine's recursion).
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c) * f64::from(c) / (f64::from(c) - a);
    last / (sum + last)
}

/// Exact M/M/c sojourn quantile: solve (1−C)e^{−μt} + C(θe^{−μt} − μe^{−θt})/(θ−μ) = 1 − p.
fn mmc_sojourn_quantile(c: u32, lambda: f64, mu: f64, p: f64) -> f64 {
    let cc = erlang_c(c, lambda / mu);
    let theta = f64::from(c) * mu - lambda;
    let tail = |t: f64| {
        if (theta - mu).abs() < 1e-9 {
            (1.0 - cc) * (-mu * t).exp() + cc * (1.0 + mu * t) * (-mu * t).exp()
        } else {
            (1.0 - cc) * (-mu * t).exp()
                + cc * (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
        }
    };
    let (mut lo, mut hi) = (0.0, 100.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > 1.0 - p {
            lo = mid
        } else {
            hi = mid
        }
    }
    lo
}

#[test]
fn mm1_mean_within_2_percent_and_p99_within_5_percent_up_to_rho_0_9() {
    let mu = 100.0;
    for rho in [0.3, 0.5, 0.7, 0.8, 0.9] {
        let lambda = rho * mu;
        let mut w = World::new(Arc::new(mmc_level(1, 10.0, lambda)), 1).unwrap();
        let r = settle(&mut w, 1200);
        let mean = node(&r, "server").latency_ms / 1000.0;
        let exact_mean = 1.0 / (mu - lambda);
        let p99 = r.system.p99_ms / 1000.0;
        let exact_p99 = 100f64.ln() / (mu - lambda);
        assert!(
            (mean / exact_mean - 1.0).abs() < 0.02,
            "ρ={rho}: W {mean} vs {exact_mean}"
        );
        assert!(
            (p99 / exact_p99 - 1.0).abs() < 0.05,
            "ρ={rho}: p99 {p99} vs {exact_p99}"
        );
    }
}

#[test]
fn mmc_mean_within_2_percent_and_p99_within_5_percent_up_to_rho_0_9() {
    let mu = 100.0;
    // c = 32 exercises the tabulated Erlang C; the others the exact recursion.
    for c in [2u32, 4, 8, 32] {
        for rho in [0.5, 0.7, 0.9] {
            let lambda = rho * f64::from(c) * mu;
            let mut w = World::new(Arc::new(mmc_level(c, 10.0, lambda)), 1).unwrap();
            let r = settle(&mut w, 1200);
            let mean = node(&r, "server").latency_ms / 1000.0;
            let exact_mean = erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + 1.0 / mu;
            let p99 = r.system.p99_ms / 1000.0;
            let exact_p99 = mmc_sojourn_quantile(c, lambda, mu, 0.99);
            assert!(
                (mean / exact_mean - 1.0).abs() < 0.02,
                "c={c} ρ={rho}: W {mean} vs {exact_mean}"
            );
            assert!(
                (p99 / exact_p99 - 1.0).abs() < 0.05,
                "c={c} ρ={rho}: p99 {p99} vs {exact_p99}"
            );
        }
    }
}

#[test]
fn queues_take_time_to_build_and_drain() {
    // 20 % over capacity for 10 s: the backlog grows at λ − cμ, and is still there a tick later.
    let mut lv = mmc_level(2, 10.0, 240.0);
    lv.traffic.points = vec![(0.0, 240.0), (10.0, 240.0), (10.0, 100.0)];
    let mut w = World::new(Arc::new(lv), 1).unwrap();
    let at_10s = settle(&mut w, 100);
    let q = node(&at_10s, "server").queue;
    assert!((q - 400.0).abs() < 25.0, "backlog after 10 s at +40/s: {q}");
    let next = w.step().clone();
    assert!(
        node(&next, "server").queue > 0.9 * q,
        "a backlog cannot vanish in one tick"
    );
    // It drains at cμ − λ = 100/s: about 4 s.
    let mut ticks = 0;
    while node(w.last_report(), "server").queue > 5.0 && ticks < 200 {
        w.step();
        ticks += 1;
    }
    assert!((30..=50).contains(&ticks), "drained in {ticks} ticks");
}

#[test]
fn littles_law_holds_on_every_node_of_a_level() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../levels");
    for id in ["02-cache-aside", "04-failover", "05-retry-storm"] {
        let text = std::fs::read_to_string(format!("{dir}/{id}.toml")).unwrap();
        let mut lv = Level::from_toml(id, &text).unwrap();
        lv.traffic.noise = false;
        lv.traffic.spikes.clear();
        lv.faults.clear();
        let mut w = World::new(Arc::new(lv), 1).unwrap();
        let r = settle(&mut w, 600);
        for n in r
            .nodes
            .iter()
            .filter(|n| n.served_rps > 0.0 && n.id != "users")
        {
            // Lq = λ·Wq for the waiting line of every node.
            let expected = n.served_rps * n.wait_ms / 1000.0;
            assert!(
                (n.queue - expected).abs() <= 0.02 * expected.max(0.05),
                "{id}/{}: Lq {} vs λWq {expected}",
                n.id,
                n.queue
            );
        }
    }
}

fn cache_level(keys: f64, zipf_s: f64, capacity_keys: f64) -> Level {
    let text = format!(
        r#"
id = "fidelity-che"
version = 1
title = "Che"
concept = "test"
briefing = "test"
duration_s = 60
budget_per_hour = 100
par_cost_per_hour = 1
[[instance_types]]
name = "c"
vcpus = 1
memory_gb = {mem}
price_per_hour = 0.1
[[components]]
name = "users"
kind = "client"
placeable = false
[[components]]
name = "cache"
kind = "cache"
instance_types = ["c"]
concurrency = 1000
[components.service.default]
ms = 0.5
[[components]]
name = "db"
kind = "service"
instance_types = ["c"]
concurrency = 1000
[components.service.default]
ms = 1
[[classes]]
name = "get"
share = 1.0
[keys]
count = {keys}
zipf_s = {zipf_s}
item_kb = 1
[traffic]
points = [[0, 1000]]
[start]
nodes = [{{ id = "users", component = "users", fixed = true }}, {{ id = "cache", component = "cache" }}, {{ id = "db", component = "db" }}]
edges = [{{ from = "users", to = "cache" }}, {{ from = "cache", to = "db" }}]
[objectives]
p99_ms = 1000
error_rate = 0.01
"#,
        mem = capacity_keys / 1.0e6,
    );
    Level::from_toml("che", &text).unwrap()
}

/// Che's approximation summed over every key (no buckets), by bisection on t_C.
fn exact_che(n: usize, s: f64, capacity: f64) -> f64 {
    let q: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-s)).collect();
    let h: f64 = q.iter().sum();
    let occ = |t: f64| q.iter().map(|qi| 1.0 - (-qi / h * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1e12);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if occ(mid) < capacity {
            lo = mid
        } else {
            hi = mid
        }
    }
    q.iter()
        .map(|qi| qi / h * (1.0 - (-qi / h * lo).exp()))
        .sum()
}

#[test]
fn lru_hit_ratio_within_0_02_of_ches_approximation() {
    for (keys, s, cap) in [
        (20_000usize, 0.8, 1_000.0),
        (50_000, 1.0, 2_500.0),
        (20_000, 0.6, 5_000.0),
    ] {
        let mut w = World::new(Arc::new(cache_level(keys as f64, s, cap)), 1).unwrap();
        let r = settle(&mut w, 50);
        let h = node(&r, "cache").hit_ratio.unwrap();
        let exact = exact_che(keys, s, cap);
        assert!(
            (h - exact).abs() < 0.02,
            "N={keys} s={s} C={cap}: {h} vs {exact}"
        );
        // The database sees exactly the misses.
        let db = node(&r, "db").in_rps;
        assert!(
            (db - 1000.0 * (1.0 - h)).abs() < 5.0,
            "db load {db} for hit ratio {h}"
        );
    }
}

#[test]
fn a_flushed_cache_warms_up_along_the_popularity_curve() {
    let mut lv = cache_level(20_000.0, 0.9, 2_000.0);
    lv.faults = vec![
        toml::from_str::<stampede_sim::fault::FaultSpec>(
            "at_s = 10\nfault = \"flush_cache\"\nnode = \"cache\"",
        )
        .unwrap(),
    ];
    let mut w = World::new(Arc::new(lv), 1).unwrap();
    let steady = node(&settle(&mut w, 100), "cache").hit_ratio.unwrap();
    // After n requests the warm hit ratio is Σ qᵢ(1 − e^{−qᵢ n}), the same sum Che's uses; a
    // tick's own reads count at its midpoint.
    let q: Vec<f64> = (1..=20_000).map(|i| f64::from(i).powf(-0.9)).collect();
    let h: f64 = q.iter().sum();
    let warm = |n: f64| {
        q.iter()
            .map(|qi| qi / h * (1.0 - (-qi / h * n).exp()))
            .sum::<f64>()
    };
    let just_after = node(w.step(), "cache").hit_ratio.unwrap();
    assert!(
        just_after < 0.5 * steady,
        "a flushed cache starts cold: {just_after} vs steady {steady}"
    );
    assert!(
        (just_after - warm(50.0)).abs() < 0.02,
        "first tick {just_after} vs {}",
        warm(50.0)
    );
    let got = node(&settle(&mut w, 5), "cache").hit_ratio.unwrap();
    assert!(
        (got - warm(550.0)).abs() < 0.02,
        "warm-up {got} vs {}",
        warm(550.0)
    );
    let later = node(&settle(&mut w, 300), "cache").hit_ratio.unwrap();
    assert!(
        (later - steady).abs() < 0.01,
        "back to steady {later} vs {steady}"
    );
}

fn limiter_level(rps: f64, limit: f64) -> Level {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/levels/mmc.toml"
    ))
    .unwrap();
    let mut lv = Level::from_toml("mmc.toml", &text).unwrap();
    lv.traffic.points = vec![(0.0, rps)];
    lv.components[1].concurrency = Some(1000);
    lv.components[1].kind = stampede_sim::level::Kind::RateLimiter;
    lv.components[1].defaults.rate_limit_rps = Some(limit);
    lv.components[1].defaults.rate_limit_burst = Some(limit * 2.0);
    lv
}

#[test]
fn token_bucket_admits_min_of_lambda_and_r() {
    for (rps, limit) in [(500.0, 200.0), (150.0, 200.0), (1000.0, 50.0)] {
        let mut w = World::new(Arc::new(limiter_level(rps, limit)), 1).unwrap();
        let mut admitted = 0.0;
        let mut ticks = 0.0;
        for t in 0..600 {
            let r = w.step();
            if t >= 100 {
                let n = node(r, "server");
                admitted += n.in_rps - n.dropped_rps;
                ticks += 1.0;
            }
        }
        let got = admitted / ticks;
        let want = f64::min(rps, limit);
        assert!(
            (got / want - 1.0).abs() < 0.005,
            "λ={rps} r={limit}: admitted {got} vs {want}"
        );
    }
    // Over any interval T, admitted ≤ b + rT, starting from a full bucket.
    let mut w = World::new(Arc::new(limiter_level(10_000.0, 100.0)), 1).unwrap();
    let first_second: f64 = (0..10)
        .map(|_| {
            let n = node(w.step(), "server");
            (n.in_rps - n.dropped_rps) * 0.1
        })
        .sum();
    assert!(
        first_second <= 200.0 + 100.0 + 1e-6,
        "admitted {first_second} in the first second"
    );
    assert!(
        first_second >= 200.0,
        "a full bucket lets its burst through: {first_second}"
    );
}

#[test]
fn retry_amplification_matches_the_geometric_sum() {
    // Four instances behind a load balancer; one is dead but its health check never notices,
    // so every attempt fails independently with p = 1/4.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../levels/01-scale-out.toml"
    ))
    .unwrap();
    let mut lv = Level::from_toml("01", &text).unwrap();
    lv.traffic.points = vec![(0.0, 100.0)];
    lv.traffic.noise = false;
    lv.objectives.outage_s = 1000.0;
    lv.solutions.clear();
    lv.faults =
        vec![toml::from_str("at_s = 1\nfault = \"crash\"\nnode = \"web\"\ninstances = 1").unwrap()];
    for retries in [0u32, 1, 2, 3] {
        let mut w = World::new(Arc::new(lv.clone()), 1).unwrap();
        let acts: Vec<Action> = serde_json::from_str(&format!(
            r#"[
            {{"op": "add_node", "id": "lb", "component": "load-balancer", "config": {{"health_check_s": 300, "unhealthy_after": 10}}}},
            {{"op": "scale", "id": "web", "instances": 4}},
            {{"op": "disconnect", "from": "users", "to": "web"}},
            {{"op": "connect", "from": "users", "to": "lb", "config": {{"retries": {retries}, "backoff_ms": 0}}}},
            {{"op": "connect", "from": "lb", "to": "web"}}
        ]"#
        ))
        .unwrap();
        for a in &acts {
            w.apply(a).unwrap();
        }
        let r = settle(&mut w, 900);
        let p: f64 = 0.25;
        let attempts_per_request: f64 = (0..=retries).map(|i| p.powi(i as i32)).sum();
        let got = r.system.attempts / r.system.offered;
        assert!(
            (got / attempts_per_request - 1.0).abs() < 0.01,
            "r={retries}: {got} vs {attempts_per_request}"
        );
        let final_failure = p.powi(retries as i32 + 1);
        assert!(
            (r.system.error_rate - final_failure).abs() < 0.002,
            "r={retries}: {} vs {final_failure}",
            r.system.error_rate
        );
    }
}
