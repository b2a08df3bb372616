//! End-to-end test support: a real server on `127.0.0.1:0` inside the test process, a tiny
//! HTTP/1.1 client, and a WebSocket `Client` whose every wait is bounded. The tests live in
//! `tests/tests/`. Invariant: nothing here sleeps to wait for something; it reads with deadlines.

pub mod services;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Once};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use stampede_server::{AppState, Catalog};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

pub use stampede_protocol::close_code;
pub use stampede_server::Config;
pub use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long one `recv` waits. Generous: the server runs a debug build on a shared 2-core machine.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(15);

/// How long `recv_until` and `expect_close` keep reading before they give up.
pub const UNTIL_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace's `levels/` directory.
pub fn levels_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../levels"))
}

/// A fixed receipt key for tests (base64 of 32 bytes): receipts from different test servers
/// verify against each other.
pub const TEST_RECEIPT_KEY: &str = "c3RhbXBlZGUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=";

/// A fresh SQLite database file for one test, under the system's temporary directory.
pub fn scratch_sqlite_url() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "stampede-test-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    format!("sqlite://{}/stampede.db", dir.display())
}

/// Settings for tests: the real levels, a clock 50 times real time (a 300 s level runs in
/// about 6 s; results are the same because the simulation counts ticks), a fresh SQLite file
/// and the test receipt key.
pub fn test_config() -> Config {
    Config {
        clock_rate: 50.0,
        levels_dir: levels_dir(),
        database_url: scratch_sqlite_url(),
        receipt_key: Some(TEST_RECEIPT_KEY.to_owned()),
        ..Default::default()
    }
}

/// Logs to the test output when `RUST_LOG` is set (once per process).
pub fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
    });
}

/// Stops the server when dropped (cancels its shutdown token); `stopped` waits for it.
#[derive(Debug)]
pub struct ShutdownGuard {
    token: CancellationToken,
    server: Option<JoinHandle<Result<(), stampede_server::ServerError>>>,
    /// The server's state, for tests that look inside (sessions, config).
    pub state: Arc<AppState>,
}

impl ShutdownGuard {
    /// Starts the graceful shutdown (what SIGTERM does).
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Triggers the shutdown and waits, bounded, for `run` to return.
    ///
    /// # Panics
    /// When `run` fails or does not return within the bound.
    pub async fn stopped(mut self, within: Duration) {
        self.trigger();
        let Some(server) = self.server.take() else {
            return;
        };
        match tokio::time::timeout(within, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("server failed: {e}"),
            Ok(Err(e)) => panic!("server task panicked: {e}"),
            Err(_) => panic!("server did not stop within {within:?}"),
        }
    }
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// Starts a server with `config` on `127.0.0.1:0` (never a fixed port) in this process.
///
/// # Panics
/// When the levels do not load or the port cannot be bound.
pub async fn start_server(mut config: Config) -> (SocketAddr, ShutdownGuard) {
    init_tracing();
    config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    config.validate().expect("test config is valid");
    let catalog = Catalog::load(&config.levels_dir).expect("levels load");
    let listener = TcpListener::bind(config.addr).await.expect("bind port 0");
    let addr = listener.local_addr().expect("bound address");
    let token = CancellationToken::new();
    let storage = stampede_server::persistence::Storage::start(&config)
        .await
        .expect("storage starts");
    let state = AppState::new(config, catalog, storage, token.clone());
    let server = tokio::spawn(stampede_server::run(Arc::clone(&state), listener));
    (
        addr,
        ShutdownGuard {
            token,
            server: Some(server),
            state,
        },
    )
}

/// A server on its own runtime and thread, as `stampede serve` runs it: when `run` returns the
/// runtime is dropped, so whatever the server did not finish by then never happens.
#[derive(Debug)]
pub struct ProcessLike {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The server's state.
    pub state: Arc<AppState>,
    token: CancellationToken,
    thread: Option<std::thread::JoinHandle<Result<(), stampede_server::ServerError>>>,
}

impl ProcessLike {
    /// Starts the server on a fresh runtime in a new thread.
    ///
    /// # Panics
    /// When the levels do not load or the port cannot be bound.
    pub fn start(mut config: Config) -> Self {
        init_tracing();
        config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.validate().expect("test config is valid");
        let catalog = Catalog::load(&config.levels_dir).expect("levels load");
        let std_listener = std::net::TcpListener::bind(config.addr).expect("bind port 0");
        std_listener.set_nonblocking(true).expect("non-blocking");
        let addr = std_listener.local_addr().expect("bound address");
        let token = CancellationToken::new();
        let (state_tx, state_rx) = std::sync::mpsc::channel();
        let tk = token.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async move {
                let storage = stampede_server::persistence::Storage::start(&config)
                    .await
                    .expect("storage starts");
                let state = AppState::new(config, catalog, storage, tk);
                state_tx
                    .send(Arc::clone(&state))
                    .expect("the test waits for the state");
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                stampede_server::run(state, listener).await
            })
            // The runtime drops here, cancelling every task still alive, as at process exit.
        });
        let state = state_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server's storage starts");
        Self {
            addr,
            state,
            token,
            thread: Some(thread),
        }
    }

    /// SIGTERM: starts the graceful shutdown.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Triggers the shutdown and waits (bounded) for the "process" to exit.
    ///
    /// # Panics
    /// When `run` fails or the thread does not end in time.
    pub async fn stopped(mut self, within: Duration) {
        self.trigger();
        let thread = self.thread.take().expect("running");
        let joined = tokio::task::spawn_blocking(move || thread.join());
        match tokio::time::timeout(within, joined).await {
            Ok(Ok(Ok(Ok(())))) => {}
            Ok(Ok(Ok(Err(e)))) => panic!("server failed: {e}"),
            Ok(Ok(Err(_))) | Ok(Err(_)) => panic!("server thread panicked"),
            Err(_) => panic!("server did not stop within {within:?}"),
        }
    }
}

