//! A solo run end to end over a real socket: session, hello, room, actions (the level's
//! reference solution, played at its ticks), start, phases, metrics, and the judged result.

use serde_json::{Value, json};
use stampede_tests::{
    Client, Config, assert_gap_free, is_event, solution, start_server, test_config, tick_of,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solo_run_with_the_reference_solution_passes() {
    // 25x (a 12 s run): the reference solution passes with its actions up to ~200 ticks late,
    // which leaves this client most of a second of slack on a busy machine.
    let (addr, _server) = start_server(Config {
        clock_rate: 25.0,
        ..test_config()
    })
    .await;
    let mut a = Client::login(addr, "Ada").await;
    let me = a.player().to_owned();

    let room = a.create_room("01-scale-out", "solo").await;
    assert_eq!(room["level"], "01-scale-out");
    assert_eq!(room["mode"], "solo");
    assert_eq!(room["phase"], "lobby");
    assert_eq!(room["total_ticks"], 3000);
    assert_eq!(room["members"].as_array().unwrap().len(), 1);
    assert_eq!(room["members"][0]["player"], me.as_str());
    assert_eq!(room["members"][0]["role"], "owner");
    assert_eq!(room["worlds"].as_array().unwrap().len(), 1);
    assert_eq!(room["worlds"][0]["tick"], 0);
    assert!(
        room["code"].as_str().is_some_and(|c| c.len() == 6),
        "a short join code: {room}"
    );

    let actions = solution("01-scale-out", "scale out behind a load balancer");
    let (now, later): (Vec<_>, Vec<_>) = actions.into_iter().partition(|(t, _)| *t == 0);
    let mut req_id = 0;

    // The tick-0 actions go in the lobby: each is answered and announced as an event.
    for (_, action) in &now {
        req_id += 1;
        a.send(json!({ "type": "action", "req_id": req_id, "action": action }))
            .await;
        let r = a
            .recv_until("action_result", |v| v["type"] == "action_result")
            .await;
        assert_eq!(r["req_id"], req_id);
        assert_eq!(r["ok"], true, "reference action refused: {r}");
        assert_eq!(r["tick"], 0);
    }
    // A bad action is refused with a reason, and changes nothing.
    req_id += 1;
    a.send(json!({ "type": "action", "req_id": req_id,
                   "action": { "op": "scale", "id": "no-such-node", "instances": 2 } }))
        .await;
    let r = a
        .recv_until("refusal", |v| v["type"] == "action_result")
        .await;
    assert_eq!(r["req_id"], req_id);
    assert_eq!(r["ok"], false);
    assert!(
        r["error"]["code"].as_str().is_some_and(|c| !c.is_empty())
            && r["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
        "a refusal says why: {r}"
    );
    // A replayed req_id is ignored.
    a.send(json!({ "type": "action", "req_id": req_id,
                   "action": { "op": "scale", "id": "web", "instances": 2 } }))
        .await;
    let r = a.recv_type("error").await;
    assert_eq!(r["code"], "stale_request");
    assert_eq!(r["req_id"], req_id);

    a.send(json!({ "type": "start" })).await;
    let countdown = a
        .recv_until("countdown", |v| is_event(v, "phase_changed"))
        .await;
    assert_eq!(countdown["event"]["phase"], "countdown");
    let running = a
        .recv_until("running", |v| is_event(v, "phase_changed"))
        .await;
    assert_eq!(running["event"]["phase"], "running");

    // Play the rest of the solution at its ticks, watching metrics and events until the end.
    let mut later = later.into_iter().peekable();
    let mut last_tick: Option<u64> = None;
    let mut metrics_frames = 0;
    let mut pending: Vec<(u64, u64)> = Vec::new();
    let mut applied = 0;
    let mut finished: Option<Value> = None;
    let mut phase_finished = false;
    while !(finished.is_some() && phase_finished) {
        let v = a.recv().await;
        match v["type"].as_str().unwrap() {
            "metrics" => {
                assert!(v.get("world").is_none(), "solo metrics name no world: {v}");
                let tick = tick_of(&v);
                if let Some(prev) = last_tick {
                    assert!(tick > prev, "metrics ticks rise: {prev} then {tick}");
                }
                last_tick = Some(tick);
                metrics_frames += 1;
                while let Some((t, _)) = later.peek() {
                    if *t > tick + 1 {
                        break;
                    }
                    let (t, action) = later.next().unwrap();
                    req_id += 1;
                    pending.push((req_id, t));
                    a.send(json!({ "type": "action", "req_id": req_id, "action": action }))
                        .await;
                }
            }
            "action_result" => {
                let (id, at) = pending.remove(0);
                assert_eq!(v["req_id"], id);
                assert_eq!(v["ok"], true, "reference action refused: {v}");
                assert!(
                    v["tick"].as_u64().unwrap() >= at,
                    "applied at or after its tick"
                );
                applied += 1;
            }
            "attempt_finished" => {
                assert!(finished.is_none(), "one attempt_finished per world");
                finished = Some(v);
            }
            "event" if is_event(&v, "phase_changed") => {
                assert_eq!(v["event"]["phase"], "finished");
                assert!(finished.is_some(), "the result comes before the phase ends");
                phase_finished = true;
            }
            "event" => {}
            other => panic!("unexpected message {other}: {v}"),
        }
    }
    assert_eq!(applied, 4, "every later reference action applied");
    assert!(pending.is_empty());
    assert!(
        metrics_frames >= 10,
        "a live stream of metrics, got {metrics_frames}"
    );
    // Metrics and events travel separately (latest-wins frames, ordered events), so the last
    // frame may come after the result; it does come.
    if last_tick != Some(2999) {
        a.recv_until("the last tick's metrics", |v| {
            v["type"] == "metrics" && tick_of(v) == 2999
        })
        .await;
    }
    let finished = finished.unwrap();
    let result = &finished["result"];
    assert!(
        finished["attempt_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(
        result["passed"], true,
        "reference solution passes: {result}"
    );
    assert_eq!(result["ticks"], 3000);
    assert!(result["score"].as_f64().unwrap() > 0.0);
    assert!(result["stars"].as_u64().unwrap() >= 1);
    assert_gap_free("solo owner", &a.seqs);
    assert_eq!(a.seqs.first(), Some(&1));

    // After the end, actions are refused as out of phase and the room still answers.
    req_id += 1;
    a.send(json!({ "type": "action", "req_id": req_id,
                   "action": { "op": "scale", "id": "web", "instances": 2 } }))
        .await;
    let r = a.recv_type("error").await;
    assert_eq!(r["code"], "wrong_phase");
    a.send(json!({ "type": "ping", "nonce": 7 })).await;
    let pong = a.recv_type("pong").await;
    assert_eq!(pong["nonce"], 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_player_cannot_join_a_solo_room_and_unknown_levels_are_refused() {
    let (addr, _server) = start_server(test_config()).await;
    let mut a = Client::login(addr, "Ada").await;
    a.send(json!({ "type": "create_room", "level": "99-nope", "mode": "solo" }))
        .await;
    let e = a.recv_type("error").await;
    assert_eq!(e["code"], "level_not_found");
    let room = a.create_room("01-scale-out", "solo").await;

    let mut b = Client::login(addr, "Bob").await;
    b.send(json!({ "type": "join_room", "code": room["code"], "role": "player" }))
        .await;
    let e = b.recv_type("error").await;
    assert_eq!(e["code"], "room_full");
    b.send(json!({ "type": "join_room", "code": "ZZZZZZ" }))
        .await;
    let e = b.recv_type("error").await;
    assert_eq!(e["code"], "room_not_found");
    // Watching is fine, and a lower-case code works too.
    let code = room["code"].as_str().unwrap().to_ascii_lowercase();
    let snap = b.join_room(json!({ "code": code }), "spectator").await;
    assert_eq!(snap["id"], room["id"]);
    assert_eq!(snap["members"].as_array().unwrap().len(), 2);
    b.send(json!({ "type": "start" })).await;
    let e = b.recv_type("error").await;
    assert_eq!(e["code"], "not_allowed");
}
