//! `stampede-loadgen`: opens N real WebSocket clients across M team rooms on a running server
//! (an owner, players and a spectator per room), plays scripted actions, and reports frame
//! lateness, action-to-answer latency, frames and bytes per client, `seq` gaps, and the server's
//! CPU, memory, tick lag and tick duration (from its /metrics).
//! Invariant: bounded in count and time, loopback only; it stops by itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
#[command(name = "stampede-loadgen", about)]
struct Args {
    /// Server address (loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Rooms to open.
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Clients per room: the owner, players, and (with three or more) one spectator.
    #[arg(long, default_value_t = 4)]
    clients_per_room: usize,
    /// Seconds to hold the load once every room runs.
    #[arg(long, default_value_t = 60.0)]
    duration_s: f64,
    /// Seconds over which rooms are opened.
    #[arg(long, default_value_t = 20.0)]
    ramp_s: f64,
    /// Level every room plays.
    #[arg(long, default_value = "05-retry-storm")]
    level: String,
    /// Node the players scale up and down as their scripted actions.
    #[arg(long, default_value = "api")]
    scale_node: String,
    /// Ticks per second the rooms run at (the level's tick rate × the server's clock rate).
    #[arg(long, default_value_t = 10.0)]
    tick_rate: f64,
    /// Seconds between a player's actions.
    #[arg(long, default_value_t = 2.0)]
    action_every_s: f64,
    /// The server's process id, to report its CPU and memory.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// What one client saw.
#[derive(Debug, Default)]
struct Seen {
    frames: u64,
    bytes: u64,
    events: u64,
    gaps: u64,
    /// (seconds since the start, tick) of each metrics frame.
    ticks: Vec<(f64, u64)>,
    action_ms: Vec<f64>,
    refused: u64,
    errors: u64,
    closes: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    if !args.addr.starts_with("127.")
        && !args.addr.starts_with("localhost")
        && !args.addr.starts_with("[::1]")
    {
        bail!(
            "the load generator only targets loopback addresses, not {}",
            args.addr
        );
    }
    if args.clients_per_room == 0 || args.rooms == 0 || args.rooms * args.clients_per_room > 10_000
    {
        bail!("rooms × clients per room must be in 1..=10000");
    }
    let start = Instant::now();
    let cpu0 = args.server_pid.and_then(cpu_seconds);
    let all = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let end = start + Duration::from_secs_f64(args.ramp_s + args.duration_s);
    let mut tasks = Vec::new();
    for r in 0..args.rooms {
        let delay = Duration::from_secs_f64(args.ramp_s * r as f64 / args.rooms as f64);
        let (args, all) = (Arc::clone(&args), Arc::clone(&all));
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = room(&args, start, end, &all).await {
                eprintln!("room {r}: {e:#}");
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, args.server_pid.and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some((b - a) / elapsed),
        _ => None,
    };
    let mem = args.server_pid.and_then(|p| memory_kib(p, "VmHWM:"));
    let ticks = server_ticks(&args.addr).await;
    report(
        &args,
        &all.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        elapsed,
        cpu,
        mem,
        &ticks,
    );
    Ok(())
}

/// Opens one room: the owner creates it, the others join by code, the owner starts, and every
/// client plays until `end`.
async fn room(
    args: &Arc<Args>,
    start: Instant,
    end: Instant,
    all: &Arc<Mutex<Vec<Seen>>>,
) -> anyhow::Result<()> {
    let mut owner = Client::connect(&args.addr, "owner").await?;
    owner
        .send(json!({"type": "create_room", "level": args.level, "mode": "team"}))
        .await?;
    let snapshot = owner.until(|m| m["type"] == "room_snapshot").await?;
    let code = snapshot["room"]["code"]
        .as_str()
        .context("snapshot has a code")?
        .to_owned();
    owner.last_seq = snapshot["room"]["last_seq"].as_u64().unwrap_or(0);
    let mut others = Vec::new();
    for i in 1..args.clients_per_room {
        let spectator = args.clients_per_room >= 3 && i == args.clients_per_room - 1;
        let mut c =
            Client::connect(&args.addr, if spectator { "watcher" } else { "player" }).await?;
        let role = if spectator { "spectator" } else { "player" };
        c.send(json!({"type": "join_room", "code": code, "role": role}))
            .await?;
        let snap = c.until(|m| m["type"] == "room_snapshot").await?;
        c.last_seq = snap["room"]["last_seq"].as_u64().unwrap_or(0);
        c.plays = !spectator;
        others.push(c);
    }
    owner.plays = true;
    owner.send(json!({"type": "start"})).await?;
    let mut handles = Vec::new();
    for (i, c) in std::iter::once(owner).chain(others).enumerate() {
        let args = Arc::clone(args);
        let all = Arc::clone(all);
        handles.push(tokio::spawn(async move {
            let seen = c.play(&args, start, end, i).await;
            all.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(seen);
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    ws: Socket,
    last_seq: u64,
    plays: bool,
    seen: Seen,
}

impl Client {
    async fn connect(addr: &str, name: &str) -> anyhow::Result<Self> {
        let token = create_session(addr, name).await?;
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .context("WebSocket connect")?;
        let mut c = Client {
            ws,
            last_seq: 0,
            plays: false,
            seen: Seen::default(),
        };
        c.send(json!({"type": "hello", "protocol": 1, "token": token}))
            .await?;
        c.until(|m| m["type"] == "welcome").await?;
        Ok(c)
    }

    async fn send(&mut self, v: Value) -> anyhow::Result<()> {
        self.ws
            .send(Message::text(v.to_string()))
            .await
            .context("send")
    }

    /// Reads until a message matches, within 10 s.
    async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .context("timed out waiting")?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t)?;
                    if pred(&v) {
                        return Ok(v);
                    }
                }
                Some(Ok(Message::Close(f))) => bail!("closed: {f:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => bail!("socket: {e}"),
                None => bail!("socket ended"),
            }
        }
    }

    /// Reads everything until `end`, sending a scripted action every few seconds if it plays.
    async fn play(mut self, args: &Args, start: Instant, end: Instant, index: usize) -> Seen {
        let mut sent: Vec<(u64, Instant)> = Vec::new();
        let mut req_id = 0u64;
        let every = Duration::from_secs_f64(args.action_every_s);
        // Stagger players so a room's actions do not all land on the same tick.
        let first = tokio::time::Instant::now() + every.mul_f64(1.0 + index as f64 / 4.0);
        let mut actions = tokio::time::interval_at(first, every);
        let end = tokio::time::Instant::from_std(end);
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(end) => break,
                _ = actions.tick(), if self.plays => {
                    req_id += 1;
                    let instances = if req_id % 2 == 1 { 5 } else { 4 };
                    let msg = json!({"type": "action", "req_id": req_id,
                        "action": {"op": "scale", "id": args.scale_node, "instances": instances}});
                    if self.ws.send(Message::text(msg.to_string())).await.is_err() {
                        self.seen.closes.push("send failed".to_owned());
                        break;
                    }
                    sent.push((req_id, Instant::now()));
                }
                msg = self.ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => self.observe(&t, start, &mut sent),
                    Some(Ok(Message::Close(f))) => {
                        self.seen.closes.push(f.map_or_else(|| "close".to_owned(), |f| format!("{} {}", u16::from(f.code), f.reason)));
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => { self.seen.closes.push(format!("error: {e}")); break; }
                    None => { self.seen.closes.push("ended".to_owned()); break; }
                },
            }
        }
        let _ = self.ws.close(None).await;
        self.seen
    }

