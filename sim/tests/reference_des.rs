//! Scenario traces: the fluid engine held against the request-level reference simulator in
//! `tests/reference` on a retry storm and a cache flush (SIMULATION.md §1.6).
//! Invariant: both sides run the same scenario (the level file here is the DES's configuration
//! too), are compared on the same per-second bins, and every tolerance is tight enough that the
//! engine getting the mechanism wrong (no amplification, no wasted work, no warm-up) fails it.

mod reference;

use std::sync::Arc;

use stampede_sim::fault::Fault;
use stampede_sim::{Level, TickReport, World};

use reference::{CacheFlush, RetryStorm};

/// Loads `tests/levels/<name>`.
fn load(name: &str) -> Level {
    let path = format!("{}/tests/levels/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Level::from_toml(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the whole level and returns every tick's report.
fn run_engine(level: &Level) -> Vec<TickReport> {
    let mut world = World::new(Arc::new(level.clone()), 1).expect("the level builds");
    (0..level.total_ticks())
        .map(|_| world.step().clone())
        .collect()
}

/// Per-second means of a per-tick rate, matching the DES's one-second bins.
fn per_second(reports: &[TickReport], hz: usize, f: impl Fn(&TickReport) -> f64) -> Vec<f64> {
    reports
        .chunks(hz)
        .map(|c| c.iter().map(&f).sum::<f64>() / c.len() as f64)
        .collect()
}

fn mean(v: &[f64], from: usize, to: usize) -> f64 {
    v[from..to].iter().sum::<f64>() / (to - from) as f64
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-9)
}

fn node(r: &TickReport, id: &str) -> usize {
    r.nodes
        .iter()
        .position(|n| n.id == id)
        .expect("node exists")
}

/// The DES configuration the retry-storm level describes (read from the level, not restated).
fn storm_des(level: &Level) -> RetryStorm {
    let server = level.component("server").expect("server component");
    let edge = level.start.edges[0].config.clone().expect("edge config");
    let (slow_from, slow_until, slow_factor) = level
        .faults
        .iter()
        .find_map(|f| match f.fault {
            Fault::SlowNode { factor, .. } => Some((f.at_s, f.at_s + f.for_s, factor)),
            _ => None,
        })
        .expect("a slow_node fault");
    RetryStorm {
        rate: level.traffic.points[0].1,
        servers: server.concurrency.expect("fixed concurrency") as usize,
        service_s: server.service["default"].ms / 1000.0,
        slow_factor,
        slow_from,
        slow_until,
        timeout_s: edge.timeout_ms.expect("timeout") / 1000.0,
        retries: edge.retries.expect("retries"),
        backoff_s: edge.backoff_ms.expect("backoff") / 1000.0,
        duration_s: level.duration_s,
    }
}

/// One quantity as the engine and as the reference measured it.
#[derive(Debug, Clone, Copy)]
struct Pair {
    engine: f64,
    des: f64,
}

/// Phase means of two per-second series over `[from, to)`.
fn phase(engine: &[f64], des: &[f64], from: usize, to: usize) -> Pair {
    Pair {
        engine: mean(engine, from, to),
        des: mean(des, from, to),
    }
}

/// First second at or after `from` whose goodput reaches half the offered rate again.
fn recovered_at(goodput: &[f64], offered: &[f64], from: usize) -> usize {
    (from..goodput.len())
        .find(|&t| goodput[t] >= 0.5 * offered[t])
        .unwrap_or(goodput.len())
}

#[test]
fn retry_storm_trace_matches_the_reference() {
    let level = load("retry-storm.toml");
    let hz = level.tick_hz as usize;
    let cfg = storm_des(&level);
    let (fault_on, fault_off) = (cfg.slow_from as usize, cfg.slow_until as usize);
    // 24 runs × 100 req/s: about 0.7 % noise on a calm phase mean, 2 % on one second.
    let des = cfg.ensemble(0x5eed_0001, 24);
    let eng = run_engine(&level);
    let s = node(&eng[0], "server");
    let e_att = per_second(&eng, hz, |r| r.system.attempts);
    let e_good = per_second(&eng, hz, |r| r.system.goodput);
    let e_off = per_second(&eng, hz, |r| r.system.offered);
    let e_retry = per_second(&eng, hz, |r| r.edges[0].retries_rps);
    let e_served = per_second(&eng, hz, |r| r.nodes[s].served_rps);
    let (d_att, d_good, d_off) = (&des.attempts.0, &des.goodput.0, &des.offered.0);
    let (d_retry, d_served) = (&des.retries.0, &des.served.0);
    let end = e_att.len();

    // Calm before the fault (skipping the first second, where the engine's queue fills from 0).
    let calm = [
        phase(&e_att, d_att, 1, fault_on),
        phase(&e_good, d_good, 1, fault_on),
    ];
    for (what, p) in ["attempts/s", "goodput/s"].iter().zip(calm) {
        assert!(
            rel(p.engine, p.des) < 0.03,
            "calm {what}: engine {:.1} vs DES {:.1}",
            p.engine,
            p.des
        );
    }
    let calm_retries = phase(&e_retry, d_retry, 1, fault_on);
    assert!(calm_retries.engine < 0.5 && calm_retries.des < 0.5);
    let e_err = per_second(&eng, hz, |r| r.system.error_rate);
    let d_err: Vec<f64> = (0..end)
        .map(|t| des.failed.0[t] / d_off[t].max(1.0))
        .collect();
    let calm_err = phase(&e_err, &d_err, 1, fault_on);
    assert!(
        calm_err.engine < 0.01 && calm_err.des < 0.01,
        "calm error rate: engine {:.4} vs DES {:.4}",
        calm_err.engine,
        calm_err.des
    );

    // The storm while the server is slow, past the first two seconds of ignition: every request
    // times out, each makes 1 + r attempts, and the server burns its whole (reduced) capacity on
    // work nobody waits for.
    let (from, to) = (fault_on + 2, fault_off);
    let amp = Pair {
        engine: mean(&e_att, from, to) / mean(&e_off, from, to),
        des: mean(d_att, from, to) / mean(d_off, from, to),
    };
    let r1 = f64::from(cfg.retries + 1);
    assert!(
        amp.engine > 0.9 * r1 && amp.des > 0.9 * r1,
        "retry amplification: engine {:.2}× vs DES {:.2}× (r + 1 = {r1})",
        amp.engine,
        amp.des
    );
    assert!(
        rel(amp.engine, amp.des) < 0.05,
        "amplification: engine {:.2}× vs DES {:.2}×",
        amp.engine,
        amp.des
    );
    let storm_served = phase(&e_served, d_served, from, to);
    let slowed_capacity = cfg.servers as f64 / (cfg.service_s * cfg.slow_factor);
    assert!(
        rel(storm_served.engine, storm_served.des) < 0.05
            && rel(storm_served.des, slowed_capacity) < 0.05,
        "served/s in the storm: engine {:.1} vs DES {:.1} (capacity {slowed_capacity:.0})",
        storm_served.engine,
        storm_served.des
    );
    let storm_err = phase(&e_err, &d_err, from, to);
    assert!(
        storm_err.engine > 0.95 && storm_err.des > 0.95,
        "error rate in the storm: engine {:.3} vs DES {:.3}",
        storm_err.engine,
        storm_err.des
    );

    // The drain after the fault: load stays amplified at (r + 1)λ while the backlog built in the
    // storm is served at full capacity; nobody succeeds until it is shorter than the timeout.
    let recover_e = recovered_at(&e_good, &e_off, fault_off);
    let recover_d = recovered_at(d_good, d_off, fault_off);
    let drain = (fault_off, recover_e.min(recover_d) - 1);
    let drain_att = phase(&e_att, d_att, drain.0, drain.1);
    let drain_served = phase(&e_served, d_served, drain.0, drain.1);
    for (what, p) in [("attempts/s", drain_att), ("served/s", drain_served)] {
        assert!(
            rel(p.engine, p.des) < 0.05,
            "drain {what} over {drain:?}: engine {:.1} vs DES {:.1}",
            p.engine,
            p.des
        );
    }
    // Recovery time, and the requests lost and attempts made over the whole episode (10–32 s).
    // Measured: recovery at 27 s (engine) vs 26 s (DES); lost 1 610 vs 1 547; attempts 5 430 vs
    // 5 397. The engine treats a backlog beyond what the arrivals sustain as a FIFO delay with
    // the spread of Q services (queueing.rs), which is what makes the storm light and end on time:
    // with a stationary M/M/c spread instead it recovered 2–3 s early and lost 11–19 % too few.
    assert!(
        recover_e.abs_diff(recover_d) <= 2,
        "recovered (goodput ≥ ½ offered) at {recover_e} s in the engine vs {recover_d} s in the DES"
    );
    let episode = (fault_on, (fault_off + 16).min(end));
    assert!(
        recover_e.max(recover_d) + 3 <= episode.1,
        "still in the storm at {} s",
        episode.1
    );
    let lost = Pair {
        engine: (episode.0..episode.1).map(|t| e_off[t] - e_good[t]).sum(),
        des: (episode.0..episode.1).map(|t| d_off[t] - d_good[t]).sum(),
    };
    assert!(
        rel(lost.engine, lost.des) < 0.10,
        "requests lost over {episode:?}: engine {:.0} vs DES {:.0}",
        lost.engine,
        lost.des
    );
    let episode_att = Pair {
        engine: e_att[episode.0..episode.1].iter().sum(),
        des: d_att[episode.0..episode.1].iter().sum(),
    };
    assert!(
        rel(episode_att.engine, episode_att.des) < 0.05,
        "attempts over {episode:?}: engine {:.0} vs DES {:.0}",
        episode_att.engine,
        episode_att.des
    );

    // Calm again after the backlog is gone.
    let after = (episode.1, end);
    for (what, p) in [
        ("attempts/s", phase(&e_att, d_att, after.0, after.1)),
        ("goodput/s", phase(&e_good, d_good, after.0, after.1)),
    ] {
        assert!(
            rel(p.engine, p.des) < 0.03,
            "after the storm, {what} over {after:?}: engine {:.1} vs DES {:.1}",
            p.engine,
            p.des
        );
    }
    println!(
        "retry storm (engine | DES): calm attempts {:.1} | {:.1}; amplification {:.2} | {:.2}; \
         storm served {:.1} | {:.1}; drain attempts {:.1} | {:.1}; recovered at {recover_e} | \
         {recover_d} s; lost {:.0} | {:.0}; episode attempts {:.0} | {:.0}",
        calm[0].engine,
        calm[0].des,
        amp.engine,
        amp.des,
        storm_served.engine,
        storm_served.des,
        drain_att.engine,
        drain_att.des,
        lost.engine,
        lost.des,
        episode_att.engine,
        episode_att.des
    );
}

#[test]
fn retry_storm_at_high_load_is_metastable_in_both() {
    // At ρ = 0.7 the storm's (r + 1)λ = 2.1 cμ outlives its trigger (SIMULATION.md §2.9): once
    // the slowdown has lit it, the full-speed server never catches up again.
    let mut level = load("retry-storm.toml");
    let cfg0 = storm_des(&level);
    let capacity = cfg0.servers as f64 / cfg0.service_s;
    level.traffic.points = vec![(0.0, 0.7 * capacity)];
    level.duration_s = 40.0;
    let hz = level.tick_hz as usize;
    let cfg = storm_des(&level);
    let des = cfg.ensemble(0x5eed_0003, 6);
    let eng = run_engine(&level);
    let e_att = per_second(&eng, hz, |r| r.system.attempts);
    let e_good = per_second(&eng, hz, |r| r.system.goodput);
    let fault_on = cfg.slow_from as usize;
    let calm = phase(&e_good, &des.goodput.0, 1, fault_on);
    assert!(
        rel(calm.engine, calm.des) < 0.03,
        "calm goodput: engine {:.1} vs DES {:.1}",
        calm.engine,
        calm.des
    );
    // Long after the fault has ended.
    let (from, to) = (cfg.slow_until as usize + 10, e_att.len());
    let att = phase(&e_att, &des.attempts.0, from, to);
    let good = phase(&e_good, &des.goodput.0, from, to);
    let r1 = f64::from(cfg.retries + 1);
    assert!(
        rel(att.engine, r1 * cfg.rate) < 0.03 && rel(att.des, r1 * cfg.rate) < 0.03,
        "attempts/s after the trigger: engine {:.1} vs DES {:.1} (want {:.0})",
        att.engine,
        att.des,
        r1 * cfg.rate
    );
    assert!(
        good.engine < 0.01 * cfg.rate && good.des < 0.01 * cfg.rate,
        "goodput after the trigger: engine {:.1} vs DES {:.1}",
        good.engine,
        good.des
    );
    println!(
        "metastable (engine | DES): calm goodput {:.1} | {:.1}; attempts after the trigger \
         {:.1} | {:.1}; goodput after {:.2} | {:.2}",
        calm.engine, calm.des, att.engine, att.des, good.engine, good.des
    );
}

#[test]
fn cache_flush_trace_matches_the_reference() {
    let level = load("cache-flush.toml");
    let hz = level.tick_hz as usize;
    let eng = run_engine(&level);
    let c = node(&eng[0], "cache");
    let d = node(&eng[0], "db");
    let e_hit = per_second(&eng, hz, |r| r.nodes[c].hit_ratio.unwrap_or(f64::NAN));
    let e_db = per_second(&eng, hz, |r| r.nodes[d].in_rps);
    let cache = level
        .start
        .nodes
        .iter()
        .find(|n| n.id == "cache")
        .expect("a cache node");
    let itype = level
        .instance_type(level.component(&cache.component).unwrap().instance_types[0].as_str())
        .unwrap();
    let db = level.component("db").unwrap();
    let flush_at = level
        .faults
        .iter()
        .find(|f| matches!(f.fault, Fault::FlushCache { .. }))
        .expect("a flush_cache fault")
        .at_s;
    let cfg = CacheFlush {
        rate: level.traffic.points[0].1,
        keys: level.keys.count as usize,
        zipf_s: level.keys.zipf_s,
        capacity: (f64::from(cache.instances.unwrap_or(1)) * itype.memory_gb * 1e6
            / level.keys.item_kb)
            .round() as usize,
        flush_at,
        db_servers: db.concurrency.unwrap() as usize,
        db_service_s: db.service["default"].ms / 1000.0,
        duration_s: level.duration_s,
    };
    // 32 runs × 300 reads/s: hit-ratio noise about 0.005 per second.
    let des = cfg.ensemble(0x5eed_0002, 32);
    let d_hit = des.hit_ratio();
    let d_db = &des.db.0;
    let flush = flush_at as usize;
    let end = e_hit.len();

    // Steady state before the flush: Che's approximation against an exact LRU.
    let before = phase(&e_hit, &d_hit, 0, flush);
    assert!(
        (before.engine - before.des).abs() < 0.01,
        "steady hit ratio: engine {:.4} vs DES {:.4}",
        before.engine,
        before.des
    );
    for t in 0..flush {
        assert!(
            (e_hit[t] - d_hit[t]).abs() < 0.03,
            "hit ratio at {t} s: engine {:.3} vs DES {:.3}",
            e_hit[t],
            d_hit[t]
        );
    }
    // The warm-up curve, second by second. The engine trails by one tick (a tick's hit ratio
    // counts the reads of earlier ticks only), worth about 0.02 in the first second.
    let warm_end = (flush + 10).min(end);
    let mut worst = (0.0f64, flush);
    for t in flush..warm_end {
        let gap = (e_hit[t] - d_hit[t]).abs();
        if gap > worst.0 {
            worst = (gap, t);
        }
    }
    assert!(
        worst.0 < 0.04,
        "warm-up: worst gap {:.3} at {} s (engine {:.3} vs DES {:.3})",
        worst.0,
        worst.1,
        e_hit[worst.1],
        d_hit[worst.1]
    );
    // The curve must actually be a warm-up in both: cold right after the flush, then climbing.
    assert!(e_hit[flush] < 0.5 * before.engine && d_hit[flush] < 0.5 * before.des);
    assert!(e_hit[flush + 3] > e_hit[flush] + 0.1 && d_hit[flush + 3] > d_hit[flush] + 0.1);
    let after = phase(&e_hit, &d_hit, warm_end, end);
    assert!(
        (after.engine - after.des).abs() < 0.01,
        "hit ratio after warm-up: engine {:.4} vs DES {:.4}",
        after.engine,
        after.des
    );

    // Database load: steady, and the extra reads the flush cost it.
    let db_before = phase(&e_db, d_db, 0, flush);
    assert!(
        rel(db_before.engine, db_before.des) < 0.03,
        "steady db load: engine {:.1} vs DES {:.1}",
        db_before.engine,
        db_before.des
    );
    let extra = Pair {
        engine: (flush..warm_end).map(|t| e_db[t] - db_before.engine).sum(),
        des: (flush..warm_end).map(|t| d_db[t] - db_before.des).sum(),
    };
    assert!(
        rel(extra.engine, extra.des) < 0.15,
        "extra db reads after the flush: engine {:.0} vs DES {:.0}",
        extra.engine,
        extra.des
    );
    assert!(
        rel(e_db[flush], d_db[flush]) < 0.05,
        "db load in the first second after the flush: engine {:.1} vs DES {:.1}",
        e_db[flush],
        d_db[flush]
    );
    println!(
        "cache flush (engine | DES): steady hit {:.4} | {:.4}; first second after flush {:.3} | \
         {:.3}; worst warm-up gap {:.3} at {} s; after {:.4} | {:.4}; steady db {:.1} | {:.1}; \
         extra db reads {:.0} | {:.0}",
        before.engine,
        before.des,
        e_hit[flush],
        d_hit[flush],
        worst.0,
        worst.1,
        after.engine,
        after.des,
        db_before.engine,
        db_before.des,
        extra.engine,
        extra.des
    );
}

#[test]
fn reference_runs_are_deterministic_and_seeded() {
    let level = load("retry-storm.toml");
    let cfg = RetryStorm {
        duration_s: 20.0,
        ..storm_des(&level)
    };
    assert_eq!(cfg.run(7), cfg.run(7));
    assert_ne!(cfg.run(7), cfg.run(8));
}
