//! HTTP for what finished attempts leave behind: receipts (get, verify, the public key),
//! leaderboards (pages, around a player, a player's rank) and players (progress, history).
//! Invariant: every query parameter is checked and bounded before it reaches storage; storage
//! failures answer 503 with a reason, never internals.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use stampede_protocol::api::{
    AttemptPage, LeaderboardPage, PlayerProgress, PublicKey, Verification, Window,
};
use stampede_protocol::{Mode, PlayerId};

use super::AppError;
use crate::AppState;
use crate::leaderboard::{BoardKey, Cursor, MAX_PAGE, Periods, decode_cursor};
use crate::storage::StoreError;

/// Largest receipt `verify` accepts (a long team run's action log fits many times over).
pub(crate) const MAX_RECEIPT_BYTES: usize = 1024 * 1024;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "storage unavailable for a request");
        AppError::Unavailable("storage is unavailable; try again shortly".to_owned())
    }
}

impl From<crate::leaderboard::BoardError> for AppError {
    fn from(e: crate::leaderboard::BoardError) -> Self {
        tracing::warn!(error = %e, "leaderboard unavailable for a request");
        AppError::Unavailable("leaderboards are temporarily unavailable".to_owned())
    }
}

fn check_id(kind: &str, id: &str) -> Result<(), AppError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!("`{id}` is not a {kind} id")))
    }
}

/// A stored receipt's exact text, or 404.
async fn stored_receipt(state: &AppState, id: &str) -> Result<String, AppError> {
    check_id("receipt", id)?;
    state
        .storage
        .db
        .receipt(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no receipt `{id}`")))
}

pub(crate) async fn get_receipt(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let body = stored_receipt(&state, &id).await?;
    // The stored bytes, exactly: they are what the signature covers.
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub(crate) async fn verify_receipt(
    State(state): State<Arc<AppState>>,
    body: String,
) -> Result<Json<Verification>, AppError> {
    if body.len() > MAX_RECEIPT_BYTES {
        return Err(AppError::BadRequest("the receipt is too large".to_owned()));
    }
    // Re-simulating a whole level takes tens of milliseconds: off the async workers.
    let st = Arc::clone(&state);
    let verdict =
        tokio::task::spawn_blocking(move || st.storage.verifier.verify(&body, &st.catalog))
            .await
            .map_err(|_| AppError::BadRequest("the receipt could not be checked".to_owned()))?;
    Ok(Json(verdict))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayQuery {
    every: Option<u64>,
}

/// Most frames a replay returns (the sampling step grows to fit).
const MAX_REPLAY_FRAMES: u64 = 10_000;
/// Frames a replay returns when the client does not ask for a step.
const DEFAULT_REPLAY_FRAMES: u64 = 1_000;

pub(crate) async fn replay_receipt(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ReplayQuery>,
) -> Result<Response, AppError> {
    let body = stored_receipt(&state, &id).await?;
    let receipt: stampede_protocol::api::Receipt = serde_json::from_str(&body)
        .map_err(|e| AppError::Conflict(format!("the stored receipt does not read: {e}")))?;
    let level_ticks = state
        .catalog
        .get(&receipt.level)
        .map_or(1, |l| l.total_ticks());
    let every = match q.every {
        Some(0) => return Err(AppError::BadRequest("every must be at least 1".to_owned())),
        Some(n) => n.max(level_ticks.div_ceil(MAX_REPLAY_FRAMES)),
        None => level_ticks.div_ceil(DEFAULT_REPLAY_FRAMES).max(1),
    };
    let st = Arc::clone(&state);
    let replay =
        tokio::task::spawn_blocking(move || crate::receipt::replay(receipt, &st.catalog, every))
            .await
            .map_err(|_| AppError::BadRequest("the receipt could not be replayed".to_owned()))?
            .map_err(|e| AppError::Conflict(e.to_string()))?;
    // A receipt never changes, and neither does its replay on this engine and level.
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=86400")],
        Json(replay),
    )
        .into_response())
}

pub(crate) async fn public_key(State(state): State<Arc<AppState>>) -> Json<PublicKey> {
    Json(state.storage.verifier.public())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoardQuery {
    mode: Option<String>,
    window: Option<String>,
    period: Option<String>,
    after: Option<String>,
    before: Option<String>,
    limit: Option<u32>,
}

fn board_of(level: &str, state: &AppState, q: &BoardQuery) -> Result<BoardKey, AppError> {
    if state.catalog.get(level).is_none() {
        return Err(AppError::NotFound(format!("there is no level `{level}`")));
    }
    let mode = match q.mode.as_deref().unwrap_or("solo") {
        "solo" => Mode::Solo,
        "race" => Mode::Race,
        "team" => Mode::Team,
        other => {
            return Err(AppError::BadRequest(format!(
                "mode `{other}` is not one of solo, race, team"
            )));
        }
    };
    let window_name = q.window.as_deref().unwrap_or("all");
    let window = crate::storage::boards::parse_window(window_name).ok_or_else(|| {
        AppError::BadRequest(format!(
            "window `{window_name}` is not one of all, season, week, day"
        ))
    })?;
    let current = Periods::of(crate::now_ms());
    let period = match (&q.period, window) {
        (_, Window::All) => "all".to_owned(),
        (None, w) => current.get(w).to_owned(),
        (Some(p), w) => {
            let shape_ok = match w {
                Window::Day => {
                    time::Date::parse(p, time::macros::format_description!("[year]-[month]-[day]"))
                        .is_ok()
                }
                Window::Week => p.len() == 8 && p.get(4..6) == Some("-w") && p.is_ascii(),
                Window::Season => p.len() == 7 && p.get(4..6) == Some("-q") && p.is_ascii(),
                Window::All => true,
            };
            if !shape_ok {
                return Err(AppError::BadRequest(format!(
                    "period `{p}` is not a {window_name} (e.g. {})",
                    current.get(w)
                )));
            }
            p.clone()
        }
    };
    Ok(BoardKey {
        level: level.to_owned(),
        mode,
        window,
        period,
    })
}

fn limit_of(q: &BoardQuery, default: u32) -> Result<u32, AppError> {
    match q.limit {
        None => Ok(default),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(AppError::BadRequest(format!(
            "limit must be in 1..={MAX_PAGE}"
        ))),
    }
}

pub(crate) async fn leaderboard(
    State(state): State<Arc<AppState>>,
    Path(level): Path<String>,
    Query(q): Query<BoardQuery>,
) -> Result<Json<LeaderboardPage>, AppError> {
    let board = board_of(&level, &state, &q)?;
    let limit = limit_of(&q, 50)?;
    let cursor = match (&q.after, &q.before) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadRequest(
                "give `after` or `before`, not both".to_owned(),
            ));
        }
        (Some(a), None) => Cursor::After(decode_cursor(a).map_err(AppError::BadRequest)?),
        (None, Some(b)) => Cursor::Before(decode_cursor(b).map_err(AppError::BadRequest)?),
        (None, None) => Cursor::Top,
    };
    Ok(Json(
        state.storage.boards.page(&board, &cursor, limit).await?,
    ))
}

