//! Gathering a person's facts from the database for the engine, one person or
//! a whole unit at a time.
//!
//! Everything a unit's evaluation needs is loaded in a fixed number of queries
//! (people, roles, evidence, completions), whatever the number of people, and
//! then evaluated in memory. The catalog, the rule sets and the unit tree come
//! from [`Reference`], which the GraphQL layer shares between requests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use entity::{Facet, Level, SecurityCategory, completion, course, evidence, person, role_assignment, unit};
use futures_util::TryStreamExt;
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, IntoSimpleExpr, IsolationLevel, QueryFilter, QueryOrder, QuerySelect, Statement, StreamTrait,
    TransactionOptions, TransactionTrait,
};

use super::engine::{self, CompletionFact, Evaluation, PersonFacts};
use super::recent::{PersonRows, RecentFacts};
use crate::error::{Error, Result};
use crate::hours::Hours;
use crate::personnel::{self, background};
use crate::reference::Reference;
use crate::rules::{self, RuleSetInForce};

/// One person's evaluation with what it was computed from.
#[derive(Debug, Clone)]
pub struct PersonCompliance {
    pub person: person::Model,
    pub facts: PersonFacts,
    /// The completions of the two-year window, as the engine read them; the
    /// evaluation refers to them by id.
    pub completions: Vec<CompletionFact>,
    /// The catalog courses the person completed outside `completions` (before
    /// the window or, for a unit, after the as-of date): never recommended.
    /// Read with one person's facts; a unit's report leaves it empty and
    /// reads it for the people whose recommendations it shows
    /// ([`taken_elsewhere_of`]), since most reports show none.
    pub taken_elsewhere: Vec<i32>,
    pub evaluation: Evaluation,
}

/// How much of a unit's completions a read brings back.
///
/// A line's counted hours depend only on a completion's facet, level,
/// security category and whether it falls in the window's first or second
/// year, so a report of lines and statuses (the quarterly job, the CSV
/// report, `unitCompliance` without `counted` or `ignored`) lets the
/// database sum the hours: it sends a few rows per person instead of one per
/// completion, and decoding those rows was most of a unit read's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every completion of the window, by id, for showing which counted
    /// toward which line and which did not, and why.
    Completions,
    /// The window's hours summed per person, year, facet, level and security
    /// category. Each sum stands in [`PersonCompliance::completions`] as one
    /// completion with id 0 dated Jan 1 of its year, so the evaluation's
    /// lines and status are those of [`Detail::Completions`] but its
    /// `counted` and `ignored` name no real completion. The sums name no
    /// course either: recommendations need the courses taken at any date
    /// ([`taken_elsewhere_of`] at this detail).
    Totals,
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
    /// Catalog courses, for recommendations.
    pub catalog: Catalog,
    /// What `people`'s completions hold.
    pub detail: Detail,
}

/// The catalog courses (not archived) an evaluation may recommend, shared
/// with the reference cache rather than copied per evaluation.
#[derive(Debug, Clone)]
pub struct Catalog(Arc<Reference>);

impl Catalog {
    pub fn get(&self, id: &i32) -> Option<&course::Model> {
        self.0.course(*id)
    }

    /// The courses as the engine reads them, in id order.
    pub fn facts(&self) -> &[engine::CourseFact] {
        self.0.course_facts()
    }
}

impl PersonCompliance {
    /// The courses that close this person's shortfalls (see
    /// [`engine::recommend`]), leaving out `taken_elsewhere` and `also_taken`.
    pub fn recommendations(&self, catalog: &Catalog, also_taken: &[i32]) -> Vec<engine::Recommendation> {
        let taken: Vec<i32> = self.taken_elsewhere.iter().chain(also_taken).copied().collect();
        engine::recommend(&self.evaluation, &self.completions, &taken, catalog.facts())
    }
}

