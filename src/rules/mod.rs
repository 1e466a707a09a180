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

use entity::{requirement, rule_set};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use crate::error::{Error, FieldError, Result};

/// The rule set in force for a year: the year's own, else the latest earlier
/// one (rules stay until the training office changes them).
#[derive(Debug, Clone)]
pub struct RuleSetInForce {
    pub requested_year: i32,
    pub rule_set: rule_set::Model,
    pub requirements: Vec<Requirement>,
}

impl RuleSetInForce {
    /// True when the year has no set of its own.
    pub fn inherited(&self) -> bool {
        self.rule_set.year != self.requested_year
    }
}

pub async fn in_force(db: &impl ConnectionTrait, year: i32) -> Result<Option<RuleSetInForce>> {
    let Some(set) = rule_set::Entity::find()
        .filter(rule_set::Column::Year.lte(year))
        .order_by_desc(rule_set::Column::Year)
        .one(db)
        .await?
    else {
        return Ok(None);
    };

    let rows = requirement::Entity::find()
        .filter(requirement::Column::Year.eq(set.year))
        .order_by_asc(requirement::Column::Position)
        .all(db)
        .await?;
    let requirements = rows.iter().map(from_row).collect();
    Ok(Some(RuleSetInForce {
        requested_year: year,
        rule_set: set,
        requirements,
    }))
}

/// The rule set in force for a year among every set and requirement row, as
/// [`in_force`] picks it, for callers that hold the rows already (the
/// reference cache).
pub fn in_force_among(sets: &[rule_set::Model], rows: &[requirement::Model], year: i32) -> Option<RuleSetInForce> {
    let set = sets.iter().filter(|s| s.year <= year).max_by_key(|s| s.year)?;
    let mut mine: Vec<&requirement::Model> = rows.iter().filter(|r| r.year == set.year).collect();
    mine.sort_by_key(|r| r.position);
    Some(RuleSetInForce {
        requested_year: year,
        rule_set: set.clone(),
        requirements: mine.into_iter().map(from_row).collect(),
    })
}

pub async fn require_in_force(db: &impl ConnectionTrait, year: i32) -> Result<RuleSetInForce> {
    in_force(db, year)
        .await?
        .ok_or_else(|| Error::bad_input("year", format!("no rule set is in force for {year}; add one first")))
}

fn from_row(row: &requirement::Model) -> Requirement {
    Requirement {
        role: row.role,
        facet: row.facet,
        technical_background: row.technical_background,
        levels: split_codes(&row.levels, parse_level),
        security_category: row.security_category,
        agency_levels: split_codes(&row.agency_levels, parse_security_level),
        window_years: u8::try_from(row.window_years).unwrap_or(1),
        hours: Hours::from_centihours(row.centihours.into()),
    }
}

fn split_codes<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    text.split(',').filter_map(|c| parse(c.trim())).collect()
}

fn parse_level(code: &str) -> Option<Level> {
    match code {
        "A" => Some(Level::A),
        "B" => Some(Level::B),
        "C" => Some(Level::C),
        "D" => Some(Level::D),
        _ => None,
    }
}

fn parse_security_level(code: &str) -> Option<SecurityLevel> {
    match code {
        "A" => Some(SecurityLevel::A),
        "B" => Some(SecurityLevel::B),
        "C" => Some(SecurityLevel::C),
        "D" => Some(SecurityLevel::D),
        "E" => Some(SecurityLevel::E),
        _ => None,
    }
}

/// The compliance years an admin may set rules for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Replaces a year's rule set (or creates it), checking every requirement.
pub async fn replace(
    db: &sea_orm::DatabaseConnection,
    year: i32,
    note: &str,
    requirements: &[Requirement],
) -> Result<RuleSetInForce> {
    let mut errors: Vec<FieldError> = Vec::new();
    if !YEARS.contains(&year) {
        errors.push(FieldError::new(
            "year",
            format!("must be between {} and {}", YEARS.start(), YEARS.end()),
        ));
    }
    if requirements.is_empty() {
        errors.push(FieldError::new(
            "requirements",
            "a rule set needs at least one requirement",
        ));
    }
    for (index, requirement) in requirements.iter().enumerate() {
        errors.extend(seed::validate(requirement).into_iter().map(|e| FieldError {
            field: format!("requirements[{index}].{}", e.field),
            ..e
        }));
    }
    if !errors.is_empty() {
        return Err(Error::BadInput(errors));
    }

    let txn = db.begin().await?;
    rule_set::Entity::delete_by_id(year).exec(&txn).await?;
    requirement::Entity::delete_many()
        .filter(requirement::Column::Year.eq(year))
        .exec(&txn)
        .await?;
    seed::insert_rule_set(&txn, year, note, requirements).await?;
    txn.commit().await?;

    require_in_force(db, year).await
}
