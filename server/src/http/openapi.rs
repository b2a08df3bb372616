//! The OpenAPI document of the JSON API. Invariant: every route `app()` serves is described
//! here (a test walks the router's paths against it).

use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn described(name: &str) -> Value {
    json!({ "type": "object", "description": format!("See `{name}` in client-web/src/protocol/generated/{name}.ts (generated from protocol/src/api.rs).") })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string", "maxLength": 64 } })
}

fn board_params(cursors: bool) -> Value {
    let mut p = vec![
        path_param("level", "level id"),
        json!({ "name": "mode", "in": "query", "schema": { "enum": ["solo", "race", "team"], "default": "solo" } }),
        json!({ "name": "window", "in": "query", "schema": { "enum": ["all", "season", "week", "day"], "default": "all" } }),
        json!({ "name": "period", "in": "query", "schema": { "type": "string" },
                "description": "a past period of the window (2026-q4, 2026-w48, 2026-11-30); default the current one" }),
        json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 100 } }),
    ];
    if cursors {
        p.push(json!({ "name": "after", "in": "query", "schema": { "type": "string" }, "description": "a page's `next` cursor" }));
        p.push(json!({ "name": "before", "in": "query", "schema": { "type": "string" }, "description": "a page's `prev` cursor" }));
    }
    Value::Array(p)
}

fn around_params() -> Value {
    let mut p = board_params(false);
    if let Value::Array(v) = &mut p {
        v.insert(1, path_param("player", "player id"));
    }
    p
}

/// The document.
pub(crate) fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Stampede", "version": env!("CARGO_PKG_VERSION"),
                  "description": "The Stampede game server. The WebSocket protocol at /ws is documented in protocol/PROTOCOL.md." },
        "paths": {
            "/": { "get": { "summary": "The server's front page (the browser client once built)", "responses": { "200": { "description": "HTML" } } } },
            "/healthz": { "get": { "summary": "Liveness", "responses": { "200": { "description": "alive" } } } },
            "/readyz": { "get": { "summary": "Readiness (503 while draining)", "responses": {
                "200": { "description": "ready" }, "503": { "description": "draining or a dependency is down" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "text exposition format" } } } },
            "/ws": { "get": { "summary": "WebSocket upgrade (see PROTOCOL.md)", "responses": {
                "101": { "description": "switching protocols" }, "403": { "description": "Origin not allowed" },
                "503": { "description": "server restarting" } } } },
            "/api/v1/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3.1" } } } },
            "/api/v1/sessions": { "post": {
                "summary": "Create a guest session",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["name"], "additionalProperties": false,
                    "properties": { "name": { "type": "string", "minLength": 1, "maxLength": 32 } } } } } },
                "responses": {
                    "201": { "description": "the token (shown once), the player id and name", "content": { "application/json": { "schema": {
                        "type": "object", "properties": { "token": { "type": "string" }, "player": { "type": "string" }, "name": { "type": "string" } } } } } },
                    "400": error_response("bad name or body") } } },
            "/api/v1/levels": { "get": { "summary": "The campaign's levels", "responses": { "200": { "description": "level summaries" } } } },
            "/api/v1/levels/{id}": { "get": {
                "summary": "One level, without its reference solutions",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "the level (see levels/level.schema.json)" }, "404": error_response("no such level") } } },
            "/api/v1/rooms": { "get": { "summary": "Live rooms to join or watch", "responses": { "200": { "description": "rooms" } } } },
            "/api/v1/daily": { "get": {
                "summary": "The daily challenge: a level and seed per UTC day, the same for everyone",
                "parameters": [{ "name": "date", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "default: today (UTC)" }],
                "responses": { "200": { "description": "{date, level, seed}", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["date", "level", "seed"], "properties": {
                        "date": { "type": "string" }, "level": { "type": "string" }, "seed": { "type": "integer" } } } } } },
                    "400": error_response("bad date") } } },
            "/api/v1/receipts/public-key": { "get": { "summary": "The Ed25519 key receipts are signed with",
                "responses": { "200": json_response("the key", "PublicKey") } } },
            "/.well-known/receipt-key": { "get": { "summary": "The receipt key, at its well-known address",
                "responses": { "200": json_response("the key", "PublicKey") } } },
            "/api/v1/receipts/{id}": { "get": {
                "summary": "A receipt, byte for byte as signed (save it as is to verify it later)",
                "parameters": [path_param("id", "receipt id")],
                "responses": { "200": json_response("the receipt", "Receipt"), "400": error_response("bad id"),
                    "404": error_response("no such receipt"), "503": error_response("storage unavailable") } } },
            "/api/v1/receipts/{id}/replay": { "get": {
                "summary": "A receipt re-simulated: its system metrics every `every` ticks (for curves and ghosts)",
                "parameters": [path_param("id", "receipt id"),
                    { "name": "every", "in": "query", "schema": { "type": "integer", "minimum": 1 },
                      "description": "ticks between frames; default and minimum keep it to about 1 000 and at most 10 000 frames" }],
                "responses": { "200": json_response("the replay", "Replay"), "400": error_response("bad id or step"),
                    "404": error_response("no such receipt"), "409": error_response("its level or engine changed since"),
                    "503": error_response("storage unavailable") } } },
            "/api/v1/receipts/verify": { "post": {
                "summary": "Verify a receipt: the exact bytes, the signature, the level and engine, then a re-simulation",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Receipt" } } } },
                "responses": { "200": json_response("valid, or the reason it is not", "Verification"), "400": error_response("too large") } } },
            "/api/v1/leaderboards/{level}": { "get": {
                "summary": "A page of a leaderboard: each player's best passing attempt; ties by lower cost, then earlier finish",
                "parameters": board_params(true),
                "responses": { "200": json_response("the page", "LeaderboardPage"), "400": error_response("bad parameter or cursor"),
                    "404": error_response("no such level"), "503": error_response("storage unavailable") } } },
            "/api/v1/leaderboards/{level}/around/{player}": { "get": {
                "summary": "The entries around a player (their rank and neighbours)",
                "parameters": around_params(),
                "responses": { "200": json_response("the page", "LeaderboardPage"), "400": error_response("bad parameter"),
                    "404": error_response("no such level, or the player is not on the board"), "503": error_response("storage unavailable") } } },
            "/api/v1/players/{id}/progress": { "get": {
                "summary": "A player's progress: levels passed, stars, best scores",
                "parameters": [path_param("id", "player id")],
                "responses": { "200": json_response("progress", "PlayerProgress"), "404": error_response("no such player"),
                    "503": error_response("storage unavailable") } } },
            "/api/v1/players/{id}/attempts": { "get": {
                "summary": "A player's attempts, newest first",
                "parameters": [path_param("id", "player id"),
                    { "name": "before", "in": "query", "schema": { "type": "string" }, "description": "the previous page's `next`" },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 } }],
                "responses": { "200": json_response("attempts", "AttemptPage"), "400": error_response("bad parameter"),
                    "503": error_response("storage unavailable") } } }
        },
        "components": { "schemas": {
            "Error": {
                "type": "object", "required": ["error"],
                "properties": { "error": { "type": "object", "required": ["code", "message"],
                    "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } },
            // The bodies' exact shapes are the TypeScript types generated from the Rust ones
            // (client-web/src/protocol/generated/); named here so clients know which.
            "PublicKey": described("PublicKey"),
            "Receipt": described("Receipt"),
            "Verification": described("Verification"),
            "LeaderboardPage": described("LeaderboardPage"),
            "PlayerProgress": described("PlayerProgress"),
            "AttemptPage": described("AttemptPage"),
            "Replay": described("Replay")
        } }
    })
}
