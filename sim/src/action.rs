//! Player actions: the intents a client sends, validated by the world before they apply.
//! Invariant: an action either applies whole or is refused with a reason; it never half-applies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::arch::{EdgeConfig, NodeConfig};

/// One change to the architecture. The JSON shape is the protocol's `action` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(optional_fields))]
pub enum Action {
    /// Place a node.
    AddNode {
        /// New node id (`a-z 0-9 -`).
        id: String,
        /// Component template.
        component: String,
        /// Instance type (default: the component's first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance_type: Option<String>,
        /// Instances (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instances: Option<u32>,
        /// Region (default: the level's first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
        /// Settings over the component's defaults.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<NodeConfig>,
    },
    /// Remove a node and its edges.
    RemoveNode {
        /// Node id.
        id: String,
    },
    /// Make `from` call `to`.
    Connect {
        /// Caller.
        from: String,
        /// Callee.
        to: String,
        /// Edge settings.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<EdgeConfig>,
    },
    /// Remove the edge `from → to`.
    Disconnect {
        /// Caller.
        from: String,
        /// Callee.
        to: String,
    },
    /// Change a node's settings (only the fields given).
    ConfigureNode {
        /// Node id.
        id: String,
        /// Settings to change.
        config: NodeConfig,
    },
    /// Change an edge's settings (only the fields given).
    ConfigureEdge {
        /// Caller.
        from: String,
        /// Callee.
        to: String,
        /// Settings to change.
        config: EdgeConfig,
    },
    /// Move a node to another instance type; instances restart one at a time.
    Resize {
        /// Node id.
        id: String,
        /// New instance type.
        instance_type: String,
    },
    /// Set the number of instances; new ones boot first.
    Scale {
        /// Node id.
        id: String,
        /// Instances wanted.
        instances: u32,
    },
    /// Promote a database replica now.
    FailOver {
        /// Database node id.
        id: String,
    },
    /// Take a node out of (or back into) its load balancers' rotation.
    Drain {
        /// Node id.
        id: String,
        /// True to drain, false to return it.
        #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
        #[serde(default = "yes")]
        drain: bool,
    },
}

fn yes() -> bool {
    true
}

/// Why an action was refused: a stable code and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Refusal {
    /// Stable machine code, e.g. `over_budget`.
    pub code: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}
