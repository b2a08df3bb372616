//! Operating the server over plain HTTP: health and readiness, levels without their answers,
//! the live room list, Prometheus metrics, the OpenAPI document against the router, and a
//! graceful shutdown that closes every client with 4001.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use stampede_tests::{
    Client, Config, ProcessLike, close_code, http, is_event, start_server, test_config,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_levels_rooms_and_metrics() {
    let (addr, _server) = start_server(test_config()).await;

    let r = http(addr, "GET", "/healthz", None).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    // The front page: the browser client when it is built, else a notice that says how to
    // build it and what this server serves.
    let r = http(addr, "GET", "/", None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(r.body.contains("<title>Stampede</title>"), "{}", r.body);
    if r.body.contains("not built") {
        assert!(
            r.body.contains("npm ci")
                && r.body.contains("/api/v1/levels")
                && r.body.contains("/ws")
        );
    } else {
        assert!(
            r.body.contains("<script type=\"module\""),
            "the built client: {}",
            r.body
        );
    }
    let r = http(addr, "GET", "/readyz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ready"], true);

    let r = http(addr, "GET", "/api/v1/levels", None).await;
    assert_eq!(r.status, 200);
    let ids: Vec<String> = r.json()["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    // The campaign (issue 6): at least twenty levels, listed in id order.
    assert!(ids.len() >= 20, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(ids[0], "01-scale-out");

    // A level without its reference solutions: those are the answers.
    let r = http(addr, "GET", "/api/v1/levels/01-scale-out", None).await;
    assert_eq!(r.status, 200);
    let level = r.json();
    assert_eq!(level["id"], "01-scale-out");
    assert!(level["briefing"].as_str().is_some_and(|b| !b.is_empty()));
    assert!(
        level.get("solutions").is_none(),
        "solutions leaked: {}",
        level["solutions"]
    );
    assert!(!r.body.contains("scale out behind a load balancer"));
    let r = http(addr, "GET", "/api/v1/levels/99-nope", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = http(addr, "GET", "/api/v1/nope", None).await;
    assert_eq!(r.status, 404);

    // Sessions: names are checked, bodies are typed.
    for body in [
        json!({ "name": "<script>" }),
        json!({ "name": "" }),
        json!({ "nick": "x" }),
    ] {
        let r = http(addr, "POST", "/api/v1/sessions", Some(&body)).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "bad_request");
    }
    let r = http(
        addr,
        "POST",
        "/api/v1/sessions",
        Some(&json!("not an object")),
    )
    .await;
    assert_eq!(r.status, 400);

    // The room list shows a live room.
    let r = http(addr, "GET", "/api/v1/rooms", None).await;
    assert_eq!(r.json()["rooms"], json!([]));
    let mut a = Client::login(addr, "Ada").await;
    let room = a.create_room("01-scale-out", "team").await;
    // A second command round trip: the room has finished handling the join by then.
    a.send(json!({ "type": "action", "req_id": 1,
                   "action": { "op": "scale", "id": "web", "instances": 2 } }))
        .await;
    a.recv_type("action_result").await;
    let r = http(addr, "GET", "/api/v1/rooms", None).await;
    assert_eq!(r.status, 200);
    let rooms = r.json()["rooms"].clone();
    assert_eq!(rooms.as_array().unwrap().len(), 1, "{rooms}");
    let listed = &rooms[0];
    assert_eq!(listed["id"], room["id"]);
    assert_eq!(listed["code"], room["code"]);
    assert_eq!(listed["level"], "01-scale-out");
    assert_eq!(listed["mode"], "team");
    assert_eq!(listed["phase"], "lobby");
    assert_eq!(listed["members"], 1);

    // After a run, the tick histogram is exported.
    a.send(json!({ "type": "start" })).await;
    let log = a.play_to_end(None).await;
    assert!(!log.finished.is_empty());
    let r = http(addr, "GET", "/metrics", None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        r.headers
    );
    for name in [
        "stampede_tick_duration_seconds",
        "stampede_rooms_live",
        "stampede_connections",
    ] {
        assert!(r.body.contains(name), "/metrics lacks {name}:\n{}", r.body);
    }
    let r = http(addr, "GET", "/api/v1/rooms", None).await;
    assert_eq!(r.json()["rooms"][0]["phase"], "finished");
}

/// The routes `app()` declares, read from its source: `(path, method)`.
fn router_routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../../server/src/http/mod.rs");
    let mut routes = BTreeSet::new();
    for chunk in src.split(".route(").skip(1) {
        let path = chunk
            .trim_start()
            .strip_prefix('"')
            .and_then(|c| c.split('"').next())
            .expect("a string literal path");
        // The method router runs up to the next `.route(`/`.fallback(`; `chunk` stops at the first.
        let body = chunk.split(".fallback(").next().unwrap();
        for method in ["get", "post", "put", "patch", "delete"] {
            let used = body.contains(&format!(" {method}("))
                || body.contains(&format!("({method}("))
                || body.contains(&format!(".{method}("));
            if used {
                routes.insert((path.to_owned(), method.to_owned()));
            }
        }
    }
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_only_served_ones() {
    let (addr, _server) = start_server(test_config()).await;
    let r = http(addr, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    let routes = router_routes();
    assert!(
        routes.len() >= 9,
        "the source scan found the routes: {routes:?}"
    );
    assert_eq!(documented, routes, "openapi.json and app() disagree");

    // Every documented operation is served (none falls through to the 404 fallback).
    for (path, method) in &documented {
        let concrete = path.replace("{id}", "01-scale-out");
        let body = (method == "post").then(|| json!({ "name": "Probe" }));
        let r = http(addr, &method.to_uppercase(), &concrete, body.as_ref()).await;
        assert!(
            !r.body.contains("no such endpoint") && r.status != 405,
            "{method} {path} is documented but not served: {} {}",
            r.status,
            r.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_fails_readiness_and_closes_every_client_with_4001() {
    // Its own runtime, dropped when `run` returns, as in `stampede serve`: a close frame that
    // was not sent by then is never sent.
    let server = ProcessLike::start(Config {
        clock_rate: 5.0,
        shutdown_grace_s: 10.0,
        ..test_config()
    });
    let addr = server.addr;
    // The same router and state on a second listener that stays up, to ask the readiness
    // endpoint once the main listener has stopped accepting (which it does at once).
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let probe_addr = probe.local_addr().unwrap();
    tokio::spawn(axum::serve(probe, stampede_server::app(server.state.clone())).into_future());
    assert_eq!(http(addr, "GET", "/readyz", None).await.status, 200);
    assert_eq!(http(probe_addr, "GET", "/readyz", None).await.status, 200);

    let mut owner = Client::login(addr, "Ada").await;
    let room = owner.create_room("01-scale-out", "team").await;
    owner.send(json!({ "type": "start" })).await;
    owner
        .recv_until("running", |v| {
            is_event(v, "phase_changed") && v["event"]["phase"] == "running"
        })
        .await;
    let mut watcher = Client::login(addr, "Sam").await;
    watcher
        .join_room(json!({ "room": room["id"] }), "spectator")
        .await;
    let mut lobby = Client::login(addr, "Idle").await;
    let mut anonymous = Client::connect(addr, "anonymous").await;

    server.trigger();
    let r = http(probe_addr, "GET", "/readyz", None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["ready"], false);
    server.stopped(Duration::from_secs(30)).await;

    for c in [&mut owner, &mut watcher, &mut lobby, &mut anonymous] {
        c.expect_close(close_code::RESTARTING).await;
    }
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens after the shutdown"
    );
}