impl Drop for ProcessLike {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// An HTTP response: status, lower-cased headers, body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: String,
}

impl HttpResponse {
    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), bounded in time.
///
/// # Panics
/// On a transport error, a timeout or a response that does not parse.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> HttpResponse {
    let body = body.map(Value::to_string).unwrap_or_default();
    http_text(addr, method, path, &body).await
}

/// Like `http`, with the body's exact bytes (JSON or not).
///
/// # Panics
/// On a transport error, a timeout or a response that does not parse.
pub async fn http_text(addr: SocketAddr, method: &str, path: &str, body: &str) -> HttpResponse {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(RECV_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no response within {RECV_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    parse_response(&raw).unwrap_or_else(|| {
        panic!(
            "{method} {path}: unparsable response: {}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(HttpResponse {
        status,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// A guest session: `POST /api/v1/sessions`.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token (sent in `hello`).
    pub token: String,
    /// The player id.
    pub player: String,
    /// The display name.
    pub name: String,
}

/// Creates a guest session over plain HTTP.
///
/// # Panics
/// When the server does not answer 201 with a token.
pub async fn create_session(addr: SocketAddr, name: &str) -> Session {
    let r = http(
        addr,
        "POST",
        "/api/v1/sessions",
        Some(&json!({ "name": name })),
    )
    .await;
    assert_eq!(r.status, 201, "creating a session: {}", r.body);
    let v = r.json();
    Session {
        token: v["token"].as_str().expect("token").to_owned(),
        player: v["player"].as_str().expect("player").to_owned(),
        name: v["name"].as_str().expect("name").to_owned(),
    }
}

/// How a connection ended, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// A close frame with this code.
    Close(u16),
    /// A close frame without a code.
    CloseNoCode,
    /// The stream ended or failed without a close frame (reset, EOF).
    Dropped(String),
}

/// What `next` saw.
#[derive(Debug)]
pub enum Incoming {
    /// A JSON text message.
    Json(Value),
    /// The connection ended.
    Ended(Ended),
    /// Nothing within the timeout.
    Timeout,
}

/// A WebSocket client with bounded reads. Every JSON message received is kept in `seen` for
/// assertions about order and gaps.
#[derive(Debug)]
pub struct Client {
    ws: WebSocketStream<TcpStream>,
    /// The session, once `hello` was answered.
    pub session: Option<Session>,
    /// Every event `seq` received, in order.
    pub seqs: Vec<u64>,
    label: String,
}

/// Checks that `seqs` rise by exactly one from first to last.
///
/// # Panics
/// On a gap, a repeat or a reordering.
pub fn assert_gap_free(label: &str, seqs: &[u64]) {
    for w in seqs.windows(2) {
        assert_eq!(w[1], w[0] + 1, "{label}: event seq not gap-free: {seqs:?}");
    }
}

impl Client {
    /// Opens `/ws` without authenticating.
    ///
    /// # Panics
    /// When the connection or the upgrade fails.
    pub async fn connect(addr: SocketAddr, label: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("tcp connect");
        Self::upgrade(addr, stream, label).await
    }

    /// Opens `/ws` over a given TCP stream (for example one with a tiny receive buffer).
    ///
    /// # Panics
    /// When the upgrade fails.
    pub async fn upgrade(addr: SocketAddr, stream: TcpStream, label: &str) -> Self {
        let url = format!("ws://{addr}/ws");
        let (ws, _) =
            tokio::time::timeout(RECV_TIMEOUT, tokio_tungstenite::client_async(url, stream))
                .await
                .expect("upgrade within the timeout")
                .expect("websocket upgrade");
        Self {
            ws,
            session: None,
            seqs: Vec::new(),
            label: label.to_owned(),
        }
    }

    /// Creates a session named `name`, connects and says `hello`; returns after `welcome`.
    ///
    /// # Panics
    /// When any step fails.
    pub async fn login(addr: SocketAddr, name: &str) -> Self {
        let session = create_session(addr, name).await;
        Self::login_as(addr, session, name).await
    }

    /// Connects with an existing session and says `hello`; returns after `welcome`.
    ///
    /// # Panics
    /// When any step fails or the welcome is not for this player.
    pub async fn login_as(addr: SocketAddr, session: Session, label: &str) -> Self {
        let mut c = Self::connect(addr, label).await;
        c.send(json!({ "type": "hello", "protocol": stampede_protocol::PROTOCOL_VERSION, "token": session.token }))
            .await;
        let welcome = c.recv_type("welcome").await;
        assert_eq!(welcome["player"], session.player.as_str());
        assert_eq!(welcome["name"], session.name.as_str());
        assert_eq!(welcome["protocol"], stampede_protocol::PROTOCOL_VERSION);
        c.session = Some(session);
        c
    }

    /// This client's player id.
    ///
    /// # Panics
    /// Before `login`.
    pub fn player(&self) -> &str {
        &self.session.as_ref().expect("logged in").player
    }

    /// Sends a JSON message.
    ///
    /// # Panics
    /// When the socket fails.
    pub async fn send(&mut self, v: Value) {
        self.send_raw(Message::Text(v.to_string().into())).await;
    }

    /// Sends any frame.
    ///
    /// # Panics
    /// When the socket fails.
    pub async fn send_raw(&mut self, m: Message) {
        tokio::time::timeout(RECV_TIMEOUT, self.ws.send(m))
            .await
            .unwrap_or_else(|_| panic!("{}: send timed out", self.label))
            .unwrap_or_else(|e| panic!("{}: send failed: {e}", self.label));
    }

    /// Sends any frame, reporting failure instead of panicking (the server may already have
    /// closed the connection).
    pub async fn try_send_raw(&mut self, m: Message) -> Result<(), tungstenite::Error> {
        match tokio::time::timeout(RECV_TIMEOUT, self.ws.send(m)).await {
            Ok(r) => r,
            Err(_) => Err(tungstenite::Error::Io(std::io::ErrorKind::TimedOut.into())),
        }
    }

    /// The next JSON message, the end of the connection, or `Timeout` after `within`.
    ///
    /// # Panics
    /// On a text frame that is not JSON or a binary frame (the server sends neither).
    pub async fn next(&mut self, within: Duration) -> Incoming {
        let deadline = Instant::now() + within;
        loop {
            let Ok(item) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return Incoming::Timeout;
            };
            match item {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_else(|e| {
                        panic!("{}: server sent non-JSON ({e}): {t}", self.label)
                    });
                    if v["type"] == "event" {
                        self.seqs.push(v["seq"].as_u64().expect("event seq"));
                    }
                    return Incoming::Json(v);
                }
                Some(Ok(Message::Close(Some(f)))) => {
                    return Incoming::Ended(Ended::Close(u16::from(f.code)));
                }
                Some(Ok(Message::Close(None))) => return Incoming::Ended(Ended::CloseNoCode),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Binary(_))) => {
                    panic!("{}: server sent a binary frame", self.label)
                }
                Some(Err(e)) => return Incoming::Ended(Ended::Dropped(e.to_string())),
                None => return Incoming::Ended(Ended::Dropped("stream ended".to_owned())),
            }
        }
    }

    /// The next JSON message.
    ///
    /// # Panics
    /// When the connection ends or nothing arrives within `RECV_TIMEOUT`.
    pub async fn recv(&mut self) -> Value {
        match self.next(RECV_TIMEOUT).await {
            Incoming::Json(v) => v,
            Incoming::Ended(e) => panic!("{}: connection ended while waiting: {e:?}", self.label),
            Incoming::Timeout => panic!("{}: nothing within {RECV_TIMEOUT:?}", self.label),
        }
    }

    /// Reads until a message matches `pred` and returns it; the rest are passed to `skipped`.
    ///
    /// # Panics
    /// When the connection ends, or no match arrives within `UNTIL_TIMEOUT`.
    pub async fn recv_until_with(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&Value) -> bool,
        mut skipped: impl FnMut(&Value),
    ) -> Value {
        let deadline = Instant::now() + UNTIL_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left.min(RECV_TIMEOUT)).await {
                Incoming::Json(v) if pred(&v) => return v,
                Incoming::Json(v) => skipped(&v),
                Incoming::Ended(e) => {
                    panic!("{}: connection ended waiting for {what}: {e:?}", self.label)
                }
                Incoming::Timeout => panic!("{}: no {what} in time", self.label),
            }
        }
    }

    /// Reads until a message matches `pred` and returns it.
    ///
    /// # Panics
    /// As `recv_until_with`.
    pub async fn recv_until(&mut self, what: &str, pred: impl FnMut(&Value) -> bool) -> Value {
        self.recv_until_with(what, pred, |_| {}).await
    }

    /// Reads until a message of this `type`.
    ///
    /// # Panics
    /// As `recv_until_with`.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        self.recv_until(ty, |v| v["type"] == ty).await
    }

    /// Reads until an event of this `kind`, returning the whole message (`seq`, `event`).
    ///
    /// # Panics
    /// As `recv_until_with`.
    pub async fn recv_event(&mut self, kind: &str) -> Value {
        self.recv_until(kind, |v| is_event(v, kind)).await
    }

    /// Reads until a `metrics` frame with a tick above `after`; returns its tick.
    ///
    /// # Panics
    /// As `recv_until_with`.
    pub async fn recv_metrics_after(&mut self, after: Option<u64>) -> u64 {
        let m = self
            .recv_until("metrics", |v| {
                v["type"] == "metrics" && after.is_none_or(|a| tick_of(v) > a)
            })
            .await;
        tick_of(&m)
    }

    /// Reads (skipping messages) until the connection ends; returns how.
    ///
    /// # Panics
    /// When it has not ended within `UNTIL_TIMEOUT`.
    pub async fn ended(&mut self) -> Ended {
        let deadline = Instant::now() + UNTIL_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left.min(RECV_TIMEOUT)).await {
                Incoming::Json(_) => {}
                Incoming::Ended(e) => return e,
                Incoming::Timeout => panic!("{}: connection still open", self.label),
            }
        }
    }

    /// Reads until the server closes, and checks the close code.
    ///
    /// # Panics
    /// When the code differs, or the connection ends without a close frame or not at all.
    pub async fn expect_close(&mut self, code: u16) {
        let ended = self.ended().await;
        assert_eq!(
            ended,
            Ended::Close(code),
            "{}: expected close {code}",
            self.label
        );
    }

    /// Creates a room and returns its snapshot (`room` object).
    ///
    /// # Panics
    /// When no snapshot arrives.
    pub async fn create_room(&mut self, level: &str, mode: &str) -> Value {
        self.send(json!({ "type": "create_room", "level": level, "mode": mode }))
            .await;
        self.recv_type("room_snapshot").await["room"].clone()
    }

    /// Joins a room (`target` is `{"room": id}` or `{"code": code}`) and returns its snapshot.
    ///
    /// # Panics
    /// When no snapshot arrives.
    pub async fn join_room(&mut self, target: Value, role: &str) -> Value {
        let mut msg = json!({ "type": "join_room", "role": role });
        for (k, v) in target.as_object().expect("target is an object") {
            msg[k] = v.clone();
        }
        self.send(msg).await;
        self.recv_type("room_snapshot").await["room"].clone()
    }

    /// The underlying stream, for tests that need raw control.
    pub fn ws(&mut self) -> &mut WebSocketStream<TcpStream> {
        &mut self.ws
    }
}

