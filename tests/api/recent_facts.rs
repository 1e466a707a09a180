//! One person's facts (roles, evidence, completions) are kept between
//! `compliance` requests, but never served older than the last write: an
//! import, or plain SQL, shows in the very next question, on this schema and
//! on a second one over the same database (another replica).

use std::sync::atomic::Ordering;

use async_graphql::{Request, Variables};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use learnmap::graphql::{self, Caller};

use crate::db_test;
use crate::fixtures::scenario;
use crate::helpers::{TestApp, counting_statements};

const STANDING: &str = r#"query($no: String!) {
  compliance(employeeNo: $no, year: 2026, asOf: "2026-03-31") {
    role technicalBackground status
    lines { facet securityCategory countedHours }
  }
}"#;

/// The question as an admin on `schema`.
async fn standing_on(schema: &graphql::AppSchema, no: &str) -> Value {
    let request = Request::new(STANDING)
        .variables(Variables::from_json(json!({ "no": no })))
        .data(Caller::admin());
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    serde_json::to_value(&response.data).expect("json")["compliance"].clone()
}

async fn standing(app: &TestApp, no: &str) -> Value {
    standing_on(&app.schema, no).await
}

fn counted(standing: &Value, facet: &str) -> Value {
    let lines = standing["lines"].as_array().expect("lines");
    let line = lines
        .iter()
        .find(|l| l["facet"] == json!(facet))
        .expect("a line of the facet");
    line["countedHours"].clone()
}

const COMPLETIONS_HEADER: &str =
    "employee_no,course_code,course_title,platform,facet,level,security_category,hours,completed_on";

db_test! {
    async fn an_imported_completion_shows_at_once_on_every_replica(app) {
        scenario(&app).await;
        let replica = graphql::schema(app.db.clone());
        assert_eq!(counted(&standing(&app, "P1").await, "POLICY"), json!(1.0));
        assert_eq!(counted(&standing_on(&replica, "P1").await, "POLICY"), json!(1.0));

        let csv = format!("{COMPLETIONS_HEADER}\nP1,,資訊政策研習,,policy,,,2,2026-03-01\n");
        let import = "mutation($c: String!) { importCompletions(csv: $c) { created } }";
        assert_eq!(app.data(import, json!({ "c": csv })).await, json!({ "importCompletions": { "created": 1 } }));

        assert_eq!(counted(&standing(&app, "P1").await, "POLICY"), json!(3.0));
        assert_eq!(counted(&standing_on(&replica, "P1").await, "POLICY"), json!(3.0));
    }
}

db_test! {
    async fn imported_evidence_gives_a_background_at_once(app) {
        scenario(&app).await;
        assert_eq!(standing(&app, "P1").await["technicalBackground"], json!(false));

        let csv = "employee_no,criterion,detail,category,obtained_on,expires_on,amount\n\
                   P1,job_series,資訊處理職系,,2019-08-01,,\n";
        let import = "mutation($e: String!) { importEvidence(csv: $e) { created } }";
        assert_eq!(app.data(import, json!({ "e": csv })).await, json!({ "importEvidence": { "created": 1 } }));

        assert_eq!(standing(&app, "P1").await["technicalBackground"], json!(true));
    }
}

db_test! {
    async fn writes_in_plain_sql_are_seen_too(app) {
        scenario(&app).await;
        let replica = graphql::schema(app.db.clone());
        assert_eq!(standing_on(&replica, "P1").await["role"], json!("IT_STAFF"));
        assert_eq!(counted(&standing_on(&replica, "P1").await, "POLICY"), json!(1.0));

        app.db
            .execute_unprepared("DELETE FROM completion WHERE title = '政策講座'")
            .await
            .expect("delete");
        assert_eq!(counted(&standing_on(&replica, "P1").await, "POLICY"), json!(0.0));

        app.db
            .execute_unprepared("UPDATE role_assignment SET role = 'security_officer'")
            .await
            .expect("update");
        assert_eq!(standing_on(&replica, "P1").await["role"], json!("SECURITY_OFFICER"));
    }
}

/// Statements one `compliance` question issues on a fresh schema, then the
/// same question again.
async fn statements(app: &TestApp) -> (usize, usize) {
    scenario(app).await;
    let (db, counter) = counting_statements(&app.db);
    let schema = graphql::schema(db);

    standing_on(&schema, "P1").await;
    let first = counter.swap(0, Ordering::Relaxed);
    standing_on(&schema, "P1").await;
    (first, counter.load(Ordering::Relaxed))
}

db_test! {
    async fn asked_again_a_persons_compliance_costs_one_statement(app) {
        // Counted by hand. First: the person with both generation numbers,
        // the reference data (courses, units, agency levels, rule sets,
        // requirements), then roles, evidence, completions and the courses
        // taken before the window. Again: the person with the generation
        // numbers, which match.
        assert_eq!(statements(&app).await, (10, 1));
    }
}
