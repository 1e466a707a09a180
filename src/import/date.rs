//! Reading the dates that Taiwanese spreadsheets contain.
//!
//! Government offices write dates in the ROC (Minguo) calendar, `115/03/15`
//! for 2026-03-15, as often as in the Gregorian one, and with any of `-`, `/`
//! and `.`; Excel also turns a date into a bare number such as `1150315` when
//! the cell is formatted as text. The year's digit count tells the calendars
//! apart: 1 to 3 digits is an ROC year, 4 digits a Gregorian one.

use chrono::NaiveDate;

use super::value::{clean, quote};

/// The Gregorian year of ROC year 0: ROC year 1 is 1912.
const ROC_OFFSET: i32 = 1911;

/// The forms listed to a user whose date was not understood.
const ACCEPTED_FORMS: &str = "2026-03-15, 2026/3/15, 115/3/15, 1150315, 20260315 or 民國115年3月15日";

/// A date split into its digit groups, before the calendar is applied.
#[derive(Debug, PartialEq, Eq)]
struct Parts<'a> {
    year: &'a str,
    month: &'a str,
    day: &'a str,
}

/// Parses a date in any of the forms personnel offices use:
/// `2026-03-15`, `2026/3/15`, `2026.3.15`, `115/03/15`, `115.3.15`,
/// `115-3-15`, `1150315`, `20260315`, `民國115年3月15日`, `115年3月15日` and
/// `2026年3月15日`.
///
/// Full-width digits and spaces are accepted, as everywhere in imports. An
/// impossible day such as 2026-02-30 is reported as such, since a clear form
/// with a wrong day is a different mistake from an unreadable cell.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let cleaned = clean(text);
    if cleaned.is_empty() {
        return Err(format!("must be a date such as {ACCEPTED_FORMS}"));
    }

    let compact: String = cleaned.chars().filter(|c| *c != ' ').collect();
    let parts = split(&compact).ok_or_else(|| not_a_date(&cleaned))?;

    to_date(&parts, &cleaned)
}

/// Splits a cleaned date without spaces into year, month and day, checking
/// only the shape: digits, and how many of them each part may have.
fn split(text: &str) -> Option<Parts<'_>> {
    let parts = if let Some(rest) = strip_roc_prefix(text) {
        let parts = split_chinese(rest)?;
        (parts.year.len() <= 3).then_some(parts)?
    } else if text.contains('年') {
        split_chinese(text)?
    } else if text.bytes().all(|b| b.is_ascii_digit()) {
        split_compact(text)?
    } else {
        split_separated(text)?
    };

    has_valid_shape(&parts).then_some(parts)
}

fn strip_roc_prefix(text: &str) -> Option<&str> {
    text.strip_prefix("中華民國").or_else(|| text.strip_prefix("民國"))
}

/// `115年3月15日`, with the final `日` optional as people often leave it out.
fn split_chinese(text: &str) -> Option<Parts<'_>> {
    let text = text.strip_suffix('日').unwrap_or(text);
    let (year, rest) = text.split_once('年')?;
    let (month, day) = rest.split_once('月')?;
    Some(Parts { year, month, day })
}

/// `1150315` (ROC) or `20260315` (Gregorian): two digits each for month and day.
fn split_compact(text: &str) -> Option<Parts<'_>> {
    let year_len = match text.len() {
        7 => 3,
        8 => 4,
        _ => return None,
    };
    let (year, rest) = text.split_at(year_len);
    let (month, day) = rest.split_at(2);
    Some(Parts { year, month, day })
}

/// `2026-03-15`, `115/3/15`, `2026.3.15`: one separator, used twice.
fn split_separated(text: &str) -> Option<Parts<'_>> {
    let separator = text.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut pieces = text.split(separator);
    let (year, month, day) = (pieces.next()?, pieces.next()?, pieces.next()?);
    if pieces.next().is_some() {
        return None;
    }
    Some(Parts { year, month, day })
}

