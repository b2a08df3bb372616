//! Mechanics: each behaviour the engine promises (SPEC.md), shown on a small architecture built
//! for it: health checks, load-balancer policies, pools, breakers, autoscaling, queues, CDNs,
//! regions, bots, zones, refusals.
//! Invariant: each test states the behaviour in its name and asserts a number that would differ
//! if the mechanism were missing.

use std::sync::Arc;

use stampede_sim::report::{NodeMetrics, TickReport};
use stampede_sim::{Action, Level, World};

/// A level with users, a load balancer and two kinds of service, plus whatever `extra` adds.
fn level(extra: &str, start: &str, rps: f64) -> Level {
    let text = format!(
        r#"
id = "mechanics"
version = 1
title = "mechanics"
concept = "test"
briefing = "test"
duration_s = 600
budget_per_hour = 100
par_cost_per_hour = 1
regions = [{{ name = "east", zones = 3, rtt_ms = {{ west = 80 }} }}, {{ name = "west", zones = 3 }}]
[[instance_types]]
name = "small"
vcpus = 2
memory_gb = 1
price_per_hour = 0.1
[[instance_types]]
name = "big"
vcpus = 8
memory_gb = 4
price_per_hour = 0.4
[[components]]
name = "users"
kind = "client"
placeable = false
[[components]]
name = "lb"
kind = "load_balancer"
instance_types = ["small"]
concurrency = 10000
boot_s = 0
[components.service.default]
ms = 0.2
[[components]]
name = "web"
kind = "service"
instance_types = ["small", "big"]
boot_s = 10
[components.service.default]
ms = 10
[[components]]
name = "api"
kind = "service"
instance_types = ["small"]
threads_per_vcpu = 8
boot_s = 10
[components.service.default]
ms = 2
[[components]]
name = "dep"
kind = "service"
instance_types = ["small"]
concurrency = 50
boot_s = 10
[components.service.default]
ms = 20
[[components]]
name = "queue"
kind = "queue"
instance_types = ["small"]
concurrency = 1000
boot_s = 0
[components.service.default]
ms = 0.5
[[components]]
name = "cdn"
kind = "cdn"
instance_types = ["small"]
concurrency = 100000
boot_s = 0
[components.service.default]
ms = 5
[[components]]
name = "limiter"
kind = "rate_limiter"
instance_types = ["small"]
concurrency = 10000
boot_s = 0
[components.service.default]
ms = 0.1
[[classes]]
name = "get"
share = 1.0
cdn_cacheable = true
[[classes]]
name = "scrape"
origin = "bot"
clients = 20
[keys]
count = 100000
zipf_s = 0.9
[traffic]
points = [[0, {rps}]]
user_timeout_ms = 5000
{extra}
[start]
{start}
[objectives]
p99_ms = 1000
error_rate = 0.01
outage_s = 10000
"#
    );
    Level::from_toml("mechanics", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn world(lv: Level) -> World {
    World::new(Arc::new(lv), 1).unwrap()
}

fn run(w: &mut World, ticks: u32) -> TickReport {
    for _ in 1..ticks {
        w.step();
    }
    w.step().clone()
}

fn node<'a>(r: &'a TickReport, id: &str) -> &'a NodeMetrics {
    r.nodes.iter().find(|n| n.id == id).unwrap()
}

fn act(w: &mut World, json: &str) {
    let a: Action = serde_json::from_str(json).unwrap();
    w.apply(&a).unwrap_or_else(|r| panic!("{json}: {r}"));
}

const LB_WEB: &str = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "lb", component = "lb" }, { id = "web", component = "web", instances = 4 }]
edges = [{ from = "users", to = "lb" }, { from = "lb", to = "web" }]
"#;

#[test]
fn a_crashed_instance_gets_traffic_until_health_checks_notice() {
    let mut lv = level(
        "[[faults]]\nat_s = 10\nfault = \"crash\"\nnode = \"web\"\ninstances = 1",
        LB_WEB,
        400.0,
    );
    lv.start.nodes[1].config =
        Some(serde_json::from_str(r#"{"health_check_s": 5, "unhealthy_after": 2}"#).unwrap());
    let mut w = world(lv);
    let before = run(&mut w, 100);
    assert!(before.system.error_rate < 1e-6);
    let during = run(&mut w, 50);
    assert!(
        (during.system.error_rate - 0.25).abs() < 0.01,
        "one of four dead: {}",
        during.system.error_rate
    );
    let after = run(&mut w, 60);
    assert!(
        after.system.error_rate < 1e-3,
        "after 10 s the check has noticed: {}",
        after.system.error_rate
    );
    assert_eq!(node(&after, "web").up, 3);
}

#[test]
fn least_connections_uses_uneven_servers_better_than_round_robin() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "lb", component = "lb" },
  { id = "a", component = "web", instance_type = "small" }, { id = "b", component = "web", instance_type = "big" }]
