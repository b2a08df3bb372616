//! `stampede migrate`, `stampede leaderboard rebuild`, `stampede receipt verify` and
//! `stampede healthcheck`: operator commands over the same storage the server uses.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use stampede_server::persistence::{open_db, open_index};
use stampede_server::receipt::{Signer, Verifier};
use stampede_server::{Catalog, Config};

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("starting the async runtime")
}

/// Applies the migrations and exits.
pub(crate) fn migrate(config: &Config) -> anyhow::Result<i32> {
    runtime()?.block_on(async {
        let db = open_db(config).await.context("migrating")?;
        println!("migrated the {} database", db.backend().name());
        db.close().await;
        Ok(0)
    })
}

/// Rebuilds the leaderboard index (Redis when configured) from SQL.
pub(crate) fn rebuild(config: &Config) -> anyhow::Result<i32> {
    runtime()?.block_on(async {
        let db = open_db(config).await.context("opening the database")?;
        let index = open_index(config).context("opening the leaderboard index")?;
        let boards = stampede_server::leaderboard::Leaderboards::new(index, db.clone());
        let n = boards.rebuild().await.context("rebuilding")?;
        println!(
            "rebuilt the {} leaderboards from {n} board records",
            boards.backend()
        );
        db.close().await;
        Ok(0)
    })
}

/// Verifies a receipt file (or standard input for `-`) offline: signature and re-simulation.
/// Exit code 0 when valid, 1 when not.
pub(crate) fn verify(
    file: &Path,
    public_key: Option<&str>,
    config: &Config,
    levels_dir: &Path,
) -> anyhow::Result<i32> {
    let text = if file == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        s
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    let verifier = match public_key {
        Some(k) => Verifier::from_public(k).context("--public-key")?,
        None => Signer::load(&config.key_source())
            .context("loading this server's receipt key (or pass --public-key)")?
            .verifier(),
    };
    let catalog = Catalog::load(levels_dir)
        .with_context(|| format!("loading levels from {}", levels_dir.display()))?;
    let verdict = verifier.verify(&text, &catalog);
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    Ok(if verdict.valid { 0 } else { 1 })
}

/// Exits 0 when the server at `addr` reports ready (for container health checks: the image
/// needs no curl).
pub(crate) fn healthcheck(addr: &str) -> anyhow::Result<i32> {
    runtime()?.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let probe = async {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.write_all(format!("GET /readyz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
                .await?;
            let mut head = vec![0u8; 64];
            let n = s.read(&mut head).await?;
            Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
        };
        let reply = tokio::time::timeout(std::time::Duration::from_secs(3), probe)
            .await
            .context("no answer within 3 s")?
            .with_context(|| format!("connecting to {addr}"))?;
        let ready = reply.split_whitespace().nth(1) == Some("200");
        println!("{}", if ready { "ready" } else { "not ready" });
        Ok(if ready { 0 } else { 1 })
    })
}

/// The receipt file argument.
pub(crate) fn file_arg(p: &str) -> Result<PathBuf, String> {
    if p.is_empty() {
        Err("give a file, or - for standard input".to_owned())
    } else {
        Ok(PathBuf::from(p))
    }
}
