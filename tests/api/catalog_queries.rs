//! The seeded catalog as clients read it.

use serde_json::{Value, json};

use crate::db_test;

const COUNT: &str = "query($filter: CourseFilterInput) { courses(filter: $filter, first: 0) { totalCount } }";

async fn count(app: &crate::helpers::TestApp, filter: Value) -> u64 {
    let data = app.data(COUNT, json!({ "filter": filter })).await;
    data["courses"]["totalCount"].as_u64().expect("totalCount")
}

const FIND: &str = r#"query($search: String!) {
  courses(filter: { search: $search }) {
    edges { node { title hours link platform platformCode facet level domain archived } }
  }
}"#;

async fn only_course(app: &crate::helpers::TestApp, search: &str) -> Value {
    let data = app.data(FIND, json!({ "search": search })).await;
    let edges = data["courses"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), 1, "one course matches {search}: {edges:#?}");
    edges[0]["node"].clone()
}

db_test! {
    async fn holds_the_54_recommended_courses(app) {
        assert_eq!(count(&app, json!({})).await, 54);
        assert_eq!(count(&app, json!({ "facet": "POLICY" })).await, 8);
        assert_eq!(count(&app, json!({ "facet": "MANAGEMENT" })).await, 3);
        assert_eq!(count(&app, json!({ "facet": "LEGAL" })).await, 8);
        assert_eq!(count(&app, json!({ "facet": "TECHNICAL" })).await, 35);
        assert_eq!(count(&app, json!({ "level": "A" })).await, 0);
        assert_eq!(count(&app, json!({ "level": "B" })).await, 9);
        assert_eq!(count(&app, json!({ "level": "C" })).await, 17);
        assert_eq!(count(&app, json!({ "level": "D" })).await, 9);
        assert_eq!(count(&app, json!({ "platform": "TAIPEI_ELEARNING" })).await, 31);
        assert_eq!(count(&app, json!({ "platform": "HRD_ELEARN" })).await, 23);
        assert_eq!(count(&app, json!({ "platform": "OTHER" })).await, 0);
    }
}

db_test! {
    async fn transcribes_courses_exactly(app) {
        let first = only_course(&app, "淺談 e 化數位治理").await;
        assert_eq!(first, json!({
            "title": "淺談 e 化數位治理", "hours": 2.0,
            "link": "http://elearning.taipei/elearn/courseinfo/so.php?v=4230",
            "platform": "TAIPEI_ELEARNING", "platformCode": "4230",
            "facet": "POLICY", "level": null, "domain": null, "archived": false
        }));

        let python = only_course(&app, "零基礎學 Python：從入門到活用(中)").await;
        assert_eq!(python["hours"], json!(3.0));
        assert_eq!(python["platform"], json!("HRD_ELEARN"));
        assert_eq!(python["platformCode"], json!("db1cbf0be0fea0371232cf99e6e7b"));
        assert_eq!(python["level"], json!("C"));

        let html = only_course(&app, "HTML5&CSS3 網頁程式(下)").await;
        assert_eq!(html["platformCode"], json!("10028390"));
        assert_eq!(html["level"], json!("C"));
        assert_eq!(html["domain"], json!("DEVELOPMENT"));

        let copyright = only_course(&app, "著作權基本觀念").await;
        assert_eq!(copyright["facet"], json!("LEGAL"));
        assert_eq!(copyright["hours"], json!(1.0));
        assert_eq!(copyright["platformCode"], json!("10028195"));

        // The five courses after the D block of the source belong to D.
        let metaverse = only_course(&app, "元宇宙介紹").await;
        assert_eq!(metaverse["level"], json!("D"));
        assert_eq!(metaverse["hours"], json!(2.0));
        assert_eq!(metaverse["platformCode"], json!("4241"));

        // B continues after a page break with an empty first column.
        let c_plus = only_course(&app, "C 與 C++進階實戰：從介面設計到人工智慧應用(下)").await;
        assert_eq!(c_plus["level"], json!("B"));
    }
}

db_test! {
    async fn search_ignores_case_and_width(app) {
        assert_eq!(count(&app, json!({ "search": "python" })).await, 6);
        assert_eq!(count(&app, json!({ "search": "PYTHON" })).await, 6);
        assert_eq!(count(&app, json!({ "search": "ｐｙｔｈｏｎ" })).await, 6);
        assert_eq!(count(&app, json!({ "search": "power　bi" })).await, 3);
        assert_eq!(count(&app, json!({ "search": "全方位入門(一)" })).await, 1);
        assert_eq!(count(&app, json!({ "search": "ui_ux" })).await, 2);
        assert_eq!(count(&app, json!({ "search": "%" })).await, 0);
        assert_eq!(count(&app, json!({ "search": "no such course" })).await, 0);
    }
}

