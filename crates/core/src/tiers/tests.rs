use std::collections::{BTreeMap, BTreeSet};

use super::*;

const DAY: i64 = 86_400;
/// 2026-11-27T02:00:00Z, a Friday: the nightly backup of the last night of the history.
const LAST_NIGHT: i64 = 1_795_744_800;

fn utc() -> TimeZone {
    time_zone("UTC").unwrap()
}

#[test]
fn reads_the_compact_form_and_writes_it_back() {
    let written = Written::parse("daily=7 weekly=4 monthly=12").unwrap();
    assert_eq!(written.tiers, Tiers { daily: 7, weekly: 4, monthly: 12, ..Tiers::default() });
    assert_eq!(written.days, None);
    assert_eq!(written.to_string(), "daily=7 weekly=4 monthly=12");
    assert_eq!(Written::parse("days=30").unwrap().to_string(), "days=30");
    assert_eq!(Written::parse("yearly=3 last=2 days=10").unwrap().to_string(), "days=10 last=2 yearly=3");
}

#[test]
fn still_reads_the_comma_form_and_loose_spacing() {
    let spaced = Written::parse("daily=7 weekly=4 monthly=12").unwrap();
    for text in ["daily=7,weekly=4,monthly=12", "daily=7, weekly=4,monthly=12", "  daily = 7  weekly=4\tmonthly= 12 "] {
        assert_eq!(Written::parse(text).unwrap(), spaced, "{text:?}");
    }
}

#[test]
fn refuses_what_it_cannot_read_saying_why() {
    for (text, says) in [
        ("", "key=value"),
        (" , ", "key=value"),
        ("daily", "key=value"),
        ("daily=seven", "whole number"),
        ("daily=-1", "whole number"),
        ("hourly=24", "unknown key"),
        ("daily=7,daily=3", "twice"),
        ("daily=7 daily=3", "twice"),
        ("days=0", "days=0"),
        ("daily=0", "keeps nothing"),
        ("weekly=99999999", "whole number"),
    ] {
        let err = Written::parse(text).unwrap_err();
        assert!(err.contains(says), "{text:?}: {err}");
    }
}

/// A backup every night at 02:00 UTC for `nights` nights up to LAST_NIGHT; ids are their dates.
fn nightly(nights: i64) -> Vec<(String, i64)> {
    (0..nights)
        .map(|n| {
            let at = LAST_NIGHT - n * DAY;
            let date = utc().to_datetime(Timestamp::from_second(at).unwrap()).date();
            (date.to_string(), at)
        })
        .collect()
}

fn kept(tiers: Tiers, tz: &TimeZone, backups: &[(String, i64)]) -> BTreeMap<String, KeepReason> {
    let refs: Vec<(&str, i64)> = backups.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    tiers.keep(tz, &refs).into_iter().map(|(id, why)| (id.to_string(), why)).collect()
}

#[test]
fn a_year_of_nightly_backups_keeps_exactly_its_tiers() {
    let tiers = Tiers { daily: 7, weekly: 4, monthly: 12, yearly: 3, ..Tiers::default() };
    let kept = kept(tiers, &utc(), &nightly(400));

    let daily: BTreeSet<&str> =
        kept.iter().filter(|(_, w)| **w == KeepReason::KeptDaily).map(|(i, _)| i.as_str()).collect();
    assert_eq!(daily.len(), 7);
    assert!(daily.contains("2026-11-27") && daily.contains("2026-11-21"));
    // The newest of each of the last 4 ISO weeks: this week's is last night's (kept as daily); the three
    // before end on Sundays.
    let weekly: Vec<&str> =
        kept.iter().filter(|(_, w)| **w == KeepReason::KeptWeekly).map(|(i, _)| i.as_str()).collect();
    assert_eq!(weekly, ["2026-11-08", "2026-11-15"], "2026-11-22 is kept as daily already");
    // The newest of each of the last 12 months: month ends, and this month's last night.
    let monthly: Vec<&str> =
        kept.iter().filter(|(_, w)| **w == KeepReason::KeptMonthly).map(|(i, _)| i.as_str()).collect();
    assert_eq!(monthly.len(), 11);
    assert_eq!(monthly.first(), Some(&"2025-12-31"));
    assert_eq!(monthly.last(), Some(&"2026-10-31"));
    // The newest of each of the last 3 years that have one: 2026's is last night's, 2025's its last day; the
    // history begins in 2025.
    let yearly: Vec<&str> =
        kept.iter().filter(|(_, w)| **w == KeepReason::KeptYearly).map(|(i, _)| i.as_str()).collect();
    assert!(yearly.is_empty(), "2025-12-31 is kept as monthly already: {yearly:?}");
    assert_eq!(kept.len(), 7 + 2 + 11);
}

#[test]
fn last_keeps_the_newest_outright_and_periods_follow_the_time_zone() {
    let backups = vec![("late".to_string(), LAST_NIGHT + 21 * 3600 + 1800), ("early".to_string(), LAST_NIGHT)];
    // 23:30 UTC and 02:00 UTC are the same day in UTC, two days in Berlin (00:30 the next day there).
    let daily = Tiers { daily: 2, ..Tiers::default() };
    assert_eq!(kept(daily, &utc(), &backups).len(), 1);
    assert_eq!(kept(daily, &time_zone("Europe/Berlin").unwrap(), &backups).len(), 2);
    let last = Tiers { last: 1, ..Tiers::default() };
    assert_eq!(kept(last, &utc(), &backups).into_keys().collect::<Vec<_>>(), ["late"]);
}

#[test]
fn a_tier_counts_periods_that_have_a_backup_not_calendar_periods() {
    // A month without backups does not use up a monthly period.
    let backups: Vec<(String, i64)> = [0, 1, 3].iter().map(|m| (format!("m{m}"), LAST_NIGHT - m * 31 * DAY)).collect();
    let monthly = Tiers { monthly: 3, ..Tiers::default() };
    assert_eq!(kept(monthly, &utc(), &backups).len(), 3);
}

#[test]
fn an_unknown_time_zone_is_named() {
    assert!(time_zone("Mars/Olympus").unwrap_err().contains("Mars/Olympus"));
    assert!(time_zone("Europe/Berlin").is_ok());
}

#[test]
fn no_tier_keeps_a_nightly_backup_older_than_its_span() {
    for text in ["daily=7", "weekly=4", "monthly=12", "yearly=2", "last=30", "daily=7 weekly=5 monthly=3"] {
        let written = Written::parse(text).unwrap();
        let kept = kept(written.tiers, &utc(), &nightly(900));
        let oldest = kept.keys().map(|date| nightly(900).iter().position(|(d, _)| d == date).unwrap()).max().unwrap();
        // Night n is n days old: the oldest kept is within the span the backstop is checked against.
        assert!((oldest as u32) < written.span_days(), "{text}: kept a night {oldest} days old");
    }
    assert_eq!(Written::parse("days=30 monthly=12").unwrap().span_days(), 372);
}
