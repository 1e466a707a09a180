//! Parsed queries are kept by their text, but each request is still
//! validated on its own: a kept query with several operations runs the one
//! asked for, one that is too deep is refused every time, and texts that do
//! not parse or are very long are not kept.

use async_graphql::Request;
use serde_json::{Value, json};

use learnmap::graphql::parsed::{MAX_TEXT, ParsedQueries};
use learnmap::graphql::{Caller, MAX_DEPTH};

use crate::db_test;
use crate::helpers::{TestApp, code};

fn kept(app: &TestApp) -> usize {
    app.schema
        .data::<ParsedQueries>()
        .expect("the schema keeps parsed queries")
        .len()
}

async fn run(app: &TestApp, query: &str, operation: Option<&str>) -> Value {
    let mut request = Request::new(query).data(Caller::admin());
    if let Some(name) = operation {
        request = request.operation_name(name);
    }
    serde_json::to_value(app.schema.execute(request).await).expect("json")
}

/// `person { unit { parent { parent … } } }`, nested past the depth limit.
fn too_deep() -> String {
    let mut query = String::from("code");
    for _ in 0..MAX_DEPTH {
        query = format!("parent {{ {query} }}");
    }
    format!("{{ person(employeeNo: \"X\") {{ unit {{ {query} }} }} }}")
}

db_test! {
    async fn a_kept_query_runs_the_operation_asked_for(app) {
        let both = "query Count { courses(first: 0) { totalCount } } query Facets { facets { code } }";

        let count = run(&app, both, Some("Count")).await;
        assert_eq!(count["data"], json!({ "courses": { "totalCount": 54 } }));
        let facets = run(&app, both, Some("Facets")).await;
        assert_eq!(facets["data"]["facets"].as_array().map(Vec::len), Some(5));
        let again = run(&app, both, Some("Count")).await;
        assert_eq!(again, count);

        assert_eq!(kept(&app), 1);
    }
}

db_test! {
    async fn a_kept_query_is_validated_every_time(app) {
        let query = too_deep();
        for _ in 0..2 {
            let response = run(&app, &query, None).await;
            assert_eq!(code(&response["errors"][0]), "BAD_USER_INPUT", "{response}");
            assert!(response["data"].is_null(), "{response}");
        }
        assert_eq!(kept(&app), 1, "it parsed, so it is kept; validation still refuses it");
    }
}

db_test! {
    async fn broken_or_long_texts_are_not_kept(app) {
        let broken = run(&app, "{ facets {", None).await;
        assert_eq!(code(&broken["errors"][0]), "BAD_USER_INPUT");

        let long = format!("{{ facets {{ code }} }}\n#{}", "x".repeat(MAX_TEXT));
        let answer = run(&app, &long, None).await;
        assert_eq!(answer["data"]["facets"].as_array().map(Vec::len), Some(5));

        assert_eq!(kept(&app), 0);
    }
}
