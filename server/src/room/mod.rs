//! Rooms: one task per room owns its simulations (`actor.rs`); everything else holds a cheap
//! `RoomHandle` with a bounded command queue. The registry is for lookup only.
//! Invariant: nobody but the room task touches room state, and the room never awaits a client.

mod actor;

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use dashmap::DashMap;
use stampede_protocol::{Action, JoinRole, PlayerId, PracticeOp, RoomId};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::session::Player;

pub(crate) use actor::{RoomParams, spawn};

/// What a room publishes as metrics: the latest encoded frame of each simulation (latest wins).
#[derive(Debug, Clone, Default)]
pub(crate) struct Frames {
    /// `(world owner, tick, encoded metrics message)` per simulation.
    pub worlds: Vec<(Option<PlayerId>, u64, Arc<str>)>,
}

/// A connection as a room sees it: where to send, and how to close it.
#[derive(Debug, Clone)]
pub(crate) struct ConnLink {
    /// Unique per connection (a resume attaches a new one).
    pub id: u64,
    /// Bounded outbound queue drained by the connection's writer. The room only `try_send`s;
    /// when it is full the connection is closed as a slow consumer (it can resume).
    pub out: mpsc::Sender<Arc<str>>,
    /// Closes the connection with a code (the writer sends the close frame).
    pub kill: KillSwitch,
}

/// Ends a connection from anywhere with a close code; the first code set wins.
#[derive(Debug, Clone, Default)]
pub(crate) struct KillSwitch {
    token: CancellationToken,
    code: Arc<AtomicU16>,
}

impl KillSwitch {
    pub(crate) fn kill(&self, code: u16) {
        let _ = self
            .code
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
        self.token.cancel();
    }

    pub(crate) fn code(&self) -> u16 {
        self.code.load(Ordering::SeqCst)
    }

    pub(crate) async fn killed(&self) {
        self.token.cancelled().await;
    }
}

/// An input from a member, applied by the room at its next tick boundary.
// Commands live only while queued; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum Input {
    Start,
    Action { req_id: u64, action: Action },
    Chat { text: String },
    Practice { op: PracticeOp },
}

/// What the room accepted when a connection attached.
#[derive(Debug)]
pub(crate) struct Attached {
    pub frames: watch::Receiver<Frames>,
    /// The one simulation whose metrics this connection gets (a racer's own); `None`: all of
    /// them (solo and team rooms, and anyone watching a race).
    pub only: Option<PlayerId>,
}

/// Why a room refused to attach a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachError {
    Full,
    WrongPhase,
    /// Resume for a member whose seat has expired.
    Expired,
}

/// Commands to a room task.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum RoomCommand {
    Join {
        player: Player,
        role: JoinRole,
        owner: bool,
        conn: ConnLink,
        reply: oneshot::Sender<Result<Attached, AttachError>>,
    },
    Resume {
        player: Player,
        last_seq: u64,
        conn: ConnLink,
        reply: oneshot::Sender<Result<Attached, AttachError>>,
    },
    Leave {
        player: PlayerId,
        conn: u64,
    },
    Dropped {
        player: PlayerId,
        conn: u64,
    },
    Input {
        player: PlayerId,
        conn: u64,
        input: Input,
    },
}

/// A cheap handle to a running room.
#[derive(Debug, Clone)]
pub(crate) struct RoomHandle {
    pub id: RoomId,
    pub code: String,
    pub info: Arc<RoomInfo>,
    commands: mpsc::Sender<RoomCommand>,
}

/// What the room list shows, updated by the room itself.
#[derive(Debug, Default)]
pub(crate) struct RoomInfo {
    pub level: String,
    pub mode: String,
    pub practice: bool,
    pub members: AtomicU64,
    pub phase: std::sync::Mutex<&'static str>,
}

/// Why a command could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The room's queue is full; the input was dropped.
    Busy,
    /// The room has ended.
    Gone,
}

impl RoomHandle {
    /// Queues a command without waiting.
    pub(crate) fn try_send(&self, cmd: RoomCommand) -> Result<(), SendError> {
        self.commands.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::Busy,
            mpsc::error::TrySendError::Closed(_) => SendError::Gone,
        })
    }

    /// Queues a lifecycle command (join, resume), waiting briefly for room in the queue: these
    /// must not be dropped like inputs, and a room that cannot take one in a second is unhealthy.
    pub(crate) async fn send_lifecycle(&self, cmd: RoomCommand) -> Result<(), SendError> {
        match tokio::time::timeout(std::time::Duration::from_secs(1), self.commands.send(cmd)).await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SendError::Gone),
            Err(_) => Err(SendError::Busy),
        }
    }
}

/// Live rooms by id and by join code. Lookup only: clone the handle out, never hold a guard.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    rooms: DashMap<RoomId, RoomHandle>,
    codes: DashMap<String, RoomId>,
}

impl Registry {
    pub(crate) fn get(&self, id: &RoomId) -> Option<RoomHandle> {
        self.rooms.get(id).map(|r| r.clone())
    }

    pub(crate) fn by_code(&self, code: &str) -> Option<RoomHandle> {
        let id = self
            .codes
            .get(&code.to_ascii_uppercase())
            .map(|r| r.clone())?;
        self.get(&id)
    }

    pub(crate) fn insert(&self, handle: RoomHandle) {
        self.codes.insert(handle.code.clone(), handle.id.clone());
        self.rooms.insert(handle.id.clone(), handle);
    }

    pub(crate) fn remove(&self, id: &RoomId) {
        if let Some((_, h)) = self.rooms.remove(id) {
            self.codes.remove(&h.code);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rooms.len()
    }

    /// A snapshot of every handle (for listing).
    pub(crate) fn handles(&self) -> Vec<RoomHandle> {
        let mut v: Vec<RoomHandle> = self.rooms.iter().map(|r| r.clone()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// A fresh six-letter join code not in use (no vowels: no words, no 0/O or 1/I confusion).
    pub(crate) fn new_code(&self) -> String {
        const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";
        loop {
            let bytes = uuid::Uuid::new_v4().into_bytes();
            let code: String = bytes[..6]
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .collect();
            if !self.codes.contains_key(&code) {
                return code;
            }
        }
    }
}
