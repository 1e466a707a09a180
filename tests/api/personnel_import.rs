//! Importing units, people and evidence over GraphQL: the example files, every
//! kind of row the imports refuse (all or nothing), the forms Excel files come
//! in, and re-imports.

use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{TestApp, code};

pub const UNITS: &str = include_str!("../../examples/units.csv");
pub const PEOPLE: &str = include_str!("../../examples/people.csv");
pub const EVIDENCE: &str = include_str!("../../examples/evidence.csv");

/// The header of `examples/people.csv`.
pub const PEOPLE_HEADER: &str =
    "employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on,technical_background";

/// A small organisation for tests that need units but not the examples.
pub const ORG_UNITS: &str = "unit_code,name,parent_code,security_level,level_since\n\
ORG,測試機關,,C,2024-01-01\n\
ORG-IT,資訊室,ORG,,\n";

/// Which import a mutation runs.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Units,
    People,
    Evidence,
}

impl Kind {
    fn mutation(self) -> String {
        let field = match self {
            Kind::Units => "importUnits",
            Kind::People => "importPeople",
            Kind::Evidence => "importEvidence",
        };
        format!(
            "mutation($csv: String!, $dryRun: Boolean!) {{ report: {field}(csv: $csv, dryRun: $dryRun) {{ \
             rows created updated unchanged dryRun changes {{ row key action detail }} }} }}"
        )
    }
}

async fn run(app: &TestApp, kind: Kind, csv: &str, dry_run: bool) -> Value {
    let data = app
        .data(&kind.mutation(), json!({ "csv": csv, "dryRun": dry_run }))
        .await;
    data["report"].clone()
}

/// Imports a file that must be accepted and returns the report.
pub async fn import(app: &TestApp, kind: Kind, csv: &str) -> Value {
    run(app, kind, csv, false).await
}

/// Runs a dry run that must be accepted and returns the report.
pub async fn dry_run(app: &TestApp, kind: Kind, csv: &str) -> Value {
    run(app, kind, csv, true).await
}

/// Imports a file that must be refused as bad input; returns the error.
pub async fn refused(app: &TestApp, kind: Kind, csv: &str) -> Value {
    let error = app
        .error(&kind.mutation(), json!({ "csv": csv, "dryRun": false }))
        .await;
    assert_eq!(code(&error), "BAD_USER_INPUT", "{error:#}");
    error
}

/// The `extensions.fields` of an error: every `{row, field, reason}`.
pub fn entries(error: &Value) -> Value {
    error["extensions"]["fields"].clone()
}

/// The counts of a report, without its changes.
pub fn counts(report: &Value) -> Value {
    json!({
        "rows": report["rows"],
        "created": report["created"],
        "updated": report["updated"],
        "unchanged": report["unchanged"],
        "dryRun": report["dryRun"],
    })
}

/// Loads the three example files.
pub async fn load_examples(app: &TestApp) {
    import(app, Kind::Units, UNITS).await;
    import(app, Kind::People, PEOPLE).await;
    import(app, Kind::Evidence, EVIDENCE).await;
}

/// One line of `examples/people.csv`, by employee number.
pub fn example_row(employee_no: &str) -> &'static str {
    PEOPLE
        .lines()
        .find(|line| line.starts_with(&format!("{employee_no},")))
        .unwrap_or_else(|| panic!("{employee_no} is in examples/people.csv"))
}

/// Everything the imports write, as the API shows it: comparing two snapshots
/// tells whether anything was written in between.
pub async fn snapshot(app: &TestApp) -> Value {
    let query = r#"{
      units { code name parent { code } securityLevelHistory { level since } }
      people(first: 100) {
        totalCount
        nodes {
          employeeNo name email joinedOn leftOn
          unit { code } supervisor { employeeNo }
          roleHistory { role startsOn endsOn }
          evidence { criterion detail category obtainedOn expiresOn amount }
          technicalBackground(asOf: "2026-03-15") { hasBackground overridden overrideReason }
        }
      }
    }"#;
    app.data(query, json!({})).await
}

pub async fn people_total(app: &TestApp) -> u64 {
    let data = app.data("{ people(first: 0) { totalCount } }", json!({})).await;
    data["people"]["totalCount"].as_u64().expect("totalCount")
}

async fn unit_codes(app: &TestApp) -> Vec<String> {
    let data = app.data("{ units { code } }", json!({})).await;
    data["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| u["code"].as_str().expect("code").to_string())
        .collect()
}

async fn evidence_total(app: &TestApp) -> usize {
    let data = app
        .data("{ people(first: 100) { nodes { evidence { detail } } } }", json!({}))
        .await;
    data["people"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|p| p["evidence"].as_array().map_or(0, Vec::len))
        .sum()
}

const PERSON: &str = r#"query($no: String!) {
  person(employeeNo: $no) {
    employeeNo name email joinedOn leftOn
    unit { code }
    supervisor { employeeNo }
    roleHistory { role startsOn endsOn }
  }
}"#;

async fn person(app: &TestApp, employee_no: &str) -> Value {
    app.data(PERSON, json!({ "no": employee_no })).await["person"].clone()
}

// ---------------------------------------------------------------------------
// The example files

db_test! {
    async fn loads_the_example_files(app) {
        let units = import(&app, Kind::Units, UNITS).await;
        assert_eq!(counts(&units), json!({ "rows": 12, "created": 12, "updated": 0, "unchanged": 0, "dryRun": false }));
        let changes = units["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 12);
        assert_eq!(changes[0], json!({ "row": 2, "key": "DDB", "action": "CREATED", "detail": "security level B from 2024-01-01" }));
        assert_eq!(changes[1], json!({ "row": 3, "key": "DDB-PLN", "action": "CREATED", "detail": "" }));
        assert_eq!(changes[11], json!({ "row": 13, "key": "DST-JM-CIV", "action": "CREATED", "detail": "" }));

        let people = import(&app, Kind::People, PEOPLE).await;
        assert_eq!(counts(&people), json!({ "rows": 36, "created": 36, "updated": 0, "unchanged": 0, "dryRun": false }));
        let changes = people["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 36);
        assert_eq!(changes[0], json!({ "row": 2, "key": "E10001", "action": "CREATED", "detail": "" }));
        assert_eq!(changes[35], json!({ "row": 37, "key": "E10036", "action": "CREATED", "detail": "" }));

        let evidence = import(&app, Kind::Evidence, EVIDENCE).await;
        assert_eq!(counts(&evidence), json!({ "rows": 36, "created": 36, "updated": 0, "unchanged": 0, "dryRun": false }));
        assert_eq!(evidence["changes"][24], json!({ "row": 26, "key": "E10008", "action": "CREATED", "detail": "" }));

        assert_eq!(unit_codes(&app).await.len(), 12);
        assert_eq!(people_total(&app).await, 36);
        assert_eq!(evidence_total(&app).await, 36);
    }
}

db_test! {
    async fn reads_the_example_rows_exactly(app) {
        load_examples(&app).await;

        assert_eq!(person(&app, "E10008").await, json!({
            "employeeNo": "E10008", "name": "劉雅婷", "email": "yating.liu@mail.example.gov.tw",
            "joinedOn": "2019-08-01", "leftOn": null,
            "unit": { "code": "DDB-INF" }, "supervisor": { "employeeNo": "E10006" },
            "roleHistory": [{ "role": "IT_STAFF", "startsOn": "2019-08-01", "endsOn": null }]
        }));
        // Joining dates in the other forms: 110.2.1, 2021/3/15, 109.9.1, 111/08/01.
        assert_eq!(person(&app, "E10012").await["joinedOn"], json!("2021-02-01"));
        assert_eq!(person(&app, "E10004").await["joinedOn"], json!("2021-03-15"));
        assert_eq!(person(&app, "E10030").await["joinedOn"], json!("2020-09-01"));
        assert_eq!(person(&app, "E10022").await["joinedOn"], json!("2022-08-01"));

        // Roles given as Chinese titles.
        let roles = r#"{
          a: person(employeeNo: "E10012") { role(asOf: "2026-03-15") }
          b: person(employeeNo: "E10022") { role(asOf: "2026-03-15") }
          c: person(employeeNo: "E10020") { role(asOf: "2026-03-15") }
          d: person(employeeNo: "E10023") { role(asOf: "2026-03-15") }
        }"#;
        assert_eq!(app.data(roles, json!({})).await, json!({
            "a": { "role": "IT_STAFF" }, "b": { "role": "IT_STAFF" },
            "c": { "role": "IT_SUPERVISOR" }, "d": { "role": "SECURITY_OFFICER" }
        }));

        // A leaver's role ends on the leaving date (114/12/31).
        let leaver = person(&app, "E10033").await;
        assert_eq!(leaver["leftOn"], json!("2025-12-31"));
        assert_eq!(leaver["roleHistory"], json!([{ "role": "IT_STAFF", "startsOn": "2018-05-02", "endsOn": "2025-12-31" }]));

        // The quoted detail with a comma, and the full-width brackets folded.
        let evidence = r#"{
          a: person(employeeNo: "E10005") { evidence { detail amount } }
          b: person(employeeNo: "E10004") { evidence { criterion detail obtainedOn } }
          c: person(employeeNo: "E10014") { evidence { category expiresOn } }
        }"#;
        let data = app.data(evidence, json!({})).await;
        assert_eq!(data["a"]["evidence"], json!([
            { "detail": "國立臺北大學進修推廣部 程式設計學分班", "amount": 6.0 },
            { "detail": "國立空中大學 資料結構、資料庫應用", "amount": 8.0 },
            { "detail": "國立臺北科技大學進修部 資訊管理, 系統專案管理", "amount": 6.0 }
        ]));
        assert_eq!(data["b"]["evidence"], json!([
            { "criterion": "JOB_SERIES", "detail": "資訊處理職系(調任生效)", "obtainedOn": "2026-04-01" }
        ]));
        assert_eq!(data["c"]["evidence"], json!([
            { "category": "CYBERSECURITY", "expiresOn": "2027-05-30" },
            { "category": "NETWORK_MANAGEMENT", "expiresOn": "2026-11-30" }
        ]));
    }
}

// ---------------------------------------------------------------------------
// Re-imports and dry runs

