//! Who may read and do what: every guarded field and mutation, for each kind
//! of caller, on the example organisation.
//!
//! The callers, in `examples/people.csv`'s supervisor tree:
//! E10006 (grand) → E10009 (supervisor) → E10010 (plain), whose peers are
//! E10011 and E10012; E10003 (unrelated) sits in another branch.

use learnmap::graphql::Caller;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{TestApp, code};
use crate::personnel_import::load_examples;

const PLAIN: &str = "E10010";
const SUPERVISOR: &str = "E10009";
const GRAND: &str = "E10006";
const UNRELATED: &str = "E10003";
/// The plain person's peers: their emails must never reach them.
const PEER_EMAILS: [&str; 2] = ["yucheng.hsu@", "yizhen.cheng@"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Plain,
    Supervisor,
    Grand,
    Unrelated,
    Admin,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::Plain,
    Who::Supervisor,
    Who::Grand,
    Who::Unrelated,
    Who::Admin,
];

fn caller(who: Who) -> Caller {
    match who {
        Who::Anonymous => Caller::Anonymous,
        Who::Plain => Caller::person(PLAIN),
        Who::Supervisor => Caller::person(SUPERVISOR),
        Who::Grand => Caller::person(GRAND),
        Who::Unrelated => Caller::person(UNRELATED),
        Who::Admin => Caller::admin(),
    }
}

/// What a caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// No error at all.
    Ok,
    /// An error with this code (and possibly partial data).
    Err(&'static str),
}

const OK: Outcome = Outcome::Ok;
const UNAUTH: Outcome = Outcome::Err("UNAUTHENTICATED");
const FORBID: Outcome = Outcome::Err("FORBIDDEN");

fn outcome(response: &Value) -> Result<Outcome, String> {
    let Some(errors) = response.get("errors").and_then(Value::as_array) else {
        return Ok(Outcome::Ok);
    };
    let codes: Vec<&str> = errors.iter().map(code).collect();
    match codes.as_slice() {
        [first, rest @ ..] if rest.iter().all(|c| c == first) => match *first {
            "UNAUTHENTICATED" => Ok(UNAUTH),
            "FORBIDDEN" => Ok(FORBID),
            "NOT_FOUND" => Ok(Outcome::Err("NOT_FOUND")),
            "BAD_USER_INPUT" => Ok(Outcome::Err("BAD_USER_INPUT")),
            _ => Err(format!("unexpected errors: {errors:?}")),
        },
        _ => Err(format!("mixed errors: {errors:?}")),
    }
}

/// Runs the query as each caller, in the order of [`EVERYONE`] (the admin
/// last, so a refused mutation runs before the allowed one), and checks each
/// outcome. Returns the responses.
async fn check(app: &TestApp, query: &str, variables: Value, expected: [Outcome; 6]) -> Vec<Value> {
    let mut failures = Vec::new();
    let mut responses = Vec::new();
    for (who, want) in EVERYONE.into_iter().zip(expected) {
        let response = app.execute_as(caller(who), query, variables.clone()).await;
        match outcome(&response) {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!("{who:?}: expected {want:?}, got {got:?}: {response}")),
            Err(e) => failures.push(format!("{who:?}: {e}")),
        }
        if let Some(errors) = response.get("errors").and_then(Value::as_array) {
            for e in errors {
                let message = e["message"].as_str().unwrap_or("");
                assert!(!message.to_lowercase().contains("select"), "SQL in an error: {message}");
            }
        }
        responses.push(response);
    }
    assert!(failures.is_empty(), "{query}\n{}", failures.join("\n"));
    responses
}

