//! Leaderboard read benchmark: a server in this process on loopback, its leaderboard index in
//! Redis (or in process, for reference), N players' best attempts seeded into SQL and
//! projected, then an open-loop HTTP load of top-50 pages and around-a-player pages at a fixed
//! rate over keep-alive connections. Latency is measured from each request's scheduled time,
//! so a stalled server cannot hide its queueing (no coordinated omission).
//!
//! ```text
//! cargo run --release -p stampede-server --example leaderboard_load -- --rps 2000 --seconds 20
//! cargo run --release -p stampede-server --example leaderboard_load -- --index memory
//! ```

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;
use stampede_protocol::api::{RECEIPT_VERSION, Receipt, ReceiptPlayer};
use stampede_protocol::{Mode, PlayerId};
use stampede_server::persistence::Storage;
use stampede_server::storage::{AttemptStart, Db, FinishedAttempt};
use stampede_server::{AppState, Catalog, Config};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

#[derive(Debug, Parser)]
struct Args {
    /// Reads per second (open loop).
    #[arg(long, default_value_t = 2000.0)]
    rps: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Keep-alive connections the reads are spread over.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Players on the board.
    #[arg(long, default_value_t = 5000)]
    players: u32,
    /// `redis` or `memory`.
    #[arg(long, default_value = "redis")]
    index: String,
    /// Redis to use.
    #[arg(long, default_value = "redis://127.0.0.1:6379/0")]
    redis_url: String,
}

const LEVEL: &str = "01-scale-out";

async fn seed(db: &Db, players: u32) -> anyhow::Result<()> {
    for i in 0..players {
        let player = PlayerId(format!("p-{i:06}"));
        let start = AttemptStart {
            id: format!("a-bench-{i}"),
            room_id: "r-bench".to_owned(),
            node_id: "bench".to_owned(),
            level: LEVEL.to_owned(),
            level_hash: String::new(),
            engine: stampede_sim::ENGINE_VERSION.to_owned(),
            seed: 1,
            mode: Mode::Solo,
            players: vec![(player.clone(), format!("Player {i}"))],
            started_at: 1_796_040_000_000,
        };
        let result = serde_json::from_value(json!({
            "score": 300.0 + f64::from(i % 7000) / 10.0, "stars": 3, "passed": true, "ticks": 3000,
            "survived": true, "slo_compliance": 1.0, "availability": 1.0,
            "avg_cost_per_hour": 1.0 + f64::from(i % 13), "worst_p99_ms": 80.0,
            "parts": { "slo": 1.0, "availability": 1.0, "cost": 1.0, "survival": 1.0 }
        }))?;
        let receipt = Receipt {
            version: RECEIPT_VERSION,
            id: format!("r-bench-{i}"),
            attempt_id: start.id.clone(),
            level: LEVEL.to_owned(),
            level_version: 1,
            level_hash: String::new(),
            engine: start.engine.clone(),
            seed: 1,
            mode: Mode::Solo,
            players: vec![ReceiptPlayer {
                id: player,
                name: format!("Player {i}"),
            }],
            actions: Vec::new(),
            result,
            started_at: start.started_at,
            finished_at: stampede_server_now(),
            key_id: String::new(),
            signature: None,
        };
        let body = serde_json::to_string(&receipt)?;
        db.start_attempt(&start).await?;
        db.finish_attempt(&FinishedAttempt {
            start,
            receipt,
            body,
        })
        .await?;
    }
    Ok(())
}

