//! Seeding is idempotent and never overwrites an admin's edits.

use learnmap::seed::{self, SeedReport};
use serde_json::json;

use crate::db_test;

db_test! {
    async fn seeding_twice_adds_nothing(app) {
        let again = seed::run(&app.db).await.expect("second seed");
        assert_eq!(again, SeedReport::default());

        let data = app.data("{ courses(first: 0) { totalCount } facets { topics } }", json!({})).await;
        assert_eq!(data["courses"]["totalCount"], json!(54));
        assert_eq!(data["facets"][0]["topics"].as_array().map(Vec::len), Some(6));
    }
}

db_test! {
    async fn reseeding_keeps_an_admins_edit(app) {
        let edit = r#"mutation { updateCourse(id: "1", input: { hours: 1.5 }) { hours } }"#;
        app.data(edit, json!({})).await;

        seed::run(&app.db).await.expect("reseed");

        let data = app.data(r#"{ course(id: "1") { hours } }"#, json!({})).await;
        assert_eq!(data["course"]["hours"], json!(1.5));
    }
}