fn nos(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| p["employeeNo"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Public: the catalog and the rules

db_test! {
    async fn anyone_reads_the_catalog_and_the_rules(app) {
        load_examples(&app).await;
        let query = r#"{
          facets { code nameZh topics }
          technicalDomains { code levels { level topics } }
          courses(first: 2, filter: { includeArchived: true }) { totalCount edges { node { id title hours link } } }
          course(id: "1") { title archived }
          requirements(year: 2026) { ruleYear requirements { facet hours } }
        }"#;
        let responses = check(&app, query, json!({}), [OK; 6]).await;
        assert_eq!(responses[0]["data"]["courses"]["totalCount"], json!(54));
        assert_eq!(responses[0], responses[5], "anonymous and admin see the same catalog");
    }
}

db_test! {
    async fn signed_in_callers_read_the_units(app) {
        load_examples(&app).await;
        let query = r#"{ units { code } unit(code: "DDB-INF") { name parent { code } children { code } securityLevel } }"#;
        let responses = check(&app, query, json!({}), [UNAUTH, OK, OK, OK, OK, OK]).await;
        assert_eq!(responses[1]["data"]["unit"]["parent"]["code"], json!("DDB"));
    }
}

// ---------------------------------------------------------------------------
// One person's record

const PERSON: &str = r#"query($no: String!) {
  person(employeeNo: $no) {
    employeeNo name email joinedOn role unit { code } agency { code }
    roleHistory { role } technicalBackground { hasBackground } evidence { criterion }
  }
}"#;

db_test! {
    async fn a_record_is_read_by_its_person_and_those_above(app) {
        load_examples(&app).await;
        let responses = check(&app, PERSON, json!({ "no": PLAIN }), [UNAUTH, OK, OK, OK, FORBID, OK]).await;
        assert_eq!(responses[1]["data"]["person"]["employeeNo"], json!(PLAIN));
        assert_eq!(responses[3]["data"]["person"]["employeeNo"], json!(PLAIN));
        assert_eq!(responses[4]["data"]["person"], Value::Null, "nothing of the refused record");

        check(&app, PERSON, json!({ "no": SUPERVISOR }), [UNAUTH, FORBID, OK, OK, FORBID, OK]).await;
        check(&app, PERSON, json!({ "no": GRAND }), [UNAUTH, FORBID, FORBID, OK, FORBID, OK]).await;
        check(&app, PERSON, json!({ "no": UNRELATED }), [UNAUTH, FORBID, FORBID, FORBID, OK, OK]).await;
    }
}

db_test! {
    async fn a_missing_person_is_forbidden_to_all_but_admins(app) {
        load_examples(&app).await;
        let responses = check(&app, PERSON, json!({ "no": "E99999" }), [UNAUTH, FORBID, FORBID, FORBID, FORBID, OK]).await;
        assert_eq!(responses[5]["data"]["person"], Value::Null);
        let refused = &responses[1]["errors"][0];
        assert_eq!(
            refused["message"], responses[4]["errors"][0]["message"],
            "an unknown number reads like someone else's"
        );
    }
}

db_test! {
    async fn a_caller_without_a_record_asking_for_their_own_is_told_it_is_missing(app) {
        load_examples(&app).await;
        let nobody = Caller::person("NOBODY1");

        let person = app.execute_as(nobody.clone(), PERSON, json!({ "no": "nobody1" })).await;
        assert_eq!(person, json!({ "data": { "person": null } }), "the same answer an admin gets");

        let compliance = "{ compliance(employeeNo: \"NOBODY1\", year: 2026) { status } }";
        let answer = app.execute_as(nobody.clone(), compliance, json!({})).await;
        assert_eq!(code(&answer["errors"][0]), "NOT_FOUND", "{answer}");

        let someone_else = app.execute_as(nobody, PERSON, json!({ "no": "E99999" })).await;
        assert_eq!(code(&someone_else["errors"][0]), "FORBIDDEN", "{someone_else}");
    }
}

// ---------------------------------------------------------------------------
// Nested fields: supervisor and direct reports

db_test! {
    async fn a_person_may_not_climb_to_their_supervisor(app) {
        load_examples(&app).await;
        let query = r#"query($no: String!) { person(employeeNo: $no) { employeeNo supervisor { employeeNo name } } }"#;
        let responses = check(&app, query, json!({ "no": PLAIN }), [UNAUTH, FORBID, OK, OK, FORBID, OK]).await;
        assert_eq!(responses[1]["data"]["person"]["employeeNo"], json!(PLAIN), "the rest of the record is served");
        assert_eq!(responses[1]["data"]["person"]["supervisor"], Value::Null);
        assert_eq!(responses[1]["errors"][0]["path"], json!(["person", "supervisor"]));
        assert_eq!(responses[2]["data"]["person"]["supervisor"]["employeeNo"], json!(SUPERVISOR));
        assert_eq!(responses[3]["data"]["person"]["supervisor"]["employeeNo"], json!(SUPERVISOR));

        // A person with no supervisor: nothing to refuse.
        let top = r#"{ person(employeeNo: "E10001") { supervisor { employeeNo } } }"#;
        let data = app.execute_as(Caller::person("E10001"), top, json!({})).await;
        assert_eq!(data, json!({ "data": { "person": { "supervisor": null } } }));
    }
}