/// Checks the year and as-of date: the as-of date lies in the year; by default
/// it is today, or Dec 31 for a past year.
pub fn as_of_for(year: i32, as_of: Option<NaiveDate>, today: NaiveDate) -> Result<NaiveDate> {
    if !rules::YEARS.contains(&year) {
        return Err(Error::bad_input("year", "must be between 2000 and 2100"));
    }
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Error::bad_input("year", "is not a year"))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Error::bad_input("year", "is not a year"))?;
    let as_of = as_of.unwrap_or_else(|| today.clamp(first, last));
    if as_of.year() != year {
        return Err(Error::bad_input("asOf", format!("{as_of} is not in {year}")));
    }
    Ok(as_of)
}

/// One person, found by the caller, against reference data the caller holds.
/// Someone who left before the as-of date, or joins after it, is refused,
/// not evaluated: unit reports and the quarterly job leave them out, and one
/// answer must not say "behind" of a person those never count.
/// Their facts come from `recent` when they were read at `facts_generation`
/// (read with the person row), else from three indexed queries (roles,
/// evidence, completions), filed there for the next request.
pub async fn for_person(
    db: &(impl ConnectionTrait + StreamTrait),
    reference: Arc<Reference>,
    recent: &RecentFacts,
    facts_generation: i64,
    person: person::Model,
    year: i32,
    as_of: NaiveDate,
) -> Result<(PersonCompliance, UnitCompliance)> {
    let unit = reference
        .unit(person.unit_id)
        .cloned()
        .ok_or_else(|| Error::not_found("unit", person.unit_id))?;
    let (id, employee_no) = (person.id, person.employee_no.clone());
    if let Some(left_on) = person.left_on.filter(|left| *left < as_of) {
        let last_year = left_on.year();
        let ask = if last_year >= year {
            format!("ask for a date up to {left_on}")
        } else if reference.rules_in_force(last_year).is_some() {
            format!("ask for {last_year} or earlier")
        } else {
            format!("no rule set is in force for {last_year} or earlier, the years they were here")
        };
        return Err(Error::bad_input(
            "asOf",
            format!(
                "{employee_no} left on {left_on}, so is not evaluated as of {as_of}, as in unit reports and reminders; {ask}"
            ),
        ));
    }
    if let Some(joined_on) = person.joined_on.filter(|joined| *joined > as_of) {
        return Err(Error::bad_input(
            "asOf",
            format!(
                "{employee_no} joins on {joined_on}, so is not evaluated as of {as_of}, as in unit reports and reminders; ask for a date from {joined_on}"
            ),
        ));
    }

    let rows = match recent.get(facts_generation, id, year) {
        Some(rows) => rows,
        None => {
            let facts = load_facts(db, None, &Scope::Person(id), year, Detail::Completions).await?;
            let rows = Arc::new(facts.take(id));
            recent.put(facts_generation, id, year, rows.clone());
            rows
        }
    };

    let facts = Facts::of_one(id, &rows);
    let mut result = evaluate(reference, unit, vec![person], facts, (year, as_of), Detail::Completions)?;
    let one = result
        .people
        .pop()
        .ok_or_else(|| Error::not_found("person", employee_no))?;
    Ok((one, result))
}

/// Everyone in the unit and below who has not left before the as-of date,
/// with the reference data read afresh (for reports), as
/// [`for_unit_pooled`] reads them.
pub async fn for_unit(
    pool: &DatabaseConnection,
    unit_code: &str,
    year: i32,
    as_of: NaiveDate,
    detail: Detail,
) -> Result<UnitCompliance> {
    let reference = Arc::new(Reference::load_current(pool).await?);
    for_unit_pooled(pool, reference, unit_code, year, as_of, detail).await
}

/// A unit read with the connection or transaction the caller holds (the
/// quarterly job's on SQLite), against reference data it holds: four queries
/// (people, roles, evidence, completions) whatever the size.
pub async fn for_unit_with(
    db: &(impl ConnectionTrait + StreamTrait),
    reference: Arc<Reference>,
    unit_code: &str,
    year: i32,
    as_of: NaiveDate,
    detail: Detail,
) -> Result<UnitCompliance> {
    unit_from(db, None, reference, unit_code, year, as_of, detail).await
}

