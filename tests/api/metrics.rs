//! `GET /metrics`: what GraphQL requests, HTTP routes, the quarterly job and
//! the mail it sends to a loopback SMTP server leave in the counters.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use learnmap::auth::{Secret, Signer, Verifier};
use learnmap::graphql;
use learnmap::mail::MailConfig;
use learnmap::server::{self, ServerArgs};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::db_test;
use crate::fixtures::scenario;
use crate::helpers::TestApp;
use crate::smtp::SmtpServer;

const SECRET: &str = "the metrics test secret, at least 32 bytes long";

fn routes(app: &TestApp, mail: MailConfig, args: ServerArgs) -> Router {
    let verifier = Verifier::new("learnmap", "learnmap")
        .with_secret(&Secret::new(SECRET))
        .expect("secret");
    server::app(
        graphql::schema_with_mail(app.db.clone(), mail),
        app.db.clone(),
        verifier,
        args,
    )
}

fn admin_token() -> String {
    Signer::new(&Secret::new(SECRET), "learnmap", "learnmap")
        .expect("signer")
        .token("A1", true, Duration::from_secs(600))
        .expect("token")
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, content_type, String::from_utf8(bytes.to_vec()).expect("utf-8"))
}

async fn graphql(router: &Router, body: Value, token: Option<&str>) -> Value {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let (_, _, text) = send(router, request.body(Body::from(body.to_string())).expect("request")).await;
    serde_json::from_str(&text).expect("json")
}

