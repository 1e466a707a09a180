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
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::audit;
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

/// Requirements that apply to the same people for the same hours as an
/// earlier one in the list. Two such lines would be two shortfalls for one
/// obligation (or, with different hours, leave it unclear which one holds),
/// so a rule set names each scope once.
pub(crate) fn repeated(requirements: &[Requirement]) -> Vec<FieldError> {
    let scope = |r: &Requirement| {
        (
            r.role,
            r.facet,
            r.technical_background,
            r.levels.clone(),
            r.security_category,
            r.agency_levels.clone(),
        )
    };
    let mut errors = Vec::new();
    for (index, requirement) in requirements.iter().enumerate() {
        if let Some(first) = requirements[..index]
            .iter()
            .position(|r| scope(r) == scope(requirement))
        {
            errors.push(FieldError::new(
                format!("requirements[{index}]"),
                format!("applies to the same people and courses as requirements[{first}]: merge them into one"),
            ));
        }
    }
    errors
}

/// The compliance years an admin may set rules for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Replaces a year's rule set (or creates it), checking every requirement,
/// and records `setRequirements` with the year's set before and after.
pub async fn replace(
    db: &sea_orm::DatabaseConnection,
    year: i32,
    note: &str,
    requirements: &[Requirement],
    actor: &crate::audit::Actor,
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
    errors.extend(repeated(requirements));
    if !errors.is_empty() {
        return Err(Error::BadInput(errors));
    }

    let txn = crate::db::begin_write(db).await?;
    let before = audit::snapshot::rule_set(&txn, year).await?;
    rule_set::Entity::delete_by_id(year).exec(&txn).await?;
    requirement::Entity::delete_many()
        .filter(requirement::Column::Year.eq(year))
        .exec(&txn)
        .await?;
    seed::insert_rule_set(&txn, year, note, requirements).await?;

    let after = audit::snapshot::rule_set(&txn, year).await?;
    if before != after {
        let verb = if before.is_some() { "replaced" } else { "created" };
        let summary = format!("{verb} the {year} rule set: {} requirements", requirements.len());
        let entry = audit::Entry::new("setRequirements", "rule_set", year.to_string(), summary)
            .before(before)
            .after(after);
        audit::record(&txn, actor, entry).await?;
    }
    txn.commit().await?;

    require_in_force(db, year).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(role: Option<Role>, hours: i64) -> Requirement {
        Requirement {
            role,
            facet: Facet::Policy,
            technical_background: None,
            levels: vec![],
            security_category: None,
            agency_levels: vec![],
            window_years: 1,
            hours: Hours::from_centihours(hours * 100),
        }
    }

    #[test]
    fn a_scope_named_twice_is_refused_at_its_second_place() {
        let list = [
            policy(Some(Role::ItStaff), 3),
            policy(Some(Role::ItSupervisor), 3),
            policy(Some(Role::ItStaff), 4),
        ];

        let errors = repeated(&list);

        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "requirements[2]");
        assert!(errors[0].reason.contains("requirements[0]"), "{}", errors[0].reason);
    }

    #[test]
    fn different_levels_are_different_scopes() {
        let mut b = policy(Some(Role::ItStaff), 3);
        b.levels = vec![Level::B];
        let mut c = b.clone();
        c.levels = vec![Level::C];

        assert!(repeated(&[b, c]).is_empty());
    }
}
