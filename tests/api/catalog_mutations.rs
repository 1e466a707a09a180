//! Admins editing the catalog, and every kind of input it refuses.

use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{TestApp, code, fields};

const CREATE: &str = r#"mutation($input: CreateCourseInput!) {
  createCourse(input: $input) { id title hours platform platformCode facet level domain securityCategory }
}"#;

fn course(overrides: Value) -> Value {
    let mut input = json!({
        "title": "雲端服務架構入門",
        "hours": 2.5,
        "link": "https://training.example.org/courses/cloud-101",
        "facet": "TECHNICAL",
        "level": "C",
        "domain": "HOSTS"
    });
    if let (Some(base), Some(extra)) = (input.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    json!({ "input": input })
}

async fn refused(app: &TestApp, overrides: Value) -> Vec<String> {
    let error = app.error(CREATE, course(overrides)).await;
    assert_eq!(code(&error), "BAD_USER_INPUT", "{error:#}");
    fields(&error)
}

async fn total(app: &TestApp) -> Value {
    let data = app
        .data(
            "{ courses(first: 0, filter: { includeArchived: true }) { totalCount } }",
            json!({}),
        )
        .await;
    data["courses"]["totalCount"].clone()
}

db_test! {
    async fn creates_a_course_on_another_platform(app) {
        let data = app.data(CREATE, course(json!({}))).await;

        assert_eq!(data["createCourse"]["title"], json!("雲端服務架構入門"));
        assert_eq!(data["createCourse"]["hours"], json!(2.5));
        assert_eq!(data["createCourse"]["platform"], json!("OTHER"));
        assert_eq!(data["createCourse"]["platformCode"], Value::Null);
        assert_eq!(data["createCourse"]["domain"], json!("HOSTS"));
        assert_eq!(total(&app).await, json!(55));
    }
}

db_test! {
    async fn reads_the_platform_from_the_link(app) {
        let input = course(json!({
            "title": "資安通識：社交工程防護",
            "facet": "LEGAL", "level": null, "domain": null,
            "hours": 1,
            "link": "https://elearn.hrd.gov.tw/mooc/course_share.php?code=abc123",
            "securityCategory": "GENERAL"
        }));
        let data = app.data(CREATE, input).await;

        assert_eq!(data["createCourse"]["platform"], json!("HRD_ELEARN"));
        assert_eq!(data["createCourse"]["platformCode"], json!("abc123"));
        assert_eq!(data["createCourse"]["securityCategory"], json!("GENERAL"));
    }
}

db_test! {
    async fn refuses_bad_hours(app) {
        assert_eq!(refused(&app, json!({ "hours": 0 })).await, ["hours"]);
        assert_eq!(refused(&app, json!({ "hours": -2 })).await, ["hours"]);
        assert_eq!(refused(&app, json!({ "hours": 0.3 })).await, ["hours"]);
        assert_eq!(refused(&app, json!({ "hours": 40.5 })).await, ["hours"]);
        assert_eq!(refused(&app, json!({ "hours": 1000 })).await, ["hours"]);
        assert_eq!(refused(&app, json!({ "hours": 1.005 })).await, ["hours"]);
        assert_eq!(total(&app).await, json!(54));
    }
}

db_test! {
    async fn refuses_levels_that_do_not_fit_the_facet(app) {
        assert_eq!(refused(&app, json!({ "level": null })).await, ["level"]);
        assert_eq!(refused(&app, json!({ "facet": "POLICY", "domain": null })).await, ["level"]);
        assert_eq!(refused(&app, json!({ "facet": "LEGAL", "level": null })).await, ["domain"]);
        assert_eq!(refused(&app, json!({ "facet": "SECURITY", "level": null, "domain": null })).await, ["facet"]);
    }
}

db_test! {
    async fn refuses_invalid_links(app) {
        assert_eq!(refused(&app, json!({ "link": "not a link" })).await, ["link"]);
        assert_eq!(refused(&app, json!({ "link": "ftp://example.org/course" })).await, ["link"]);
        assert_eq!(refused(&app, json!({ "link": "http://elearning.taipei/elearn/courseinfo/so.php?v=x" })).await, ["link"]);
        assert_eq!(refused(&app, json!({ "link": "https://elearn.hrd.gov.tw/mooc/index.php" })).await, ["link"]);

        let long = format!("https://training.example.org/courses/{}", "x".repeat(2_000));
        let error = app.error(CREATE, course(json!({ "link": long }))).await;
        assert_eq!(error["message"], json!("link: must be at most 2000 characters"));
    }
}

db_test! {
    async fn refuses_titles_holding_characters_a_reader_cannot_see(app) {
        // U+202E shows what follows reversed; a reminder listing the course
        // would read differently from what the catalog holds.
        for (title, held) in [
            ("資安\u{202E}課程", "the invisible formatting character U+202E"),
            ("Git\u{200B} 版本控制", "the invisible formatting character U+200B"),
            ("雲端\u{1}服務", "the control character U+0001"),
        ] {
            let error = app.error(CREATE, course(json!({ "title": title }))).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{error:#}");
            assert_eq!(error["message"], json!(format!("title: holds {held}; a title is one line of text")));
        }
        assert_eq!(total(&app).await, json!(54), "nothing was created");
    }
}

db_test! {
    async fn lists_every_problem_at_once(app) {
        let error = app.error(CREATE, course(json!({ "title": "  ", "hours": 0, "link": "x", "level": null }))).await;

        assert_eq!(fields(&error), ["title", "hours", "link", "level"]);
        let message = error["message"].as_str().expect("message");
        assert!(message.contains("title: must not be empty"), "{message}");
        assert!(message.contains("level: a technical course needs a level"), "{message}");
    }
}

db_test! {
    async fn refuses_a_duplicate_title_on_the_same_platform(app) {
        let same_title = json!({
            "title": "ｐｙｔｈｏｎ 數值分析規劃與計算",
            "link": "http://elearning.taipei/elearn/courseinfo/so.php?v=99999",
            "level": "B", "domain": "DATA_ANALYSIS"
        });
        assert_eq!(refused(&app, same_title).await, ["title"]);

        let same_code = json!({ "link": "http://elearning.taipei/elearn/courseinfo/so.php?v=4230" });
        assert_eq!(refused(&app, same_code).await, ["link"]);

        // The same title elsewhere is another course.
        let elsewhere = course(json!({ "title": "Python 數值分析規劃與計算", "level": "B" }));
        let data = app.data(CREATE, elsewhere).await;
        assert_eq!(data["createCourse"]["platform"], json!("OTHER"));
    }
}

const UPDATE: &str = r#"mutation($id: ID!, $input: UpdateCourseInput!) {
  updateCourse(id: $id, input: $input) { id title hours facet level domain }
}"#;

db_test! {
    async fn updates_some_fields(app) {
        let data = app.data(UPDATE, json!({ "id": "1", "input": { "hours": 2.5 } })).await;
        assert_eq!(data["updateCourse"], json!({
            "id": "1", "title": "淺談 e 化數位治理", "hours": 2.5, "facet": "POLICY", "level": null, "domain": null
        }));

        let moved = json!({ "id": "1", "input": { "facet": "TECHNICAL", "level": "D", "domain": "DATA_ANALYSIS" } });
        let data = app.data(UPDATE, moved).await;
        assert_eq!(data["updateCourse"]["level"], json!("D"));

        let back = json!({ "id": "1", "input": { "facet": "POLICY", "level": null, "domain": null } });
        let data = app.data(UPDATE, back).await;
        assert_eq!(data["updateCourse"]["level"], Value::Null);
    }
}

db_test! {
    async fn refuses_bad_updates(app) {
        let error = app.error(UPDATE, json!({ "id": "1", "input": { "level": "B" } })).await;
        assert_eq!(fields(&error), ["level"]);

        let error = app.error(UPDATE, json!({ "id": "4", "input": { "title": "數位平權" } })).await;
        assert_eq!(fields(&error), ["title"]);

        let error = app.error(UPDATE, json!({ "id": "9999", "input": { "hours": 1 } })).await;
        assert_eq!(code(&error), "NOT_FOUND");

        let data = app.data(r#"{ course(id: "1") { hours } }"#, json!({})).await;
        assert_eq!(data["course"]["hours"], json!(2.0));
    }
}

db_test! {
    async fn archived_courses_leave_listings_but_not_history(app) {
        let archive = r#"mutation { archiveCourse(id: "3") { archived archivedAt } }"#;
        let data = app.data(archive, json!({})).await;
        assert_eq!(data["archiveCourse"]["archived"], json!(true));
        assert!(data["archiveCourse"]["archivedAt"].as_str().is_some_and(|t| t.ends_with('Z')));

        let listed = app.data("{ courses(first: 0) { totalCount } }", json!({})).await;
        assert_eq!(listed["courses"]["totalCount"], json!(53));
        assert_eq!(total(&app).await, json!(54));

        let kept = app.data(r#"{ course(id: "3") { title archived } }"#, json!({})).await;
        assert_eq!(kept["course"], json!({ "title": "數位平權", "archived": true }));

        let missing = app.error(r#"mutation { archiveCourse(id: "9999") { archived } }"#, json!({})).await;
        assert_eq!(code(&missing), "NOT_FOUND");
    }
}
