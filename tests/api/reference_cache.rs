//! The reference cache (catalog, rule sets, unit tree and agency levels) never
//! serves data older than the last write: an admin's edit, an import or plain
//! SQL shows in the very next compliance query, on this schema and on a second
//! one over the same database (another replica).

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use learnmap::graphql;

use crate::db_test;
use crate::fixtures::scenario;
use crate::helpers::TestApp;

const STANDING: &str = r#"query($no: String!) {
  compliance(employeeNo: $no, year: 2026, asOf: "2026-03-31") {
    agencyLevel
    lines { facet securityCategory requiredHours }
    recommendations { line courses { id title } }
  }
}"#;

async fn standing(app: &TestApp, no: &str) -> Value {
    app.data(STANDING, json!({ "no": no })).await["compliance"].clone()
}

/// The same query on a second schema over the same database, as another
/// server process would run it.
async fn standing_on(replica: &graphql::AppSchema, no: &str) -> Value {
    let request = async_graphql::Request::new(STANDING)
        .variables(async_graphql::Variables::from_json(json!({ "no": no })))
        .data(graphql::Caller::admin());
    let response = replica.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    serde_json::to_value(&response.data).expect("json")["compliance"].clone()
}

db_test! {
    async fn an_imported_level_change_shows_at_once_on_every_replica(app) {
        scenario(&app).await;
        let replica = graphql::schema(app.db.clone());
        assert_eq!(standing(&app, "P1").await["agencyLevel"], json!("B"));
        assert_eq!(standing_on(&replica, "P1").await["agencyLevel"], json!("B"));

        let csv = "unit_code,name,parent_code,security_level,level_since\nAG1,臺北市政府測試局,,A,2026-01-01\n";
        app.data("mutation($u: String!) { importUnits(csv: $u) { updated } }", json!({ "u": csv })).await;

        assert_eq!(standing(&app, "P1").await["agencyLevel"], json!("A"));
        assert_eq!(standing_on(&replica, "P1").await["agencyLevel"], json!("A"));
    }
}

db_test! {
    async fn a_replaced_rule_set_applies_to_the_next_question(app) {
        scenario(&app).await;
        let before = standing(&app, "P1").await;
        assert_eq!(before["lines"].as_array().map(Vec::len), Some(6));

        let replace = r#"mutation { setRequirements(year: 2026, note: "only policy", requirements: [
            { role: IT_STAFF, facet: POLICY, hours: 5 } ]) { year } }"#;
        app.data(replace, json!({})).await;

        let after = standing(&app, "P1").await;
        assert_eq!(after["lines"], json!([{ "facet": "POLICY", "securityCategory": null, "requiredHours": 5.0 }]));
    }
}

db_test! {
    async fn an_edited_or_archived_course_changes_the_recommendations(app) {
        scenario(&app).await;
        let before = standing(&app, "P1").await;
        let first = before["recommendations"][0]["courses"][0].clone();
        let id = first["id"].as_str().expect("a recommended course").to_string();
        assert_ne!(first["title"], json!("改名後的課程"));

        let rename = "mutation($id: ID!) { updateCourse(id: $id, input: { title: \"改名後的課程\" }) { id } }";
        app.data(rename, json!({ "id": id })).await;
        let renamed = standing(&app, "P1").await;
        assert_eq!(renamed["recommendations"][0]["courses"][0], json!({ "id": id, "title": "改名後的課程" }));

        app.data("mutation($id: ID!) { archiveCourse(id: $id) { id } }", json!({ "id": id })).await;
        let archived = standing(&app, "P1").await;
        let ids: Vec<&Value> = archived["recommendations"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["courses"].as_array().into_iter().flatten())
            .map(|c| &c["id"])
            .collect();
        assert!(!ids.contains(&&json!(id)), "archived course {id} still recommended: {ids:?}");
    }
}

db_test! {
    async fn a_write_in_plain_sql_is_seen_too(app) {
        scenario(&app).await;
        let replica = graphql::schema(app.db.clone());
        assert_eq!(standing_on(&replica, "P4").await["agencyLevel"], json!("D"));

        app.db
            .execute_unprepared("UPDATE agency_level SET level = 'E'")
            .await
            .expect("update");

        assert_eq!(standing_on(&replica, "P4").await["agencyLevel"], json!("E"));
        assert_eq!(standing(&app, "P1").await["agencyLevel"], json!("E"));
    }
}
