//! Rule sets: the hours each kind of person owes per facet in a year.
//!
//! The numbers are data. The seed file `seeds/rules.toml` holds the 2026 set from
//! Table 2 of the learning map and the national security-training rules; admins
//! add or change later years.

pub mod seed;

use entity::{Facet, Level, Role, SecurityCategory, SecurityLevel};

use crate::hours::Hours;

/// One requirement of a year, in the shape the compliance engine reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `None` applies to a person holding no IT role.
    pub role: Option<Role>,
    pub facet: Facet,
    pub technical_background: Option<bool>,
    /// Course levels that count; empty for any.
    pub levels: Vec<Level>,
    pub security_category: Option<SecurityCategory>,
    /// Agency security levels it applies to; empty for all.
    pub agency_levels: Vec<SecurityLevel>,
    pub window_years: u8,
    pub hours: Hours,
}

/// Joins codes for a text column: `A,B`.
pub(crate) fn join_codes<T: Copy>(items: &[T], code: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|i| code(*i)).collect::<Vec<_>>().join(",")
}

pub(crate) fn level_code(level: Level) -> &'static str {
    match level {
        Level::A => "A",
        Level::B => "B",
        Level::C => "C",
        Level::D => "D",
    }
}

pub(crate) fn security_level_code(level: SecurityLevel) -> &'static str {
    match level {
        SecurityLevel::A => "A",
        SecurityLevel::B => "B",
        SecurityLevel::C => "C",
        SecurityLevel::D => "D",
        SecurityLevel::E => "E",
    }
}
