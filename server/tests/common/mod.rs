//! Shared setup for the storage and leaderboard tests: a fresh database on each backend (a
//! SQLite file, or a private schema in the Postgres on loopback), and record builders.
//! Invariant: a test that needs Postgres or Redis fails with a clear message when the service
//! does not answer; it never skips.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU64, Ordering};

use stampede_protocol::api::{RECEIPT_VERSION, Receipt, ReceiptPlayer};
use stampede_protocol::{Mode, PlayerId, RunResult};
use stampede_server::storage::{AttemptStart, Db, FinishedAttempt};
use stampede_sim::report::ScoreParts;

/// The Postgres the tests use: `STAMPEDE_TEST_DATABASE_URL`, else the `test` database on
/// loopback.
pub fn postgres_url() -> String {
    std::env::var("STAMPEDE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The Redis the tests use: `STAMPEDE_TEST_REDIS_URL`, else loopback.
pub fn redis_url() -> String {
    std::env::var("STAMPEDE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

fn unique(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{tag}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A unique Redis key prefix for one test.
pub fn redis_prefix() -> String {
    format!("stampede-test:{}:", unique("lb"))
}

/// A fresh, migrated SQLite database.
pub async fn sqlite() -> Db {
    let dir = std::env::temp_dir().join(unique("stampede_store"));
    let db = Db::connect(&format!("sqlite://{}/t.db", dir.display()))
        .await
        .expect("SQLite opens");
    db.migrate().await.expect("SQLite migrates");
    db
}

/// The URL of a fresh schema in the loopback Postgres.
pub async fn postgres_schema_url() -> String {
    let base = postgres_url();
    let admin = Db::connect(&base).await.unwrap_or_else(|e| {
        panic!(
            "Postgres at {base} does not answer ({e}). These tests need it: start it \
             (scripts/test does) or point STAMPEDE_TEST_DATABASE_URL at one"
        )
    });
    let schema = unique("t");
    admin
        .execute_raw(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create a test schema");
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// A fresh, migrated Postgres schema.
pub async fn postgres() -> Db {
    let db = Db::connect(&postgres_schema_url().await)
        .await
        .expect("Postgres schema opens");
    db.migrate().await.expect("Postgres migrates");
    db
}

/// A result with this score.
pub fn result(score: f64, cost: f64, passed: bool) -> RunResult {
    RunResult {
        score,
        stars: if passed { 3 } else { 0 },
        passed,
        failure: (!passed).then(|| "missed the SLO".to_owned()),
        ticks: 100,
        survived: passed,
        slo_compliance: 0.99,
        availability: 0.999,
        avg_cost_per_hour: cost,
        worst_p99_ms: 120.0,
        parts: ScoreParts {
            slo: 0.9,
            availability: 1.0,
            cost: 0.8,
            survival: 1.0,
        },
    }
}

/// A start row.
pub fn start(id: &str, level: &str, mode: Mode, players: &[&str]) -> AttemptStart {
    AttemptStart {
        id: id.to_owned(),
        room_id: "r-test".to_owned(),
        node_id: "test-node".to_owned(),
        level: level.to_owned(),
        level_hash: "00".repeat(32),
        engine: stampede_sim::ENGINE_VERSION.to_owned(),
        seed: 7,
        mode,
        players: players
            .iter()
            .map(|p| (PlayerId((*p).to_owned()), format!("name of {p}")))
            .collect(),
        started_at: 1_796_040_000_000,
    }
}

/// A finished attempt (the receipt is unsigned: storage does not check signatures).
pub fn finished(
    start: AttemptStart,
    score: f64,
    cost: f64,
    finished_at: u64,
    passed: bool,
) -> FinishedAttempt {
    let receipt = Receipt {
        version: RECEIPT_VERSION,
        id: format!("r-{}", start.id),
        attempt_id: start.id.clone(),
        level: start.level.clone(),
        level_version: 1,
        level_hash: start.level_hash.clone(),
        engine: start.engine.clone(),
        seed: start.seed,
        mode: start.mode,
        players: start
            .players
            .iter()
            .map(|(id, name)| ReceiptPlayer {
                id: id.clone(),
                name: name.clone(),
            })
            .collect(),
        actions: Vec::new(),
        result: result(score, cost, passed),
        started_at: start.started_at,
        finished_at,
        key_id: "test".to_owned(),
        signature: None,
    };
    let body = serde_json::to_string(&receipt).unwrap();
    FinishedAttempt {
        start,
        receipt,
        body,
    }
}

/// Starts and finishes an attempt in one go.
pub async fn play(
    db: &Db,
    id: &str,
    level: &str,
    players: &[&str],
    score: f64,
    cost: f64,
    at: u64,
) {
    let s = start(id, level, Mode::Solo, players);
    db.start_attempt(&s).await.unwrap();
    db.finish_attempt(&finished(s, score, cost, at, true))
        .await
        .unwrap();
}
