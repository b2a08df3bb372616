//! One WebSocket connection: the reader (handshake, limits, dispatch) and the writer (bounded
//! queue, latest-wins metrics, pings, the close frame).
//! Invariant: the writer is the only task that writes to the socket, and every way a connection
//! ends goes through its `KillSwitch`, so exactly one close frame with one code is sent.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use stampede_protocol::{
    ClientMsg, ErrorCode, JoinRole, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, PlayerId, ServerMsg,
    close_code,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{Instrument, debug, info_span, warn};

use crate::AppState;
use crate::room::{
    self, AttachError, Attached, ConnLink, Frames, Input, KillSwitch, RoomCommand, RoomHandle,
    SendError,
};
use crate::session::Player;

/// A write that takes longer than this means the client is not reading: close 4009.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

enum WriterCtl {
    /// Start streaming a room's metrics; `only` limits a race player to their own simulation.
    Attach {
        frames: watch::Receiver<Frames>,
        only: Option<PlayerId>,
    },
    Detach,
}

pub(super) async fn serve_socket(socket: WebSocket, state: Arc<AppState>) {
    let id = state.next_conn_id();
    let span = info_span!("conn", conn_id = id);
    // axum spawns this task, not us: the token makes shutdown wait for it like for a room, so
    // the runtime is not dropped before this connection's 4001 close frame is out.
    let _tracked = state.tracker.token();
    async move {
        metrics::gauge!("stampede_connections").increment(1.0);
        let (sink, stream) = socket.split();
        let (out_tx, out_rx) = mpsc::channel(state.config.outbound_queue);
        let (ctl_tx, ctl_rx) = mpsc::channel(4);
        let kill = KillSwitch::default();
        let ping = crate::config::Config::secs(state.config.ping_interval_s);
        // Three quarters of the period: the next fresh tick after the gap then keeps the rate at
        // `metrics_hz` (every other tick at 10 Hz for 5 Hz) instead of slipping below it.
        let frame_gap = Duration::from_secs_f64(0.75 / state.config.metrics_hz);
        let writer = tokio::spawn(write_loop(
            sink,
            out_rx,
            ctl_rx,
            kill.clone(),
            ping,
            frame_gap,
        ));
        let mut reader = Reader {
            state,
            id,
            kill: kill.clone(),
            out: out_tx,
            ctl: ctl_tx,
            player: None,
            room: None,
        };
        reader.run(stream).await;
        reader.detach_room(false).await;
        kill.kill(close_code::NORMAL);
        let _ = writer.await;
        metrics::gauge!("stampede_connections").decrement(1.0);
        debug!(code = kill.code(), "connection closed");
    }
    .instrument(span)
    .await;
}

struct Reader {
    state: Arc<AppState>,
    id: u64,
    kill: KillSwitch,
    out: mpsc::Sender<Arc<str>>,
    ctl: mpsc::Sender<WriterCtl>,
    player: Option<Player>,
    room: Option<RoomHandle>,
}

/// Per-connection inbound budget: a token bucket of `rate`/s holding two seconds' worth.
struct Budget {
    tokens: f64,
    rate: f64,
    at: Instant,
}

