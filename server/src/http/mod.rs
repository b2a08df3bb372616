//! HTTP: health, readiness, Prometheus metrics, the JSON API under `/api/v1` and its OpenAPI
//! document, and the WebSocket upgrade.
//! Invariant: handlers translate requests; game rules live in `sim`, room logic in `room`.

mod client;
mod openapi;
mod records;

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;

/// The router; `main` and the tests use the same one.
pub fn app(state: Arc<AppState>) -> axum::Router {
    axum::Router::new()
        .route("/", get(client::index))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(prometheus))
        .route("/ws", get(crate::ws::upgrade))
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/api/v1/sessions", post(create_session))
        .route("/api/v1/levels", get(list_levels))
        .route("/api/v1/levels/{id}", get(get_level))
        .route("/api/v1/rooms", get(list_rooms))
        .route("/api/v1/daily", get(records::daily))
        .route("/api/v1/receipts/public-key", get(records::public_key))
        .route("/.well-known/receipt-key", get(records::public_key))
        .route("/api/v1/receipts/{id}", get(records::get_receipt))
        .route("/api/v1/receipts/{id}/replay", get(records::replay_receipt))
        .route(
            "/api/v1/receipts/verify",
            post(records::verify_receipt).layer(tower_http::limit::RequestBodyLimitLayer::new(
                records::MAX_RECEIPT_BYTES,
            )),
        )
        .route("/api/v1/leaderboards/{level}", get(records::leaderboard))
        .route(
            "/api/v1/leaderboards/{level}/around/{player}",
            get(records::leaderboard_around),
        )
        .route(
            "/api/v1/players/{id}/progress",
            get(records::player_progress),
        )
        .route(
            "/api/v1/players/{id}/attempts",
            get(records::player_attempts),
        )
        .fallback(client::fallback)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            records::MAX_RECEIPT_BYTES,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

/// Errors at the HTTP edge: client errors say what is wrong; internal ones say nothing more.
#[derive(Debug)]
pub(crate) enum AppError {
    BadRequest(String),
    NotFound(String),
    Unavailable(String),
    Conflict(String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            AppError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
        };
        (
            status,
            Json(json!({ "error": { "code": code, "message": message } })),
        )
            .into_response()
    }
}

/// The server's front page, served by `client` in place of the browser client when that is not built.
const INDEX_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stampede</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>Stampede</h1>
<p>The game server is running, but the browser client is not built: run <code>npm ci</code> at the
repository root (or <code>scripts/run</code>) and reload. Meanwhile, play over the WebSocket protocol or
headless with <code>stampede sim</code>.</p>
<ul>
<li><a href="/api/v1/levels">Levels</a> and <a href="/api/v1/rooms">live rooms</a></li>
<li><a href="/api/v1/openapi.json">The JSON API (OpenAPI)</a></li>
<li>WebSocket: <code>/ws</code> (see protocol/PROTOCOL.md)</li>
<li><a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a> · <a href="/metrics">/metrics</a></li>
</ul>
</body></html>"#;

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let draining = state.draining();
    let (storage_ok, storage) = records::storage_checks(&state).await;
    let ready = !draining && storage_ok;
    let body = Json(json!({
        "ready": ready,
        "checks": { "draining": draining, "levels": state.catalog.all().count(), "storage": storage },
    }));
    if !ready {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        body.into_response()
    }
}

async fn prometheus(State(state): State<Arc<AppState>>) -> Response {
    metrics::gauge!("stampede_rooms_registered").set(state.registry.len() as f64);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSession {
    name: String,
}

async fn create_session(
    State(state): State<Arc<AppState>>,
    body: Result<Json<NewSession>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(body) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (token, player) = state
        .sessions
        .create(&body.name)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    // Kept so the token works after a restart; a full queue only costs that (the session
    // works now, and names are also kept with attempts).
    let stored = state
        .storage
        .writes
        .try_send(crate::storage::WriteJob::Player(
            crate::storage::players::PlayerRow {
                id: player.id.0.clone(),
                name: player.name.clone(),
                token_hash: crate::session::token_hash(&token),
                created_at: crate::now_ms(),
            },
        ));
    if !stored {
        tracing::warn!("write queue full: a guest session will not outlive this process");
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "player": player.id, "name": player.name })),
    )
        .into_response())
}

async fn list_levels(State(state): State<Arc<AppState>>) -> Json<Value> {
    let levels: Vec<Value> = state
        .catalog
        .all()
        .map(|l| {
            json!({
                "id": l.id, "version": l.version, "title": l.title, "chapter": l.chapter, "concept": l.concept,
                "duration_s": l.duration_s, "tick_hz": l.tick_hz, "budget_per_hour": l.budget_per_hour,
                "objectives": l.objectives,
            })
        })
        .collect();
    Json(json!({ "levels": levels }))
}

async fn get_level(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let level = state
        .catalog
        .get(&id)
        .ok_or_else(|| AppError::NotFound(format!("there is no level `{id}`")))?;
    // The reference solutions are the answers: they stay on the server, field and all (an
    // always-empty `solutions` would only invite a client to read it).
    let mut l = (*level).clone();
    l.solutions.clear();
    let mut value = serde_json::to_value(&l).map_err(|e| AppError::BadRequest(e.to_string()))?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("solutions");
    }
    Ok(Json(value))
}

async fn list_rooms(State(state): State<Arc<AppState>>) -> Json<Value> {
    let rooms: Vec<Value> = state
        .registry
        .handles()
        .into_iter()
        .map(|h| {
            let phase = h.info.phase.lock().map_or("unknown", |p| *p);
            json!({
                "id": h.id, "code": h.code, "level": h.info.level, "mode": h.info.mode, "practice": h.info.practice,
                "phase": phase, "members": h.info.members.load(std::sync::atomic::Ordering::Relaxed),
            })
        })
        .collect();
    Json(json!({ "rooms": rooms }))
}
