//! The daily challenge: one campaign level and one seed per UTC day, the same for everyone.
//! Invariant: the choice is a pure function of the date and the set of level ids (no stored
//! state, no clock, no RNG), so every server and every client computes the same challenge.
//!
//! The rule (also in `levels/README.md`):
//! - `day` = days since 1970-01-01, `n` = number of levels, `cycle = day / n`, `slot = day % n`;
//! - the levels of a cycle are ordered by SHA-256 of `"stampede-daily:<cycle>:<level id>"`
//!   (ties by id); the level is the one at `slot`. Every level therefore comes up exactly once
//!   every `n` days, in a fresh order each cycle, and a new level only inserts itself;
//! - the seed is the first 8 bytes (big-endian) of SHA-256 of `"stampede-daily:<YYYY-MM-DD>"`,
//!   masked to 53 bits so a browser reads it exactly (`MAX_SAFE_SEED`).

use serde::Serialize;
use sha2::{Digest, Sha256};
use stampede_sim::level::MAX_SAFE_SEED;

use crate::Catalog;

/// Today's (or any day's) challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Daily {
    /// The UTC date, `YYYY-MM-DD`.
    pub date: String,
    /// Level id.
    pub level: String,
    /// Seed to play it with (≤ 2^53 − 1).
    pub seed: u64,
}

/// The challenge for `date` over the catalog's levels; `None` only when the catalog is empty.
pub fn daily(catalog: &Catalog, date: time::Date) -> Option<Daily> {
    let ids: Vec<&str> = catalog.all().map(|l| l.id.as_str()).collect();
    daily_from_ids(&ids, date)
}

/// The same rule over a plain list of level ids (order does not matter).
pub fn daily_from_ids(ids: &[&str], date: time::Date) -> Option<Daily> {
    if ids.is_empty() {
        return None;
    }
    let day = days_since_epoch(date);
    let n = ids.len() as i64;
    // Euclidean division keeps dates before 1970 on the same rule instead of going negative.
    let (cycle, slot) = (day.div_euclid(n), day.rem_euclid(n) as usize);
    let mut order: Vec<([u8; 8], &str)> = ids
        .iter()
        .map(|id| (head(&format!("stampede-daily:{cycle}:{id}")), *id))
        .collect();
    order.sort_unstable();
    let date_text = format_date(date);
    let seed = u64::from_be_bytes(head(&format!("stampede-daily:{date_text}"))) & MAX_SAFE_SEED;
    Some(Daily {
        date: date_text,
        level: order[slot].1.to_owned(),
        seed,
    })
}

/// `YYYY-MM-DD`, the form hashed and returned.
pub fn format_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Parses `YYYY-MM-DD`.
///
/// # Errors
/// When the text is not a valid calendar date in that form.
pub fn parse_date(text: &str) -> Result<time::Date, time::error::Parse> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
}

fn days_since_epoch(date: time::Date) -> i64 {
    i64::from(date.to_julian_day()) - i64::from(time::macros::date!(1970 - 01 - 01).to_julian_day())
}

/// The first 8 bytes of SHA-256 of `text`.
fn head(text: &str) -> [u8; 8] {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const IDS: [&str; 7] = ["01-a", "02-b", "03-c", "04-d", "05-e", "06-f", "07-g"];

    #[test]
    fn a_fixed_date_follows_the_rule() {
        let d = date!(2026 - 11 - 30);
        let got = daily_from_ids(&IDS, d).expect("levels");
        // Recompute by the documented rule, step by step.
        let day = 20_787_i64; // 2026-11-30 is day 20 787 after 1970-01-01
        assert_eq!(days_since_epoch(d), day);
        let (cycle, slot) = (day / 7, (day % 7) as usize);
        let mut keyed: Vec<(Vec<u8>, &str)> = IDS
            .iter()
            .map(|id| {
                let h = Sha256::digest(format!("stampede-daily:{cycle}:{id}").as_bytes());
                (h[..8].to_vec(), *id)
            })
            .collect();
        keyed.sort();
        assert_eq!(got.level, keyed[slot].1);
        let h = Sha256::digest(b"stampede-daily:2026-11-30");
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[..8]);
        assert_eq!(got.seed, u64::from_be_bytes(b) & MAX_SAFE_SEED);
        assert_eq!(got.date, "2026-11-30");
        // Stable: the same call gives the same answer, whatever order the ids come in.
        let mut reversed = IDS;
        reversed.reverse();
        assert_eq!(daily_from_ids(&reversed, d), Some(got));
    }

    #[test]
    fn consecutive_days_differ() {
        let mut d = date!(2026 - 01 - 01);
        for _ in 0..400 {
            let next = d.next_day().expect("in range");
            let (a, b) = (
                daily_from_ids(&IDS, d).expect("levels"),
                daily_from_ids(&IDS, next).expect("levels"),
            );
            assert_ne!(a.seed, b.seed, "{} and {}", a.date, b.date);
            assert_ne!(a.date, b.date);
            d = next;
        }
    }

    #[test]
    fn every_level_comes_up_within_a_year_and_once_per_cycle() {
        let ids: Vec<String> = (0..24).map(|i| format!("{i:02}-level")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut d = date!(2027 - 01 - 01);
        let mut seen = std::collections::BTreeMap::<String, u32>::new();
        let mut per_cycle = std::collections::BTreeMap::<i64, Vec<String>>::new();
        for _ in 0..365 {
            let c = daily_from_ids(&ids, d).expect("levels");
            assert!(c.seed <= MAX_SAFE_SEED);
            *seen.entry(c.level.clone()).or_default() += 1;
            per_cycle
                .entry(days_since_epoch(d) / 24)
                .or_default()
                .push(c.level);
            d = d.next_day().expect("in range");
        }
        assert_eq!(seen.len(), ids.len(), "levels never chosen in a year");
        for (cycle, levels) in per_cycle {
            let mut unique = levels.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                levels.len(),
                "a level repeats in cycle {cycle}"
            );
        }
    }

    #[test]
    fn seeds_stay_in_the_browser_safe_range_and_vary() {
        let mut d = date!(1969 - 12 - 25);
        let mut seeds = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            let c = daily_from_ids(&IDS, d).expect("levels");
            assert!(c.seed <= MAX_SAFE_SEED);
            seeds.insert(c.seed);
            d = d.next_day().expect("in range");
        }
        assert_eq!(seeds.len(), 1000);
    }

    #[test]
    fn empty_catalog_has_no_challenge_and_dates_round_trip() {
        assert_eq!(daily_from_ids(&[], date!(2026 - 11 - 30)), None);
        let d = parse_date("2026-02-03").expect("valid");
        assert_eq!(format_date(d), "2026-02-03");
        assert!(parse_date("2026-02-30").is_err());
    }

    #[test]
    fn the_real_campaign_has_a_challenge_today() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../levels"));
        let catalog = Catalog::load(dir).expect("levels load");
        let c = daily(&catalog, date!(2026 - 11 - 30)).expect("levels");
        assert!(catalog.get(&c.level).is_some());
    }
}