edges = [{ from = "users", to = "lb" }, { from = "lb", to = "a" }, { from = "lb", to = "b" }]
"#;
    let p99 = |policy: &str| {
        let mut lv = level("", start, 700.0);
        lv.start.nodes[1].config =
            Some(serde_json::from_str(&format!(r#"{{"lb_policy": "{policy}"}}"#)).unwrap());
        let r = run(&mut world(lv), 300);
        (
            r.system.p99_ms,
            node(&r, "a").utilization,
            r.system.error_rate,
        )
    };
    let (rr, rr_small, rr_err) = p99("round_robin");
    let (lc, lc_small, _) = p99("least_connections");
    // Round robin sends 350/s to a box that serves 200/s: it drowns; least connections does not.
    assert!(
        rr_small > 0.99 && (rr > 1000.0 || rr_err > 0.05),
        "round robin: p99 {rr}, small {rr_small}"
    );
    assert!(
        lc < 100.0 && lc_small < 0.9,
        "least connections: p99 {lc}, small {lc_small}"
    );
}

#[test]
fn a_slow_dependency_exhausts_the_callers_pool_while_its_cpu_falls() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "api", component = "api", instances = 4 }, { id = "dep", component = "dep", instances = 4 }]
edges = [{ from = "users", to = "api" }, { from = "api", to = "dep", config = { timeout_ms = 5000 } }]
"#;
    let mut w = world(level(
        "[[faults]]\nat_s = 20\nfor_s = 30\nfault = \"slow_node\"\nnode = \"dep\"\nfactor = 8",
        start,
        1500.0,
    ));
    let calm = run(&mut w, 190);
    let slow = run(&mut w, 100);
    let (c, s) = (node(&calm, "api"), node(&slow, "api"));
    assert!(c.pool_use < 0.8, "calm pool use {}", c.pool_use);
    assert!(s.pool_use > 0.99, "the pool is exhausted: {}", s.pool_use);
    assert!(
        s.cpu < c.cpu,
        "CPU falls as threads wait: {} → {}",
        c.cpu,
        s.cpu
    );
    assert!(s.queue > 100.0, "requests queue for threads: {}", s.queue);
}

#[test]
fn a_breaker_opens_fails_fast_and_closes_after_recovery() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "api", component = "api", instances = 2 }, { id = "dep", component = "dep", instances = 1 }]
edges = [{ from = "users", to = "api" }, { from = "api", to = "dep", config = { timeout_ms = 200, breaker = { failure_rate = 0.5, window_s = 5, min_calls = 20, open_s = 5 } } }]
"#;
    let mut w = world(level(
        "[[faults]]\nat_s = 10\nfor_s = 20\nfault = \"crash\"\nnode = \"dep\"",
        start,
        200.0,
    ));
    let mut opened = None;
    let mut closed = None;
    for t in 0..600u32 {
        let r = w.step();
        let b = r.edges[1].breaker.as_str();
        if opened.is_some_and(|o| t == o + 1) {
            assert_eq!(node(r, "dep").in_rps, 0.0, "an open breaker sends nothing");
            assert!(r.system.errors.breaker_open > 0.0);
        }
        if b == "open" && opened.is_none() {
            opened = Some(t);
        }
        if opened.is_some() && closed.is_none() && b == "closed" && t > 300 {
            closed = Some(t);
        }
    }
    let opened = opened.expect("the breaker opened");
    assert!((100..130).contains(&opened), "opened at tick {opened}");
    assert!(
        closed.is_some_and(|c| c < 400),
        "closed again after the dependency returned: {closed:?}"
    );
}

#[test]
fn autoscaling_adds_instances_after_its_datapoints_and_boot_time() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "lb", component = "lb" },
  { id = "web", component = "web", instances = 2, config = { autoscale = { min = 2, max = 10, target_utilization = 0.6, period_s = 10, datapoints = 2, cooldown_s = 30 } } }]