/// [`for_unit_with`] over the pool, for a request that waits on the answer:
/// one unit read from its own [`Snapshot`].
pub async fn for_unit_pooled(
    pool: &DatabaseConnection,
    reference: Arc<Reference>,
    unit_code: &str,
    year: i32,
    as_of: NaiveDate,
    detail: Detail,
) -> Result<UnitCompliance> {
    let snapshot = Snapshot::open(pool).await?;
    let unit = snapshot.unit(reference, unit_code, year, as_of, detail).await?;
    snapshot.close().await?;
    Ok(unit)
}

/// The database as it was at one moment, for reading one unit or many.
///
/// Every statement reads the same state, so that a report taken while an
/// import commits counts that import wholly or not at all, and the quarterly
/// job's agencies all see one moment: the people, roles and evidence are read
/// in one read-only transaction. On PostgreSQL the completions, most of the
/// rows, are read in [`PARTS`] parts side by side on their own connections
/// and decoded on their own tasks, each part's transaction joining the first
/// one's snapshot (`pg_export_snapshot`, as `pg_dump`'s parallel workers
/// do), so that decoding uses every core while the database scans. SQLite
/// cannot share a snapshot between connections, so there everything is read
/// in the one transaction.
pub struct Snapshot {
    txn: DatabaseTransaction,
    parts: Option<Parts>,
}

impl Snapshot {
    pub async fn open(pool: &DatabaseConnection) -> Result<Snapshot> {
        if pool.get_database_backend() != DbBackend::Postgres {
            let txn = pool.begin().await?;
            return Ok(Snapshot { txn, parts: None });
        }

        let txn = pool.begin_with_options(one_snapshot()).await?;
        let parts = Parts {
            pool: pool.clone(),
            snapshot: export_snapshot(&txn).await?,
        };
        Ok(Snapshot {
            txn,
            parts: Some(parts),
        })
    }

    /// Everyone in the unit and below who has not left before the as-of date.
    pub async fn unit(
        &self,
        reference: Arc<Reference>,
        unit_code: &str,
        year: i32,
        as_of: NaiveDate,
        detail: Detail,
    ) -> Result<UnitCompliance> {
        unit_from(
            &self.txn,
            self.parts.as_ref(),
            reference,
            unit_code,
            year,
            as_of,
            detail,
        )
        .await
    }

    /// The snapshot's transaction, for other reads of the same moment.
    pub fn reader(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Ends the read transaction (it wrote nothing).
    pub async fn close(self) -> Result<()> {
        self.txn.commit().await?;
        Ok(())
    }
}

/// Where the parts of a unit's completions are read: connections of `pool`,
/// in transactions that join `snapshot`.
struct Parts {
    pool: DatabaseConnection,
    snapshot: String,
}

/// A read-only transaction whose statements all see the database as it was
/// at its first statement (PostgreSQL's snapshots need repeatable read).
fn one_snapshot() -> TransactionOptions {
    TransactionOptions {
        isolation_level: Some(IsolationLevel::RepeatableRead),
        access_mode: Some(AccessMode::ReadOnly),
        sqlite_transaction_mode: None,
    }
}

/// The name of the transaction's snapshot, for others to join while it is
/// open.
async fn export_snapshot(txn: &DatabaseTransaction) -> Result<String> {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_export_snapshot()",
        ))
        .await?
        .ok_or_else(|| Error::Internal("pg_export_snapshot returned no row".into()))?;
    let name: String = row.try_get_by_index(0)?;
    // A name is hex digits and dashes (0000000A-0000001B-1); it is written
    // into SET TRANSACTION SNAPSHOT, which takes no bind parameter.
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(Error::Internal(format!("unexpected snapshot name {name:?}")));
    }
    Ok(name)
}

