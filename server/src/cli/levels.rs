//! Loading level files and `stampede levels check`: every level must load, its reference
//! solutions must pass with the top star, and doing nothing must fail.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use stampede_server::Catalog;
use stampede_sim::level::SolutionRole;
use stampede_sim::{Level, RunResult, World};

/// `./levels` when it exists (a checkout), else the levels beside this crate's source.
pub(crate) fn default_dir() -> PathBuf {
    let here = PathBuf::from("levels");
    if here.is_dir() {
        here
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../levels"))
    }
}

/// A level by id from `dir` (the server's catalog), or from a file path.
pub(crate) fn load_one(dir: &Path, id_or_path: &str) -> anyhow::Result<Level> {
    let path = Path::new(id_or_path);
    if path.extension().is_some_and(|x| x == "toml") || path.is_file() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(Level::from_toml(&path.display().to_string(), &text)?);
    }
    let catalog = Catalog::load(dir)?;
    match catalog.get(id_or_path) {
        Some(level) => Ok((*level).clone()),
        None => {
            let ids: Vec<&str> = catalog.all().map(|l| l.id.as_str()).collect();
            anyhow::bail!(
                "no level `{id_or_path}` in {} (levels: {})",
                dir.display(),
                ids.join(", ")
            )
        }
    }
}

/// The JSON Schema of level files.
pub(crate) fn schema() -> anyhow::Result<String> {
    Ok(Level::json_schema())
}

fn play(level: &Level, actions: &[stampede_sim::TimedAction]) -> anyhow::Result<RunResult> {
    let mut world = World::new(Arc::new(level.clone()), level.seed)
        .map_err(|r| anyhow::anyhow!("{}: {r}", level.id))?;
    Ok(world.run_script(actions, |_| {}))
}

/// Plays every level's runs and prints the table; exit code 1 when any expectation fails.
pub(crate) fn check(dir: &Path) -> anyhow::Result<i32> {
    let catalog = Catalog::load(dir)?;
    let levels: Vec<&Level> = catalog.all().map(|l| &**l).collect();
    let mut failures = Vec::new();
    println!(
        "| level | run | passed | stars | score | SLO met | availability | cost $/h | verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for level in &levels {
        let nothing = play(level, &[])?;
        let mut rows = vec![("do nothing".to_owned(), nothing.clone(), !nothing.passed)];
        let reference_score = level
            .solutions
            .iter()
            .filter(|s| s.role == SolutionRole::Reference)
            .map(|s| play(level, &s.actions))
            .collect::<Result<Vec<_>, _>>()?;
        let best_reference = reference_score
            .iter()
            .map(|r| r.score)
            .fold(f64::NAN, f64::max);
        let mut refs = reference_score.into_iter();
        for sol in &level.solutions {
            let (result, ok) = match sol.role {
                SolutionRole::Reference => {
                    let r = refs.next().context("reference result")?;
                    let ok = r.passed && r.stars == 3;
                    (r, ok)
                }
                SolutionRole::Naive => {
                    let r = play(level, &sol.actions)?;
                    // "Clearly worse": at least 100 points (a tenth of the scale) below the reference.
                    let ok = r.score <= best_reference - 100.0 || best_reference.is_nan();
                    (r, ok)
                }
            };
            rows.push((
                format!("{} ({:?})", sol.name, sol.role).to_lowercase(),
                result,
                ok,
            ));
        }
        if !level
            .solutions
            .iter()
            .any(|s| s.role == SolutionRole::Reference)
        {
            failures.push(format!("{}: no reference solution", level.id));
        }
        for (name, r, ok) in rows {
            println!(
                "| {} | {} | {} | {} | {:.0} | {:.1}% | {:.3}% | {:.2} | {} |",
                level.id,
                name,
                if r.passed { "yes" } else { "no" },
                "★".repeat(r.stars as usize),
                r.score,
                r.slo_compliance * 100.0,
                r.availability * 100.0,
                r.avg_cost_per_hour,
                if ok { "ok" } else { "UNEXPECTED" }
            );
            if !ok {
                failures.push(format!(
                    "{}: {name}: {}",
                    level.id,
                    r.failure
                        .clone()
                        .unwrap_or_else(|| "unexpected result".to_owned())
                ));
            }
        }
    }
    if failures.is_empty() {
        println!("\nall {} level(s) behave as intended", levels.len());
        Ok(0)
    } else {
        eprintln!("\nlevels check failed:");
        for f in &failures {
            eprintln!("- {f}");
        }
        Ok(1)
    }
}