db_test! {
    async fn importing_the_same_files_again_changes_nothing(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;

        let units = import(&app, Kind::Units, UNITS).await;
        assert_eq!(counts(&units), json!({ "rows": 12, "created": 0, "updated": 0, "unchanged": 12, "dryRun": false }));
        assert_eq!(units["changes"], json!([]));

        let people = import(&app, Kind::People, PEOPLE).await;
        assert_eq!(counts(&people), json!({ "rows": 36, "created": 0, "updated": 0, "unchanged": 36, "dryRun": false }));
        assert_eq!(people["changes"], json!([]));

        let evidence = import(&app, Kind::Evidence, EVIDENCE).await;
        assert_eq!(counts(&evidence), json!({ "rows": 36, "created": 0, "updated": 0, "unchanged": 36, "dryRun": false }));
        assert_eq!(evidence["changes"], json!([]));

        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn a_dry_run_reports_creations_but_writes_nothing(app) {
        let units = dry_run(&app, Kind::Units, UNITS).await;
        assert_eq!(counts(&units), json!({ "rows": 12, "created": 12, "updated": 0, "unchanged": 0, "dryRun": true }));
        assert_eq!(units["changes"][3], json!({ "row": 5, "key": "DDB-INF-NET", "action": "CREATED", "detail": "" }));
        assert_eq!(unit_codes(&app).await, Vec::<String>::new());

        import(&app, Kind::Units, UNITS).await;
        let people = dry_run(&app, Kind::People, PEOPLE).await;
        assert_eq!(counts(&people), json!({ "rows": 36, "created": 36, "updated": 0, "unchanged": 0, "dryRun": true }));
        assert_eq!(people_total(&app).await, 0);

        import(&app, Kind::People, PEOPLE).await;
        let evidence = dry_run(&app, Kind::Evidence, EVIDENCE).await;
        assert_eq!(counts(&evidence), json!({ "rows": 36, "created": 36, "updated": 0, "unchanged": 0, "dryRun": true }));
        assert_eq!(evidence_total(&app).await, 0);

        // The real run then does exactly what the dry run said.
        let real = import(&app, Kind::Evidence, EVIDENCE).await;
        assert_eq!(real["created"], json!(36));
        assert_eq!(real["changes"], evidence["changes"]);
    }
}

db_test! {
    async fn a_dry_run_of_a_change_writes_nothing(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;

        let csv = format!(
            "{PEOPLE_HEADER},role_since\n{},2026-04-01\n",
            example_row("E10005").replace(",it_staff,", ",it_supervisor,")
        );
        let report = dry_run(&app, Kind::People, &csv).await;
        assert_eq!(report, json!({
            "rows": 1, "created": 0, "updated": 1, "unchanged": 0, "dryRun": true,
            "changes": [{ "row": 2, "key": "E10005", "action": "UPDATED", "detail": "role it_staff → it_supervisor from 2026-04-01" }]
        }));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn a_changed_role_closes_the_old_one_the_day_before(app) {
        load_examples(&app).await;

        // role_since as an ROC date: 115/04/01 is 2026-04-01.
        let csv = format!(
            "{PEOPLE_HEADER},role_since\n{},115/04/01\n",
            example_row("E10005").replace(",it_staff,", ",it_supervisor,")
        );
        let report = import(&app, Kind::People, &csv).await;
        assert_eq!(report, json!({
            "rows": 1, "created": 0, "updated": 1, "unchanged": 0, "dryRun": false,
            "changes": [{ "row": 2, "key": "E10005", "action": "UPDATED", "detail": "role it_staff → it_supervisor from 2026-04-01" }]
        }));

        let query = r#"{ person(employeeNo: "E10005") {
          roleHistory { role startsOn endsOn }
          before: role(asOf: "2026-03-31")
          after: role(asOf: "2026-04-01")
          first: role(asOf: "2016-07-18")
          ahead: role(asOf: "2016-07-17")
        } }"#;
        assert_eq!(app.data(query, json!({})).await["person"], json!({
            "roleHistory": [
                { "role": "IT_STAFF", "startsOn": "2016-07-18", "endsOn": "2026-03-31" },
                { "role": "IT_SUPERVISOR", "startsOn": "2026-04-01", "endsOn": null }
            ],
            "before": "IT_STAFF", "after": "IT_SUPERVISOR", "first": "IT_STAFF", "ahead": null
        }));

        let by_role = r#"query($asOf: Date) {
          supervisors: people(first: 0, filter: { role: IT_SUPERVISOR, asOf: $asOf }) { totalCount }
          staff: people(first: 0, filter: { role: IT_STAFF, asOf: $asOf }) { totalCount }
        }"#;
        let on_31 = app.data(by_role, json!({ "asOf": "2026-03-31" })).await;
        assert_eq!(on_31, json!({ "supervisors": { "totalCount": 12 }, "staff": { "totalCount": 19 } }));
        let on_1 = app.data(by_role, json!({ "asOf": "2026-04-01" })).await;
        assert_eq!(on_1, json!({ "supervisors": { "totalCount": 13 }, "staff": { "totalCount": 18 } }));

        // The same file again changes nothing more.
        let again = import(&app, Kind::People, &csv).await;
        assert_eq!(counts(&again), json!({ "rows": 1, "created": 0, "updated": 0, "unchanged": 1, "dryRun": false }));
        let history = app.data(query, json!({})).await;
        assert_eq!(history["person"]["roleHistory"].as_array().map(Vec::len), Some(2));
    }
}

db_test! {
    async fn a_backdated_role_replaces_what_was_recorded_from_its_start(app) {
        load_examples(&app).await;
        let with_role = |role: &str, since: &str| {
            format!(
                "{PEOPLE_HEADER},role_since\n{},{since}\n",
                example_row("E10003").replace(",it_staff,", &format!(",{role},"))
            )
        };

        import(&app, Kind::People, &with_role("security_officer", "2026-07-01")).await;
        let report = import(&app, Kind::People, &with_role("it_supervisor", "2026-03-01")).await;
        assert_eq!(report["changes"], json!([
            { "row": 2, "key": "E10003", "action": "UPDATED", "detail": "role it_staff → it_supervisor from 2026-03-01" }
        ]));

        // The security officer's months from July never held: the supervisor
        // role from March covers them, and the staff role ends in February.
        assert_eq!(person(&app, "E10003").await["roleHistory"], json!([
            { "role": "IT_STAFF", "startsOn": "2018-09-03", "endsOn": "2026-02-28" },
            { "role": "IT_SUPERVISOR", "startsOn": "2026-03-01", "endsOn": null }
        ]));
        let roles = r#"{ person(employeeNo: "E10003") {
          feb: role(asOf: "2026-02-28") mar: role(asOf: "2026-03-01") aug: role(asOf: "2026-08-01")
        } }"#;
        assert_eq!(app.data(roles, json!({})).await["person"], json!({
            "feb": "IT_STAFF", "mar": "IT_SUPERVISOR", "aug": "IT_SUPERVISOR"
        }));
    }
}

db_test! {
    async fn refuses_a_role_since_before_joining(app) {
        load_examples(&app).await;
        let csv = format!(
            "{PEOPLE_HEADER},role_since\n{},2018-09-02\n",
            example_row("E10003").replace(",it_staff,", ",it_supervisor,")
        );
        let before = snapshot(&app).await;

        let error = refused(&app, Kind::People, &csv).await;

        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "role_since",
            "reason": "2018-09-02 is before the joining date 2018-09-03: no role is held before joining"
        }]));

        // A file without joined_on is held to the stored date.
        let without_joined_on = "employee_no,name,email,unit_code,role,role_since\n\
                                 E10003,黃淑芬,shufen.huang@mail.example.gov.tw,DDB-PLN,it_supervisor,2018-01-01\n";
        let error = refused(&app, Kind::People, without_joined_on).await;
        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "role_since",
            "reason": "2018-01-01 is before the joining date 2018-09-03: no role is held before joining"
        }]));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn refuses_a_new_person_whose_role_has_no_start(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,role,joined_on\n\
                   T1,王小明,t1@example.gov.tw,ORG,it_staff,2020-01-02\n\
                   T2,陳大文,t2@example.gov.tw,ORG,security_officer,\n\
                   T3,林小華,t3@example.gov.tw,ORG,,\n";

        let error = refused(&app, Kind::People, csv).await;

        assert_eq!(entries(&error), json!([{
            "row": 3, "field": "joined_on",
            "reason": "is needed for a new person with a role (or give role_since): otherwise the role has no start"
        }]));
        assert_eq!(people_total(&app).await, 0);

        // role_since alone gives the start.
        let with_since = "employee_no,name,email,unit_code,role,role_since\n\
                          T2,陳大文,t2@example.gov.tw,ORG,security_officer,2025-03-01\n";
        import(&app, Kind::People, with_since).await;
        assert_eq!(person(&app, "T2").await["roleHistory"], json!([
            { "role": "SECURITY_OFFICER", "startsOn": "2025-03-01", "endsOn": null }
        ]));
    }
}

/// One person of `ORG_UNITS` under a header: `person_file("role,joined_on",
/// "N1", "it_staff,2020-01-01")`.
fn person_file(columns: &str, no: &str, cells: &str) -> String {
    let lower = no.to_lowercase();
    format!("employee_no,name,email,unit_code,{columns}\n{no},測試{no},{lower}@example.gov.tw,ORG,{cells}\n")
}

async fn roles(app: &TestApp, no: &str) -> Value {
    person(app, no).await["roleHistory"].clone()
}

db_test! {
    async fn no_role_is_held_after_leaving_and_a_second_import_changes_nothing(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,left_on,role_since";
        import(&app, Kind::People, &person_file(columns, "N15", "it_staff,2020-01-01,,")).await;
        import(&app, Kind::People, &person_file(columns, "N15", "it_supervisor,2020-01-01,,2026-11-01")).await;

        // Leaving on October 15: the supervisor role from November never
        // held. The row's role is the one held on leaving, and with no
        // role_since it starts on the import date, here the leaving day.
        let left = person_file("role,joined_on,left_on", "N15", "it_supervisor,2020-01-01,2026-10-15");
        import(&app, Kind::People, &left).await;
        assert_eq!(roles(&app, "N15").await, json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2026-10-14" },
            { "role": "IT_SUPERVISOR", "startsOn": "2026-10-15", "endsOn": "2026-10-15" }
        ]));
        let after = app.data(r#"{ person(employeeNo: "N15") { role(asOf: "2026-10-20") } }"#, json!({})).await;
        assert_eq!(after["person"]["role"], json!(null));

        let again = import(&app, Kind::People, &left).await;
        assert_eq!(counts(&again), json!({ "rows": 1, "created": 0, "updated": 0, "unchanged": 1, "dryRun": false }));
        assert_eq!(roles(&app, "N15").await.as_array().map(Vec::len), Some(2));
    }
}