async fn unit_from(
    db: &(impl ConnectionTrait + StreamTrait),
    parts: Option<&Parts>,
    reference: Arc<Reference>,
    unit_code: &str,
    year: i32,
    as_of: NaiveDate,
    detail: Detail,
) -> Result<UnitCompliance> {
    let unit = reference
        .unit_by_code(unit_code)
        .cloned()
        .ok_or_else(|| Error::not_found("unit", unit_code))?;
    let scope = Scope::Units {
        ids: reference.subtree_ids(unit.id),
        as_of,
    };
    let people = async {
        let people = person::Entity::find()
            .filter(scope.unit_people())
            .order_by_asc(person::Column::EmployeeNo)
            .all(db)
            .await?;
        Ok(people)
    };

    if ConnectionTrait::get_database_backend(db) != DbBackend::Postgres {
        let (people, facts) = tokio::try_join!(people, load_facts(db, parts, &scope, year, detail))?;
        return evaluate(reference, unit, people, facts, (year, as_of), detail);
    }

    let people = people.await?;
    let listed = Scope::listed(&people, as_of);
    let facts = load_facts(db, parts, &listed, year, detail).await?;
    evaluate(reference, unit, people, facts, (year, as_of), detail)
}

/// Whose facts a query reads.
enum Scope {
    Person(i32),
    /// A unit's people, matched by a subquery on `person`, not a list of
    /// ids, so that no agency is too large for SQLite's bind limit.
    Units {
        ids: Vec<i32>,
        as_of: NaiveDate,
    },
    /// A unit's people read beforehand, listed by id in one array bound on
    /// PostgreSQL, so that the unit's other statements (roles, evidence and
    /// each part of the completions) do not each search `person` again.
    Listed {
        people: Vec<i32>,
        as_of: NaiveDate,
    },
}

impl Scope {
    /// The people read, in id order, so that each part's rows lie together
    /// in the completions' index.
    fn listed(people: &[person::Model], as_of: NaiveDate) -> Scope {
        let mut ids: Vec<i32> = people.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        Scope::Listed { people: ids, as_of }
    }

    /// The people of a unit scope who have neither left before the as-of
    /// date nor join after it, as a condition on `person`; the people of
    /// any other scope are known by id.
    fn unit_people(&self) -> SimpleExpr {
        match self {
            Scope::Units { ids, as_of } => person::Column::UnitId
                .is_in(ids.iter().copied())
                .and(person::Column::LeftOn.is_null().or(person::Column::LeftOn.gte(*as_of)))
                .and(
                    person::Column::JoinedOn
                        .is_null()
                        .or(person::Column::JoinedOn.lte(*as_of)),
                ),
            Scope::Person(_) | Scope::Listed { .. } => self.rows_of(person::Column::Id),
        }
    }

    /// The last completion date read. A unit's report and the quarterly job
    /// read nothing after the as-of date: the rows would only be listed as
    /// ignored (`AFTER_AS_OF`), and a report run months after its date would
    /// read every later row of the unit for that. One person's answer reads
    /// them all, since it is where "why did my April course not count?" is
    /// asked.
    fn completions_until(&self) -> Option<NaiveDate> {
        match self {
            Scope::Person(_) => None,
            Scope::Units { as_of, .. } | Scope::Listed { as_of, .. } => Some(*as_of),
        }
    }

    /// The rows of the scope's people, as a condition on a `person_id` column.
    fn rows_of(&self, person_id: impl ColumnTrait) -> SimpleExpr {
        self.rows_of_part(person_id, None)
    }

    /// The rows of part `k` of `n` of the scope's people (the `k`th of `n`
    /// runs of the list), or of all of them. Only a listed scope is read in
    /// parts ([`load_facts`]); any other is read whole.
    fn rows_of_part(&self, person_id: impl ColumnTrait, part: Option<(i32, i32)>) -> SimpleExpr {
        match self {
            Scope::Person(id) => person_id.eq(*id),
            Scope::Listed { people, .. } => {
                let run = match part {
                    Some((k, n)) => {
                        let size = people.len().div_ceil(n as usize).max(1);
                        people.chunks(size).nth(k as usize).unwrap_or_default()
                    }
                    None => people,
                };
                ExprTrait::eq(person_id.into_simple_expr(), PgFunc::any(Expr::val(run.to_vec())))
            }
            Scope::Units { .. } => {
                let mut people = Query::select();
                people
                    .column(person::Column::Id)
                    .from(person::Entity)
                    .and_where(self.unit_people());
                person_id.in_subquery(people.to_owned())
            }
        }
    }
}

