//! The OpenAPI document of the JSON API. Invariant: every route `app()` serves is described
//! here (a test walks the router's paths against it).

use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
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
            "/api/v1/rooms": { "get": { "summary": "Live rooms to join or watch", "responses": { "200": { "description": "rooms" } } } }
        },
        "components": { "schemas": { "Error": {
            "type": "object", "required": ["error"],
            "properties": { "error": { "type": "object", "required": ["code", "message"],
                "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } } } }
    })
}
