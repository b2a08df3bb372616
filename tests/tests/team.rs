//! A team room over real sockets: an owner, a player who joins by code, a spectator who joins
//! by id. Everyone sees the same numbered events; roles are enforced by the server.

use serde_json::json;
use stampede_tests::{Client, assert_gap_free, is_event, start_server, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_members_share_one_architecture_and_the_spectator_sees_every_change() {
    let (addr, _server) = start_server(test_config()).await;
    let mut a = Client::login(addr, "Ada").await;
    let mut b = Client::login(addr, "Bob").await;
    let mut c = Client::login(addr, "Cy").await;

    let room = a.create_room("01-scale-out", "team").await;
    assert_eq!(room["mode"], "team");
    let code = room["code"].as_str().unwrap();

    let snap_b = b.join_room(json!({ "code": code }), "player").await;
    assert_eq!(snap_b["id"], room["id"]);
    let roles: Vec<(&str, &str)> = snap_b["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["player"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [(a.player(), "owner"), (b.player(), "player")]);

    let snap_c = c
        .join_room(json!({ "room": room["id"] }), "spectator")
        .await;
    assert_eq!(snap_c["members"][2]["role"], "spectator");
    assert_eq!(
        snap_c["worlds"].as_array().unwrap().len(),
        1,
        "one shared world"
    );
    let c_first_seq = snap_c["last_seq"].as_u64().unwrap();

    // The owner sees both joins as numbered events.
    let joined = a.recv_event("member_joined").await;
    assert_eq!(joined["event"]["member"]["player"], b.player());
    let joined = a.recv_event("member_joined").await;
    assert_eq!(joined["event"]["member"]["player"], c.player());
    assert_eq!(joined["event"]["member"]["role"], "spectator");

    a.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "add_node", "id": "lb", "component": "load-balancer" } }))
        .await;
    let r = a.recv_type("action_result").await;
    assert_eq!(r["ok"], true, "{r}");
    // B acts on the same architecture: connecting A's load balancer only works if it is shared.
    b.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "connect", "from": "lb", "to": "web" } }))
        .await;
    let r = b.recv_type("action_result").await;
    assert_eq!(r["ok"], true, "B sees A's node: {r}");

    let first = c.recv_event("architecture_changed").await;
    assert_eq!(first["event"]["player"], a.player());
    assert_eq!(first["event"]["action"]["op"], "add_node");
    let second = c.recv_event("architecture_changed").await;
    assert_eq!(second["event"]["player"], b.player());
    assert_eq!(second["event"]["action"]["op"], "connect");
    assert_eq!(
        second["seq"].as_u64().unwrap(),
        first["seq"].as_u64().unwrap() + 1,
        "no gap between the two changes"
    );

    // The spectator may watch, not act.
    c.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "scale", "id": "web", "instances": 2 } }))
        .await;
    let e = c
        .recv_until("error", |v| {
            v["type"] == "error" || v["type"] == "action_result"
        })
        .await;
    assert_eq!(e["type"], "error", "a spectator's action is refused: {e}");
    assert_eq!(e["code"], "not_allowed");
    assert_eq!(e["req_id"], 1);
    // Nor start the room; the player who is not the owner cannot either.
    c.send(json!({ "type": "start" })).await;
    assert_eq!(c.recv_type("error").await["code"], "not_allowed");
    b.send(json!({ "type": "start" })).await;
    assert_eq!(b.recv_type("error").await["code"], "not_allowed");

    // Chat reaches everyone as an event, in the same order as the changes.
    b.send(json!({ "type": "chat", "text": "lb is up" })).await;
    let chat = c.recv_event("chat").await;
    assert_eq!(chat["event"]["line"]["text"], "lb is up");
    assert_eq!(chat["event"]["line"]["player"], b.player());

    a.send(json!({ "type": "start" })).await;
    for client in [&mut a, &mut b, &mut c] {
        let p = client.recv_event("phase_changed").await;
        assert_eq!(p["event"]["phase"], "countdown");
        let p = client.recv_event("phase_changed").await;
        assert_eq!(p["event"]["phase"], "running");
        let m = client.recv_type("metrics").await;
        assert!(m.get("world").is_none(), "team metrics name no world");
        // The shared world has the team's nodes.
        let nodes: Vec<&str> = m["report"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["id"].as_str())
            .collect();
        assert!(nodes.contains(&"lb"), "the shared world has lb: {nodes:?}");
    }

    for (name, client) in [("A", &a), ("B", &b), ("C", &c)] {
        assert_gap_free(name, &client.seqs);
    }
    assert_eq!(
        c.seqs.first().copied(),
        Some(c_first_seq),
        "C's events start at its own join"
    );
    // Everyone saw the same events from C's join on (each stopped reading at its own point).
    let from_c =
        |s: &[u64]| -> Vec<u64> { s.iter().copied().filter(|q| *q >= c_first_seq).collect() };
    for other in [from_c(&a.seqs), from_c(&b.seqs)] {
        let n = other.len().min(c.seqs.len());
        assert_eq!(other[..n], c.seqs[..n]);
    }
    assert!(is_event(&first, "architecture_changed"));
}