db_test! {
    async fn a_leaving_date_ends_the_role_in_a_file_without_a_role_column(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        import(&app, Kind::People, &person_file("role,joined_on", "N2", "it_supervisor,2018-01-01")).await;

        import(&app, Kind::People, &person_file("left_on", "N2", "2026-10-31")).await;
        assert_eq!(roles(&app, "N2").await, json!([
            { "role": "IT_SUPERVISOR", "startsOn": "2018-01-01", "endsOn": "2026-10-31" }
        ]));
        let query = r#"{ people(first: 0, filter: { role: IT_SUPERVISOR, asOf: "2026-11-15" }) { totalCount } }"#;
        assert_eq!(app.data(query, json!({})).await["people"]["totalCount"], json!(0));

        // A cleared leaving date (a correction) carries the role on again.
        import(&app, Kind::People, &person_file("left_on", "N2", "")).await;
        assert_eq!(roles(&app, "N2").await, json!([
            { "role": "IT_SUPERVISOR", "startsOn": "2018-01-01", "endsOn": null }
        ]));
    }
}

db_test! {
    async fn stored_dates_hold_a_file_that_leaves_their_column_out(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        import(&app, Kind::People, &person_file("role,joined_on,left_on", "N4", "it_staff,2020-01-01,2025-06-30")).await;
        let before = snapshot(&app).await;

        let error = refused(&app, Kind::People, &person_file("left_on", "N4", "2015-01-01")).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "left_on", "reason": "2015-01-01 is before the joining date 2020-01-01" }
        ]));
        let error = refused(&app, Kind::People, &person_file("joined_on", "N4", "2026-01-01")).await;
        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "joined_on",
            "reason": "2026-01-01 is after the leaving date 2025-06-30; give left_on (blank for someone who came back)"
        }]));
        let error = refused(&app, Kind::People, &person_file("role,role_since", "N4", "it_supervisor,2025-09-01")).await;
        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "role_since",
            "reason": "2025-09-01 is after the leaving date 2025-06-30: no role is held after leaving"
        }]));
        let error = refused(&app, Kind::People, &person_file("role_since", "N4", "2021-01-01")).await;
        assert_eq!(entries(&error), json!([{
            "row": 1, "field": "header",
            "reason": "role_since needs the role column: it says since when the role in that column is held"
        }]));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn the_same_role_from_an_earlier_date_moves_its_start_back(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,role_since";
        import(&app, Kind::People, &person_file(columns, "N1", "it_staff,2020-01-01,")).await;
        import(&app, Kind::People, &person_file(columns, "N1", "it_supervisor,2020-01-01,2026-03-01")).await;

        let earlier = person_file(columns, "N1", "it_supervisor,2020-01-01,2026-01-01");
        let report = import(&app, Kind::People, &earlier).await;
        assert_eq!(report["changes"][0]["detail"], json!("role it_staff → it_supervisor from 2026-01-01"));
        assert_eq!(roles(&app, "N1").await, json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2025-12-31" },
            { "role": "IT_SUPERVISOR", "startsOn": "2026-01-01", "endsOn": null }
        ]));
        let january = app.data(r#"{ person(employeeNo: "N1") { role(asOf: "2026-01-15") } }"#, json!({})).await;
        assert_eq!(january["person"]["role"], json!("IT_SUPERVISOR"));

        // Again, or from a later date (held then anyway): nothing changes.
        let again = import(&app, Kind::People, &earlier).await;
        assert_eq!(again["unchanged"], json!(1));
        let later = import(&app, Kind::People, &person_file(columns, "N1", "it_supervisor,2020-01-01,2026-06-01")).await;
        assert_eq!(later["unchanged"], json!(1));
        assert_eq!(roles(&app, "N1").await.as_array().map(Vec::len), Some(2));
    }
}

db_test! {
    async fn someone_who_comes_back_holds_no_role_while_away(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,left_on";
        import(&app, Kind::People, &person_file(columns, "N11", "it_staff,2020-01-01,2025-06-30")).await;

        let back = person_file(columns, "N11", "it_staff,2026-03-01,");
        let report = import(&app, Kind::People, &back).await;
        let detail = report["changes"][0]["detail"].as_str().unwrap_or_default().to_string();
        assert!(detail.ends_with("role (none) → it_staff from 2026-03-01"), "{detail}");
        assert_eq!(roles(&app, "N11").await, json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2025-06-30" },
            { "role": "IT_STAFF", "startsOn": "2026-03-01", "endsOn": null }
        ]));
        let away = app.data(r#"{ person(employeeNo: "N11") { role(asOf: "2025-12-01") } }"#, json!({})).await;
        assert_eq!(away["person"]["role"], json!(null));

        let again = import(&app, Kind::People, &back).await;
        assert_eq!(again["unchanged"], json!(1));
    }
}

db_test! {
    async fn a_moved_joining_date_takes_the_first_role_with_it(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        import(&app, Kind::People, &person_file("role,joined_on", "P2", "it_staff,2027-01-01")).await;

        import(&app, Kind::People, &person_file("role,joined_on", "P2", "it_staff,2027-02-01")).await;
        assert_eq!(roles(&app, "P2").await, json!([
            { "role": "IT_STAFF", "startsOn": "2027-02-01", "endsOn": null }
        ]));
        let query = r#"{ people(first: 0, filter: { role: IT_STAFF, asOf: "2027-01-15" }) { totalCount } }"#;
        assert_eq!(app.data(query, json!({})).await["people"]["totalCount"], json!(0));

        // Earlier, in a file without a role column.
        import(&app, Kind::People, &person_file("joined_on", "P2", "2026-10-01")).await;
        assert_eq!(roles(&app, "P2").await, json!([
            { "role": "IT_STAFF", "startsOn": "2026-10-01", "endsOn": null }
        ]));
    }
}

db_test! {
    async fn a_role_scheduled_for_later_is_kept_or_brought_forward(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,role_since";
        import(&app, Kind::People, &person_file(columns, "F1", "it_staff,2024-01-01,")).await;
        let scheduled = person_file(columns, "F1", "it_supervisor,2024-01-01,2099-01-01");
        import(&app, Kind::People, &scheduled).await;
        let history = json!([
            { "role": "IT_STAFF", "startsOn": "2024-01-01", "endsOn": "2098-12-31" },
            { "role": "IT_SUPERVISOR", "startsOn": "2099-01-01", "endsOn": null }
        ]);
        assert_eq!(roles(&app, "F1").await, history);

        // The scheduling file again, and a file restating today's role,
        // change nothing.
        assert_eq!(import(&app, Kind::People, &scheduled).await["unchanged"], json!(1));
        let today_staff = person_file("role,joined_on", "F1", "it_staff,2024-01-01");
        assert_eq!(import(&app, Kind::People, &today_staff).await["unchanged"], json!(1));
        assert_eq!(roles(&app, "F1").await, history);

        // Supervisor today, with no date: the promotion comes forward.
        let now = person_file("role,joined_on", "F1", "it_supervisor,2024-01-01");
        let report = import(&app, Kind::People, &now).await;
        let detail = report["changes"][0]["detail"].as_str().unwrap_or_default().to_string();
        assert!(detail.starts_with("role it_staff → it_supervisor from 20"), "{detail}");
        let history = roles(&app, "F1").await;
        assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
        assert_eq!(history[1]["endsOn"], json!(null));
        assert!(history[1]["startsOn"].as_str() < Some("2099-01-01"), "{history}");
    }
}

db_test! {
    async fn a_blank_role_from_an_earlier_date_ends_the_role_then(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,role_since";
        import(&app, Kind::People, &person_file(columns, "P6", "it_staff,2020-01-01,")).await;

        let report = import(&app, Kind::People, &person_file(columns, "P6", ",2020-01-01,2025-01-01")).await;
        assert_eq!(report["changes"][0]["detail"], json!("role it_staff → (none) from 2025-01-01"));
        assert_eq!(roles(&app, "P6").await, json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2024-12-31" }
        ]));
    }
}

db_test! {
    async fn someone_back_in_a_file_without_a_role_column_resumes_their_role(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        import(&app, Kind::People, &person_file("role,joined_on,left_on", "Q1", "security_officer,2020-01-01,2026-06-30")).await;

        let back = person_file("joined_on,left_on", "Q1", "2026-09-01,");
        import(&app, Kind::People, &back).await;
        assert_eq!(roles(&app, "Q1").await, json!([
            { "role": "SECURITY_OFFICER", "startsOn": "2020-01-01", "endsOn": "2026-06-30" },
            { "role": "SECURITY_OFFICER", "startsOn": "2026-09-01", "endsOn": null }
        ]));
        assert_eq!(import(&app, Kind::People, &back).await["unchanged"], json!(1));
    }
}

db_test! {
    async fn a_row_with_a_bad_cell_still_lists_its_date_errors(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,role,joined_on,left_on,role_since\n\
                   C2,測試,c2@example.gov.tw,ORG,boss,2024-01-01,2023-06-30,2023-01-01\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(crate::helpers::fields(&error), ["role", "left_on", "role_since"]);
    }
}

db_test! {
    async fn the_earlier_stint_of_someone_who_came_back_stays(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,left_on";
        import(&app, Kind::People, &person_file(columns, "T30", "it_staff,2020-01-01,2024-12-31")).await;
        let back = person_file(columns, "T30", "it_staff,2026-01-01,");
        import(&app, Kind::People, &back).await;
        let history = json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2024-12-31" },
            { "role": "IT_STAFF", "startsOn": "2026-01-01", "endsOn": null }
        ]);
        assert_eq!(roles(&app, "T30").await, history);

        assert_eq!(import(&app, Kind::People, &back).await["unchanged"], json!(1));
        let renamed = "employee_no,name,email,unit_code\nT30,改名,t30@example.gov.tw,ORG\n";
        import(&app, Kind::People, renamed).await;
        assert_eq!(roles(&app, "T30").await, history);

        // A corrected joining date moves the current stint only.
        import(&app, Kind::People, &person_file(columns, "T30", "it_staff,2026-02-01,")).await;
        assert_eq!(roles(&app, "T30").await, json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2024-12-31" },
            { "role": "IT_STAFF", "startsOn": "2026-02-01", "endsOn": null }
        ]));
    }
}

db_test! {
    async fn restating_an_earlier_role_from_its_date_undoes_the_later_change(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,role_since";
        import(&app, Kind::People, &person_file(columns, "N1", "it_staff,2020-01-01,")).await;
        import(&app, Kind::People, &person_file(columns, "N1", "it_supervisor,2020-01-01,2026-06-01")).await;

        let report = import(&app, Kind::People, &person_file(columns, "N1", "it_staff,2020-01-01,2025-01-01")).await;

        assert_eq!(report["changes"][0]["detail"], json!("role it_supervisor → it_staff from 2026-06-01"));
        assert_eq!(roles(&app, "N1").await, json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": null }
        ]));
    }
}