impl Budget {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + (now - self.at).as_secs_f64() * self.rate).min(2.0 * self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Reader {
    async fn run(&mut self, mut stream: SplitStream<WebSocket>) {
        let cfg = &self.state.config;
        let hello_deadline = Instant::now() + crate::config::Config::secs(cfg.hello_timeout_s);
        let silence = crate::config::Config::secs(cfg.ping_interval_s * 3.0);
        let mut budget = Budget {
            tokens: 2.0 * cfg.msg_rate,
            rate: cfg.msg_rate,
            at: Instant::now(),
        };
        let shutdown = self.state.shutdown.clone();
        let mut last_heard = Instant::now();
        loop {
            let deadline = if self.player.is_none() {
                hello_deadline
            } else {
                last_heard + silence
            };
            let frame = tokio::select! {
                () = self.kill.killed() => return,
                () = shutdown.cancelled() => return self.kill.kill(close_code::RESTARTING),
                () = tokio::time::sleep_until(deadline) => {
                    let code = if self.player.is_none() { close_code::NOT_AUTHENTICATED } else { close_code::SLOW_CONSUMER };
                    return self.kill.kill(code);
                }
                frame = stream.next() => frame,
            };
            last_heard = Instant::now();
            let text = match frame {
                None | Some(Ok(Message::Close(_))) => return,
                Some(Err(e)) => return self.kill.kill(transport_error_code(&e)),
                Some(Ok(Message::Binary(_))) => return self.kill.kill(close_code::BAD_MESSAGE),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Text(t))) => t,
            };
            if !budget.take() {
                metrics::counter!("stampede_rate_limited_closes_total").increment(1);
                return self.kill.kill(close_code::RATE_LIMITED);
            }
            if text.len() > MAX_MESSAGE_BYTES {
                return self.kill.kill(close_code::TOO_BIG);
            }
            let msg = match ClientMsg::decode(text.as_str()) {
                Ok(m) => m,
                Err(e) => {
                    debug!(error = %e.message, "undecodable message");
                    return self.kill.kill(close_code::BAD_MESSAGE);
                }
            };
            if let Err(code) = self.dispatch(msg).await {
                return self.kill.kill(code);
            }
        }
    }

    /// A session made by an earlier run of the server, read from the `players` table (this is
    /// the connection's task, never a room's, so waiting here holds up only this client).
    async fn stored_session(&self, token: &str) -> Result<Player, u16> {
        if self.state.sessions.is_revoked(token) {
            return Err(close_code::BAD_TOKEN);
        }
        let hash = crate::session::token_hash(token);
        match self.state.storage.db.player_by_token(&hash).await {
            Ok(Some(row)) => {
                let player = Player {
                    id: PlayerId(row.id),
                    name: row.name,
                };
                self.state.sessions.remember(token, player.clone());
                Ok(player)
            }
            Ok(None) => Err(close_code::BAD_TOKEN),
            Err(e) => {
                warn!(error = %e, "session lookup failed: storage unavailable");
                Err(close_code::STORAGE_UNAVAILABLE)
            }
        }
    }

    /// Handles one message; `Err(code)` closes the connection with that code.
    async fn dispatch(&mut self, msg: ClientMsg) -> Result<(), u16> {
        let Some(player) = self.player.clone() else {
            let ClientMsg::Hello { protocol, token } = msg else {
                return Err(close_code::NOT_AUTHENTICATED);
            };
            if protocol != PROTOCOL_VERSION {
                return Err(close_code::VERSION_MISMATCH);
            }
            let player = match self.state.sessions.lookup(&token) {
                Some(p) => p,
                None => self.stored_session(&token).await?,
            };
            self.reply(&ServerMsg::Welcome {
                protocol: PROTOCOL_VERSION,
                player: player.id.clone(),
                name: player.name.clone(),
                server_time_ms: crate::now_ms(),
            })?;
            self.player = Some(player);
            return Ok(());
        };
        match msg {
            ClientMsg::Hello { .. } => Err(close_code::BAD_MESSAGE),
            ClientMsg::Ping { nonce } => self.reply(&ServerMsg::Pong {
                nonce,
                server_time_ms: crate::now_ms(),
            }),
            ClientMsg::CreateRoom {
                level,
                mode,
                seed,
                practice,
            } => {
                if self.room.is_some() {
                    return self.error(ErrorCode::AlreadyInRoom, "leave your room first", None);
                }
                let Some(level) = self.state.catalog.get(&level) else {
                    return self.error(
                        ErrorCode::LevelNotFound,
                        &format!("there is no level `{level}`"),
                        None,
                    );
                };
                let seed = seed.unwrap_or(level.seed);
                let handle = room::spawn(
                    &self.state,
                    room::RoomParams {
                        level,
                        mode,
                        practice,
                        seed,
                    },
                );
                self.attach(handle, false, |conn, reply| RoomCommand::Join {
                    player,
                    role: JoinRole::Player,
                    owner: true,
                    conn,
                    reply,
                })
                .await
            }
            ClientMsg::JoinRoom { room, code, role } => {
                if self.room.is_some() {
                    return self.error(ErrorCode::AlreadyInRoom, "leave your room first", None);
                }
                let handle = match (&room, &code) {
                    (Some(id), _) => self.state.registry.get(id),
                    (None, Some(code)) => self.state.registry.by_code(code),
                    (None, None) => None,
                };
                let Some(handle) = handle else {
                    return self.error(ErrorCode::RoomNotFound, "no such room or join code", None);
                };
                self.attach(handle, false, |conn, reply| RoomCommand::Join {
                    player,
                    role,
                    owner: false,
                    conn,
                    reply,
                })
                .await
            }
            ClientMsg::Resume { room, last_seq } => {
                if self.room.is_some() {
                    return self.error(ErrorCode::AlreadyInRoom, "leave your room first", None);
                }
                let Some(handle) = self.state.registry.get(&room) else {
                    return Err(close_code::RESUME_EXPIRED);
                };
                self.attach(handle, true, |conn, reply| RoomCommand::Resume {
                    player,
                    last_seq,
                    conn,
                    reply,
                })
                .await
            }
            ClientMsg::LeaveRoom => {
                if self.room.is_none() {
                    return self.error(ErrorCode::NotInRoom, "you are not in a room", None);
                }
                self.detach_room(true).await;
                Ok(())
            }
            ClientMsg::Start => self.input(player.id, Input::Start, None),
            // The room checks that `req_id` increases, per member: that survives resumes.
            ClientMsg::Action { req_id, action } => {
                self.input(player.id, Input::Action { req_id, action }, Some(req_id))
            }
            ClientMsg::Chat { text } => self.input(player.id, Input::Chat { text }, None),
            ClientMsg::Practice { op } => self.input(player.id, Input::Practice { op }, None),
        }
    }

    fn input(&mut self, player: PlayerId, input: Input, req_id: Option<u64>) -> Result<(), u16> {
        let Some(room) = self.room.clone() else {
            return self.error(ErrorCode::NotInRoom, "join or create a room first", req_id);
        };
        match room.try_send(RoomCommand::Input {
            player,
            conn: self.id,
            input,
        }) {
            Ok(()) => Ok(()),
            Err(SendError::Busy) => {
                metrics::counter!("stampede_dropped_inputs_total").increment(1);
                self.error(
                    ErrorCode::Busy,
                    "the room is busy; that input was dropped, try again",
                    req_id,
                )
            }
            Err(SendError::Gone) => {
                self.room = None;
                let _ = self.ctl.try_send(WriterCtl::Detach);
                self.error(ErrorCode::RoomNotFound, "the room has ended", req_id)
            }
        }
    }

    /// Joins or resumes: `resume` failures close with 4010, join failures are `error`s.
    async fn attach(
        &mut self,
        handle: RoomHandle,
        resume: bool,
        make: impl FnOnce(ConnLink, oneshot::Sender<Result<Attached, AttachError>>) -> RoomCommand,
    ) -> Result<(), u16> {
        let (tx, rx) = oneshot::channel();
        let conn = ConnLink {
            id: self.id,
            out: self.out.clone(),
            kill: self.kill.clone(),
        };
        match handle.send_lifecycle(make(conn, tx)).await {
            Ok(()) => {}
            // A room too busy to take the command in a second: the seat (if any) is still
            // there, so the client should simply try again.
            Err(SendError::Busy) => {
                return self.error(ErrorCode::Busy, "the room is busy; try again", None);
            }
            Err(SendError::Gone) if resume => return Err(close_code::RESUME_EXPIRED),
            Err(SendError::Gone) => {
                return self.error(ErrorCode::RoomNotFound, "the room has ended", None);
            }
        }
        let attached = match rx.await {
            Ok(Ok(a)) => a,
            Ok(Err(AttachError::Expired)) | Err(_) if resume => {
                return Err(close_code::RESUME_EXPIRED);
            }
            Ok(Err(AttachError::Full)) => {
                return self.error(
                    ErrorCode::RoomFull,
                    "no seat left for a player: join as a spectator",
                    None,
                );
            }
            Ok(Err(AttachError::WrongPhase)) => {
                return self.error(
                    ErrorCode::WrongPhase,
                    "the race has started: join as a spectator",
                    None,
                );
            }
            Ok(Err(AttachError::Expired)) => {
                return self.error(ErrorCode::RoomNotFound, "you are not in that room", None);
            }
            Err(_) => return self.error(ErrorCode::RoomNotFound, "the room has ended", None),
        };
        let _ = self
            .ctl
            .send(WriterCtl::Attach {
                frames: attached.frames,
                only: attached.only,
            })
            .await;
        self.room = Some(handle);
        Ok(())
    }

    /// Leaves the room (`leave`: the seat goes) or drops from it (the seat is held).
    async fn detach_room(&mut self, leave: bool) {
        let (Some(room), Some(player)) = (self.room.take(), self.player.as_ref()) else {
            return;
        };
        let player = player.id.clone();
        let cmd = if leave {
            RoomCommand::Leave {
                player,
                conn: self.id,
            }
        } else {
            RoomCommand::Dropped {
                player,
                conn: self.id,
            }
        };
        let _ = room.send_lifecycle(cmd).await;
        let _ = self.ctl.try_send(WriterCtl::Detach);
    }

    fn reply(&self, msg: &ServerMsg) -> Result<(), u16> {
        self.out
            .try_send(Arc::from(msg.encode()))
            .map_err(|_| close_code::SLOW_CONSUMER)
    }

    fn error(&self, code: ErrorCode, message: &str, req_id: Option<u64>) -> Result<(), u16> {
        self.reply(&ServerMsg::Error {
            code,
            message: message.to_owned(),
            req_id,
        })
    }
}

