//! The audit log: every mutation, import and job run leaves one entry per
//! changed record with its images before and after, in the transaction of the
//! change; `auditLog` lists them for admins.

use std::process::Command;

use learnmap::graphql::Caller;
use learnmap::mail::MailConfig;
use learnmap::seed;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures::scenario;
use crate::helpers::{TestApp, code};

const LOG: &str = r#"query($filter: AuditFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { occurredAt actor action entity key summary before after } }
  }
}"#;

const UNITS: &str = "unit_code,name,parent_code,security_level,level_since
AG1,臺北市政府測試局,,B,2020-01-01
AG1-SUB,測試局資訊科,AG1,,
";

const PEOPLE: &str = "employee_no,name,email,unit_code,role,supervisor_no,joined_on
S1,陳主管,s1@example.gov.tw,AG1,it_supervisor,,2020-01-01
P1,林小明,p1@example.gov.tw,AG1-SUB,it_staff,S1,2020-01-01
P2,王大同,p2@example.gov.tw,AG1-SUB,it_staff,S1,2020-01-01
";

/// An admin signed in with an employee number, as a token would make one.
fn admin() -> Caller {
    Caller::Admin {
        employee_no: Some("A900".into()),
    }
}

/// Runs a mutation as admin A900 that must succeed.
async fn change(app: &TestApp, query: &str, variables: Value) -> Value {
    let response = app.execute_as(admin(), query, variables).await;
    assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
    response["data"].clone()
}

/// The whole `auditLog` answer for a filter, as an admin.
async fn log(app: &TestApp, filter: Value) -> Value {
    let data = app.data(LOG, json!({ "filter": filter, "first": 100 })).await;
    data["auditLog"].clone()
}

/// The entries matching a filter, newest first.
async fn entries(app: &TestApp, filter: Value) -> Vec<Value> {
    let log = log(app, filter).await;
    let edges = log["edges"].as_array().expect("edges").clone();
    edges.into_iter().map(|e| e["node"].clone()).collect()
}

async fn import(app: &TestApp, mutation: &str, csv: &str, dry_run: bool) -> Value {
    let query = format!(
        "mutation($csv: String!, $dry: Boolean!) {{ {mutation}(csv: $csv, dryRun: $dry) {{ rows created updated unchanged }} }}"
    );
    change(app, &query, json!({ "csv": csv, "dry": dry_run })).await[mutation].clone()
}

const CREATE: &str = r#"mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }"#;

fn cloud_course() -> Value {
    json!({ "input": {
        "title": "雲端服務架構入門",
        "hours": 2.5,
        "link": "https://training.example.org/courses/cloud-101",
        "facet": "TECHNICAL",
        "level": "C",
        "domain": "HOSTS"
    }})
}

db_test! {
    async fn course_mutations_record_who_and_both_images(app) {
        let id = change(&app, CREATE, cloud_course()).await["createCourse"]["id"].as_str().expect("id").to_string();
        change(&app, "mutation($id: ID!) { updateCourse(id: $id, input: { hours: 3, domain: null }) { id } }", json!({ "id": id })).await;
        change(&app, "mutation($id: ID!) { archiveCourse(id: $id) { id } }", json!({ "id": id })).await;
        change(&app, "mutation($id: ID!) { archiveCourse(id: $id) { id } }", json!({ "id": id })).await;

        let found = entries(&app, json!({ "entity": "course", "key": id })).await;
        let actions: Vec<&str> = found.iter().map(|e| e["action"].as_str().unwrap_or("")).collect();
        assert_eq!(actions, ["archiveCourse", "updateCourse", "createCourse"], "archiving twice records once");
        assert!(found.iter().all(|e| e["actor"] == json!("A900")));

        let created = &found[2];
        assert_eq!(created["before"], Value::Null);
        assert_eq!(created["summary"], json!(format!("created course {id}")));
        assert_eq!(created["after"], json!({
            "id": id.parse::<i64>().expect("numeric id"),
            "title": "雲端服務架構入門",
            "hours": 2.5,
            "link": "https://training.example.org/courses/cloud-101",
            "platform": "other",
            "platformCode": null,
            "facet": "technical",
            "level": "C",
            "domain": "hosts",
            "securityCategory": null,
            "archivedAt": null
        }));

        let updated = &found[1];
        assert_eq!((&updated["before"]["hours"], &updated["before"]["domain"]), (&json!(2.5), &json!("hosts")));
        assert_eq!((&updated["after"]["hours"], &updated["after"]["domain"]), (&json!(3.0), &Value::Null));

        let archived = &found[0];
        assert_eq!(archived["before"]["archivedAt"], Value::Null);
        assert!(archived["after"]["archivedAt"].is_string(), "{archived:#}");
        assert_eq!(archived["after"]["hours"], json!(3.0));
    }
}