db_test! {
    async fn refuses_a_joining_date_moved_into_an_earlier_stint(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,left_on";
        import(&app, Kind::People, &person_file(columns, "A1", "it_staff,2020-01-01,2021-12-31")).await;
        import(&app, Kind::People, &person_file(columns, "A1", "it_supervisor,2022-06-01,2023-05-31")).await;
        import(&app, Kind::People, &person_file(columns, "A1", "security_officer,2024-03-01,")).await;
        let before = snapshot(&app).await;

        let error = refused(&app, Kind::People, &person_file(columns, "A1", "security_officer,2023-03-01,")).await;

        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "joined_on",
            "reason": "2023-03-01 is before the end of an earlier stint (it_supervisor 2022-06-01 to 2023-05-31); the joining date of the latest stint comes after it"
        }]));
        assert_eq!(snapshot(&app).await, before);
        assert_eq!(roles(&app, "A1").await.as_array().map(Vec::len), Some(3));
    }
}

db_test! {
    async fn a_report_names_the_roles_a_leaving_date_removes(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let columns = "role,joined_on,role_since";
        import(&app, Kind::People, &person_file(columns, "B1", "it_staff,2020-01-01,")).await;
        import(&app, Kind::People, &person_file(columns, "B1", "it_supervisor,2020-01-01,2099-03-01")).await;

        let report = import(&app, Kind::People, &person_file("left_on", "B1", "2099-01-31")).await;

        assert_eq!(report["changes"][0]["detail"], json!("left_on (none) → 2099-01-31; role it_supervisor from 2099-03-01 removed"));
        assert_eq!(roles(&app, "B1").await, json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2099-01-31" }
        ]));
    }
}

db_test! {
    async fn a_change_names_the_role_held_on_leaving(app) {
        load_examples(&app).await;
        // E10017 left on 2026-06-30 as IT staff.
        let csv = format!(
            "{PEOPLE_HEADER},role_since\n{},2026-04-01\n",
            example_row("E10017").replace(",it_staff,", ",it_supervisor,")
        );
        let report = dry_run(&app, Kind::People, &csv).await;
        assert_eq!(report["changes"][0]["detail"], json!("role it_staff → it_supervisor from 2026-04-01"));
    }
}

db_test! {
    async fn a_person_missing_from_a_later_import_stays(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;

        let csv = format!("{PEOPLE_HEADER}\n{}\n", example_row("E10001"));
        let report = import(&app, Kind::People, &csv).await;
        assert_eq!(counts(&report), json!({ "rows": 1, "created": 0, "updated": 0, "unchanged": 1, "dryRun": false }));

        assert_eq!(people_total(&app).await, 36);
        assert_eq!(snapshot(&app).await, before);
        let e10036 = person(&app, "E10036").await;
        assert_eq!(e10036["supervisor"], json!({ "employeeNo": "E10034" }));
    }
}

db_test! {
    async fn reports_what_an_update_changes(app) {
        load_examples(&app).await;

        // E10012 moves to DDB-PLN under E10002 with a new address; E10002 stays as is.
        let moved = example_row("E10012")
            .replace("yizhen.cheng@", "yz.cheng@")
            .replace(",DDB-INF-NET,", ",DDB-PLN,")
            .replace(",E10009,", ",E10002,");
        let csv = format!("{PEOPLE_HEADER}\n{moved}\n{}\n", example_row("E10002"));
        let report = import(&app, Kind::People, &csv).await;
        assert_eq!(counts(&report), json!({ "rows": 2, "created": 0, "updated": 1, "unchanged": 1, "dryRun": false }));
        let change = &report["changes"][0];
        assert_eq!((change["row"].clone(), change["key"].clone()), (json!(2), json!("E10012")));
        let detail = change["detail"].as_str().expect("detail");
        assert!(detail.starts_with("email yizhen.cheng@mail.example.gov.tw → yz.cheng@mail.example.gov.tw; unit "), "{detail}");
        assert!(detail.ends_with("; supervisor → E10002"), "{detail}");

        let query = r#"{ person(employeeNo: "E10012") { email unit { code } supervisor { employeeNo } agency { code } } }"#;
        assert_eq!(app.data(query, json!({})).await["person"], json!({
            "email": "yz.cheng@mail.example.gov.tw", "unit": { "code": "DDB-PLN" },
            "supervisor": { "employeeNo": "E10002" }, "agency": { "code": "DDB" }
        }));
        let reports = r#"{ a: person(employeeNo: "E10009") { directReports { employeeNo } }
                           b: person(employeeNo: "E10002") { directReports { employeeNo } } }"#;
        assert_eq!(app.data(reports, json!({})).await, json!({
            "a": { "directReports": [{ "employeeNo": "E10010" }, { "employeeNo": "E10011" }] },
            "b": { "directReports": [
                { "employeeNo": "E10003" }, { "employeeNo": "E10004" }, { "employeeNo": "E10005" },
                { "employeeNo": "E10012" }, { "employeeNo": "E10017" }
            ] }
        }));
    }
}

db_test! {
    async fn a_new_security_level_takes_effect_on_its_date(app) {
        load_examples(&app).await;

        let csv = "unit_code,name,parent_code,security_level,level_since\nDDB,臺北市政府數位發展局,,A級,115/01/01\n";
        let report = import(&app, Kind::Units, csv).await;
        assert_eq!(report, json!({
            "rows": 1, "created": 0, "updated": 1, "unchanged": 0, "dryRun": false,
            "changes": [{ "row": 2, "key": "DDB", "action": "UPDATED", "detail": "security level A from 2026-01-01" }]
        }));

        let query = r#"{ unit(code: "DDB-INF-NET") {
          securityLevelHistory { level since }
          old: securityLevel(asOf: "2025-12-31")
          new: securityLevel(asOf: "2026-01-01")
          none: securityLevel(asOf: "2023-12-31")
        } }"#;
        assert_eq!(app.data(query, json!({})).await["unit"], json!({
            "securityLevelHistory": [{ "level": "B", "since": "2024-01-01" }, { "level": "A", "since": "2026-01-01" }],
            "old": "B", "new": "A", "none": null
        }));

        let again = import(&app, Kind::Units, csv).await;
        assert_eq!(again["unchanged"], json!(1));
    }
}

// ---------------------------------------------------------------------------
// Every kind of error; nothing is written

db_test! {
    async fn refuses_an_unknown_unit(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code\n\
                   T1,王小明,t1@example.gov.tw,ORG\n\
                   T2,李大華,t2@example.gov.tw,NOPE\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 3, "field": "unit_code", "reason": "unit NOPE does not exist; import it first" }
        ]));
        assert_eq!(error["message"], json!("row 3, unit_code: unit NOPE does not exist; import it first"));
        assert_eq!(people_total(&app).await, 0);

        // A unit's parent must exist too.
        let units = "unit_code,name,parent_code\nORG-X,新科,ORG\nORG-Y,另一科,ORG-Z\n";
        let error = refused(&app, Kind::Units, units).await;
        assert_eq!(entries(&error), json!([
            { "row": 3, "field": "parent_code", "reason": "unit ORG-Z does not exist" }
        ]));
        assert_eq!(unit_codes(&app).await, ["ORG", "ORG-IT"]);
    }
}

db_test! {
    async fn refuses_a_new_agency_whose_first_level_starts_later(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;

        let csv = "unit_code,name,parent_code,security_level,level_since\n\
                   FUT,未來機關,,B,2099-01-01\n";
        let error = refused(&app, Kind::Units, csv).await;
        let reason = entries(&error)[0]["reason"].as_str().unwrap_or_default().to_string();
        assert_eq!(entries(&error)[0]["field"], json!("level_since"), "{error}");
        assert!(
            reason.starts_with("2099-01-01 is after today (") && reason.ends_with(") and FUT has no level yet: give the level in force today first"),
            "{reason}"
        );
        assert_eq!(snapshot(&app).await, before);

        // An agency with a level may be given its next one ahead of time.
        let later = import(&app, Kind::Units, "unit_code,name,parent_code,security_level,level_since\nDDB,臺北市政府數位發展局,,A,2099-01-01\n").await;
        assert_eq!(later["updated"], json!(1), "{later}");
    }
}

db_test! {
    async fn refuses_an_agency_without_a_security_level(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;

        let csv = "unit_code,name,parent_code,security_level,level_since\n\
                   NEW,新機關,,,\n\
                   NEW-IT,資訊室,NEW,,\n\
                   DDB-PLN,數位策略組,,,\n\
                   DDB,臺北市政府數位發展局,,,\n";
        let error = refused(&app, Kind::Units, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "security_level", "reason": "is required for NEW, an agency (no parent_code): A, B, C, D or E, with level_since" },
            { "row": 4, "field": "security_level", "reason": "is required for DDB-PLN, an agency (no parent_code): A, B, C, D or E, with level_since" }
        ]), "DDB has its level stored; NEW-IT is below NEW");
        assert_eq!(snapshot(&app).await, before);

        // A file without parent codes makes a new unit an agency too.
        let error = refused(&app, Kind::Units, "unit_code,name\nLONE,新機關\n").await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "security_level", "reason": "is required for LONE, an agency (no parent_code): A, B, C, D or E, with level_since" }
        ]));

        // With its level, the same agency is accepted; its stored level then
        // carries it through files that leave the level out.
        let with_level = "unit_code,name,parent_code,security_level,level_since\nNEW,新機關,,C,2026-01-01\nNEW-IT,資訊室,NEW,,\n";
        assert_eq!(counts(&import(&app, Kind::Units, with_level).await)["created"], json!(2));
        let again = import(&app, Kind::Units, "unit_code,name,parent_code\nNEW,新機關,\n").await;
        assert_eq!(counts(&again)["unchanged"], json!(1));
    }
}

db_test! {
    async fn refuses_unit_codes_with_spaces_or_line_breaks(app) {
        import(&app, Kind::Units, ORG_UNITS).await;

        let csv = "unit_code,name,parent_code,security_level,level_since\n\
                   ORG-NEW,新機關,,B,2026-01-01\n\
                   ORG IT2,資訊二科,ORG,,\n\
                   \"ORG-\nIT3\",資訊三科,ORG,,\n\
                   ORG-IT4,資訊四科,ORG IT,,\n";
        let error = refused(&app, Kind::Units, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 3, "field": "unit_code", "reason": "\"ORG IT2\" has a space or line break; write unit codes without them, such as DDB-PLN" },
            { "row": 4, "field": "unit_code", "reason": "\"ORG- IT3\" has a space or line break; write unit codes without them, such as DDB-PLN" },
            { "row": 6, "field": "parent_code", "reason": "\"ORG IT\" has a space or line break; write unit codes without them, such as DDB-PLN" }
        ]));
        assert_eq!(unit_codes(&app).await, ["ORG", "ORG-IT"], "not even the good row was written");
    }
}