    fn observe(&mut self, text: &str, start: Instant, sent: &mut Vec<(u64, Instant)>) {
        let s = &mut self.seen;
        s.bytes += text.len() as u64;
        // Metrics frames are most of the traffic: read their tick without parsing the whole
        // report, so the generator's own CPU does not become the lag it measures.
        if text.starts_with(r#"{"type":"metrics""#) {
            s.frames += 1;
            if let Some(tick) = field_u64(text, r#""tick":"#) {
                s.ticks.push((start.elapsed().as_secs_f64(), tick));
            }
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            s.errors += 1;
            return;
        };
        match v["type"].as_str() {
            Some("metrics") => {
                s.frames += 1;
                if let Some(tick) = v["report"]["tick"].as_u64() {
                    s.ticks.push((start.elapsed().as_secs_f64(), tick));
                }
            }
            Some("event") => {
                s.events += 1;
                let seq = v["seq"].as_u64().unwrap_or(0);
                if seq != self.last_seq + 1 {
                    s.gaps += 1;
                }
                self.last_seq = seq;
            }
            Some("action_result") => {
                let id = v["req_id"].as_u64().unwrap_or(0);
                if let Some(p) = sent.iter().position(|(r, _)| *r == id) {
                    let (_, at) = sent.swap_remove(p);
                    s.action_ms.push(at.elapsed().as_secs_f64() * 1000.0);
                }
                if v["ok"] != true {
                    s.refused += 1;
                }
            }
            Some("error") => s.errors += 1,
            _ => {}
        }
    }
}