/// Whether `v` is an `event` message of this `kind`.
pub fn is_event(v: &Value, kind: &str) -> bool {
    v["type"] == "event" && v["event"]["kind"] == kind
}

/// The tick of a `metrics` message.
///
/// # Panics
/// When it has none.
pub fn tick_of(v: &Value) -> u64 {
    v["report"]["tick"].as_u64().expect("metrics report tick")
}

/// The reference solution of a level, as `(tick, action JSON)`, from the server's own catalog.
///
/// # Panics
/// When the level or solution does not exist.
pub fn solution(level: &str, name: &str) -> Vec<(u64, Value)> {
    let catalog = Catalog::load(&levels_dir()).expect("levels load");
    let level = catalog.get(level).expect("level exists");
    let sol = level
        .solutions
        .iter()
        .find(|s| s.name == name)
        .expect("solution exists");
    sol.actions
        .iter()
        .map(|a| {
            (
                a.tick,
                serde_json::to_value(&a.action).expect("action serializes"),
            )
        })
        .collect()
}

/// Plays a stamped action script against a live room: each action is sent once the room's
/// clock (seen in `metrics`) reaches its tick.
#[derive(Debug, Clone)]
pub struct Script {
    actions: std::collections::VecDeque<(u64, Value)>,
    next_req: u64,
    /// `(req_id, tick it was due)` of actions sent and not yet answered, oldest first.
    pub pending: std::collections::VecDeque<(u64, u64)>,
}

