//! Dropping a connection mid-run and resuming on a new one: the missed events replay with no
//! gap, metrics continue, requests are not applied twice; after the seat expires, 4010.

use serde_json::json;
use stampede_tests::{
    Client, Config, assert_gap_free, close_code, create_session, is_event, start_server,
    test_config,
};

/// A run long enough to drop and resume in the middle of it (300 s at 10x: 30 s).
fn slower() -> Config {
    Config {
        clock_rate: 10.0,
        ..test_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_player_resumes_with_exactly_the_missed_events() {
    let (addr, _server) = start_server(slower()).await;
    let session = create_session(addr, "Ada").await;
    let mut a = Client::login_as(addr, session.clone(), "A").await;
    let mut s = Client::login(addr, "Sam").await;
    let room = a.create_room("01-scale-out", "team").await;
    let id = room["id"].clone();
    s.join_room(json!({ "room": id }), "spectator").await;

    a.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "scale", "id": "web", "instances": 2 } }))
        .await;
    assert_eq!(a.recv_type("action_result").await["ok"], true);
    a.send(json!({ "type": "start" })).await;
    a.recv_until("running", |v| {
        is_event(v, "phase_changed") && v["event"]["phase"] == "running"
    })
    .await;
    let before = a.recv_metrics_after(None).await;
    let last_seq = *a.seqs.last().unwrap();
    assert_gap_free("A before the drop", &a.seqs);

    // Drop the socket: no close frame, as when a network goes away.
    drop(a);
    let gone = s
        .recv_until("A's drop", |v| {
            is_event(v, "member_connection") && v["event"]["player"] == session.player.as_str()
        })
        .await;
    assert_eq!(gone["event"]["connected"], false);
    // More happens while A is away.
    s.send(json!({ "type": "chat", "text": "where did Ada go?" }))
        .await;
    let chat = s.recv_event("chat").await;
    let missed_to = chat["seq"].as_u64().unwrap();

    let mut a = Client::login_as(addr, session.clone(), "A again").await;
    a.send(json!({ "type": "resume", "room": id, "last_seq": last_seq }))
        .await;
    // Exactly the missed events, then A's own reconnection, then live metrics again.
    let back = a
        .recv_until_with(
            "A's reconnection",
            |v| {
                is_event(v, "member_connection")
                    && v["event"]["player"] == session.player.as_str()
                    && v["event"]["connected"] == true
            },
            |v| {
                assert_ne!(
                    v["type"], "room_snapshot",
                    "a gap in the history is replayed, not resynced"
                );
            },
        )
        .await;
    assert_eq!(
        a.seqs.first().copied(),
        Some(last_seq + 1),
        "replay starts right after last_seq"
    );
    assert_gap_free("A after resume", &a.seqs);
    assert!(
        back["seq"].as_u64().unwrap() > missed_to,
        "the replay covers the chat"
    );
    assert_eq!(a.seqs.iter().filter(|q| **q == gone["seq"]).count(), 1);
    assert!(a.seqs.contains(&missed_to));
    let after = a.recv_metrics_after(Some(before)).await;
    assert!(after > before);

    // The room remembers A's requests across connections: a replayed req_id is ignored.
    a.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "scale", "id": "web", "instances": 3 } }))
        .await;
    let e = a
        .recv_until("stale", |v| {
            v["type"] == "error" || v["type"] == "action_result"
        })
        .await;
    assert_eq!(e["type"], "error", "a replayed request is not applied: {e}");
    assert_eq!(e["code"], "stale_request");
    a.send(json!({ "type": "action", "req_id": 2,
                   "action": { "op": "scale", "id": "web", "instances": 3 } }))
        .await;
    assert_eq!(a.recv_type("action_result").await["ok"], true);
    assert_gap_free("A after resume", &a.seqs);
    assert_gap_free("S", &s.seqs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_a_fresh_connection_over_a_live_one_takes_the_seat_over() {
    let (addr, _server) = start_server(slower()).await;
    let session = create_session(addr, "Ada").await;
    let mut a1 = Client::login_as(addr, session.clone(), "A1").await;
    let room = a1.create_room("01-scale-out", "solo").await;
    let last_seq = room["last_seq"].as_u64().unwrap();
    let mut a2 = Client::login_as(addr, session.clone(), "A2").await;
    a2.send(json!({ "type": "resume", "room": room["id"], "last_seq": last_seq }))
        .await;
    let back = a2.recv_event("member_connection").await;
    assert_eq!(back["seq"].as_u64().unwrap(), last_seq + 1);
    // The old connection is told it was replaced (normal close), not left dangling.
    a1.expect_close(close_code::NORMAL).await;
    a2.send(json!({ "type": "start" })).await;
    let p = a2.recv_event("phase_changed").await;
    assert_eq!(p["event"]["phase"], "countdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_after_the_seat_expired_closes_with_4010() {
    let (addr, _server) = start_server(Config {
        seat_hold_s: 0.2,
        ..slower()
    })
    .await;
    let session = create_session(addr, "Ada").await;
    let mut a = Client::login_as(addr, session.clone(), "A").await;
    let mut s = Client::login(addr, "Sam").await;
    let room = a.create_room("01-scale-out", "team").await;
    s.join_room(json!({ "room": room["id"] }), "spectator")
        .await;
    let last_seq = *a.seqs.last().unwrap();
    drop(a);
    let left = s.recv_event("member_left").await;
    assert_eq!(left["event"]["player"], session.player.as_str());

    let mut a = Client::login_as(addr, session.clone(), "A again").await;
    a.send(json!({ "type": "resume", "room": room["id"], "last_seq": last_seq }))
        .await;
    a.expect_close(close_code::RESUME_EXPIRED).await;

    // A room that does not exist is the same: join again.
    let mut a = Client::login_as(addr, session, "A once more").await;
    a.send(json!({ "type": "resume", "room": "r-nope", "last_seq": 1 }))
        .await;
    a.expect_close(close_code::RESUME_EXPIRED).await;

    // The spectator's room is unaffected.
    s.send(json!({ "type": "ping", "nonce": 3 })).await;
    assert_eq!(s.recv_type("pong").await["nonce"], 3);
}

/// A result is not a numbered event: a player who was away when the run ended gets it again on
/// resume.
#[tokio::test]
async fn a_player_away_when_the_run_ends_gets_the_result_on_resume() {
    let (addr, _server) = start_server(test_config()).await;
    let session = create_session(addr, "Ada").await;
    let mut a = Client::login_as(addr, session.clone(), "A").await;
    let room = a.create_room("02-cache-aside", "solo").await;
    let id = room["id"].clone();
    // Resizing the only database restarts it: the run ends early in outage.
    a.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "resize", "id": "db", "instance_type": "db-large" } }))
        .await;
    assert_eq!(a.recv_type("action_result").await["ok"], true);
    a.send(json!({ "type": "start" })).await;
    let first = a.recv_type("attempt_finished").await;
    assert_eq!(first["result"]["passed"], false);
    let last_seq = *a.seqs.last().unwrap();
    drop(a);

    let mut a = Client::login_as(addr, session, "A again").await;
    a.send(json!({ "type": "resume", "room": id, "last_seq": last_seq }))
        .await;
    let again = a.recv_type("attempt_finished").await;
    assert_eq!(again["attempt_id"], first["attempt_id"]);
    assert_eq!(again["result"], first["result"]);
}