/// The unsigned number after the first occurrence of `key`.
fn field_u64(text: &str, key: &str) -> Option<u64> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A plain HTTP/1.1 request; returns the body.
async fn http(addr: &str, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await?;
    let mut resp = String::new();
    stream.read_to_string(&mut resp).await?;
    let start = resp.find("\r\n\r\n").context("HTTP response has a body")? + 4;
    Ok(resp[start..].to_owned())
}

/// The server's own view from `/metrics`: tick duration quantiles (from the histogram's
/// buckets, so an upper bound) and tick overruns.
async fn server_ticks(addr: &str) -> Value {
    let Ok(text) = http(addr, "GET", "/metrics", "").await else {
        return Value::Null;
    };
    let overruns = text
        .lines()
        .find_map(|l| l.strip_prefix("stampede_tick_overruns_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    let duration = histogram(&text, "stampede_tick_duration_seconds");
    let lag = histogram(&text, "stampede_tick_lag_seconds");
    json!({ "duration_ms": duration, "lag_ms": lag, "overruns": overruns })
}

/// p50 and p99 of a Prometheus histogram, as the upper bounds of the buckets they fall in.
fn histogram(text: &str, name: &str) -> Value {
    let prefix = format!("{name}_bucket{{le=\"");
    let buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| {
            let (le, count) = l.strip_prefix(&prefix)?.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    let total = buckets.last().map_or(0.0, |b| b.1);
    let q = |p: f64| {
        buckets
            .iter()
            .find(|(_, c)| *c >= p * total)
            .map_or(f64::NAN, |(le, _)| le * 1000.0)
    };
    json!({ "count": total, "p50_at_most": q(0.5), "p99_at_most": q(0.99) })
}

/// `POST /api/v1/sessions` over a plain HTTP/1.1 connection; returns the token.
async fn create_session(addr: &str, name: &str) -> anyhow::Result<String> {
    let body = http(
        addr,
        "POST",
        "/api/v1/sessions",
        &json!({ "name": name }).to_string(),
    )
    .await?;
    let v: Value =
        serde_json::from_str(&body).with_context(|| format!("session response: {body}"))?;
    Ok(v["token"]
        .as_str()
        .context("the response has a token")?
        .to_owned())
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn report(
    args: &Args,
    seen: &[Seen],
    elapsed: f64,
    cpu: Option<f64>,
    mem_kib: Option<u64>,
    ticks: &Value,
) {
    // Frame lateness: how much later than its tick's schedule each frame arrived, anchored at
    // the client's earliest (arrival − tick/rate).
    let mut lags = Vec::new();
    for s in seen {
        let offset = s
            .ticks
            .iter()
            .map(|(at, tick)| at - *tick as f64 / args.tick_rate)
            .fold(f64::INFINITY, f64::min);
        lags.extend(
            s.ticks
                .iter()
                .map(|(at, tick)| (at - *tick as f64 / args.tick_rate - offset) * 1000.0),
        );
    }
    let mut actions: Vec<f64> = seen
        .iter()
        .flat_map(|s| s.action_ms.iter().copied())
        .collect();
    let clients = seen.len().max(1) as f64;
    let frames: u64 = seen.iter().map(|s| s.frames).sum();
    let bytes: u64 = seen.iter().map(|s| s.bytes).sum();
    let gaps: u64 = seen.iter().map(|s| s.gaps).sum();
    let events: u64 = seen.iter().map(|s| s.events).sum();
    let errors: u64 = seen.iter().map(|s| s.errors).sum();
    let closes: Vec<&String> = seen
        .iter()
        .flat_map(|s| s.closes.iter())
        .filter(|c| !c.starts_with("1000"))
        .collect();
    let summary = json!({
        "rooms": args.rooms, "clients": seen.len(), "seconds": elapsed,
        "frame_lateness_ms": { "p50": percentile(&mut lags, 0.5), "p99": percentile(&mut lags, 0.99) },
        "action_answer_ms": { "p50": percentile(&mut actions, 0.5), "p99": percentile(&mut actions, 0.99), "count": actions.len() },
        "per_client": { "frames_per_s": frames as f64 / clients / elapsed, "bytes_per_s": bytes as f64 / clients / elapsed },
        "events": events, "seq_gaps": gaps, "errors": errors, "unexpected_closes": closes.len(),
        "server": { "cpu_cores": cpu, "peak_rss_mib": mem_kib.map(|k| k as f64 / 1024.0), "ticks": ticks },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
    if !closes.is_empty() {
        eprintln!(
            "first unexpected closes: {:?}",
            &closes[..closes.len().min(5)]
        );
    }
}

/// User + system CPU seconds of a process, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
