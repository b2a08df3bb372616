//! WebSocket connections: the upgrade (Origin check, size limits), then a reader loop and a
//! writer task per connection.
//! Invariant: nothing here waits on a room or blocks a room: inputs go by `try_send`, lifecycle
//! commands by a bounded wait, and every close carries a documented code (`close_code`).

mod conn;

use std::sync::Arc;

use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Frames above this are refused by the WebSocket layer itself; between the protocol's 16 KiB
/// and this, the reader closes explicitly with 1009 (the library would just drop the socket).
const TRANSPORT_MAX_BYTES: usize = 64 * 1024;

/// `GET /ws`: checks the Origin against the allowlist (cross-site WebSocket hijacking), then
/// upgrades.
pub(crate) async fn upgrade(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if state.draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "server restarting").into_response();
    }
    if !origin_allowed(&state.config.allowed_origins, &headers) {
        metrics::counter!("stampede_ws_origin_refused_total").increment(1);
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    ws.max_message_size(TRANSPORT_MAX_BYTES)
        .max_frame_size(TRANSPORT_MAX_BYTES)
        .on_upgrade(move |socket| conn::serve_socket(socket, state))
}

/// No Origin (a non-browser client) is allowed; a browser's Origin must be in the allowlist,
/// or, with no allowlist, name the same host the request was sent to.
fn origin_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let allowed: Vec<&String> = allowed.iter().filter(|a| !a.is_empty()).collect();
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a.as_str() == origin);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_are_checked_against_the_allowlist_or_the_host() {
        assert!(origin_allowed(&[], &headers(None, "a:1")));
        assert!(origin_allowed(&[], &headers(Some("http://a:1"), "a:1")));
        assert!(!origin_allowed(
            &[],
            &headers(Some("http://evil.example"), "a:1")
        ));
        let list = vec!["https://play.example".to_owned()];
        assert!(origin_allowed(
            &list,
            &headers(Some("https://play.example"), "a:1")
        ));
        assert!(!origin_allowed(&list, &headers(Some("http://a:1"), "a:1")));
    }
}
