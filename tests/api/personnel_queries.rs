//! Reading personnel back: technical backgrounds with their reasons, the
//! supervisor chain, agencies and their security levels, people listings, and
//! the criteria's boundaries.

use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{TestApp, code, fields};
use crate::personnel_import::{Kind, ORG_UNITS, import, load_examples};

const AS_OF: &str = "2026-03-15";

const BACKGROUND: &str = r#"query($no: String!, $asOf: Date) {
  person(employeeNo: $no) {
    technicalBackground(asOf: $asOf) {
      asOf hasBackground overridden overrideReason metBy
      findings { criterion met explanation }
    }
  }
}"#;

async fn background(app: &TestApp, employee_no: &str, as_of: &str) -> Value {
    let data = app.data(BACKGROUND, json!({ "no": employee_no, "asOf": as_of })).await;
    data["person"]["technicalBackground"].clone()
}

/// The finding on one criterion.
fn finding(background: &Value, criterion: &str) -> Value {
    background["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["criterion"] == json!(criterion))
        .cloned()
        .unwrap_or_else(|| panic!("a finding on {criterion}: {background:#}"))
}

/// `(hasBackground, metBy)`.
fn verdict(background: &Value) -> (Value, Value) {
    (background["hasBackground"].clone(), background["metBy"].clone())
}

fn no_evidence(criterion: &str) -> Value {
    json!({ "criterion": criterion, "met": false, "explanation": "no evidence recorded" })
}

// ---------------------------------------------------------------------------
// Technical background of the example people on 2026-03-15

db_test! {
    async fn fifteen_example_people_have_a_technical_background(app) {
        load_examples(&app).await;
        let query = r#"{ people(first: 100) { nodes { employeeNo technicalBackground(asOf: "2026-03-15") { hasBackground metBy overridden } } } }"#;
        let data = app.data(query, json!({})).await;
        let nodes = data["people"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), 36);

        let with: Vec<(String, Value)> = nodes
            .iter()
            .filter(|p| p["technicalBackground"]["hasBackground"] == json!(true))
            .map(|p| (p["employeeNo"].as_str().expect("no").to_string(), p["technicalBackground"]["metBy"].clone()))
            .collect();
        let expected: Vec<(String, Value)> = [
            ("E10001", json!("JOB_SERIES")),
            ("E10006", json!("JOB_SERIES")),
            ("E10007", json!("ICT_DEGREE")),
            ("E10008", json!("CREDITS")),
            ("E10009", json!("JOB_SERIES")),
            ("E10010", json!("CREDITS")),
            ("E10013", json!("ENGINEER_LICENCE")),
            ("E10014", json!("CERTIFICATE")),
            ("E10016", json!("CERTIFICATE")),
            ("E10020", json!("ENGINEER_LICENCE")),
            ("E10022", json!("ICT_DEGREE")),
            ("E10024", json!("TECHNICIAN_CERTIFICATE")),
            ("E10027", Value::Null),
            ("E10029", json!("TECHNICIAN_CERTIFICATE")),
            ("E10032", json!("TRAINING_HOURS")),
        ]
        .into_iter()
        .map(|(no, by)| (no.to_string(), by))
        .collect();
        assert_eq!(with, expected);

        let overridden: Vec<&str> = nodes
            .iter()
            .filter(|p| p["technicalBackground"]["overridden"] == json!(true))
            .filter_map(|p| p["employeeNo"].as_str())
            .collect();
        assert_eq!(overridden, ["E10027", "E10036"]);
    }
}

db_test! {
    async fn explains_credits_that_fall_short(app) {
        load_examples(&app).await;

        // E10005: 8 + 6 credits in the window, 6 more from 2015.
        assert_eq!(background(&app, "E10005", AS_OF).await, json!({
            "asOf": "2026-03-15", "hasBackground": false, "overridden": false, "overrideReason": null, "metBy": null,
            "findings": [
                no_evidence("JOB_SERIES"),
                no_evidence("ENGINEER_LICENCE"),
                no_evidence("TECHNICIAN_CERTIFICATE"),
                { "criterion": "CERTIFICATE", "met": false, "explanation": "no valid certificate; valid certificates in two categories are needed" },
                no_evidence("ICT_DEGREE"),
                { "criterion": "CREDITS", "met": false,
                  "explanation": "14 credits since 2016-03-15, 20 needed; 6 more credits are older than ten years" },
                { "criterion": "TRAINING_HOURS", "met": false, "explanation": "0 hours since 2016-03-15, 60 needed" }
            ]
        }));

        let e10008 = background(&app, "E10008", AS_OF).await;
        assert_eq!(verdict(&e10008), (json!(true), json!("CREDITS")));
        assert_eq!(finding(&e10008, "CREDITS"), json!({ "criterion": "CREDITS", "met": true, "explanation": "22 credits since 2016-03-15" }));
    }
}

