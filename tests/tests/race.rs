//! A race over real sockets: two players on the same level and seed, each with their own
//! simulation. Each racer's metrics are their own; standings and results reach everyone.

use std::collections::BTreeSet;

use serde_json::json;
use stampede_tests::{Client, Config, Script, solution, start_server, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racers_see_their_own_worlds_standings_and_both_results() {
    // 25x (a 12 s run): the reference solution passes with its actions up to ~200 ticks late,
    // which leaves this client most of a second of slack on a busy machine.
    let (addr, _server) = start_server(Config {
        clock_rate: 25.0,
        ..test_config()
    })
    .await;
    let mut a = Client::login(addr, "Ada").await;
    let mut b = Client::login(addr, "Bob").await;
    let mut s = Client::login(addr, "Sam").await;
    let (pa, pb) = (a.player().to_owned(), b.player().to_owned());

    let room = a.create_room("01-scale-out", "race").await;
    assert_eq!(room["mode"], "race");
    assert_eq!(room["worlds"].as_array().unwrap().len(), 1);
    assert_eq!(room["worlds"][0]["player"], pa.as_str());
    let snap = b.join_room(json!({ "code": room["code"] }), "player").await;
    let worlds: BTreeSet<&str> = snap["worlds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["player"].as_str().unwrap())
        .collect();
    assert_eq!(worlds, BTreeSet::from([pa.as_str(), pb.as_str()]));
    assert_eq!(snap["seed"], room["seed"], "same seed for everyone");
    s.join_room(json!({ "room": room["id"] }), "spectator")
        .await;

    // Actions change only the actor's world: B scales its own `web`, A builds the reference
    // solution in its own.
    b.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "scale", "id": "web", "instances": 2 } }))
        .await;
    let r = b.recv_type("action_result").await;
    assert_eq!(r["ok"], true, "{r}");
    let changed = a.recv_event("architecture_changed").await;
    assert_eq!(changed["event"]["world"], pb.as_str());
    let actions = solution("01-scale-out", "scale out behind a load balancer");
    let mut script = Script::new(actions, 1);
    for msg in script.due(0) {
        a.send(msg).await;
        let r = a.recv_type("action_result").await;
        script.answered(&r);
    }

    a.send(json!({ "type": "start" })).await;
    let ta = tokio::spawn(async move { (a.play_to_end(Some(script)).await, a) });
    let tb = tokio::spawn(async move { (b.play_to_end(None).await, b) });
    let ts = tokio::spawn(async move { (s.play_to_end(None).await, s) });
    let (la, mut a) = ta.await.unwrap();
    let (lb, _b) = tb.await.unwrap();
    let (ls, _s) = ts.await.unwrap();

    // Each racer's metrics are theirs alone; the spectator watches both.
    for (log, me) in [(&la, &pa), (&lb, &pb)] {
        assert!(!log.metrics.is_empty());
        assert!(
            log.metrics
                .iter()
                .all(|(w, _)| w.as_deref() == Some(me.as_str())),
            "a racer sees only their own world"
        );
        let ticks: Vec<u64> = log.metrics.iter().map(|(_, t)| *t).collect();
        assert!(ticks.windows(2).all(|w| w[1] > w[0]), "ticks rise");
    }
    let watched: BTreeSet<&str> = ls
        .metrics
        .iter()
        .map(|(w, _)| w.as_deref().expect("race metrics name their world"))
        .collect();
    assert_eq!(
        watched,
        BTreeSet::from([pa.as_str(), pb.as_str()]),
        "a spectator sees every racer"
    );

    // Standings name both racers, and the last ones carry both results, best first.
    for log in [&la, &lb, &ls] {
        assert!(log.standings.len() >= 2, "standings arrive during the race");
        for st in &log.standings {
            let who: BTreeSet<&str> = st["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["player"].as_str().unwrap())
                .collect();
            assert_eq!(who, BTreeSet::from([pa.as_str(), pb.as_str()]));
        }
        let last = &log.standings.last().unwrap()["entries"];
        let scores: Vec<f64> = last
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["result"]["score"]
                    .as_f64()
                    .expect("final standings have results")
            })
            .collect();
        assert!(scores[0] >= scores[1], "best first: {scores:?}");
        assert_eq!(
            last[0]["player"],
            pa.as_str(),
            "the reference solution wins"
        );
        assert_eq!(last[0]["name"], "Ada");
    }

    // Both attempts finished, each once, and everyone is told about both.
    for log in [&la, &lb, &ls] {
        let by_world: BTreeSet<&str> = log
            .finished
            .iter()
            .map(|f| f["world"].as_str().unwrap())
            .collect();
        assert_eq!(log.finished.len(), 2);
        assert_eq!(by_world, BTreeSet::from([pa.as_str(), pb.as_str()]));
    }
    let result_of = |who: &str| {
        la.finished
            .iter()
            .find(|f| f["world"] == who)
            .map(|f| f["result"].clone())
            .unwrap()
    };
    assert_eq!(result_of(&pa)["passed"], true);
    assert_eq!(
        result_of(&pb)["passed"],
        false,
        "one server at 2 instances fails"
    );
    assert_ne!(
        la.finished[0]["attempt_id"], la.finished[1]["attempt_id"],
        "one attempt per racer"
    );

    // Nobody can join the race as a player once it has started.
    let mut late = Client::login(addr, "Late").await;
    late.send(json!({ "type": "join_room", "room": room["id"], "role": "player" }))
        .await;
    assert_eq!(late.recv_type("error").await["code"], "wrong_phase");
    a.send(json!({ "type": "ping", "nonce": 1 })).await;
    a.recv_type("pong").await;
}
