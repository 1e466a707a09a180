//! Personnel: units and agencies, people, their roles over time and the
//! evidence of a technical background.

pub mod background;
pub mod import;

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{Role, SecurityLevel, agency_level, evidence, person, role_assignment, unit};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, TransactionSession, TransactionTrait,
};

use crate::audit::{self, Actor, Entry};
use crate::error::{Error, Result};
use crate::hours::Hours;
use crate::text;
use background::{EvidenceFact, Override, Verdict};

/// Employee numbers are stored in upper case, half-width, as imports write
/// them; lookups fold the same way, so `ｅ１０００５` finds `E10005`.
pub fn employee_key(employee_no: &str) -> String {
    crate::import::clean(employee_no).to_ascii_uppercase()
}

/// Unit codes are stored half-width, as imports write them, and compared
/// with their case (`ddb` is not `DDB`); lookups fold the width the same way,
/// so `ＤＤＢ` in a query, URL or command finds `DDB`.
pub fn unit_key(code: &str) -> String {
    crate::import::clean(code)
}

pub async fn find_person(db: &impl ConnectionTrait, employee_no: &str) -> Result<Option<person::Model>> {
    Ok(person::Entity::find()
        .filter(person::Column::EmployeeNo.eq(employee_key(employee_no)))
        .one(db)
        .await?)
}

/// A person row with the generation numbers of the cached reference data and
/// facts, read in the same statement: one round trip answers both "who" and
/// "may the copies in memory be reused".
#[derive(Debug, Clone)]
pub struct PersonAt {
    pub person: person::Model,
    pub reference_generation: i64,
    pub facts_generation: i64,
}

impl FromQueryResult for PersonAt {
    fn from_query_result(row: &QueryResult, pre: &str) -> std::result::Result<Self, DbErr> {
        Ok(PersonAt {
            person: person::Model::from_query_result(row, pre)?,
            reference_generation: row.try_get(pre, "reference_generation")?,
            facts_generation: row.try_get(pre, "facts_generation")?,
        })
    }
}

/// [`find_person`] with the generation numbers.
pub async fn find_person_at(db: &impl ConnectionTrait, employee_no: &str) -> Result<Option<PersonAt>> {
    Ok(person::Entity::find()
        .filter(person::Column::EmployeeNo.eq(employee_key(employee_no)))
        .column_as(
            Expr::cust("(SELECT generation FROM reference_generation WHERE id = 1)"),
            "reference_generation",
        )
        .column_as(
            Expr::cust("(SELECT generation FROM facts_generation WHERE id = 1)"),
            "facts_generation",
        )
        .into_model::<PersonAt>()
        .one(db)
        .await?)
}

pub async fn get_person(db: &impl ConnectionTrait, employee_no: &str) -> Result<person::Model> {
    find_person(db, employee_no)
        .await?
        .ok_or_else(|| Error::not_found("person", employee_no))
}

pub async fn person_by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<person::Model>> {
    Ok(person::Entity::find_by_id(id).one(db).await?)
}

pub async fn direct_reports(db: &impl ConnectionTrait, person_id: i32) -> Result<Vec<person::Model>> {
    Ok(person::Entity::find()
        .filter(person::Column::SupervisorId.eq(person_id))
        .order_by_asc(person::Column::EmployeeNo)
        .all(db)
        .await?)
}

/// People by id, for many ids in one query.
pub async fn people_by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<person::Model>> {
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The direct reports of many people, in employee-number order.
pub async fn direct_reports_of(db: &impl ConnectionTrait, supervisor_ids: &[i32]) -> Result<Vec<person::Model>> {
    Ok(person::Entity::find()
        .filter(person::Column::SupervisorId.is_in(supervisor_ids.iter().copied()))
        .order_by_asc(person::Column::EmployeeNo)
        .all(db)
        .await?)
}

/// The role histories of many people, each oldest first.
pub async fn role_histories(db: &impl ConnectionTrait, person_ids: &[i32]) -> Result<Vec<role_assignment::Model>> {
    Ok(role_assignment::Entity::find()
        .filter(role_assignment::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_asc(role_assignment::Column::StartsOn)
        .order_by_asc(role_assignment::Column::Id)
        .all(db)
        .await?)
}

/// The evidence of many people, in the order it was recorded.
pub async fn evidence_of_many(db: &impl ConnectionTrait, person_ids: &[i32]) -> Result<Vec<evidence::Model>> {
    Ok(evidence::Entity::find()
        .filter(evidence::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_asc(evidence::Column::Id)
        .all(db)
        .await?)
}

/// How far up a supervisor chain is followed: a cycle cannot be imported, but
/// hand-edited data could hold one.
const MAX_CHAIN: i32 = 64;

/// For each person id, the employee numbers of that person and of everyone
/// above them in the supervisor tree, nearest first: one recursive query for
/// all of them, however deep the trees.
pub async fn chains_above(db: &impl ConnectionTrait, ids: &[i32]) -> Result<HashMap<i32, Vec<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // The ids are integers, written out rather than bound so that one
    // statement serves both backends' placeholder styles.
    let list = ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "WITH RECURSIVE chain(start_id, id, employee_no, supervisor_id, depth) AS ( \
           SELECT id, id, employee_no, supervisor_id, 0 FROM person WHERE id IN ({list}) \
           UNION ALL \
           SELECT chain.start_id, person.id, person.employee_no, person.supervisor_id, chain.depth + 1 \
           FROM chain JOIN person ON person.id = chain.supervisor_id WHERE chain.depth < {MAX_CHAIN} \
         ) SELECT start_id, employee_no FROM chain ORDER BY start_id, depth"
    );
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await?;

    let mut chains: HashMap<i32, Vec<String>> = HashMap::new();
    for row in rows {
        let start: i32 = row.try_get("", "start_id")?;
        let employee_no: String = row.try_get("", "employee_no")?;
        chains.entry(start).or_default().push(employee_no);
    }
    Ok(chains)
}

/// What a people listing may be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    /// People of this unit and every unit below it.
    pub unit_code: Option<String>,
    /// People holding this role on `as_of`.
    pub role: Option<Role>,
    pub supervisor_no: Option<String>,
    /// Part of the name, employee number or email, ignoring case and width.
    pub search: Option<String>,
    pub as_of: Option<NaiveDate>,
}

