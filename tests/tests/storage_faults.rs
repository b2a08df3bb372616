//! Storage faults during play, on throwaway Postgres and Redis servers these tests start
//! themselves: Redis flushed, killed and restarted empty (the same top 100 comes back); Postgres
//! paused for 20 s and then crashed (attempts finished meanwhile are stored exactly once, the
//! pool recovers without a server restart, play never stalls); a write queue filled by a stalled
//! database, and every ranked seat taken (ranked starts refused, practice unaffected; running
//! attempts never crowd out other writes).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use stampede_protocol::api::{RECEIPT_VERSION, Receipt, ReceiptPlayer};
use stampede_protocol::{Mode, PlayerId, RunResult};
use stampede_server::storage::{AttemptStart, Db, FinishedAttempt};
use stampede_tests::services::{ThrowawayPostgres, ThrowawayRedis};
use stampede_tests::{
    Client, Config, Script, TEST_RECEIPT_KEY, http, is_event, solution, start_server, test_config,
    tick_of,
};
use tokio::time::Instant;

const LEVEL_01_REFERENCE: &str = "scale out behind a load balancer";

/// Writes `n` finished, passing attempts on `level` straight into SQL (test setup: the
/// leaderboard under test is the projection of these rows).
async fn seed(db: &Db, level: &str, n: u32) {
    for i in 0..n {
        let player = PlayerId(format!("p-seed-{i:03}"));
        let start = AttemptStart {
            id: format!("a-seed-{level}-{i}"),
            room_id: "r-seed".to_owned(),
            node_id: "seed".to_owned(),
            level: level.to_owned(),
            level_hash: String::new(),
            engine: stampede_sim::ENGINE_VERSION.to_owned(),
            seed: 1,
            mode: Mode::Solo,
            players: vec![(player.clone(), format!("Seed {i}"))],
            started_at: 1_796_040_000_000,
        };
        let result: RunResult = serde_json::from_value(json!({
            "score": 400.0 + f64::from(i % 50) * 10.0, "stars": 3, "passed": true, "ticks": 10,
            "survived": true, "slo_compliance": 1.0, "availability": 1.0,
            "avg_cost_per_hour": 1.0 + f64::from(i % 7), "worst_p99_ms": 50.0,
            "parts": { "slo": 1.0, "availability": 1.0, "cost": 1.0, "survival": 1.0 }
        }))
        .unwrap();
        let receipt = Receipt {
            version: RECEIPT_VERSION,
            id: format!("r-seed-{level}-{i}"),
            attempt_id: start.id.clone(),
            level: level.to_owned(),
            level_version: 1,
            level_hash: String::new(),
            engine: start.engine.clone(),
            seed: 1,
            mode: Mode::Solo,
            players: vec![ReceiptPlayer {
                id: player,
                name: format!("Seed {i}"),
            }],
            actions: Vec::new(),
            result,
            started_at: start.started_at,
            finished_at: 1_796_040_000_000 + u64::from(i),
            key_id: String::new(),
            signature: None,
        };
        let body = serde_json::to_string(&receipt).unwrap();
        db.start_attempt(&start).await.unwrap();
        db.finish_attempt(&FinishedAttempt {
            start,
            receipt,
            body,
        })
        .await
        .unwrap();
    }
}

