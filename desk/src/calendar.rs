//! Business time: opening hours, working days, holidays and a time zone, and the response
//! deadlines computed on them. Critical tickets run on the clock (hours, day and night); high
//! tickets are due by the end of the business day they arrive in (the next one when they
//! arrive outside hours); medium and low are due after a number of business days' worth of
//! business time. Pure: instants in, instants out.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use tether_protocol::Priority;

/// When the desk works.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    open: NaiveTime,
    close: NaiveTime,
    days: [bool; 7],
    holidays: HashSet<NaiveDate>,
    critical: Duration,
    medium_days: u32,
    low_days: u32,
}

/// Why a calendar cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("desk calendar: {0}")]
pub struct CalendarError(pub String);

impl Calendar {
    /// A calendar from its settings as written in the configuration.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        timezone: &str,
        hours: &str,
        days: &[String],
        holidays: &[String],
        critical_hours: f64,
        medium_days: u32,
        low_days: u32,
    ) -> Result<Calendar, CalendarError> {
        let bad = |m: String| CalendarError(m);
        let tz: Tz =
            timezone.parse().map_err(|_| bad(format!("unknown time zone {timezone:?}")))?;
        let (open, close) = hours
            .split_once('-')
            .and_then(|(a, b)| Some((parse_time(a)?, parse_time(b)?)))
            .filter(|(a, b)| a < b)
            .ok_or_else(|| bad(format!("business hours {hours:?} are not like 09:00-17:00")))?;
        let mut mask = [false; 7];
        for d in days {
            let day: Weekday = d.parse().map_err(|_| bad(format!("unknown working day {d:?}")))?;
            mask[day.num_days_from_monday() as usize] = true;
        }
        if !mask.iter().any(|d| *d) {
            return Err(bad("no working days".into()));
        }
        let holidays = holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h, "%Y-%m-%d")
                    .map_err(|_| bad(format!("holiday {h:?} is not YYYY-MM-DD")))
            })
            .collect::<Result<HashSet<_>, _>>()?;
        if critical_hours.is_nan() || critical_hours <= 0.0 || medium_days == 0 || low_days == 0 {
            return Err(bad("deadlines must be positive".into()));
        }
        Ok(Calendar {
            tz,
            open,
            close,
            days: mask,
            holidays,
            critical: Duration::milliseconds((critical_hours * 3_600_000.0) as i64),
            medium_days,
            low_days,
        })
    }

    /// The response deadline for a ticket of `priority` logged at `at` (Unix seconds).
    pub fn deadline(&self, priority: Priority, at: i64) -> i64 {
        let t = utc(at);
        let due = match priority {
            Priority::Critical => t + self.critical,
            Priority::High => self.end_of_business_day(t),
            Priority::Medium => self.add_business(t, self.day_length() * self.medium_days as i32),
            Priority::Low => self.add_business(t, self.day_length() * self.low_days as i32),
        };
        due.timestamp()
    }

    fn day_length(&self) -> Duration {
        self.close - self.open
    }

    fn is_business_day(&self, d: NaiveDate) -> bool {
        self.days[d.weekday().num_days_from_monday() as usize] && !self.holidays.contains(&d)
    }

    /// The instant `time` on local date `d` (the earlier one if a clock change doubles it, the
    /// first after a gap if it skips it).
    fn at(&self, d: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let naive = d.and_time(time);
        match self.tz.from_local_datetime(&naive).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => {
                self.tz.from_utc_datetime(&(naive - Duration::hours(1))).with_timezone(&Utc)
                    + Duration::hours(1)
            }
        }
    }

    /// The business day containing `t`, or the next one, with that day's open and close.
    fn day_from(&self, t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let mut d = t.with_timezone(&self.tz).date_naive();
        loop {
            if self.is_business_day(d) {
                let close = self.at(d, self.close);
                if t < close {
                    return (self.at(d, self.open).max(t), close);
                }
            }
            d = d.succ_opt().unwrap_or(d);
        }
    }

    /// The close of the business day `t` falls in, or of the next one if `t` is outside hours.
    pub fn end_of_business_day(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let local = t.with_timezone(&self.tz);
        let d = local.date_naive();
        let in_hours =
            self.is_business_day(d) && t >= self.at(d, self.open) && t < self.at(d, self.close);
        if in_hours { self.at(d, self.close) } else { self.day_from(t).1 }
    }

    /// `t` plus `amount` of business time.
    pub fn add_business(&self, t: DateTime<Utc>, amount: Duration) -> DateTime<Utc> {
        let mut left = amount;
        let mut now = t;
        loop {
            let (start, close) = self.day_from(now);
            let available = close - start;
            if left <= available {
                return start + left;
            }
            left -= available;
            now = close;
        }
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

fn utc(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(at, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Calendar {
        let days: Vec<String> =
            ["mon", "tue", "wed", "thu", "fri"].iter().map(|s| s.to_string()).collect();
        Calendar::new(
            "Europe/Berlin",
            "09:00-17:00",
            &days,
            &["2026-12-25".into(), "2026-12-24".into()],
            2.0,
            2,
            5,
        )
        .unwrap()
    }

    /// Unix seconds for a local Berlin time.
    fn local(s: &str) -> i64 {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::Berlin.from_local_datetime(&naive).unwrap().timestamp()
    }

    fn show(at: i64) -> String {
        utc(at).with_timezone(&chrono_tz::Europe::Berlin).format("%a %Y-%m-%d %H:%M").to_string()
    }

    #[test]
    fn critical_runs_on_the_clock() {
        let c = berlin();
        // Saturday night still gets two hours, not Monday morning.
        assert_eq!(
            show(c.deadline(Priority::Critical, local("2026-11-21 23:30"))),
            "Sun 2026-11-22 01:30"
        );
    }

    #[test]
    fn high_is_due_by_the_end_of_the_business_day() {
        let c = berlin();
        assert_eq!(
            show(c.deadline(Priority::High, local("2026-11-23 10:00"))),
            "Mon 2026-11-23 17:00"
        );
        // After hours: end of the next business day.
        assert_eq!(
            show(c.deadline(Priority::High, local("2026-11-23 18:30"))),
            "Tue 2026-11-24 17:00"
        );
        // Before opening counts as that day.
        assert_eq!(
            show(c.deadline(Priority::High, local("2026-11-24 07:00"))),
            "Tue 2026-11-24 17:00"
        );
        // Friday evening: Monday.
        assert_eq!(
            show(c.deadline(Priority::High, local("2026-11-27 17:00"))),
            "Mon 2026-11-30 17:00"
        );
    }

    #[test]
    fn medium_and_low_count_business_days() {
        let c = berlin();
        assert_eq!(
            show(c.deadline(Priority::Medium, local("2026-11-24 10:00"))),
            "Thu 2026-11-26 10:00"
        );
        // Across a weekend.
        assert_eq!(
            show(c.deadline(Priority::Medium, local("2026-11-27 16:00"))),
            "Tue 2026-12-01 16:00"
        );
        // Logged on a Saturday: the clock starts Monday 09:00.
        assert_eq!(
            show(c.deadline(Priority::Medium, local("2026-11-28 12:00"))),
            "Tue 2026-12-01 17:00"
        );
        assert_eq!(
            show(c.deadline(Priority::Low, local("2026-11-23 09:00"))),
            "Fri 2026-11-27 17:00"
        );
    }

    #[test]
    fn holidays_are_skipped() {
        let c = berlin();
        // Wed 23 Dec 15:00 + 2 business days, with Thu 24 and Fri 25 off: Mon 28th, Tue 29th.
        assert_eq!(
            show(c.deadline(Priority::Medium, local("2026-12-23 15:00"))),
            "Tue 2026-12-29 15:00"
        );
        assert_eq!(
            show(c.deadline(Priority::High, local("2026-12-23 18:00"))),
            "Mon 2026-12-28 17:00"
        );
    }

    #[test]
    fn time_zones_and_clock_changes_are_respected() {
        let days: Vec<String> =
            ["mon", "tue", "wed", "thu", "fri"].iter().map(|s| s.to_string()).collect();
        let ny = Calendar::new("America/New_York", "09:00-17:00", &days, &[], 2.0, 2, 5).unwrap();
        // 14:00 UTC on Monday 23 Nov is 09:00 in New York: a full business day ahead.
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap().timestamp();
        assert_eq!(utc(ny.deadline(Priority::High, at)).to_rfc3339(), "2026-11-23T22:00:00+00:00");
        // Berlin's clocks go back on Sun 25 Oct 2026: the Friday-to-Monday medium deadline
        // lands at the same local time.
        let c = berlin();
        assert_eq!(
            show(c.deadline(Priority::Medium, local("2026-10-22 11:00"))),
            "Mon 2026-10-26 11:00"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let days = vec!["mon".to_string()];
        assert!(Calendar::new("Mars/Olympus", "09:00-17:00", &days, &[], 2.0, 2, 5).is_err());
        assert!(Calendar::new("UTC", "17:00-09:00", &days, &[], 2.0, 2, 5).is_err());
        assert!(Calendar::new("UTC", "09:00-17:00", &[], &[], 2.0, 2, 5).is_err());
        assert!(Calendar::new("UTC", "09:00-17:00", &["moonday".into()], &[], 2.0, 2, 5).is_err());
        assert!(
            Calendar::new("UTC", "09:00-17:00", &days, &["25/12/2026".into()], 2.0, 2, 5).is_err()
        );
        assert!(Calendar::new("UTC", "09:00-17:00", &days, &[], 0.0, 2, 5).is_err());
    }
}