db_test! {
    async fn a_refused_mutation_records_nothing(app) {
        let mut input = cloud_course();
        input["input"]["hours"] = json!(0);
        let response = app.execute_as(admin(), CREATE, input).await;
        assert_eq!(code(&response["errors"][0]), "BAD_USER_INPUT");

        change(&app, CREATE, cloud_course()).await;
        let again = app.execute_as(admin(), CREATE, cloud_course()).await;
        assert_eq!(code(&again["errors"][0]), "BAD_USER_INPUT", "the same title twice");

        assert_eq!(log(&app, json!({ "action": "createCourse" })).await["totalCount"], json!(1));
    }
}

db_test! {
    async fn an_import_records_exactly_the_rows_it_changed(app) {
        import(&app, "importUnits", UNITS, false).await;
        import(&app, "importPeople", PEOPLE, false).await;

        let changed = PEOPLE.replace("p1@example.gov.tw", "p1.lin@example.gov.tw");
        let report = import(&app, "importPeople", &changed, false).await;
        assert_eq!(report, json!({ "rows": 3, "created": 0, "updated": 1, "unchanged": 2 }));

        let people = entries(&app, json!({ "action": "importPeople", "entity": "person" })).await;
        let keys: Vec<&str> = people.iter().map(|e| e["key"].as_str().unwrap_or("")).collect();
        assert_eq!(keys, ["P1", "P2", "P1", "S1"], "newest first: the update, then the three created");

        let update = &people[0];
        assert_eq!(update["summary"], json!("updated person P1: email p1@example.gov.tw → p1.lin@example.gov.tw"));
        assert_eq!(update["before"]["email"], json!("p1@example.gov.tw"));
        assert_eq!(update["after"]["email"], json!("p1.lin@example.gov.tw"));
        assert_eq!(update["after"]["supervisor"], json!("S1"));
        assert_eq!(update["after"]["unit"], json!("AG1-SUB"));
        assert_eq!(update["after"]["roles"], json!([{ "role": "it_staff", "startsOn": "2020-01-01", "endsOn": null }]));

        let created = &people[3];
        assert_eq!(created["before"], Value::Null);
        assert_eq!(created["after"]["name"], json!("陳主管"));
        assert_eq!(created["after"]["supervisor"], Value::Null);

        let imports = entries(&app, json!({ "action": "importPeople", "entity": "import" })).await;
        assert_eq!(imports.len(), 2);
        assert_eq!(imports[0]["key"], json!("people"));
        assert_eq!(imports[0]["summary"], json!("people import: 3 rows, 0 created, 1 updated, 2 unchanged"));
        assert_eq!(imports[0]["after"], json!({ "file": null, "rows": 3, "created": 0, "updated": 1, "unchanged": 2 }));
        assert!(imports.iter().all(|e| e["actor"] == json!("A900")));
    }
}