/// Every sample of the exposition, `name{labels}` to value.
async fn samples(router: &Router) -> BTreeMap<String, f64> {
    let (status, content_type, text) =
        send(router, Request::get("/metrics").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').expect("a sample is a name and a value");
            (name.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

fn value(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples.get(name).copied().unwrap_or(0.0)
}

/// The sum of the samples whose name starts with `prefix`.
fn sum(samples: &BTreeMap<String, f64>, prefix: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

db_test! {
    async fn counts_graphql_operations_by_name_and_outcome(app) {
        let router = routes(&app, MailConfig::default(), ServerArgs::default());

        let named = json!({ "query": "query CourseCount { courses(first: 0) { totalCount } }" });
        assert_eq!(graphql(&router, named.clone(), None).await["data"]["courses"]["totalCount"], 54);
        graphql(&router, named, None).await;
        let unknown = graphql(&router, json!({ "query": "{ nosuchfield }" }), None).await;
        assert!(unknown["errors"].is_array(), "{unknown}");
        graphql(&router, json!({ "query": "{ facets { code } }" }), None).await;
        graphql(&router, json!({ "query": "{ facets {", "operationName": "Broken\"}\nname" }), None).await;

        let samples = samples(&router).await;
        assert_eq!(value(&samples, r#"learnmap_graphql_requests_total{operation="CourseCount",outcome="ok"}"#), 2.0);
        assert_eq!(value(&samples, r#"learnmap_graphql_requests_total{operation="CourseCount",outcome="error"}"#), 0.0);
        assert_eq!(value(&samples, r#"learnmap_graphql_requests_total{operation="invalid",outcome="error"}"#), 1.0, "unknown fields name no label");
        assert_eq!(value(&samples, r#"learnmap_graphql_requests_total{operation="query:facets",outcome="ok"}"#), 1.0);
        assert_eq!(value(&samples, r#"learnmap_graphql_requests_total{operation="unparsed",outcome="error"}"#), 1.0, "nor do names of broken queries");
        assert_eq!(value(&samples, r#"learnmap_graphql_request_duration_seconds_count{operation="CourseCount"}"#), 2.0);
        assert_eq!(value(&samples, r#"learnmap_graphql_request_duration_seconds_bucket{operation="CourseCount",le="+Inf"}"#), 2.0);
        assert_eq!(sum(&samples, "learnmap_graphql_requests_total"), 5.0);
    }
}

db_test! {
    async fn counts_http_requests_by_route_not_by_path(app) {
        let router = routes(&app, MailConfig::default(), ServerArgs::default());

        send(&router, Request::get("/healthz").body(Body::empty()).expect("request")).await;
        send(&router, Request::get("/healthz").body(Body::empty()).expect("request")).await;
        let (status, _, _) = send(&router, Request::get("/reports/units/AG1?year=2026").body(Body::empty()).expect("request")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        send(&router, Request::get("/reports/units/AG2?year=2026").body(Body::empty()).expect("request")).await;
        graphql(&router, json!({ "query": "{ facets { code } }" }), Some("not-a-token")).await;

        let samples = samples(&router).await;
        assert_eq!(value(&samples, r#"learnmap_http_requests_total{route="/healthz",status="200"}"#), 2.0);
        assert_eq!(value(&samples, r#"learnmap_http_requests_total{route="/reports/units/{code}",status="401"}"#), 2.0);
        assert_eq!(value(&samples, r#"learnmap_http_requests_total{route="/graphql",status="401"}"#), 1.0);
        assert!(!samples.keys().any(|k| k.contains("AG1")), "no unit codes in labels: {samples:#?}");
        assert_eq!(sum(&samples, "learnmap_graphql_requests_total"), 0.0, "a refused token runs nothing");
    }
}

db_test! {
    async fn counts_job_runs_and_the_mail_they_send(app) {
        scenario(&app).await;
        let smtp = SmtpServer::start();
        smtp.reject("p4@example.edu.tw");
        smtp.fail_next(1);
        let mail = MailConfig {
            smtp_url: Some(smtp.url()),
            retry_base: chrono::Duration::hours(1),
            ..MailConfig::default()
        };
        let router = routes(&app, mail, ServerArgs::default());
        let token = admin_token();
        let run = |quarter: i32| json!({
            "query": "mutation Run($q: Int!) { runQuarterlyShortfall(year: 2026, quarter: $q) { outcome run { reminders digests } } }",
            "variables": { "q": quarter },
        });

        let first = graphql(&router, run(1), Some(&token)).await;
        let rerun = graphql(&router, run(1), Some(&token)).await;
        let refused = graphql(&router, run(5), Some(&token)).await;

        assert_eq!(first["data"]["runQuarterlyShortfall"], json!({ "outcome": "ran", "run": { "reminders": 3, "digests": 1 } }));
        assert_eq!(rerun["data"]["runQuarterlyShortfall"]["outcome"], "ran");
        assert!(refused["errors"].is_array(), "{refused}");
        assert_eq!(smtp.received().len(), 2);

        let samples = samples(&router).await;
        assert_eq!(value(&samples, r#"learnmap_job_runs_total{job="quarterly_shortfall",outcome="completed"}"#), 2.0);
        assert_eq!(sum(&samples, "learnmap_job_runs_total"), 2.0, "a refused quarter is no run");
        assert_eq!(value(&samples, r#"learnmap_job_duration_seconds_count{job="quarterly_shortfall"}"#), 2.0);
        assert_eq!(value(&samples, r#"learnmap_graphql_requests_total{operation="Run",outcome="ok"}"#), 2.0);
        assert_eq!(value(&samples, r#"learnmap_graphql_requests_total{operation="Run",outcome="error"}"#), 1.0);

        assert_eq!(value(&samples, r#"learnmap_emails_total{kind="reminder",outcome="failed"}"#), 1.0);
        let sent = sum(&samples, r#"learnmap_emails_total{kind="reminder",outcome="sent"}"#)
            + sum(&samples, r#"learnmap_emails_total{kind="digest",outcome="sent"}"#);
        let retried = sum(&samples, r#"learnmap_emails_total{kind="reminder",outcome="retry"}"#)
            + sum(&samples, r#"learnmap_emails_total{kind="digest",outcome="retry"}"#);
        assert_eq!((sent, retried), (2.0, 1.0));
        assert!(!samples.keys().any(|k| k.contains("@") || k.contains("P4")), "no people in labels");
    }
}

db_test! {
    async fn can_be_turned_off(app) {
        let args = ServerArgs { metrics: false, ..ServerArgs::default() };
        let router = routes(&app, MailConfig::default(), args);

        let (status, _, _) = send(&router, Request::get("/metrics").body(Body::empty()).expect("request")).await;

        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn apps_count_apart() {
    let (one, two) = (TestApp::sqlite().await, TestApp::sqlite().await);
    let (first, second) = (
        routes(&one, MailConfig::default(), ServerArgs::default()),
        routes(&two, MailConfig::default(), ServerArgs::default()),
    );

    graphql(&first, json!({ "query": "{ facets { code } }" }), None).await;

    assert_eq!(sum(&samples(&first).await, "learnmap_graphql_requests_total"), 1.0);
    assert_eq!(sum(&samples(&second).await, "learnmap_graphql_requests_total"), 0.0);
}
