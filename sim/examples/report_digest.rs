//! A digest of every tick report of a fixed set of runs, to check that a change to the engine
//! leaves its results bit-identical: run it before and after, and the lines must match.
//! Invariant: the runs here are fixed (levels, seeds, scripts); only the engine may change.
//! Run with `cargo run --release -p stampede-sim --example report_digest`.

use std::sync::Arc;

use stampede_sim::fault::{Fault, FaultSpec};
use stampede_sim::level::Spike;
use stampede_sim::{Level, TimedAction, World};

/// FNV-1a over bytes: stable across builds, enough to tell two report streams apart.
struct Digest(u64);

impl Digest {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Runs `level` with `actions` and prints the digest of its report stream and result.
fn run(name: &str, level: Arc<Level>, seed: u64, actions: &[TimedAction]) {
    let mut world = World::new(level, seed).unwrap_or_else(|r| panic!("{name}: {r}"));
    let mut digest = Digest::new();
    let mut ticks = 0u64;
    let result = world.run_script(actions, |report| {
        let json = serde_json::to_string(report).unwrap_or_else(|e| panic!("{e}"));
        digest.feed(json.as_bytes());
        ticks += 1;
    });
    let json = serde_json::to_string(&result).unwrap_or_else(|e| panic!("{e}"));
    digest.feed(json.as_bytes());
    println!("{name:<40} {ticks:>6} ticks  {:016x}", digest.0);
}

fn bench_level() -> Level {
    let text = include_str!("../benches/bench-30.toml");
    Level::from_toml("bench-30.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn campaign_level(id: &str) -> Level {
    let path = format!("{}/../levels/{id}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Level::from_toml(&path, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// The benchmark level under `multiplier` × its traffic, without an early end.
fn loaded(multiplier: f64) -> Arc<Level> {
    let mut level = bench_level();
    level.duration_s = 300.0;
    level.objectives.outage_error_rate = 1.0;
    for point in &mut level.traffic.points {
        point.1 *= multiplier;
    }
    Arc::new(level)
}

fn fault(at_s: f64, for_s: f64, fault: Fault) -> FaultSpec {
    FaultSpec { at_s, for_s, fault }
}

/// The benchmark's 10-minute attempt (`benches/tick.rs`): ramp, spike, five faults.
fn replay_level() -> Arc<Level> {
    let mut level = bench_level();
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

/// The benchmark's player actions.
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

fn main() {
    run("bench-30 steady", loaded(1.0), 7, &[]);
    run("bench-30 overload x2", loaded(2.0), 7, &[]);
    run("bench-30 overload x3", loaded(3.0), 3, &[]);
    run("bench-30 replay", replay_level(), 7, &replay_script());
    for id in [
        "01-scale-out",
        "02-cache-aside",
        "03-cache-stampede",
        "04-failover",
        "05-retry-storm",
    ] {
        let level = Arc::new(campaign_level(id));
        run(&format!("{id} as given"), Arc::clone(&level), 1, &[]);
        for (i, sol) in level.solutions.iter().enumerate() {
            run(
                &format!("{id} solution {i}"),
                Arc::clone(&level),
                5,
                &sol.actions,
            );
        }
    }
}
