//! Server settings: every one a flag with an environment variable, with a documented default.
//! Invariant: a `Config` that passed `validate` has no zero sizes and no limit above its bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// `stampede serve` settings.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "STAMPEDE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Room clocks run this many times faster than real time (tests and demos); results are
    /// identical because the simulation counts ticks.
    #[arg(long, env = "STAMPEDE_CLOCK_RATE", default_value_t = 1.0)]
    pub clock_rate: f64,
    /// Origins allowed to open a WebSocket (comma-separated); empty allows same-host origins
    /// and clients that send no Origin (non-browsers).
    #[arg(
        long,
        env = "STAMPEDE_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub allowed_origins: Vec<String>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "STAMPEDE_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
    /// Seconds a client has to send `hello` (Veloren drops slow handshakes).
    #[arg(long, env = "STAMPEDE_HELLO_TIMEOUT_S", default_value_t = 5.0)]
    pub hello_timeout_s: f64,
    /// Metrics frames per second sent to each connection at most (latest wins in between; the
    /// issue asks for at least 5). Fewer frames, fewer socket writes per room tick.
    #[arg(long, env = "STAMPEDE_METRICS_HZ", default_value_t = 5.0)]
    pub metrics_hz: f64,
    /// Seconds between server pings; a connection silent for three of these is closed (4009).
    #[arg(long, env = "STAMPEDE_PING_INTERVAL_S", default_value_t = 15.0)]
    pub ping_interval_s: f64,
    /// Inbound messages per second per connection (burst twice that); more closes with 4008.
    #[arg(long, env = "STAMPEDE_MSG_RATE", default_value_t = 20.0)]
    pub msg_rate: f64,
    /// Outbound messages queued per connection before it is closed as a slow consumer (4009).
    #[arg(long, env = "STAMPEDE_OUTBOUND_QUEUE", default_value_t = 256)]
    pub outbound_queue: usize,
    /// Commands queued per room; when full, inputs are dropped with `busy` (Nakama: 128).
    #[arg(long, env = "STAMPEDE_ROOM_QUEUE", default_value_t = 128)]
    pub room_queue: usize,
    /// Events a room keeps for resuming clients; older gaps get a full snapshot.
    #[arg(long, env = "STAMPEDE_RESUME_HISTORY", default_value_t = 512)]
    pub resume_history: usize,
    /// Seconds a dropped player's seat is held (the clock keeps running).
    #[arg(long, env = "STAMPEDE_SEAT_HOLD_S", default_value_t = 30.0)]
    pub seat_hold_s: f64,
    /// Seconds an empty room lives before it reaps itself.
    #[arg(long, env = "STAMPEDE_EMPTY_ROOM_S", default_value_t = 60.0)]
    pub empty_room_s: f64,
    /// Members per room.
    #[arg(long, env = "STAMPEDE_MAX_MEMBERS", default_value_t = 16)]
    pub max_members: usize,
    /// Seconds to drain on shutdown before forcing.
    #[arg(long, env = "STAMPEDE_SHUTDOWN_GRACE_S", default_value_t = 30.0)]
    pub shutdown_grace_s: f64,
    /// The SQL database: `sqlite://FILE` (the embedded default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Redis for the leaderboards (`redis://host:port/db`); unset keeps them in this process.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key this server writes.
    #[arg(long, env = "STAMPEDE_REDIS_PREFIX", default_value = "stampede:")]
    pub redis_prefix: String,
    /// The receipt signing key: base64 of a 32-byte Ed25519 seed.
    #[arg(long, env = "STAMPEDE_RECEIPT_KEY", hide_env_values = true)]
    pub receipt_key: Option<String>,
    /// A file holding the receipt signing key, created with a new key when missing (default:
    /// `receipt-key` beside the SQLite database; required with Postgres unless the key is given).
    #[arg(long, env = "STAMPEDE_RECEIPT_KEY_FILE")]
    pub receipt_key_file: Option<PathBuf>,
    /// Everyday jobs the storage write queue holds (new players, start rows, revocations),
    /// besides the seats of ranked attempts; when it is full (the database is down or behind),
    /// ranked starts are refused.
    #[arg(long, env = "STAMPEDE_WRITE_QUEUE", default_value_t = 1024)]
    pub write_queue: usize,
    /// Seats for ranked simulations: one is held from a simulation's start until its result
    /// is written (a race takes one per player), so it bounds the results queued during a
    /// database outage too, each with its action log. When all are taken, ranked starts are
    /// refused (practice rooms still start).
    #[arg(long, env = "STAMPEDE_MAX_RANKED", default_value_t = 10_000)]
    pub max_ranked: usize,
    /// This server's name in the attempts it owns; its running attempts are aborted when a
    /// server with the same name starts.
    #[arg(long, env = "STAMPEDE_NODE_ID", default_value = "local")]
    pub node_id: String,
    /// Directory holding the level files.
    #[arg(skip)]
    pub levels_dir: PathBuf,
}

