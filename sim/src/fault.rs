//! Faults a level scripts (or a practice room injects): what breaks, where, when, for how long.
//! Invariant: a fault names only things the level defines; targets that the player may have
//! removed are skipped with an event, never a panic.

// Validation writes `!(x > 0.0)` on purpose: the negation also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::level::{Level, Origin};

/// A fault with its timing.
// NOTE: no `deny_unknown_fields` here: serde cannot combine it with `flatten`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FaultSpec {
    /// When it starts, s.
    #[serde(default)]
    pub at_s: f64,
    /// How long it lasts, s (0: instant, like a flush; crashes last until repaired).
    #[serde(default)]
    pub for_s: f64,
    /// What happens.
    #[serde(flatten)]
    pub fault: Fault,
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// Instances of a node crash (all when `instances` is absent); they come back after `for_s`
    /// if it is set, otherwise autoscaling or the player must replace them.
    Crash {
        /// Node id.
        node: String,
        /// How many instances.
        #[serde(default)]
        instances: Option<u32>,
    },
    /// An availability zone of a region goes dark: every node there loses its instances in it.
    LoseZone {
        /// Region.
        region: String,
    },
    /// A whole region goes dark.
    LoseRegion {
        /// Region.
        region: String,
    },
    /// A cache (or CDN) loses every entry.
    FlushCache {
        /// Node id.
        node: String,
    },
    /// One key becomes hot: it takes `share` of the reads.
    HotKey {
        /// Share of reads on the hottest key, in (0, 1).
        share: f64,
    },
    /// The hottest keys expire at once in a cache.
    ExpireHotKeys {
        /// Cache node id.
        node: String,
        /// How many of the most popular keys.
        #[serde(default = "one_key")]
        count: u32,
    },
    /// A node gets slower: service times × `factor`.
    SlowNode {
        /// Node id.
        node: String,
        /// Slow-down factor (> 1).
        factor: f64,
    },
    /// The database primary fails.
    FailPrimary {
        /// Database node id.
        node: String,
    },
    /// Calls between two regions time out.
    Partition {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// A bot class floods at `rps`.
    BotFlood {
        /// A class with `origin = "bot"`.
        class: String,
        /// Bot requests per second.
        rps: f64,
    },
    /// Traffic is multiplied by `multiplier`.
    TrafficSpike {
        /// Rate multiplier.
        multiplier: f64,
    },
}

fn one_key() -> u32 {
    1
}

impl FaultSpec {
    /// Checks the fault against the level.
    ///
    /// # Errors
    /// What is wrong, for a person.
    pub fn check(&self, level: &Level) -> Result<(), String> {
        if !(self.at_s >= 0.0
            && self.for_s >= 0.0
            && self.at_s.is_finite()
            && self.for_s.is_finite())
        {
            return Err("at_s and for_s must be ≥ 0".to_owned());
        }
        let region = |r: &str| {
            if level.regions.iter().any(|x| x.name == r)
                || (level.regions.is_empty() && r == "local")
            {
                Ok(())
            } else {
                Err(format!("no region `{r}`"))
            }
        };
        match &self.fault {
            Fault::HotKey { share } if !(*share > 0.0 && *share < 1.0) => {
                Err("share must be in (0, 1)".to_owned())
            }
            Fault::SlowNode { factor, .. } if !(*factor >= 1.0 && *factor <= 1000.0) => {
                Err("factor must be in [1, 1000]".to_owned())
            }
            Fault::ExpireHotKeys { count, .. } if !(1..=1000).contains(count) => {
                Err("count must be in 1..=1000".to_owned())
            }
            Fault::LoseZone { region: r } | Fault::LoseRegion { region: r } => region(r),
            Fault::Partition { a, b } => region(a).and_then(|()| region(b)),
            Fault::BotFlood { class, rps } => match level.classes.iter().find(|c| &c.name == class)
            {
                Some(c) if c.origin == Origin::Bot && *rps >= 0.0 => Ok(()),
                Some(_) => Err(format!(
                    "class `{class}` must have origin = \"bot\" and rps ≥ 0"
                )),
                None => Err(format!("no class `{class}`")),
            },
            Fault::TrafficSpike { multiplier } if !(*multiplier >= 0.0) => {
                Err("multiplier must be ≥ 0".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// A short sentence naming the fault, for events and alerts.
    pub fn describe(&self) -> String {
        match &self.fault {
            Fault::Crash {
                node,
                instances: Some(n),
            } => format!("{n} instance(s) of {node} crashed"),
            Fault::Crash {
                node,
                instances: None,
            } => format!("{node} crashed"),
            Fault::LoseZone { region } => format!("an availability zone of {region} went dark"),
            Fault::LoseRegion { region } => format!("region {region} went dark"),
            Fault::FlushCache { node } => format!("cache {node} was flushed: every entry is gone"),
            Fault::HotKey { share } => {
                format!("one key became hot: {:.0}% of reads", share * 100.0)
            }
            Fault::ExpireHotKeys { node, count } => {
                format!("the {count} hottest key(s) expired in {node}")
            }
            Fault::SlowNode { node, factor } => format!("{node} slowed down {factor}×"),
            Fault::FailPrimary { node } => format!("the primary of {node} failed"),
            Fault::Partition { a, b } => format!("network partition between {a} and {b}"),
            Fault::BotFlood { class, rps } => format!("bot flood: {rps:.0} req/s of {class}"),
            Fault::TrafficSpike { multiplier } => {
                format!("traffic spike: {multiplier}× the usual rate")
            }
        }
    }
}
