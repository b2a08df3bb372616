//! The storage contract, run against both backends: SQLite (a fresh file) and the Postgres on
//! 127.0.0.1:5432 (a fresh schema of the `test` database). Every test is written once as a
//! function of a `Db` and instantiated per backend by `contract!`.
//! Invariant: Postgres being down fails these tests with a message saying so; nothing skips.

mod common;

use common::{finished, play, start};
use stampede_protocol::Mode;
use stampede_protocol::api::Window;
use stampede_server::leaderboard::{BoardKey, Cursor, Periods};
use stampede_server::storage::Db;
use stampede_server::storage::players::PlayerRow;

const DAY: u64 = 1_796_040_000_000; // 2026-11-30T12:00Z

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::postgres().await).await;
                }
            )*
        }
    };
}

contract!(
    migrations_are_idempotent,
    finishing_twice_stores_one_attempt_receipt_and_outbox_row,
    orphans_are_aborted_and_never_finish,
    failed_runs_are_stored_but_not_queued_for_leaderboards,
    board_is_each_players_best_in_rank_order_with_ties_broken,
    board_pages_both_ways_and_around_a_player,
    windows_keep_past_periods_readable,
    outbox_drains_once,
    players_progress_and_history,
);

fn board(level: &str, window: Window, period: &str) -> BoardKey {
    BoardKey {
        level: level.to_owned(),
        mode: Mode::Solo,
        window,
        period: period.to_owned(),
    }
}

fn all(level: &str) -> BoardKey {
    board(level, Window::All, "all")
}

async fn migrations_are_idempotent(db: Db) {
    db.migrate()
        .await
        .expect("a second migration run changes nothing");
    db.ping().await.unwrap();
}

async fn finishing_twice_stores_one_attempt_receipt_and_outbox_row(db: Db) {
    let s = start("a-1", "01-scale-out", Mode::Solo, &["p-1"]);
    db.start_attempt(&s).await.unwrap();
    db.start_attempt(&s)
        .await
        .expect("a retried start is harmless");
    assert_eq!(
        db.attempt_status("a-1").await.unwrap().as_deref(),
        Some("running")
    );
    let f = finished(s, 900.0, 2.0, DAY, true);
    db.finish_attempt(&f).await.unwrap();
    db.finish_attempt(&f)
        .await
        .expect("a retried finish is harmless");
    assert_eq!(db.rows_for("a-1").await.unwrap(), (1, 1, 1));
    assert_eq!(
        db.attempt_status("a-1").await.unwrap().as_deref(),
        Some("finished")
    );
    assert_eq!(
        db.receipt(&f.receipt.id).await.unwrap().as_deref(),
        Some(f.body.as_str()),
        "the receipt comes back byte for byte"
    );
    assert_eq!(db.receipt("r-none").await.unwrap(), None);
}

async fn orphans_are_aborted_and_never_finish(db: Db) {
    let s = start("a-orphan", "01-scale-out", Mode::Solo, &["p-1"]);
    db.start_attempt(&s).await.unwrap();
    assert_eq!(db.abort_orphans("another-node").await.unwrap(), 0);
    assert_eq!(db.abort_orphans("test-node").await.unwrap(), 1);
    assert_eq!(
        db.attempt_status("a-orphan").await.unwrap().as_deref(),
        Some("aborted")
    );
    // A finish that somehow arrives later does not resurrect it or rank it.
    db.finish_attempt(&finished(s, 900.0, 2.0, DAY, true))
        .await
        .unwrap();
    assert_eq!(
        db.attempt_status("a-orphan").await.unwrap().as_deref(),
        Some("aborted")
    );
    assert_eq!(db.rows_for("a-orphan").await.unwrap(), (1, 0, 0));
    let page = db
        .board_slice(&all("01-scale-out"), &Cursor::Top, 10)
        .await
        .unwrap();
    assert!(page.records.is_empty());
}

async fn failed_runs_are_stored_but_not_queued_for_leaderboards(db: Db) {
    let s = start("a-fail", "01-scale-out", Mode::Solo, &["p-1"]);
    db.start_attempt(&s).await.unwrap();
    db.finish_attempt(&finished(s, 120.0, 2.0, DAY, false))
        .await
        .unwrap();
    assert_eq!(db.rows_for("a-fail").await.unwrap(), (1, 1, 0));
    let page = db
        .board_slice(&all("01-scale-out"), &Cursor::Top, 10)
        .await
        .unwrap();
    assert!(page.records.is_empty(), "only passing attempts rank");
}

async fn board_is_each_players_best_in_rank_order_with_ties_broken(db: Db) {
    let lv = "02-cache-aside";
    play(&db, "a-1", lv, &["p-a"], 700.0, 3.0, DAY).await;
    play(&db, "a-2", lv, &["p-a"], 800.0, 3.0, DAY + 1).await; // p-a's best
    play(&db, "a-3", lv, &["p-b"], 800.0, 2.5, DAY + 2).await; // cheaper: above p-a
    play(&db, "a-4", lv, &["p-c"], 800.0, 2.5, DAY + 1).await; // earlier: above p-b
    play(&db, "a-5", lv, &["p-d"], 950.0, 9.0, DAY + 9).await; // best score: first
    let s = db.board_slice(&all(lv), &Cursor::Top, 10).await.unwrap();
    let order: Vec<&str> = s.records.iter().map(|r| r.player.as_str()).collect();
    assert_eq!(order, ["p-d", "p-c", "p-b", "p-a"]);
    assert_eq!((s.first_rank, s.total), (1, 4));
    assert_eq!(
        s.records[3].attempt_id, "a-2",
        "a player's best attempt, not their latest"
    );
    assert_eq!(
        s.records[3].receipt_id, "r-a-2",
        "every entry links its receipt"
    );
}

