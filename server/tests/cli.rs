//! The `stampede` binary end to end: `levels check`, `sim`, and clear errors for bad input.
//! Invariant: these run the real binary Cargo built, as a user would.

use std::process::Command;

const LEVELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../levels");

fn stampede(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(args)
        .env("STAMPEDE_LEVELS_DIR", LEVELS)
        .output()
        .unwrap()
}

#[test]
fn levels_check_passes_for_every_level() {
    let out = stampede(&["levels", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "levels check failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in [
        "01-scale-out",
        "02-cache-aside",
        "03-cache-stampede",
        "04-failover",
        "05-retry-storm",
    ] {
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("| {id} |")))
            .collect();
        assert!(
            rows.iter().any(|r| r.contains("| do nothing | no |")),
            "{id}: doing nothing must fail"
        );
        assert!(
            rows.iter().any(|r| r.contains("(reference) | yes | ★★★ |")),
            "{id}: the reference must earn three stars"
        );
    }
}

#[test]
fn sim_prints_one_json_object_per_tick_then_the_summary() {
    let out = stampede(&[
        "sim",
        "--level",
        "05-retry-storm",
        "--duration",
        "10",
        "--seed",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 101, "100 ticks and a summary");
    for (i, l) in lines[..100].iter().enumerate() {
        assert_eq!(l["tick"], i as u64);
        for f in [
            "offered",
            "goodput",
            "error_rate",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "cost_per_hour",
        ] {
            assert!(l["system"][f].is_number(), "tick {i}: system.{f}");
        }
        assert!(
            l["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["utilization"].is_number() && n["state"].is_string())
        );
    }
    assert!(lines[100]["summary"]["score"].is_number());
    // The same seed prints the same bytes; another seed, other bytes.
    let again = stampede(&[
        "sim",
        "--level",
        "05-retry-storm",
        "--duration",
        "10",
        "--seed",
        "3",
    ]);
    assert_eq!(out.stdout, again.stdout);
    let other = stampede(&[
        "sim",
        "--level",
        "05-retry-storm",
        "--duration",
        "10",
        "--seed",
        "4",
    ]);
    assert_ne!(out.stdout, other.stdout);
}

#[test]
fn a_bad_level_file_names_the_file_the_field_and_the_problem() {
    let dir = std::env::temp_dir().join(format!("stampede-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(format!("{LEVELS}/01-scale-out.toml")).unwrap();
    let cases = [
        (good.replace("tick_hz = 10", "tick_hz = 0"), "tick_hz"),
        (good.replace("share = 1.0", "share = 0.5"), "classes"),
        (
            good.replace("duration_s = 300", "duration_s = \"long\""),
            "line",
        ),
        (
            good.replace(
                "{ op = \"scale\", id = \"web\", instances = 3 }",
                "{ op = \"scale\", id = \"nope\", instances = 3 }",
            ),
            "no node `nope`",
        ),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = stampede(&[
            "sim",
            "--level",
            path.to_str().unwrap(),
            "--format",
            "summary",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "case {i} should fail");
        assert!(
            err.contains(&format!("bad{i}.toml")) && err.contains(expect),
            "case {i}: {err}"
        );
        assert!(!err.contains("panicked"), "case {i} panicked: {err}");
    }
    let actions = dir.join("actions.json");
    std::fs::write(
        &actions,
        "[{\"tick\": 0, \"action\": {\"op\": \"explode\"}}]",
    )
    .unwrap();
    let out = stampede(&[
        "sim",
        "--level",
        "01-scale-out",
        "--actions",
        actions.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a list of stamped actions"));
    let out = stampede(&["sim", "--level", "no-such-level"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no level `no-such-level`"));
}

#[test]
fn refused_actions_are_reported_and_skipped() {
    let dir = std::env::temp_dir().join(format!("stampede-cli-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let actions = dir.join("actions.json");
    std::fs::write(
        &actions,
        r#"[{"tick": 0, "action": {"op": "scale", "id": "web", "instances": 400}}]"#,
    )
    .unwrap();
    let out = stampede(&[
        "sim",
        "--level",
        "01-scale-out",
        "--actions",
        actions.to_str().unwrap(),
        "--format",
        "summary",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused (bad_instances)") && err.contains("between 1 and 16"),
        "{err}"
    );
}

#[test]
fn the_committed_level_schema_is_current() {
    let out = stampede(&["levels", "schema"]);
    let committed = std::fs::read_to_string(format!("{LEVELS}/level.schema.json")).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).trim() == committed.trim(),
        "levels/level.schema.json is stale: run `cargo run -p stampede-server -- levels schema > levels/level.schema.json`"
    );
}
