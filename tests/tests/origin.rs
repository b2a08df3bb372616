//! Cross-site WebSocket hijacking: a browser upgrade from a foreign Origin is refused (403)
//! before any WebSocket exists; same-host pages, allowlisted origins and non-browsers get in.

use std::net::SocketAddr;

use stampede_tests::{Config, start_server, test_config};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::ORIGIN;
use tokio_tungstenite::tungstenite::{Error, Message};

/// The upgrade's HTTP status with this Origin header (none when `None`).
async fn upgrade_status(addr: SocketAddr, origin: Option<&str>) -> u16 {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    if let Some(o) = origin {
        request.headers_mut().insert(ORIGIN, o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut ws, response)) => {
            use futures_util::SinkExt;
            let _ = ws.send(Message::Close(None)).await;
            response.status().as_u16()
        }
        Err(Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("upgrade failed without an HTTP answer: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_refused_before_the_upgrade() {
    let (addr, _server) = start_server(test_config()).await;
    assert_eq!(upgrade_status(addr, Some("http://evil.example")).await, 403);
    assert_eq!(upgrade_status(addr, Some("null")).await, 403);
    // The server's own page, and clients that send no Origin at all (not browsers).
    assert_eq!(
        upgrade_status(addr, Some(&format!("http://{addr}"))).await,
        101
    );
    assert_eq!(upgrade_status(addr, None).await, 101);
    // Same host name, different port: a different origin.
    let other_port = format!("http://127.0.0.1:{}", addr.port().wrapping_add(1));
    assert_eq!(upgrade_status(addr, Some(&other_port)).await, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_allowlist_only_listed_origins_get_in() {
    let (addr, _server) = start_server(Config {
        allowed_origins: vec!["https://play.example".to_owned()],
        ..test_config()
    })
    .await;
    assert_eq!(
        upgrade_status(addr, Some("https://play.example")).await,
        101
    );
    assert_eq!(upgrade_status(addr, Some("http://play.example")).await, 403);
    assert_eq!(upgrade_status(addr, Some("http://evil.example")).await, 403);
    assert_eq!(
        upgrade_status(addr, Some(&format!("http://{addr}"))).await,
        403
    );
}