fn ranks(page: &Value) -> Vec<(u64, String, String)> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rank"].as_u64().unwrap(),
                e["player"].as_str().unwrap().to_owned(),
                e["receipt_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn top100(addr: SocketAddr, level: &str) -> Value {
    let r = http(
        addr,
        "GET",
        &format!("/api/v1/leaderboards/{level}?limit=100"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// Reads the top 100 until the index (`source`) answers; every answer on the way must be the
/// expected board, whichever source gave it.
async fn until_served_by(
    addr: SocketAddr,
    level: &str,
    source: &str,
    expected: &[(u64, String, String)],
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = top100(addr, level).await;
        assert_eq!(
            ranks(&page),
            expected,
            "the same top 100 from {}",
            page["source"]
        );
        if page["source"] == source {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never served by {source}: {}",
            page["source"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_flushed_killed_and_restarted_empty_gives_back_the_same_top_100() {
    let mut redis = ThrowawayRedis::start();
    let (addr, server) = start_server(Config {
        clock_rate: 25.0,
        redis_url: Some(redis.url()),
        ..test_config()
    })
    .await;
    seed(&server.state.storage.db, "02-cache-aside", 120).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let top = loop {
        let page = top100(addr, "02-cache-aside").await;
        if page["source"] == "redis" && page["total"] == 120 {
            break ranks(&page);
        }
        assert!(
            Instant::now() < deadline,
            "the projection never caught up: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(top.len(), 100);

    // Someone is playing throughout.
    let player = tokio::spawn(async move {
        let mut a = Client::login(addr, "Ada").await;
        a.create_room("01-scale-out", "solo").await;
        a.send(json!({ "type": "start" })).await;
        let log = a
            .play_to_end(Some(Script::new(
                solution("01-scale-out", LEVEL_01_REFERENCE),
                1,
            )))
            .await;
        (a.player().to_owned(), log.finished[0].clone())
    });

    redis.flushall();
    until_served_by(addr, "02-cache-aside", "redis", &top).await;
    redis.kill();
    let page = top100(addr, "02-cache-aside").await;
    assert_eq!(page["source"], "sql", "Redis is gone: SQL answers");
    assert_eq!(ranks(&page), top);
    redis.restart();
    until_served_by(addr, "02-cache-aside", "redis", &top).await;

    let (me, finished) = tokio::time::timeout(Duration::from_secs(60), player)
        .await
        .expect("play went on")
        .unwrap();
    assert_eq!(finished["result"]["passed"], true);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = top100(addr, "01-scale-out").await;
        if page["entries"][0]["player"] == me.as_str() {
            assert_eq!(page["source"], "redis");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new run never reached the board: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Plays one ranked run of level 01 and returns (attempt_finished, the longest gap between
/// metrics frames while it ran).
async fn ranked_run(addr: SocketAddr, name: &str) -> (Value, Duration) {
    let mut a = Client::login(addr, name).await;
    a.create_room("01-scale-out", "solo").await;
    a.send(json!({ "type": "start" })).await;
    let mut script = Script::new(solution("01-scale-out", LEVEL_01_REFERENCE), 1);
    let mut last = Instant::now();
    let mut worst = Duration::ZERO;
    let mut finished = None;
    loop {
        let v = a.recv().await;
        match v["type"].as_str().unwrap() {
            "metrics" => {
                worst = worst.max(last.elapsed());
                last = Instant::now();
                for m in script.due(tick_of(&v)) {
                    a.send(m).await;
                }
            }
            "action_result" => script.answered(&v),
            "attempt_finished" => finished = Some(v),
            "error" => panic!("{name}: {v}"),
            _ if is_event(&v, "phase_changed") && v["event"]["phase"] == "running" => {
                last = Instant::now();
            }
            _ if is_event(&v, "phase_changed") && v["event"]["phase"] == "finished" => break,
            _ => {}
        }
    }
    (finished.expect("a result"), worst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_paused_then_crashed_loses_no_attempt_and_play_never_stalls() {
    let mut pg = ThrowawayPostgres::start();
    // 40x: a 300 s level runs in 7.5 s, so whole runs start and finish inside the pause.
    let (addr, server) = start_server(Config {
        clock_rate: 40.0,
        database_url: pg.url(),
        receipt_key: Some(TEST_RECEIPT_KEY.to_owned()),
        ..test_config()
    })
    .await;
    let db = server.state.storage.db.clone();
    let (before, _) = ranked_run(addr, "Before").await;

    pg.pause();
    let paused_at = Instant::now();
    // Readiness says so promptly (every storage call is bounded), rather than hanging.
    let r = tokio::time::timeout(Duration::from_secs(6), http(addr, "GET", "/readyz", None))
        .await
        .expect("/readyz answers while Postgres is paused");
    assert_eq!(r.status, 503, "{}", r.body);
    let mut during = Vec::new();
    while paused_at.elapsed() < Duration::from_secs(14) {
        let (f, worst_gap) = ranked_run(addr, &format!("Pause{}", during.len())).await;
        assert!(
            worst_gap < Duration::from_secs(2),
            "metrics stalled for {worst_gap:?} while Postgres was paused"
        );
        assert!(f["receipt_id"].is_string(), "{f}");
        during.push(f);
    }
    assert!(
        during.len() >= 2,
        "runs finished during the pause: {}",
        during.len()
    );
    let rest = Duration::from_secs(20).saturating_sub(paused_at.elapsed());
    tokio::time::sleep(rest).await;
    pg.crash();
    pg.restart();

    // Everything finished meanwhile reaches the database exactly once, with no server restart.
    let deadline = Instant::now() + Duration::from_secs(90);
    for f in std::iter::once(&before).chain(&during) {
        let id = f["attempt_id"].as_str().unwrap();
        loop {
            match db.rows_for(id).await {
                Ok((1, 1, 1)) => break,
                Ok(rows) => assert!(
                    rows.0 <= 1 && rows.1 <= 1 && rows.2 <= 1,
                    "doubled: {rows:?}"
                ),
                Err(_) => {}
            }
            assert!(Instant::now() < deadline, "attempt {id} was never stored");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(
            db.attempt_status(id).await.unwrap().as_deref(),
            Some("finished")
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(addr, "GET", "/readyz", None).await.status != 200 {
        assert!(Instant::now() < deadline, "readiness never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And the recovered pool serves a whole new ranked run and its receipt.
    let (after, _) = ranked_run(addr, "After").await;
    let receipt = after["receipt_id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(addr, "GET", &format!("/api/v1/receipts/{receipt}"), None)
        .await
        .status
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "the new receipt was never stored"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Logs in as `name`, opens a solo room on level 01 (ranked, or practice) and asks to start;
/// returns the client and the answer: the countdown's phase change, or an error.
async fn try_start(addr: SocketAddr, name: &str, practice: bool) -> (Client, Value) {
    let mut c = Client::login(addr, name).await;
    c.send(
        json!({ "type": "create_room", "level": "01-scale-out", "mode": "solo", "practice": practice }),
    )
    .await;
    c.recv_type("room_snapshot").await;
    c.send(json!({ "type": "start" })).await;
    let answer = c
        .recv_until("start answered", |v| {
            v["type"] == "error" || is_event(v, "phase_changed")
        })
        .await;
    (c, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ranked_seat_taken_refuses_ranked_starts_but_not_practice() {
    let (addr, _server) = start_server(Config {
        clock_rate: 50.0,
        max_ranked: 1,
        ..test_config()
    })
    .await;
    let (mut a, started) = try_start(addr, "Ada", false).await;
    assert_eq!(started["event"]["phase"], "countdown", "{started}");

    let (mut b, e) = try_start(addr, "Bob", false).await;
    assert_eq!(e["code"], "storage_unavailable", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("as many ranked runs"),
        "{e}"
    );

    let (_c, phase) = try_start(addr, "Cy", true).await;
    assert_eq!(
        phase["event"]["phase"], "countdown",
        "practice starts regardless"
    );

    // Once Ada's run has finished, its seat is free and Bob can start.
    let log = a.play_to_end(None).await;
    assert_eq!(log.finished.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        b.send(json!({ "type": "start" })).await;
        let v = b
            .recv_until("start answered", |v| {
                v["type"] == "error" || is_event(v, "phase_changed")
            })
            .await;
        if v["type"] != "error" {
            break;
        }
        assert_eq!(v["code"], "storage_unavailable");
        assert!(Instant::now() < deadline, "the seat never freed up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_attempts_never_fill_the_write_queue_but_a_stalled_database_does() {
    let pg = ThrowawayPostgres::start();
    let (addr, _server) = start_server(Config {
        // Slow enough that every run below is still running when the test ends.
        clock_rate: 1.0,
        database_url: pg.url(),
        write_queue: 3,
        ..test_config()
    })
    .await;
    // Each running ranked attempt keeps a slot for its result beside the queue's 3 (which
    // every login's player row and every start row pass through): many more than 3 run at
    // once while the database keeps up.
    let mut running = Vec::new();
    for n in 0..5 {
        let (c, started) = try_start(addr, &format!("Run{n}"), false).await;
        assert_eq!(
            started["event"]["phase"], "countdown",
            "ranked start {n} with a healthy database: {started}"
        );
        running.push(c);
    }

    // With the database stalled, player and start rows stay in the queue's 3 slots (the one
    // being retried included), and soon a ranked start is refused: practice still starts.
    pg.pause();
    let mut refused = None;
    for n in 0..6 {
        let (c, answer) = try_start(addr, &format!("Stalled{n}"), false).await;
        if answer["type"] == "error" {
            refused = Some(answer);
            break;
        }
        running.push(c);
    }
    let e = refused.expect("a ranked start is refused once the stalled database fills the queue");
    assert_eq!(e["code"], "storage_unavailable", "{e}");
    assert!(e["message"].as_str().unwrap().contains("behind"), "{e}");
    let (_p, phase) = try_start(addr, "Practice", true).await;
    assert_eq!(
        phase["event"]["phase"], "countdown",
        "practice starts regardless"
    );

    // Once the database is back, the queue drains and ranked starts are taken again.
    pg.resume();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_c, answer) = try_start(addr, "Later", false).await;
        if answer["type"] != "error" {
            break;
        }
        assert_eq!(answer["code"], "storage_unavailable", "{answer}");
        assert!(Instant::now() < deadline, "the queue never drained");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
