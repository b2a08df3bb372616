//! The room task: owns the room's simulations, members and event log; ticks on its own clock.
//! Invariant: every handler here is synchronous and never waits on a client: output goes out
//! through `try_send` on bounded per-connection queues (full → that client is closed 4009 and
//! may resume) and a latest-wins `watch` for metrics.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::FutureExt;
use stampede_protocol::api::{RECEIPT_VERSION, Receipt, ReceiptAction, ReceiptPlayer};
use stampede_protocol::{
    ChatLine, ErrorCode, JoinRole, Member, Mode, Phase, PlayerId, PracticeOp, Role, RoomEvent,
    RoomId, RoomSnapshot, ServerMsg, Standing, WorldView, close_code,
};
use stampede_sim::{Action, Level, World};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{AttachError, Attached, ConnLink, Frames, Input, RoomCommand, RoomHandle, RoomInfo};
use crate::AppState;
use crate::session::Player;
use crate::storage::{AttemptStart, FinishedAttempt, ReserveError, WriteJob, WriteSlot};

/// Chat lines kept for snapshots.
const CHAT_HISTORY: usize = 50;
/// Chat budget per member: one line a second, five in a burst.
const CHAT_RATE: f64 = 1.0;
const CHAT_BURST: f64 = 5.0;
/// Seconds between the start and the clock running.
const COUNTDOWN_S: f64 = 3.0;

/// What a room is made with.
#[derive(Debug, Clone)]
pub(crate) struct RoomParams {
    pub level: Arc<Level>,
    pub mode: Mode,
    pub practice: bool,
    pub seed: u64,
}

/// Creates a room, registers it and starts its task (tracked for shutdown).
pub(crate) fn spawn(state: &Arc<AppState>, params: RoomParams) -> RoomHandle {
    let (tx, rx) = mpsc::channel(state.config.room_queue);
    let id = RoomId(format!("r-{}", uuid::Uuid::new_v4().simple()));
    let code = state.registry.new_code();
    let info = Arc::new(RoomInfo {
        level: params.level.id.clone(),
        mode: format!("{:?}", params.mode).to_lowercase(),
        practice: params.practice,
        members: 0.into(),
        phase: std::sync::Mutex::new("lobby"),
    });
    let handle = RoomHandle {
        id: id.clone(),
        code: code.clone(),
        info: Arc::clone(&info),
        commands: tx,
    };
    state.registry.insert(handle.clone());
    let (frames, _) = watch::channel(Frames::default());
    let actor = RoomActor {
        state: Arc::clone(state),
        id: id.clone(),
        code,
        info,
        worlds: if params.mode == Mode::Race {
            Vec::new()
        } else {
            vec![WorldSlot::new(&params, None)]
        },
        params,
        phase: Phase::Lobby,
        countdown: 0,
        members: Vec::new(),
        seq: 0,
        history: VecDeque::new(),
        chat: VecDeque::new(),
        speed: 1,
        paused: false,
        commands: rx,
        frames,
        empty_since: Some(Instant::now()),
        ticks_since_standings: 0,
        lost: Vec::new(),
    };
    let st = Arc::clone(state);
    let shutdown = state.shutdown.child_token();
    state.tracker.spawn(async move {
        metrics::gauge!("stampede_rooms_live").increment(1.0);
        // A panic stays in its room: the task ends, the registry forgets the room, and its
        // members see their metrics channel close and are told 1011.
        let outcome = AssertUnwindSafe(actor.run(shutdown)).catch_unwind().await;
        st.registry.remove(&id);
        metrics::gauge!("stampede_rooms_live").decrement(1.0);
        if outcome.is_err() {
            // The room's reserved slots went with it; this job may find the queue full, and
            // then the next start aborts the attempts as orphans instead.
            st.storage
                .writes
                .try_send(WriteJob::AbortRoom(id.0.clone()));
            metrics::counter!("stampede_room_panics_total").increment(1);
            error!(room = %id, "room panicked: aborted, members closed with 1011");
        }
    });
    handle
}