impl Script {
    /// A script whose first request id is `first_req`.
    pub fn new(actions: Vec<(u64, Value)>, first_req: u64) -> Self {
        Self {
            actions: actions.into(),
            next_req: first_req,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// The `action` messages due once the clock has reached `tick` (the room applies them at
    /// its next tick boundary, `tick + 1`).
    pub fn due(&mut self, tick: u64) -> Vec<Value> {
        let mut out = Vec::new();
        while self.actions.front().is_some_and(|(t, _)| *t <= tick + 1) {
            let (t, action) = self.actions.pop_front().expect("checked non-empty");
            self.pending.push_back((self.next_req, t));
            out.push(json!({ "type": "action", "req_id": self.next_req, "action": action }));
            self.next_req += 1;
        }
        out
    }

    /// Whether every action has been sent.
    pub fn done(&self) -> bool {
        self.actions.is_empty()
    }

    /// Checks an `action_result` against the oldest pending action: same id, applied, not early.
    ///
    /// # Panics
    /// When it does not match or was refused.
    pub fn answered(&mut self, result: &Value) {
        let (id, due) = self.pending.pop_front().expect("an action was pending");
        assert_eq!(result["req_id"], id, "answers come in order: {result}");
        assert_eq!(result["ok"], true, "scripted action refused: {result}");
        assert!(
            result["tick"].as_u64().expect("tick") >= due,
            "applied no earlier than its tick: {result}"
        );
    }
}

/// What a client saw while a room ran to its end.
#[derive(Debug, Default)]
pub struct RunLog {
    /// The `world` of every metrics frame (`None` for solo and team rooms), with its tick.
    pub metrics: Vec<(Option<String>, u64)>,
    /// Every `standings` message.
    pub standings: Vec<Value>,
    /// Every `attempt_finished` message.
    pub finished: Vec<Value>,
    /// Every event.
    pub events: Vec<Value>,
}

impl Client {
    /// Reads until the room's `phase_changed: finished`, playing `script` on the way (when the
    /// client plays) and logging what arrived.
    ///
    /// # Panics
    /// When the connection ends first, or on an `error` or a refused scripted action.
    pub async fn play_to_end(&mut self, mut script: Option<Script>) -> RunLog {
        let mut log = RunLog::default();
        loop {
            let v = self.recv().await;
            match v["type"].as_str().expect("type") {
                "metrics" => {
                    let tick = tick_of(&v);
                    log.metrics
                        .push((v["world"].as_str().map(str::to_owned), tick));
                    if let Some(s) = script.as_mut() {
                        for msg in s.due(tick) {
                            self.send(msg).await;
                        }
                    }
                }
                "action_result" => script
                    .as_mut()
                    .expect("only a scripted client acts")
                    .answered(&v),
                "standings" => log.standings.push(v),
                "attempt_finished" => log.finished.push(v),
                "event" => {
                    let end = is_event(&v, "phase_changed") && v["event"]["phase"] == "finished";
                    log.events.push(v);
                    if end {
                        break;
                    }
                }
                _ => panic!("{}: unexpected message: {v}", self.label),
            }
        }
        if let Some(s) = script {
            assert!(
                s.done() && s.pending.is_empty(),
                "{}: script not finished",
                self.label
            );
        }
        log
    }
}
