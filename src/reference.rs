//! Reference data: the catalog, the rule sets, the unit tree and the agencies'
//! security levels, held in memory and shared by every request.
//!
//! These tables change a few times a year and are read by every compliance
//! question, so reloading them per request was most of its cost. Reuse must
//! still be correct right after an admin's edit and across replicas, so the
//! cache is validated on every use with one primary-key read of
//! `reference_generation`: a number that triggers on those tables bump in the
//! same transaction as any write (see migration `m20261204_000008`). A
//! time-based expiry was rejected, as it serves stale answers for its whole
//! lifetime; comparing `max(updated_at)` and counts was rejected, as it misses
//! deletions that leave the count of another table unchanged and needs one
//! scan per table.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use entity::{SecurityLevel, agency_level, course, requirement, rule_set, unit};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};

use crate::compliance::engine::CourseFact;
use crate::error::{Error, Result};
use crate::hours::Hours;
use crate::personnel;
use crate::rules::{self, RuleSetInForce};

/// How far a walk up the unit tree goes: a cycle cannot be imported, but
/// hand-edited data could hold one.
const MAX_DEPTH: usize = 64;

/// One consistent copy of the reference data.
#[derive(Debug, Default)]
pub struct Reference {
    /// The value of `reference_generation` this copy was loaded at (or after).
    pub generation: i64,
    /// Courses not archived, by id: the courses the engine may recommend.
    courses: Vec<course::Model>,
    course_index: HashMap<i32, usize>,
    course_facts: Vec<CourseFact>,
    units: HashMap<i32, unit::Model>,
    unit_codes: HashMap<String, i32>,
    /// Children of each unit, by code.
    children: HashMap<i32, Vec<i32>>,
    /// Each agency's levels, oldest first.
    levels: HashMap<i32, Vec<agency_level::Model>>,
    rule_sets: Vec<rule_set::Model>,
    requirements: Vec<requirement::Model>,
}

/// The rows a [`Reference`] is built from.
#[derive(Debug, Default)]
pub struct Rows {
    pub courses: Vec<course::Model>,
    pub units: Vec<unit::Model>,
    pub levels: Vec<agency_level::Model>,
    pub rule_sets: Vec<rule_set::Model>,
    pub requirements: Vec<requirement::Model>,
}

impl Reference {
    /// Builds the in-memory indexes; pure, so that the tree walks are unit-tested.
    pub fn from_rows(generation: i64, rows: Rows) -> Self {
        let mut courses = rows.courses;
        courses.sort_by_key(|c| c.id);

        let mut units = rows.units;
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for u in &units {
            if let Some(parent) = u.parent_id {
                children.entry(parent).or_default().push(u.id);
            }
        }

        let mut levels: HashMap<i32, Vec<agency_level::Model>> = HashMap::new();
        for level in rows.levels {
            levels.entry(level.unit_id).or_default().push(level);
        }
        levels.values_mut().for_each(|history| history.sort_by_key(|l| l.since));

        Reference {
            generation,
            course_index: courses.iter().enumerate().map(|(i, c)| (c.id, i)).collect(),
            course_facts: courses.iter().map(course_fact).collect(),
            courses,
            unit_codes: units.iter().map(|u| (u.code.clone(), u.id)).collect(),
            units: units.into_iter().map(|u| (u.id, u)).collect(),
            children,
            levels,
            rule_sets: rows.rule_sets,
            requirements: rows.requirements,
        }
    }

    /// Reads every reference table as they are now, for a caller that keeps
    /// no cache (a report, the quarterly job).
    pub async fn load_current(db: &impl ConnectionTrait) -> Result<Self> {
        let generation = current_generation(db).await?;
        Self::load(db, generation).await
    }

