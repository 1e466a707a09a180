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
    async fn resolver_codes_are_kept(app) {
        let missing = app.error(r#"{ compliance(employeeNo: "NOBODY", year: 2026) { status } }"#, json!({})).await;
        assert_eq!(code(&missing), "NOT_FOUND", "{missing}");
    }
}
