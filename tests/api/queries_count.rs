//! No N+1 queries: the number of SQL statements a nested query issues must not
//! grow with the number of people it returns. Each statement is counted with
//! SeaORM's metric callback on the connection the schema uses.

use std::sync::atomic::Ordering;

use async_graphql::Request;
use learnmap::compliance::service;
use learnmap::demo::{self, DemoOptions};
use learnmap::graphql::{self, Caller};

use crate::helpers::{TestApp, counting_statements};

const UNIT_NESTED: &str = r#"{ unitCompliance(unitCode: "DEMO-A01", year: 2026, asOf: "2026-03-31") {
    people behind(first: 100) { totalCount edges { node { status
      counted { line completion { title source } } ignored { reason completion { title } }
      person { name unit { name parent { code } } agency { securityLevel } supervisor { name } } } } } } }"#;

const PEOPLE_NESTED: &str =
    "{ people(first: 50) { totalCount edges { node { employeeNo unit { name agency { code } } role
    roleHistory { role } technicalBackground { hasBackground } evidence { detail } supervisor { employeeNo }
    directReports { employeeNo } } } } }";

/// Statements issued by `query` on a database holding `people` demo people,
/// and how many people the answer lists.
async fn count(app: TestApp, people: usize, query: &str) -> (usize, usize) {
    demo::generate(&app.db, DemoOptions { people, seed: 3 })
        .await
        .expect("gen-demo");
    let (db, counter) = counting_statements(&app.db);
    let schema = graphql::schema(db);
    let response = schema.execute(Request::new(query).data(Caller::admin())).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let json = serde_json::to_value(&response.data).expect("json");
    let listed = json
        .as_object()
        .and_then(|o| o.values().next())
        .map(|v| {
            let edges = if v.get("behind").is_some() {
                &v["behind"]["edges"]
            } else {
                &v["edges"]
            };
            edges.as_array().map_or(0, Vec::len)
        })
        .unwrap_or(0);
    (counter.load(Ordering::Relaxed), listed)
}

/// Statements of `people(first: 50)` with its nested fields, counted by hand:
/// the generation check, the reference reload (courses, units, levels, rule
/// sets, requirements), then the listing's own and one per batched field.
const PEOPLE_STATEMENTS: usize = 12;

/// The same for `unitCompliance` on SQLite, which reads a unit's
/// completions in one statement and the courses taken outside them in
/// another.
const UNIT_STATEMENTS_SQLITE: usize = 13;

/// On PostgreSQL the completions are read in [`service::PARTS`] statements
/// side by side, plus the export of the snapshot they share.
const UNIT_STATEMENTS_POSTGRES: usize = UNIT_STATEMENTS_SQLITE + service::PARTS as usize;

async fn assert_flat(small: TestApp, large: TestApp, query: &str, most: usize) {
    let (few, listed_few) = count(small, 5, query).await;
    let (many, listed_many) = count(large, 50, query).await;
    assert!(
        listed_many > listed_few,
        "the larger set must list more people ({listed_few} vs {listed_many})"
    );
    eprintln!("statements: {few} for {listed_few} people listed, {many} for {listed_many}");
    assert_eq!(
        few, many,
        "statements grow with people: {few} for {listed_few} people listed, {many} for {listed_many}"
    );
    assert!(few <= most, "{few} statements: more than the batches account for");
}

async fn pair_sqlite() -> (TestApp, TestApp) {
    (TestApp::sqlite().await, TestApp::sqlite().await)
}

async fn pair_postgres() -> Option<(TestApp, TestApp)> {
    Some((TestApp::postgres().await?, TestApp::postgres().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_compliance_nested_is_flat_sqlite() {
    let (a, b) = pair_sqlite().await;
    assert_flat(a, b, UNIT_NESTED, UNIT_STATEMENTS_SQLITE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    learnmap_no_postgres,
    ignore = "TEST_DATABASE_URL was not set when the tests were built"
)]
async fn unit_compliance_nested_is_flat_postgres() {
    let Some((a, b)) = pair_postgres().await else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL run skipped");
        return;
    };
    assert_flat(a, b, UNIT_NESTED, UNIT_STATEMENTS_POSTGRES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_nested_is_flat_sqlite() {
    let (a, b) = pair_sqlite().await;
    assert_flat(a, b, PEOPLE_NESTED, PEOPLE_STATEMENTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    learnmap_no_postgres,
    ignore = "TEST_DATABASE_URL was not set when the tests were built"
)]
async fn people_nested_is_flat_postgres() {
    let Some((a, b)) = pair_postgres().await else {
        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL run skipped");
        return;
    };
    assert_flat(a, b, PEOPLE_NESTED, PEOPLE_STATEMENTS).await;
}
