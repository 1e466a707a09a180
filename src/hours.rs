//! Exact training hours.
//!
//! Hours are kept in hundredths of an hour, so that sums of 0.5-hour steps are
//! exact; floating point appears only at the GraphQL boundary, where a Float is
//! converted once and rejected unless it is a whole number of hundredths.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use serde::{Deserialize, Deserializer};

/// A number of hours, exact to a hundredth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hours(i64);

impl Hours {
    pub const ZERO: Hours = Hours(0);

    pub const fn from_centihours(centi: i64) -> Self {
        Hours(centi)
    }

    pub const fn whole(hours: i64) -> Self {
        Hours(hours * 100)
    }

    pub const fn centihours(self) -> i64 {
        self.0
    }

    /// Converts a GraphQL Float or a TOML number; `None` unless it is finite and
    /// a whole number of hundredths.
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() || value.abs() > 1.0e9 {
            return None;
        }
        let centi = (value * 100.0).round();
        if (centi - value * 100.0).abs() > 1.0e-6 {
            return None;
        }
        Some(Hours(centi as i64))
    }

    /// Parses a decimal written as text (`3`, `2.5`, `1.25`), as found in
    /// imported files.
    pub fn parse(text: &str) -> Option<Self> {
        Hours::read(text).ok()
    }

    /// [`Hours::parse`], saying what is wrong with text it refuses, so that
    /// a message can say more than "not a number" when the text is one.
    pub fn read(text: &str) -> Result<Self, Unreadable> {
        let text = text.trim();
        let (unsigned, negative) = match text.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
            return Err(Unreadable::NotANumber);
        }
        if negative {
            return Err(Unreadable::Negative);
        }

        // Zeros that change nothing (`007`, `1.2300`) are not digits that count.
        let (whole, frac) = (whole.trim_start_matches('0'), frac.trim_end_matches('0'));
        if frac.len() > 2 {
            return Err(Unreadable::TooPrecise);
        }
        if whole.len() > 9 {
            return Err(Unreadable::TooLarge);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| Unreadable::NotANumber)?
        };
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| Unreadable::NotANumber)?;
        Ok(Hours(whole * 100 + frac))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// True when the hours are a whole number of half hours.
    pub fn is_half_hour_step(self) -> bool {
        self.0 % 50 == 0
    }

    pub fn saturating_sub(self, other: Hours) -> Hours {
        Hours((self.0 - other.0).max(0))
    }
}

/// What is wrong with text that [`Hours::read`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    NotANumber,
    /// A number below 0, such as `-5`.
    Negative,
    /// More than two decimals, such as `0.001`.
    TooPrecise,
    /// More than nine digits before the point.
    TooLarge,
}

impl Unreadable {
    /// The reason for a number that is one, or `None` for text that is not.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Unreadable::NotANumber => None,
            Unreadable::Negative => Some("must be more than 0"),
            Unreadable::TooPrecise => Some("has more than two decimals; round it to hundredths, such as 1.25"),
            Unreadable::TooLarge => Some("is far too large"),
        }
    }
}

impl Add for Hours {
    type Output = Hours;
    fn add(self, other: Hours) -> Hours {
        Hours(self.0 + other.0)
    }
}

impl Sub for Hours {
    type Output = Hours;
    fn sub(self, other: Hours) -> Hours {
        Hours(self.0 - other.0)
    }
}

impl Sum for Hours {
    fn sum<I: Iterator<Item = Hours>>(iter: I) -> Hours {
        iter.fold(Hours::ZERO, Add::add)
    }
}

impl fmt::Display for Hours {
    /// `3`, `2.5`, `1.25`: no trailing zeros, as people write hours.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.abs();
        let (whole, frac) = (abs / 100, abs % 100);
        match frac {
            0 => write!(f, "{sign}{whole}"),
            f10 if f10 % 10 == 0 => write!(f, "{sign}{whole}.{}", f10 / 10),
            _ => write!(f, "{sign}{whole}.{frac:02}"),
        }
    }
}

impl<'de> Deserialize<'de> for Hours {
    /// Seed files write hours as numbers (`3`, `2.5`) or as text (`"2.5"`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        let parsed = match Raw::deserialize(deserializer)? {
            Raw::Int(n) => n.checked_mul(100).map(Hours),
            Raw::Float(x) => Hours::from_f64(x),
            Raw::Text(s) => Hours::parse(&s),
        };
        parsed.ok_or_else(|| serde::de::Error::custom("hours must be a number with at most two decimals"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_why_a_number_is_not_hours() {
        for (text, why) in [
            ("-5", Unreadable::Negative),
            ("-0.5", Unreadable::Negative),
            ("0.001", Unreadable::TooPrecise),
            (".125", Unreadable::TooPrecise),
            ("12345678901", Unreadable::TooLarge),
            ("abc", Unreadable::NotANumber),
            ("1.2.3", Unreadable::NotANumber),
            ("", Unreadable::NotANumber),
            ("-", Unreadable::NotANumber),
            ("1e3", Unreadable::NotANumber),
        ] {
            assert_eq!(Hours::read(text), Err(why), "{text:?}");
        }
        assert_eq!(Hours::parse("000000000001"), Some(Hours::whole(1)));
        assert_eq!(Hours::parse("1.2300000"), Some(Hours::from_centihours(123)));
        assert_eq!(Hours::parse("0.0"), Some(Hours::ZERO));
        assert_eq!(Hours::parse("1.234"), None);
    }

    #[test]
    fn half_hours_sum_exactly() {
        let total: Hours = std::iter::repeat_n(Hours::parse("0.1").unwrap(), 10).sum();
        assert_eq!(total, Hours::whole(1));
        assert_eq!(
            Hours::parse("0.5").unwrap() + Hours::parse("2.5").unwrap(),
            Hours::whole(3)
        );
    }

    #[test]
    fn parses_decimal_text() {
        assert_eq!(Hours::parse("3"), Some(Hours(300)));
        assert_eq!(Hours::parse(" 2.5 "), Some(Hours(250)));
        assert_eq!(Hours::parse("1.25"), Some(Hours(125)));
        assert_eq!(Hours::parse(".5"), Some(Hours(50)));
        assert_eq!(Hours::parse("1.255"), None);
        assert_eq!(Hours::parse("-1"), None);
        assert_eq!(Hours::parse("abc"), None);
        assert_eq!(Hours::parse(""), None);
        assert_eq!(Hours::parse("."), None);
    }

    #[test]
    fn converts_floats_only_when_exact_to_a_hundredth() {
        assert_eq!(Hours::from_f64(2.5), Some(Hours(250)));
        assert_eq!(Hours::from_f64(0.1), Some(Hours(10)));
        assert_eq!(Hours::from_f64(1.001), None);
        assert_eq!(Hours::from_f64(f64::NAN), None);
        assert_eq!(Hours::from_f64(f64::INFINITY), None);
    }

    #[test]
    fn displays_without_trailing_zeros() {
        assert_eq!(Hours(300).to_string(), "3");
        assert_eq!(Hours(250).to_string(), "2.5");
        assert_eq!(Hours(125).to_string(), "1.25");
        assert_eq!(Hours(5).to_string(), "0.05");
    }

    #[test]
    fn shortfall_never_goes_negative() {
        assert_eq!(Hours::whole(3).saturating_sub(Hours::whole(5)), Hours::ZERO);
        assert_eq!(Hours::whole(5).saturating_sub(Hours(150)), Hours(350));
    }
}
