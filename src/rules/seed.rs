//! Loading the rule sets of `seeds/rules.toml`; a year already present is left
//! as it is, so an admin's changes survive a reseed.

use chrono::Utc;
use entity::{Facet, Level, Role, SecurityCategory, SecurityLevel, requirement, rule_set};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::Deserialize;

use super::{Requirement, join_codes, level_code, security_level_code};
use crate::error::{Error, FieldError, Result};
use crate::hours::Hours;

pub const RULES_TOML: &str = include_str!("../../seeds/rules.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    pub rule_set: Vec<SeedRuleSet>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRuleSet {
    pub year: i32,
    pub note: String,
    pub requirement: Vec<SeedRequirement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRequirement {
    pub role: RoleOrNone,
    pub facet: Facet,
    pub background: Option<bool>,
    #[serde(default)]
    pub levels: Vec<Level>,
    pub category: Option<SecurityCategory>,
    #[serde(default)]
    pub agency_levels: Vec<SecurityLevel>,
    #[serde(default = "one_year")]
    pub window_years: u8,
    pub hours: Hours,
}

fn one_year() -> u8 {
    1
}

/// A role code, or `none` for people holding no IT role.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum RoleOrNone {
    Role(Role),
    None(NoRole),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoRole {
    None,
}

impl From<&SeedRequirement> for Requirement {
    fn from(r: &SeedRequirement) -> Self {
        Requirement {
            role: match r.role {
                RoleOrNone::Role(role) => Some(role),
                RoleOrNone::None(_) => None,
            },
            facet: r.facet,
            technical_background: r.background,
            levels: r.levels.clone(),
            security_category: r.category,
            agency_levels: r.agency_levels.clone(),
            window_years: r.window_years,
            hours: r.hours,
        }
    }
}

pub fn parse(text: &str) -> Result<RulesFile> {
    toml::from_str(text).map_err(|e| Error::bad_input("seeds/rules.toml", e.to_string()))
}

/// The most hours one requirement may ask for: far above any real rule, and
/// well inside what the database stores.
pub const MAX_REQUIRED_HOURS: Hours = Hours::whole(1000);

/// Checks what the engine relies on: a window of one or two years, positive
/// hours up to [`MAX_REQUIRED_HOURS`], levels only on technical requirements and a category on security ones.
pub fn validate(requirement: &Requirement) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !(1..=2).contains(&requirement.window_years) {
        errors.push(FieldError::new("windowYears", "must be 1 or 2"));
    }
    if requirement.hours <= Hours::ZERO {
        errors.push(FieldError::new("hours", "must be more than 0"));
    } else if requirement.hours > MAX_REQUIRED_HOURS {
        errors.push(FieldError::new(
            "hours",
            format!("must be at most {MAX_REQUIRED_HOURS} hours"),
        ));
    }
    if requirement.facet != Facet::Technical && !requirement.levels.is_empty() {
        errors.push(FieldError::new("levels", "only technical requirements have levels"));
    }
    if (requirement.facet == Facet::Security) != requirement.security_category.is_some() {
        errors.push(FieldError::new(
            "securityCategory",
            "security requirements, and only they, need a category",
        ));
    }
    errors
}

/// Adds each year of the file that the database does not hold yet; returns how
/// many years were added.
pub async fn seed(db: &impl ConnectionTrait) -> Result<usize> {
    let file = parse(RULES_TOML)?;

    let mut added = 0;
    for set in &file.rule_set {
        if rule_set::Entity::find_by_id(set.year).one(db).await?.is_some() {
            continue;
        }
        let requirements: Vec<Requirement> = set.requirement.iter().map(Requirement::from).collect();
        let errors: Vec<FieldError> = requirements.iter().flat_map(validate).collect();
        if !errors.is_empty() {
            return Err(Error::BadInput(errors));
        }
        insert_rule_set(db, set.year, &set.note, &requirements).await?;
        added += 1;
    }
    Ok(added)
}

pub async fn insert_rule_set(
    db: &impl ConnectionTrait,
    year: i32,
    note: &str,
    requirements: &[Requirement],
) -> Result<()> {
    let now = Utc::now();
    rule_set::ActiveModel {
        year: Set(year),
        note: Set(note.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;

    for (position, r) in requirements.iter().enumerate() {
        requirement::ActiveModel {
            year: Set(year),
            role: Set(r.role),
            facet: Set(r.facet),
            technical_background: Set(r.technical_background),
            levels: Set(join_codes(&r.levels, level_code)),
            security_category: Set(r.security_category),
            agency_levels: Set(join_codes(&r.agency_levels, security_level_code)),
            window_years: Set(r.window_years.into()),
            centihours: Set(r.hours.centihours() as i32),
            position: Set(position as i32),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2026_set_holds_table_2_and_the_security_rules() {
        let file = parse(RULES_TOML).expect("the committed rules parse");
        let set = &file.rule_set[0];
        let reqs: Vec<Requirement> = set.requirement.iter().map(Requirement::from).collect();
        assert_eq!(set.year, 2026);
        assert!(reqs.iter().all(|r| validate(r).is_empty()));
        assert!(
            crate::rules::repeated(&reqs).is_empty(),
            "an admin can submit the seed set as it is"
        );

        let hours = |role: Option<Role>, facet: Facet, bg: Option<bool>| -> Vec<String> {
            reqs.iter()
                .filter(|r| r.role == role && r.facet == facet && r.technical_background == bg)
                .map(|r| r.hours.to_string())
                .collect()
        };
        assert_eq!(hours(Some(Role::ItStaff), Facet::Management, None), ["6"]);
        assert_eq!(hours(Some(Role::ItStaff), Facet::Technical, Some(false)), ["8"]);
        assert_eq!(hours(Some(Role::ItSupervisor), Facet::Technical, Some(true)), ["3"]);
        assert_eq!(hours(Some(Role::SecurityOfficer), Facet::Policy, None), ["2"]);
        assert_eq!(hours(Some(Role::SecurityOfficer), Facet::Security, None), ["12", "3"]);
        assert_eq!(hours(None, Facet::Security, None), ["3"]);
    }
}