pub struct PeoplePage {
    pub people: Vec<person::Model>,
    pub has_next: bool,
    pub total: u64,
}

/// One page of people in employee-number order, after the person with id
/// `after` (ids follow no order, so the cursor holds the employee number).
pub async fn list_people(
    db: &impl ConnectionTrait,
    filter: &PeopleFilter,
    after: Option<String>,
    first: u64,
    today: NaiveDate,
) -> Result<PeoplePage> {
    let query = people_query(db, filter, today).await?;
    let total = query.clone().count(db).await?;

    let mut query = query.order_by_asc(person::Column::EmployeeNo);
    if let Some(after) = after {
        query = query.filter(person::Column::EmployeeNo.gt(after));
    }
    let mut people = query.limit(first + 1).all(db).await?;

    let has_next = people.len() as u64 > first;
    people.truncate(first as usize);
    Ok(PeoplePage {
        people,
        has_next,
        total,
    })
}

/// The filtered query; a named unit or supervisor must exist.
async fn people_query(
    db: &impl ConnectionTrait,
    filter: &PeopleFilter,
    today: NaiveDate,
) -> Result<sea_orm::Select<person::Entity>> {
    let mut query = person::Entity::find();

    // An unknown unit or supervisor is refused, as `quarterlyShortfalls`
    // refuses one, rather than answered with nobody: a typo should not read
    // as an empty unit.
    if filter.unit_code.as_deref() == Some("") {
        return Err(Error::bad_input(
            "unitCode",
            "must not be empty; leave it out for every unit",
        ));
    }
    if filter.supervisor_no.as_deref() == Some("") {
        return Err(Error::bad_input(
            "supervisorNo",
            "must not be empty; leave it out for everyone",
        ));
    }
    if let Some(code) = &filter.unit_code {
        let Some(root) = find_unit(db, code).await? else {
            return Err(Error::bad_input("unitCode", format!("unit {code} does not exist")));
        };
        let units = subtree_ids(db, root.id).await?;
        query = query.filter(person::Column::UnitId.is_in(units));
    }
    if let Some(no) = &filter.supervisor_no {
        let Some(supervisor) = find_person(db, no).await? else {
            return Err(Error::bad_input("supervisorNo", format!("person {no} does not exist")));
        };
        query = query.filter(person::Column::SupervisorId.eq(supervisor.id));
    }
    if let Some(role) = filter.role {
        let on = filter.as_of.unwrap_or(today);
        let holders = role_assignment::Entity::find()
            .select_only()
            .column(role_assignment::Column::PersonId)
            .filter(role_assignment::Column::Role.eq(role))
            .filter(role_assignment::Column::StartsOn.lte(on))
            .filter(
                role_assignment::Column::EndsOn
                    .is_null()
                    .or(role_assignment::Column::EndsOn.gte(on)),
            )
            .into_tuple::<i32>()
            .all(db)
            .await?;
        query = query.filter(person::Column::Id.is_in(holders));
    }
    if let Some(search) = filter.search.as_deref().map(text::fold).filter(|s| !s.is_empty()) {
        let pattern = LikeExpr::new(text::contains_pattern(&search)).escape('\\');
        query = query.filter(Expr::col(person::Column::SearchKey).like(pattern));
    }
    Ok(query)
}

pub async fn units(db: &impl ConnectionTrait) -> Result<Vec<unit::Model>> {
    Ok(unit::Entity::find().order_by_asc(unit::Column::Code).all(db).await?)
}

pub async fn find_unit(db: &impl ConnectionTrait, code: &str) -> Result<Option<unit::Model>> {
    Ok(unit::Entity::find()
        .filter(unit::Column::Code.eq(unit_key(code)))
        .one(db)
        .await?)
}

pub async fn unit_by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<unit::Model>> {
    Ok(unit::Entity::find_by_id(id).one(db).await?)
}