edges = [{ from = "users", to = "lb" }, { from = "lb", to = "web" }]
"#;
    let mut lv = level("", start, 150.0);
    lv.traffic.points = vec![(0.0, 150.0), (30.0, 150.0), (30.0, 1100.0)];
    let mut w = world(lv);
    let mut first_scale = None;
    for t in 0..3000u32 {
        let r = w.step();
        if first_scale.is_none() && r.events.iter().any(|e| e.kind == "autoscale") {
            first_scale = Some(t);
        }
    }
    // Two breaching 10 s periods after the jump at 30 s, then 10 s of boot.
    let t = first_scale.expect("it scaled");
    assert!((490..=520).contains(&t), "first scale-out at tick {t}");
    // The backlog built while it lagged drains first; then it settles under the ceiling of 10.
    let r = w.last_report().clone();
    let web = node(&r, "web");
    assert!(
        web.up >= 8 && web.utilization < 0.8,
        "settled at {} instances, {:.2} busy",
        web.up,
        web.utilization
    );
}

#[test]
fn a_queue_absorbs_a_burst_and_drains_at_consumer_speed() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "queue", component = "queue" }, { id = "worker", component = "web", instances = 1 }]
edges = [{ from = "users", to = "queue" }, { from = "queue", to = "worker" }]
"#;
    let mut lv = level("", start, 100.0);
    lv.traffic.points = vec![
        (0.0, 100.0),
        (10.0, 100.0),
        (10.0, 500.0),
        (20.0, 500.0),
        (20.0, 100.0),
    ];
    let mut w = world(lv);
    let burst = run(&mut w, 200);
    // Writes are acknowledged at once; 10 s at 500/s against 200/s of consumers leaves ~3000.
    assert!(
        burst.system.error_rate < 1e-9 && burst.system.p99_ms < 20.0,
        "producers are not slowed"
    );
    let backlog = node(&burst, "queue").backlog.unwrap();
    assert!((backlog - 3000.0).abs() < 150.0, "backlog {backlog}");
    // Consumers pull at 95 % of 200/s: draining at 190 − 100 = 90/s takes about 33 s.
    let later = run(&mut w, 250);
    let left = node(&later, "queue").backlog.unwrap();
    assert!(
        (left - 750.0).abs() < 150.0,
        "after 25 s of draining: {left}"
    );
    let drained = run(&mut w, 200);
    assert!(node(&drained, "queue").backlog.unwrap() < 1.0);
}

#[test]
fn failing_consumers_send_messages_to_the_dead_letters() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "queue", component = "queue", config = { max_receives = 3 } }, { id = "worker", component = "web", instances = 2 }]
edges = [{ from = "users", to = "queue" }, { from = "queue", to = "worker" }]
"#;
    let mut w = world(level(
        "[[faults]]\nat_s = 5\nfault = \"crash\"\nnode = \"worker\"\ninstances = 1",
        start,
        100.0,
    ));
    let r = run(&mut w, 100);
    assert!(
        node(&r, "queue").dead_letters.unwrap() > 0.0,
        "a worker that fails every other delivery dead-letters some"
    );
}

#[test]
fn more_points_of_presence_send_more_traffic_to_the_origin() {
    let start = |pops: u32| {
        format!(
            r#"
nodes = [{{ id = "users", component = "users", fixed = true }}, {{ id = "cdn", component = "cdn", config = {{ pops = {pops}, ttl_s = 60 }} }}, {{ id = "origin", component = "web", instances = 4 }}]
edges = [{{ from = "users", to = "cdn" }}, {{ from = "cdn", to = "origin" }}]
"#
        )
    };
    let origin = |pops: u32| {
        node(
            &run(&mut world(level("", &start(pops), 500.0)), 100),
            "origin",
        )
        .in_rps
    };
    let (few, many) = (origin(2), origin(32));
    assert!(
        many > 1.5 * few,
        "origin load: 2 PoPs {few}, 32 PoPs {many}"
    );
}

