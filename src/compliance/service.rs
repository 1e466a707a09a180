//! Gathering a person's facts from the database for the engine, one person or
//! a whole unit at a time.
//!
//! Everything a unit's evaluation needs is loaded in a fixed number of queries
//! (people, roles, evidence, completions, units, levels, catalog), whatever the
//! number of people, and then evaluated in memory.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use entity::{Facet, agency_level, completion, course, evidence, person, role_assignment, unit};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::engine::{self, CompletionFact, CourseFact, Evaluation, PersonFacts};
use crate::error::{Error, Result};
use crate::hours::Hours;
use crate::personnel::{self, background};
use crate::rules::{self, RuleSetInForce};

/// One person's evaluation with what it was computed from.
#[derive(Debug, Clone)]
pub struct PersonCompliance {
    pub person: person::Model,
    pub facts: PersonFacts,
    pub completions: Vec<completion::Model>,
    pub evaluation: Evaluation,
}

/// A unit's evaluations, one per person of its subtree still employed on the
/// as-of date.
#[derive(Debug, Clone)]
pub struct UnitCompliance {
    pub unit: unit::Model,
    pub year: i32,
    pub as_of: NaiveDate,
    pub rules: RuleSetInForce,
    pub people: Vec<PersonCompliance>,
    /// Catalog courses by id, for recommendations.
    pub catalog: HashMap<i32, course::Model>,
}

/// Checks the year and as-of date: the as-of date lies in the year; by default
/// it is today, or Dec 31 for a past year.
pub fn as_of_for(year: i32, as_of: Option<NaiveDate>, today: NaiveDate) -> Result<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Error::bad_input("year", "is not a year"))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Error::bad_input("year", "is not a year"))?;
    if !rules::YEARS.contains(&year) {
        return Err(Error::bad_input("year", "must be between 2000 and 2100"));
    }
    let as_of = as_of.unwrap_or_else(|| today.clamp(first, last));
    if as_of.year() != year {
        return Err(Error::bad_input("asOf", format!("{as_of} is not in {year}")));
    }
    Ok(as_of)
}

pub async fn for_person(
    db: &impl ConnectionTrait,
    employee_no: &str,
    year: i32,
    as_of: NaiveDate,
) -> Result<(PersonCompliance, UnitCompliance)> {
    let person = personnel::get_person(db, employee_no).await?;
    let unit = personnel::unit_by_id(db, person.unit_id)
        .await?
        .ok_or_else(|| Error::not_found("unit", person.unit_id))?;

    let mut result = evaluate(db, unit, vec![person], year, as_of).await?;
    let one = result
        .people
        .pop()
        .ok_or_else(|| Error::not_found("person", employee_no))?;
    Ok((one, result))
}

/// Everyone in the unit and below who has not left before the as-of date.
pub async fn for_unit(
    db: &impl ConnectionTrait,
    unit_code: &str,
    year: i32,
    as_of: NaiveDate,
) -> Result<UnitCompliance> {
    let unit = personnel::find_unit(db, unit_code)
        .await?
        .ok_or_else(|| Error::not_found("unit", unit_code))?;
    let ids = personnel::subtree_ids(db, unit.id).await?;
    let people = person::Entity::find()
        .filter(person::Column::UnitId.is_in(ids))
        .filter(person::Column::LeftOn.is_null().or(person::Column::LeftOn.gte(as_of)))
        .order_by_asc(person::Column::EmployeeNo)
        .all(db)
        .await?;
    evaluate(db, unit, people, year, as_of).await
}