/// The ids of a unit and of every unit below it. Unit trees are small (a few
/// hundred units for the whole city), so the tree is walked in memory.
pub async fn subtree_ids(db: &impl ConnectionTrait, root: i32) -> Result<Vec<i32>> {
    let all = unit::Entity::find().all(db).await?;
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for u in &all {
        if let Some(parent) = u.parent_id {
            children.entry(parent).or_default().push(u.id);
        }
    }

    let mut ids = vec![root];
    let mut next = 0;
    while next < ids.len() {
        ids.extend(children.get(&ids[next]).into_iter().flatten().copied());
        next += 1;
    }
    Ok(ids)
}

/// The agency (top-level unit) a unit belongs to.
pub async fn agency_of(db: &impl ConnectionTrait, unit: unit::Model) -> Result<unit::Model> {
    let mut current = unit;
    // A cycle cannot be imported; the bound guards against hand-edited data.
    for _ in 0..64 {
        match current.parent_id {
            None => return Ok(current),
            Some(parent) => match unit_by_id(db, parent).await? {
                Some(p) => current = p,
                None => return Ok(current),
            },
        }
    }
    Ok(current)
}

/// The agency level history, oldest first.
pub async fn level_history(db: &impl ConnectionTrait, agency_id: i32) -> Result<Vec<agency_level::Model>> {
    Ok(agency_level::Entity::find()
        .filter(agency_level::Column::UnitId.eq(agency_id))
        .order_by_asc(agency_level::Column::Since)
        .all(db)
        .await?)
}

/// The security level in force on a date: the latest that took effect on or
/// before it.
pub fn level_on(history: &[agency_level::Model], on: NaiveDate) -> Option<SecurityLevel> {
    history
        .iter()
        .filter(|l| l.since <= on)
        .max_by_key(|l| l.since)
        .map(|l| l.level)
}

pub async fn role_history(db: &impl ConnectionTrait, person_id: i32) -> Result<Vec<role_assignment::Model>> {
    Ok(role_assignment::Entity::find()
        .filter(role_assignment::Column::PersonId.eq(person_id))
        .order_by_asc(role_assignment::Column::StartsOn)
        .order_by_asc(role_assignment::Column::Id)
        .all(db)
        .await?)
}

/// The role whose range holds the date.
pub fn role_on(history: &[role_assignment::Model], on: NaiveDate) -> Option<Role> {
    history
        .iter()
        .filter(|r| r.starts_on <= on && r.ends_on.is_none_or(|end| end >= on))
        .max_by_key(|r| r.starts_on)
        .map(|r| r.role)
}

pub async fn evidence_of(db: &impl ConnectionTrait, person_id: i32) -> Result<Vec<evidence::Model>> {
    Ok(evidence::Entity::find()
        .filter(evidence::Column::PersonId.eq(person_id))
        .order_by_asc(evidence::Column::Id)
        .all(db)
        .await?)
}

pub fn evidence_fact(e: &evidence::Model) -> EvidenceFact {
    EvidenceFact {
        criterion: e.criterion,
        detail: e.detail.clone(),
        category: e.category,
        obtained_on: e.obtained_on,
        expires_on: e.expires_on,
        amount: e.centi_amount.map(|a| Hours::from_centihours(a.into())),
    }
}

pub fn override_of(person: &person::Model) -> Option<Override> {
    person.background_override.map(|value| Override {
        value,
        reason: person.background_reason.clone().unwrap_or_default(),
    })
}

pub async fn technical_background(db: &impl ConnectionTrait, person: &person::Model, on: NaiveDate) -> Result<Verdict> {
    let evidence: Vec<EvidenceFact> = evidence_of(db, person.id).await?.iter().map(evidence_fact).collect();
    Ok(background::derive(&evidence, override_of(person), on))
}

/// Sets or clears (`value: None`) an admin's answer on the technical
/// background; a reason is required to set one. Records
/// `setTechnicalBackground` when the answer changed.
pub async fn set_background_override(
    db: &(impl ConnectionTrait + TransactionTrait),
    employee_no: &str,
    value: Option<bool>,
    reason: Option<String>,
    actor: &Actor,
) -> Result<person::Model> {
    use sea_orm::{ActiveModelTrait, Set};

    let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    if value.is_some() && reason.is_none() {
        return Err(Error::bad_input("reason", "say why the background is set by hand"));
    }
    let txn = crate::db::begin_write(db).await?;
    let person = get_person(&txn, employee_no).await?;
    let before = audit::snapshot::person(&txn, &person).await?;

    let mut model: person::ActiveModel = person.into();
    model.background_override = Set(value);
    model.background_reason = Set(value.and(reason));
    model.updated_at = Set(chrono::Utc::now());
    let updated = model.update(&txn).await?;

    let after = audit::snapshot::person(&txn, &updated).await?;
    if before != after {
        let summary = format!(
            "technical background of {} set to {}",
            updated.employee_no,
            answer(value)
        );
        let entry = Entry::new("setTechnicalBackground", "person", updated.employee_no.clone(), summary)
            .before(before)
            .after(after);
        audit::record(&txn, actor, entry).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

fn answer(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "derived from evidence",
    }
}
