//! The before and after images of audited records, as JSON.
//!
//! Images name related records by their keys (a unit code, a supervisor's
//! employee number), not by row ids, so that an entry reads on its own and
//! stays meaningful after the related record is gone. Field names follow the
//! GraphQL schema. Loaders take many records at once and query in chunks, so
//! that an import of tens of thousands of rows costs a handful of queries.

use std::collections::HashMap;

use entity::{agency_level, completion, course, evidence, person, requirement, role_assignment, rule_set, unit};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use crate::error::Result;
use crate::hours::Hours;

/// The most ids one `IN (…)` list holds.
const IDS_PER_QUERY: usize = 500;

/// A stored enumeration by its code, `null` when absent.
fn code<T: ActiveEnum<Value = String>>(value: Option<T>) -> Value {
    value.map_or(Value::Null, |v| Value::String(v.to_value()))
}

fn hours(centihours: i32) -> Value {
    json!(Hours::from_centihours(centihours.into()).as_f64())
}

pub fn course(c: &course::Model) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "hours": hours(c.centihours),
        "link": c.link,
        "platform": code(Some(c.platform)),
        "platformCode": c.platform_code,
        "facet": code(Some(c.facet)),
        "level": code(c.level),
        "domain": code(c.domain),
        "securityCategory": code(c.security_category),
        "archivedAt": c.archived_at.map(|t| t.to_rfc3339()),
    })
}

/// Images of units by code, with their parent's code and, for agencies,
/// their security levels over time.
pub async fn units(db: &impl ConnectionTrait, units: &[unit::Model]) -> Result<HashMap<String, Value>> {
    let codes: HashMap<i32, String> = unit::Entity::find()
        .select_only()
        .column(unit::Column::Id)
        .column(unit::Column::Code)
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();

    let mut levels: HashMap<i32, Vec<Value>> = HashMap::new();
    let ids: Vec<i32> = units.iter().map(|u| u.id).collect();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows = agency_level::Entity::find()
            .filter(agency_level::Column::UnitId.is_in(chunk.to_vec()))
            .order_by_asc(agency_level::Column::Since)
            .all(db)
            .await?;
        for l in rows {
            levels
                .entry(l.unit_id)
                .or_default()
                .push(json!({ "level": code(Some(l.level)), "since": l.since }));
        }
    }

    Ok(units
        .iter()
        .map(|u| {
            let image = json!({
                "code": u.code,
                "name": u.name,
                "parent": u.parent_id.and_then(|id| codes.get(&id)),
                "securityLevels": levels.remove(&u.id).unwrap_or_default(),
            });
            (u.code.clone(), image)
        })
        .collect())
}

/// Images of the units with these codes as stored now.
pub async fn units_by_code(db: &impl ConnectionTrait, codes: &[String]) -> Result<HashMap<String, Value>> {
    let found = find_by_keys::<unit::Entity>(db, unit::Column::Code, codes).await?;
    units(db, &found).await
}

/// Images of people by employee number, with their unit's code, their
/// supervisor's employee number and their role history.
pub async fn people(db: &impl ConnectionTrait, people: &[person::Model]) -> Result<HashMap<String, Value>> {
    let units: HashMap<i32, String> = unit::Entity::find()
        .select_only()
        .column(unit::Column::Id)
        .column(unit::Column::Code)
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let supervisor_ids: Vec<i32> = people.iter().filter_map(|p| p.supervisor_id).collect();
    let supervisors = employee_numbers(db, &supervisor_ids).await?;
    let mut roles = role_histories(db, people).await?;

    Ok(people
        .iter()
        .map(|p| {
            let image = json!({
                "employeeNo": p.employee_no,
                "name": p.name,
                "email": p.email,
                "unit": units.get(&p.unit_id),
                "supervisor": p.supervisor_id.and_then(|id| supervisors.get(&id)),
                "joinedOn": p.joined_on,
                "leftOn": p.left_on,
                "technicalBackground": p.background_override,
                "backgroundReason": p.background_reason,
                "language": p.language,
                "roles": roles.remove(&p.id).unwrap_or_default(),
            });
            (p.employee_no.clone(), image)
        })
        .collect())
}