/// Maps a transport error to its close code.
fn transport_error_code(e: &axum::Error) -> u16 {
    let text = e.to_string().to_lowercase();
    if text.contains("too long") || text.contains("too big") || text.contains("capacity") {
        close_code::TOO_BIG
    } else if text.contains("utf-8") || text.contains("utf8") {
        close_code::INVALID_UTF8
    } else {
        close_code::PROTOCOL_ERROR
    }
}

fn close_reason(code: u16) -> &'static str {
    match code {
        close_code::NORMAL => "bye",
        close_code::PROTOCOL_ERROR => "protocol error",
        close_code::INVALID_UTF8 => "invalid utf-8",
        close_code::TOO_BIG => "message too big (16 KiB max)",
        close_code::INTERNAL => "room aborted",
        close_code::RESTARTING => "server restarting: resume",
        close_code::BAD_MESSAGE => "message does not decode",
        close_code::NOT_AUTHENTICATED => "send hello first",
        close_code::BAD_TOKEN => "bad or revoked token",
        close_code::VERSION_MISMATCH => "unsupported protocol version",
        close_code::RATE_LIMITED => "rate limited",
        close_code::SLOW_CONSUMER => "slow consumer or silent client: resume",
        close_code::RESUME_EXPIRED => "resume window expired: join again",
        close_code::GOING_AWAY => "going away",
        close_code::STORAGE_UNAVAILABLE => "storage unavailable: ranked play cannot start",
        _ => "closed",
    }
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Arc<str>>,
    mut ctl: mpsc::Receiver<WriterCtl>,
    kill: KillSwitch,
    ping_every: Duration,
    frame_gap: Duration,
) {
    let mut frames: Option<(watch::Receiver<Frames>, Option<PlayerId>)> = None;
    let mut sent_ticks: Vec<u64> = Vec::new();
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    // Metrics are sent at most once per `frame_gap`: the watch keeps only the latest frame, so a
    // frame that arrives early is not lost, just merged into the next one sent.
    let mut next_frame_at = Instant::now();
    // After a gap the frame produced during it is stale; we wait for a fresh one, but only this
    // long: after a run's last tick (or a pause) no fresh frame comes, and the latest must go.
    let mut flush_at: Option<Instant> = None;
    loop {
        let frames_due = Instant::now() >= next_frame_at;
        let (fresh, flush) = tokio::select! {
            biased;
            () = kill.killed() => break,
            c = ctl.recv() => {
                match c {
                    Some(WriterCtl::Attach { frames: f, only }) => { frames = Some((f, only)); sent_ticks.clear(); }
                    Some(WriterCtl::Detach) | None => frames = None,
                }
                continue;
            }
            m = out.recv() => match m {
                Some(m) => {
                    if !send(&mut sink, Message::Text(Utf8Bytes::from(&*m)), &kill).await {
                        break;
                    }
                    continue;
                }
                None => break,
            },
            () = tokio::time::sleep_until(next_frame_at), if !frames_due && frames.is_some() => {
                if let Some((rx, _)) = frames.as_mut() {
                    rx.mark_unchanged();
                }
                flush_at = Some(Instant::now() + frame_gap);
                continue;
            }
            () = async {
                match flush_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            }, if frames_due => (false, true),
            changed = async {
                match frames.as_mut() {
                    Some((rx, _)) => rx.changed().await,
                    None => std::future::pending().await,
                }
            }, if frames_due => {
                if changed.is_err() {
                    // The room's task ended without closing us: it aborted (a panic).
                    kill.kill(close_code::INTERNAL);
                    break;
                }
                (true, false)
            }
            _ = ping.tick() => {
                if !send(&mut sink, Message::Ping(Default::default()), &kill).await {
                    break;
                }
                continue;
            }
        };
        debug_assert!(fresh || flush);
        flush_at = None;
        next_frame_at = Instant::now() + frame_gap;
        let Some((rx, only)) = frames.as_mut() else {
            continue;
        };
        let latest = if fresh {
            rx.borrow_and_update().clone()
        } else {
            rx.borrow().clone()
        };
        sent_ticks.resize(latest.worlds.len(), u64::MAX);
        let mut failed = false;
        for (i, (owner, tick, msg)) in latest.worlds.iter().enumerate() {
            let wanted = only.is_none() || owner.is_none() || owner == only;
            if wanted && sent_ticks[i] != *tick {
                sent_ticks[i] = *tick;
                if !send(&mut sink, Message::Text(Utf8Bytes::from(&**msg)), &kill).await {
                    failed = true;
                    break;
                }
                metrics::counter!("stampede_metrics_frames_total").increment(1);
            }
        }
        if failed {
            break;
        }
    }
    let code = match kill.code() {
        0 => close_code::NORMAL,
        c => c,
    };
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(close_reason(code)),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), sink.close()).await;
}

/// Sends one message within the write timeout; false when the connection should end.
/// A kill interrupts a send that is stuck on a full socket: the room has already given up on
/// this client, and waiting out the timeout would only hold the socket longer.
async fn send(sink: &mut SplitSink<WebSocket, Message>, msg: Message, kill: &KillSwitch) -> bool {
    let len = match &msg {
        Message::Text(t) => t.len(),
        _ => 0,
    };
    let sent = tokio::select! {
        r = tokio::time::timeout(WRITE_TIMEOUT, sink.send(msg)) => r,
        () = kill.killed() => return false,
    };
    match sent {
        Ok(Ok(())) => {
            metrics::counter!("stampede_bytes_out_total").increment(len as u64);
            true
        }
        Ok(Err(_)) => {
            kill.kill(close_code::NORMAL);
            false
        }
        Err(_) => {
            kill.kill(close_code::SLOW_CONSUMER);
            false
        }
    }
}
