//! Team practice rooms: pause, speed, restart and fault injection by the owner or a coach, which
//! spectators and ranked rooms refuse; chat bounds and its rate limit.
//! Invariant: every control is checked by its effect on the room (ticks, phase, events), not by
//! an acknowledgement alone.

use std::time::Duration;

use serde_json::{Value, json};
use stampede_tests::{Client, Incoming, is_event, start_server, test_config};

/// The newest metrics tick seen within `within`, if any frame came.
async fn newest_tick(c: &mut Client, within: Duration) -> Option<u64> {
    let deadline = tokio::time::Instant::now() + within;
    let mut newest = None;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return newest;
        }
        match c.next(left).await {
            Incoming::Json(v) if v["type"] == "metrics" => newest = v["report"]["tick"].as_u64(),
            Incoming::Json(_) => {}
            Incoming::Timeout => return newest,
            Incoming::Ended(e) => panic!("connection ended: {e:?}"),
        }
    }
}

fn practice(op: &Value) -> Value {
    json!({ "type": "practice", "op": op })
}

#[tokio::test]
async fn owner_and_coach_pause_speed_restart_and_inject_faults() {
    let (addr, _server) = start_server(test_config()).await;
    let mut owner = Client::login(addr, "Ada").await;
    let mut coach = Client::login(addr, "Coach").await;
    let mut sam = Client::login(addr, "Sam").await;
    owner.send(json!({ "type": "create_room", "level": "05-retry-storm", "mode": "team", "practice": true })).await;
    let snapshot = owner.recv_type("room_snapshot").await;
    let room = &snapshot["room"];
    assert_eq!(room["practice"], true);
    assert_eq!(
        room["injectable"].as_array().map(Vec::len),
        Some(2),
        "{room}"
    );
    let id = room["id"].clone();
    coach.join_room(json!({ "room": id }), "coach").await;
    sam.join_room(json!({ "room": id }), "spectator").await;
    owner.send(json!({ "type": "start" })).await;
    owner
        .recv_until("running", |v| {
            is_event(v, "phase_changed") && v["event"]["phase"] == "running"
        })
        .await;
    owner.recv_metrics_after(None).await;

    // A spectator may not use the controls; a coach may.
    sam.send(practice(&json!({ "op": "pause" }))).await;
    assert_eq!(sam.recv_type("error").await["code"], "not_allowed");
    coach.send(practice(&json!({ "op": "pause" }))).await;
    let ev = owner.recv_event("practice").await;
    assert_eq!(ev["event"]["op"]["op"], "pause");
    // Paused: the clock stops (at 50× a running room would move ~300 ticks in this 0.6 s). The
    // first window also takes the last frame made before the pause, which may be flushed up to
    // two frame gaps later.
    let at_pause = newest_tick(&mut owner, Duration::from_millis(600)).await;
    let later = newest_tick(&mut owner, Duration::from_millis(600)).await;
    assert!(
        later.is_none(),
        "ticks moved while paused: {at_pause:?} → {later:?}"
    );

    // Unpaused at 4×: the clock runs again, faster than at 1×.
    coach
        .send(practice(&json!({ "op": "speed", "factor": 4 })))
        .await;
    owner
        .recv_until("speed", |v| {
            is_event(v, "practice") && v["event"]["op"]["op"] == "speed"
        })
        .await;
    coach.send(practice(&json!({ "op": "unpause" }))).await;
    owner
        .recv_until("unpause", |v| {
            is_event(v, "practice") && v["event"]["op"]["op"] == "unpause"
        })
        .await;
    let t0 = newest_tick(&mut owner, Duration::from_millis(300))
        .await
        .expect("metrics after unpausing");
    let t1 = newest_tick(&mut owner, Duration::from_millis(300))
        .await
        .expect("metrics keep coming");
    assert!(t1 > t0, "the clock runs again: {t0} → {t1}");

    // Injecting the level's first fault shows up as a simulation event.
    owner
        .send(practice(&json!({ "op": "inject_fault", "index": 0 })))
        .await;
    let fault = owner
        .recv_until("the injected fault", |v| {
            is_event(v, "sim") && v["event"]["event"]["kind"] == "fault"
        })
        .await;
    assert!(
        fault["event"]["event"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("payments")),
        "{fault}"
    );
    owner
        .send(practice(&json!({ "op": "inject_fault", "index": 9 })))
        .await;
    assert_eq!(owner.recv_type("error").await["code"], "bad_request");

    // Restart: back to the lobby with a fresh simulation.
    owner.send(practice(&json!({ "op": "restart" }))).await;
    owner
        .recv_until("lobby", |v| {
            is_event(v, "phase_changed") && v["event"]["phase"] == "lobby"
        })
        .await;
    let mut late = Client::login(addr, "Late").await;
    let room = late.join_room(json!({ "room": id }), "spectator").await;
    assert_eq!(room["phase"], "lobby");
    assert_eq!(
        room["worlds"][0]["tick"], 0,
        "a restarted simulation starts over"
    );
}

#[tokio::test]
async fn ranked_rooms_refuse_practice_controls_and_chat_is_bounded() {
    let (addr, _server) = start_server(test_config()).await;
    let mut owner = Client::login(addr, "Ada").await;
    owner.create_room("01-scale-out", "solo").await;
    owner.send(practice(&json!({ "op": "pause" }))).await;
    assert_eq!(owner.recv_type("error").await["code"], "bad_request");

    // Five lines in a burst, then one a second: the sixth at once is refused.
    for i in 0..5 {
        owner
            .send(json!({ "type": "chat", "text": format!("line {i}") }))
            .await;
        let line = owner.recv_event("chat").await;
        assert_eq!(line["event"]["line"]["text"], format!("line {i}"));
    }
    owner
        .send(json!({ "type": "chat", "text": "one too many" }))
        .await;
    assert_eq!(owner.recv_type("error").await["code"], "rate_limited");

    // Markup is kept as text, never interpreted: the server stores and relays it literally.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    owner
        .send(json!({ "type": "chat", "text": "<b>bold</b> '; DROP TABLE x; --" }))
        .await;
    assert_eq!(
        owner.recv_event("chat").await["event"]["line"]["text"],
        "<b>bold</b> '; DROP TABLE x; --"
    );

    // Over 500 characters does not decode: closed with 4002.
    owner
        .send(json!({ "type": "chat", "text": "x".repeat(501) }))
        .await;
    owner.expect_close(4002).await;
}