db_test! {
    async fn generated_demo_units_pass_the_unit_import(app) {
        learnmap::demo::generate(&app.db, learnmap::demo::DemoOptions { people: 200, seed: 7 }).await.expect("gen-demo");
        let data = app.data("{ units { code name parent { code } securityLevelHistory { level since } } }", json!({})).await;
        let units = data["units"].as_array().expect("units");

        // The demo's units written back as a units file, each agency with its
        // latest level (units below show their agency's history): every row
        // must pass and change nothing.
        let mut csv = String::from("unit_code,name,parent_code,security_level,level_since\n");
        for unit in units {
            let agency = unit["parent"].is_null();
            let history = unit["securityLevelHistory"].as_array().filter(|_| agency);
            let latest = history.and_then(|h| h.last()).cloned().unwrap_or(Value::Null);
            let cell = |value: &Value| value.as_str().unwrap_or("").to_string();
            csv.push_str(&format!(
                "{},{},{},{},{}\n",
                cell(&unit["code"]), cell(&unit["name"]), cell(&unit["parent"]["code"]), cell(&latest["level"]), cell(&latest["since"])
            ));
        }
        let report = import(&app, Kind::Units, &csv).await;
        assert_eq!(report["rows"], json!(units.len()));
        assert_eq!(report["unchanged"], json!(units.len()), "{report:#}");
        assert!(units.iter().filter(|u| u["parent"].is_null()).count() >= 5, "five agencies or more");
    }
}

db_test! {
    async fn refuses_an_unknown_supervisor(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,supervisor_no\n\
                   T1,王小明,t1@example.gov.tw,ORG,\n\
                   T2,李大華,t2@example.gov.tw,ORG-IT,E99999\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 3, "field": "supervisor_no", "reason": "no person has employee number E99999" }
        ]));
        assert_eq!(people_total(&app).await, 0);
    }
}

db_test! {
    async fn refuses_a_supervisor_cycle_within_the_file(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,supervisor_no\n\
                   T1,王小明,t1@example.gov.tw,ORG,T2\n\
                   T2,李大華,t2@example.gov.tw,ORG,T1\n\
                   T3,陳美玲,t3@example.gov.tw,ORG,T3\n\
                   T4,張志豪,t4@example.gov.tw,ORG,T1\n";
        let error = refused(&app, Kind::People, csv).await;
        // T4 only reports into the cycle: fixing T1 and T2 is enough.
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "supervisor_no", "reason": "T2 makes a cycle of supervisors back to T1" },
            { "row": 3, "field": "supervisor_no", "reason": "T1 makes a cycle of supervisors back to T2" },
            { "row": 4, "field": "supervisor_no", "reason": "a person cannot be their own supervisor" }
        ]));
        assert_eq!(people_total(&app).await, 0);
    }
}

db_test! {
    async fn refuses_a_supervisor_cycle_through_people_already_stored(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;

        // E10012 reports to E10009, who reports to E10006, who reports to E10001.
        let csv = format!("{PEOPLE_HEADER}\n{}\n", example_row("E10001").replace(",it_supervisor,,", ",it_supervisor,E10012,"));
        let error = refused(&app, Kind::People, &csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "supervisor_no", "reason": "E10012 makes a cycle of supervisors back to E10001" }
        ]));
        assert_eq!(snapshot(&app).await, before);

        // A unit cycle against stored units is refused the same way.
        // DDB-PLN, below DDB, only leads into it.
        let units = "unit_code,name,parent_code\nDDB,臺北市政府數位發展局,DDB-INF-NET\nDDB-PLN,數位策略組,DDB\n";
        let error = refused(&app, Kind::Units, units).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "parent_code", "reason": "DDB-INF-NET makes a cycle of parents back to DDB" }
        ]));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn refuses_a_duplicate_employee_number(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        // Employee numbers are compared in upper case: e20001 is E20001.
        let csv = "employee_no,name,email,unit_code\n\
                   E20001,王小明,t1@example.gov.tw,ORG\n\
                   E20002,李大華,t2@example.gov.tw,ORG\n\
                   e20001,王小明,t1@example.gov.tw,ORG-IT\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 4, "field": "employee_no", "reason": "E20001 is also on row 2" }
        ]));
        assert_eq!(people_total(&app).await, 0);
    }
}

db_test! {
    async fn refuses_a_bad_email(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code\n\
                   T1,王小明,王小明,ORG\n\
                   T2,李大華,\"a@b.tw, c@d.tw\",ORG\n\
                   T3,陳美玲,t3@localhost,ORG\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "email", "reason": "\"王小明\" is not an e-mail address such as name@mail.taipei.gov.tw" },
            { "row": 3, "field": "email", "reason": "\"a@b.tw, c@d.tw\" is not an e-mail address such as name@mail.taipei.gov.tw" },
            { "row": 4, "field": "email", "reason": "\"t3@localhost\" is not an e-mail address such as name@mail.taipei.gov.tw" }
        ]));
        assert_eq!(people_total(&app).await, 0);
    }
}

db_test! {
    async fn refuses_a_bad_date(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,joined_on,left_on\n\
                   T1,王小明,t1@example.gov.tw,ORG,2026-02-30,\n\
                   T2,李大華,t2@example.gov.tw,ORG,115/13/01,\n\
                   T3,陳美玲,t3@example.gov.tw,ORG,tomorrow,\n\
                   T4,林志明,t4@example.gov.tw,ORG,2026-03-15,2026-03-14\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "joined_on", "reason": "2026-02-30 is not a calendar date" },
            { "row": 3, "field": "joined_on", "reason": "\"115/13/01\" is not a date: 2026-13-01 is not a calendar date" },
            { "row": 4, "field": "joined_on", "reason": "\"tomorrow\" is not a date; write it as 2026-03-15, 2026/3/15, 115/3/15, 1150315, 20260315 or 民國115年3月15日" },
            { "row": 5, "field": "left_on", "reason": "2026-03-14 is before the joining date 2026-03-15" }
        ]));
        assert_eq!(people_total(&app).await, 0);

        let units = "unit_code,name,security_level,level_since\nNEW,新機關,B,115/02/29\n";
        let error = refused(&app, Kind::Units, units).await;
        assert_eq!(
            entries(&error)[0],
            json!({ "row": 2, "field": "level_since", "reason": "\"115/02/29\" is not a date: 2026-02-29 is not a calendar date" })
        );
        assert_eq!(unit_codes(&app).await, ["ORG", "ORG-IT"]);
    }
}

db_test! {
    async fn refuses_an_unknown_role(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,role\nT1,王小明,t1@example.gov.tw,ORG,manager\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "role",
            "reason": "\"manager\" is not a role; use it_staff (資訊業務人員), it_supervisor (資訊主管人員) or security_officer (資通安全專責人員)"
        }]));
        assert_eq!(people_total(&app).await, 0);
    }
}

db_test! {
    async fn refuses_a_file_missing_a_required_column(app) {
        let error = refused(&app, Kind::Units, "unit_code,parent_code\nORG,\n").await;
        assert_eq!(entries(&error), json!([{
            "row": 1, "field": "name",
            "reason": "column is missing; name a column \"name\" or \"單位名稱\" or \"機關名稱\" or \"名稱\" or \"unit_name\""
        }]));
        assert_eq!(unit_codes(&app).await, Vec::<String>::new());

        import(&app, Kind::Units, ORG_UNITS).await;
        let error = refused(&app, Kind::People, "employee_no,name,unit_code\nT1,王小明,ORG\n").await;
        assert_eq!(entries(&error), json!([{
            "row": 1, "field": "email",
            "reason": "column is missing; name a column \"email\" or \"電子郵件\" or \"電子信箱\" or \"e-mail\" or \"mail\""
        }]));
        assert_eq!(people_total(&app).await, 0);

        let error = refused(&app, Kind::Evidence, "員工編號,說明\nT1,x\n").await;
        assert_eq!(entries(&error), json!([{
            "row": 1, "field": "criterion",
            "reason": "column is missing; name a column \"criterion\" or \"認定條件\" or \"條件\" or \"技術背景條件\""
        }]));

        // A misspelt column is not silently dropped.
        let error = refused(&app, Kind::People, "employee_no,name,email,unit_code,rol\nT1,王小明,t1@example.gov.tw,ORG,it_staff\n").await;
        let reason = error["extensions"]["fields"][0]["reason"].as_str().expect("reason");
        assert_eq!(error["extensions"]["fields"][0]["field"], json!("header"));
        assert!(reason.starts_with("\"rol\" is not a known column; the columns are employee_no (員工編號), "), "{reason}");
        assert_eq!(people_total(&app).await, 0);
    }
}

const EVIDENCE_HEADER: &str = "employee_no,criterion,detail,category,obtained_on,expires_on,amount";

