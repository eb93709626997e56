//! When the stack's schedule runs next: its `Schedule` parameter, an EventBridge cron expression
//! (`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC), evaluated. `rate(...)` ticks count from
//! when the rule was made, and `L`, `W` and `#` are not evaluated: for those there is no answer here.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
/// The furthest ahead a tick is looked for.
const HORIZON_DAYS: i32 = 800;

/// The first tick of `expression` strictly after `after` (Unix seconds), or None when it cannot be told.
pub fn next_tick(expression: &str, after: i64) -> Option<i64> {
    let inner = expression.trim().strip_prefix("cron(")?.strip_suffix(')')?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minutes, hours, days, months, weekdays, years] = fields[..] else { return None };
    let minutes = field(minutes, 0, 59, &[])?;
    let hours = field(hours, 0, 23, &[])?;
    let days = field(days, 1, 31, &[])?;
    let months = field(months, 1, 12, &MONTHS)?;
    let weekdays = field(weekdays, 1, 7, &DAYS)?;
    let years = field(years, 1970, 2199, &[])?;
    // The next whole minute after `after`.
    let start = TimeZone::UTC.to_datetime(Timestamp::from_second(after.div_euclid(60) * 60 + 60).ok()?);
    let mut date: Date = start.date();
    for day in 0..HORIZON_DAYS {
        let weekday = date.weekday().to_sunday_one_offset() as u32;
        let fits = years.contains(&(date.year() as u32))
            && months.contains(&(date.month() as u32))
            && days.contains(&(date.day() as u32))
            && weekdays.contains(&weekday);
        if fits {
            let earliest = if day == 0 { (start.hour() as u32, start.minute() as u32) } else { (0, 0) };
            let tick = hours.iter().flat_map(|h| minutes.iter().map(move |m| (*h, *m))).find(|time| *time >= earliest);
            if let Some((hour, minute)) = tick {
                let at = TimeZone::UTC.to_timestamp(date.at(hour as i8, minute as i8, 0, 0)).ok()?;
                return Some(at.as_second());
            }
        }
        date = date.checked_add(1.day()).ok()?;
    }
    None
}

/// The values one field allows, ascending; `*` and `?` all of them.
fn field(text: &str, low: u32, high: u32, names: &[&str]) -> Option<Vec<u32>> {
    let value = |word: &str| -> Option<u32> {
        let number = match names.iter().position(|n| n.eq_ignore_ascii_case(word)) {
            Some(index) => index as u32 + low,
            None => word.parse().ok()?,
        };
        (low..=high).contains(&number).then_some(number)
    };
    let mut allowed = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (first, last) = match range {
            "*" | "?" => (low, high),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if step > 1 => (value(range)?, high),
                None => (value(range)?, value(range)?),
            },
        };
        allowed.extend((first..=last).step_by(step as usize));
    }
    allowed.sort_unstable();
    allowed.dedup();
    (!allowed.is_empty()).then_some(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn the_default_schedule_runs_at_two_each_night() {
        assert_eq!(next_tick("cron(0 2 * * ? *)", at("2026-12-06T23:10:00Z")), Some(at("2026-12-07T02:00:00Z")));
        assert_eq!(next_tick("cron(0 2 * * ? *)", at("2026-12-07T02:00:00Z")), Some(at("2026-12-08T02:00:00Z")));
        assert_eq!(next_tick("cron(0 2 * * ? *)", at("2026-12-07T01:59:30Z")), Some(at("2026-12-07T02:00:00Z")));
    }

    #[test]
    fn the_original_samples_weekday_schedule_and_steps_and_names() {
        // 16:00 and 20:00, Monday to Friday (2-6): a Saturday evening waits for Monday.
        let sample = "cron(0 16,20 ? * 2-6 *)";
        assert_eq!(next_tick(sample, at("2026-12-05T21:00:00Z")), Some(at("2026-12-07T16:00:00Z")));
        assert_eq!(next_tick(sample, at("2026-12-07T16:00:00Z")), Some(at("2026-12-07T20:00:00Z")));
        assert_eq!(next_tick("cron(*/15 * * * ? *)", at("2026-12-06T23:10:00Z")), Some(at("2026-12-06T23:15:00Z")));
        assert_eq!(next_tick("cron(30 1 ? * MON-FRI *)", at("2026-12-05T00:00:00Z")), Some(at("2026-12-07T01:30:00Z")));
        assert_eq!(next_tick("cron(0 0 1 JAN ? *)", at("2026-12-06T00:00:00Z")), Some(at("2027-01-01T00:00:00Z")));
    }

    #[test]
    fn what_it_cannot_tell_it_does_not_guess() {
        assert_eq!(next_tick("rate(1 day)", 0), None);
        assert_eq!(next_tick("cron(0 2 L * ? *)", 0), None);
        assert_eq!(next_tick("cron(0 2 ? * 6#3 *)", 0), None);
        assert_eq!(next_tick("cron(0 2 * *)", 0), None);
        assert_eq!(next_tick("cron(0 2 * * ? 2020)", at("2026-01-01T00:00:00Z")), None, "a year gone by");
    }
}