db_test! {
    async fn credits_dated_on_the_first_day_of_the_window_count(app) {
        load_examples(&app).await;

        // E10010: 3 credits on 2016-03-15 and 17 on 2016-06-30.
        let on_the_day = background(&app, "E10010", AS_OF).await;
        assert_eq!(verdict(&on_the_day), (json!(true), json!("CREDITS")));
        assert_eq!(finding(&on_the_day, "CREDITS")["explanation"], json!("20 credits since 2016-03-15"));

        let a_day_later = background(&app, "E10010", "2026-03-16").await;
        assert_eq!(verdict(&a_day_later), (json!(false), Value::Null));
        assert_eq!(
            finding(&a_day_later, "CREDITS")["explanation"],
            json!("17 credits since 2016-03-16, 20 needed; 3 more credits are older than ten years")
        );
    }
}

db_test! {
    async fn explains_training_hours(app) {
        load_examples(&app).await;

        let e10032 = background(&app, "E10032", AS_OF).await;
        assert_eq!(verdict(&e10032), (json!(true), json!("TRAINING_HOURS")));
        assert_eq!(finding(&e10032, "TRAINING_HOURS")["explanation"], json!("60 hours since 2016-03-15"));

        let e10030 = background(&app, "E10030", AS_OF).await;
        assert_eq!(verdict(&e10030), (json!(false), Value::Null));
        assert_eq!(finding(&e10030, "TRAINING_HOURS")["explanation"], json!("36.5 hours since 2016-03-15, 60 needed"));

        let e10035 = background(&app, "E10035", AS_OF).await;
        assert_eq!(verdict(&e10035), (json!(false), Value::Null));
        assert_eq!(
            finding(&e10035, "TRAINING_HOURS")["explanation"],
            json!("21.5 hours since 2016-03-15, 60 needed; 40 more hours are older than ten years")
        );
    }
}

db_test! {
    async fn explains_certificates_by_category_and_expiry(app) {
        load_examples(&app).await;

        let certificate = |b: &Value| finding(b, "CERTIFICATE")["explanation"].clone();

        let e10014 = background(&app, "E10014", AS_OF).await;
        assert_eq!(verdict(&e10014), (json!(true), json!("CERTIFICATE")));
        assert_eq!(certificate(&e10014), json!("valid certificates in cybersecurity, network_management"));

        let e10016 = background(&app, "E10016", AS_OF).await;
        assert_eq!(certificate(&e10016), json!("valid certificates in software_engineering, software_testing"));

        // Two certificates, both cybersecurity: one category.
        let e10015 = background(&app, "E10015", AS_OF).await;
        assert_eq!(verdict(&e10015), (json!(false), Value::Null));
        assert_eq!(certificate(&e10015), json!("valid certificates in one category only (cybersecurity); a second category is needed"));

        let e10028 = background(&app, "E10028", AS_OF).await;
        assert_eq!(certificate(&e10028), json!("valid certificates in one category only (cybersecurity); a second category is needed"));

        // E10011's database certificate expired on 2026-03-14, the day before.
        let e10011 = background(&app, "E10011", AS_OF).await;
        assert_eq!(verdict(&e10011), (json!(false), Value::Null));
        assert_eq!(
            certificate(&e10011),
            json!("valid certificates in one category only (network_management); a second category is needed; 1 certificate is not in force on 2026-03-15")
        );
        let on_expiry = background(&app, "E10011", "2026-03-14").await;
        assert_eq!(verdict(&on_expiry), (json!(true), json!("CERTIFICATE")));
        assert_eq!(certificate(&on_expiry), json!("valid certificates in network_management, database_management"));
    }
}