db_test! {
    async fn refuses_an_unknown_criterion(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;
        let csv = format!("{EVIDENCE_HEADER}\nE10002,job_series,資訊處理職系,,2010-02-01,\nE10002,9,資訊處理職系,,2010-02-01,\n");
        let error = refused(&app, Kind::Evidence, &csv).await;
        assert_eq!(entries(&error), json!([{
            "row": 3, "field": "criterion",
            "reason": "\"9\" is not a criterion; use job_series (1, 資訊處理職系), engineer_licence (2, 技師), technician_certificate (3, 技術士證), certificate (4, 專業證照), ict_degree (5, 資通訊科系), credits (6, 學分) or training_hours (7, 訓練時數)"
        }]));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn refuses_a_certificate_without_category(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;
        let csv = format!("{EVIDENCE_HEADER}\nE10002,certificate,Cisco CCNA,,2024-01-01,2027-01-01,\n");
        let error = refused(&app, Kind::Evidence, &csv).await;
        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "category",
            "reason": "is required for a certificate; use cybersecurity (資通安全), network_management (網路管理), database_management (資料庫管理), software_engineering (軟體工程) or software_testing (軟體測試)"
        }]));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn refuses_evidence_of_the_wrong_shape(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;
        let csv = format!(
            "{EVIDENCE_HEADER}\n\
             E99999,job_series,資訊處理職系,,2010-02-01,,\n\
             E10002,credits,學分班,,,,\n\
             E10002,ict_degree,資訊系,cybersecurity,2000-06-30,,3\n\
             E10002,certificate,CCNA,network_management,2024-01-01,2023-12-31,\n\
             E10002,training_hours,研習,,2024-01-01,,0\n"
        );
        let error = refused(&app, Kind::Evidence, &csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "employee_no", "reason": "no person has employee number E99999; import people first" },
            { "row": 3, "field": "amount", "reason": "is required for credits: the credits earned" },
            { "row": 3, "field": "obtained_on", "reason": "is required for credits: only credits earned in the ten years before a date count toward it" },
            { "row": 4, "field": "category", "reason": "only certificates (criterion certificate) have a category; leave it blank for ict_degree" },
            { "row": 4, "field": "amount", "reason": "only credits and training hours have an amount; leave it blank for ict_degree" },
            { "row": 5, "field": "expires_on", "reason": "2023-12-31 is before obtained_on 2024-01-01; evidence cannot expire before it is obtained" },
            { "row": 6, "field": "amount", "reason": "must be more than 0: the hours trained" }
        ]));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn evidence_errors_say_what_is_accepted(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;
        let csv = format!(
            "{EVIDENCE_HEADER}\n\
             E 10002,job_series,資訊處理職系,,2010-02-01,,\n\
             E10002,job_series,,,2010-02-01,,\n\
             E10002,credits,空大學分,,2020-01-01,,three\n\
             E10002,training_hours,研習,,2020-01-01,,10001\n\
             E10002,certificate,CCNA,networking,2024-01-01,2027-01-01,\n\
             E10002,training_hours,資安研習,,,,12\n\
             E10002,ict_degree,資訊系,,2000-06-30,,\n\
             E10002,5,資訊系,,2000-06-30,,\n"
        );
        let error = refused(&app, Kind::Evidence, &csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "employee_no", "reason": "\"E 10002\" is not an employee number (letters, digits and -, at most 32)" },
            { "row": 3, "field": "detail", "reason": "is required: what the evidence is, such as the certificate, licence or degree and who issued it" },
            { "row": 4, "field": "amount", "reason": "\"three\" is not a number; write the credits or hours as a number such as 20 or 1.5" },
            { "row": 5, "field": "amount", "reason": "10001 is more than 10000, the most one row may give; check the cell" },
            { "row": 6, "field": "category", "reason": "\"networking\" is not a certificate category; use cybersecurity (資通安全), network_management (網路管理), database_management (資料庫管理), software_engineering (軟體工程) or software_testing (軟體測試)" },
            { "row": 7, "field": "obtained_on", "reason": "is required for training_hours: only hours trained in the ten years before a date count toward it" },
            { "row": 9, "field": "detail", "reason": "the same evidence (employee_no, criterion, detail and obtained_on) is also on row 8; keep one of the two rows" }
        ]));
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn lists_every_error_of_a_file_together(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,role,supervisor_no,joined_on\n\
                   T1,王小明,t1@example.gov.tw,ORG,it_supervisor,,2020-01-01\n\
                   T2,李大華,not-an-email,ORG,it_staff,T1,2020-01-01\n\
                   T3,陳美玲,t3@example.gov.tw,ORG-IT,it_staff,T1,2020-01-01\n\
                   T4,林志明,t4@example.gov.tw,NOPE,it_staff,T1,2020-01-01\n\
                   T5,黃淑芬,t5@example.gov.tw,ORG-IT,boss,T1,2020-01-01\n";
        let error = refused(&app, Kind::People, csv).await;
        let role_reason = "\"boss\" is not a role; use it_staff (資訊業務人員), it_supervisor (資訊主管人員) or security_officer (資通安全專責人員)";
        assert_eq!(entries(&error), json!([
            { "row": 3, "field": "email", "reason": "\"not-an-email\" is not an e-mail address such as name@mail.taipei.gov.tw" },
            { "row": 5, "field": "unit_code", "reason": "unit NOPE does not exist; import it first" },
            { "row": 6, "field": "role", "reason": role_reason }
        ]));
        assert_eq!(crate::helpers::fields(&error), ["email", "unit_code", "role"]);
        assert_eq!(error["message"], json!(format!(
            "row 3, email: \"not-an-email\" is not an e-mail address such as name@mail.taipei.gov.tw; \
             row 5, unit_code: unit NOPE does not exist; import it first; row 6, role: {role_reason}"
        )));
        assert_eq!(people_total(&app).await, 0);
    }
}

db_test! {
    async fn one_pass_lists_cell_reference_duplicate_and_header_errors(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        // Each of rows 3 to 5 has a bad cell and a second kind of error,
        // which used to show only once the cell was fixed; the unknown
        // column used to hide every row error. Row 2 gives a role but no
        // date it started.
        let csv = "employee_no,name,email,unit_code,role,supervisor_no,部門\n\
                   T1,王小明,t1@example.gov.tw,ORG,it_supervisor,,資訊室\n\
                   T1,王小明,not-an-email,ORG,it_staff,,\n\
                   T3,陳美玲,t3@example.gov.tw,NOPE,boss,T1,\n\
                   T4,林志明,,ORG,it_staff,E99999,\n\
                   T5,Lin, Mei,t5@example.gov.tw,ORG,it_staff,,x\n";
        let error = refused(&app, Kind::People, csv).await;
        let header = entries(&error)[0].clone();
        assert_eq!((&header["row"], &header["field"]), (&json!(1), &json!("header")));
        assert!(header["reason"].as_str().is_some_and(|r| r.starts_with("\"部門\" is not a known column")), "{header}");
        assert_eq!(entries(&error).as_array().map(|e| e[1..].to_vec()), Some(vec![
            json!({ "row": 2, "field": "joined_on", "reason": "is needed for a new person with a role (or give role_since): otherwise the role has no start" }),
            json!({ "row": 3, "field": "email", "reason": "\"not-an-email\" is not an e-mail address such as name@mail.taipei.gov.tw" }),
            json!({ "row": 3, "field": "employee_no", "reason": "T1 is also on row 2" }),
            json!({ "row": 4, "field": "role", "reason": "\"boss\" is not a role; use it_staff (資訊業務人員), it_supervisor (資訊主管人員) or security_officer (資通安全專責人員)" }),
            json!({ "row": 4, "field": "unit_code", "reason": "unit NOPE does not exist; import it first" }),
            json!({ "row": 5, "field": "email", "reason": "is required" }),
            json!({ "row": 5, "field": "supervisor_no", "reason": "no person has employee number E99999" }),
            json!({ "row": 6, "field": "cells", "reason": "has a value in column H, past the header's last column G; put quotes around values that contain commas" }),
        ]));
        assert_eq!(people_total(&app).await, 0);

        let units = "unit_code,name,parent_code\nORG-A,,NOPE\nORG-A,資訊二科,ORG\nORG-B,,\nORG-C,資訊三科,ORG X\n";
        let error = refused(&app, Kind::Units, units).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "name", "reason": "is required" },
            { "row": 2, "field": "parent_code", "reason": "unit NOPE does not exist" },
            { "row": 3, "field": "unit_code", "reason": "ORG-A is also on row 2" },
            { "row": 4, "field": "name", "reason": "is required" },
            { "row": 4, "field": "security_level", "reason": "is required for ORG-B, an agency (no parent_code): A, B, C, D or E, with level_since" },
            { "row": 5, "field": "parent_code", "reason": "\"ORG X\" has a space or line break; write unit codes without them, such as DDB-PLN" }
        ]), "an unreadable parent is not taken for no parent");
        assert_eq!(unit_codes(&app).await, ["ORG", "ORG-IT"]);
    }
}

db_test! {
    async fn one_pass_lists_evidence_errors_of_every_kind(app) {
        load_examples(&app).await;
        let before = snapshot(&app).await;
        let csv = format!(
            "{EVIDENCE_HEADER},備註\n\
             E99999,credits,空大學分,,2020-01-01,,lots,x\n\
             E10002,ict_degree,資訊系,,2000-06-30,,,\n\
             E10002,ict_degree,資訊系,bogus,2000-06-30,,,\n"
        );
        let error = refused(&app, Kind::Evidence, &csv).await;
        let found: Vec<(Value, Value)> = entries(&error).as_array().expect("entries").iter().map(|e| (e["row"].clone(), e["field"].clone())).collect();
        assert_eq!(found, [
            (json!(1), json!("header")),
            (json!(2), json!("amount")),
            (json!(2), json!("employee_no")),
            (json!(4), json!("category")),
            (json!(4), json!("detail")),
        ]);
        assert_eq!(snapshot(&app).await, before);
    }
}

db_test! {
    async fn a_file_with_very_many_errors_lists_the_first_hundred(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let mut csv = String::from("employee_no,name,email,unit_code\n");
        for n in 1..=130 {
            csv.push_str(&format!("T{n},人員{n},t{n}@example.gov.tw,NOPE\n"));
        }

        let error = refused(&app, Kind::People, &csv).await;

        let listed = entries(&error).as_array().map(Vec::len);
        assert_eq!(listed, Some(100));
        assert_eq!(entries(&error)[99], json!({ "row": 101, "field": "unit_code", "reason": "unit NOPE does not exist; import it first" }));
        assert_eq!(error["extensions"]["moreErrors"], json!(30));
        let message = error["message"].as_str().expect("message");
        assert!(message.starts_with("row 2, unit_code: unit NOPE does not exist; import it first; row 3, unit_code:"), "{message}");
        assert!(message.ends_with("row 101, unit_code: unit NOPE does not exist; import it first; and 30 more errors not listed; fix these and check the file again"), "{message}");
        assert_eq!(people_total(&app).await, 0);
    }
}

db_test! {
    async fn error_rows_are_lines_of_the_file(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        // A blank line and a quoted cell over two lines still count as lines.
        let csv = "employee_no,name,email,unit_code\n\
                   \n\
                   T1,\"王小明\n(借調)\",t1@example.gov.tw,ORG\n\
                   T2,李大華,t2@example.gov.tw,NOPE\n";
        let error = refused(&app, Kind::People, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 5, "field": "unit_code", "reason": "unit NOPE does not exist; import it first" }
        ]));

        let shifted = "employee_no,name,email,unit_code\nT1,Lin, Mei,t1@example.gov.tw,ORG\n";
        let error = refused(&app, Kind::People, shifted).await;
        assert_eq!(entries(&error), json!([{
            "row": 2, "field": "cells",
            "reason": "has a value in column E, past the header's last column D; put quotes around values that contain commas"
        }]));
        assert_eq!(people_total(&app).await, 0);
    }
}

// ---------------------------------------------------------------------------
// Encodings and forms

