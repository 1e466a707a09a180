//! Compliance over GraphQL and the unit report, on the hand-checked scenario
//! of `fixtures`: values below follow Table 2 and the security rules by hand.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use entity::{Facet, Level};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use learnmap::auth::{Secret, Signer, Verifier};
use learnmap::server::ServerArgs;

use crate::db_test;
use crate::fixtures::{completed, day, scenario, took_course};
use crate::helpers::{TestApp, code};

const COMPLIANCE: &str = r#"query($no: String!, $year: Int!, $asOf: Date) {
  compliance(employeeNo: $no, year: $year, asOf: $asOf) {
    year asOf ruleYear role technicalBackground agencyLevel status
    lines { facet securityCategory levels windowYears windowStart requiredHours countedHours shortfallHours expectedHours behind }
    counted { line completion { title hours completedOn } }
    ignored { reason completion { title completedOn } }
    recommendations { line facet securityCategory shortfallHours totalHours closesGap courses { title hours } }
  }
}"#;

async fn compliance(app: &TestApp, no: &str, as_of: &str) -> Value {
    let data = app
        .data(COMPLIANCE, json!({ "no": no, "year": 2026, "asOf": as_of }))
        .await;
    data["compliance"].clone()
}

fn line(
    facet: &str,
    category: Option<&str>,
    levels: &[&str],
    window: i32,
    start: &str,
    hours: [f64; 4],
    behind: bool,
) -> Value {
    json!({
        "facet": facet, "securityCategory": category, "levels": levels, "windowYears": window, "windowStart": start,
        "requiredHours": hours[0], "countedHours": hours[1], "shortfallHours": hours[2], "expectedHours": hours[3],
        "behind": behind
    })
}

db_test! {
    async fn an_it_staff_member_without_background_at_a_level_b_agency(app) {
        scenario(&app).await;

        let c = compliance(&app, "P1", "2026-03-31").await;

        assert_eq!(c["ruleYear"], json!(2026));
        assert_eq!((&c["role"], &c["technicalBackground"], &c["agencyLevel"]), (&json!("IT_STAFF"), &json!(false), &json!("B")));
        assert_eq!(c["status"], json!("BEHIND"));
        assert_eq!(c["lines"], json!([
            line("POLICY", None, &[], 1, "2026-01-01", [3.0, 1.0, 2.0, 0.75], false),
            line("MANAGEMENT", None, &[], 1, "2026-01-01", [6.0, 0.0, 6.0, 1.5], true),
            line("LEGAL", None, &[], 1, "2026-01-01", [3.0, 0.0, 3.0, 0.75], true),
            line("TECHNICAL", None, &["C"], 1, "2026-01-01", [8.0, 0.0, 8.0, 2.0], true),
            line("SECURITY", Some("PROFESSIONAL"), &[], 2, "2025-01-01", [3.0, 0.0, 3.0, 0.75], true),
            line("SECURITY", Some("GENERAL"), &[], 1, "2026-01-01", [3.0, 0.0, 3.0, 0.75], true),
        ]));
        assert_eq!(c["counted"], json!([{ "line": 0, "completion": { "title": "政策講座", "hours": 1.0, "completedOn": "2026-02-10" } }]));
    }
}

db_test! {
    async fn recommends_the_fewest_hours_that_close_each_gap(app) {
        scenario(&app).await;

        let c = compliance(&app, "P1", "2026-03-31").await;
        let recs = c["recommendations"].as_array().expect("recommendations");

        // Policy owes 2 h: one 2-hour course beats two 1-hour ones; the first in the catalog wins.
        assert_eq!(recs[0], json!({
            "line": 0, "facet": "POLICY", "securityCategory": null, "shortfallHours": 2.0, "totalHours": 2.0,
            "closesGap": true, "courses": [{ "title": "淺談 e 化數位治理", "hours": 2.0 }]
        }));
        // Management owes 6 h: the two 3-hour courses.
        assert_eq!(recs[1]["courses"], json!([{ "title": "資訊管理概論", "hours": 3.0 }, { "title": "軟體專案管理", "hours": 3.0 }]));
        assert_eq!(recs[2]["courses"], json!([{ "title": "個資風險之識別、管理與因應-臺北市政府法務局提供", "hours": 3.0 }]));
        assert_eq!((&recs[3]["totalHours"], &recs[3]["closesGap"]), (&json!(8.0), &json!(true)));
        assert!(recs[3]["courses"].as_array().expect("courses").len() >= 2);
        // No catalog course is professional security training: nothing closes that gap.
        assert_eq!((&recs[4]["courses"], &recs[4]["closesGap"]), (&json!([]), &json!(false)));
        // The one catalog course whose title names it general security
        // education (通識) closes the general gap of 3 h.
        assert_eq!(recs[5], json!({
            "line": 5, "facet": "SECURITY", "securityCategory": "GENERAL", "shortfallHours": 3.0, "totalHours": 3.0,
            "closesGap": true, "courses": [{ "title": "112 年一般人員及主管資通安全通識教育訓練 -個人資訊安全與個人資料保護", "hours": 3.0 }]
        }));
    }
}

