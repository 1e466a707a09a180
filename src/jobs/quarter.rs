//! Calendar quarters of the compliance year, in Taipei.

use chrono::{Datelike, NaiveDate};

/// The last day of quarter `q` (1 to 4) of `year`: Mar 31, Jun 30, Sep 30 or
/// Dec 31.
pub fn last_day(year: i32, quarter: u32) -> Option<NaiveDate> {
    let (month, day) = match quarter {
        1 => (3, 31),
        2 => (6, 30),
        3 => (9, 30),
        4 => (12, 31),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The latest quarter that ended before `today`: on Jan 1 2027 it is Q4 2026.
pub fn last_ended(today: NaiveDate) -> (i32, u32) {
    let current = today.month0() / 3 + 1;
    if current == 1 {
        (today.year() - 1, 4)
    } else {
        (today.year(), current - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn quarters_end_on_the_last_day_of_their_third_month() {
        assert_eq!(last_day(2026, 1), Some(day(2026, 3, 31)));
        assert_eq!(last_day(2026, 2), Some(day(2026, 6, 30)));
        assert_eq!(last_day(2026, 3), Some(day(2026, 9, 30)));
        assert_eq!(last_day(2026, 4), Some(day(2026, 12, 31)));
        assert_eq!(last_day(2026, 5), None);
        assert_eq!(last_day(2026, 0), None);
    }

    #[test]
    fn the_january_run_computes_q4_of_the_year_before() {
        assert_eq!(last_ended(day(2027, 1, 1)), (2026, 4));
        assert_eq!(last_ended(day(2026, 12, 31)), (2026, 3));
        assert_eq!(last_ended(day(2026, 4, 1)), (2026, 1));
        assert_eq!(last_ended(day(2026, 3, 31)), (2025, 4));
        assert_eq!(last_ended(day(2026, 7, 1)), (2026, 2));
        assert_eq!(last_ended(day(2026, 10, 1)), (2026, 3));
    }
}
