//! Criterion benchmarks of what the engine costs a server: one tick of a realistic 30-node,
//! 45-edge architecture (`bench-30.toml`) at steady load and in overload, and a whole 10-minute
//! attempt replayed from an action script, from `World::new` to the `RunResult`.
//! Targets (SIMULATION.md §1.2 and the issue): at most 10 µs per room-tick, and a 10-minute
//! replay under 100 ms on a 2-core machine. Run with
//! `cargo bench -p stampede-sim --bench tick -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Bencher, Criterion, SamplingMode, criterion_group, criterion_main};
use stampede_sim::fault::{Fault, FaultSpec};
use stampede_sim::level::Spike;
use stampede_sim::{Level, TimedAction, World};

/// The architecture, all in `[start]`, at 2 000 req/s.
const LEVEL: &str = include_str!("bench-30.toml");
/// Ticks simulated before measuring, so caches, queues and pools have settled (60 s).
const WARM_UP_TICKS: u64 = 600;
/// Traffic multiplier of the overload case: the web tier's pools exhaust waiting on a saturated
/// catalog and search tier, backlogs grow to their bounds, and timeouts turn into retries.
const OVERLOAD: f64 = 2.0;
/// Seed of every world here.
const SEED: u64 = 7;

fn base_level() -> Level {
    Level::from_toml("benches/bench-30.toml", LEVEL).unwrap_or_else(|e| panic!("{e}"))
}

/// The level for per-tick measurements: the longest run a level may have (fewer resets), and
/// no early end in outage (an ended world's `step` is free and would flatter the figure).
fn tick_level(traffic_multiplier: f64) -> Arc<Level> {
    let mut level = base_level();
    level.duration_s = 3600.0;
    level.objectives.outage_error_rate = 1.0;
    for point in &mut level.traffic.points {
        point.1 *= traffic_multiplier;
    }
    Arc::new(level)
}

/// A world after `WARM_UP_TICKS` ticks.
fn warmed(level: Arc<Level>) -> World {
    let mut world = World::new(level, SEED).unwrap_or_else(|r| panic!("{r}"));
    for _ in 0..WARM_UP_TICKS {
        world.step();
    }
    world
}

/// Times `world.step()` alone. When the run nears its end the world is replaced by a clone of the
/// warmed one, outside the timed section.
#[expect(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "a benchmark reads the wall clock; the engine it measures never does"
)]
fn bench_steps(b: &mut Bencher<'_>, start: &World) {
    let mut world = start.clone();
    let last = start.level().total_ticks() - 1;
    b.iter_custom(|iters| {
        let mut left = iters;
        let mut spent = Duration::ZERO;
        while left > 0 {
            if world.tick() >= last {
                world = start.clone();
            }
            let n = left.min(last - world.tick());
            let t0 = std::time::Instant::now();
            for _ in 0..n {
                black_box(world.step());
            }
            spent += t0.elapsed();
            left -= n;
        }
        assert!(!world.is_over(), "the world ended while being measured");
        spent
    });
}

fn ticks(c: &mut Criterion) {
    let steady = warmed(tick_level(1.0));
    let overload = warmed(tick_level(OVERLOAD));
    let o = &overload.last_report().system;
    assert!(
        o.error_rate > 0.05
            && overload
                .last_report()
                .nodes
                .iter()
                .any(|n| n.state == "saturated"),
        "the overload case should saturate some tier (error rate {})",
        o.error_rate
    );
    // A room of the campaign as played: level 5's reference architecture (6 nodes, 2 classes).
    let mut retry = campaign_level("05-retry-storm");
    retry.duration_s = 3600.0;
    let retry = Arc::new(retry);
    let mut played = World::new(Arc::clone(&retry), SEED).unwrap_or_else(|r| panic!("{r}"));
    for a in &retry.solutions[0].actions {
        played.apply(&a.action).unwrap_or_else(|r| panic!("{r}"));
    }
    for _ in 0..WARM_UP_TICKS {
        played.step();
    }
    let mut g = c.benchmark_group("tick");
    g.bench_function("30-node steady", |b| bench_steps(b, &steady));
    g.bench_function("30-node overload", |b| bench_steps(b, &overload));
    g.bench_function("level 05 reference", |b| bench_steps(b, &played));
    g.finish();
}