db_test! {
    async fn a_unit_import_records_the_parent_and_levels(app) {
        import(&app, "importUnits", UNITS, false).await;
        let moved = "unit_code,name,parent_code,security_level,level_since
AG1,臺北市政府測試局,,A,2026-01-01
AG1-SUB,測試局資訊科,AG1,,
";
        let report = import(&app, "importUnits", moved, false).await;
        assert_eq!(report, json!({ "rows": 2, "created": 0, "updated": 1, "unchanged": 1 }));

        let found = entries(&app, json!({ "entity": "unit", "key": "AG1" })).await;
        assert_eq!(found.len(), 2);
        assert_eq!(found[0]["before"]["securityLevels"], json!([{ "level": "B", "since": "2020-01-01" }]));
        assert_eq!(found[0]["after"], json!({
            "code": "AG1",
            "name": "臺北市政府測試局",
            "parent": null,
            "securityLevels": [{ "level": "B", "since": "2020-01-01" }, { "level": "A", "since": "2026-01-01" }]
        }));
        let sub = entries(&app, json!({ "entity": "unit", "key": "AG1-SUB" })).await;
        assert_eq!(sub.len(), 1, "unchanged on the second import");
        assert_eq!(sub[0]["after"]["parent"], json!("AG1"));
    }
}

db_test! {
    async fn dry_runs_and_rejected_imports_record_nothing(app) {
        let before = log(&app, json!({})).await["totalCount"].clone();

        let report = import(&app, "importUnits", UNITS, true).await;
        assert_eq!(report["created"], json!(2));
        let bad = "unit_code,name,parent_code\nX1,無上級,NOWHERE\n";
        let response = app.execute_as(admin(), "mutation($csv: String!) { importUnits(csv: $csv) { rows } }", json!({ "csv": bad })).await;
        assert_eq!(code(&response["errors"][0]), "BAD_USER_INPUT");
        let completions = "employee_no,course_title,platform,facet,hours,completed_on\nNOBODY,外部研習,other,policy,2,2026-02-01\n";
        let response = app.execute_as(admin(), "mutation($csv: String!) { importCompletions(csv: $csv) { rows } }", json!({ "csv": completions })).await;
        assert_eq!(code(&response["errors"][0]), "BAD_USER_INPUT");

        assert_eq!(log(&app, json!({})).await["totalCount"], before);
        assert_eq!(log(&app, json!({ "entity": "unit" })).await["totalCount"], json!(0));
    }
}

db_test! {
    async fn evidence_and_completions_imports_record_each_record(app) {
        import(&app, "importUnits", UNITS, false).await;
        import(&app, "importPeople", PEOPLE, false).await;

        let evidence = "employee_no,criterion,detail,category,obtained_on,expires_on,amount
P1,training_hours,資訊課程時數,,2024-06-30,,60
";
        import(&app, "importEvidence", evidence, false).await;
        let more = evidence.replace(",60\n", ",64\n");
        import(&app, "importEvidence", &more, false).await;
        let found = entries(&app, json!({ "entity": "evidence", "key": "P1" })).await;
        assert_eq!(found.len(), 2);
        assert_eq!(found[0]["summary"], json!("updated evidence of P1: amount 60 → 64"));
        assert_eq!(found[0]["before"]["amount"], json!(60.0));
        assert_eq!(found[0]["after"], json!({
            "employeeNo": "P1",
            "criterion": "training_hours",
            "detail": "資訊課程時數",
            "category": null,
            "obtainedOn": "2024-06-30",
            "expiresOn": null,
            "amount": 64.0
        }));
        assert_eq!(found[1]["before"], Value::Null);

        let completions = "employee_no,course_title,platform,facet,hours,completed_on
P2,外部資安研習,other,policy,2,2026-02-01
";
        let report = import(&app, "importCompletions", completions, false).await;
        assert_eq!(report["created"], json!(1));
        let found = entries(&app, json!({ "action": "importCompletions", "entity": "completion" })).await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["key"], json!("P2"));
        assert_eq!(found[0]["after"], json!({
            "employeeNo": "P2",
            "courseId": null,
            "title": "外部資安研習",
            "hours": 2.0,
            "completedOn": "2026-02-01",
            "platform": "other",
            "facet": "policy",
            "level": null,
            "securityCategory": null,
            "source": "import"
        }));
        let summary = entries(&app, json!({ "action": "importCompletions", "entity": "import" })).await;
        assert_eq!(summary[0]["summary"], json!("completions import: 1 row, 1 created, 0 updated, 0 unchanged"));
    }
}

