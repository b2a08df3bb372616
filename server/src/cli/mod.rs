//! Command-line interface: every setting is a flag with an environment variable.

mod levels;
mod serve;
mod sim;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Stampede: a multiplayer game for learning and competing at system design.
#[derive(Debug, Parser)]
#[command(name = "stampede", version, about)]
pub(crate) struct Cli {
    /// Directory holding the level files.
    #[arg(long, env = "STAMPEDE_LEVELS_DIR", global = true, default_value_os_t = levels::default_dir())]
    levels_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the game (the default): HTTP, WebSocket rooms, metrics.
    Serve(stampede_server::Config),
    /// Run a level headless: one JSON object per tick, then a summary with the score.
    Sim(sim::SimArgs),
    /// Work with level files.
    Levels {
        #[command(subcommand)]
        command: LevelsCommand,
    },
    /// Print the daily challenge as JSON: `{date, level, seed}`.
    Daily {
        /// UTC date, YYYY-MM-DD (default: today).
        #[arg(long, value_parser = stampede_server::daily::parse_date)]
        date: Option<time::Date>,
    },
}

#[derive(Debug, Subcommand)]
enum LevelsCommand {
    /// Validate every level, play its solutions and a do-nothing run, and print a table.
    Check {
        /// Rewrite the generated tables in the levels directory's README.md.
        #[arg(long, conflicts_with = "verify_readme")]
        write_readme: bool,
        /// Also fail when README.md's generated tables differ from this run's.
        #[arg(long)]
        verify_readme: bool,
    },
    /// Print the JSON Schema of level files.
    Schema,
}

/// Runs the command; returns the process exit code.
pub(crate) fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        None => serve::run(stampede_server::Config::default(), &cli.levels_dir),
        Some(Command::Serve(config)) => serve::run(config, &cli.levels_dir),
        Some(Command::Sim(args)) => sim::run(&cli.levels_dir, &args),
        Some(Command::Levels {
            command:
                LevelsCommand::Check {
                    write_readme,
                    verify_readme,
                },
        }) => levels::check(
            &cli.levels_dir,
            match (write_readme, verify_readme) {
                (true, _) => levels::Readme::Write,
                (_, true) => levels::Readme::Verify,
                _ => levels::Readme::Ignore,
            },
        ),
        Some(Command::Daily { date }) => levels::daily(&cli.levels_dir, date),
        Some(Command::Levels {
            command: LevelsCommand::Schema,
        }) => {
            println!("{}", levels::schema()?);
            Ok(0)
        }
    }
}
