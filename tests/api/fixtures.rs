//! A small organisation with hand-checked standings, shared by the compliance,
//! report and job tests.

use chrono::{NaiveDate, Utc};
use entity::{Facet, Level, Platform, SecurityCategory, completion, course, person};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::helpers::TestApp;

const UNITS: &str = "unit_code,name,parent_code,security_level,level_since
AG1,臺北市政府測試局,,B,2020-01-01
AG1-SUB,測試局資訊科,AG1,,
AG2,臺北市立測試國中,,D,2020-01-01
";

const PEOPLE: &str =
    "employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on,technical_background,language
S1,陳主管,s1@example.gov.tw,AG1,it_supervisor,,2020-01-01,,yes,
P1,林小明,p1@example.gov.tw,AG1-SUB,it_staff,S1,2020-01-01,,,
P2,王大同,p2@example.gov.tw,AG1-SUB,it_staff,S1,2020-01-01,,,
P3,張離職,p3@example.gov.tw,AG1-SUB,it_staff,S1,2020-01-01,2026-02-01,,
P4,Mary Lee,p4@example.edu.tw,AG2,security_officer,,2020-01-01,,,en
";

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// What a completion counts toward: its facet, level and security category.
pub type Counts = (Option<Facet>, Option<Level>, Option<SecurityCategory>);

pub async fn completed(
    app: &TestApp,
    no: &str,
    title: &str,
    hours: i32,
    on: NaiveDate,
    (facet, level, category): Counts,
) {
    let person = person::Entity::find()
        .filter(person::Column::EmployeeNo.eq(no))
        .one(&app.db)
        .await
        .expect("query")
        .expect("person");
    completion::ActiveModel {
        person_id: Set(person.id),
        course_id: Set(None),
        course_key: Set(format!("title:{title}")),
        title: Set(title.to_string()),
        centihours: Set(hours * 100),
        completed_on: Set(on),
        platform: Set(Platform::Other),
        facet: Set(facet),
        level: Set(level),
        security_category: Set(category),
        source: Set("test".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert completion");
}

/// Records that the person took the catalog course of this title, as an
/// import that matched the catalog would.
pub async fn took_course(app: &TestApp, no: &str, title: &str, on: NaiveDate) {
    let course = course::Entity::find()
        .filter(course::Column::Title.eq(title))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a catalog course of that title");
    let person = person::Entity::find()
        .filter(person::Column::EmployeeNo.eq(no))
        .one(&app.db)
        .await
        .expect("query")
        .expect("person");
    completion::ActiveModel {
        person_id: Set(person.id),
        course_id: Set(Some(course.id)),
        course_key: Set(format!("course:{}", course.id)),
        title: Set(course.title),
        centihours: Set(course.centihours),
        completed_on: Set(on),
        platform: Set(course.platform),
        facet: Set(Some(course.facet)),
        level: Set(course.level),
        security_category: Set(course.security_category),
        source: Set("test".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert completion");
}

/// S1 supervises P1, P2 and P3 in agency AG1 (level B); P4 is a security
/// officer of school AG2 (level D) who reads English. P2 has done everything,
/// P1 one hour of policy, S1 and P4 nothing; P3 left before the quarter ended.
pub async fn scenario(app: &TestApp) {
    let import = "mutation($u: String!, $p: String!) { units: importUnits(csv: $u) { created } people: importPeople(csv: $p) { created } }";
    let data = app.data(import, json!({ "u": UNITS, "p": PEOPLE })).await;
    assert_eq!(data, json!({ "units": { "created": 3 }, "people": { "created": 5 } }));

    use Facet::*;
    completed(app, "P1", "政策講座", 1, day(2026, 2, 10), (Some(Policy), None, None)).await;
    completed(app, "P2", "政策講座", 3, day(2026, 1, 10), (Some(Policy), None, None)).await;
    completed(
        app,
        "P2",
        "管理講座",
        6,
        day(2026, 2, 1),
        (Some(Management), None, None),
    )
    .await;
    completed(app, "P2", "法規講座", 3, day(2026, 2, 2), (Some(Legal), None, None)).await;
    completed(
        app,
        "P2",
        "基礎程式",
        8,
        day(2026, 3, 1),
        (Some(Technical), Some(Level::C), None),
    )
    .await;
    completed(
        app,
        "P2",
        "資安專業",
        3,
        day(2025, 11, 1),
        (None, None, Some(SecurityCategory::Professional)),
    )
    .await;
    completed(
        app,
        "P2",
        "資安通識",
        3,
        day(2026, 3, 2),
        (None, None, Some(SecurityCategory::General)),
    )
    .await;
}
