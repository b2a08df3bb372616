//! A client that stops reading: once its bounded outbound queue stays full it is closed as a
//! slow consumer (4009, resumable), while the room keeps ticking for everyone else.

use std::time::Duration;

use serde_json::{Value, json};
use stampede_tests::{
    Client, Config, Ended, Incoming, close_code, create_session, is_event, start_server,
    test_config, tick_of,
};
use tokio::net::TcpSocket;
use tokio::time::Instant;

/// The owner's side: keeps the practice room running (restarting it when it ends) and changes
/// the architecture ten times a second, so every member has events that must arrive.
struct Driver {
    req_id: u64,
    last_action: Instant,
}

impl Driver {
    /// The next message A receives, after acting on it.
    async fn step(&mut self, a: &mut Client) -> Value {
        let v = match a.next(Duration::from_secs(15)).await {
            Incoming::Json(v) => v,
            other => panic!("A: {other:?}"),
        };
        if is_event(&v, "phase_changed") && v["event"]["phase"] == "finished" {
            a.send(json!({ "type": "practice", "op": { "op": "restart" } }))
                .await;
            a.send(json!({ "type": "start" })).await;
        }
        if v["type"] == "metrics" && self.last_action.elapsed() >= Duration::from_millis(100) {
            self.last_action = Instant::now();
            self.req_id += 1;
            let instances = 2 + self.req_id % 2;
            a.send(json!({ "type": "action", "req_id": self.req_id,
                           "action": { "op": "scale", "id": "web", "instances": instances } }))
                .await;
        }
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_and_the_room_ticks_on() {
    let (addr, _server) = start_server(Config {
        outbound_queue: 8,
        ..test_config()
    })
    .await;
    let mut a = Client::login(addr, "Ada").await;
    // A practice room at 4x speed, restarted whenever it ends: metrics never stop, so the
    // server's socket buffer toward B (megabytes, autotuned) fills up in seconds.
    a.send(
        json!({ "type": "create_room", "level": "01-scale-out", "mode": "team", "practice": true }),
    )
    .await;
    let room = a.recv_type("room_snapshot").await["room"].clone();
    a.send(json!({ "type": "practice", "op": { "op": "speed", "factor": 4 } }))
        .await;

    // B's socket has a tiny receive buffer, so the server's writes back up sooner.
    let b_session = create_session(addr, "Bob").await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut b = Client::upgrade(addr, stream, "B").await;
    b.send(json!({ "type": "hello", "protocol": 1, "token": b_session.token }))
        .await;
    b.recv_type("welcome").await;
    b.join_room(json!({ "code": room["code"] }), "player").await;
    let b_last_seq = *b.seqs.last().unwrap();

    // From here B reads nothing.
    a.send(json!({ "type": "start" })).await;
    let mut driver = Driver {
        req_id: 0,
        last_action: Instant::now(),
    };
    let started = Instant::now();
    let b_gone = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "B was never closed"
        );
        let v = driver.step(&mut a).await;
        if is_event(&v, "member_connection") && v["event"]["player"] == b_session.player.as_str() {
            break v;
        }
    };
    assert_eq!(b_gone["event"]["connected"], false);

    // The room did not wait for B: A's metrics keep coming.
    let mut ticks = Vec::new();
    while ticks.len() < 3 {
        let v = driver.step(&mut a).await;
        if v["type"] == "metrics" {
            ticks.push(tick_of(&v));
        }
    }
    assert!(
        ticks.windows(2).any(|w| w[0] != w[1]),
        "still ticking: {ticks:?}"
    );

    // When B finally reads, it gets what was buffered and then the end: the 4009 close frame
    // if it got through, otherwise the bare end of the stream (the queue was full, after all).
    match b.ended().await {
        Ended::Close(code) => assert_eq!(code, close_code::SLOW_CONSUMER),
        Ended::CloseNoCode => panic!("a close frame without the slow-consumer code"),
        Ended::Dropped(_) => {}
    }

    // A keeps the room going meanwhile.
    let stop = tokio_util::sync::CancellationToken::new();
    let keep_going = {
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                driver.step(&mut a).await;
            }
        })
    };

    // 4009 is resumable: B's seat was held, and what B missed comes back.
    let mut b = Client::login_as(addr, b_session.clone(), "B again").await;
    b.send(json!({ "type": "resume", "room": room["id"], "last_seq": b_last_seq }))
        .await;
    let mut snapshot = false;
    let back = b
        .recv_until_with(
            "B's reconnection",
            |v| is_event(v, "member_connection") && v["event"]["connected"] == true,
            |v| snapshot |= v["type"] == "room_snapshot",
        )
        .await;
    assert_eq!(back["event"]["player"], b_session.player.as_str());
    if !snapshot {
        assert_eq!(
            b.seqs.first(),
            Some(&(b_last_seq + 1)),
            "replay from the gap"
        );
    }
    stampede_tests::assert_gap_free("B after resume", &b.seqs);
    let t = b.recv_metrics_after(None).await;
    b.recv_metrics_after(Some(t)).await;
    stop.cancel();
    keep_going.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_client_is_closed_by_the_heartbeat_and_the_room_ticks_on() {
    // Pings every 0.2 s: a connection silent for 0.6 s (no pong, nothing) is closed.
    let (addr, _server) = start_server(Config {
        ping_interval_s: 0.2,
        ..test_config()
    })
    .await;
    let mut a = Client::login(addr, "Ada").await;
    let room = a.create_room("01-scale-out", "team").await;
    let mut frozen = Client::login(addr, "Ice").await;
    frozen
        .join_room(json!({ "room": room["id"] }), "spectator")
        .await;
    a.send(json!({ "type": "start" })).await;
    // A reads (and so answers pings) while the frozen client reads nothing.
    let frozen_at = Instant::now();
    let tick = a.recv_metrics_after(None).await;
    let gone = a
        .recv_until("the frozen client's drop", |v| {
            is_event(v, "member_connection") && v["event"]["player"] == frozen.player()
        })
        .await;
    assert_eq!(gone["event"]["connected"], false);
    assert!(
        frozen_at.elapsed() < Duration::from_secs(8),
        "closed by the heartbeat (0.6 s of silence), not by the 10 s write timeout"
    );
    // Metrics filled its socket while it was frozen, so the close frame may not have fit.
    match frozen.ended().await {
        Ended::Close(code) => assert_eq!(code, close_code::SLOW_CONSUMER),
        Ended::CloseNoCode => panic!("a close frame without the heartbeat code"),
        Ended::Dropped(_) => {}
    }
    // A, which kept answering, is still connected and still getting metrics.
    let later = a.recv_metrics_after(Some(tick)).await;
    assert!(later > tick);
}