db_test! {
    async fn peers_do_not_leak_through_the_supervisor(app) {
        load_examples(&app).await;
        let query = r#"query($no: String!) { person(employeeNo: $no) { supervisor { directReports { employeeNo email } } } }"#;
        let responses = check(&app, query, json!({ "no": PLAIN }), [UNAUTH, FORBID, OK, OK, FORBID, OK]).await;
        for (i, response) in responses.iter().enumerate().take(2) {
            let text = response.to_string();
            for peer in PEER_EMAILS {
                assert!(!text.contains(peer), "caller {i} saw {peer}: {text}");
            }
        }
        assert_eq!(
            nos(&responses[2]["data"]["person"]["supervisor"]["directReports"]),
            ["E10010", "E10011", "E10012"]
        );

        let me = r#"{ me { supervisor { directReports { email } } } }"#;
        let response = app.execute_as(caller(Who::Plain), me, json!({})).await;
        assert_eq!(code(&response["errors"][0]), "FORBIDDEN");
        assert_eq!(response["data"]["me"]["supervisor"], Value::Null);
        for peer in PEER_EMAILS {
            assert!(!response.to_string().contains(peer), "{response}");
        }
    }
}

db_test! {
    async fn supervisors_read_their_tree_however_deep(app) {
        load_examples(&app).await;
        let query = r#"query($no: String!) { person(employeeNo: $no) { directReports { employeeNo directReports { employeeNo email } } } }"#;
        let responses = check(&app, query, json!({ "no": GRAND }), [UNAUTH, FORBID, FORBID, OK, FORBID, OK]).await;
        let reports = &responses[3]["data"]["person"]["directReports"];
        assert_eq!(nos(reports), ["E10007", "E10008", "E10009"]);
        assert_eq!(nos(&reports[2]["directReports"]), ["E10010", "E10011", "E10012"]);

        let responses = check(&app, query, json!({ "no": SUPERVISOR }), [UNAUTH, FORBID, OK, OK, FORBID, OK]).await;
        assert_eq!(nos(&responses[2]["data"]["person"]["directReports"]), ["E10010", "E10011", "E10012"]);
        assert_eq!(responses[2], responses[3], "the supervisor and theirs see the same subtree");

        // A plain person's own reports: none, and no refusal.
        let responses = check(&app, query, json!({ "no": PLAIN }), [UNAUTH, OK, OK, OK, FORBID, OK]).await;
        assert_eq!(responses[1]["data"]["person"]["directReports"], json!([]));
    }
}

// ---------------------------------------------------------------------------
// me

db_test! {
    async fn me_is_the_callers_own_record(app) {
        load_examples(&app).await;
        let query = "{ me { employeeNo directReports { employeeNo } } }";
        let responses = check(&app, query, json!({}), [UNAUTH, OK, OK, OK, OK, OK]).await;
        assert_eq!(responses[0]["data"], Value::Null);
        assert_eq!(responses[1]["data"]["me"], json!({ "employeeNo": PLAIN, "directReports": [] }));
        assert_eq!(responses[2]["data"]["me"]["employeeNo"], json!(SUPERVISOR));
        assert_eq!(nos(&responses[2]["data"]["me"]["directReports"]), ["E10010", "E10011", "E10012"]);
        assert_eq!(responses[4]["data"]["me"]["employeeNo"], json!(UNRELATED));
        assert_eq!(responses[5]["data"]["me"], Value::Null, "the tests' admin has no record");

        // An admin by token reads their own record; a signed-in number without
        // a record gets null, and nobody else's.
        let admin = Caller::Admin { employee_no: Some("E10001".into()) };
        let data = app.execute_as(admin, "{ me { employeeNo } }", json!({})).await;
        assert_eq!(data, json!({ "data": { "me": { "employeeNo": "E10001" } } }));

        let stranger = Caller::person("X00001");
        let data = app.execute_as(stranger.clone(), "{ me { employeeNo } units { code } }", json!({})).await;
        assert_eq!(data["data"]["me"], Value::Null);
        assert!(data.get("errors").is_none(), "{data}");
        let refused = app.execute_as(stranger, PERSON, json!({ "no": PLAIN })).await;
        assert_eq!(code(&refused["errors"][0]), "FORBIDDEN");
    }
}