db_test! {
    async fn evidence_obtained_after_the_date_does_not_count_yet(app) {
        load_examples(&app).await;

        let e10003 = background(&app, "E10003", AS_OF).await;
        assert_eq!(verdict(&e10003), (json!(false), Value::Null));
        assert_eq!(finding(&e10003, "ICT_DEGREE"), json!({
            "criterion": "ICT_DEGREE", "met": false,
            "explanation": "國立政治大學資訊管理學系碩士在職專班 counts only from 2026-06-30, when it is obtained"
        }));

        let e10004 = background(&app, "E10004", AS_OF).await;
        assert_eq!(verdict(&e10004), (json!(false), Value::Null));
        assert_eq!(
            finding(&e10004, "JOB_SERIES")["explanation"],
            json!("資訊處理職系(調任生效) counts only from 2026-04-01, when it is obtained")
        );
        let moved = background(&app, "E10004", "2026-04-01").await;
        assert_eq!(verdict(&moved), (json!(true), json!("JOB_SERIES")));
        assert_eq!(finding(&moved, "JOB_SERIES")["explanation"], json!("met by 資訊處理職系(調任生效)"));
    }
}

db_test! {
    async fn names_the_first_criterion_met(app) {
        load_examples(&app).await;

        // E10001 has both a job series and an ICT degree.
        let e10001 = background(&app, "E10001", AS_OF).await;
        assert_eq!(verdict(&e10001), (json!(true), json!("JOB_SERIES")));
        assert_eq!(finding(&e10001, "JOB_SERIES")["explanation"], json!("met by 資訊處理職系"));
        assert_eq!(finding(&e10001, "ICT_DEGREE"), json!({
            "criterion": "ICT_DEGREE", "met": true, "explanation": "met by 國立交通大學資訊科學系"
        }));

        let e10013 = background(&app, "E10013", AS_OF).await;
        assert_eq!(finding(&e10013, "ENGINEER_LICENCE")["explanation"], json!("met by 資訊技師"));
        let e10029 = background(&app, "E10029", AS_OF).await;
        assert_eq!(verdict(&e10029), (json!(true), json!("TECHNICIAN_CERTIFICATE")));
        assert_eq!(finding(&e10029, "TECHNICIAN_CERTIFICATE")["explanation"], json!("met by 電腦硬體裝修乙級技術士"));
    }
}

db_test! {
    async fn an_answer_set_in_the_people_file_wins(app) {
        load_examples(&app).await;

        let e10027 = background(&app, "E10027", AS_OF).await;
        assert_eq!(
            (e10027["hasBackground"].clone(), e10027["overridden"].clone(), e10027["overrideReason"].clone(), e10027["metBy"].clone()),
            (json!(true), json!(true), json!("set in the people import"), Value::Null)
        );

        let e10036 = background(&app, "E10036", AS_OF).await;
        assert_eq!(
            (e10036["hasBackground"].clone(), e10036["overridden"].clone(), e10036["overrideReason"].clone()),
            (json!(false), json!(true), json!("set in the people import"))
        );
    }
}

// ---------------------------------------------------------------------------
// The criteria's boundaries, on evidence made for them

/// Four people in `ORG`, with evidence on the edges of criteria 4 and 6.
async fn load_boundaries(app: &TestApp) {
    import(app, Kind::Units, ORG_UNITS).await;
    let people = "employee_no,name,email,unit_code,role,joined_on\n\
                  T1,王小明,t1@example.gov.tw,ORG-IT,it_staff,2015-01-01\n\
                  T2,李大華,t2@example.gov.tw,ORG-IT,it_staff,2015-01-01\n\
                  T3,陳美玲,t3@example.gov.tw,ORG-IT,it_staff,2015-01-01\n\
                  T4,林志明,t4@example.gov.tw,ORG-IT,it_staff,2015-01-01\n";
    import(app, Kind::People, people).await;
    let evidence = "employee_no,criterion,detail,category,obtained_on,expires_on,amount\n\
                    T1,credits,資料結構,,2016-03-15,,6\n\
                    T1,credits,資料庫應用,,2020-09-01,,14\n\
                    T2,credits,資料結構,,2016-03-14,,6\n\
                    T2,credits,資料庫應用,,2020-09-01,,14\n\
                    T3,certificate,ISC2 CISSP,cybersecurity,2020-01-01,2027-01-01,\n\
                    T3,certificate,Cisco CCNA,network_management,2020-01-01,2026-03-14,\n\
                    T4,certificate,Oracle OCP,database_management,2020-01-01,2027-01-01,\n\
                    T4,certificate,Microsoft DBA,database_management,2020-01-01,2028-01-01,\n";
    let report = import(app, Kind::Evidence, evidence).await;
    assert_eq!(report["created"], json!(8));
}