    /// Reads every reference table, at the given generation or later.
    pub async fn load(db: &impl ConnectionTrait, generation: i64) -> Result<Self> {
        let rows = Rows {
            courses: course::Entity::find()
                .filter(course::Column::ArchivedAt.is_null())
                .all(db)
                .await?,
            units: unit::Entity::find().all(db).await?,
            levels: agency_level::Entity::find().all(db).await?,
            rule_sets: rule_set::Entity::find().all(db).await?,
            requirements: requirement::Entity::find()
                .order_by_asc(requirement::Column::Position)
                .all(db)
                .await?,
        };
        Ok(Reference::from_rows(generation, rows))
    }

    /// The courses the engine may recommend, by id, as the engine reads them.
    pub fn course_facts(&self) -> &[CourseFact] {
        &self.course_facts
    }

    /// A course not archived.
    pub fn course(&self, id: i32) -> Option<&course::Model> {
        self.course_index.get(&id).map(|&i| &self.courses[i])
    }

    pub fn unit(&self, id: i32) -> Option<&unit::Model> {
        self.units.get(&id)
    }

    pub fn unit_by_code(&self, code: &str) -> Option<&unit::Model> {
        self.unit_codes
            .get(&crate::personnel::unit_key(code))
            .and_then(|id| self.units.get(id))
    }

