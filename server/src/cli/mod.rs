//! Command-line interface: every setting is a flag with an environment variable.

mod levels;
mod serve;
mod sim;
mod store;

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
    /// Apply the database migrations (the server also does at start) and exit.
    Migrate(stampede_server::Config),
    /// Work with leaderboards.
    Leaderboard {
        #[command(subcommand)]
        command: LeaderboardCommand,
    },
    /// Work with receipts.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Exit 0 when the server at ADDR is ready (for container health checks).
    Healthcheck {
        /// host:port of the server.
        #[arg(default_value = "127.0.0.1:8080", env = "STAMPEDE_ADDR")]
        addr: String,
    },
}

#[derive(Debug, Subcommand)]
enum LeaderboardCommand {
    /// Rebuild the leaderboard index (Redis when REDIS_URL is set) from SQL.
    Rebuild(stampede_server::Config),
}

#[derive(Debug, Subcommand)]
enum ReceiptCommand {
    /// Verify a receipt file offline: its signature, then a re-simulation of its actions.
    Verify {
        /// The receipt (as served by GET /api/v1/receipts/{id}); `-` reads standard input.
        #[arg(value_parser = store::file_arg)]
        file: PathBuf,
        /// The server's public key (base64, from /api/v1/receipts/public-key); without it,
        /// the key configured for this server is used.
        #[arg(long)]
        public_key: Option<String>,
        #[command(flatten)]
        config: stampede_server::Config,
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
        Some(Command::Migrate(config)) => store::migrate(&config),
        Some(Command::Leaderboard {
            command: LeaderboardCommand::Rebuild(config),
        }) => store::rebuild(&config),
        Some(Command::Receipt {
            command:
                ReceiptCommand::Verify {
                    file,
                    public_key,
                    config,
                },
        }) => store::verify(&file, public_key.as_deref(), &config, &cli.levels_dir),
        Some(Command::Healthcheck { addr }) => store::healthcheck(&addr),
    }
}