#[derive(Debug)]
struct WorldSlot {
    owner: Option<PlayerId>,
    world: World,
    attempt_id: String,
    /// The action log a receipt will carry: (tick, player, action).
    log: Vec<(u64, PlayerId, Action)>,
    finished_sent: bool,
    /// A ranked attempt's start row and the queue slot reserved for its finish (or abort).
    ranked: Option<Ranked>,
    /// The receipt, once finished and signed.
    receipt_id: Option<String>,
}

#[derive(Debug)]
struct Ranked {
    start: AttemptStart,
    finish: WriteSlot,
}

impl WorldSlot {
    fn new(params: &RoomParams, owner: Option<PlayerId>) -> Self {
        // The level validated its start architecture when it loaded.
        let world = World::new(Arc::clone(&params.level), params.seed)
            .unwrap_or_else(|r| unreachable!("validated level start failed: {r}"));
        Self {
            owner,
            world,
            attempt_id: format!("a-{}", uuid::Uuid::new_v4().simple()),
            log: Vec::new(),
            finished_sent: false,
            ranked: None,
            receipt_id: None,
        }
    }

    /// Signs the receipt of a finished ranked attempt and hands it to the write queue through
    /// the slot reserved at the start. Returns the receipt id.
    fn record_finish(
        &mut self,
        state: &AppState,
        level: &Level,
        names: &[(PlayerId, String)],
    ) -> Option<String> {
        let ranked = self.ranked.take()?;
        let result = self.world.result()?.clone();
        let mut start = ranked.start;
        // Team members who joined after the start and changed the architecture played too.
        for (_, player, _) in &self.log {
            if !start.players.iter().any(|(p, _)| p == player) {
                let name = names
                    .iter()
                    .find(|(p, _)| p == player)
                    .map_or_else(String::new, |(_, n)| n.clone());
                start.players.push((player.clone(), name));
            }
        }
        let mut receipt = Receipt {
            version: RECEIPT_VERSION,
            id: format!("r-{}", uuid::Uuid::now_v7().simple()),
            attempt_id: self.attempt_id.clone(),
            level: level.id.clone(),
            level_version: level.version,
            level_hash: start.level_hash.clone(),
            engine: start.engine.clone(),
            seed: start.seed,
            mode: start.mode,
            players: start
                .players
                .iter()
                .map(|(id, name)| ReceiptPlayer {
                    id: id.clone(),
                    name: name.clone(),
                })
                .collect(),
            actions: self
                .log
                .iter()
                .map(|(tick, player, action)| ReceiptAction {
                    tick: *tick,
                    player: player.clone(),
                    action: action.clone(),
                })
                .collect(),
            result,
            started_at: start.started_at,
            finished_at: crate::now_ms(),
            key_id: String::new(),
            signature: None,
        };
        let body = state.storage.signer.sign(&mut receipt);
        let id = receipt.id.clone();
        ranked
            .finish
            .send(WriteJob::Finish(Box::new(FinishedAttempt {
                start,
                receipt,
                body,
            })));
        self.receipt_id = Some(id.clone());
        Some(id)
    }
}

#[derive(Debug)]
struct MemberSlot {
    player: Player,
    role: Role,
    conn: Option<ConnLink>,
    dropped_at: Option<Instant>,
    last_req: u64,
    chat_tokens: f64,
    chat_at: Instant,
}

struct RoomActor {
    state: Arc<AppState>,
    id: RoomId,
    code: String,
    info: Arc<RoomInfo>,
    params: RoomParams,
    phase: Phase,
    countdown: u64,
    members: Vec<MemberSlot>,
    worlds: Vec<WorldSlot>,
    seq: u64,
    /// Recent encoded events for resuming clients: `(seq, message)`.
    history: VecDeque<(u64, Arc<str>)>,
    chat: VecDeque<ChatLine>,
    speed: u32,
    paused: bool,
    commands: mpsc::Receiver<RoomCommand>,
    /// Latest metrics frame per simulation; connections skip frames they are too slow for.
    frames: watch::Sender<Frames>,
    empty_since: Option<Instant>,
    ticks_since_standings: u64,
    /// Members whose connection a send found gone or full, to announce once the current
    /// command or tick is done (announcing mid-fan-out would reorder `seq` for the others).
    lost: Vec<PlayerId>,
}