db_test! {
    async fn credits_count_ten_years_back_to_the_day(app) {
        load_boundaries(&app).await;

        let t1 = background(&app, "T1", AS_OF).await;
        assert_eq!(verdict(&t1), (json!(true), json!("CREDITS")));
        assert_eq!(finding(&t1, "CREDITS")["explanation"], json!("20 credits since 2016-03-15"));
        let t1_later = background(&app, "T1", "2026-03-16").await;
        assert_eq!(
            finding(&t1_later, "CREDITS")["explanation"],
            json!("14 credits since 2016-03-16, 20 needed; 6 more credits are older than ten years")
        );

        // A day older than ten years does not count.
        let t2 = background(&app, "T2", AS_OF).await;
        assert_eq!(verdict(&t2), (json!(false), Value::Null));
        assert_eq!(finding(&t2, "CREDITS"), json!({
            "criterion": "CREDITS", "met": false,
            "explanation": "14 credits since 2016-03-15, 20 needed; 6 more credits are older than ten years"
        }));
        let t2_earlier = background(&app, "T2", "2026-03-14").await;
        assert_eq!(finding(&t2_earlier, "CREDITS")["explanation"], json!("20 credits since 2016-03-14"));
    }
}

db_test! {
    async fn a_certificate_expiring_the_day_before_does_not_count(app) {
        load_boundaries(&app).await;

        let t3 = background(&app, "T3", AS_OF).await;
        assert_eq!(verdict(&t3), (json!(false), Value::Null));
        assert_eq!(finding(&t3, "CERTIFICATE"), json!({
            "criterion": "CERTIFICATE", "met": false,
            "explanation": "valid certificates in one category only (cybersecurity); a second category is needed; 1 certificate is not in force on 2026-03-15"
        }));

        // Still valid on its expiry date.
        let on_expiry = background(&app, "T3", "2026-03-14").await;
        assert_eq!(verdict(&on_expiry), (json!(true), json!("CERTIFICATE")));
        assert_eq!(finding(&on_expiry, "CERTIFICATE")["explanation"], json!("valid certificates in cybersecurity, network_management"));
    }
}

db_test! {
    async fn two_certificates_in_one_category_count_once(app) {
        load_boundaries(&app).await;

        let t4 = background(&app, "T4", AS_OF).await;
        assert_eq!(verdict(&t4), (json!(false), Value::Null));
        assert_eq!(finding(&t4, "CERTIFICATE"), json!({
            "criterion": "CERTIFICATE", "met": false,
            "explanation": "valid certificates in one category only (database_management); a second category is needed"
        }));
    }
}

// ---------------------------------------------------------------------------
// An admin's answer by hand

const SET: &str = r#"mutation($no: String!, $value: Boolean, $reason: String) {
  setTechnicalBackground(employeeNo: $no, value: $value, reason: $reason) {
    employeeNo
    technicalBackground(asOf: "2026-03-15") { hasBackground overridden overrideReason metBy }
  }
}"#;

db_test! {
    async fn an_admins_answer_wins_over_the_evidence(app) {
        load_examples(&app).await;

        // E10001 meets the job series criterion; the answer by hand says no.
        let data = app.data(SET, json!({ "no": "E10001", "value": false, "reason": "post reclassified" })).await;
        assert_eq!(data["setTechnicalBackground"], json!({
            "employeeNo": "E10001",
            "technicalBackground": { "hasBackground": false, "overridden": true, "overrideReason": "post reclassified", "metBy": "JOB_SERIES" }
        }));

        // E10002 has no evidence; the answer by hand says yes.
        let data = app.data(SET, json!({ "no": "E10002", "value": true, "reason": "  外國學歷經認定  " })).await;
        assert_eq!(data["setTechnicalBackground"]["technicalBackground"], json!({
            "hasBackground": true, "overridden": true, "overrideReason": "外國學歷經認定", "metBy": null
        }));
        let stored = background(&app, "E10002", AS_OF).await;
        assert_eq!((stored["hasBackground"].clone(), stored["overridden"].clone()), (json!(true), json!(true)));

        // null clears the answer: the evidence decides again.
        let data = app.data(SET, json!({ "no": "E10001", "value": null, "reason": null })).await;
        assert_eq!(data["setTechnicalBackground"]["technicalBackground"], json!({
            "hasBackground": true, "overridden": false, "overrideReason": null, "metBy": "JOB_SERIES"
        }));
        let data = app.data(SET, json!({ "no": "E10027", "value": null })).await;
        assert_eq!(data["setTechnicalBackground"]["technicalBackground"], json!({
            "hasBackground": false, "overridden": false, "overrideReason": null, "metBy": null
        }));
    }
}