/// The columns of a completion the engine reads, and nothing else (no title,
/// course key, source or timestamps): all of them are in the index
/// `completion_facts`, so PostgreSQL answers from the index alone. They are
/// read by position, as a tuple: looking each column of a city's million rows
/// up by name cost more than PostgreSQL's scan.
type CompletionRow = (
    i32,
    i32,
    Option<i32>,
    i32,
    NaiveDate,
    Option<Facet>,
    Option<Level>,
    Option<SecurityCategory>,
);

const COMPLETION_COLUMNS: [completion::Column; 8] = [
    completion::Column::Id,
    completion::Column::PersonId,
    completion::Column::CourseId,
    completion::Column::Centihours,
    completion::Column::CompletedOn,
    completion::Column::Facet,
    completion::Column::Level,
    completion::Column::SecurityCategory,
];

/// Each person's facts from their rows, by person id.
struct Facts {
    roles: HashMap<i32, Vec<role_assignment::Model>>,
    evidence: HashMap<i32, Vec<evidence::Model>>,
    completions: HashMap<i32, Vec<CompletionFact>>,
    taken_elsewhere: HashMap<i32, Vec<i32>>,
}

impl Facts {
    /// One person's rows, taken out.
    fn take(mut self, person_id: i32) -> PersonRows {
        PersonRows {
            roles: self.roles.remove(&person_id).unwrap_or_default(),
            evidence: self.evidence.remove(&person_id).unwrap_or_default(),
            completions: self.completions.remove(&person_id).unwrap_or_default(),
            taken_elsewhere: self.taken_elsewhere.remove(&person_id).unwrap_or_default(),
        }
    }

    /// The facts of one person whose rows are held elsewhere.
    fn of_one(person_id: i32, rows: &PersonRows) -> Facts {
        Facts {
            roles: HashMap::from([(person_id, rows.roles.clone())]),
            evidence: HashMap::from([(person_id, rows.evidence.clone())]),
            completions: HashMap::from([(person_id, rows.completions.clone())]),
            taken_elsewhere: HashMap::from([(person_id, rows.taken_elsewhere.clone())]),
        }
    }
}

/// How many parts [`for_unit_pooled`] reads a unit's completions in. Twice
/// the two cores of the machine the benchmarks ran on: while one part's rows
/// are decoded another's are scanned, so the database and the decoding keep
/// both cores busy (in BENCHMARKS.md's city run 2 parts were about 4% slower
/// and 1 part about 12%).
pub const PARTS: i32 = 4;

/// Completions by person.
type CompletionsByPerson = HashMap<i32, Vec<CompletionFact>>;

/// Reads the three kinds of rows at once: over a pool they run side by side
/// on separate connections, which shortens one person's answer. With `parts`
/// a unit's completions are read in [`PARTS`] parts on their own tasks.
async fn load_facts(
    db: &(impl ConnectionTrait + StreamTrait),
    parts: Option<&Parts>,
    scope: &Scope,
    year: i32,
    detail: Detail,
) -> Result<Facts> {
    let roles = async {
        let rows = role_assignment::Entity::find()
            .filter(scope.rows_of(role_assignment::Column::PersonId))
            .all(db)
            .await?;
        Ok(rows)
    };
    let evidence = async {
        let rows = evidence::Entity::find()
            .filter(scope.rows_of(evidence::Column::PersonId))
            .all(db)
            .await?;
        Ok(rows)
    };
    let window = async {
        match (parts, scope) {
            (Some(parts), Scope::Listed { .. }) => read_in_parts(db, parts, scope, year, detail).await,
            _ => WindowQuery::new(scope, year, detail, None).read(db).await,
        }
    };
    let taken_elsewhere = async {
        match scope {
            Scope::Person(id) => taken_elsewhere_of(db, &[*id], year, None, Detail::Completions).await,
            Scope::Units { .. } | Scope::Listed { .. } => Ok(HashMap::new()),
        }
    };
    let (roles, evidence, mut completions, taken_elsewhere) =
        tokio::try_join!(roles, evidence, window, taken_elsewhere)?;

    for mine in completions.values_mut() {
        mine.sort_unstable_by_key(|c| (c.completed_on, c.id));
    }
    Ok(Facts {
        roles: group(roles, |r| r.person_id),
        evidence: group(evidence, |e| e.person_id),
        completions,
        taken_elsewhere,
    })
}

