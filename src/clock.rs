//! Dates in Asia/Taipei, where the compliance year is the calendar year.
//!
//! Taiwan has kept UTC+8 without daylight saving since 1980, so a fixed offset
//! is exact for every date the system handles.

use chrono::{FixedOffset, NaiveDate, Offset, Utc};

pub fn taipei() -> FixedOffset {
    const EIGHT_HOURS: i32 = 8 * 3600;
    FixedOffset::east_opt(EIGHT_HOURS).unwrap_or(Utc.fix())
}

/// Today's date in Taipei.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&taipei()).date_naive()
}

/// A date as API clients write it, ISO 8601 `2026-03-31`; the reason reads
/// after the value (`"2026-02-30" is not a calendar date`), the same for the
/// GraphQL `Date` scalar and the report's query string.
pub fn parse_iso_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-';
        let reason = if shaped {
            "is not a calendar date"
        } else {
            "is not a date of the form 2026-03-31"
        };
        format!("\"{text}\" {reason}")
    })
}