db_test! {
    async fn an_admins_answer_needs_a_reason(app) {
        load_examples(&app).await;

        for reason in [Value::Null, json!(""), json!("  \u{3000} ")] {
            let error = app.error(SET, json!({ "no": "E10002", "value": true, "reason": reason })).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{error:#}");
            assert_eq!(error["extensions"]["fields"], json!([{ "field": "reason", "reason": "say why the background is set by hand" }]));
            assert_eq!(fields(&error), ["reason"]);
        }
        let e10002 = background(&app, "E10002", AS_OF).await;
        assert_eq!((e10002["hasBackground"].clone(), e10002["overridden"].clone()), (json!(false), json!(false)));

        let missing = app.error(SET, json!({ "no": "E99999", "value": true, "reason": "x" })).await;
        assert_eq!(code(&missing), "NOT_FOUND");
    }
}

// ---------------------------------------------------------------------------
// Supervisors, units and agencies

db_test! {
    async fn follows_the_supervisor_chain(app) {
        load_examples(&app).await;

        let query = r#"{ person(employeeNo: "E10010") {
          name
          supervisor { employeeNo name supervisor { employeeNo supervisor { employeeNo supervisor { employeeNo } } } }
        } }"#;
        assert_eq!(app.data(query, json!({})).await["person"], json!({
            "name": "楊欣怡",
            "supervisor": { "employeeNo": "E10009", "name": "蔡承恩", "supervisor": {
                "employeeNo": "E10006", "supervisor": { "employeeNo": "E10001", "supervisor": null }
            } }
        }));

        let reports = r#"{
          head: person(employeeNo: "E10001") { directReports { employeeNo } }
          infra: person(employeeNo: "E10006") { directReports { employeeNo name } }
          district: person(employeeNo: "E10026") { directReports { employeeNo } }
          staff: person(employeeNo: "E10010") { directReports { employeeNo } }
        }"#;
        assert_eq!(app.data(reports, json!({})).await, json!({
            "head": { "directReports": [{ "employeeNo": "E10002" }, { "employeeNo": "E10006" }, { "employeeNo": "E10013" }] },
            "infra": { "directReports": [
                { "employeeNo": "E10007", "name": "吳宗翰" },
                { "employeeNo": "E10008", "name": "劉雅婷" },
                { "employeeNo": "E10009", "name": "蔡承恩" }
            ] },
            "district": { "directReports": [{ "employeeNo": "E10027" }, { "employeeNo": "E10031" }, { "employeeNo": "E10034" }] },
            "staff": { "directReports": [] }
        }));

        let filtered = r#"{ people(filter: { supervisorNo: "E10009" }) { totalCount nodes { employeeNo } } }"#;
        assert_eq!(app.data(filtered, json!({})).await["people"], json!({
            "totalCount": 3,
            "nodes": [{ "employeeNo": "E10010" }, { "employeeNo": "E10011" }, { "employeeNo": "E10012" }]
        }));
    }
}