db_test! {
    async fn a_course_taken_before_the_window_or_after_the_date_is_not_recommended_again(app) {
        scenario(&app).await;
        took_course(&app, "P1", "淺談 e 化數位治理", day(2023, 5, 2)).await;
        took_course(&app, "P1", "數位平權", day(2026, 4, 2)).await;

        // Policy still owes 2 h (neither course counts as of March 31). Of the
        // policy courses, 淺談 e 化數位治理 and 數位平權 (2 h each) are taken;
        // the only other single course of 2 h is 混合辦公資安議題與因應教育訓練,
        // which beats two 1-hour courses.
        let expected = json!([{ "title": "混合辦公資安議題與因應教育訓練", "hours": 2.0 }]);
        let alone = compliance(&app, "P1", "2026-03-31").await;
        assert_eq!(alone["lines"][0]["shortfallHours"], json!(2.0));
        assert_eq!(alone["recommendations"][0]["courses"], expected);

        let query = r#"{ unitCompliance(unitCode: "AG1-SUB", year: 2026, asOf: "2026-03-31") {
            behind(first: 10) { edges { node { person { employeeNo } recommendations { line courses { title hours } } } } } } }"#;
        let data = app.data(query, json!({})).await;
        let edges = data["unitCompliance"]["behind"]["edges"].as_array().expect("edges").clone();
        let p1 = edges.iter().map(|e| &e["node"]).find(|n| n["person"]["employeeNo"] == json!("P1")).expect("P1 is behind");
        assert_eq!(p1["recommendations"][0], json!({ "line": 0, "courses": expected }), "the report reads the April course too, for this");
    }
}

db_test! {
    async fn explains_what_did_not_count(app) {
        scenario(&app).await;
        completed(&app, "P1", "進階網管", 4, day(2026, 3, 20), (Some(Facet::Technical), Some(Level::A), None)).await;
        completed(&app, "P1", "去年政策", 2, day(2025, 12, 31), (Some(Facet::Policy), None, None)).await;
        completed(&app, "P1", "四月管理", 3, day(2026, 4, 1), (Some(Facet::Management), None, None)).await;

        let c = compliance(&app, "P1", "2026-03-31").await;

        let reasons: Vec<(String, String)> = c["ignored"].as_array().expect("ignored").iter()
            .map(|i| (i["completion"]["title"].as_str().unwrap_or("").into(), i["reason"].as_str().unwrap_or("").into()))
            .collect();
        assert!(reasons.contains(&("進階網管".into(), "LEVEL_NOT_ALLOWED".into())), "{reasons:?}");
        assert!(reasons.contains(&("去年政策".into(), "OUTSIDE_WINDOW".into())), "{reasons:?}");
        assert!(reasons.contains(&("四月管理".into(), "AFTER_AS_OF".into())), "{reasons:?}");
        assert_eq!(c["lines"][0]["countedHours"], json!(1.0), "Dec 31 of last year does not count for 2026");

        // On Apr 1 the April course counts and the pace is Q2's.
        let april = compliance(&app, "P1", "2026-04-01").await;
        assert_eq!(april["lines"][1]["countedHours"], json!(3.0));
        assert_eq!(april["lines"][1]["expectedHours"], json!(3.0));
    }
}

db_test! {
    async fn a_unit_report_reads_nothing_after_its_date(app) {
        scenario(&app).await;
        completed(&app, "P1", "去年政策", 2, day(2025, 12, 31), (Some(Facet::Policy), None, None)).await;
        completed(&app, "P1", "四月管理", 3, day(2026, 4, 1), (Some(Facet::Management), None, None)).await;

        let query = r#"{ unitCompliance(unitCode: "AG1-SUB", year: 2026, asOf: "2026-03-31") {
            behind(first: 10) { edges { node { person { employeeNo } lines { countedHours }
              ignored { reason completion { title } } } } } } }"#;
        let data = app.data(query, json!({})).await;
        let edges = data["unitCompliance"]["behind"]["edges"].as_array().expect("edges").clone();
        let p1 = edges.iter().map(|e| &e["node"]).find(|n| n["person"]["employeeNo"] == json!("P1")).expect("P1 is behind");

        assert_eq!(
            p1["ignored"],
            json!([{ "reason": "OUTSIDE_WINDOW", "completion": { "title": "去年政策" } }]),
            "the April course is not read for a March report"
        );
        let alone = compliance(&app, "P1", "2026-03-31").await;
        assert_eq!(p1["lines"], json!(alone["lines"].as_array().expect("lines").iter()
            .map(|l| json!({ "countedHours": l["countedHours"] })).collect::<Vec<_>>()), "the same hours either way");
        assert_eq!(alone["ignored"].as_array().map(Vec::len), Some(2), "one person's answer lists the April course too");
    }
}