impl std::fmt::Debug for RoomActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomActor")
            .field("id", &self.id)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl RoomActor {
    fn tick_period(&self) -> Duration {
        let hz = f64::from(self.params.level.tick_hz)
            * self.state.config.clock_rate
            * f64::from(self.speed);
        Duration::from_secs_f64(1.0 / hz)
    }

    async fn run(mut self, shutdown: CancellationToken) {
        info!(room = %self.id, level = %self.params.level.id, "room created");
        let mut period = self.tick_period();
        let mut ticker = tokio::time::interval(period);
        // A tick that could not run on time is skipped, not burst: the game clock slows rather
        // than jumping, and results do not change because the simulation counts ticks.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut housekeeping = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    self.close_all(close_code::RESTARTING);
                    break;
                }
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                scheduled = ticker.tick(), if self.clock_runs() => {
                    // How late the tick started against its schedule: the lag clients feel,
                    // before any network delay (a busy runtime shows here first).
                    metrics::histogram!("stampede_tick_lag_seconds").record(scheduled.elapsed().as_secs_f64());
                    let started = std::time::Instant::now();
                    self.tick();
                    let took = started.elapsed();
                    metrics::histogram!("stampede_tick_duration_seconds").record(took.as_secs_f64());
                    if took > period {
                        metrics::counter!("stampede_tick_overruns_total").increment(1);
                    }
                }
                _ = housekeeping.tick() => {
                    if self.housekeeping() {
                        break;
                    }
                }
            }
            self.announce_lost();
            let p = self.tick_period();
            if p != period {
                period = p;
                ticker = tokio::time::interval_at(Instant::now() + period, period);
                ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
            }
        }
        self.abort_unfinished();
        info!(room = %self.id, "room closed");
    }

    fn clock_runs(&self) -> bool {
        !self.paused && matches!(self.phase, Phase::Countdown | Phase::Running)
    }

    fn handle(&mut self, cmd: RoomCommand) {
        match cmd {
            RoomCommand::Join {
                player,
                role,
                owner,
                conn,
                reply,
            } => {
                let r = self.join(player, role, owner, conn);
                let _ = reply.send(r);
            }
            RoomCommand::Resume {
                player,
                last_seq,
                conn,
                reply,
            } => {
                let r = self.resume(&player, last_seq, conn);
                let _ = reply.send(r);
            }
            RoomCommand::Leave { player, conn } => self.leave(&player, conn),
            RoomCommand::Dropped { player, conn } => {
                if let Some(m) = self.members.iter_mut().find(|m| {
                    m.player.id == player && m.conn.as_ref().is_some_and(|c| c.id == conn)
                }) {
                    m.conn = None;
                    m.dropped_at = Some(Instant::now());
                    self.event(RoomEvent::MemberConnection {
                        player,
                        connected: false,
                    });
                }
            }
            RoomCommand::Input {
                player,
                conn,
                input,
            } => {
                let Some(i) = self.members.iter().position(|m| {
                    m.player.id == player && m.conn.as_ref().is_some_and(|c| c.id == conn)
                }) else {
                    return;
                };
                self.input(i, input);
            }
        }
        self.refresh_info();
    }

    fn join(
        &mut self,
        player: Player,
        role: JoinRole,
        owner: bool,
        conn: ConnLink,
    ) -> Result<Attached, AttachError> {
        if let Some(i) = self.members.iter().position(|m| m.player.id == player.id) {
            // Joining again from a new connection is a resume from scratch.
            return self.reattach(i, conn, 0);
        }
        if self.members.len() >= self.state.config.max_members {
            return Err(AttachError::Full);
        }
        let plays = owner || role == JoinRole::Player;
        let role = match (owner, role) {
            (true, _) => Role::Owner,
            (false, JoinRole::Player) => Role::Player,
            (false, JoinRole::Spectator) => Role::Spectator,
            (false, JoinRole::Coach) => Role::Coach,
        };
        if plays && !owner {
            match self.params.mode {
                Mode::Solo => return Err(AttachError::Full),
                Mode::Race if self.phase != Phase::Lobby => return Err(AttachError::WrongPhase),
                _ => {}
            }
        }
        if plays && self.params.mode == Mode::Race {
            self.worlds
                .push(WorldSlot::new(&self.params, Some(player.id.clone())));
        }
        let member = Member {
            player: player.id.clone(),
            name: player.name.clone(),
            role,
            connected: true,
        };
        self.members.push(MemberSlot {
            player,
            role,
            conn: Some(conn),
            dropped_at: None,
            last_req: 0,
            chat_tokens: CHAT_BURST,
            chat_at: Instant::now(),
        });
        self.empty_since = None;
        self.event(RoomEvent::MemberJoined { member });
        let i = self.members.len() - 1;
        let snapshot = self.snapshot();
        self.send(i, &snapshot);
        Ok(self.attached(i))
    }

    /// The metrics subscription for member `i`: a racer streams only their own simulation,
    /// everyone else (spectators and coaches too) every simulation in the room.
    fn attached(&self, i: usize) -> Attached {
        let m = &self.members[i];
        let races = self.params.mode == Mode::Race && matches!(m.role, Role::Owner | Role::Player);
        Attached {
            frames: self.frames.subscribe(),
            only: races.then(|| m.player.id.clone()),
        }
    }

    fn resume(
        &mut self,
        player: &Player,
        last_seq: u64,
        conn: ConnLink,
    ) -> Result<Attached, AttachError> {
        let i = self
            .members
            .iter()
            .position(|m| m.player.id == player.id)
            .ok_or(AttachError::Expired)?;
        self.reattach(i, conn, last_seq)
    }

    /// Attaches a new connection to a member and brings it up to date: the events it missed
    /// when the history still has them and they fit its queue, otherwise a full snapshot.
    fn reattach(
        &mut self,
        i: usize,
        conn: ConnLink,
        last_seq: u64,
    ) -> Result<Attached, AttachError> {
        // The replay goes into the new connection's queue all at once, before its writer has
        // drained anything: a replay that does not fit (with room for the reconnection event)
        // would close it as a slow consumer straight away, and every retry the same way.
        let fits = conn.out.capacity().saturating_sub(1);
        if let Some(old) = self.members[i].conn.replace(conn) {
            old.kill.kill(close_code::NORMAL);
        }
        self.members[i].dropped_at = None;
        self.empty_since = None;
        let oldest = self.history.front().map_or(self.seq + 1, |(s, _)| *s);
        let player = self.members[i].player.id.clone();
        let missed = self.seq.saturating_sub(last_seq);
        if last_seq > 0 && last_seq <= self.seq && last_seq + 1 >= oldest && missed <= fits as u64 {
            let missed: Vec<Arc<str>> = self
                .history
                .iter()
                .filter(|(s, _)| *s > last_seq)
                .map(|(_, m)| Arc::clone(m))
                .collect();
            for m in missed {
                self.send_raw(i, m);
            }
        } else {
            let snapshot = self.snapshot();
            self.send(i, &snapshot);
        }
        // Results are not numbered events, so a client that was away when a run ended gets
        // them again (the snapshot has them too; clients dedupe by attempt id).
        let results: Vec<ServerMsg> = self
            .worlds
            .iter()
            .filter(|w| w.finished_sent)
            .filter_map(|w| {
                Some(ServerMsg::AttemptFinished {
                    attempt_id: w.attempt_id.clone(),
                    world: w.owner.clone(),
                    receipt_id: w.receipt_id.clone(),
                    result: w.world.result()?.clone(),
                })
            })
            .collect();
        for msg in &results {
            self.send(i, msg);
        }
        self.event(RoomEvent::MemberConnection {
            player,
            connected: true,
        });
        Ok(self.attached(i))
    }

    fn leave(&mut self, player: &PlayerId, conn: u64) {
        let Some(i) = self
            .members
            .iter()
            .position(|m| &m.player.id == player && m.conn.as_ref().is_some_and(|c| c.id == conn))
        else {
            return;
        };
        self.remove_member(i);
    }

    fn remove_member(&mut self, i: usize) {
        let m = self.members.remove(i);
        if self.params.mode == Mode::Race && self.phase == Phase::Lobby {
            self.worlds
                .retain(|w| w.owner.as_ref() != Some(&m.player.id));
        }
        self.event(RoomEvent::MemberLeft {
            player: m.player.id,
        });
    }

    fn input(&mut self, i: usize, input: Input) {
        let role = self.members[i].role;
        let plays = matches!(role, Role::Owner | Role::Player);
        match input {
            Input::Start => {
                let owner_present = self.members.iter().any(|m| m.role == Role::Owner);
                // When the owner has left, any player may start.
                let may_start = role == Role::Owner || (plays && !owner_present);
                if !may_start {
                    return self.error(
                        i,
                        ErrorCode::NotAllowed,
                        "only the room's owner can start it",
                        None,
                    );
                }
                if self.phase != Phase::Lobby {
                    return self.error(
                        i,
                        ErrorCode::WrongPhase,
                        "the run has already started",
                        None,
                    );
                }
                if self.worlds.is_empty() {
                    return self.error(
                        i,
                        ErrorCode::WrongPhase,
                        "nobody is playing in this room",
                        None,
                    );
                }
                if !self.params.practice
                    && let Err(refused) = self.start_ranked()
                {
                    let reason = refused.name();
                    metrics::counter!("stampede_ranked_starts_refused_total", "reason" => reason)
                        .increment(1);
                    return self.error(i, ErrorCode::StorageUnavailable, &refused.message(), None);
                }
                self.countdown =
                    (COUNTDOWN_S * f64::from(self.params.level.tick_hz)).round() as u64;
                self.set_phase(Phase::Countdown);
            }
            Input::Action { req_id, action } => {
                if !plays {
                    return self.error(
                        i,
                        ErrorCode::NotAllowed,
                        "spectators and coaches cannot change the architecture",
                        Some(req_id),
                    );
                }
                if req_id <= self.members[i].last_req {
                    return self.error(
                        i,
                        ErrorCode::StaleRequest,
                        "req_id must increase; this one was ignored",
                        Some(req_id),
                    );
                }
                self.members[i].last_req = req_id;
                if self.phase == Phase::Finished {
                    return self.error(i, ErrorCode::WrongPhase, "the run is over", Some(req_id));
                }
                let player = self.members[i].player.id.clone();
                let Some(w) = self.world_of(&player) else {
                    return self.error(
                        i,
                        ErrorCode::NotAllowed,
                        "you have no simulation in this room",
                        Some(req_id),
                    );
                };
                if self.worlds[w].world.is_over() {
                    return self.error(i, ErrorCode::WrongPhase, "your run is over", Some(req_id));
                }
                let slot = &mut self.worlds[w];
                let tick = slot.world.tick();
                let result = slot.world.apply(&action);
                let world = slot.owner.clone();
                let reply = match result {
                    Ok(()) => {
                        slot.log.push((tick, player.clone(), action.clone()));
                        self.event(RoomEvent::ArchitectureChanged {
                            player,
                            world,
                            action,
                            tick,
                        });
                        ServerMsg::ActionResult {
                            req_id,
                            ok: true,
                            error: None,
                            tick,
                        }
                    }
                    Err(refusal) => ServerMsg::ActionResult {
                        req_id,
                        ok: false,
                        error: Some(refusal),
                        tick,
                    },
                };
                self.send(i, &reply);
            }
            Input::Chat { text } => {
                let m = &mut self.members[i];
                let now = Instant::now();
                m.chat_tokens =
                    (m.chat_tokens + (now - m.chat_at).as_secs_f64() * CHAT_RATE).min(CHAT_BURST);
                m.chat_at = now;
                if m.chat_tokens < 1.0 {
                    return self.error(
                        i,
                        ErrorCode::RateLimited,
                        "too many chat lines: one a second",
                        None,
                    );
                }
                m.chat_tokens -= 1.0;
                let line = ChatLine {
                    player: m.player.id.clone(),
                    name: m.player.name.clone(),
                    text,
                };
                self.chat.push_back(line.clone());
                if self.chat.len() > CHAT_HISTORY {
                    self.chat.pop_front();
                }
                self.event(RoomEvent::Chat { line });
            }
            Input::Practice { op } => {
                if !self.params.practice {
                    return self.error(
                        i,
                        ErrorCode::BadRequest,
                        "practice controls work only in practice rooms",
                        None,
                    );
                }
                if !matches!(role, Role::Owner | Role::Coach) {
                    return self.error(
                        i,
                        ErrorCode::NotAllowed,
                        "only the owner or a coach can use practice controls",
                        None,
                    );
                }
                match op {
                    PracticeOp::Pause => self.paused = true,
                    PracticeOp::Unpause => self.paused = false,
                    PracticeOp::Speed { factor } => self.speed = factor,
                    PracticeOp::Restart => {
                        for w in &mut self.worlds {
                            let owner = w.owner.clone();
                            *w = WorldSlot::new(&self.params, owner);
                        }
                        self.set_phase(Phase::Lobby);
                    }
                    PracticeOp::InjectFault { index } => {
                        let Some(spec) = self.params.level.injectable.get(index as usize).cloned()
                        else {
                            return self.error(
                                i,
                                ErrorCode::BadRequest,
                                "no injectable fault with that index",
                                None,
                            );
                        };
                        for w in &mut self.worlds {
                            // Injectable faults were validated with the level.
                            let _ = w.world.inject_fault(&spec);
                        }
                    }
                }
                let player = self.members[i].player.id.clone();
                self.event(RoomEvent::Practice { player, op });
            }
        }
    }

    /// Reserves, per simulation, a ranked seat and two write-queue slots (the start row now,
    /// the finish later) and queues the start rows. All or nothing: reserves nothing when a
    /// seat or a slot is missing.
    fn start_ranked(&mut self) -> Result<(), ReserveError> {
        let writes = &self.state.storage.writes;
        let mut reserved = Vec::with_capacity(self.worlds.len());
        for _ in 0..self.worlds.len() {
            reserved.push(writes.reserve_ranked()?);
        }
        let lv = &self.params.level;
        let players: Vec<(PlayerId, String)> = self
            .members
            .iter()
            .filter(|m| matches!(m.role, Role::Owner | Role::Player))
            .map(|m| (m.player.id.clone(), m.player.name.clone()))
            .collect();
        let now = crate::now_ms();
        for (slot, (now_slot, later)) in self.worlds.iter_mut().zip(reserved) {
            let start = AttemptStart {
                id: slot.attempt_id.clone(),
                room_id: self.id.0.clone(),
                node_id: self.state.storage.node_id.clone(),
                level: lv.id.clone(),
                level_hash: self
                    .state
                    .catalog
                    .hash(&lv.id)
                    .unwrap_or_default()
                    .to_owned(),
                engine: stampede_sim::ENGINE_VERSION.to_owned(),
                seed: self.params.seed,
                mode: self.params.mode,
                players: match &slot.owner {
                    Some(owner) => players
                        .iter()
                        .filter(|(p, _)| p == owner)
                        .cloned()
                        .collect(),
                    None => players.clone(),
                },
                started_at: now,
            };
            now_slot.send(WriteJob::Start(start.clone()));
            slot.ranked = Some(Ranked {
                start,
                finish: later,
            });
        }
        Ok(())
    }

    /// A room that ends with ranked attempts unfinished records them aborted (never ranked).
    fn abort_unfinished(&mut self) {
        for slot in &mut self.worlds {
            if let Some(r) = slot.ranked.take() {
                r.finish.send(WriteJob::Abort(slot.attempt_id.clone()));
            }
        }
    }

    fn world_of(&self, player: &PlayerId) -> Option<usize> {
        match self.params.mode {
            Mode::Race => self
                .worlds
                .iter()
                .position(|w| w.owner.as_ref() == Some(player)),
            Mode::Solo | Mode::Team => (!self.worlds.is_empty()).then_some(0),
        }
    }

    fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
        // Before the event goes out: whoever hears of the change and then lists rooms sees it.
        self.refresh_info();
        self.event(RoomEvent::PhaseChanged { phase });
    }

    fn tick(&mut self) {
        if self.phase == Phase::Countdown {
            self.countdown = self.countdown.saturating_sub(1);
            if self.countdown == 0 {
                self.set_phase(Phase::Running);
            }
            return;
        }
        let mut frames = Vec::with_capacity(self.worlds.len());
        let mut out: Vec<RoomEvent> = Vec::new();
        let mut finished: Vec<ServerMsg> = Vec::new();
        let level = Arc::clone(&self.params.level);
        for slot in &mut self.worlds {
            if !slot.world.is_over() {
                let report = slot.world.step();
                let tick = report.tick;
                for alert in &report.alerts {
                    out.push(RoomEvent::Alert {
                        world: slot.owner.clone(),
                        tick,
                        alert: alert.clone(),
                    });
                }
                for event in &report.events {
                    out.push(RoomEvent::Sim {
                        world: slot.owner.clone(),
                        tick,
                        event: event.clone(),
                    });
                }
            }
            let report = slot.world.last_report();
            // Serialized once per tick; every connection gets the same bytes.
            let mut lean = report.clone();
            lean.alerts.clear();
            lean.events.clear();
            let msg = ServerMsg::Metrics {
                world: slot.owner.clone(),
                report: Box::new(lean),
            };
            frames.push((
                slot.owner.clone(),
                report.tick,
                Arc::<str>::from(msg.encode()),
            ));
            if slot.world.result().is_some() && !slot.finished_sent {
                slot.finished_sent = true;
                let names: Vec<(PlayerId, String)> = self
                    .members
                    .iter()
                    .map(|m| (m.player.id.clone(), m.player.name.clone()))
                    .collect();
                let receipt_id = slot.record_finish(&self.state, &level, &names);
                if let Some(result) = slot.world.result() {
                    finished.push(ServerMsg::AttemptFinished {
                        attempt_id: slot.attempt_id.clone(),
                        world: slot.owner.clone(),
                        receipt_id,
                        result: result.clone(),
                    });
                }
            }
        }
        self.frames.send_replace(Frames { worlds: frames });
        for e in out {
            self.event(e);
        }
        for msg in finished {
            self.broadcast(&msg);
        }
        if self.params.mode == Mode::Race {
            self.ticks_since_standings += 1;
            if self.ticks_since_standings >= u64::from(self.params.level.tick_hz) {
                self.ticks_since_standings = 0;
                let standings = self.standings();
                self.broadcast(&standings);
            }
        }
        if !self.worlds.is_empty() && self.worlds.iter().all(|w| w.world.is_over()) {
            if self.params.mode == Mode::Race {
                let standings = self.standings();
                self.broadcast(&standings);
            }
            self.set_phase(Phase::Finished);
        }
    }

    fn standings(&self) -> ServerMsg {
        let mut entries: Vec<Standing> = self
            .worlds
            .iter()
            .map(|w| {
                let owner = w.owner.clone().unwrap_or_else(|| PlayerId(String::new()));
                let name = self
                    .members
                    .iter()
                    .find(|m| m.player.id == owner)
                    .map_or_else(String::new, |m| m.player.name.clone());
                let r = w.world.last_report();
                let progress = w.world.progress();
                Standing {
                    player: owner,
                    name,
                    slo_compliance: progress.slo_compliance,
                    availability: progress.availability,
                    cost_per_hour: r.system.cost_per_hour,
                    result: w.world.result().cloned(),
                }
            })
            .collect();
        let key = |s: &Standing| {
            s.result
                .as_ref()
                .map_or(s.slo_compliance * 1000.0, |r| r.score)
        };
        entries.sort_by(|a, b| key(b).total_cmp(&key(a)));
        ServerMsg::Standings { entries }
    }

    /// Seat expiry and reaping; returns true when the room should end.
    fn housekeeping(&mut self) -> bool {
        let hold = crate::config::Config::secs(self.state.config.seat_hold_s);
        let now = Instant::now();
        while let Some(i) = self
            .members
            .iter()
            .position(|m| m.dropped_at.is_some_and(|t| now - t >= hold))
        {
            self.remove_member(i);
        }
        let connected = self.members.iter().any(|m| m.conn.is_some());
        if connected {
            self.empty_since = None;
        } else if self.empty_since.is_none() {
            self.empty_since = Some(now);
        }
        self.refresh_info();
        let reap = crate::config::Config::secs(self.state.config.empty_room_s);
        self.empty_since.is_some_and(|t| now - t >= reap)
    }

    fn refresh_info(&self) {
        self.info
            .members
            .store(self.members.len() as u64, Ordering::Relaxed);
        let phase = match self.phase {
            Phase::Lobby => "lobby",
            Phase::Countdown => "countdown",
            Phase::Running => "running",
            Phase::Finished => "finished",
        };
        if let Ok(mut p) = self.info.phase.lock() {
            *p = phase;
        }
    }

    fn snapshot(&self) -> ServerMsg {
        let lv = &self.params.level;
        ServerMsg::RoomSnapshot {
            room: Box::new(RoomSnapshot {
                id: self.id.clone(),
                code: self.code.clone(),
                level: lv.id.clone(),
                title: lv.title.clone(),
                mode: self.params.mode,
                practice: self.params.practice,
                phase: self.phase,
                seed: self.params.seed,
                tick_hz: lv.tick_hz,
                total_ticks: lv.total_ticks(),
                speed: self.speed,
                paused: self.paused,
                members: self
                    .members
                    .iter()
                    .map(|m| Member {
                        player: m.player.id.clone(),
                        name: m.player.name.clone(),
                        role: m.role,
                        connected: m.conn.is_some(),
                    })
                    .collect(),
                worlds: self
                    .worlds
                    .iter()
                    .map(|w| WorldView {
                        player: w.owner.clone(),
                        tick: w.world.tick(),
                        architecture: w.world.arch().clone(),
                        report: (w.world.tick() > 0)
                            .then(|| Box::new(w.world.last_report().clone())),
                        result: w.world.result().cloned(),
                        alerts: w.world.active_alerts(),
                    })
                    .collect(),
                chat: self.chat.iter().cloned().collect(),
                injectable: lv
                    .injectable
                    .iter()
                    .map(stampede_sim::fault::FaultSpec::describe)
                    .collect(),
                last_seq: self.seq,
            }),
        }
    }

    /// Numbers an event, keeps it for resumes and sends it to every connected member.
    fn event(&mut self, event: RoomEvent) {
        self.seq += 1;
        let msg: Arc<str> = Arc::from(
            ServerMsg::Event {
                seq: self.seq,
                event,
            }
            .encode(),
        );
        self.history.push_back((self.seq, Arc::clone(&msg)));
        while self.history.len() > self.state.config.resume_history {
            self.history.pop_front();
        }
        for i in 0..self.members.len() {
            self.send_raw(i, Arc::clone(&msg));
        }
    }

    fn broadcast(&mut self, msg: &ServerMsg) {
        let encoded: Arc<str> = Arc::from(msg.encode());
        for i in 0..self.members.len() {
            self.send_raw(i, Arc::clone(&encoded));
        }
    }

    fn send(&mut self, i: usize, msg: &ServerMsg) {
        self.send_raw(i, Arc::from(msg.encode()));
    }

    fn error(&mut self, i: usize, code: ErrorCode, message: &str, req_id: Option<u64>) {
        self.send(
            i,
            &ServerMsg::Error {
                code,
                message: message.to_owned(),
                req_id,
            },
        );
    }

    /// Never waits: a member whose queue is full is closed as a slow consumer and keeps their
    /// seat, so they can resume and get what they missed. A closed queue means the connection
    /// is already ending; either way the member is detached here and announced afterwards,
    /// because the connection's own `Dropped` will no longer match.
    fn send_raw(&mut self, i: usize, msg: Arc<str>) {
        let m = &mut self.members[i];
        let Some(conn) = m.conn.as_ref() else { return };
        let Err(e) = conn.out.try_send(msg) else {
            return;
        };
        if matches!(e, mpsc::error::TrySendError::Full(_)) {
            warn!(room = %self.id, player = %m.player.id, "slow consumer: closing 4009");
            metrics::counter!("stampede_slow_consumer_closes_total").increment(1);
        }
        conn.kill.kill(close_code::SLOW_CONSUMER);
        m.conn = None;
        m.dropped_at = Some(Instant::now());
        self.lost.push(m.player.id.clone());
    }

    /// Tells the room about members `send_raw` detached.
    fn announce_lost(&mut self) {
        while !self.lost.is_empty() {
            for player in std::mem::take(&mut self.lost) {
                self.event(RoomEvent::MemberConnection {
                    player,
                    connected: false,
                });
            }
        }
    }

    fn close_all(&mut self, code: u16) {
        for m in &mut self.members {
            if let Some(c) = m.conn.take() {
                c.kill.kill(code);
            }
        }
    }
}