db_test! {
    async fn a_person_in_a_sub_unit_inherits_the_agency_security_level(app) {
        load_examples(&app).await;

        let query = r#"{ person(employeeNo: "E10012") {
          unit { code name isAgency parent { code } securityLevel(asOf: "2026-03-15") }
          agency {
            code name isAgency
            now: securityLevel(asOf: "2026-03-15")
            first: securityLevel(asOf: "2024-01-01")
            before: securityLevel(asOf: "2023-12-31")
            securityLevelHistory { level since }
          }
        } }"#;
        assert_eq!(app.data(query, json!({})).await["person"], json!({
            "unit": { "code": "DDB-INF-NET", "name": "網路維運科", "isAgency": false, "parent": { "code": "DDB-INF" }, "securityLevel": "B" },
            "agency": {
                "code": "DDB", "name": "臺北市政府數位發展局", "isAgency": true,
                "now": "B", "first": "B", "before": null,
                "securityLevelHistory": [{ "level": "B", "since": "2024-01-01" }]
            }
        }));

        let district = r#"{
          civil: unit(code: "DST-JM-CIV") { agency { code } before: securityLevel(asOf: "2024-12-31") from: securityLevel(asOf: "2025-01-01") }
          school: person(employeeNo: "E10024") { agency { code securityLevel(asOf: "2026-03-15") } }
          head: person(employeeNo: "E10018") { agency { code } unit { code } }
        }"#;
        assert_eq!(app.data(district, json!({})).await, json!({
            "civil": { "agency": { "code": "DST-JM" }, "before": null, "from": "C" },
            "school": { "agency": { "code": "SCH-MD", "securityLevel": "D" } },
            "head": { "agency": { "code": "SCH-MD" }, "unit": { "code": "SCH-MD" } }
        }));
    }
}

db_test! {
    async fn lists_units_by_code_with_their_tree(app) {
        load_examples(&app).await;

        let data = app.data("{ units { code } }", json!({})).await;
        let codes: Vec<&str> = data["units"].as_array().expect("units").iter().filter_map(|u| u["code"].as_str()).collect();
        assert_eq!(codes, [
            "DDB", "DDB-INF", "DDB-INF-NET", "DDB-PLN", "DDB-SEC", "DST-JM", "DST-JM-ADM", "DST-JM-CIV", "DST-JM-SEC",
            "SCH-MD", "SCH-MD-ACA", "SCH-MD-IT"
        ]);

        let query = r#"{
          ddb: unit(code: "DDB") { name isAgency parent { code } children { code children { code } } agency { code } }
          net: unit(code: " DDB-INF-NET ") { agency { code } children { code } }
          none: unit(code: "NOPE") { code }
        }"#;
        assert_eq!(app.data(query, json!({})).await, json!({
            "ddb": {
                "name": "臺北市政府數位發展局", "isAgency": true, "parent": null, "agency": { "code": "DDB" },
                "children": [
                    { "code": "DDB-INF", "children": [{ "code": "DDB-INF-NET" }] },
                    { "code": "DDB-PLN", "children": [] },
                    { "code": "DDB-SEC", "children": [] }
                ]
            },
            "net": { "agency": { "code": "DDB" }, "children": [] },
            "none": null
        }));
    }
}

// ---------------------------------------------------------------------------
// People listings

const COUNT: &str = "query($filter: PeopleFilterInput) { people(filter: $filter, first: 0) { totalCount } }";

async fn count(app: &TestApp, filter: Value) -> u64 {
    let data = app.data(COUNT, json!({ "filter": filter })).await;
    data["people"]["totalCount"].as_u64().expect("totalCount")
}

async fn numbers(app: &TestApp, filter: Value) -> Vec<String> {
    let query = "query($filter: PeopleFilterInput) { people(filter: $filter, first: 100) { nodes { employeeNo } } }";
    let data = app.data(query, json!({ "filter": filter })).await;
    data["people"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|p| p["employeeNo"].as_str().expect("employeeNo").to_string())
        .collect()
}

db_test! {
    async fn people_of_a_unit_include_every_unit_below(app) {
        load_examples(&app).await;

        assert_eq!(count(&app, json!({})).await, 36);
        assert_eq!(count(&app, json!({ "unitCode": "DDB" })).await, 17);
        assert_eq!(count(&app, json!({ "unitCode": "SCH-MD" })).await, 8);
        assert_eq!(count(&app, json!({ "unitCode": "DST-JM" })).await, 11);
        assert_eq!(count(&app, json!({ "unitCode": "DDB-INF-NET" })).await, 4);
        assert_eq!(
            numbers(&app, json!({ "unitCode": "DDB-INF" })).await,
            ["E10006", "E10007", "E10008", "E10009", "E10010", "E10011", "E10012"]
        );
    }
}