/// Only ASCII digits, 1 to 4 for the year and 1 or 2 for month and day; this
/// also keeps every later `parse` within range.
fn has_valid_shape(parts: &Parts<'_>) -> bool {
    let digits = |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    digits(parts.year, 4) && digits(parts.month, 2) && digits(parts.day, 2)
}

/// Applies the calendar: converts an ROC year and checks the day exists.
fn to_date(parts: &Parts<'_>, cleaned: &str) -> Result<NaiveDate, String> {
    let number = |s: &str| s.parse::<u32>().map_err(|_| not_a_date(cleaned));
    let (year, month, day) = (number(parts.year)?, number(parts.month)?, number(parts.day)?);

    let year = i32::try_from(year).map_err(|_| not_a_date(cleaned))?;
    let year = if parts.year.len() <= 3 {
        if year == 0 {
            return Err(format!(
                "{} is not a date: the ROC calendar has no year 0",
                quote(cleaned)
            ));
        }
        year + ROC_OFFSET
    } else if year <= ROC_OFFSET {
        return Err(format!(
            "{} is not a date: years before {} (ROC year 1) are not accepted",
            quote(cleaned),
            ROC_OFFSET + 1
        ));
    } else {
        year
    };

    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| not_on_calendar(cleaned, year, month, day))
}

fn not_a_date(cleaned: &str) -> String {
    format!("{} is not a date; write it as {ACCEPTED_FORMS}", quote(cleaned))
}