/// The statement that reads a unit's window (or one part of it) at one
/// [`Detail`]; built before a part's task starts, which owns it.
enum WindowQuery {
    Completions(sea_orm::Select<completion::Entity>),
    Totals {
        query: sea_orm::Select<completion::Entity>,
        year: i32,
    },
}

impl WindowQuery {
    fn new(scope: &Scope, year: i32, detail: Detail, part: Option<(i32, i32)>) -> Self {
        match detail {
            Detail::Completions => WindowQuery::Completions(completions_query(scope, year, part)),
            Detail::Totals => WindowQuery::Totals {
                query: totals_query(scope, year, part),
                year,
            },
        }
    }

    async fn read(self, db: &(impl ConnectionTrait + StreamTrait)) -> Result<CompletionsByPerson> {
        match self {
            WindowQuery::Completions(query) => read_completions(db, query).await,
            WindowQuery::Totals { query, year } => read_totals(db, query, year).await,
        }
    }
}

/// The engine's columns of the scope's completions in the two-year window
/// (up to the as-of date for a unit), of one part of its people or all.
///
/// No ORDER BY: sorting a unit's tens of thousands of rows spills to disk in
/// PostgreSQL's default work memory; each person's few dozen are sorted by
/// [`load_facts`] instead.
fn completions_query(scope: &Scope, year: i32, part: Option<(i32, i32)>) -> sea_orm::Select<completion::Entity> {
    in_window(scope, year, part).columns(COMPLETION_COLUMNS)
}

/// The scope's completions of the two-year window, no columns chosen yet.
fn in_window(scope: &Scope, year: i32, part: Option<(i32, i32)>) -> sea_orm::Select<completion::Entity> {
    let window_start = engine::window_start(year - 1, 1);
    let mut completions = completion::Entity::find()
        .select_only()
        .filter(scope.rows_of_part(completion::Column::PersonId, part))
        .filter(completion::Column::CompletedOn.gte(window_start));
    if let Some(until) = scope.completions_until() {
        completions = completions.filter(completion::Column::CompletedOn.lte(until));
    }
    completions
}

/// A row of [`totals_query`]: person, 1 for the evaluated year or 0 for the
/// one before, facet, level, security category and centihours.
type TotalRow = (i32, i32, Option<Facet>, Option<Level>, Option<SecurityCategory>, i64);

/// The window's hours summed per person, year, facet, level and security
/// category ([`Detail::Totals`]). The year is told apart by a literal date,
/// not a bound one, so that PostgreSQL sees the grouped expression and the
/// selected one as the same; it comes from a `NaiveDate`, never from input.
fn totals_query(scope: &Scope, year: i32, part: Option<(i32, i32)>) -> sea_orm::Select<completion::Entity> {
    let this_year = engine::window_start(year, 1);
    let bucket = || Expr::cust(format!("CASE WHEN completed_on >= '{this_year}' THEN 1 ELSE 0 END"));

    in_window(scope, year, part)
        .column(completion::Column::PersonId)
        .expr(bucket())
        .column(completion::Column::Facet)
        .column(completion::Column::Level)
        .column(completion::Column::SecurityCategory)
        .expr(Expr::cust("SUM(centihours)"))
        .group_by(completion::Column::PersonId)
        .group_by(bucket())
        .group_by(completion::Column::Facet)
        .group_by(completion::Column::Level)
        .group_by(completion::Column::SecurityCategory)
}

/// Streamed like [`read_completions`]; each sum becomes one completion
/// dated Jan 1 of its year, which falls in exactly the windows its
/// completions fall in (a window starts on a Jan 1 and ends on the as-of
/// date, after every completion read).
async fn read_totals(
    db: &(impl ConnectionTrait + StreamTrait),
    query: sea_orm::Select<completion::Entity>,
    year: i32,
) -> Result<CompletionsByPerson> {
    let mut rows = query.into_tuple::<TotalRow>().stream(db).await?;
    let mut by_person = CompletionsByPerson::new();
    while let Some((person_id, this_year, facet, level, security_category, centihours)) = rows.try_next().await? {
        by_person.entry(person_id).or_default().push(CompletionFact {
            id: 0,
            course_id: None,
            title: String::new(),
            completed_on: engine::window_start(year - 1 + this_year, 1),
            hours: Hours::from_centihours(centihours),
            facet: facet.unwrap_or(Facet::Security),
            level,
            security_category,
        });
    }
    Ok(by_person)
}