db_test! {
    async fn people_by_role_on_a_date(app) {
        load_examples(&app).await;

        let on = |role: &str, date: &str| json!({ "role": role, "asOf": date });
        assert_eq!(count(&app, on("IT_SUPERVISOR", AS_OF)).await, 12);
        assert_eq!(count(&app, on("SECURITY_OFFICER", AS_OF)).await, 4);
        // E10033 left on 2025-12-31 and E10017 leaves on 2026-06-30.
        assert_eq!(count(&app, on("IT_STAFF", "2025-12-31")).await, 20);
        assert_eq!(count(&app, on("IT_STAFF", AS_OF)).await, 19);
        assert_eq!(count(&app, on("IT_STAFF", "2026-07-01")).await, 18);

        assert_eq!(
            numbers(&app, json!({ "role": "SECURITY_OFFICER", "asOf": AS_OF })).await,
            ["E10014", "E10015", "E10023", "E10028"]
        );
        assert_eq!(
            numbers(&app, json!({ "role": "IT_SUPERVISOR", "unitCode": "DDB", "asOf": AS_OF })).await,
            ["E10001", "E10002", "E10006", "E10009", "E10013"]
        );
        // Before anyone joined.
        assert_eq!(count(&app, on("IT_SUPERVISOR", "2007-02-28")).await, 0);
        assert_eq!(count(&app, on("IT_SUPERVISOR", "2007-03-01")).await, 1);
    }
}

db_test! {
    async fn search_ignores_width_and_case(app) {
        load_examples(&app).await;

        assert_eq!(numbers(&app, json!({ "search": "chen" })).await, ["E10001", "E10009", "E10011", "E10012", "E10028"]);
        assert_eq!(count(&app, json!({ "search": "CHEN" })).await, 5);
        assert_eq!(count(&app, json!({ "search": "ｃｈｅｎ" })).await, 5);
        assert_eq!(numbers(&app, json!({ "search": "ＹＩＪＵＮ．ＣＨＥＮ" })).await, ["E10001"]);
        assert_eq!(numbers(&app, json!({ "search": "怡" })).await, ["E10001", "E10010", "E10014", "E10023"]);
        assert_eq!(numbers(&app, json!({ "search": "\u{3000}陳怡君\u{3000}" })).await, ["E10001"]);
        assert_eq!(count(&app, json!({ "search": "e1003" })).await, 7);
        assert_eq!(count(&app, json!({ "search": "Ｅ１００３" })).await, 7);
        assert_eq!(count(&app, json!({ "search": "@MDJH.example" })).await, 8);
        assert_eq!(count(&app, json!({ "search": "%" })).await, 0);
        assert_eq!(count(&app, json!({ "search": "nobody" })).await, 0);
        assert_eq!(count(&app, json!({ "search": "chen", "unitCode": "DDB-INF-NET" })).await, 3);
    }
}

const PAGE: &str = r#"query($first: Int, $after: String, $filter: PeopleFilterInput) {
  people(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { employeeNo } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"#;

async fn page_through(app: &TestApp, first: i64, filter: Value) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let data = app
            .data(PAGE, json!({ "first": first, "after": after, "filter": filter }))
            .await;
        let page = &data["people"];
        assert_eq!(page["pageInfo"]["hasPreviousPage"], json!(pages > 0));
        let edges = page["edges"].as_array().expect("edges");
        assert!(edges.len() as i64 <= first);
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["employeeNo"].as_str().expect("no").to_string()),
        );
        pages += 1;
        if page["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        assert_eq!(edges.len() as i64, first, "only the last page is short");
        after = page["pageInfo"]["endCursor"].clone();
        assert!(pages < 100, "pagination does not end");
    }
    (seen, pages)
}

db_test! {
    async fn pages_through_people_losing_and_repeating_nothing(app) {
        load_examples(&app).await;

        let (seen, pages) = page_through(&app, 5, json!(null)).await;
        assert_eq!(pages, 8);
        let expected: Vec<String> = (1..=36).map(|n| format!("E100{n:02}")).collect();
        assert_eq!(seen, expected);

        let (seen, pages) = page_through(&app, 3, json!({ "unitCode": "DST-JM" })).await;
        assert_eq!(pages, 4);
        let expected: Vec<String> = (26..=36).map(|n| format!("E100{n:02}")).collect();
        assert_eq!(seen, expected);

        // totalCount counts every page.
        let data = app.data(PAGE, json!({ "first": 2, "after": null, "filter": { "unitCode": "SCH-MD" } })).await;
        assert_eq!(data["people"]["totalCount"], json!(8));
        let cursor = data["people"]["pageInfo"]["endCursor"].clone();
        let next = app.data(PAGE, json!({ "first": 2, "after": cursor, "filter": { "unitCode": "SCH-MD" } })).await;
        assert_eq!(next["people"]["totalCount"], json!(8));
        assert_eq!(next["people"]["edges"][0]["node"]["employeeNo"], json!("E10020"));
    }
}

