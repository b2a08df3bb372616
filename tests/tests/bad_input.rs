//! Malformed and hostile input over real sockets: each case is answered with its documented
//! close code (RELIABILITY.md), and a player in the same room keeps getting metrics.

use std::net::SocketAddr;

use serde_json::{Value, json};
use stampede_tests::{
    Client, Config, WsMessage, close_code, create_session, http, start_server, test_config,
};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// A room that runs for the whole test (300 s at 5x: 60 s), watched by its owner.
struct Watched {
    addr: SocketAddr,
    room: Value,
    owner: Client,
    tick: u64,
}

impl Watched {
    async fn start(addr: SocketAddr) -> Self {
        let mut owner = Client::login(addr, "Owner").await;
        let room = owner.create_room("01-scale-out", "team").await;
        owner.send(json!({ "type": "start" })).await;
        let tick = owner.recv_metrics_after(None).await;
        Self {
            addr,
            room,
            owner,
            tick,
        }
    }

    /// A logged-in spectator of the room.
    async fn intruder(&self, label: &str) -> Client {
        let mut c = Client::login(self.addr, label).await;
        c.join_room(json!({ "room": self.room["id"] }), "spectator")
            .await;
        c
    }

    /// The owner still gets fresh metrics.
    async fn still_ticking(&mut self, after: &str) {
        let tick = self.owner.recv_metrics_after(Some(self.tick)).await;
        assert!(tick > self.tick, "metrics after {after}");
        self.tick = tick;
    }
}