// ---------------------------------------------------------------------------
// Compliance

const COMPLIANCE: &str = r#"query($no: String!) {
  compliance(employeeNo: $no, year: 2026, asOf: "2026-03-15") {
    status role lines { facet requiredHours } recommendations { courses { title } }
    person { employeeNo email }
  }
}"#;

db_test! {
    async fn compliance_is_read_like_the_record(app) {
        load_examples(&app).await;
        let responses = check(&app, COMPLIANCE, json!({ "no": PLAIN }), [UNAUTH, OK, OK, OK, FORBID, OK]).await;
        assert_eq!(responses[1]["data"]["compliance"]["person"]["employeeNo"], json!(PLAIN));
        assert_eq!(responses[1], responses[5], "the person sees what the admin sees");

        check(&app, COMPLIANCE, json!({ "no": SUPERVISOR }), [UNAUTH, FORBID, OK, OK, FORBID, OK]).await;
        check(&app, COMPLIANCE, json!({ "no": GRAND }), [UNAUTH, FORBID, FORBID, OK, FORBID, OK]).await;
        let missing = [UNAUTH, FORBID, FORBID, FORBID, FORBID, Outcome::Err("NOT_FOUND")];
        check(&app, COMPLIANCE, json!({ "no": "E99999" }), missing).await;
    }
}

db_test! {
    async fn compliance_does_not_lead_to_peers(app) {
        load_examples(&app).await;
        let query = r#"query($no: String!) {
          compliance(employeeNo: $no, year: 2026) { person { supervisor { directReports { email } } } }
        }"#;
        let responses = check(&app, query, json!({ "no": PLAIN }), [UNAUTH, FORBID, OK, OK, FORBID, OK]).await;
        for peer in PEER_EMAILS {
            assert!(!responses[1].to_string().contains(peer), "{}", responses[1]);
        }
    }
}

// ---------------------------------------------------------------------------
// Listings across people: admins only

const ADMIN_ONLY: [Outcome; 6] = [UNAUTH, FORBID, FORBID, FORBID, FORBID, OK];

db_test! {
    async fn only_admins_list_people(app) {
        load_examples(&app).await;
        let query = r#"{ people(first: 100) { totalCount nodes { employeeNo email } } }"#;
        let responses = check(&app, query, json!({}), ADMIN_ONLY).await;
        assert_eq!(responses[5]["data"]["people"]["totalCount"], json!(36));
        // Narrowed to the caller's own reports, still refused: the listing
        // is for admins, and supervisors walk `me { directReports }`.
        let mine = format!(r#"{{ people(filter: {{ supervisorNo: "{SUPERVISOR}" }}) {{ totalCount }} }}"#);
        check(&app, &mine, json!({}), ADMIN_ONLY).await;
    }
}

db_test! {
    async fn only_admins_read_a_units_compliance(app) {
        load_examples(&app).await;
        let query = r#"{
          unitCompliance(unitCode: "DDB", year: 2026, asOf: "2026-12-31") {
            people byStatus { status people } behind(first: 100) { totalCount edges { node { person { employeeNo email } } } }
          }
        }"#;
        let responses = check(&app, query, json!({}), ADMIN_ONLY).await;
        assert!(responses[1]["data"].is_null(), "{}", responses[1]);
        assert!(responses[5]["data"]["unitCompliance"]["people"].as_i64().is_some_and(|n| n > 0));
    }
}