/// The catalog courses these people completed that an evaluation read at
/// `detail` does not carry, by person: a course taken then is still taken,
/// and is not recommended again. At [`Detail::Completions`] those outside
/// the window of `year` (before it, or after `until`); at [`Detail::Totals`],
/// whose sums name no course, all of them. One row per person with the
/// course ids gathered by the database: a city's people have about 45 such
/// completions each, and decoding them one row each made the quarterly
/// job's read half as slow again.
pub async fn taken_elsewhere_of(
    db: &impl ConnectionTrait,
    people: &[i32],
    year: i32,
    until: Option<NaiveDate>,
    detail: Detail,
) -> Result<HashMap<i32, Vec<i32>>> {
    let mut taken = HashMap::new();
    for chunk in people.chunks(TAKEN_CHUNK) {
        taken.extend(taken_elsewhere_chunk(db, chunk, year, until, detail).await?);
    }
    Ok(taken)
}

/// People per statement in [`taken_elsewhere_of`], well under SQLite's bind
/// limit.
const TAKEN_CHUNK: usize = 5_000;

async fn taken_elsewhere_chunk(
    db: &impl ConnectionTrait,
    people: &[i32],
    year: i32,
    until: Option<NaiveDate>,
    detail: Detail,
) -> Result<Vec<(i32, Vec<i32>)>> {
    let mut query = completion::Entity::find()
        .select_only()
        .column(completion::Column::PersonId)
        .filter(completion::Column::PersonId.is_in(people.iter().copied()))
        .filter(completion::Column::CourseId.is_not_null())
        .group_by(completion::Column::PersonId);
    if detail == Detail::Completions {
        let window_start = engine::window_start(year - 1, 1);
        let mut outside = Condition::any().add(completion::Column::CompletedOn.lt(window_start));
        if let Some(until) = until {
            outside = outside.add(completion::Column::CompletedOn.gt(until));
        }
        query = query.filter(outside);
    }

    let courses: Vec<(i32, Vec<i32>)> = match ConnectionTrait::get_database_backend(db) {
        DbBackend::Postgres => {
            query
                .expr(Expr::cust("array_agg(DISTINCT course_id)"))
                .into_tuple()
                .all(db)
                .await?
        }
        _ => {
            let listed: Vec<(i32, String)> = query
                .expr(Expr::cust("group_concat(DISTINCT course_id)"))
                .into_tuple()
                .all(db)
                .await?;
            listed
                .into_iter()
                .map(|(person, ids)| (person, ids.split(',').filter_map(|id| id.parse().ok()).collect()))
                .collect()
        }
    };
    Ok(courses)
}

/// Streamed, so that each row is decoded while the database is still sending
/// the next ones: decoding a unit's rows costs about as much as the scan that
/// produces them.
async fn read_completions(
    db: &(impl ConnectionTrait + StreamTrait),
    query: sea_orm::Select<completion::Entity>,
) -> Result<CompletionsByPerson> {
    let mut rows = query.into_tuple::<CompletionRow>().stream(db).await?;
    let mut by_person = CompletionsByPerson::new();
    while let Some(row) = rows.try_next().await? {
        by_person.entry(row.1).or_default().push(completion_fact(row));
    }
    Ok(by_person)
}

/// How long a part waits for a connection of its own before it is left to
/// the snapshot's connection. Each unit read holds that connection while its
/// parts wait for theirs, so with a few large reads at once every connection
/// of the pool could be held by a read waiting for more.
const PART_WAIT: Duration = Duration::from_millis(100);

