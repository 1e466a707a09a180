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

/// A GET of `/graphql` with the given query-string parameters, percent-encoded.
fn get_graphql(params: &[(&str, &str)]) -> Request<Body> {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    Request::get(format!("/graphql?{query}"))
        .body(Body::empty())
        .expect("request")
}

/// Two read-only operations and a mutation in one document.
const TWO_READS_AND_A_WRITE: &str = "query A { facets { code } } \
    query B { technicalDomains { code } } \
    mutation M { archiveCourse(id: \"1\") { id } }";

db_test! {
    async fn a_get_runs_the_operation_its_operation_name_names(app) {
        let routes = || server::router(app.schema.clone(), app.db.clone());

        let response = routes().oneshot(get_graphql(&[("query", TWO_READS_AND_A_WRITE), ("operationName", "B")])).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body["data"]["technicalDomains"][0], json!({ "code": "NETWORK" }), "{body:#}");
        assert_eq!(body["data"].as_object().map(|d| d.len()), Some(1), "only B ran: {body:#}");

        // async-graphql's own spelling still works.
        let response = routes().oneshot(get_graphql(&[("query", TWO_READS_AND_A_WRITE), ("operation_name", "A")])).await.expect("response");
        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body["data"]["facets"][0], json!({ "code": "POLICY" }), "{body:#}");
        assert!(body["data"].get("technicalDomains").is_none(), "{body:#}");

        // Named twice, neither runs.
        let twice = get_graphql(&[("query", TWO_READS_AND_A_WRITE), ("operationName", "A"), ("operationName", "B")]);
        let response = routes().oneshot(twice).await.expect("response");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body, json!({ "errors": [{
            "message": "operationName is given more than once; give it once",
            "extensions": { "code": "BAD_USER_INPUT" }
        }] }));
    }
}

db_test! {
    async fn a_get_naming_a_mutation_by_operation_name_is_refused(app) {
        let response = server::router(app.schema.clone(), app.db.clone())
            .oneshot(get_graphql(&[("query", TWO_READS_AND_A_WRITE), ("operationName", "M")]))
            .await
            .expect("response");

        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "POST");
        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body, json!({ "errors": [{
            "message": "a mutation must be sent with POST",
            "extensions": { "code": "BAD_USER_INPUT" }
        }] }));
    }
}

db_test! {
    async fn thousands_of_aliases_without_a_token_are_refused_before_they_run(app) {
        let aliases: Vec<String> = (0..20_000).map(|i| format!("a{i}: __typename")).collect();
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "query": format!("{{ {} }}", aliases.join(" ")) }).to_string()))
            .expect("request");

        let response = server::router(app.schema.clone(), app.db.clone()).oneshot(request).await.expect("response");

        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body["data"], Value::Null, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], json!("BAD_USER_INPUT"), "{body}");
        assert!(
            body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("more than 5000 selections")),
            "{body}"
        );
    }
}

db_test! {
    async fn a_fragment_bomb_without_a_token_is_refused_before_any_other_check_follows_it(app) {
        // Each fragment spreads the next twice: 2^40 paths. Following every
        // spread afresh, as async-graphql's recursion check does, took
        // seconds from 23 levels on, doubling with each; that check
        // answering first would mean the count came too late.
        let mut query = String::from("{ ...F0 }");
        for i in 0..40 {
            query.push_str(&format!(" fragment F{i} on QueryRoot {{ ...F{} ...F{} }}", i + 1, i + 1));
        }
        query.push_str(" fragment F40 on QueryRoot { facets { name } }");
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "query": query }).to_string()))
            .expect("request");

        let response = server::router(app.schema.clone(), app.db.clone()).oneshot(request).await.expect("response");

        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], json!("BAD_USER_INPUT"), "{body}");
        assert!(
            body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("more than 5000 selections")),
            "{body}"
        );
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

db_test! {
    async fn response_fields_come_in_the_order_of_the_query(app) {
        // `courses` waits on the database and `__typename` does not, so a
        // response built in the order fields finish would put `t` first.
        let query = "{ c: courses(first: 2) { edges { node { title id } } totalCount } t: __typename }";
        for _ in 0..5 {
            let request = Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({ "query": query }).to_string()))
                .expect("request");
            let response = server::router(app.schema.clone(), app.db.clone()).oneshot(request).await.expect("response");
            let text = body_text(response).await;

            assert!(text.starts_with(r#"{"data":{"c":{"edges":[{"node":{"title":"#), "{text}");
            let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle} in {text}"));
            assert!(at(r#""id":"#) > at(r#""title":"#), "{text}");
            assert!(at(r#""totalCount":"#) > at(r#""edges":"#), "{text}");
            assert!(text.ends_with(r#""t":"QueryRoot"}}"#), "{text}");
        }
    }
}

db_test! {
    async fn a_body_that_is_not_a_graphql_request_says_what_to_send(app) {
        let post = |content_type: &'static str, body: &'static str| {
            Request::post("/graphql")
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .expect("request")
        };
        let shape = "send a JSON object such as {\"query\": \"{ facets { code } }\"}, with the query as a string, \
                     and variables (an object) and operationName if needed, or a list of them";
        let cases = [
            (post("application/json", "{}"), "the request has no query; send one such as {\"query\": \"{ facets { code } }\"}".to_string()),
            (post("application/json", "[]"), "the request has no query; send one such as {\"query\": \"{ facets { code } }\"}".to_string()),
            (post("application/json", "{\"query\": 123}"), format!("the body is not a GraphQL request; {shape}")),
            (post("application/json", "{\"query\": \"{ facets { code } }\", \"variables\": \"x\"}"), format!("the body is not a GraphQL request; {shape}")),
        ];
        for (request, message) in cases {
            let response = server::router(app.schema.clone(), app.db.clone()).oneshot(request).await.expect("response");
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
            assert_eq!(body, json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] }));
        }

        let response = server::router(app.schema.clone(), app.db.clone())
            .oneshot(post("application/graphql", "{ facets { code } }"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_str(&body_text(response).await).expect("json");
        let message = body["errors"][0]["message"].as_str().expect("message");
        assert!(message.starts_with("the body is not JSON ("), "{message}");
        assert!(message.ends_with("as Content-Type: application/json"), "{message}");
        assert!(!message.contains("BatchRequest"), "{message}");
    }
}