/// A level of the campaign, from `levels/`.
fn campaign_level(id: &str) -> Level {
    let path = format!("{}/../levels/{id}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Level::from_toml(&path, &text).unwrap_or_else(|e| panic!("{e}"))
}

fn fault(at_s: f64, for_s: f64, fault: Fault) -> FaultSpec {
    FaultSpec { at_s, for_s, fault }
}

/// A 10-minute attempt: a ramp with a spike, five faults, and a player reacting to them.
fn replay_level() -> Arc<Level> {
    let mut level = base_level();
    level.traffic.points = vec![
        (0.0, 1500.0),
        (120.0, 2000.0),
        (300.0, 2400.0),
        (480.0, 2000.0),
        (600.0, 1800.0),
    ];
    level.traffic.spikes = vec![Spike {
        at_s: 200.0,
        for_s: 30.0,
        multiplier: 1.3,
    }];
    let node = |id: &str| id.to_owned();
    level.faults = vec![
        fault(
            150.0,
            60.0,
            Fault::SlowNode {
                node: node("recs-db"),
                factor: 4.0,
            },
        ),
        fault(
            250.0,
            0.0,
            Fault::FlushCache {
                node: node("catalog-cache"),
            },
        ),
        fault(
            330.0,
            90.0,
            Fault::Crash {
                node: node("web-2"),
                instances: Some(2),
            },
        ),
        fault(
            420.0,
            0.0,
            Fault::FailPrimary {
                node: node("accounts-db"),
            },
        ),
        fault(500.0, 60.0, Fault::HotKey { share: 0.05 }),
    ];
    Arc::new(level)
}

/// The player's actions, in the protocol's JSON shape.
fn replay_script() -> Vec<TimedAction> {
    let json = r#"[
        {"tick": 0,    "action": {"op": "configure_edge", "from": "catalog", "to": "recs", "config": {"timeout_ms": 120}}},
        {"tick": 1550, "action": {"op": "scale", "id": "search", "instances": 5}},
        {"tick": 1600, "action": {"op": "configure_edge", "from": "catalog", "to": "search", "config": {"timeout_ms": 200, "retry_budget": 0.1}}},
        {"tick": 2600, "action": {"op": "configure_node", "id": "catalog-cache", "config": {"ttl_s": 300}}},
        {"tick": 3400, "action": {"op": "scale", "id": "web-1", "instances": 8}},
        {"tick": 3450, "action": {"op": "add_node", "id": "web-4", "component": "web", "instances": 4}},
        {"tick": 3451, "action": {"op": "connect", "from": "web-4", "to": "catalog", "config": {"classes": ["read"], "timeout_ms": 300, "retries": 2, "backoff_ms": 50, "jitter": true, "retry_budget": 0.2}}},
        {"tick": 3452, "action": {"op": "connect", "from": "web-4", "to": "accounts", "config": {"classes": ["read", "write"], "timeout_ms": 500, "retries": 1, "pool": 64}}},
        {"tick": 3453, "action": {"op": "connect", "from": "web-4", "to": "orders", "config": {"classes": ["write"], "timeout_ms": 2000, "retries": 1}}},
        {"tick": 3454, "action": {"op": "connect", "from": "web-4", "to": "static-origin", "config": {"classes": ["static"]}}},
        {"tick": 3460, "action": {"op": "connect", "from": "lb-a", "to": "web-4"}},
        {"tick": 3461, "action": {"op": "connect", "from": "lb-b", "to": "web-4"}},
        {"tick": 4800, "action": {"op": "configure_edge", "from": "web-3", "to": "catalog", "config": {"jitter": true, "retry_budget": 0.1}}},
        {"tick": 5200, "action": {"op": "resize", "id": "orders", "instance_type": "medium"}},
        {"tick": 5500, "action": {"op": "drain", "id": "web-2"}},
        {"tick": 5700, "action": {"op": "drain", "id": "web-2", "drain": false}},
        {"tick": 5800, "action": {"op": "disconnect", "from": "order-worker", "to": "notify"}}
    ]"#;
    serde_json::from_str(json).unwrap_or_else(|e| panic!("replay script: {e}"))
}

/// Plays the script once, checking that every action applies and the run lasts all 6 000 ticks,
/// so the benchmark measures the attempt it claims to.
fn check_replay(level: &Arc<Level>, script: &[TimedAction]) {
    let mut world = World::new(Arc::clone(level), SEED).unwrap_or_else(|r| panic!("{r}"));
    let total = level.total_ticks();
    let mut next = 0;
    while world.tick() < total && !world.is_over() {
        while next < script.len() && script[next].tick <= world.tick() {
            if let Err(r) = world.apply(&script[next].action) {
                panic!("replay action {next} refused: {r}");
            }
            next += 1;
        }
        world.step();
    }
    let result = world.finish();
    assert!(
        result.survived && result.ticks == total,
        "the replay should last the whole level: {result:?}"
    );
}

fn replay(c: &mut Criterion) {
    let level = replay_level();
    let script = replay_script();
    check_replay(&level, &script);
    let mut g = c.benchmark_group("replay");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("10-minute attempt", |b| {
        b.iter(|| {
            let mut world = World::new(Arc::clone(&level), SEED).unwrap_or_else(|r| panic!("{r}"));
            world.run_script(&script, |report| {
                black_box(report);
            })
        });
    });
    // The same attempt as the server checks a receipt: system metrics and the result, without
    // per-node and per-edge detail (which never changes the run).
    g.bench_function("10-minute attempt, receipt check", |b| {
        b.iter(|| {
            let mut world = World::new(Arc::clone(&level), SEED).unwrap_or_else(|r| panic!("{r}"));
            world.set_detailed_reports(false);
            world.run_script(&script, |report| {
                black_box(report);
            })
        });
    });
    // The replay a receipt verification runs: a whole attempt of a campaign level, stretched to
    // ten minutes with its reference solution.
    let mut failover = campaign_level("04-failover");
    failover.duration_s = 600.0;
    let failover = Arc::new(failover);
    let actions = failover.solutions[0].actions.clone();
    g.bench_function("10-minute attempt, level 04", |b| {
        b.iter(|| {
            let mut world =
                World::new(Arc::clone(&failover), SEED).unwrap_or_else(|r| panic!("{r}"));
            world.run_script(&actions, |report| {
                black_box(report);
            })
        });
    });
    g.finish();
}

criterion_group!(benches, ticks, replay);
criterion_main!(benches);