/// The parts are disjoint sets of people, so their maps are merged by
/// moving each person's vector, never by joining two. The tasks belong to
/// the request: if it is dropped (the client went away) or one part fails,
/// the others are stopped with it. A part that found no free connection is
/// read afterwards on `db`, the snapshot's own transaction.
async fn read_in_parts(
    db: &(impl ConnectionTrait + StreamTrait),
    from: &Parts,
    scope: &Scope,
    year: i32,
    detail: Detail,
) -> Result<CompletionsByPerson> {
    let mut parts = tokio::task::JoinSet::new();
    for k in 0..PARTS {
        let (pool, snapshot) = (from.pool.clone(), from.snapshot.clone());
        let query = WindowQuery::new(scope, year, detail, Some((k, PARTS)));
        parts.spawn(async move {
            let Ok(txn) = tokio::time::timeout(PART_WAIT, pool.begin_with_options(one_snapshot())).await else {
                return Ok((k, None));
            };
            let txn = txn?;
            txn.execute_unprepared(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'"))
                .await?;
            let part = query.read(&txn).await?;
            txn.commit().await?;
            Ok::<_, Error>((k, Some(part)))
        });
    }

    let mut all = CompletionsByPerson::new();
    let mut left = Vec::new();
    while let Some(part) = parts.join_next().await {
        match part.map_err(|e| Error::Internal(format!("reading completions stopped: {e}")))?? {
            (_, Some(part)) => all.extend(part),
            (k, None) => left.push(k),
        }
    }
    for k in left {
        let query = WindowQuery::new(scope, year, detail, Some((k, PARTS)));
        all.extend(query.read(db).await?);
    }
    Ok(all)
}

fn evaluate(
    reference: Arc<Reference>,
    unit: unit::Model,
    people: Vec<person::Model>,
    mut facts: Facts,
    (year, as_of): (i32, NaiveDate),
    detail: Detail,
) -> Result<UnitCompliance> {
    let rules = reference.require_rules(year)?;

    let evaluated = people
        .into_iter()
        .map(|person| {
            let completions = facts.completions.remove(&person.id).unwrap_or_default();
            let taken_elsewhere = facts.taken_elsewhere.remove(&person.id).unwrap_or_default();
            let person_facts = PersonFacts {
                role: personnel::role_on(facts.roles.get(&person.id).map_or(&[][..], Vec::as_slice), as_of),
                technical_background: has_background(&person, facts.evidence.get(&person.id), as_of),
                agency_level: reference.level_of(person.unit_id, as_of),
            };
            let evaluation = engine::evaluate(&person_facts, &completions, &rules.requirements, year, as_of);
            PersonCompliance {
                person,
                facts: person_facts,
                completions,
                taken_elsewhere,
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
        catalog: Catalog(reference),
        detail,
    })
}

/// Completions by id, whole, for showing what counted and what did not.
pub async fn completions_by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<completion::Model>> {
    Ok(completion::Entity::find()
        .filter(completion::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i32) -> HashMap<i32, Vec<T>> {
    group_map(rows, key, |row| row)
}

fn group_map<T, U>(rows: Vec<T>, key: impl Fn(&T) -> i32, map: impl Fn(T) -> U) -> HashMap<i32, Vec<U>> {
    let mut groups: HashMap<i32, Vec<U>> = HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(map(row));
    }
    groups
}

fn has_background(person: &person::Model, evidence: Option<&Vec<evidence::Model>>, as_of: NaiveDate) -> bool {
    let facts: Vec<background::EvidenceFact> = evidence.into_iter().flatten().map(personnel::evidence_fact).collect();
    background::derive(&facts, personnel::override_of(person), as_of).has_background
}

/// The engine never reads a completion's title, so it is left empty rather
/// than read and copied for every row; whoever shows a completion fetches its
/// whole row by id.
fn completion_fact(row: CompletionRow) -> CompletionFact {
    let (id, _person_id, course_id, centihours, completed_on, facet, level, security_category) = row;
    CompletionFact {
        id: id.into(),
        course_id,
        title: String::new(),
        completed_on,
        hours: Hours::from_centihours(centihours.into()),
        facet: facet.unwrap_or(Facet::Security),
        level,
        security_category,
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
