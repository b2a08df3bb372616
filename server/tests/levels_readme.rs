//! `levels/README.md` carries the generated campaign and `levels check` tables; this test fails
//! when they differ from what `stampede levels check` produces now (levels or engine changed).
//! Invariant: the README's tables are never edited by hand and never go stale unnoticed.

use std::process::Command;

const LEVELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../levels");

#[test]
fn the_readme_tables_are_current() {
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["--levels-dir", LEVELS, "levels", "check", "--verify-readme"])
        .output()
        .expect("run stampede");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "levels check --verify-readme failed (run `cargo run -p stampede-server -- levels check --write-readme`):\n{stderr}"
    );
}

#[test]
fn daily_prints_the_challenge_for_a_date() {
    let run = |date: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(["--levels-dir", LEVELS, "daily", "--date", date])
            .output()
            .expect("run stampede");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("one JSON object")
    };
    let a = run("2026-11-30");
    assert_eq!(a["date"], "2026-11-30");
    assert!(a["seed"].as_u64().is_some_and(|s| s < 1 << 53));
    let level = a["level"].as_str().expect("level id");
    assert!(
        std::path::Path::new(LEVELS)
            .read_dir()
            .expect("levels dir")
            .any(|e| e
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .starts_with(level)),
        "{level} is not a level file"
    );
    // Same date, same answer; the next day, a different seed.
    assert_eq!(run("2026-11-30"), a);
    assert_ne!(run("2026-12-01")["seed"], a["seed"]);
    let bad = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["--levels-dir", LEVELS, "daily", "--date", "2026-13-01"])
        .output()
        .expect("run stampede");
    assert!(!bad.status.success(), "a bad date must be refused");
}