db_test! {
    async fn background_and_rules_record_their_images(app) {
        import(&app, "importUnits", UNITS, false).await;
        import(&app, "importPeople", PEOPLE, false).await;

        let set = r#"mutation { setTechnicalBackground(employeeNo: "P2", value: true, reason: "資訊處理職系") { employeeNo } }"#;
        change(&app, set, json!({})).await;
        let found = entries(&app, json!({ "action": "setTechnicalBackground" })).await;
        assert_eq!(found.len(), 1);
        assert_eq!((&found[0]["entity"], &found[0]["key"]), (&json!("person"), &json!("P2")));
        assert_eq!(found[0]["summary"], json!("technical background of P2 set to yes"));
        assert_eq!((&found[0]["before"]["technicalBackground"], &found[0]["before"]["backgroundReason"]), (&Value::Null, &Value::Null));
        assert_eq!((&found[0]["after"]["technicalBackground"], &found[0]["after"]["backgroundReason"]), (&json!(true), &json!("資訊處理職系")));

        let rules = r#"mutation { setRequirements(year: 2031, note: "pilot", requirements: [{ role: IT_STAFF, facet: POLICY, hours: 3 }]) { ruleYear } }"#;
        change(&app, rules, json!({})).await;
        let replace = r#"mutation { setRequirements(year: 2031, note: "pilot, revised", requirements: [{ role: IT_STAFF, facet: POLICY, hours: 4.5 }]) { ruleYear } }"#;
        change(&app, replace, json!({})).await;
        let found = entries(&app, json!({ "entity": "rule_set", "key": "2031" })).await;
        assert_eq!(found.len(), 2);
        assert_eq!(found[1]["before"], Value::Null);
        assert_eq!(found[0]["summary"], json!("replaced the 2031 rule set: 1 requirements"));
        assert_eq!(found[0]["before"]["note"], json!("pilot"));
        assert_eq!(found[0]["before"]["requirements"][0]["hours"], json!(3.0));
        assert_eq!(found[0]["after"], json!({
            "year": 2031,
            "note": "pilot, revised",
            "requirements": [{
                "role": "it_staff",
                "facet": "policy",
                "technicalBackground": null,
                "levels": "",
                "securityCategory": null,
                "agencyLevels": "",
                "windowYears": 1,
                "hours": 4.5
            }]
        }));
    }
}

db_test! {
    async fn a_quarterly_run_records_its_run_and_counts(app) {
        scenario(&app).await;
        let outbox = tempfile::tempdir().expect("outbox dir");
        let mail = MailConfig { outbox_dir: outbox.path().to_path_buf(), ..MailConfig::default() };
        let schema = learnmap::graphql::schema_with_mail(app.db.clone(), mail);
        let run = |dry: bool| {
            let query = format!("mutation {{ runQuarterlyShortfall(year: 2026, quarter: 1, dryRun: {dry}) {{ outcome run {{ id }} }} }}");
            schema.execute(async_graphql::Request::new(query).data(admin()))
        };

        let dry = run(true).await;
        assert!(dry.errors.is_empty(), "{:?}", dry.errors);
        assert_eq!(log(&app, json!({ "action": "runQuarterlyShortfall" })).await["totalCount"], json!(0));

        let real = serde_json::to_value(run(false).await).expect("json");
        let run_id = real["data"]["runQuarterlyShortfall"]["run"]["id"].as_i64().expect("run id");
        let found = entries(&app, json!({ "action": "runQuarterlyShortfall" })).await;
        assert_eq!(found.len(), 1);
        assert_eq!((&found[0]["actor"], &found[0]["entity"], &found[0]["key"]), (&json!("A900"), &json!("job_run"), &json!(run_id.to_string())));
        assert_eq!(found[0]["after"], json!({
            "run": run_id, "year": 2026, "quarter": 1, "trigger": "admin",
            "people": 4, "lines": found[0]["after"]["lines"], "reminders": 3, "digests": 1
        }));
        assert!(found[0]["after"]["lines"].as_i64().unwrap_or(0) > 0);
        assert_eq!(
            found[0]["summary"],
            json!(format!("quarterly shortfall 2026 Q1: run {run_id}, 4 people, 3 reminders, 1 digest"))
        );
    }
}

