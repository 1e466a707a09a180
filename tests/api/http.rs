//! The HTTP surface: GraphQL over POST and GET, GraphiQL for browsers.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use learnmap::server;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::db_test;

async fn body_text(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8 body")
}

db_test! {
    async fn answers_graphql_over_post(app) {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "query": "{ courses(first: 0) { totalCount } }" }).to_string()))
            .expect("request");

        let response = server::router(app.schema.clone(), app.db.clone()).oneshot(request).await.expect("response");

        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body, json!({ "data": { "courses": { "totalCount": 54 } } }));
    }
}

db_test! {
    async fn serves_graphiql_to_browsers(app) {
        let request = Request::get("/graphql")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .body(Body::empty())
            .expect("request");

        let response = server::router(app.schema.clone(), app.db.clone()).oneshot(request).await.expect("response");

        assert_eq!(response.status(), StatusCode::OK);
        let html = body_text(response).await;
        assert!(html.contains("graphiql"), "GraphiQL page: {html:.200}");
    }
}

db_test! {
    async fn answers_a_get_query(app) {
        let request = Request::get("/graphql?query=%7Bfacets%7Bcode%7D%7D").body(Body::empty()).expect("request");

        let response = server::router(app.schema.clone(), app.db.clone()).oneshot(request).await.expect("response");

        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body["data"]["facets"][4], json!({ "code": "SECURITY" }));
    }
}

#[tokio::test]
async fn introspection_fits_the_limits() {
    let app = crate::helpers::TestApp::sqlite().await;
    let query = include_str!("introspection.graphql");
    let response = app.execute(query, json!({})).await;
    assert!(response.get("errors").is_none(), "{:#}", response["errors"]);
    assert!(
        response["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 20)
    );
}
