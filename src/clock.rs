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
