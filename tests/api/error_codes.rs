//! Every error a client receives carries `extensions.code`, including those
//! async-graphql raises before a resolver runs.

use serde_json::json;

use crate::db_test;
use crate::helpers::code;

db_test! {
    async fn errors_before_any_resolver_are_bad_user_input(app) {
        let deep = format!(
            "{{ people(first: 1) {{ edges {{ node {{ {} name {} }} }} }} }}",
            "supervisor {".repeat(15),
            "}".repeat(15)
        );
        let too_deep = app.error(&deep, json!({})).await;
        assert_eq!(code(&too_deep), "BAD_USER_INPUT", "{too_deep}");
        assert!(too_deep["message"].as_str().is_some_and(|m| m.contains("nested too deep")), "{too_deep}");

        let unparsed = app.error("{ courses(first: ", json!({})).await;
        assert_eq!(code(&unparsed), "BAD_USER_INPUT", "{unparsed}");

        let unknown = app.error("{ noSuchField }", json!({})).await;
        assert_eq!(code(&unknown), "BAD_USER_INPUT", "{unknown}");

        let bad_date = app.error(r#"{ compliance(employeeNo: "P1", year: 2026, asOf: "31/03/2026") { status } }"#, json!({})).await;
        assert_eq!(code(&bad_date), "BAD_USER_INPUT", "{bad_date}");
    }
}

db_test! {
    async fn a_required_variable_read_only_by_a_directive_must_be_given(app) {
        let query = "query($x: Boolean!) { facets { code nameEn @include(if: $x) } }";

        let missing = app.error(query, json!({})).await;
        assert_eq!(code(&missing), "BAD_USER_INPUT", "{missing}");
        assert_eq!(missing["message"], json!("variable $x of type Boolean! is required: give it a value in `variables`"));
        let null = app.error(query, json!({ "x": null })).await;
        assert_eq!(code(&null), "BAD_USER_INPUT", "{null}");

        let given = app.data(query, json!({ "x": true })).await;
        assert_eq!(given["facets"][0], json!({ "code": "POLICY", "nameEn": "Policy" }));
        let left_out = app.data(query, json!({ "x": false })).await;
        assert_eq!(left_out["facets"][0], json!({ "code": "POLICY" }));
    }
}

db_test! {
    async fn evaluations_count_toward_the_complexity_limit(app) {
        crate::personnel_import::load_examples(&app).await;
        let aliases = |n: usize, field: &str| -> String {
            let one = (0..n).map(|i| format!("a{i}: {field}")).collect::<Vec<_>>().join(" ");
            format!("{{ {one} }}")
        };
        let person = r#"compliance(employeeNo: "E10005", year: 2026, asOf: "2026-03-31") { status }"#;

        // 21 each (20 for the evaluation, 1 for its field): 200 fit in 5,000, 240 do not.
        let fits = app.data(&aliases(200, person), json!({})).await;
        assert_eq!(fits.as_object().map(|o| o.len()), Some(200));
        let too_many = app.error(&aliases(240, person), json!({})).await;
        assert_eq!(code(&too_many), "BAD_USER_INPUT", "{too_many}");
        assert!(too_many["message"].as_str().is_some_and(|m| m.contains("too complex")), "{too_many}");

        let unit = r#"unitCompliance(unitCode: "DDB", year: 2026, asOf: "2026-03-31") { people }"#;
        assert_eq!(app.data(&aliases(9, unit), json!({})).await.as_object().map(|o| o.len()), Some(9));
        assert_eq!(code(&app.error(&aliases(10, unit), json!({})).await), "BAD_USER_INPUT");
    }
}

db_test! {
    async fn resolver_codes_are_kept(app) {
        let missing = app.error(r#"{ compliance(employeeNo: "NOBODY", year: 2026) { status } }"#, json!({})).await;
        assert_eq!(code(&missing), "NOT_FOUND", "{missing}");
    }
}

db_test! {
    async fn text_with_a_nul_character_is_bad_user_input_on_both_databases(app) {
        let search = "query($s: String!) { courses(filter: { search: $s }, first: 5) { totalCount } }";
        let in_variable = app.error(search, json!({ "s": "a\u{0}b" })).await;
        assert_eq!(code(&in_variable), "BAD_USER_INPUT", "{in_variable}");
        assert_eq!(in_variable["message"], json!("text may not contain the NUL character (U+0000)"));

        let escaped = app.error(r#"{ compliance(employeeNo: "E1\u0000", year: 2026) { status } }"#, json!({})).await;
        assert_eq!(code(&escaped), "BAD_USER_INPUT", "{escaped}");

        let people = "employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on,technical_background,language\n\
                      E1,Nul\u{0}Name,e1@example.gov.tw,AG1,it_staff,,2020-01-01,,,\n";
        let import = "mutation($p: String!) { importPeople(csv: $p) { created } }";
        let refused = app.error(import, json!({ "p": people })).await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
        let count = app.data("{ people(first: 1) { totalCount } }", json!({})).await;
        assert_eq!(count["people"]["totalCount"], json!(0), "nothing written");

        let clean = app.data(search, json!({ "s": "python" })).await;
        assert!(clean["courses"]["totalCount"].as_i64().is_some_and(|n| n > 0), "{clean}");
    }
}

db_test! {
    async fn meta_fields_and_introspection_count_toward_a_cap_on_selections(app) {
        let aliases = |n: usize, field: &str| -> String {
            let one = (0..n).map(|i| format!("a{i}: {field}")).collect::<Vec<_>>().join(" ");
            format!("{{ {one} }}")
        };

        // `__typename` costs nothing toward complexity, one selection here.
        let fits = app.data(&aliases(5_000, "__typename"), json!({})).await;
        assert_eq!(fits.as_object().map(|o| o.len()), Some(5_000));
        assert_eq!(fits["a4999"], json!("QueryRoot"));
        let too_many = app.error(&aliases(5_001, "__typename"), json!({})).await;
        assert_eq!(code(&too_many), "BAD_USER_INPUT", "{too_many}");
        assert!(
            too_many["message"].as_str().is_some_and(|m| m.starts_with("the query makes more than 5000 selections")),
            "{too_many}"
        );

        // 102 each (100 for `__schema`, one each for `types` and `name`).
        let schemas = app.data(&aliases(49, "__schema { types { name } }"), json!({})).await;
        assert_eq!(schemas.as_object().map(|o| o.len()), Some(49));
        let too_many = app.error(&aliases(50, "__schema { types { name } }"), json!({})).await;
        assert_eq!(code(&too_many), "BAD_USER_INPUT", "{too_many}");
    }
}
