//! Determinism: the same level, seed and stamped actions give the same report stream, byte for
//! byte; recorded attempts re-simulate to their recorded results (`tests/golden/`).
//! Regenerate the recordings with `STAMPEDE_UPDATE_GOLDEN=1 cargo test -p stampede-sim --test determinism`.

use std::sync::Arc;

use stampede_sim::{Level, TimedAction, World};

const LEVELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../levels");

fn level(id: &str) -> Level {
    let text = std::fs::read_to_string(format!("{LEVELS}/{id}.toml")).unwrap();
    Level::from_toml(id, &text).unwrap()
}

fn stream(lv: &Level, seed: u64, actions: &[TimedAction]) -> Vec<u8> {
    let mut w = World::new(Arc::new(lv.clone()), seed).unwrap();
    let mut out = Vec::new();
    let result = w.run_script(actions, |r| {
        serde_json::to_writer(&mut out, r).unwrap();
        out.push(b'\n');
    });
    serde_json::to_writer(&mut out, &result).unwrap();
    out
}

#[test]
fn same_inputs_give_byte_identical_report_streams() {
    for id in ["01-scale-out", "03-cache-stampede", "05-retry-storm"] {
        let lv = level(id);
        let actions = lv.solutions[0].actions.clone();
        let a = stream(&lv, 42, &actions);
        let b = stream(&lv, 42, &actions);
        assert!(a == b, "{id}: two runs differ");
        let c = stream(&lv, 43, &actions);
        assert!(a != c, "{id}: the seed must matter when traffic is noisy");
    }
}

#[test]
fn a_cloned_world_continues_identically() {
    let lv = level("04-failover");
    let mut w = World::new(Arc::new(lv.clone()), 7).unwrap();
    for a in lv.solutions[0].actions.iter().filter(|a| a.tick == 0) {
        w.apply(&a.action).unwrap();
    }
    for _ in 0..950 {
        w.step();
    }
    let mut twin = w.clone();
    for _ in 0..300 {
        let a = serde_json::to_string(w.step()).unwrap();
        let b = serde_json::to_string(twin.step()).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn reports_without_node_detail_follow_the_same_run() {
    // Observation never steers the run: with per-node and per-edge detail off, every tick's
    // system metrics and events, and the result, are the same bytes as with it on.
    for id in ["03-cache-stampede", "04-failover", "05-retry-storm"] {
        let lv = Arc::new(level(id));
        let actions = lv.solutions[0].actions.clone();
        let run = |detailed: bool| {
            let mut w = World::new(Arc::clone(&lv), 5).unwrap();
            w.set_detailed_reports(detailed);
            let mut out = Vec::new();
            let mut nodes = 0;
            let result = w.run_script(&actions, |r| {
                serde_json::to_writer(&mut out, &(&r.system, &r.events)).unwrap();
                nodes += r.nodes.len() + r.edges.len() + r.alerts.len();
            });
            serde_json::to_writer(&mut out, &result).unwrap();
            (out, nodes)
        };
        let ((full, seen), (bare, none)) = (run(true), run(false));
        assert!(seen > 0, "{id}: detailed reports carry nodes");
        assert_eq!(
            none, 0,
            "{id}: bare reports carry no nodes, edges or alerts"
        );
        assert!(full == bare, "{id}: the run differs without detail");
    }
}

/// A recorded attempt: what a receipt will carry, and the result it must re-simulate to.
#[derive(serde::Serialize, serde::Deserialize)]
struct Recording {
    level: String,
    seed: u64,
    actions: Vec<TimedAction>,
    result: serde_json::Value,
}

#[test]
fn recorded_attempts_re_simulate_to_their_results() {
    let update = std::env::var_os("STAMPEDE_UPDATE_GOLDEN").is_some();
    let cases: Vec<(&str, u64, usize)> = vec![
        ("01-scale-out", 1, 0),
        ("02-cache-aside", 9, 0),
        ("03-cache-stampede", 3, 0),
        ("04-failover", 11, 0),
        ("05-retry-storm", 5, 0),
        ("05-retry-storm", 6, 1),
    ];
    for (id, seed, solution) in cases {
        let path = format!(
            "{}/tests/golden/{id}-seed{seed}-s{solution}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let lv = level(id);
        if update {
            let actions = lv.solutions[solution].actions.clone();
            let mut w = World::new(Arc::new(lv.clone()), seed).unwrap();
            let result = serde_json::to_value(w.run_script(&actions, |_| {})).unwrap();
            let rec = Recording {
                level: id.to_owned(),
                seed,
                actions,
                result,
            };
            std::fs::write(&path, serde_json::to_string_pretty(&rec).unwrap() + "\n").unwrap();
        }
        let rec: Recording =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // Replays run in the opposite order of recording, in a fresh world each time.
        let mut w = World::new(Arc::new(level(&rec.level)), rec.seed).unwrap();
        let again = serde_json::to_value(w.run_script(&rec.actions, |_| {})).unwrap();
        assert_eq!(
            again, rec.result,
            "{path}: the recorded attempt no longer re-simulates to its result"
        );
    }
}

/// Every number in every report is finite: JSON has no NaN or infinity (serde_json would write
/// `null`, which a client typed `number` cannot read).
#[test]
fn reports_hold_only_finite_numbers() {
    fn check(v: &serde_json::Value, path: &str) {
        match v {
            serde_json::Value::Null => panic!("{path} is null (a NaN or infinity)"),
            serde_json::Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| check(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(o) => {
                o.iter().for_each(|(k, x)| check(x, &format!("{path}.{k}")))
            }
            _ => {}
        }
    }
    for id in [
        "01-scale-out",
        "02-cache-aside",
        "03-cache-stampede",
        "04-failover",
        "05-retry-storm",
    ] {
        let lv = level(id);
        for actions in [Vec::new(), lv.solutions[0].actions.clone()] {
            let mut w = World::new(Arc::new(lv.clone()), 3).unwrap();
            let result = w.run_script(&actions, |r| {
                check(
                    &serde_json::to_value(r).unwrap(),
                    &format!("{id} tick {}", r.tick),
                )
            });
            check(
                &serde_json::to_value(result).unwrap(),
                &format!("{id} result"),
            );
        }
    }
}