db_test! {
    async fn a_unit_report_gives_the_same_standing_whether_or_not_it_lists_completions(app) {
        scenario(&app).await;
        completed(&app, "P1", "去年政策", 2, day(2025, 12, 31), (Some(Facet::Policy), None, None)).await;
        completed(&app, "P1", "一月政策", 1, day(2026, 1, 5), (Some(Facet::Policy), None, None)).await;

        // Without `counted` or `ignored` the hours are summed by the database;
        // with them every completion is read. The standing must not differ.
        let standing = "status lines { facet countedHours shortfallHours expectedHours behind } recommendations { line courses { title } }";
        let summed = format!(r#"{{ unitCompliance(unitCode: "AG1", year: 2026, asOf: "2026-03-31") {{
            byFacet {{ facet countedHours }} behind(first: 10) {{ edges {{ node {{ person {{ employeeNo }} {standing} }} }} }} }} }}"#);
        let listed = format!(r#"{{ unitCompliance(unitCode: "AG1", year: 2026, asOf: "2026-03-31") {{
            byFacet {{ facet countedHours }} behind(first: 10) {{ edges {{ node {{ person {{ employeeNo }} {standing}
              counted {{ line completion {{ title }} }} }} }} }} }} }}"#);
        let summed = app.data(&summed, json!({})).await;
        let mut listed = app.data(&listed, json!({})).await;

        let p1 = listed["unitCompliance"]["behind"]["edges"].as_array().expect("edges").iter()
            .map(|e| e["node"].clone()).find(|n| n["person"]["employeeNo"] == json!("P1")).expect("P1 is behind");
        let titles: Vec<&str> = p1["counted"].as_array().expect("counted").iter().filter_map(|c| c["completion"]["title"].as_str()).collect();
        assert!(titles.contains(&"一月政策"), "real completions are listed: {titles:?}");
        assert!(!titles.contains(&"去年政策"), "{titles:?}");

        for edge in listed["unitCompliance"]["behind"]["edges"].as_array_mut().expect("edges") {
            edge["node"].as_object_mut().expect("node").remove("counted");
        }
        assert_eq!(summed, listed);

        // `nodes` lists the same people as `edges { node }`, and asks for
        // every completion just the same.
        let nodes = r#"{ unitCompliance(unitCode: "AG1", year: 2026, asOf: "2026-03-31") {
            behind(first: 10) { nodes { person { employeeNo } ignored { reason completion { title } } } } } }"#;
        let nodes = app.data(nodes, json!({})).await;
        let p1 = nodes["unitCompliance"]["behind"]["nodes"].as_array().expect("nodes").iter()
            .find(|n| n["person"]["employeeNo"] == json!("P1")).expect("P1 is behind");
        assert_eq!(p1["ignored"], json!([{ "reason": "OUTSIDE_WINDOW", "completion": { "title": "去年政策" } }]));
    }
}

db_test! {
    async fn statuses_through_the_year(app) {
        scenario(&app).await;

        assert_eq!(compliance(&app, "P2", "2026-03-31").await["status"], json!("COMPLETE"));
        assert_eq!(compliance(&app, "S1", "2026-12-30").await["status"], json!("BEHIND"));
        assert_eq!(compliance(&app, "S1", "2026-12-31").await["status"], json!("NON_COMPLIANT"));

        // A supervisor with a background (set by hand) needs 3 h of technical at A, B or C.
        let s1 = compliance(&app, "S1", "2026-06-30").await;
        assert_eq!(s1["technicalBackground"], json!(true));
        assert_eq!(s1["lines"][3], line("TECHNICAL", None, &["A", "B", "C"], 1, "2026-01-01", [3.0, 0.0, 3.0, 1.5], true));

        // A security officer of a level-D school: 3 h general security, no professional.
        let p4 = compliance(&app, "P4", "2026-09-30").await;
        let security: Vec<&Value> = p4["lines"].as_array().expect("lines").iter().filter(|l| l["facet"] == json!("SECURITY")).collect();
        assert_eq!(security, [&line("SECURITY", Some("GENERAL"), &[], 1, "2026-01-01", [3.0, 0.0, 3.0, 2.25], true)]);
    }
}

