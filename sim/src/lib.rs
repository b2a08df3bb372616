//! Stampede's simulation engine: a deterministic, fluid-flow model of a player's architecture
//! under a level's traffic and faults (see SIMULATION.md and `sim/SPEC.md`).
//! Invariant: pure. No IO, no clock, no global RNG, no hash-order iteration: the same level,
//! seed and stamped actions give the same report stream, bit for bit, on any machine that runs
//! the same engine version (its transcendental functions are bundled: `math`).
#![warn(missing_docs)]

pub mod action;
mod alerts;
pub mod arch;
pub mod cache;
pub mod dist;
pub mod fault;
mod flow;
pub mod level;
mod math;
mod observe;
pub mod queueing;
pub mod report;
pub mod rng;
mod world;

pub use action::{Action, Refusal};
pub use level::{Level, LevelError, TimedAction};
pub use report::{RunResult, TickReport};
pub use world::{World, arch_cost};

/// Engine version, recorded in receipts: a receipt re-simulates only on the same engine.
pub const ENGINE_VERSION: &str = concat!("stampede-sim/", env!("CARGO_PKG_VERSION"));