#[test]
fn a_partition_turns_cross_region_calls_into_timeouts() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "api", component = "api", instances = 2 }, { id = "dep", component = "dep", instances = 2, region = "west" }]
edges = [{ from = "users", to = "api" }, { from = "api", to = "dep", config = { timeout_ms = 300 } }]
"#;
    let mut w = world(level(
        "[[faults]]\nat_s = 10\nfor_s = 10\nfault = \"partition\"\na = \"east\"\nb = \"west\"",
        start,
        100.0,
    ));
    let calm = run(&mut w, 90);
    // The cross-region round trip (80 ms) is in every call.
    assert!(node(&calm, "api").latency_ms > 100.0);
    let cut = run(&mut w, 50);
    assert!(cut.system.error_rate > 0.99 && cut.system.errors.partition > 0.0);
    assert!(node(&cut, "api").latency_ms.is_finite());
    let healed = run(&mut w, 100);
    assert!(healed.system.error_rate < 0.01);
}

#[test]
fn a_per_client_limit_stops_a_bot_flood_without_touching_users() {
    let start = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "limiter", component = "limiter" }, { id = "web", component = "web", instances = 4 }]
edges = [{ from = "users", to = "limiter" }, { from = "limiter", to = "web" }]
"#;
    let flood = "[[faults]]\nat_s = 5\nfault = \"bot_flood\"\nclass = \"scrape\"\nrps = 3000";
    let open = run(&mut world(level(flood, start, 300.0)), 200);
    assert!(
        open.system.error_rate > 0.1,
        "the flood drowns the web tier: {}",
        open.system.error_rate
    );
    let mut lv = level(flood, start, 300.0);
    lv.start.nodes[1].config = Some(serde_json::from_str(r#"{"per_client_rps": 5}"#).unwrap());
    let limited = run(&mut world(lv), 200);
    assert!(
        limited.system.error_rate < 0.001,
        "users unaffected: {}",
        limited.system.error_rate
    );
    assert!(
        (limited.system.bot_served - 100.0).abs() < 1.0,
        "20 bots × 5/s get through: {}",
        limited.system.bot_served
    );
}

#[test]
fn losing_a_zone_takes_a_third_of_the_instances() {
    let mut w = world(level(
        "[[faults]]\nat_s = 1\nfault = \"lose_zone\"\nregion = \"east\"",
        LB_WEB,
        100.0,
    ));
    let r = run(&mut w, 20);
    assert_eq!(
        node(&r, "web").up,
        2,
        "⌈4/3⌉ = 2 instances were in the lost zone"
    );
}

#[test]
fn actions_are_refused_with_reasons() {
    let mut w = world(level("", LB_WEB, 100.0));
    let cases = [
        (
            r#"{"op": "add_node", "id": "web", "component": "web"}"#,
            "duplicate_id",
        ),
        (
            r#"{"op": "add_node", "id": "Bad Id", "component": "web"}"#,
            "bad_id",
        ),
        (
            r#"{"op": "add_node", "id": "x", "component": "nope"}"#,
            "no_such_component",
        ),
        (
            r#"{"op": "add_node", "id": "x", "component": "web", "instance_type": "huge"}"#,
            "bad_instance_type",
        ),
        (
            r#"{"op": "add_node", "id": "x", "component": "web", "region": "mars"}"#,
            "no_such_region",
        ),
        (r#"{"op": "connect", "from": "web", "to": "lb"}"#, "cycle"),
        (
            r#"{"op": "connect", "from": "lb", "to": "users"}"#,
            "bad_edge",
        ),
        (
            r#"{"op": "connect", "from": "lb", "to": "web"}"#,
            "duplicate_edge",
        ),
        (
            r#"{"op": "disconnect", "from": "web", "to": "lb"}"#,
            "no_such_edge",
        ),
        (r#"{"op": "remove_node", "id": "users"}"#, "fixed"),
        (
            r#"{"op": "scale", "id": "web", "instances": 0}"#,
            "bad_instances",
        ),
        (
            r#"{"op": "scale", "id": "web", "instances": 33}"#,
            "bad_instances",
        ),
        (
            r#"{"op": "configure_node", "id": "web", "config": {"ttl_s": 30}}"#,
            "bad_config",
        ),
        (
            r#"{"op": "configure_node", "id": "lb", "config": {"health_check_s": -1}}"#,
            "bad_config",
        ),
        (
            r#"{"op": "configure_edge", "from": "lb", "to": "web", "config": {"retries": 50}}"#,
            "bad_config",
        ),
        (
            r#"{"op": "configure_edge", "from": "lb", "to": "web", "config": {"classes": ["nope"]}}"#,
            "bad_config",
        ),
        (
            r#"{"op": "resize", "id": "web", "instance_type": "small"}"#,
            "no_change",
        ),
        (r#"{"op": "fail_over", "id": "web"}"#, "not_a_database"),
        (r#"{"op": "drain", "id": "users"}"#, "bad_target"),
    ];
    let before = w.arch().clone();
    for (json, code) in cases {
        let a: Action = serde_json::from_str(json).unwrap();
        let r = w.apply(&a).expect_err(json);
        assert_eq!(r.code, code, "{json}: {}", r.message);
        assert!(!r.message.is_empty());
    }
    assert_eq!(&before, w.arch(), "refused actions change nothing");
    // The budget: $100/h at $0.40 per big instance allows a lot, but not 16 + 16 + ... of them.
    let mut lv = level("", LB_WEB, 100.0);
    lv.budget_per_hour = 1.0;
    let mut w = world(lv);
    let r = w
        .apply(&serde_json::from_str(r#"{"op": "scale", "id": "web", "instances": 12}"#).unwrap())
        .unwrap_err();
    assert_eq!(r.code, "over_budget");
    assert!(r.message.contains("budget is $1.00/h"), "{}", r.message);
}

#[test]
fn resizing_the_only_instance_is_downtime_but_a_group_rolls() {
    let single = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "web", component = "web", instances = 1 }]
edges = [{ from = "users", to = "web" }]
"#;
    let mut w = world(level("", single, 50.0));
    run(&mut w, 10);
    act(
        &mut w,
        r#"{"op": "resize", "id": "web", "instance_type": "big"}"#,
    );
    let r = run(&mut w, 20);
    assert_eq!(r.system.error_rate, 1.0, "its only instance is restarting");
    let mut w = world(level("", LB_WEB, 50.0));
    run(&mut w, 10);
    act(
        &mut w,
        r#"{"op": "resize", "id": "web", "instance_type": "big"}"#,
    );
    let mut worst: f64 = 0.0;
    for _ in 0..500 {
        worst = worst.max(w.step().system.error_rate);
    }
    assert!(
        worst < 0.01,
        "a rolling restart behind a load balancer keeps serving: {worst}"
    );
    assert_eq!(node(w.last_report(), "web").up, 4);
}

#[test]
fn alerts_say_what_is_wrong_and_where() {
    let single = r#"
nodes = [{ id = "users", component = "users", fixed = true }, { id = "web", component = "web", instances = 1 }]
edges = [{ from = "users", to = "web" }]
"#;
    let mut w = world(level("", single, 240.0));
    let mut messages = Vec::new();
    for _ in 0..100 {
        messages.extend(
            w.step()
                .alerts
                .iter()
                .filter(|a| a.firing)
                .map(|a| (a.key.clone(), a.message.clone())),
        );
    }
    let sat = messages
        .iter()
        .find(|(k, _)| k == "web/saturated")
        .expect("web saturates");
    assert!(
        sat.1.contains("web") && sat.1.contains("busy") && sat.1.contains("Add instances"),
        "{}",
        sat.1
    );
    assert!(
        messages
            .iter()
            .any(|(k, m)| k == "system/p99" && m.contains("objective"))
    );
}

#[test]
fn a_level_with_more_classes_than_the_tick_holds_is_refused_by_name() {
    let mut lv = level("", LB_WEB, 100.0);
    let template = lv.classes[0].clone();
    for i in lv.classes.len()..=stampede_sim::level::MAX_CLASSES {
        let mut c = template.clone();
        c.name = format!("extra-{i}");
        c.share = 0.0;
        lv.classes.push(c);
    }
    let text = toml::to_string(&lv).expect("a level serializes");
    let e = Level::from_toml("many.toml", &text).expect_err("one class too many");
    assert_eq!(
        (e.file.as_str(), e.field.as_str()),
        ("many.toml", "classes")
    );
    let limit = format!("at most {}", stampede_sim::level::MAX_CLASSES);
    assert!(e.problem.contains(&limit), "{}", e.problem);
    // One fewer loads and runs.
    lv.classes.pop();
    let text = toml::to_string(&lv).expect("a level serializes");
    let mut w = world(Level::from_toml("most.toml", &text).unwrap_or_else(|e| panic!("{e}")));
    run(&mut w, 20);
}