db_test! {
    async fn refuses_dates_outside_the_year(app) {
        scenario(&app).await;

        let late = app.error(COMPLIANCE, json!({ "no": "P1", "year": 2026, "asOf": "2027-01-01" })).await;
        assert_eq!(code(&late), "BAD_USER_INPUT");
        let missing = app.error(COMPLIANCE, json!({ "no": "NOPE", "year": 2026, "asOf": "2026-03-31" })).await;
        assert_eq!(code(&missing), "NOT_FOUND");
    }
}

const UNIT: &str = r#"query($code: String!) {
  unitCompliance(unitCode: $code, year: 2026, asOf: "2026-03-31") {
    people
    byStatus { status people }
    byFacet { facet securityCategory people behind withShortfall requiredHours countedHours shortfallHours }
    behind(first: 1) { totalCount edges { node { person { employeeNo } status } } pageInfo { hasNextPage endCursor } }
  }
}"#;

db_test! {
    async fn a_unit_counts_its_subtree(app) {
        scenario(&app).await;

        let data = app.data(UNIT, json!({ "code": "AG1" })).await;
        let unit = &data["unitCompliance"];

        // P1, P2 and S1; P3 left on Feb 1.
        assert_eq!(unit["people"], json!(3));
        assert_eq!(unit["byStatus"], json!([
            { "status": "COMPLETE", "people": 1 }, { "status": "ON_TRACK", "people": 0 },
            { "status": "BEHIND", "people": 2 }, { "status": "NON_COMPLIANT", "people": 0 }
        ]));
        let policy = &unit["byFacet"][0];
        assert_eq!(policy, &json!({
            "facet": "POLICY", "securityCategory": null, "people": 3, "behind": 1, "withShortfall": 2,
            "requiredHours": 9.0, "countedHours": 4.0, "shortfallHours": 5.0
        }));
        assert_eq!(unit["behind"]["totalCount"], json!(2));
        assert_eq!(unit["behind"]["edges"][0]["node"]["person"]["employeeNo"], json!("P1"));
        assert_eq!(unit["behind"]["pageInfo"]["hasNextPage"], json!(true));

        let sub = app.data(UNIT, json!({ "code": "AG1-SUB" })).await;
        assert_eq!(sub["unitCompliance"]["people"], json!(2));
    }
}

db_test! {
    async fn rule_sets_carry_over_until_changed(app) {
        let query = "query($y: Int!) { requirements(year: $y) { year ruleYear inherited requirements { role facet hours windowYears } } }";

        let inherited = app.data(query, json!({ "y": 2027 })).await;
        assert_eq!((&inherited["requirements"]["ruleYear"], &inherited["requirements"]["inherited"]), (&json!(2026), &json!(true)));
        assert_eq!(inherited["requirements"]["requirements"].as_array().map(Vec::len), Some(22));
        assert_eq!(app.data(query, json!({ "y": 2025 })).await["requirements"], Value::Null);

        let set = r#"mutation { setRequirements(year: 2027, note: "2027 pilot", requirements: [
            { role: IT_STAFF, facet: POLICY, hours: 4.5 }
        ]) { year ruleYear inherited requirements { role facet hours windowYears } } }"#;
        let data = app.data(set, json!({})).await;
        assert_eq!(data["setRequirements"], json!({
            "year": 2027, "ruleYear": 2027, "inherited": false,
            "requirements": [{ "role": "IT_STAFF", "facet": "POLICY", "hours": 4.5, "windowYears": 1 }]
        }));

        let bad = r#"mutation { setRequirements(year: 2027, note: "x", requirements: [{ role: IT_STAFF, facet: POLICY, hours: 3, windowYears: 3 }]) { year } }"#;
        let error = app.error(bad, json!({})).await;
        assert_eq!(code(&error), "BAD_USER_INPUT");
        assert_eq!(crate::helpers::fields(&error), ["requirements[0].windowYears"]);

        let twice = r#"mutation { setRequirements(year: 2027, note: "x", requirements: [
            { role: IT_STAFF, facet: POLICY, hours: 3 }, { role: IT_STAFF, facet: LEGAL, hours: 3 }, { role: IT_STAFF, facet: POLICY, hours: 4 }
        ]) { year } }"#;
        let error = app.error(twice, json!({})).await;
        assert_eq!(code(&error), "BAD_USER_INPUT");
        assert_eq!(crate::helpers::fields(&error), ["requirements[2]"]);
        let kept = app.data(query, json!({ "y": 2027 })).await;
        assert_eq!(kept["requirements"]["requirements"][0]["hours"], json!(4.5), "the refused set changed nothing");
    }
}

