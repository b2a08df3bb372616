//! `stampede sim`: one level, headless, deterministic. Same inputs, same bytes out.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use stampede_sim::{TimedAction, World};

use super::levels;

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// Level id (looked up in the levels directory) or a path to a level file.
    #[arg(long)]
    level: String,
    /// Seed (default: the level's).
    #[arg(long)]
    seed: Option<u64>,
    /// JSON file with stamped actions: `[{"tick": 0, "action": {"op": "scale", ...}}]`.
    #[arg(long)]
    actions: Option<std::path::PathBuf>,
    /// Play one of the level's stored solutions by name instead.
    #[arg(long, conflicts_with = "actions")]
    solution: Option<String>,
    /// Stop after this many simulated seconds (default: the level's duration).
    #[arg(long)]
    duration: Option<f64>,
    /// Output: every tick as JSON lines then the summary, or the summary only.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Jsonl,
    Summary,
}

pub(crate) fn run(dir: &Path, args: &SimArgs) -> anyhow::Result<i32> {
    let level = levels::load_one(dir, &args.level)?;
    let actions: Vec<TimedAction> = match (&args.actions, &args.solution) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a list of stamped actions", path.display()))?
        }
        (None, Some(name)) => level
            .solutions
            .iter()
            .find(|s| &s.name == name)
            .with_context(|| format!("level {} has no solution named `{name}`", level.id))?
            .actions
            .clone(),
        (None, None) => Vec::new(),
    };
    let seed = args.seed.unwrap_or(level.seed);
    let total = match args.duration {
        Some(d) if d.is_finite() && d > 0.0 => {
            ((d * f64::from(level.tick_hz)).round() as u64).min(level.total_ticks())
        }
        Some(d) => anyhow::bail!("--duration must be a positive number of seconds, not {d}"),
        None => level.total_ticks(),
    };
    let mut world = World::new(Arc::new(level), seed)
        .map_err(|r| anyhow::anyhow!("start architecture: {r}"))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // The report callback cannot return an error: keep the first one and stop writing.
    let mut write_error: Option<std::io::Error> = None;
    let jsonl = args.format == Format::Jsonl;
    let result = world.run_script_until(
        &actions,
        total,
        |report| {
            if jsonl && write_error.is_none() {
                let line = serde_json::to_writer(&mut out, report).map_err(std::io::Error::from);
                if let Err(e) = line.and_then(|()| out.write_all(b"\n")) {
                    write_error = Some(e);
                }
            }
        },
        |i, refusal| {
            let tick = actions[i].tick;
            eprintln!(
                "tick {tick}: action {i} refused ({}): {}",
                refusal.code, refusal.message
            );
        },
    );
    if let Some(e) = write_error {
        return Err(e.into());
    }
    serde_json::to_writer(&mut out, &serde_json::json!({ "summary": result }))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(0)
}