db_test! {
    async fn only_admins_read_the_jobs(app) {
        load_examples(&app).await;
        check(&app, "{ jobRuns(first: 5) { id status } }", json!({}), ADMIN_ONLY).await;
        let shortfalls = "{ quarterlyShortfalls(year: 2026, quarter: 1) { totalCount edges { node { employeeNo } } } }";
        check(&app, shortfalls, json!({}), ADMIN_ONLY).await;
    }
}

// ---------------------------------------------------------------------------
// Mutations: admins only, and a refused one changes nothing

db_test! {
    async fn only_admins_edit_the_catalog(app) {
        load_examples(&app).await;
        let create = r#"mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }"#;
        let input = json!({ "input": {
            "title": "雲端服務架構入門", "hours": 2.5, "link": "https://training.example.org/courses/cloud-101",
            "facet": "TECHNICAL", "level": "C", "domain": "HOSTS"
        } });
        check(&app, create, input, ADMIN_ONLY).await;
        let total = app.data("{ courses(first: 0) { totalCount } }", json!({})).await;
        assert_eq!(total["courses"]["totalCount"], json!(55), "one course, the admin's");

        let update = r#"mutation { updateCourse(id: "1", input: { hours: 3 }) { hours } }"#;
        check(&app, update, json!({}), ADMIN_ONLY).await;
        let archive = r#"mutation { archiveCourse(id: "2") { archived } }"#;
        check(&app, archive, json!({}), ADMIN_ONLY).await;
        let total = app.data("{ courses(first: 0) { totalCount } }", json!({})).await;
        assert_eq!(total["courses"]["totalCount"], json!(54));
    }
}

db_test! {
    async fn only_admins_import(app) {
        load_examples(&app).await;
        let units = "mutation($csv: String!) { importUnits(csv: $csv, dryRun: true) { rows } }";
        check(&app, units, json!({ "csv": crate::personnel_import::UNITS }), ADMIN_ONLY).await;
        let people = "mutation($csv: String!) { importPeople(csv: $csv, dryRun: true) { rows } }";
        check(&app, people, json!({ "csv": crate::personnel_import::PEOPLE }), ADMIN_ONLY).await;
        let evidence = "mutation($csv: String!) { importEvidence(csv: $csv, dryRun: true) { rows } }";
        check(&app, evidence, json!({ "csv": crate::personnel_import::EVIDENCE }), ADMIN_ONLY).await;

        // The completions import, once the schema has it.
        let mutations = app.data(r#"{ __type(name: "MutationRoot") { fields { name } } }"#, json!({})).await;
        if mutations.to_string().contains("\"importCompletions\"") {
            let completions = "mutation($csv: String!) { importCompletions(csv: $csv, dryRun: true) { rows } }";
            let csv = include_str!("../../examples/completions.csv");
            check(&app, completions, json!({ "csv": csv }), ADMIN_ONLY).await;
        }
    }
}

db_test! {
    async fn only_admins_set_a_background_or_the_rules(app) {
        load_examples(&app).await;
        let set = format!(
            r#"mutation {{ setTechnicalBackground(employeeNo: "{PLAIN}", value: true, reason: "reviewed") {{ employeeNo }} }}"#
        );
        check(&app, &set, json!({}), ADMIN_ONLY).await;

        let rules = r#"mutation { setRequirements(year: 2031, note: "test", requirements: [{ facet: POLICY, hours: 3 }]) { ruleYear } }"#;
        check(&app, rules, json!({}), ADMIN_ONLY).await;
        let job = "mutation { runQuarterlyShortfall(year: 2026, quarter: 1, dryRun: true) { outcome } }";
        check(&app, job, json!({}), ADMIN_ONLY).await;
    }
}

db_test! {
    async fn without_a_caller_a_request_is_anonymous(app) {
        // The schema run directly, with nothing in the request data.
        let request = async_graphql::Request::new("{ me { employeeNo } }");
        let response = serde_json::to_value(app.schema.execute(request).await).expect("json");
        assert_eq!(code(&response["errors"][0]), "UNAUTHENTICATED");
        let public = async_graphql::Request::new("{ facets { code } }");
        let response = serde_json::to_value(app.schema.execute(public).await).expect("json");
        assert!(response.get("errors").is_none(), "{response}");
    }
}