db_test! {
    async fn only_admins_read_the_log(app) {
        scenario(&app).await;

        let anonymous = app.execute_as(Caller::Anonymous, LOG, json!({})).await;
        assert_eq!(code(&anonymous["errors"][0]), "UNAUTHENTICATED");
        assert_eq!(anonymous["data"], Value::Null);
        let person = app.execute_as(Caller::person("P1"), LOG, json!({})).await;
        assert_eq!(code(&person["errors"][0]), "FORBIDDEN");
        let supervisor = app.execute_as(Caller::person("S1"), LOG, json!({})).await;
        assert_eq!(code(&supervisor["errors"][0]), "FORBIDDEN");

        let imports = entries(&app, json!({ "entity": "import" })).await;
        let actions: Vec<&str> = imports.iter().map(|e| e["action"].as_str().unwrap_or("")).collect();
        assert_eq!(actions, ["importPeople", "importUnits"]);
        assert!(imports.iter().all(|e| e["actor"] == json!("admin")), "the scenario runs as an admin without a number");
    }
}

db_test! {
    async fn the_seed_is_recorded_once_as_system(app) {
        seed::run(&app.db).await.expect("seed again");

        let found = entries(&app, json!({ "action": "seed" })).await;
        assert_eq!(found.len(), 1);
        assert_eq!((&found[0]["actor"], &found[0]["entity"]), (&json!("system"), &json!("seed")));
        assert_eq!(found[0]["after"]["ruleSets"], json!(1));
        assert_eq!(found[0]["after"]["courses"], json!(54));
    }
}

db_test! {
    async fn filters_and_pages_walk_the_log(app) {
        let started = chrono::Utc::now() - chrono::Duration::seconds(1);
        for (n, title) in ["課程一", "課程二", "課程三"].iter().enumerate() {
            let mut input = cloud_course();
            input["input"]["title"] = json!(title);
            input["input"]["link"] = json!(format!("https://training.example.org/courses/c{n}"));
            change(&app, CREATE, input).await;
        }
        app.data(CREATE, cloud_course()).await;

        let mine = json!({ "actor": "A900", "action": "createCourse" });
        let page = app.data(LOG, json!({ "filter": mine, "first": 2 })).await["auditLog"].clone();
        assert_eq!(page["totalCount"], json!(3));
        assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
        let titles = |page: &Value| -> Vec<String> {
            page["edges"].as_array().expect("edges").iter()
                .map(|e| e["node"]["after"]["title"].as_str().unwrap_or("").to_string()).collect()
        };
        assert_eq!(titles(&page), ["課程三", "課程二"]);

        let cursor = page["pageInfo"]["endCursor"].clone();
        let next = app.data(LOG, json!({ "filter": mine, "first": 2, "after": cursor })).await["auditLog"].clone();
        assert_eq!(titles(&next), ["課程一"]);
        assert_eq!(next["pageInfo"]["hasNextPage"], json!(false));

        assert_eq!(log(&app, json!({ "actor": "admin" })).await["totalCount"], json!(1));
        assert_eq!(log(&app, json!({ "entity": "course", "actor": "A900", "action": "updateCourse" })).await["totalCount"], json!(0));

        let since = started.to_rfc3339();
        let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        assert_eq!(log(&app, json!({ "action": "createCourse", "from": since })).await["totalCount"], json!(4));
        assert_eq!(log(&app, json!({ "action": "createCourse", "from": later })).await["totalCount"], json!(0));
        assert_eq!(log(&app, json!({ "action": "createCourse", "until": since })).await["totalCount"], json!(0));
        assert_eq!(log(&app, json!({ "action": "createCourse", "from": since, "until": later })).await["totalCount"], json!(4));

        let too_big = app.execute(LOG, json!({ "first": 101 })).await;
        assert_eq!(code(&too_big["errors"][0]), "BAD_USER_INPUT");
        let bad_cursor = app.execute(LOG, json!({ "after": "not-a-cursor" })).await;
        assert_eq!(code(&bad_cursor["errors"][0]), "BAD_USER_INPUT");
    }
}

