//! The `stampede` binary: parses the command line and dispatches. `anyhow` lives here only.

mod cli;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    let code = cli::run(args)?;
    if code != 0 {
        // A failed check is an exit status, not a panic: scripts and CI read it.
        #[allow(clippy::exit)]
        std::process::exit(code);
    }
    Ok(())
}