/// Images of the people with these employee numbers as stored now.
pub async fn people_by_employee_no(db: &impl ConnectionTrait, numbers: &[String]) -> Result<HashMap<String, Value>> {
    let found = find_by_keys::<person::Entity>(db, person::Column::EmployeeNo, numbers).await?;
    people(db, &found).await
}

/// The rows whose `column` holds one of `keys`, a chunk of keys per query.
async fn find_by_keys<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    keys: &[String],
) -> Result<Vec<E::Model>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(IDS_PER_QUERY) {
        found.extend(E::find().filter(column.is_in(chunk.to_vec())).all(db).await?);
    }
    Ok(found)
}

/// The image of one person.
pub async fn person(db: &impl ConnectionTrait, p: &person::Model) -> Result<Option<Value>> {
    Ok(people(db, std::slice::from_ref(p)).await?.remove(&p.employee_no))
}

async fn employee_numbers(db: &impl ConnectionTrait, ids: &[i32]) -> Result<HashMap<i32, String>> {
    let mut numbers = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        numbers.extend(
            person::Entity::find()
                .select_only()
                .column(person::Column::Id)
                .column(person::Column::EmployeeNo)
                .filter(person::Column::Id.is_in(chunk.to_vec()))
                .into_tuple::<(i32, String)>()
                .all(db)
                .await?,
        );
    }
    Ok(numbers)
}

async fn role_histories(db: &impl ConnectionTrait, people: &[person::Model]) -> Result<HashMap<i32, Vec<Value>>> {
    let ids: Vec<i32> = people.iter().map(|p| p.id).collect();
    let mut histories: HashMap<i32, Vec<Value>> = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows = role_assignment::Entity::find()
            .filter(role_assignment::Column::PersonId.is_in(chunk.to_vec()))
            .order_by_asc(role_assignment::Column::StartsOn)
            .order_by_asc(role_assignment::Column::Id)
            .all(db)
            .await?;
        for r in rows {
            histories.entry(r.person_id).or_default().push(json!({
                "role": code(Some(r.role)),
                "startsOn": r.starts_on,
                "endsOn": r.ends_on,
            }));
        }
    }
    Ok(histories)
}

/// A piece of evidence of the person with this employee number.
pub fn evidence(employee_no: &str, e: &evidence::Model) -> Value {
    json!({
        "employeeNo": employee_no,
        "criterion": code(Some(e.criterion)),
        "detail": e.detail,
        "category": code(e.category),
        "obtainedOn": e.obtained_on,
        "expiresOn": e.expires_on,
        "amount": e.centi_amount.map(hours),
    })
}

/// A completion of the person with this employee number.
pub fn completion(employee_no: &str, c: &completion::Model) -> Value {
    json!({
        "employeeNo": employee_no,
        "courseId": c.course_id,
        "title": c.title,
        "hours": hours(c.centihours),
        "completedOn": c.completed_on,
        "platform": code(Some(c.platform)),
        "facet": code(c.facet),
        "level": code(c.level),
        "securityCategory": code(c.security_category),
        "source": c.source,
    })
}

/// A year's own rule set with its requirements in order; `None` when the
/// year has none of its own.
pub async fn rule_set(db: &impl ConnectionTrait, year: i32) -> Result<Option<Value>> {
    let Some(set) = rule_set::Entity::find_by_id(year).one(db).await? else {
        return Ok(None);
    };
    let requirements = requirement::Entity::find()
        .filter(requirement::Column::Year.eq(year))
        .order_by_asc(requirement::Column::Position)
        .all(db)
        .await?;

    let requirements: Vec<Value> = requirements
        .iter()
        .map(|r| {
            json!({
                "role": code(r.role),
                "facet": code(Some(r.facet)),
                "technicalBackground": r.technical_background,
                "levels": r.levels,
                "securityCategory": code(r.security_category),
                "agencyLevels": r.agency_levels,
                "windowYears": r.window_years,
                "hours": hours(r.centihours),
            })
        })
        .collect();
    Ok(Some(
        json!({ "year": set.year, "note": set.note, "requirements": requirements }),
    ))
}
