//! Tiered retention over one stream of backups, as restic's `forget` keeps them: for each tier, the
//! newest backup of each calendar period (day, ISO week, month, year, in the configured time zone) is
//! kept, for the last N periods that have one; `last` keeps the newest N outright. No extra backups are
//! taken: the tiers choose among the nightly ones. A policy is written in a compact form, the same in a
//! setting and in a resource's `snapmgmt:Retention` tag: `daily=7 weekly=4 monthly=12`, `days=30`.
//! Pairs are separated by spaces, since FSx, EFS and AWS Backup refuse a comma in a tag value; commas
//! (the form read before) are still read, where they can be written (EC2 tags, parameters, settings).

use std::collections::HashMap;
use std::fmt;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use crate::model::KeepReason;

/// How many periods each tier keeps (0: the tier is off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tiers {
    pub last: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub yearly: u32,
}

/// A retention policy in the compact form: an age in days and tiers, either or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub days: Option<u32>,
    pub tiers: Tiers,
}

/// The most periods a tier may keep, and the most days: a century either way.
const MAX_COUNT: u32 = 36_500;

/// A policy as error messages show it.
const EXAMPLE: &str = "daily=7 weekly=4";

/// The `key=value` pairs of a policy, split at spaces and commas; spaces around `=` are allowed.
fn pairs(text: &str) -> Vec<String> {
    let mut tight = text.to_string();
    while tight.contains(" =") || tight.contains("= ") {
        tight = tight.replace(" =", "=").replace("= ", "=");
    }
    tight.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()).map(String::from).collect()
}

impl Written {
    /// Reads `key=value` pairs separated by spaces or commas; keys `days`, `last`, `daily`, `weekly`,
    /// `monthly`, `yearly`, each at most once, values whole numbers. The reason it cannot, otherwise.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut written = Written::default();
        let mut seen = Vec::new();
        let pairs = pairs(text);
        if pairs.is_empty() {
            return Err(format!("{text:?} is not key=value (e.g. {EXAMPLE} or days=30)"));
        }
        for pair in &pairs {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(format!("{pair:?} is not key=value (e.g. {EXAMPLE} or days=30)"));
            };
            if seen.contains(&key) {
                return Err(format!("{key} is given twice"));
            }
            seen.push(key);
            let count: u32 = value
                .parse()
                .ok()
                .filter(|n| *n <= MAX_COUNT)
                .ok_or_else(|| format!("{key}={value}: the value must be a whole number from 0 to {MAX_COUNT}"))?;
            let tiers = &mut written.tiers;
            match key {
                "days" if count == 0 => return Err("days=0 would keep nothing by age: give 1 or more".into()),
                "days" => written.days = Some(count),
                "last" => tiers.last = count,
                "daily" => tiers.daily = count,
                "weekly" => tiers.weekly = count,
                "monthly" => tiers.monthly = count,
                "yearly" => tiers.yearly = count,
                other => {
                    return Err(format!("unknown key {other:?}: expected days, last, daily, weekly, monthly, yearly"))
                }
            }
        }
        if written.days.is_none() && written.tiers.is_empty() {
            return Err("keeps nothing: give days or a tier of 1 or more".into());
        }
        Ok(written)
    }
}

impl Written {
    /// The most days this policy can keep a backup, with nightly backups: its age, or the span of its
    /// longest tier (a month counted as 31 days, a year as 366, `last=N` as N nights).
    pub fn span_days(&self) -> u32 {
        let t = self.tiers;
        [self.days.unwrap_or(0), t.last, t.daily, t.weekly * 7, t.monthly * 31, t.yearly * 366]
            .into_iter()
            .max()
            .unwrap_or(0)
    }
}

impl fmt::Display for Written {
    /// The compact form, keys in a fixed order, separated by spaces: what the report says a resource got.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tiers;
        let pairs = [
            ("days", self.days.unwrap_or(0)),
            ("last", t.last),
            ("daily", t.daily),
            ("weekly", t.weekly),
            ("monthly", t.monthly),
            ("yearly", t.yearly),
        ];
        let text: Vec<String> = pairs.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{k}={n}")).collect();
        f.write_str(&text.join(" "))
    }
}

impl Tiers {
    pub fn is_empty(&self) -> bool {
        *self == Tiers::default()
    }

    /// The backups the tiers keep, with the first tier that keeps each (last, daily, weekly, monthly,
    /// yearly). `backups` are (id, created, Unix seconds): the completed backups of ours only.
    pub fn keep<'b>(&self, time_zone: &TimeZone, backups: &[(&'b str, i64)]) -> HashMap<&'b str, KeepReason> {
        let mut newest_first = backups.to_vec();
        newest_first.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(a.0)));
        let mut rules = [
            Rule::new(self.last, Period::Each, KeepReason::KeptLast),
            Rule::new(self.daily, Period::Day, KeepReason::KeptDaily),
            Rule::new(self.weekly, Period::Week, KeepReason::KeptWeekly),
            Rule::new(self.monthly, Period::Month, KeepReason::KeptMonthly),
            Rule::new(self.yearly, Period::Year, KeepReason::KeptYearly),
        ];
        let mut kept = HashMap::new();
        for (index, (id, created)) in newest_first.iter().enumerate() {
            let date = Timestamp::from_second(*created).map(|t| time_zone.to_datetime(t).date()).ok();
            for rule in rules.iter_mut() {
                // Every tier sees every backup: the newest of a week counts for the week even when the
                // day tier kept it first.
                if rule.left == 0 {
                    continue;
                }
                let bucket = rule.period.of(index, date);
                if rule.last_bucket != Some(bucket) {
                    rule.last_bucket = Some(bucket);
                    rule.left -= 1;
                    kept.entry(*id).or_insert(rule.reason);
                }
            }
        }
        kept
    }
}

/// One tier as it walks the backups newest first: periods left to keep, the period it kept last.
struct Rule {
    left: u32,
    period: Period,
    reason: KeepReason,
    last_bucket: Option<(i32, i32, i32)>,
}

impl Rule {
    fn new(left: u32, period: Period, reason: KeepReason) -> Self {
        Rule { left, period, reason, last_bucket: None }
    }
}

#[derive(Clone, Copy)]
enum Period {
    /// Each backup is a period of its own (`last`).
    Each,
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    /// The period a backup falls in. A backup whose time cannot be placed is a period of its own.
    fn of(self, index: usize, date: Option<jiff::civil::Date>) -> (i32, i32, i32) {
        let own = (i32::MIN, i32::MIN, index as i32);
        let Some(d) = date else { return own };
        match self {
            Period::Each => own,
            Period::Day => (d.year().into(), d.month().into(), d.day().into()),
            Period::Week => {
                let week = d.iso_week_date();
                (week.year().into(), week.week().into(), 0)
            }
            Period::Month => (d.year().into(), d.month().into(), 0),
            Period::Year => (d.year().into(), 0, 0),
        }
    }
}

/// A time zone by its IANA name (`Europe/Berlin`) or `UTC`; the reason it is not one, otherwise.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| format!("{name:?} is not a time zone name (e.g. UTC, Europe/Berlin)"))
}

#[cfg(test)]
mod tests;
