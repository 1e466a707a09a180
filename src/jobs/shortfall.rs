//! The quarterly snapshot (`quarterly_shortfall`): one row per person and
//! requirement line, as the job evaluated them.
//!
//! A city run writes about a hundred thousand rows. On PostgreSQL an
//! agency's rows go in one statement whose columns are bound as arrays and
//! spread back into rows by `unnest`: the statement text never changes, so it
//! is parsed and planned once, where a multi-row `VALUES` list of a thousand
//! rows was parsed and planned for every chunk and cost more than the writing
//! itself. SQLite, in process, takes multi-row inserts.

use entity::{Facet, SecurityCategory, quarterly_shortfall};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, Set, Statement,
    Value,
};

use crate::compliance::engine::Line;
use crate::compliance::service::PersonCompliance;
use crate::error::Result;
use crate::hours::Hours;
use crate::report::status_code;

/// Rows per insert on SQLite: 16 columns each stays under its 32,766 bind
/// parameters.
const SQLITE_CHUNK: usize = 1_000;

/// Which quarter, and which run, the rows belong to.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub year: i32,
    pub quarter: i32,
    pub run_id: i32,
}

/// One line of the snapshot, without its id.
#[derive(Debug, Clone)]
pub struct ShortfallRow {
    person_id: i32,
    employee_no: String,
    unit_id: i32,
    status: &'static str,
    facet: Facet,
    security_category: Option<SecurityCategory>,
    levels: String,
    window_years: i32,
    required: i32,
    counted: i32,
    expected: i32,
    shortfall: i32,
    behind: bool,
}

/// The snapshot lines of an agency's people, in their order.
pub fn rows_of(people: &[PersonCompliance]) -> Vec<ShortfallRow> {
    people
        .iter()
        .flat_map(|p| p.evaluation.lines.iter().map(move |line| row(p, line)))
        .collect()
}

fn row(p: &PersonCompliance, line: &Line) -> ShortfallRow {
    let centi = |h: Hours| h.centihours() as i32;
    let requirement = &line.requirement;
    ShortfallRow {
        person_id: p.person.id,
        employee_no: p.person.employee_no.clone(),
        unit_id: p.person.unit_id,
        status: status_code(p.evaluation.status),
        facet: requirement.facet,
        security_category: requirement.security_category,
        levels: requirement
            .levels
            .iter()
            .map(|l| format!("{l:?}"))
            .collect::<Vec<_>>()
            .join(","),
        window_years: requirement.window_years.into(),
        required: centi(line.required),
        counted: centi(line.counted),
        expected: centi(line.expected),
        shortfall: centi(line.shortfall),
        behind: line.behind,
    }
}

/// A rerun of a quarter replaces its snapshot; other quarters stay.
pub async fn delete(txn: &DatabaseTransaction, period: Period) -> Result<()> {
    quarterly_shortfall::Entity::delete_many()
        .filter(quarterly_shortfall::Column::Year.eq(period.year))
        .filter(quarterly_shortfall::Column::Quarter.eq(period.quarter))
        .exec(txn)
        .await?;
    Ok(())
}

/// Writes the rows in the run's transaction.
pub async fn insert(txn: &DatabaseTransaction, period: Period, rows: Vec<ShortfallRow>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match txn.get_database_backend() {
        DbBackend::Postgres => insert_unnested(txn, period, rows).await,
        _ => insert_chunked(txn, period, rows).await,
    }
}

/// The columns as arrays, in the order of [`INSERT_UNNESTED`]'s placeholders
/// `$4` to `$16`. A missing security category travels as an empty string,
/// since a text array bound from Rust holds no NULL, and `NULLIF` turns it
/// back.
const INSERT_UNNESTED: &str = "INSERT INTO quarterly_shortfall \
    (year, quarter, run_id, person_id, employee_no, unit_id, status, facet, security_category, levels, \
     window_years, required_centihours, counted_centihours, expected_centihours, shortfall_centihours, behind) \
    SELECT $1, $2, $3, r.person_id, r.employee_no, r.unit_id, r.status, r.facet, NULLIF(r.security_category, ''), \
           r.levels, r.window_years, r.required, r.counted, r.expected, r.shortfall, r.behind \
    FROM unnest($4::int[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[], \
                $11::int[], $12::int[], $13::int[], $14::int[], $15::int[], $16::bool[]) \
      AS r(person_id, employee_no, unit_id, status, facet, security_category, levels, \
           window_years, required, counted, expected, shortfall, behind)";

async fn insert_unnested(txn: &DatabaseTransaction, period: Period, rows: Vec<ShortfallRow>) -> Result<()> {
    let ints = |f: fn(&ShortfallRow) -> i32| -> Value { rows.iter().map(f).collect::<Vec<i32>>().into() };
    let texts = |f: fn(&ShortfallRow) -> String| -> Value { rows.iter().map(f).collect::<Vec<String>>().into() };

    let values: Vec<Value> = vec![
        period.year.into(),
        period.quarter.into(),
        period.run_id.into(),
        ints(|r| r.person_id),
        texts(|r| r.employee_no.clone()),
        ints(|r| r.unit_id),
        texts(|r| r.status.to_string()),
        texts(|r| r.facet.to_value()),
        texts(|r| r.security_category.map(|c| c.to_value()).unwrap_or_default()),
        texts(|r| r.levels.clone()),
        ints(|r| r.window_years),
        ints(|r| r.required),
        ints(|r| r.counted),
        ints(|r| r.expected),
        ints(|r| r.shortfall),
        rows.iter().map(|r| r.behind).collect::<Vec<bool>>().into(),
    ];
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        INSERT_UNNESTED,
        values,
    ))
    .await?;
    Ok(())
}

async fn insert_chunked(txn: &DatabaseTransaction, period: Period, rows: Vec<ShortfallRow>) -> Result<()> {
    for chunk in rows.chunks(SQLITE_CHUNK) {
        let models = chunk.iter().map(|r| active_model(period, r));
        quarterly_shortfall::Entity::insert_many(models)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

fn active_model(period: Period, r: &ShortfallRow) -> quarterly_shortfall::ActiveModel {
    quarterly_shortfall::ActiveModel {
        year: Set(period.year),
        quarter: Set(period.quarter),
        run_id: Set(period.run_id),
        person_id: Set(r.person_id),
        employee_no: Set(r.employee_no.clone()),
        unit_id: Set(r.unit_id),
        status: Set(r.status.to_string()),
        facet: Set(r.facet),
        security_category: Set(r.security_category),
        levels: Set(r.levels.clone()),
        window_years: Set(r.window_years),
        required_centihours: Set(r.required),
        counted_centihours: Set(r.counted),
        expected_centihours: Set(r.expected),
        shortfall_centihours: Set(r.shortfall),
        behind: Set(r.behind),
        ..Default::default()
    }
}