db_test! {
    async fn an_oversized_requirement_is_refused(app) {
        let query = "{ requirements(year: 2026) { ruleYear requirements { hours } } }";
        let before = app.data(query, json!({})).await;

        for hours in ["1e9", "21474836.48", "1000.5"] {
            let set = format!(
                r#"mutation {{ setRequirements(year: 2026, note: "x", requirements: [{{ role: IT_STAFF, facet: POLICY, hours: {hours} }}]) {{ year }} }}"#
            );
            let error = app.error(&set, json!({})).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{hours}: {error}");
            assert_eq!(crate::helpers::fields(&error), ["requirements[0].hours"], "{hours}");
        }
        assert_eq!(app.data(query, json!({})).await, before, "the refused sets changed nothing");

        let most = r#"mutation { setRequirements(year: 2026, note: "x", requirements: [{ role: IT_STAFF, facet: POLICY, hours: 1000 }]) { requirements { hours } } }"#;
        assert_eq!(app.data(most, json!({})).await["setRequirements"]["requirements"][0]["hours"], json!(1000.0));
    }
}

const SECRET: &str = "a test secret that is long enough for HS256";

/// Downloads as the given employee (an admin when `admin`), or anonymously.
async fn download_as(app: &TestApp, uri: &str, who: Option<(&str, bool)>) -> (StatusCode, Vec<u8>) {
    let secret = Secret::new(SECRET);
    let verifier = Verifier::new("learnmap", "learnmap")
        .with_secret(&secret)
        .expect("verifier");
    let mut request = Request::get(uri);
    if let Some((employee_no, admin)) = who {
        let signer = Signer::new(&secret, "learnmap", "learnmap").expect("signer");
        let token = signer
            .token(employee_no, admin, std::time::Duration::from_secs(600))
            .expect("token");
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let routes = learnmap::server::app(app.schema.clone(), app.db.clone(), verifier, ServerArgs::default());
    let response = routes
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    (
        status,
        response.into_body().collect().await.expect("body").to_bytes().to_vec(),
    )
}

async fn download(app: &TestApp, uri: &str) -> (StatusCode, Vec<u8>) {
    download_as(app, uri, Some(("ADMIN", true))).await
}

/// A refused download: its status and JSON body.
async fn refused_as(app: &TestApp, uri: &str, who: Option<(&str, bool)>) -> (StatusCode, Value) {
    let (status, body) = download_as(app, uri, who).await;
    let json =
        serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{uri}: not JSON: {}", String::from_utf8_lossy(&body)));
    (status, json)
}

/// The GraphQL error shape with one error.
fn graphql_error(message: &str, code: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// A `BAD_USER_INPUT` error about one query parameter, as GraphQL words one
/// about an argument.
fn bad_parameter(field: &str, reason: &str) -> Value {
    json!({ "errors": [{
        "message": format!("{field}: {reason}"),
        "extensions": { "code": "BAD_USER_INPUT", "fields": [{ "field": field, "reason": reason }] }
    }] })
}

db_test! {
    async fn every_report_error_has_the_graphql_shape(app) {
        scenario(&app).await;
        let admin = Some(("ADMIN", true));

        // Who may ask comes first, whatever the parameters.
        let anonymous = graphql_error("sign in first", "UNAUTHENTICATED");
        assert_eq!(refused_as(&app, "/reports/units/AG1?year=2026", None).await, (StatusCode::UNAUTHORIZED, anonymous.clone()));
        assert_eq!(refused_as(&app, "/reports/units/AG1?year=abc", None).await, (StatusCode::UNAUTHORIZED, anonymous));
        assert_eq!(
            refused_as(&app, "/reports/units/AG1?year=2026", Some(("S1", false))).await,
            (StatusCode::FORBIDDEN, graphql_error("only admins may download unit reports", "FORBIDDEN"))
        );

        // Query-string rejections, which axum answered in plain text.
        let cases = [
            ("/reports/units/AG1", "year", "is required, such as year=2026"),
            ("/reports/units/AG1?format=csv", "year", "is required, such as year=2026"),
            ("/reports/units/AG1?year=abc", "year", "\"abc\" is not a year such as 2026"),
            ("/reports/units/AG1?year=", "year", "\"\" is not a year such as 2026"),
            ("/reports/units/AG1?year=2026&year=2025", "year", "is given more than once; give it once"),
            ("/reports/units/AG1?year=1999", "year", "must be between 2000 and 2100"),
            ("/reports/units/AG1?year=2026&asOf=2026-02-30", "asOf", "\"2026-02-30\" is not a calendar date"),
            ("/reports/units/AG1?year=2026&asOf=tomorrow", "asOf", "\"tomorrow\" is not a date of the form 2026-03-31"),
            ("/reports/units/AG1?year=2026&asOf=2025-12-31", "asOf", "2025-12-31 is not in 2026"),
            ("/reports/units/AG1?year=2026&format=pdf", "format", "\"pdf\" is not a report format; use csv or xlsx"),
            ("/reports/units/AG1?year=2026&as_of=2026-06-30", "as_of", "is not a parameter of the report; use year, format and asOf"),
        ];
        for (uri, field, reason) in cases {
            assert_eq!(refused_as(&app, uri, admin).await, (StatusCode::BAD_REQUEST, bad_parameter(field, reason)), "{uri}");
        }

        // Several bad parameters are listed together.
        let (status, body) = refused_as(&app, "/reports/units/AG1?asOf=x&format=doc", admin).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"][0]["extensions"]["fields"], json!([
            { "field": "year", "reason": "is required, such as year=2026" },
            { "field": "format", "reason": "\"doc\" is not a report format; use csv or xlsx" },
            { "field": "asOf", "reason": "\"x\" is not a date of the form 2026-03-31" }
        ]));

        assert_eq!(
            refused_as(&app, "/reports/units/NOPE?year=2026", admin).await,
            (StatusCode::NOT_FOUND, graphql_error("unit NOPE does not exist", "NOT_FOUND"))
        );

        // A failure of ours says nothing of its cause.
        app.db.close_by_ref().await.expect("close");
        assert_eq!(
            refused_as(&app, "/reports/units/AG1?year=2026", admin).await,
            (StatusCode::INTERNAL_SERVER_ERROR, graphql_error("internal error", "INTERNAL"))
        );
    }
}