pub(crate) async fn leaderboard_around(
    State(state): State<Arc<AppState>>,
    Path((level, player)): Path<(String, String)>,
    Query(q): Query<BoardQuery>,
) -> Result<Json<LeaderboardPage>, AppError> {
    check_id("player", &player)?;
    if q.after.is_some() || q.before.is_some() {
        return Err(AppError::BadRequest(
            "`around` pages have no cursor".to_owned(),
        ));
    }
    let board = board_of(&level, &state, &q)?;
    let limit = limit_of(&q, 11)?;
    state
        .storage
        .boards
        .around(&board, &player, limit)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("`{player}` is not on this leaderboard")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    before: Option<String>,
    limit: Option<u32>,
}

pub(crate) async fn player_attempts(
    State(state): State<Arc<AppState>>,
    Path(player): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<AttemptPage>, AppError> {
    check_id("player", &player)?;
    let limit = match q.limit {
        None => 20,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(AppError::BadRequest("limit must be in 1..=100".to_owned())),
    };
    let before = match q.before {
        None => None,
        Some(c) => {
            let parsed = c
                .split_once('.')
                .and_then(|(t, id)| Some((t.parse::<u64>().ok()?, id.to_owned())));
            match parsed {
                Some((t, id)) if check_id("attempt", &id).is_ok() => Some((t, id)),
                _ => return Err(AppError::BadRequest("the cursor is not valid".to_owned())),
            }
        }
    };
    Ok(Json(
        state.storage.db.attempts_of(&player, before, limit).await?,
    ))
}

pub(crate) async fn player_progress(
    State(state): State<Arc<AppState>>,
    Path(player): Path<String>,
) -> Result<Json<PlayerProgress>, AppError> {
    check_id("player", &player)?;
    let name = state
        .storage
        .db
        .player_name(&player)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no player `{player}`")))?;
    let levels = state.storage.db.progress_of(&player).await?;
    Ok(Json(PlayerProgress {
        player: PlayerId(player),
        name,
        levels,
    }))
}

/// Readiness of the storage side: the database answers, and Redis when configured.
pub(crate) async fn storage_checks(state: &AppState) -> (bool, serde_json::Value) {
    let db = state.storage.db.ping().await.is_ok();
    let queue = state.storage.writes.depth();
    let board_ok = state.storage.boards.index().built().await.unwrap_or(false);
    // Leaderboards fall back to SQL, so a missing index is reported but does not make the
    // server unready: the game and every API still answer.
    let ok = db;
    (
        ok,
        serde_json::json!({
            "database": { "backend": state.storage.db.backend().name(), "ok": db },
            "write_queue": {
                "depth": queue,
                "ranked_seats_taken": state.storage.writes.seats_taken(),
                "last_write_ok": state.storage.writes.healthy(),
            },
            "leaderboards": { "backend": state.storage.boards.backend(), "built": board_ok },
        }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DailyQuery {
    date: Option<String>,
}

/// The daily challenge: a level and seed per UTC day, the same for everyone, from a rule that
/// needs no state (`server/src/daily.rs`).
pub(crate) async fn daily(
    State(state): State<Arc<AppState>>,
    Query(q): Query<DailyQuery>,
) -> Result<Json<crate::daily::Daily>, AppError> {
    let date = match q.date {
        Some(d) => crate::daily::parse_date(&d)
            .map_err(|_| AppError::BadRequest(format!("date `{d}` is not YYYY-MM-DD")))?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    crate::daily::daily(&state.catalog, date)
        .map(Json)
        .ok_or_else(|| AppError::Unavailable("this server has no levels".to_owned()))
}