fn config() -> Config {
    Config {
        clock_rate: 5.0,
        hello_timeout_s: 0.5,
        msg_rate: 10.0,
        ..test_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_in_a_room_close_with_their_codes_and_the_room_goes_on() {
    let (addr, _server) = start_server(config()).await;
    let mut w = Watched::start(addr).await;

    let text_cases: [(&str, String, u16); 7] = [
        (
            "invalid JSON",
            r#"{"type": "ping","#.to_owned(),
            close_code::BAD_MESSAGE,
        ),
        (
            "unknown type",
            r#"{"type":"teleport"}"#.to_owned(),
            close_code::BAD_MESSAGE,
        ),
        (
            "no type",
            r#"{"nonce":1}"#.to_owned(),
            close_code::BAD_MESSAGE,
        ),
        (
            "wrong field type",
            r#"{"type":"ping","nonce":"seven"}"#.to_owned(),
            close_code::BAD_MESSAGE,
        ),
        (
            "wrong nested type",
            r#"{"type":"action","req_id":1,"action":{"op":"scale","id":"web","instances":"many"}}"#
                .to_owned(),
            close_code::BAD_MESSAGE,
        ),
        (
            "deep nesting",
            format!(
                r#"{{"type":"ping","nonce":{}{}}}"#,
                "[".repeat(5000),
                "]".repeat(5000)
            ),
            close_code::BAD_MESSAGE,
        ),
        (
            "20 KiB text frame",
            json!({ "type": "chat", "text": "x".repeat(20 * 1024) }).to_string(),
            close_code::TOO_BIG,
        ),
    ];
    for (what, text, code) in text_cases {
        let mut c = w.intruder(what).await;
        c.send_raw(WsMessage::Text(text.into())).await;
        c.expect_close(code).await;
        w.still_ticking(what).await;
    }

    // Above what the WebSocket layer accepts at all (64 KiB): still an explicit 1009.
    let mut c = w.intruder("100 KiB").await;
    c.send_raw(WsMessage::Text("y".repeat(100 * 1024).into()))
        .await;
    c.expect_close(close_code::TOO_BIG).await;
    w.still_ticking("a 100 KiB frame").await;

    let mut c = w.intruder("binary").await;
    c.send_raw(WsMessage::Binary(b"{\"type\":\"ping\"}".to_vec().into()))
        .await;
    c.expect_close(close_code::BAD_MESSAGE).await;
    w.still_ticking("a binary frame").await;

    // A text frame whose payload is not UTF-8, sent as a raw frame (tungstenite's `Message::Text`
    // cannot hold one).
    let mut c = w.intruder("invalid utf-8").await;
    let frame = Frame::message(vec![b'"', 0xff, 0xfe, b'"'], OpCode::Data(Data::Text), true);
    c.send_raw(WsMessage::Frame(frame)).await;
    c.expect_close(close_code::INVALID_UTF8).await;
    w.still_ticking("invalid UTF-8").await;

    let mut c = w.intruder("second hello").await;
    let token = c.session.clone().unwrap().token;
    c.send(json!({ "type": "hello", "protocol": 1, "token": token }))
        .await;
    c.expect_close(close_code::BAD_MESSAGE).await;
    w.still_ticking("a second hello").await;

    // A flood of pings beyond the budget (10/s, burst 20) is cut off with 4008; the pongs
    // before that are answered.
    let mut c = w.intruder("flood").await;
    let mut sent = 0;
    for nonce in 0..200 {
        if c.try_send_raw(WsMessage::Text(
            json!({ "type": "ping", "nonce": nonce }).to_string().into(),
        ))
        .await
        .is_err()
        {
            break;
        }
        sent += 1;
    }
    assert!(sent > 20, "the burst is allowed");
    c.expect_close(close_code::RATE_LIMITED).await;
    w.still_ticking("a flood").await;

    // The owner's connection saw none of it: its events are still gap-free.
    stampede_tests::assert_gap_free("owner", &w.owner.seqs);
    let health = http(addr, "GET", "/healthz", None).await;
    assert_eq!(health.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_failures_close_with_their_codes() {
    let (addr, server) = start_server(config()).await;
    let mut w = Watched::start(addr).await;

    // Nothing at all within the hello deadline (0.5 s here).
    let mut c = Client::connect(addr, "silent").await;
    c.expect_close(close_code::NOT_AUTHENTICATED).await;
    w.still_ticking("a silent client").await;

    let mut c = Client::connect(addr, "impatient").await;
    c.send(json!({ "type": "join_room", "room": w.room["id"] }))
        .await;
    c.expect_close(close_code::NOT_AUTHENTICATED).await;
    w.still_ticking("a message before hello").await;

    let mut c = Client::connect(addr, "forger").await;
    c.send(json!({ "type": "hello", "protocol": 1, "token": "not-a-real-token" }))
        .await;
    c.expect_close(close_code::BAD_TOKEN).await;
    w.still_ticking("a bad token").await;

    let session = create_session(addr, "Old").await;
    let mut c = Client::connect(addr, "old client").await;
    c.send(json!({ "type": "hello", "protocol": 99, "token": session.token }))
        .await;
    c.expect_close(close_code::VERSION_MISMATCH).await;
    w.still_ticking("a wrong protocol version").await;

    let mut c = Client::connect(addr, "garbled hello").await;
    c.send_raw(WsMessage::Text("hello".into())).await;
    c.expect_close(close_code::BAD_MESSAGE).await;
    w.still_ticking("a garbled hello").await;

    // A session whose token was revoked no longer authenticates.
    let session = create_session(addr, "Gone").await;
    assert!(server.state.revoke_session(&session.token));
    let mut c = Client::connect(addr, "revoked").await;
    c.send(json!({ "type": "hello", "protocol": 1, "token": session.token }))
        .await;
    c.expect_close(close_code::BAD_TOKEN).await;

    // A client that authenticates and then says nothing is fine (pings keep it alive).
    let mut quiet = Client::login(addr, "Quiet").await;
    assert!(matches!(
        quiet.next(std::time::Duration::from_millis(800)).await,
        stampede_tests::Incoming::Timeout
    ));
    quiet.send(json!({ "type": "ping", "nonce": 5 })).await;
    assert_eq!(quiet.recv_type("pong").await["nonce"], 5);
    w.still_ticking("the handshake cases").await;
}