fn stampede_server_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One keep-alive HTTP/1.1 connection; returns the body of each GET.
struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        Ok(Self {
            reader: BufReader::new(TcpStream::connect(addr).await?),
            host: addr.to_string(),
        })
    }

    async fn get(&mut self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.reader.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).context("status line")?.parse()?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse()?;
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.connections == 0 || args.rps <= 0.0 || args.seconds <= 0.0 {
        bail!("connections, rps and seconds must be positive");
    }
    let dir = std::env::temp_dir().join(format!("stampede-lb-bench-{}", std::process::id()));
    let redis_prefix = format!("stampede-bench-{}:", std::process::id());
    let config = Config {
        addr: "127.0.0.1:0".parse()?,
        levels_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../levels").into(),
        database_url: format!("sqlite://{}/bench.db", dir.display()),
        receipt_key: Some("YmVuY2htYXJrLWtleS0zMi1ieXRlcy1sb25nLi4uLi4=".to_owned()),
        redis_url: (args.index == "redis").then(|| args.redis_url.clone()),
        redis_prefix: redis_prefix.clone(),
        ..Config::default()
    };
    let catalog = Catalog::load(&config.levels_dir)?;
    let storage = Storage::start(&config).await?;
    let t = Instant::now();
    seed(&storage.db, args.players).await?;
    eprintln!("seeded {} players in {:.1?}", args.players, t.elapsed());
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let state = AppState::new(config, catalog, storage, shutdown.clone());
    let server = tokio::spawn(stampede_server::run(Arc::clone(&state), listener));

    // Wait for the projection to take every seeded attempt.
    let mut probe = Conn::open(addr).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, body) = probe
            .get(&format!("/api/v1/leaderboards/{LEVEL}?limit=1"))
            .await?;
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        if page["total"] == args.players && page["source"] == args.index.as_str() {
            break;
        }
        if Instant::now() > deadline {
            bail!("the projection never caught up: {page}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let total = (args.rps * args.seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / args.rps);
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let mut conn = Conn::open(addr).await?;
        let (connections, players) = (args.connections, args.players);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut service = Vec::new();
            let mut errors = 0u64;
            let mut i = c;
            while i < total {
                let due = start + interval * i as u32;
                tokio::time::sleep_until(due).await;
                let path = if i % 2 == 0 {
                    format!("/api/v1/leaderboards/{LEVEL}?limit=50")
                } else {
                    let p = (i as u64 * 7919) % u64::from(players);
                    format!("/api/v1/leaderboards/{LEVEL}/around/p-{p:06}?limit=11")
                };
                let sent = Instant::now();
                match conn.get(&path).await {
                    Ok((200, _)) => {
                        lat.push(due.elapsed());
                        service.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
                i += connections;
            }
            (lat, service, errors)
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut served = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (lat, service, e) = t.await?;
        all.extend(lat);
        served.extend(service);
        errors += e;
    }
    let took = start.elapsed();
    all.sort();
    served.sort();
    println!(
        "index={} players={} target={} rps over {} connections: {} reads in {:.1?} ({:.0}/s), errors {}",
        args.index,
        args.players,
        args.rps,
        args.connections,
        all.len(),
        took,
        all.len() as f64 / took.as_secs_f64(),
        errors
    );
    println!(
        "latency from schedule: p50 {:.2?} p90 {:.2?} p99 {:.2?} p99.9 {:.2?} max {:.2?}",
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        percentile(&all, 0.99),
        percentile(&all, 0.999),
        all.last().copied().unwrap_or_default()
    );
    // The schedule's timer fires on a 1 ms wheel, so "from schedule" includes up to ~1 ms of
    // the generator's own lateness; "request to response" does not.
    println!(
        "request to response:   p50 {:.2?} p90 {:.2?} p99 {:.2?} p99.9 {:.2?} max {:.2?}",
        percentile(&served, 0.5),
        percentile(&served, 0.9),
        percentile(&served, 0.99),
        percentile(&served, 0.999),
        served.last().copied().unwrap_or_default()
    );
    shutdown.cancel();
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
    if args.index == "redis" {
        // The benchmark's keys go with it.
        let client = redis::Client::open(args.redis_url.as_str())?;
        let mut c = client.get_multiplexed_async_connection().await?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{redis_prefix}*"))
            .query_async(&mut c)
            .await?;
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut c).await?;
        }
    }
    Ok(())
}
