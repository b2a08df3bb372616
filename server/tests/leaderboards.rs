//! Leaderboard indexes, run against both: the in-process index and the Redis on
//! 127.0.0.1:6379 (under a key prefix of the test's own). Each index is fed from the SQL
//! outbox by the real projector and must give exactly the pages SQL computes itself.
//! Invariant: Redis being down fails the Redis half with a message saying so; nothing skips.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::play;
use stampede_protocol::Mode;
use stampede_protocol::api::{LeaderboardPage, Window};
use stampede_server::leaderboard::{
    BoardKey, Cursor, Index, Leaderboards, MemoryIndex, RedisIndex, decode_cursor, projector,
};
use stampede_server::storage::Db;
use tokio_util::sync::CancellationToken;

const DAY: u64 = 1_796_040_000_000;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Memory).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Redis).await;
                }
            )*
        }
    };
}

both!(
    index_pages_match_sql_both_ways,
    best_score_semantics_survive_replays,
    around_a_player_and_ranks,
);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Memory,
    Redis,
}

struct Rig {
    db: Db,
    boards: Arc<Leaderboards>,
    stop: CancellationToken,
    prefix: String,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn rig(kind: Kind) -> Rig {
    let db = common::sqlite().await;
    let prefix = common::redis_prefix();
    let index = match kind {
        Kind::Memory => Index::Memory(MemoryIndex::default()),
        Kind::Redis => {
            let url = common::redis_url();
            let r = RedisIndex::new(&url, &prefix).expect("a Redis URL");
            redis_ping(&url).await;
            Index::Redis(r)
        }
    };
    let boards = Leaderboards::new(index, db.clone());
    let stop = CancellationToken::new();
    tokio::spawn(projector::run(Arc::clone(&boards), stop.clone()));
    Rig {
        db,
        boards,
        stop,
        prefix,
    }
}

async fn redis_ping(url: &str) {
    let client = ::redis::Client::open(url).unwrap();
    let reached = tokio::time::timeout(Duration::from_secs(2), async {
        let mut c = client.get_multiplexed_async_connection().await?;
        ::redis::cmd("PING").query_async::<String>(&mut c).await
    })
    .await;
    assert!(
        matches!(reached, Ok(Ok(_))),
        "Redis at {url} does not answer. These tests need it: start it (scripts/test does) or \
         point STAMPEDE_TEST_REDIS_URL at one"
    );
}

fn all(level: &str) -> BoardKey {
    BoardKey {
        level: level.to_owned(),
        mode: Mode::Solo,
        window: Window::All,
        period: "all".to_owned(),
    }
}

/// Waits until the index (not SQL) answers and has projected the whole outbox.
async fn projected(rig: &Rig, board: &BoardKey) -> LeaderboardPage {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let page = rig.boards.page(board, &Cursor::Top, 100).await.unwrap();
        if page.source != "sql" && rig.db.outbox_backlog().await.unwrap() == 0 {
            let again = rig.boards.page(board, &Cursor::Top, 100).await.unwrap();
            if again.source != "sql" {
                return again;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the projector did not catch up: {page:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn with_source(page: &LeaderboardPage, source: &str) -> LeaderboardPage {
    LeaderboardPage {
        source: source.to_owned(),
        ..page.clone()
    }
}

async fn index_pages_match_sql_both_ways(kind: Kind) {
    let rig = rig(kind).await;
    let lv = "01-scale-out";
    for i in 0..37u32 {
        // Ties on score every three players, broken by cost, then time.
        let score = 900.0 - f64::from(i / 3);
        let cost = 1.0 + f64::from(i % 2);
        play(
            &rig.db,
            &format!("a-{i}"),
            lv,
            &[&format!("p-{i:02}")],
            score,
            cost,
            DAY + u64::from(i),
        )
        .await;
    }
    let b = all(lv);
    let top = projected(&rig, &b).await;
    assert_eq!(top.total, 37);
    assert_eq!(
        top.source,
        if kind == Kind::Memory {
            "memory"
        } else {
            "redis"
        }
    );
    // Walk forward in pages of 10 with both the index and SQL; they must agree exactly.
    let mut cursor = Cursor::Top;
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = rig.boards.page(&b, &cursor, 10).await.unwrap();
        let slice = rig.db.board_slice(&b, &cursor, 10).await.unwrap();
        assert_eq!(page.entries.len(), slice.records.len());
        for (e, r) in page.entries.iter().zip(&slice.records) {
            assert_eq!(
                (e.player.0.as_str(), e.attempt_id.as_str()),
                (r.player.as_str(), r.attempt_id.as_str())
            );
        }
        assert_eq!(page.entries[0].rank, slice.first_rank);
        seen.extend(page.entries.iter().map(|e| (e.rank, e.player.0.clone())));
        pages.push(page.clone());
        match &page.next {
            Some(n) => cursor = Cursor::After(decode_cursor(n).unwrap()),
            None => break,
        }
    }
    assert_eq!(pages.len(), 4);
    let ranks: Vec<u64> = seen.iter().map(|(r, _)| *r).collect();
    assert_eq!(
        ranks,
        (1..=37).collect::<Vec<u64>>(),
        "every rank once, in order"
    );
    // Ties: among equal scores the cheaper comes first.
    let first = &pages[0].entries;
    assert!(first[0].score >= first[1].score);
    assert!(
        first
            .windows(2)
            .all(|w| w[0].score > w[1].score || w[0].cost_per_hour <= w[1].cost_per_hour)
    );
    // And back again from the last page with `prev` cursors, to the same pages.
    let mut back = pages.last().unwrap().clone();
    for expected in pages.iter().rev().skip(1) {
        let prev = back
            .prev
            .clone()
            .expect("a prev cursor until the first page");
        back = rig
            .boards
            .page(&b, &Cursor::Before(decode_cursor(&prev).unwrap()), 10)
            .await
            .unwrap();
        assert_eq!(&back, expected);
    }
    assert!(back.prev.is_none());
    // SQL's own answer for the first page is the same page.
    let fallback = rig.db.board_slice(&b, &Cursor::Top, 10).await.unwrap();
    assert_eq!(fallback.total, 37);
    assert_eq!(fallback.records[0].player, top.entries[0].player.0);
}

async fn best_score_semantics_survive_replays(kind: Kind) {
    let rig = rig(kind).await;
    let lv = "02-cache-aside";
    play(&rig.db, "a-1", lv, &["p-a"], 800.0, 2.0, DAY).await;
    play(&rig.db, "a-2", lv, &["p-a"], 700.0, 1.0, DAY + 1).await;
    play(&rig.db, "a-3", lv, &["p-a"], 800.0, 1.5, DAY + 2).await; // same score, cheaper: best
    let page = projected(&rig, &all(lv)).await;
    assert_eq!(page.entries.len(), 1, "one entry per player");
    assert_eq!(page.entries[0].attempt_id, "a-3");
    // A rebuild from SQL (what a flushed Redis gets) gives the same board.
    rig.boards.rebuild().await.unwrap();
    let again = rig.boards.page(&all(lv), &Cursor::Top, 100).await.unwrap();
    assert_eq!(again, page);
}

async fn around_a_player_and_ranks(kind: Kind) {
    let rig = rig(kind).await;
    let lv = "03-cache-stampede";
    for i in 0..30u32 {
        play(
            &rig.db,
            &format!("a-{i}"),
            lv,
            &[&format!("p-{i:02}")],
            100.0 + f64::from(i),
            1.0,
            DAY,
        )
        .await;
    }
    let b = all(lv);
    projected(&rig, &b).await;
    let around = rig.boards.around(&b, "p-10", 5).await.unwrap().unwrap();
    let players: Vec<&str> = around.entries.iter().map(|e| e.player.0.as_str()).collect();
    assert_eq!(players, ["p-12", "p-11", "p-10", "p-09", "p-08"]);
    assert_eq!(around.entries[2].rank, 20);
    let sql = rig.db.board_around(&b, "p-10", 5).await.unwrap().unwrap();
    assert_eq!(sql.first_rank, around.entries[0].rank);
    let top = rig.boards.around(&b, "p-29", 5).await.unwrap().unwrap();
    assert_eq!(
        top.entries[0].rank, 1,
        "the leader's neighbourhood starts at the top"
    );
    assert!(
        rig.boards
            .around(&b, "p-absent", 5)
            .await
            .unwrap()
            .is_none()
    );

    // A run SQL has recorded but the index has not caught up with (its projector stopped here)
    // is found around its player all the same, from SQL: "recorded" means "on the board".
    rig.stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    play(&rig.db, "a-late", lv, &["p-late"], 500.0, 1.0, DAY).await;
    let late = rig
        .boards
        .around(&b, "p-late", 5)
        .await
        .unwrap()
        .expect("a recorded run is on the board before it is projected");
    assert_eq!(late.source, "sql");
    assert_eq!(late.entries[0].player.0, "p-late");
    assert_eq!(late.entries[0].rank, 1);
}

/// Redis only: a flush makes reads fall back to SQL (same answers) until the projector has
/// rebuilt the index, which then serves the same board again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_flush_falls_back_to_sql_then_rebuilds() {
    let rig = rig(Kind::Redis).await;
    let lv = "04-failover";
    for i in 0..12u32 {
        play(
            &rig.db,
            &format!("a-{i}"),
            lv,
            &[&format!("p-{i:02}")],
            300.0 + f64::from(i),
            1.0,
            DAY,
        )
        .await;
    }
    let b = all(lv);
    let before = projected(&rig, &b).await;
    assert_eq!(before.source, "redis");
    // "Flush" this test's keys (FLUSHALL would hit other tests sharing the server).
    let client = ::redis::Client::open(common::redis_url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{}*", rig.prefix))
        .query_async(&mut c)
        .await
        .unwrap();
    let _: () = ::redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut c)
        .await
        .unwrap();
    // Whichever answers right after the flush (SQL, or Redis if the projector has already
    // rebuilt it), the board is the same.
    let during = rig.boards.page(&b, &Cursor::Top, 100).await.unwrap();
    assert_eq!(
        with_source(&during, &before.source),
        before,
        "the same board right after the flush (from {})",
        during.source
    );
    let after = projected(&rig, &b).await;
    assert_eq!(after, before, "the rebuilt index serves the same board");
}