db_test! {
    async fn filters_combine(app) {
        assert_eq!(count(&app, json!({ "level": "C", "domain": "DATA_ANALYSIS" })).await, 5);
        assert_eq!(count(&app, json!({ "domain": "EMERGING_TECHNOLOGY" })).await, 6);
        assert_eq!(count(&app, json!({ "facet": "LEGAL", "platform": "HRD_ELEARN" })).await, 2);
        assert_eq!(count(&app, json!({ "facet": "POLICY", "search": "數位" })).await, 6);
        assert_eq!(count(&app, json!({ "facet": "POLICY", "level": "B" })).await, 0);
    }
}

const PAGE: &str = r#"query($first: Int, $after: String) {
  courses(first: $first, after: $after) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"#;

db_test! {
    async fn pages_lose_and_repeat_nothing(app) {
        let mut seen: Vec<i64> = Vec::new();
        let mut after: Value = Value::Null;
        let mut pages = 0;
        loop {
            let data = app.data(PAGE, json!({ "first": 7, "after": after })).await;
            let page = &data["courses"];
            assert_eq!(page["totalCount"], json!(54));
            assert_eq!(page["pageInfo"]["hasPreviousPage"], json!(pages > 0));
            for edge in page["edges"].as_array().expect("edges") {
                seen.push(edge["node"]["id"].as_str().expect("id").parse().expect("numeric id"));
            }
            pages += 1;
            if page["pageInfo"]["hasNextPage"] == json!(false) {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(pages, 8);
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(seen.len(), 54);
        assert_eq!(sorted, seen, "ids come once each, in order");
    }
}

db_test! {
    async fn refuses_bad_page_arguments(app) {
        let too_big = app.error(PAGE, json!({ "first": 101 })).await;
        assert_eq!(crate::helpers::code(&too_big), "BAD_USER_INPUT");
        assert_eq!(crate::helpers::fields(&too_big), ["first"]);

        let negative = app.error(PAGE, json!({ "first": -1 })).await;
        assert_eq!(crate::helpers::code(&negative), "BAD_USER_INPUT");

        let forged = app.error(PAGE, json!({ "after": "not-a-cursor" })).await;
        assert_eq!(crate::helpers::code(&forged), "BAD_USER_INPUT");
        assert_eq!(crate::helpers::fields(&forged), ["after"]);

        let full = app.data(PAGE, json!({ "first": 100 })).await;
        assert_eq!(full["courses"]["edges"].as_array().map(Vec::len), Some(54));
    }
}

db_test! {
    async fn lists_facets_and_the_technical_grid(app) {
        let data = app.data(
            "{ facets { code nameZh topics } technicalDomains { code nameZh levels { level topics } } }",
            json!({}),
        ).await;

        let facets = data["facets"].as_array().expect("facets");
        assert_eq!(facets.len(), 5);
        assert_eq!(facets[1], json!({ "code": "MANAGEMENT", "nameZh": "管理面", "topics": ["資訊管理概論", "軟體委外專案管理"] }));
        assert_eq!(facets[2]["topics"].as_array().map(Vec::len), Some(6));

        let domains = data["technicalDomains"].as_array().expect("domains");
        assert_eq!(domains.len(), 7);
        let apps = domains.iter().find(|d| d["code"] == json!("SOFTWARE_APPLICATIONS")).expect("software applications");
        assert_eq!(apps["nameZh"], json!("軟體應用"));
        assert_eq!(apps["levels"][0], json!({ "level": "A", "topics": [] }));
        let dev = domains.iter().find(|d| d["code"] == json!("DEVELOPMENT")).expect("development");
        assert_eq!(dev["levels"][2]["topics"], json!(["基礎程式語言設計", "基礎前端開發工具", "基礎色彩學", "基礎行動應用軟體開發"]));
        let emerging = domains.iter().find(|d| d["code"] == json!("EMERGING_TECHNOLOGY")).expect("emerging");
        assert_eq!(emerging["levels"][3]["topics"].as_array().map(Vec::len), Some(4));
    }
}

db_test! {
    async fn finds_a_course_by_id(app) {
        let data = app.data(r#"{ course(id: "1") { title } missing: course(id: "9999") { title } }"#, json!({})).await;
        assert_eq!(data["course"]["title"], json!("淺談 e 化數位治理"));
        assert_eq!(data["missing"], Value::Null);

        let error = app.error(r#"{ course(id: "abc") { title } }"#, json!({})).await;
        assert_eq!(crate::helpers::code(&error), "BAD_USER_INPUT");
    }
}