db_test! {
    async fn refuses_bad_page_arguments(app) {
        load_examples(&app).await;

        let too_big = app.error(PAGE, json!({ "first": 101 })).await;
        assert_eq!(code(&too_big), "BAD_USER_INPUT");
        assert_eq!(fields(&too_big), ["first"]);

        let forged = app.error(PAGE, json!({ "first": 5, "after": "E10005" })).await;
        assert_eq!(code(&forged), "BAD_USER_INPUT");
        assert_eq!(fields(&forged), ["after"]);

        let all = app.data(PAGE, json!({ "first": 100 })).await;
        assert_eq!(all["people"]["edges"].as_array().map(Vec::len), Some(36));
        let default = app.data(PAGE, json!({})).await;
        assert_eq!(default["people"]["edges"].as_array().map(Vec::len), Some(20));
    }
}

db_test! {
    async fn unknown_people_and_units_are_null(app) {
        load_examples(&app).await;

        let query = r#"{ person(employeeNo: "E99999") { name } unit(code: "NOPE") { code } trimmed: person(employeeNo: " E10001 ") { name } }"#;
        assert_eq!(app.data(query, json!({})).await, json!({
            "person": null, "unit": null, "trimmed": { "name": "陳怡君" }
        }));
    }
}

db_test! {
    async fn an_unknown_unit_or_supervisor_in_a_filter_is_refused_not_empty(app) {
        load_examples(&app).await;

        let unit = app.error("{ people(filter: { unitCode: \"NOPE\" }) { totalCount } }", json!({})).await;
        assert_eq!(code(&unit), "BAD_USER_INPUT", "{unit}");
        assert_eq!(unit["message"], json!("unitCode: unit NOPE does not exist"));

        let supervisor = app.error("{ people(filter: { supervisorNo: \"E99999\" }) { totalCount } }", json!({})).await;
        assert_eq!(supervisor["message"], json!("supervisorNo: person E99999 does not exist"));

        let quarter = app.error("{ quarterlyShortfalls(year: 2026, quarter: 5) { totalCount } }", json!({})).await;
        assert_eq!(code(&quarter), "BAD_USER_INPUT", "{quarter}");
        assert_eq!(quarter["message"], json!("quarter: must be 1, 2, 3 or 4"));

        let known = app.data("{ people(filter: { unitCode: \"DDB\" }) { totalCount } }", json!({})).await;
        assert!(known["people"]["totalCount"].as_i64().is_some_and(|n| n > 0), "{known}");
    }
}

db_test! {
    async fn a_unit_code_in_full_width_is_the_unit_but_its_case_still_counts(app) {
        load_examples(&app).await;

        let full = app.data(
            "{ unit(code: \"ＤＤＢ-ＰＬＮ\") { code } \
               people(filter: { unitCode: \"ＤＤＢ-ＰＬＮ\" }) { totalCount } \
               unitCompliance(unitCode: \"ＤＤＢ-ＰＬＮ\", year: 2026, asOf: \"2026-03-31\") { unit { code } people } }",
            json!({}),
        ).await;
        let half = app.data(
            "{ people(filter: { unitCode: \"DDB-PLN\" }) { totalCount } }",
            json!({}),
        ).await;
        let count = &half["people"]["totalCount"];
        assert!(count.as_i64().is_some_and(|n| n > 1), "{half}");
        assert_eq!(full["unit"], json!({ "code": "DDB-PLN" }));
        assert_eq!(&full["people"]["totalCount"], count);
        assert_eq!(full["unitCompliance"]["unit"], json!({ "code": "DDB-PLN" }));
        assert_eq!(&full["unitCompliance"]["people"], count);

        let lower = app.error("{ people(filter: { unitCode: \"ddb-pln\" }) { totalCount } }", json!({})).await;
        assert_eq!(lower["message"], json!("unitCode: unit ddb-pln does not exist"));
    }
}
