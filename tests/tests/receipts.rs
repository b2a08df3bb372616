//! A ranked run end to end: play level 01 to its end over the WebSocket protocol, fetch the
//! receipt, verify it (signature and re-simulation), show that a changed score fails, and find
//! the player on the leaderboard, in their progress and in their history.

use std::time::Duration;

use serde_json::{Value, json};
use stampede_tests::{
    Client, Config, Script, http, http_text, solution, start_server, test_config,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_has_a_verifiable_receipt_and_a_leaderboard_entry() {
    let (addr, server) = start_server(Config {
        clock_rate: 25.0,
        ..test_config()
    })
    .await;
    let mut a = Client::login(addr, "Ada").await;
    let me = a.player().to_owned();
    a.create_room("01-scale-out", "solo").await;
    a.send(json!({ "type": "start" })).await;
    let script = Script::new(
        solution("01-scale-out", "scale out behind a load balancer"),
        1,
    );
    let log = a.play_to_end(Some(script)).await;
    let finished = &log.finished[0];
    assert_eq!(finished["result"]["passed"], true, "{finished}");
    let receipt_id = finished["receipt_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a ranked result names its receipt: {finished}"))
        .to_owned();
    let attempt_id = finished["attempt_id"].as_str().unwrap().to_owned();

    // The receipt is written through the queue: it appears shortly after the result.
    let receipt = eventually(addr, &format!("/api/v1/receipts/{receipt_id}"), |r| {
        r.status == 200
    })
    .await
    .body;
    let parsed: Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(parsed["attempt_id"], attempt_id.as_str());
    assert_eq!(parsed["level"], "01-scale-out");
    assert_eq!(parsed["players"][0]["id"], me.as_str());
    assert_eq!(
        parsed["result"], finished["result"],
        "the receipt records the result sent"
    );
    assert!(parsed["actions"].as_array().unwrap().len() >= 4);
    assert!(parsed["signature"].as_str().is_some_and(|s| s.len() > 80));

    // Valid as served: signature and re-simulation.
    let v = http_text(addr, "POST", "/api/v1/receipts/verify", &receipt).await;
    assert_eq!(v.status, 200, "{}", v.body);
    let v = v.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["resimulated"]["score"], finished["result"]["score"]);

    // A better score written into it, keeping its exact format: the signature fails.
    let score = finished["result"]["score"].as_f64().unwrap();
    let old = format!("\"result\":{{\"score\":{}", json!(score));
    let new = format!("\"result\":{{\"score\":{}", json!(score + 1.0));
    assert!(
        receipt.contains(&old),
        "the score is where the canonical form puts it"
    );
    let forged = receipt.replacen(&old, &new, 1);
    let v = http_text(addr, "POST", "/api/v1/receipts/verify", &forged)
        .await
        .json();
    assert_eq!(v["valid"], false);
    assert!(v["reason"].as_str().unwrap().contains("signature"), "{v}");
    // The same change through a JSON library (keys reordered, spacing changed) fails too.
    let mut edited = parsed.clone();
    edited["result"]["score"] = json!(score + 1.0);
    let v = http(addr, "POST", "/api/v1/receipts/verify", Some(&edited))
        .await
        .json();
    assert_eq!(v["valid"], false, "{v}");
    // Junk is refused with a reason, not an error.
    let v = http_text(addr, "POST", "/api/v1/receipts/verify", "{\"nope\":1}")
        .await
        .json();
    assert_eq!(v["valid"], false);
    assert!(
        v["reason"].as_str().unwrap().contains("not a receipt"),
        "{v}"
    );

    // The replay re-simulates it: curves every few ticks, to the same result.
    let replay = http(
        addr,
        "GET",
        &format!("/api/v1/receipts/{receipt_id}/replay?every=10"),
        None,
    )
    .await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    let replay = replay.json();
    assert_eq!(replay["matches"], true);
    assert_eq!(replay["result"], finished["result"]);
    let frames = replay["frames"].as_array().unwrap();
    assert_eq!(
        frames.len(),
        301,
        "3 000 ticks: one frame every 10, and the last"
    );
    assert_eq!(frames[1]["tick"], 10);
    assert_eq!(frames[300]["tick"], 2999);
    assert!(frames[150]["system"]["offered"].as_f64().unwrap() > 0.0);
    let r = http(
        addr,
        "GET",
        &format!("/api/v1/receipts/{receipt_id}/replay?every=0"),
        None,
    )
    .await;
    assert_eq!(r.status, 400);

    // The public key is published, and matches the receipt's key id.
    let key = http(addr, "GET", "/api/v1/receipts/public-key", None)
        .await
        .json();
    assert_eq!(key["algorithm"], "ed25519");
    assert_eq!(key["key_id"], parsed["key_id"]);

    // The leaderboard: the player, linked to the receipt.
    let board = eventually(
        addr,
        "/api/v1/leaderboards/01-scale-out?mode=solo&window=all",
        |r| {
            r.json()["entries"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
        },
    )
    .await
    .json();
    let entry = &board["entries"][0];
    assert_eq!(entry["player"], me.as_str());
    assert_eq!(entry["name"], "Ada");
    assert_eq!(entry["rank"], 1);
    assert_eq!(entry["receipt_id"], receipt_id.as_str());
    for window in ["day", "week", "season"] {
        let b = http(
            addr,
            "GET",
            &format!("/api/v1/leaderboards/01-scale-out?window={window}"),
            None,
        )
        .await
        .json();
        assert_eq!(
            b["entries"][0]["player"],
            me.as_str(),
            "on the current {window}'s board"
        );
    }
    let around = http(
        addr,
        "GET",
        &format!("/api/v1/leaderboards/01-scale-out/around/{me}"),
        None,
    )
    .await;
    assert_eq!(around.status, 200, "{}", around.body);
    assert_eq!(around.json()["entries"][0]["rank"], 1);

    // Progress and history.
    let progress = http(addr, "GET", &format!("/api/v1/players/{me}/progress"), None)
        .await
        .json();
    assert_eq!(progress["name"], "Ada");
    assert_eq!(progress["levels"][0]["level"], "01-scale-out");
    assert_eq!(progress["levels"][0]["passed"], true);
    let history = http(addr, "GET", &format!("/api/v1/players/{me}/attempts"), None)
        .await
        .json();
    assert_eq!(history["attempts"][0]["id"], attempt_id.as_str());
    assert_eq!(history["attempts"][0]["status"], "finished");
    assert_eq!(
        server.state.storage.db.rows_for(&attempt_id).await.unwrap(),
        (1, 1, 1),
        "one attempt row, one receipt, one outbox row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_leaderboard_and_receipt_requests_get_clear_errors() {
    let (addr, _server) = start_server(test_config()).await;
    for (path, status, needle) in [
        ("/api/v1/leaderboards/99-nope", 404, "no level"),
        ("/api/v1/leaderboards/01-scale-out?mode=duel", 400, "mode"),
        (
            "/api/v1/leaderboards/01-scale-out?window=year",
            400,
            "window",
        ),
        (
            "/api/v1/leaderboards/01-scale-out?window=day&period=yesterday",
            400,
            "period",
        ),
        ("/api/v1/leaderboards/01-scale-out?limit=0", 400, "limit"),
        ("/api/v1/leaderboards/01-scale-out?limit=1000", 400, "limit"),
        (
            "/api/v1/leaderboards/01-scale-out?after=garbage!",
            400,
            "cursor",
        ),
        ("/api/v1/leaderboards/01-scale-out?sort=desc", 400, "sort"),
        (
            "/api/v1/leaderboards/01-scale-out/around/p-nobody",
            404,
            "not on this leaderboard",
        ),
        ("/api/v1/receipts/r-missing", 404, "no receipt"),
        ("/api/v1/receipts/..%2Fetc", 400, "not a receipt id"),
        ("/api/v1/players/p-nobody/progress", 404, "no player"),
        ("/api/v1/players/p-nobody/attempts?before=x", 400, "cursor"),
        ("/api/v1/daily?date=tomorrow", 400, "YYYY-MM-DD"),
    ] {
        let r = http(addr, "GET", path, None).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(r.body.contains(needle), "{path}: {}", r.body);
    }
    // The daily challenge is the same level and seed for a date, asked twice.
    let d1 = http(addr, "GET", "/api/v1/daily?date=2026-11-30", None)
        .await
        .json();
    let d2 = http(addr, "GET", "/api/v1/daily?date=2026-11-30", None)
        .await
        .json();
    assert_eq!(d1, d2);
    assert_eq!(d1["date"], "2026-11-30");
    assert!(d1["level"].as_str().is_some_and(|l| !l.is_empty()) && d1["seed"].is_u64());
    // An empty board is a page with nothing on it, not an error.
    let r = http(
        addr,
        "GET",
        "/api/v1/leaderboards/02-cache-aside?window=week",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["total"], 0);
}

/// Polls a GET until `ready` holds (the write queue and the projector are asynchronous).
async fn eventually(
    addr: std::net::SocketAddr,
    path: &str,
    ready: impl Fn(&stampede_tests::HttpResponse) -> bool,
) -> stampede_tests::HttpResponse {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = http(addr, "GET", path, None).await;
        if ready(&r) {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never became ready: {} {}",
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
