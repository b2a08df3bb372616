//! A fixed workload for profiling the tick: the 30-node benchmark level, warmed, then 2 000
//! ticks. Run under `valgrind --tool=callgrind` or `perf stat` for repeatable counts.
//! Arguments: the number of ticks (default 2 600), then a traffic multiplier (default 1; the
//! benchmark's overload case is 2).

use std::sync::Arc;

use stampede_sim::{Level, World};

fn main() {
    let text = include_str!("../benches/bench-30.toml");
    let mut level = Level::from_toml("bench-30.toml", text).expect("the benchmark level loads");
    level.duration_s = 3600.0;
    level.objectives.outage_s = 1.0e9;
    let multiplier: f64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1.0);
    for point in &mut level.traffic.points {
        point.1 *= multiplier;
    }
    let mut world = World::new(Arc::new(level), 1).expect("its start architecture builds");
    let ticks: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2600);
    let mut sum = 0.0;
    for _ in 0..ticks {
        sum += world.step().system.goodput;
    }
    println!("{ticks} ticks, mean goodput {:.1}", sum / ticks as f64);
}