db_test! {
    async fn reads_bom_crlf_chinese_headers_and_full_width_cells(app) {
        let units = "\u{feff}單位代碼,單位名稱,上級單位代碼,資通安全責任等級,等級生效日\r\n\
                     ORG,測試機關,,B級,113/01/01\r\n\
                     ORG-IT,\"資訊室, 第一科\",ORG,,\r\n";
        let report = import(&app, Kind::Units, units).await;
        assert_eq!(counts(&report), json!({ "rows": 2, "created": 2, "updated": 0, "unchanged": 0, "dryRun": false }));
        let query = r#"{ unit(code: "ORG-IT") { name isAgency parent { code } agency { code securityLevelHistory { level since } } } }"#;
        assert_eq!(app.data(query, json!({})).await["unit"], json!({
            "name": "資訊室, 第一科", "isAgency": false, "parent": { "code": "ORG" },
            "agency": { "code": "ORG", "securityLevelHistory": [{ "level": "B", "since": "2024-01-01" }] }
        }));

        let people = "\u{feff}員工編號,姓名,電子郵件,單位代碼,職務類別,直屬主管員工編號,到職日,離職日,資通基礎技術背景,技術背景說明\r\n\
                      Ｅ２０００１,王\u{3000}小明,ＷＡＮＧ＠ＭＡＩＬ．ＥＸＡＭＰＬＥ．ＧＯＶ．ＴＷ,ORG,資訊主管人員,,115/03/15,,是,外國學歷經認定\r\n\
                      E20002,\"Lin, Mei-Hua\",lin@mail.example.gov.tw,ORG-IT,資訊業務人員,ｅ２０００１,115.3.15,,,\r\n\
                      \u{3000}e20003\u{3000},\u{3000}陳美玲\u{3000},chen@mail.example.gov.tw,ORG-IT,資通安全專責人員,E20001,2026/3/15,,,\r\n";
        let report = import(&app, Kind::People, people).await;
        assert_eq!(counts(&report), json!({ "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "dryRun": false }));
        let keys: Vec<Value> = report["changes"].as_array().expect("changes").iter().map(|c| json!([c["row"], c["key"]])).collect();
        assert_eq!(keys, [json!([2, "E20001"]), json!([3, "E20002"]), json!([4, "E20003"])]);

        let query = r#"{ people(first: 10) { nodes {
          employeeNo name email joinedOn supervisor { employeeNo } role(asOf: "2026-03-15")
          technicalBackground(asOf: "2026-03-15") { hasBackground overridden overrideReason }
        } } }"#;
        assert_eq!(app.data(query, json!({})).await["people"]["nodes"], json!([
            { "employeeNo": "E20001", "name": "王 小明", "email": "wang@mail.example.gov.tw", "joinedOn": "2026-03-15",
              "supervisor": null, "role": "IT_SUPERVISOR",
              "technicalBackground": { "hasBackground": true, "overridden": true, "overrideReason": "外國學歷經認定" } },
            { "employeeNo": "E20002", "name": "Lin, Mei-Hua", "email": "lin@mail.example.gov.tw", "joinedOn": "2026-03-15",
              "supervisor": { "employeeNo": "E20001" }, "role": "IT_STAFF",
              "technicalBackground": { "hasBackground": false, "overridden": false, "overrideReason": null } },
            { "employeeNo": "E20003", "name": "陳美玲", "email": "chen@mail.example.gov.tw", "joinedOn": "2026-03-15",
              "supervisor": { "employeeNo": "E20001" }, "role": "SECURITY_OFFICER",
              "technicalBackground": { "hasBackground": false, "overridden": false, "overrideReason": null } }
        ]));

        let evidence = "\u{feff}員工編號,認定條件,說明,證照類別,取得日,到期日,學分數或時數\r\n\
                        E20002,專業證照,ISC2 CISSP,資通安全,113/05/01,116/04/30,\r\n\
                        ｅ２０００２,4,\"Cisco CCNA, Enterprise\",網路管理,2024.5.1,2027.4.30,\r\n\
                        E20003,訓練時數,資安實務研習,,民國114年1月1日,,３５．５\r\n\
                        E20003,7,程式設計實作,,1140601,,24.5\r\n";
        let report = import(&app, Kind::Evidence, evidence).await;
        assert_eq!(counts(&report), json!({ "rows": 4, "created": 4, "updated": 0, "unchanged": 0, "dryRun": false }));

        let query = r#"{
          a: person(employeeNo: "E20002") {
            evidence { criterion detail category obtainedOn expiresOn amount }
            technicalBackground(asOf: "2026-03-15") { hasBackground metBy findings { criterion met explanation } }
          }
          b: person(employeeNo: "E20003") {
            evidence { obtainedOn amount }
            technicalBackground(asOf: "2026-03-15") { hasBackground metBy }
          }
        }"#;
        let data = app.data(query, json!({})).await;
        assert_eq!(data["a"]["evidence"], json!([
            { "criterion": "CERTIFICATE", "detail": "ISC2 CISSP", "category": "CYBERSECURITY",
              "obtainedOn": "2024-05-01", "expiresOn": "2027-04-30", "amount": null },
            { "criterion": "CERTIFICATE", "detail": "Cisco CCNA, Enterprise", "category": "NETWORK_MANAGEMENT",
              "obtainedOn": "2024-05-01", "expiresOn": "2027-04-30", "amount": null }
        ]));
        assert_eq!(data["a"]["technicalBackground"]["metBy"], json!("CERTIFICATE"));
        assert_eq!(
            data["a"]["technicalBackground"]["findings"][3],
            json!({ "criterion": "CERTIFICATE", "met": true, "explanation": "valid certificates in cybersecurity, network_management" })
        );
        assert_eq!(data["b"], json!({
            "evidence": [{ "obtainedOn": "2025-01-01", "amount": 35.5 }, { "obtainedOn": "2025-06-01", "amount": 24.5 }],
            "technicalBackground": { "hasBackground": true, "metBy": "TRAINING_HOURS" }
        }));

        // The same files again, written with plain forms, change nothing.
        let plain = "employee_no,name,email,unit_code,role,supervisor_no,joined_on,technical_background,background_reason\n\
                     E20001,王 小明,wang@mail.example.gov.tw,ORG,it_supervisor,,2026-03-15,yes,外國學歷經認定\n\
                     E20002,\"Lin, Mei-Hua\",lin@mail.example.gov.tw,ORG-IT,it_staff,E20001,2026-03-15,,\n\
                     E20003,陳美玲,chen@mail.example.gov.tw,ORG-IT,security_officer,E20001,2026-03-15,,\n";
        let again = import(&app, Kind::People, plain).await;
        assert_eq!(counts(&again), json!({ "rows": 3, "created": 0, "updated": 0, "unchanged": 3, "dryRun": false }));
    }
}

db_test! {
    async fn a_supervisor_may_come_later_in_the_file(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let csv = "employee_no,name,email,unit_code,supervisor_no\n\
                   T2,李大華,t2@example.gov.tw,ORG-IT,T1\n\
                   T1,王小明,t1@example.gov.tw,ORG,\n";
        import(&app, Kind::People, csv).await;
        let query = r#"{ person(employeeNo: "T1") { directReports { employeeNo supervisor { employeeNo } } } }"#;
        assert_eq!(app.data(query, json!({})).await["person"], json!({
            "directReports": [{ "employeeNo": "T2", "supervisor": { "employeeNo": "T1" } }]
        }));
    }
}

// ---------------------------------------------------------------------------
// Regressions: each of these was a bug once.

db_test! {
    async fn a_file_without_optional_columns_keeps_what_is_stored(app) {
        load_examples(&app).await;
        let before = person(&app, "E10002").await;

        let csv = "employee_no,name,email,unit_code\nE10002,林志明,zhiming.lin@mail.example.gov.tw,DDB-PLN\n";
        let report = import(&app, Kind::People, csv).await;

        assert_eq!(report, json!({
            "rows": 1, "created": 0, "updated": 0, "unchanged": 1, "dryRun": false, "changes": []
        }));
        assert_eq!(person(&app, "E10002").await, before);
    }
}

db_test! {
    async fn correcting_a_leaving_date_moves_the_end_of_the_role(app) {
        load_examples(&app).await;

        let csv = format!("{PEOPLE_HEADER}\n{}\n", example_row("E10017").replace(",2026-06-30,", ",2026-07-31,"));
        let report = import(&app, Kind::People, &csv).await;

        assert_eq!(report["changes"], json!([
            { "row": 2, "key": "E10017", "action": "UPDATED", "detail": "left_on 2026-06-30 → 2026-07-31" }
        ]));
        let e10017 = person(&app, "E10017").await;
        assert_eq!(e10017["leftOn"], json!("2026-07-31"));
        assert_eq!(e10017["roleHistory"], json!([
            { "role": "IT_STAFF", "startsOn": "2023-04-17", "endsOn": "2026-07-31" }
        ]));
    }
}

db_test! {
    async fn no_role_assignment_ends_before_it_starts(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let header = "employee_no,name,email,unit_code,role,joined_on,left_on\n";
        import(&app, Kind::People, &format!("{header}T1,王小明,t1@example.gov.tw,ORG,it_staff,2020-01-01,2025-12-31\n")).await;

        // A changed role with no role_since starts on the import date, but
        // never after leaving: here on the leaving day itself.
        let report = import(&app, Kind::People, &format!("{header}T1,王小明,t1@example.gov.tw,ORG,it_supervisor,2020-01-01,2025-12-31\n")).await;
        assert_eq!(report["changes"][0]["detail"], json!("role it_staff → it_supervisor from 2025-12-31"));

        assert_eq!(person(&app, "T1").await["roleHistory"], json!([
            { "role": "IT_STAFF", "startsOn": "2020-01-01", "endsOn": "2025-12-30" },
            { "role": "IT_SUPERVISOR", "startsOn": "2025-12-31", "endsOn": "2025-12-31" }
        ]));
    }
}

db_test! {
    async fn a_units_file_without_parent_codes_keeps_the_tree(app) {
        load_examples(&app).await;

        let csv = "unit_code,name\nDDB-INF-NET,網路維運科\n";
        let report = import(&app, Kind::Units, csv).await;

        assert_eq!(report, json!({
            "rows": 1, "created": 0, "updated": 0, "unchanged": 1, "dryRun": false, "changes": []
        }));
        let query = r#"{ unit(code: "DDB-INF-NET") { parent { code } agency { code } } }"#;
        assert_eq!(app.data(query, json!({})).await["unit"], json!({
            "parent": { "code": "DDB-INF" }, "agency": { "code": "DDB" }
        }));
    }
}

db_test! {
    async fn an_evidence_update_shows_the_amount_as_written(app) {
        load_examples(&app).await;

        let csv = format!("{EVIDENCE_HEADER}\nE10005,credits,國立空中大學 資料結構、資料庫應用,,2019-01-31,,8.5\n");
        let report = import(&app, Kind::Evidence, &csv).await;

        assert_eq!(report["changes"], json!([
            { "row": 2, "key": "E10005", "action": "UPDATED", "detail": "amount 8 → 8.5" }
        ]));
    }
}