db_test! {
    async fn a_cli_import_records_its_os_user_and_file(app) {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("units-2026.csv");
        std::fs::write(&file, UNITS).expect("write units");

        let output = Command::new(env!("CARGO_BIN_EXE_learnmap"))
            .args(["--database-url", &app.url, "import", "units"])
            .arg(&file)
            .env_remove("DATABASE_URL")
            .env("USER", "auditor")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run learnmap");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

        let found = entries(&app, json!({ "actor": "cli:auditor" })).await;
        let keys: Vec<(&str, &str)> = found.iter()
            .map(|e| (e["entity"].as_str().unwrap_or(""), e["key"].as_str().unwrap_or(""))).collect();
        assert_eq!(keys, [("import", "units-2026.csv"), ("unit", "AG1-SUB"), ("unit", "AG1")]);
        assert_eq!(found[0]["after"]["file"], json!("units-2026.csv"));
        assert_eq!(found[0]["action"], json!("importUnits"));
    }
}

db_test! {
    async fn entries_are_written_in_chunks_of_any_size(app) {
        use learnmap::audit::{self, Actor, ENTRIES_PER_INSERT, Entry};

        let count = ENTRIES_PER_INSERT * 2 + 3;
        let batch: Vec<Entry> = (0..count)
            .map(|n| Entry::new("importPeople", "person", format!("B{n:05}"), "bulk").after(Some(json!({ "n": n }))))
            .collect();
        audit::record_all(&app.db, &Actor::employee("A900"), batch).await.expect("record");

        let filter = audit::AuditFilter { actor: Some("A900".into()), ..Default::default() };
        let page = audit::list(&app.db, &filter, None, 2).await.expect("list");
        assert_eq!(page.total, count as u64);
        assert!(page.has_next);
        assert_eq!(page.entries[0].entity_key, format!("B{:05}", count - 1), "the last written comes first");
        assert_eq!(page.entries[0].after.as_deref(), Some(format!(r#"{{"n":{}}}"#, count - 1).as_str()));
        assert!(page.entries.iter().all(|e| e.occurred_at == page.entries[0].occurred_at), "one instant for one change");
    }
}

db_test! {
    async fn a_cli_quarterly_run_records_its_os_user(app) {
        scenario(&app).await;
        let outbox = tempfile::tempdir().expect("outbox dir");

        let output = Command::new(env!("CARGO_BIN_EXE_learnmap"))
            .args(["--database-url", &app.url, "jobs", "run", "quarterly", "--year", "2026", "--quarter", "1"])
            .env_remove("DATABASE_URL")
            .env_remove("SMTP_URL")
            .env("LEARNMAP_OUTBOX_DIR", outbox.path())
            .env("USER", "auditor")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run learnmap");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(": 4 people, ") && stdout.contains(", 3 reminders, 1 digest in "), "{stdout}");

        let found = entries(&app, json!({ "action": "runQuarterlyShortfall" })).await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["actor"], json!("cli:auditor"));
        assert_eq!(found[0]["after"]["trigger"], json!("cli"));
        assert_eq!((&found[0]["after"]["reminders"], &found[0]["after"]["digests"]), (&json!(3), &json!(1)));
    }
}