async fn evaluate(
    db: &impl ConnectionTrait,
    unit: unit::Model,
    people: Vec<person::Model>,
    year: i32,
    as_of: NaiveDate,
) -> Result<UnitCompliance> {
    let rules = rules::require_in_force(db, year).await?;
    let ids: Vec<i32> = people.iter().map(|p| p.id).collect();

    let roles = group(
        role_assignment::Entity::find()
            .filter(role_assignment::Column::PersonId.is_in(ids.clone()))
            .all(db)
            .await?,
        |r| r.person_id,
    );
    let evidence = group(
        evidence::Entity::find()
            .filter(evidence::Column::PersonId.is_in(ids.clone()))
            .all(db)
            .await?,
        |e| e.person_id,
    );
    let window_start = engine::window_start(year - 1, 1);
    let completions = group(
        completion::Entity::find()
            .filter(completion::Column::PersonId.is_in(ids))
            .filter(completion::Column::CompletedOn.gte(window_start))
            .order_by_asc(completion::Column::CompletedOn)
            .order_by_asc(completion::Column::Id)
            .all(db)
            .await?,
        |c| c.person_id,
    );
    let agencies = AgencyLevels::load(db).await?;
    let catalog_rows = course::Entity::find()
        .filter(course::Column::ArchivedAt.is_null())
        .order_by_asc(course::Column::Id)
        .all(db)
        .await?;
    let catalog: Vec<CourseFact> = catalog_rows.iter().map(course_fact).collect();

    let evaluated = people
        .into_iter()
        .map(|person| {
            let facts = PersonFacts {
                role: personnel::role_on(roles.get(&person.id).map_or(&[][..], Vec::as_slice), as_of),
                technical_background: has_background(&person, evidence.get(&person.id), as_of),
                agency_level: agencies.level_of(person.unit_id, as_of),
            };
            let mine = completions.get(&person.id).cloned().unwrap_or_default();
            let facts_of_completions: Vec<CompletionFact> = mine.iter().map(completion_fact).collect();
            let evaluation = engine::evaluate(
                &facts,
                &facts_of_completions,
                &rules.requirements,
                &catalog,
                year,
                as_of,
            );
            PersonCompliance {
                person,
                facts,
                completions: mine,
                evaluation,
            }
        })
        .collect();

    Ok(UnitCompliance {
        unit,
        year,
        as_of,
        rules,
        people: evaluated,
        catalog: catalog_rows.into_iter().map(|c| (c.id, c)).collect(),
    })
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i32) -> HashMap<i32, Vec<T>> {
    let mut groups: HashMap<i32, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}

fn has_background(person: &person::Model, evidence: Option<&Vec<evidence::Model>>, as_of: NaiveDate) -> bool {
    let facts: Vec<background::EvidenceFact> = evidence.into_iter().flatten().map(personnel::evidence_fact).collect();
    background::derive(&facts, personnel::override_of(person), as_of).has_background
}

pub fn completion_fact(c: &completion::Model) -> CompletionFact {
    CompletionFact {
        id: c.id.into(),
        course_id: c.course_id,
        title: c.title.clone(),
        completed_on: c.completed_on,
        hours: Hours::from_centihours(c.centihours.into()),
        facet: c.facet.unwrap_or(Facet::Security),
        level: c.level,
        security_category: c.security_category,
    }
}

fn course_fact(c: &course::Model) -> CourseFact {
    CourseFact {
        id: c.id,
        title: c.title.clone(),
        hours: Hours::from_centihours(c.centihours.into()),
        facet: c.facet,
        level: c.level,
        security_category: c.security_category,
    }
}

/// Every unit's agency and every agency's level history, loaded once.
struct AgencyLevels {
    parent: HashMap<i32, Option<i32>>,
    levels: HashMap<i32, Vec<agency_level::Model>>,
}

impl AgencyLevels {
    async fn load(db: &impl ConnectionTrait) -> Result<Self> {
        let units = unit::Entity::find().all(db).await?;
        let levels = agency_level::Entity::find().all(db).await?;
        Ok(AgencyLevels {
            parent: units.into_iter().map(|u| (u.id, u.parent_id)).collect(),
            levels: group(levels, |l| l.unit_id),
        })
    }

    fn level_of(&self, unit_id: i32, on: NaiveDate) -> Option<entity::SecurityLevel> {
        let mut current = unit_id;
        for _ in 0..=self.parent.len() {
            match self.parent.get(&current).copied().flatten() {
                Some(parent) => current = parent,
                None => break,
            }
        }
        personnel::level_on(self.levels.get(&current).map_or(&[][..], Vec::as_slice), on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_as_of_date_defaults_to_today_within_the_year() {
        assert_eq!(as_of_for(2026, None, day(2026, 5, 1)).unwrap(), day(2026, 5, 1));
        assert_eq!(as_of_for(2025, None, day(2026, 5, 1)).unwrap(), day(2025, 12, 31));
        assert_eq!(as_of_for(2027, None, day(2026, 5, 1)).unwrap(), day(2027, 1, 1));
        assert!(as_of_for(2026, Some(day(2027, 1, 1)), day(2026, 5, 1)).is_err());
        assert!(as_of_for(2026, Some(day(2025, 12, 31)), day(2026, 5, 1)).is_err());
        assert!(as_of_for(1800, None, day(2026, 5, 1)).is_err());
    }
}