async fn board_pages_both_ways_and_around_a_player(db: Db) {
    let lv = "03-cache-stampede";
    for i in 0..25u32 {
        play(
            &db,
            &format!("a-{i}"),
            lv,
            &[&format!("p-{i:02}")],
            500.0 + f64::from(i),
            1.0,
            DAY,
        )
        .await;
    }
    let b = all(lv);
    let first = db.board_slice(&b, &Cursor::Top, 10).await.unwrap();
    assert_eq!(first.records[0].player, "p-24");
    let second = db
        .board_slice(&b, &Cursor::After(first.records[9].key.clone()), 10)
        .await
        .unwrap();
    assert_eq!(second.first_rank, 11);
    assert_eq!(second.records[0].player, "p-14");
    let back = db
        .board_slice(&b, &Cursor::Before(second.records[0].key.clone()), 10)
        .await
        .unwrap();
    assert_eq!(back, first, "paging back returns the first page exactly");
    let around = db.board_around(&b, "p-05", 5).await.unwrap().unwrap();
    let players: Vec<&str> = around.records.iter().map(|r| r.player.as_str()).collect();
    assert_eq!(players, ["p-07", "p-06", "p-05", "p-04", "p-03"]);
    assert_eq!(
        around.first_rank, 18,
        "p-05 is 20th; two above it start at 18"
    );
    assert!(db.board_around(&b, "p-nobody", 5).await.unwrap().is_none());
}

async fn windows_keep_past_periods_readable(db: Db) {
    let lv = "04-failover";
    let yesterday = DAY - 86_400_000;
    play(&db, "a-old", lv, &["p-old"], 600.0, 1.0, yesterday).await;
    play(&db, "a-new", lv, &["p-new"], 700.0, 1.0, DAY).await;
    let today = Periods::of(DAY);
    let before = Periods::of(yesterday);
    let d = |p: &str| board(lv, Window::Day, p);
    let t = db
        .board_slice(&d(&today.day), &Cursor::Top, 10)
        .await
        .unwrap();
    assert_eq!(t.records.len(), 1);
    assert_eq!(t.records[0].player, "p-new");
    let y = db
        .board_slice(&d(&before.day), &Cursor::Top, 10)
        .await
        .unwrap();
    assert_eq!(
        y.records[0].player, "p-old",
        "yesterday's board stays readable"
    );
    let week = db
        .board_slice(&board(lv, Window::Week, &today.week), &Cursor::Top, 10)
        .await
        .unwrap();
    assert_eq!(week.total, u64::from(today.week == before.week) + 1);
    let season = db
        .board_slice(&board(lv, Window::Season, &today.season), &Cursor::Top, 10)
        .await
        .unwrap();
    assert_eq!(season.total, 2);
}

async fn outbox_drains_once(db: Db) {
    play(
        &db,
        "a-o1",
        "05-retry-storm",
        &["p-1", "p-2"],
        800.0,
        1.0,
        DAY,
    )
    .await;
    assert_eq!(db.outbox_backlog().await.unwrap(), 1);
    let pending = db.outbox_pending(100).await.unwrap();
    assert_eq!(pending.len(), 2, "one row per player of the attempt");
    assert_eq!(
        pending[0].1.len(),
        4,
        "each on four boards: all, season, week, day"
    );
    let ids: Vec<i64> = pending.iter().map(|(id, _)| *id).collect();
    db.outbox_done(&ids, DAY).await.unwrap();
    assert_eq!(db.outbox_backlog().await.unwrap(), 0);
    assert!(db.outbox_pending(100).await.unwrap().is_empty());
    assert_eq!(
        db.board_records().await.unwrap().len(),
        8,
        "two players x four boards"
    );
}

async fn players_progress_and_history(db: Db) {
    let p = PlayerRow {
        id: "p-ada".to_owned(),
        name: "Ada".to_owned(),
        token_hash: "ab".repeat(32),
        created_at: DAY,
    };
    db.put_player(&p).await.unwrap();
    db.put_player(&p).await.expect("idempotent");
    assert_eq!(
        db.player_by_token(&p.token_hash).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(db.player_by_token("cd").await.unwrap(), None);
    assert_eq!(
        db.player_name("p-ada").await.unwrap().as_deref(),
        Some("Ada")
    );
    play(&db, "a-h1", "01-scale-out", &["p-ada"], 600.0, 1.0, DAY).await;
    play(&db, "a-h2", "01-scale-out", &["p-ada"], 900.0, 1.0, DAY + 5).await;
    let mut s = start("a-h3", "02-cache-aside", Mode::Solo, &["p-ada"]);
    s.started_at += 10;
    db.start_attempt(&s).await.unwrap();
    db.finish_attempt(&finished(s, 100.0, 1.0, DAY + 20, false))
        .await
        .unwrap();
    let progress = db.progress_of("p-ada").await.unwrap();
    assert_eq!(progress.len(), 2);
    assert_eq!(progress[0].level, "01-scale-out");
    assert!(progress[0].passed);
    assert_eq!(
        (
            progress[0].stars,
            progress[0].best_score,
            progress[0].attempts
        ),
        (3, 900.0, 2)
    );
    assert!(!progress[1].passed);
    let page = db.attempts_of("p-ada", None, 2).await.unwrap();
    assert_eq!(page.attempts.len(), 2);
    assert_eq!(page.attempts[0].id, "a-h3", "newest first");
    let next = page.next.expect("a third attempt remains");
    let (t, id) = next.split_once('.').unwrap();
    let rest = db
        .attempts_of("p-ada", Some((t.parse().unwrap(), id.to_owned())), 2)
        .await
        .unwrap();
    assert_eq!(rest.attempts.len(), 1);
    assert!(rest.next.is_none());
}