db_test! {
    async fn a_people_update_names_units_by_code(app) {
        load_examples(&app).await;

        let csv = format!("{PEOPLE_HEADER}\n{}\n", example_row("E10012").replace(",DDB-INF-NET,", ",DDB-PLN,"));
        let report = import(&app, Kind::People, &csv).await;

        assert_eq!(report["changes"], json!([
            { "row": 2, "key": "E10012", "action": "UPDATED", "detail": "unit DDB-INF-NET → DDB-PLN" }
        ]));
    }
}

db_test! {
    async fn an_unreadable_level_or_date_is_one_error_not_two(app) {
        import(&app, Kind::Units, ORG_UNITS).await;

        let csv = "unit_code,name,parent_code,security_level,level_since\n\
                   NEW1,新機關一,,F,2026-01-01\n\
                   NEW2,新機關二,,B,2026-13-01\n\
                   NEW3,新機關三,,,2026-01-01\n";
        let error = refused(&app, Kind::Units, csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "security_level", "reason": "\"F\" is not a security level; use A, B, C, D or E" },
            { "row": 3, "field": "level_since", "reason": "2026-13-01 is not a calendar date" },
            { "row": 4, "field": "security_level", "reason": "is required when level_since is given" }
        ]));
        assert_eq!(unit_codes(&app).await, ["ORG", "ORG-IT"]);
    }
}

db_test! {
    async fn codes_and_names_have_a_length_limit(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let long_code = "X".repeat(41);
        let long_name = "長".repeat(201);
        let csv = format!(
            "unit_code,name,parent_code,security_level,level_since\n\
             {long_code},新機關,,B,2026-01-01\n\
             ORG-LONG,{long_name},ORG,,\n\
             ORG-OK,{},ORG,,\n",
            "名".repeat(200)
        );

        let error = refused(&app, Kind::Units, &csv).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "unit_code", "reason": "is 41 characters long; a unit code may have at most 40" },
            { "row": 3, "field": "name", "reason": "is 201 characters long; a name may have at most 200" }
        ]));
        assert_eq!(unit_codes(&app).await, ["ORG", "ORG-IT"]);

        let people = format!(
            "employee_no,name,email,unit_code,role,supervisor_no,joined_on\nE1,{long_name},e1@example.gov.tw,ORG,it_staff,,2020-01-01\n"
        );
        let error = refused(&app, Kind::People, &people).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "name", "reason": "is 201 characters long; a name may have at most 200" }
        ]));
    }
}

db_test! {
    async fn refuses_an_address_two_people_still_employed_would_share(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let header = "employee_no,name,email,unit_code,left_on\n";
        import(&app, Kind::People, &format!("{header}T1,王小明,t1@example.gov.tw,ORG,\nT2,李大華,t2@example.gov.tw,ORG,\n")).await;
        let before = snapshot(&app).await;

        // Against a stored person, whatever the case of the address.
        let error = refused(&app, Kind::People, &format!("{header}T3,張美玲,T1@Example.gov.tw,ORG,\n")).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "email", "reason": "t1@example.gov.tw is also the address of T1 (already stored); each person still employed needs an address of their own, or one receives the other's reminders" }
        ]));

        // Within the file: each row is told of the other.
        let error = refused(&app, Kind::People, &format!("{header}T3,張美玲,same@example.gov.tw,ORG,\nT4,陳志明,same@example.gov.tw,ORG,\n")).await;
        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "email", "reason": "same@example.gov.tw is also the address of T4 (row 3); each person still employed needs an address of their own, or one receives the other's reminders" },
            { "row": 3, "field": "email", "reason": "same@example.gov.tw is also the address of T3 (row 2); each person still employed needs an address of their own, or one receives the other's reminders" }
        ]));
        assert_eq!(snapshot(&app).await, before);

        // Two people may swap addresses in one file.
        let swapped = import(&app, Kind::People, &format!("{header}T1,王小明,t2@example.gov.tw,ORG,\nT2,李大華,t1@example.gov.tw,ORG,\n")).await;
        assert_eq!(counts(&swapped)["updated"], json!(2), "{swapped}");

        // Someone who has left keeps an address given to a newcomer.
        let reused = import(&app, Kind::People, &format!("{header}T2,李大華,t1@example.gov.tw,ORG,2020-06-30\nT3,張美玲,t1@example.gov.tw,ORG,\n")).await;
        assert_eq!(counts(&reused)["created"], json!(1), "{reused}");
        assert_eq!(person(&app, "T3").await["email"], json!("t1@example.gov.tw"));
    }
}

db_test! {
    async fn refuses_a_name_holding_a_control_character(app) {
        import(&app, Kind::Units, ORG_UNITS).await;

        let error = refused(&app, Kind::People, "employee_no,name,email,unit_code\nT1,王\u{7}小明,t1@example.gov.tw,ORG\n").await;

        assert_eq!(entries(&error), json!([
            { "row": 2, "field": "name", "reason": "holds the control character U+0007; a name is one line of text" }
        ]));
        assert_eq!(people_total(&app).await, 0);
    }
}

/// SplitMix64: random people files that replay from their seed.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % sides as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.roll(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.roll(100) < percent
    }
}

/// A random people file over a few people, with a random choice of the
/// optional date and role columns.
fn random_people_file(dice: &mut Dice, people: &[String]) -> String {
    const DATES: [&str; 8] = [
        "2023-01-01",
        "2024-01-01",
        "2025-06-30",
        "2025-07-01",
        "2026-03-31",
        "2026-12-04",
        "2026-12-06",
        "2027-02-01",
    ];
    const ROLES: [&str; 4] = ["it_staff", "it_supervisor", "security_officer", ""];
    let optional: Vec<&str> = ["role", "joined_on", "left_on", "role_since"]
        .into_iter()
        .filter(|_| dice.chance(60))
        .collect();
    let mut file = format!(
        "employee_no,name,email,unit_code{}\n",
        optional.iter().map(|c| format!(",{c}")).collect::<String>()
    );
    for no in people {
        if !dice.chance(60) {
            continue;
        }
        file.push_str(&format!("{no},測試,{}@example.gov.tw,ORG", no.to_lowercase()));
        for column in &optional {
            let cell = match *column {
                "role" => dice.pick(&ROLES),
                "joined_on" if dice.chance(75) => dice.pick(&DATES[..3]),
                "left_on" | "role_since" if dice.chance(50) => "",
                _ => dice.pick(&DATES),
            };
            file.push_str(&format!(",{cell}"));
        }
        file.push('\n');
    }
    file
}

/// What must hold of one person's history whatever was imported.
fn check_history(no: &str, person: &Value, file: &str) {
    let history = person["roleHistory"].as_array().expect("history");
    let (joined, left) = (person["joinedOn"].as_str(), person["leftOn"].as_str());
    let context = format!("{no} after\n{file}: {person}");
    for a in history {
        let (starts, ends) = (a["startsOn"].as_str(), a["endsOn"].as_str());
        assert!(
            ends.is_none_or(|e| Some(e) >= starts),
            "ends before it starts: {context}"
        );
        assert!(
            left.is_none_or(|l| starts <= Some(l) && ends.is_some_and(|e| e <= l)),
            "held after leaving: {context}"
        );
        // An earlier stint of someone who came back ends before joining.
        assert!(
            joined.is_none_or(|j| starts >= Some(j) || ends.is_some_and(|e| e < j)),
            "held before joining: {context}"
        );
    }
    for pair in history.windows(2) {
        let (end, next) = (pair[0]["endsOn"].as_str(), pair[1]["startsOn"].as_str());
        assert!(end.is_some_and(|e| Some(e) < next), "two roles on one day: {context}");
    }
}

/// A row's role is held on its `role_since`.
fn check_role_since(no: &str, person: &Value, file: &str) {
    let mut lines = file.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let (Some(role_at), Some(since_at)) = (
        header.iter().position(|c| *c == "role"),
        header.iter().position(|c| *c == "role_since"),
    ) else {
        return;
    };
    let Some(cells) = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|cells| cells[0] == no)
    else {
        return;
    };
    let (role, since) = (cells[role_at].to_uppercase(), cells[since_at]);
    if since.is_empty() {
        return;
    }
    let held = person["roleHistory"]
        .as_array()
        .expect("history")
        .iter()
        .find(|a| a["startsOn"].as_str() <= Some(since) && a["endsOn"].as_str().is_none_or(|e| e >= since));
    let held = held.and_then(|a| a["role"].as_str()).unwrap_or_default();
    assert_eq!(held, role, "{no} on {since} after\n{file}: {person}");
}

db_test! {
    async fn random_people_files_keep_role_history_whole(app) {
        import(&app, Kind::Units, ORG_UNITS).await;
        let report = "rows created updated unchanged changes { row key action detail }";
        let mutation = format!("mutation($csv: String!, $dry: Boolean!) {{ r: importPeople(csv: $csv, dryRun: $dry) {{ {report} }} }}");
        let history = r#"query($no: String!) { person(employeeNo: $no) { joinedOn leftOn roleHistory { role startsOn endsOn } } }"#;

        for seed in 1..=3_u64 {
            let mut dice = Dice(seed);
            let people: Vec<String> = (1..=3).map(|i| format!("R{seed}{i}")).collect();
            for _ in 0..40 {
                let file = random_people_file(&mut dice, &people);
                let before = snapshot(&app).await;
                let dry = app.execute(&mutation, json!({ "csv": file, "dry": true })).await;
                assert_eq!(snapshot(&app).await, before, "a dry run wrote:\n{file}");
                let real = app.execute(&mutation, json!({ "csv": file, "dry": false })).await;
                if real.get("errors").is_some() {
                    assert!(dry.get("errors").is_some(), "refused only for real:\n{file}\n{real}");
                    assert_eq!(snapshot(&app).await, before, "a refused file wrote:\n{file}");
                    continue;
                }
                assert_eq!(dry["data"], real["data"], "the dry run reported otherwise:\n{file}");

                let again = app.data(&mutation, json!({ "csv": file, "dry": false })).await;
                assert_eq!((&again["r"]["created"], &again["r"]["updated"]), (&json!(0), &json!(0)), "a second import changed:\n{file}\n{again}");
                for no in &people {
                    let person = app.data(history, json!({ "no": no })).await["person"].clone();
                    if !person.is_null() {
                        check_history(no, &person, &file);
                        check_role_since(no, &person, &file);
                    }
                }
            }
        }
    }
}