/// Names the Gregorian date, so that an ROC date's mistake is visible too
/// (`"115/02/29" is not a date: 2026-02-29 is not a calendar date`).
fn not_on_calendar(cleaned: &str, year: i32, month: u32, day: u32) -> String {
    let iso = format!("{year:04}-{month:02}-{day:02}");
    if iso == cleaned {
        format!("{iso} is not a calendar date")
    } else {
        format!("{} is not a date: {iso} is not a calendar date", quote(cleaned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn refuses_gregorian_years_before_roc_year_1() {
        for text in ["0000-01-01", "0000/02/29", "00000101", "1911-12-31", "0001年1月1日"] {
            let reason = parse_date(text).unwrap_err();
            assert!(reason.contains("years before 1912"), "{text}: {reason}");
        }
        assert_eq!(parse_date("1912-01-01"), Ok(ymd(1912, 1, 1)));
    }

    #[test]
    fn parses_gregorian_forms() {
        for text in ["2026-03-15", "2026/3/15", "2026.3.15", "2026/03/15", "2026-3-15"] {
            assert_eq!(parse_date(text), Ok(ymd(2026, 3, 15)), "{text}");
        }
        assert_eq!(parse_date("2026.12.1"), Ok(ymd(2026, 12, 1)));
    }

    #[test]
    fn parses_roc_forms() {
        for text in ["115/03/15", "115/3/15", "115.3.15", "115-3-15", "115-03-15"] {
            assert_eq!(parse_date(text), Ok(ymd(2026, 3, 15)), "{text}");
        }
        assert_eq!(parse_date("99/1/2"), Ok(ymd(2010, 1, 2)));
        assert_eq!(parse_date("1/1/1"), Ok(ymd(1912, 1, 1)));
    }

    #[test]
    fn parses_compact_forms() {
        assert_eq!(parse_date("1150315"), Ok(ymd(2026, 3, 15)));
        assert_eq!(parse_date("20260315"), Ok(ymd(2026, 3, 15)));
        assert_eq!(parse_date("0990102"), Ok(ymd(2010, 1, 2)));
    }

    #[test]
    fn parses_chinese_forms() {
        for text in [
            "民國115年3月15日",
            "115年3月15日",
            "2026年3月15日",
            "中華民國115年03月15日",
            "115年3月15",
        ] {
            assert_eq!(parse_date(text), Ok(ymd(2026, 3, 15)), "{text}");
        }
    }

    #[test]
    fn accepts_full_width_digits_and_spaces() {
        assert_eq!(parse_date("１１５／０３／１５"), Ok(ymd(2026, 3, 15)));
        assert_eq!(parse_date(" 民國 115 年 3 月 15 日 "), Ok(ymd(2026, 3, 15)));
        assert_eq!(parse_date("\u{3000}2026-03-15\u{3000}"), Ok(ymd(2026, 3, 15)));
        assert_eq!(parse_date("2026 / 3 / 15"), Ok(ymd(2026, 3, 15)));
    }

    #[test]
    fn knows_roc_leap_years() {
        assert_eq!(parse_date("113/02/29"), Ok(ymd(2024, 2, 29)));
        assert_eq!(parse_date("1130229"), Ok(ymd(2024, 2, 29)));

        let reason = parse_date("115/02/29").unwrap_err();
        assert_eq!(reason, "\"115/02/29\" is not a date: 2026-02-29 is not a calendar date");
    }

    #[test]
    fn reports_impossible_days_as_such() {
        assert_eq!(
            parse_date("2026-02-30").unwrap_err(),
            "2026-02-30 is not a calendar date"
        );
        assert_eq!(
            parse_date("2026/4/31").unwrap_err(),
            "\"2026/4/31\" is not a date: 2026-04-31 is not a calendar date"
        );
        assert!(
            parse_date("115/13/01")
                .unwrap_err()
                .contains("2026-13-01 is not a calendar date")
        );
        assert!(
            parse_date("20260100")
                .unwrap_err()
                .contains("2026-01-00 is not a calendar date")
        );
        assert!(
            parse_date("民國115年2月30日")
                .unwrap_err()
                .contains("2026-02-30 is not a calendar date")
        );
    }

    #[test]
    fn roc_year_zero_does_not_exist() {
        assert!(parse_date("0/1/1").unwrap_err().contains("no year 0"));
        assert!(parse_date("0000315").unwrap_err().contains("no year 0"));
    }

    #[test]
    fn lists_the_accepted_forms_for_unreadable_dates() {
        let unreadable = [
            "tomorrow",
            "2026-03",
            "2026-03-15-01",
            "2026/03-15",
            "20260-3-15",
            "2026-003-15",
            "115031",
            "115031500",
            "民國2026年3月15日",
            "115年3月",
            "年月日",
            "民國",
            "3/15",
            "-/-",
            "2026--15",
            "１１５／03／ｘ",
            "١١٥/٣/١٥",
            "2026-03-15 10:00",
        ];
        for text in unreadable {
            let reason = parse_date(text).unwrap_err();
            assert!(
                reason.contains("is not a date; write it as 2026-03-15"),
                "{text}: {reason}"
            );
        }
        assert_eq!(
            parse_date("115/3/1x").unwrap_err(),
            format!("\"115/3/1x\" is not a date; write it as {ACCEPTED_FORMS}")
        );
    }

    #[test]
    fn blank_is_not_a_date() {
        assert!(parse_date("").unwrap_err().starts_with("must be a date such as"));
        assert!(
            parse_date(" \u{3000}")
                .unwrap_err()
                .starts_with("must be a date such as")
        );
    }

    #[test]
    fn never_panics() {
        let pieces = [
            "", "0", "9", "99", "999", "9999", "99999", "年", "月", "日", "民國", "/", "-", ".", " ", "字", "１",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let _ = parse_date(&format!("{a}{b}{c}{a}{b}"));
                    let _ = parse_date(&format!("{a}/{b}/{c}"));
                    let _ = parse_date(&format!("{a}年{b}月{c}日"));
                }
            }
        }
        let _ = parse_date(&"9".repeat(10_000));
        let _ = parse_date("9999-12-31");
        assert_eq!(parse_date("9999/12/31"), Ok(ymd(9999, 12, 31)));
    }
}