db_test! {
    async fn the_unit_report_reads_in_excel(app) {
        scenario(&app).await;

        let (status, csv) = download(&app, "/reports/units/AG1?year=2026&asOf=2026-03-31").await;

        assert_eq!(status, StatusCode::OK);
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
        let text = String::from_utf8(csv[3..].to_vec()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("員工編號 Employee No,姓名 Name,單位代碼 Unit"), "{}", lines[0]);
        assert_eq!(lines.len(), 1 + 3 * 6);
        assert!(lines.contains(&"P1,林小明,AG1-SUB,it_staff,no,B,management,,,1,6,0,6,1.5,yes,behind"), "{text}");

        let (status, xlsx) = download(&app, "/reports/units/AG1?year=2026&asOf=2026-03-31&format=xlsx").await;
        assert_eq!(status, StatusCode::OK);
        assert!(xlsx.starts_with(b"PK"), "an xlsx file is a zip archive");

        let (status, body) = download(&app, "/reports/units/AG1?year=2026&format=pdf").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).contains("BAD_USER_INPUT"));
        let (status, _) = download(&app, "/reports/units/NOPE?year=2026").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The report holds personal data: admins only.
        let (status, _) = download_as(&app, "/reports/units/AG1?year=2026", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = download_as(&app, "/reports/units/AG1?year=2026", Some(("S1", false))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

db_test! {
    async fn a_unit_read_in_parts_is_the_unit_read_whole(app) {
        use learnmap::compliance::service::{self, Detail};
        use learnmap::reference::Reference;
        use std::sync::Arc;

        learnmap::demo::generate(&app.db, learnmap::demo::DemoOptions { people: 200, seed: 3 }).await.expect("gen-demo");
        let reference = Arc::new(Reference::load_current(&app.db).await.expect("reference"));
        let as_of = day(2026, 3, 31);

        for code in ["DEMO-A01", "DEMO-A03"] {
            let whole = service::for_unit_with(&app.db, reference.clone(), code, 2026, as_of, Detail::Completions).await.expect("whole");
            let parts = service::for_unit_pooled(&app.db, reference.clone(), code, 2026, as_of, Detail::Completions).await.expect("parts");
            let summary = |unit: &service::UnitCompliance| -> Vec<(String, usize, learnmap::compliance::engine::Evaluation)> {
                unit.people.iter().map(|p| (p.person.employee_no.clone(), p.completions.len(), p.evaluation.clone())).collect()
            };
            let (whole, parts) = (summary(&whole), summary(&parts));
            assert!(whole.len() > 20, "{code}: {} people", whole.len());
            assert!(whole.iter().map(|(_, n, _)| n).sum::<usize>() > 1_000, "{code}: the window holds completions");
            assert_eq!(parts, whole, "{code}");
        }
    }
}

db_test! {
    async fn a_unit_read_as_totals_gives_the_lines_statuses_and_recommendations_of_every_completion(app) {
        use learnmap::compliance::service::{self, Detail};
        use learnmap::reference::Reference;
        use std::sync::Arc;

        learnmap::demo::generate(&app.db, learnmap::demo::DemoOptions { people: 200, seed: 5 }).await.expect("gen-demo");
        let reference = Arc::new(Reference::load_current(&app.db).await.expect("reference"));

        // The year's first day, a quarter's end, a day inside a quarter and
        // the year's end (the seed holds rules for 2026 only).
        let dates = [(2026, day(2026, 1, 1)), (2026, day(2026, 3, 31)), (2026, day(2026, 8, 14)), (2026, day(2026, 12, 31))];
        let mut compared = (0, 0, 0, 0);
        for (year, as_of) in dates {
            for code in ["DEMO-A01", "DEMO-A02", "DEMO-A05"] {
                let every = service::for_unit_pooled(&app.db, reference.clone(), code, year, as_of, Detail::Completions).await.expect("completions");
                let totals = service::for_unit_pooled(&app.db, reference.clone(), code, year, as_of, Detail::Totals).await.expect("totals");
                let ids: Vec<i32> = every.people.iter().map(|p| p.person.id).collect();
                let outside = service::taken_elsewhere_of(&app.db, &ids, year, Some(as_of), Detail::Completions).await.expect("outside");
                let ever = service::taken_elsewhere_of(&app.db, &ids, year, Some(as_of), Detail::Totals).await.expect("ever");
                assert_eq!(totals.people.len(), every.people.len(), "{code} {as_of}");

                for (t, e) in totals.people.iter().zip(&every.people) {
                    let who = format!("{code} {as_of} {}", e.person.employee_no);
                    assert_eq!(t.person.id, e.person.id, "{who}");
                    assert_eq!(t.evaluation.lines, e.evaluation.lines, "{who}");
                    assert_eq!(t.evaluation.status, e.evaluation.status, "{who}");
                    // Fewer rows than completions for anyone with a few.
                    assert!(t.completions.len() <= e.completions.len(), "{who}");
                    let also = |taken: &std::collections::HashMap<i32, Vec<i32>>| taken.get(&e.person.id).cloned().unwrap_or_default();
                    let recommended = t.recommendations(&totals.catalog, &also(&ever));
                    assert_eq!(recommended, e.recommendations(&every.catalog, &also(&outside)), "{who}");
                    compared.3 += recommended.len();
                    compared.0 += 1;
                    compared.1 += e.completions.len();
                    compared.2 += t.completions.len();
                }
            }
        }
        // The comparison covered real data, and the sums were fewer rows.
        assert!(compared.0 > 150, "{compared:?}");
        assert!(compared.2 * 2 < compared.1, "{compared:?}");
        assert!(compared.3 > 100, "recommendations compared: {compared:?}");
    }
}

db_test! {
    async fn more_unit_reads_at_once_than_the_pool_has_connections_all_finish(app) {
        use learnmap::compliance::service::{self, Detail};
        use learnmap::reference::Reference;
        use std::sync::Arc;

        learnmap::demo::generate(&app.db, learnmap::demo::DemoOptions { people: 60, seed: 4 }).await.expect("gen-demo");
        let reference = Arc::new(Reference::load_current(&app.db).await.expect("reference"));
        let as_of = day(2026, 3, 31);
        let alone = service::for_unit_pooled(&app.db, reference.clone(), "DEMO-A01", 2026, as_of, Detail::Completions).await.expect("alone");
        let expected: usize = alone.people.iter().map(|p| p.completions.len()).sum();
        assert!(expected > 100, "{expected} completions");

        // Each read holds a connection while its parts ask for more; sixteen
        // at once are more than the pool's ten connections.
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (db, reference) = (app.db.clone(), reference.clone());
            reads.spawn(async move { service::for_unit_pooled(&db, reference, "DEMO-A01", 2026, as_of, Detail::Completions).await });
        }
        let all = tokio::time::timeout(std::time::Duration::from_secs(20), reads.join_all())
            .await
            .expect("every read finished within 20 s");
        for read in all {
            let unit = read.expect("a read at once with fifteen others");
            assert_eq!(unit.people.iter().map(|p| p.completions.len()).sum::<usize>(), expected);
        }
    }
}

db_test! {
    async fn someone_who_left_is_answered_only_up_to_their_last_day(app) {
        crate::personnel_import::load_examples(&app).await;
        let query = "query($d: Date) { compliance(employeeNo: \"E10033\", year: 2026, asOf: $d) { status } }";

        let after = app.error(query, json!({ "d": "2026-03-31" })).await;
        assert_eq!(code(&after), "BAD_USER_INPUT", "{after}");
        assert_eq!(
            after["message"],
            json!("asOf: E10033 left on 2025-12-31, so is not evaluated as of 2026-03-31, as in unit reports and reminders; no rule set is in force for 2025 or earlier, the years they were here")
        );

        // Once 2025 has rules, that year is the one to ask for.
        app.data(
            "mutation { setRequirements(year: 2025, note: \"rules for the year before\", requirements: [{ role: null, facet: SECURITY, securityCategory: GENERAL, hours: 3 }]) { year } }",
            json!({}),
        ).await;
        let with_rules = app.error(query, json!({ "d": "2026-03-31" })).await;
        assert!(with_rules["message"].as_str().is_some_and(|m| m.ends_with("; ask for 2025 or earlier")), "{with_rules}");
        let last_year = "query($d: Date) { compliance(employeeNo: \"E10033\", year: 2025, asOf: $d) { status } }";
        let answered = app.data(last_year, json!({ "d": "2025-12-31" })).await;
        assert!(answered["compliance"]["status"].is_string(), "{answered}");

        // E10017 leaves on 2026-06-30: answered up to that day, not after.
        let leaving = "query($d: Date) { compliance(employeeNo: \"E10017\", year: 2026, asOf: $d) { status } }";
        assert!(app.data(leaving, json!({ "d": "2026-06-30" })).await["compliance"]["status"].is_string());
        let after_leaving = app.error(leaving, json!({ "d": "2026-07-01" })).await;
        assert!(after_leaving["message"].as_str().is_some_and(|m| m.ends_with("ask for a date up to 2026-06-30")), "{after_leaving}");

        // And unitCompliance leaves them out of the year after.
        let unit = app.data(
            "{ unitCompliance(unitCode: \"DST-JM-ADM\", year: 2026, asOf: \"2026-03-31\") { behind(first: 50) { edges { node { person { employeeNo } } } } } }",
            json!({}),
        ).await;
        assert!(!unit.to_string().contains("E10033"), "{unit}");
    }
}

db_test! {
    async fn a_unit_read_while_imports_commit_sees_each_import_wholly_or_not_at_all(app) {
        use learnmap::compliance::service::{self, Detail};
        use learnmap::graphql::Caller;
        use learnmap::reference::Reference;
        use std::sync::Arc;

        crate::personnel_import::load_examples(&app).await;
        let reference = Arc::new(Reference::load_current(&app.db).await.expect("reference"));
        let read = || service::for_unit_pooled(&app.db, reference.clone(), "DDB", 2026, day(2026, 3, 31), Detail::Completions);
        let total = |unit: &service::UnitCompliance| unit.people.iter().map(|p| p.completions.len()).sum::<usize>();

        let before = read().await.expect("read");
        let people: Vec<String> = before.people.iter().map(|p| p.person.employee_no.clone()).collect();
        assert!(people.len() > 10, "{} people", people.len());

        // Each import gives everyone in DDB one more completion, so a
        // consistent read holds the first total plus a whole number of them.
        const IMPORTS: usize = 12;
        let schema = app.schema.clone();
        let imports = people.clone();
        let writer = tokio::spawn(async move {
            for i in 0..IMPORTS {
                let mut csv = String::from("employee_no,course_title,platform,facet,hours,completed_on\n");
                for no in &imports {
                    csv.push_str(&format!("{no},讀取一致性演練 {i},other,policy,0.5,2026-02-{:02}\n", i + 1));
                }
                let request = async_graphql::Request::new("mutation($csv: String!) { importCompletions(csv: $csv) { rows } }")
                    .variables(async_graphql::Variables::from_json(json!({ "csv": csv })))
                    .data(Caller::admin());
                let response = schema.execute(request).await;
                assert!(response.errors.is_empty(), "{:?}", response.errors);
            }
        });

        let mut seen = Vec::new();
        while !writer.is_finished() {
            seen.push(total(&read().await.expect("read while importing")));
        }
        writer.await.expect("imports");
        seen.push(total(&read().await.expect("read after")));

        let (first, step) = (total(&before), people.len());
        let torn: Vec<usize> = seen.iter().copied().filter(|t| (t - first) % step != 0).collect();
        assert!(torn.is_empty(), "reads that saw part of an import: {torn:?} (first {first}, step {step})");
        assert_eq!(seen.last(), Some(&(first + IMPORTS * step)));
        assert!(seen.len() > 3, "the reads overlapped the imports: {} reads", seen.len());
    }
}