/// The embedded default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/stampede.db";

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            clock_rate: 1.0,
            allowed_origins: Vec::new(),
            log_json: false,
            hello_timeout_s: 5.0,
            metrics_hz: 5.0,
            ping_interval_s: 15.0,
            msg_rate: 20.0,
            outbound_queue: 256,
            room_queue: 128,
            resume_history: 512,
            seat_hold_s: 30.0,
            empty_room_s: 60.0,
            max_members: 16,
            shutdown_grace_s: 30.0,
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            redis_url: None,
            redis_prefix: "stampede:".to_owned(),
            receipt_key: None,
            receipt_key_file: None,
            write_queue: 1024,
            max_ranked: 10_000,
            node_id: "local".to_owned(),
            levels_dir: PathBuf::from("levels"),
        }
    }
}

impl Config {
    /// Checks ranges.
    ///
    /// # Errors
    /// The first setting out of range, by name.
    pub fn validate(&self) -> Result<(), String> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be positive"))
            }
        };
        pos("clock_rate", self.clock_rate)?;
        if self.clock_rate > 1000.0 {
            return Err("clock_rate must be at most 1000".to_owned());
        }
        pos("hello_timeout_s", self.hello_timeout_s)?;
        if !(1.0..=100.0).contains(&self.metrics_hz) {
            return Err("metrics_hz must be in 1..=100".to_owned());
        }
        pos("ping_interval_s", self.ping_interval_s)?;
        pos("msg_rate", self.msg_rate)?;
        pos("seat_hold_s", self.seat_hold_s)?;
        pos("empty_room_s", self.empty_room_s)?;
        pos("shutdown_grace_s", self.shutdown_grace_s)?;
        for (name, v) in [
            ("outbound_queue", self.outbound_queue),
            ("room_queue", self.room_queue),
            ("resume_history", self.resume_history),
            ("max_members", self.max_members),
            ("write_queue", self.write_queue),
            ("max_ranked", self.max_ranked),
        ] {
            if v == 0 || v > 100_000 {
                return Err(format!("{name} must be in 1..=100000"));
            }
        }
        crate::storage::Backend::of(&self.database_url).map_err(|e| e.to_string())?;
        if self.node_id.is_empty() || self.node_id.len() > 64 {
            return Err("node_id must be 1 to 64 characters".to_owned());
        }
        Ok(())
    }

    /// Where the receipt key comes from: the key, its file, or a file beside SQLite.
    pub fn key_source(&self) -> crate::receipt::KeySource {
        crate::receipt::KeySource {
            inline: self.receipt_key.clone(),
            file: self.receipt_key_file.clone().or_else(|| {
                crate::storage::sqlite_dir(&self.database_url).map(|d| d.join("receipt-key"))
            }),
        }
    }

    pub(crate) fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }
}
