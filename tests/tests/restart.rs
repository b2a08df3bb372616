//! What survives a server restart on the same database: guest sessions (their token still
//! works, unless it was revoked), finished attempts; and what does not: a ranked run cut short by a shutdown, or left
//! running by a process that died, is marked aborted and never ranked.

use std::time::Duration;

use serde_json::json;
use stampede_protocol::Mode;
use stampede_server::storage::{AttemptStart, Db};
use stampede_tests::{Client, Config, create_session, http, is_event, start_server, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart_and_cut_short_runs_are_aborted() {
    let config = Config {
        clock_rate: 1.0,
        shutdown_grace_s: 5.0,
        ..test_config()
    };
    let (addr, server) = start_server(config.clone()).await;
    let session = create_session(addr, "Ada").await;
    let revoked = create_session(addr, "Gone").await;
    assert!(server.state.revoke_session(&revoked.token));
    let mut a = Client::login_as(addr, session.clone(), "ada").await;
    a.create_room("01-scale-out", "solo").await;
    a.send(json!({ "type": "start" })).await;
    a.recv_until("running", |v| {
        is_event(v, "phase_changed") && v["event"]["phase"] == "running"
    })
    .await;
    // The attempt row was written before the clock started; find it through the player's history.
    let history = http(
        addr,
        "GET",
        &format!("/api/v1/players/{}/attempts", a.player()),
        None,
    )
    .await
    .json();
    let attempt = history["attempts"][0]["id"]
        .as_str()
        .expect("the running attempt")
        .to_owned();
    assert_eq!(history["attempts"][0]["status"], "running");
    server.stopped(Duration::from_secs(20)).await;
    // The server closed its pool when it stopped: look with a connection of our own.
    let direct = Db::connect(&config.database_url).await.unwrap();
    assert_eq!(
        direct.attempt_status(&attempt).await.unwrap().as_deref(),
        Some("aborted"),
        "a run cut short by the shutdown is aborted, not left running"
    );

    // A process that died left a running attempt behind (written here as it would have).
    let orphan = AttemptStart {
        id: "a-orphan-of-a-crash".to_owned(),
        room_id: "r-gone".to_owned(),
        node_id: config.node_id.clone(),
        level: "01-scale-out".to_owned(),
        level_hash: String::new(),
        engine: stampede_sim::ENGINE_VERSION.to_owned(),
        seed: 1,
        mode: Mode::Solo,
        players: Vec::new(),
        started_at: 1,
    };
    direct.start_attempt(&orphan).await.unwrap();
    direct.close().await;

    // The same database again: the token works, the orphan is aborted.
    let (addr, server) = start_server(config).await;
    let mut again = Client::login_as(addr, session.clone(), "ada again").await;
    assert_eq!(
        again.player(),
        session.player,
        "the same player after a restart"
    );
    again.send(json!({ "type": "ping", "nonce": 1 })).await;
    again.recv_type("pong").await;
    let mut gone = Client::connect(addr, "revoked").await;
    gone.send(json!({ "type": "hello", "protocol": 1, "token": revoked.token }))
        .await;
    gone.expect_close(stampede_tests::close_code::BAD_TOKEN)
        .await;
    assert_eq!(
        server
            .state
            .storage
            .db
            .attempt_status("a-orphan-of-a-crash")
            .await
            .unwrap()
            .as_deref(),
        Some("aborted")
    );
}