    /// The units directly below, by code.
    pub fn children(&self, id: i32) -> impl Iterator<Item = &unit::Model> {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|child| self.units.get(child))
    }

    /// The ids of a unit and of every unit below it.
    pub fn subtree_ids(&self, root: i32) -> Vec<i32> {
        let mut ids = vec![root];
        let mut next = 0;
        while next < ids.len() && ids.len() <= self.units.len() {
            ids.extend(self.children.get(&ids[next]).into_iter().flatten().copied());
            next += 1;
        }
        ids
    }

    /// The agency (top-level unit) a unit belongs to; `None` for an unknown unit.
    pub fn agency_of(&self, id: i32) -> Option<&unit::Model> {
        let mut current = self.units.get(&id)?;
        for _ in 0..MAX_DEPTH {
            match current.parent_id.and_then(|p| self.units.get(&p)) {
                Some(parent) => current = parent,
                None => break,
            }
        }
        Some(current)
    }

    /// An agency's level history, oldest first.
    pub fn level_history(&self, agency_id: i32) -> &[agency_level::Model] {
        self.levels.get(&agency_id).map_or(&[][..], Vec::as_slice)
    }

    /// The security level in force on a date for a unit's agency: walks only
    /// the unit's own chain of parents.
    pub fn level_of(&self, unit_id: i32, on: NaiveDate) -> Option<SecurityLevel> {
        let agency = self.agency_of(unit_id)?;
        personnel::level_on(self.level_history(agency.id), on)
    }

    /// The rule set in force for a year, as [`rules::in_force`] finds it.
    pub fn rules_in_force(&self, year: i32) -> Option<RuleSetInForce> {
        rules::in_force_among(&self.rule_sets, &self.requirements, year)
    }

    /// [`Self::rules_in_force`], or the error `rules::require_in_force` gives.
    pub fn require_rules(&self, year: i32) -> Result<RuleSetInForce> {
        self.rules_in_force(year)
            .ok_or_else(|| Error::bad_input("year", format!("no rule set is in force for {year}; add one first")))
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

/// The reference data shared by the app, revalidated on every use.
#[derive(Default)]
pub struct ReferenceCache {
    current: RwLock<Option<Arc<Reference>>>,
    /// Held while one request reloads, so that a burst after an edit loads once.
    reloading: tokio::sync::Mutex<()>,
}

impl ReferenceCache {
    /// The reference data as of now: the cached copy when its generation is
    /// the database's, else a fresh one.
    pub async fn get(&self, db: &impl ConnectionTrait) -> Result<Arc<Reference>> {
        let generation = current_generation(db).await?;
        self.get_at(db, generation).await
    }

    /// The reference data at a generation the caller read (with another row,
    /// in the same statement): the cached copy when it is of that generation,
    /// else a fresh one.
    pub async fn get_at(&self, db: &impl ConnectionTrait, generation: i64) -> Result<Arc<Reference>> {
        if let Some(fresh) = self.cached_at(generation) {
            return Ok(fresh);
        }

        let _one_at_a_time = self.reloading.lock().await;
        if let Some(fresh) = self.cached_at(generation) {
            return Ok(fresh);
        }
        let started = std::time::Instant::now();
        let loaded = Arc::new(Reference::load(db, generation).await?);
        tracing::info!(
            reference.generation = generation,
            reference.ms = started.elapsed().as_millis() as u64,
            "reference data loaded"
        );
        if let Ok(mut current) = self.current.write() {
            *current = Some(loaded.clone());
        }
        Ok(loaded)
    }

    fn cached_at(&self, generation: i64) -> Option<Arc<Reference>> {
        let current = self.current.read().ok()?;
        current.as_ref().filter(|r| r.generation == generation).cloned()
    }
}

/// The generation number the triggers keep.
pub async fn current_generation(db: &impl ConnectionTrait) -> Result<i64> {
    let statement = Statement::from_string(
        db.get_database_backend(),
        "SELECT generation FROM reference_generation WHERE id = 1",
    );
    let row = db
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| Error::Internal("reference_generation has no row".into()))?;
    Ok(row.try_get::<i64>("", "generation")?)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn unit(id: i32, code: &str, parent_id: Option<i32>) -> unit::Model {
        unit::Model {
            id,
            code: code.into(),
            name: code.into(),
            parent_id,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn level(id: i32, unit_id: i32, level: SecurityLevel, since: NaiveDate) -> agency_level::Model {
        agency_level::Model {
            id,
            unit_id,
            level,
            since,
        }
    }

    /// Agency 1 (A, then C from 2025-07-01) with divisions 3 and 2, and section
    /// 4 under 2; agency 5 with no level.
    fn city() -> Reference {
        Reference::from_rows(
            7,
            Rows {
                units: vec![
                    unit(4, "A1-D2-S1", Some(2)),
                    unit(1, "A1", None),
                    unit(3, "A1-D1", Some(1)),
                    unit(2, "A1-D2", Some(1)),
                    unit(5, "B1", None),
                ],
                levels: vec![
                    level(11, 1, SecurityLevel::C, day(2025, 7, 1)),
                    level(10, 1, SecurityLevel::A, day(2020, 1, 1)),
                ],
                ..Rows::default()
            },
        )
    }

    #[test]
    fn a_section_inherits_its_agency_level_on_the_date() {
        let city = city();

        assert_eq!(city.level_of(4, day(2025, 6, 30)), Some(SecurityLevel::A));
        assert_eq!(city.level_of(4, day(2025, 7, 1)), Some(SecurityLevel::C));
        assert_eq!(city.level_of(1, day(2019, 12, 31)), None);
        assert_eq!(city.level_of(5, day(2026, 1, 1)), None);
        assert_eq!(city.level_of(99, day(2026, 1, 1)), None);
    }

    #[test]
    fn walks_the_tree_from_any_unit() {
        let city = city();

        assert_eq!(city.agency_of(4).map(|u| u.id), Some(1));
        assert_eq!(city.agency_of(5).map(|u| u.id), Some(5));
        assert_eq!(city.subtree_ids(1), vec![1, 3, 2, 4]);
        assert_eq!(city.subtree_ids(2), vec![2, 4]);
        assert_eq!(
            city.children(1).map(|u| u.code.as_str()).collect::<Vec<_>>(),
            ["A1-D1", "A1-D2"]
        );
        assert_eq!(city.unit_by_code(" A1-D2 ").map(|u| u.id), Some(2));
        assert_eq!(city.level_history(1).iter().map(|l| l.id).collect::<Vec<_>>(), [10, 11]);
    }

    #[test]
    fn a_cycle_in_hand_edited_data_ends_the_walk() {
        let looped = Reference::from_rows(
            1,
            Rows {
                units: vec![unit(1, "X", Some(2)), unit(2, "Y", Some(1))],
                ..Rows::default()
            },
        );

        assert!(looped.agency_of(1).is_some());
        assert_eq!(looped.subtree_ids(1).len(), 3);
    }
}
