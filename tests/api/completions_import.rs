//! The completions import, called as a Rust function on the test database:
//! the example files, matching the catalog, the catalog winning, once-only
//! records, re-imports, every refused row (all or nothing), dry runs and
//! mappings; and the CLI's `import completions --mapping`.

use std::process::Command;

use chrono::NaiveDate;
use entity::{Facet, Level, Platform, SecurityCategory, completion, course, person};
use learnmap::catalog::{self, CoursePatch};
use learnmap::compliance::completions::{Mapping, completions_of, import_completions};
use learnmap::error::{Error, FieldError};
use learnmap::personnel::import::{Action, ImportOptions, ImportReport, import_people, import_units};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::db_test;
use crate::helpers::TestApp;

const UNITS: &str = include_str!("../../examples/units.csv");
const PEOPLE: &str = include_str!("../../examples/people.csv");
const COMPLETIONS: &str = include_str!("../../examples/completions.csv");
const HRD_EXPORT: &str = include_str!("../../examples/elearn-hrd-export.csv");
const HRD_MAPPING: &str = include_str!("../../examples/mappings/elearn-hrd.toml");

const HEADER: &str = "employee_no,course_code,course_title,platform,facet,level,security_category,hours,completed_on";

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a date")
}

fn options(dry_run: bool) -> ImportOptions {
    ImportOptions {
        dry_run,
        today: ymd(2026, 12, 1),
        actor: learnmap::audit::Actor::admin(),
        source: None,
    }
}

/// Imports the example units and people.
async fn setup(app: &TestApp) {
    import_units(&app.db, UNITS, options(false)).await.expect("units");
    import_people(&app.db, PEOPLE, options(false)).await.expect("people");
}

fn csv(rows: &[&str]) -> String {
    let mut text = format!("{HEADER}\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

async fn import(app: &TestApp, text: &str, mapping: Option<&Mapping>) -> ImportReport {
    import_completions(&app.db, text, mapping, options(false))
        .await
        .expect("the file is accepted")
}

/// Imports a file that must be refused; returns `(row, field)` of each error.
async fn refused(app: &TestApp, text: &str, mapping: Option<&Mapping>) -> Vec<FieldError> {
    match import_completions(&app.db, text, mapping, options(false)).await {
        Err(Error::BadInput(errors)) => errors,
        other => panic!("expected the file to be refused, got {other:?}"),
    }
}

fn places(errors: &[FieldError]) -> Vec<(Option<usize>, &str)> {
    errors.iter().map(|e| (e.row, e.field.as_str())).collect()
}

fn counts(report: &ImportReport) -> (usize, usize, usize, usize) {
    (report.rows, report.created, report.updated, report.unchanged)
}

async fn total(app: &TestApp) -> u64 {
    completion::Entity::find().count(&app.db).await.expect("count")
}

async fn person_id(app: &TestApp, employee_no: &str) -> i32 {
    person::Entity::find()
        .filter(person::Column::EmployeeNo.eq(employee_no))
        .one(&app.db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("{employee_no} exists"))
        .id
}

/// A person's completions over 2025 and 2026.
async fn stored(app: &TestApp, employee_no: &str) -> Vec<completion::Model> {
    let id = person_id(app, employee_no).await;
    completions_of(&app.db, id, ymd(2025, 1, 1), ymd(2026, 12, 31))
        .await
        .expect("completions")
}

async fn catalog_course(app: &TestApp, title: &str) -> course::Model {
    course::Entity::find()
        .filter(course::Column::Title.eq(title))
        .one(&app.db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("the catalog has {title}"))
}

// ---------------------------------------------------------------------------
// The example files

db_test! {
    async fn loads_the_example_files(app) {
        setup(&app).await;

        let report = import(&app, COMPLETIONS, None).await;
        assert_eq!(counts(&report), (266, 266, 0, 0));
        assert!(report.changes.iter().all(|c| c.action == Action::Created));
        assert_eq!(total(&app).await, 266);

        let again = import(&app, COMPLETIONS, None).await;
        assert_eq!(counts(&again), (266, 0, 0, 266));
        assert!(again.changes.is_empty());

        let mapping = Mapping::parse(HRD_MAPPING).expect("the example mapping is valid");
        let export = import(&app, HRD_EXPORT, Some(&mapping)).await;
        assert_eq!(counts(&export), (9, 7, 0, 2), "two rows repeat completions.csv");
        assert_eq!(total(&app).await, 273);

        // The catalog's level D wins over the row's C.
        let database = catalog_course(&app, "資料庫概論").await;
        let e10011 = stored(&app, "E10011").await;
        let row = e10011
            .iter()
            .find(|c| c.completed_on == ymd(2026, 5, 6))
            .expect("E10011's 資料庫概論");
        assert_eq!((row.course_id, row.level), (Some(database.id), Some(Level::D)));

        // The course link of E10013's row.
        let link = catalog_course(&app, "資安政策法規遵循教育訓練").await;
        assert!(stored(&app, "E10013").await.iter().any(|c| c.course_id == Some(link.id)));

        // The export's security codes.
        let e10014 = stored(&app, "E10014").await;
        let professional = e10014
            .iter()
            .find(|c| c.completed_on == ymd(2026, 4, 21))
            .expect("E10014's export row");
        assert_eq!(professional.security_category, Some(SecurityCategory::Professional));
        assert_eq!((professional.facet, professional.platform), (None, Platform::HrdElearn));
        assert_eq!(professional.source, "import");
    }
}

// ---------------------------------------------------------------------------
// Matching the catalog

db_test! {
    async fn matches_the_catalog_by_code_link_and_title(app) {
        setup(&app).await;
        let report = import(&app, &csv(&[
            "E10001,4237,,taipei_elearning,,,,3,2026-01-05",
            "E10001,64a21e6d134e641677a071424a262eca,,,,,,3,2026-01-06",
            "E10001,https://elearn.hrd.gov.tw/info/10028195,,,,,,1,2026-01-07",
            "E10001,,ＰＯＷＥＲ　ｂｉ 全方位入門（一）：數據視覺化,,,,,3,2026-01-08",
            "E10001,,ssdlc概論,臺北e大,,,,3,2026-01-09",
            "E10001,9999,Python 數值分析規劃與計算,,,,,2,2026-01-10",
        ]), None).await;
        assert_eq!(counts(&report), (6, 6, 0, 0));
        let details: Vec<&str> = report.changes.iter().map(|c| c.detail.as_str()).collect();
        assert!(details[0].ends_with("(by course code)"), "{details:?}");
        assert!(details[3].ends_with("(by title)"), "{details:?}");

        let expected = [
            "資料庫概論",
            "C 與 C++進階實戰：從介面設計到人工智慧應用(上)",
            "著作權基本觀念(公務員篇)",
            "Power BI 全方位入門（一）：數據視覺化",
            "SSDLC 概論",
            "Python 數值分析規劃與計算",
        ];
        let rows = stored(&app, "E10001").await;
        assert_eq!(rows.len(), 6);
        for (row, title) in rows.iter().zip(expected) {
            let course = catalog_course(&app, title).await;
            assert_eq!(row.course_id, Some(course.id), "{title}");
            assert_eq!(row.course_key, format!("course:{}", course.id));
            assert_eq!(row.title, course.title, "the catalog's title is recorded");
            assert_eq!(row.platform, course.platform, "{title}");
            assert_eq!((row.facet, row.level), (Some(course.facet), course.level), "{title}");
        }
        assert_eq!(rows[3].centihours, 300);
        assert_eq!(rows[3].platform, Platform::HrdElearn, "a blank platform comes from the catalog");
    }
}

db_test! {
    async fn a_title_on_another_platform_is_an_outside_course(app) {
        setup(&app).await;
        // 資料庫概論 is a 臺北e大 course; on e等公務園 it is another course.
        import(&app, &csv(&["E10002,,資料庫概論,hrd_elearn,technical,C,,3,2026-02-01"]), None).await;
        let rows = stored(&app, "E10002").await;
        assert_eq!(rows[0].course_id, None);
        assert_eq!(rows[0].course_key, "title:資料庫概論");
        assert_eq!((rows[0].platform, rows[0].level), (Platform::HrdElearn, Some(Level::C)));

        // A course code on another platform is not a match either.
        let errors = refused(&app, &csv(&["E10002,4237,,hrd_elearn,,,,3,2026-02-02"]), None).await;
        assert_eq!(places(&errors), [(Some(2), "course_code")]);
    }
}

db_test! {
    async fn the_catalogs_facet_level_and_security_category_win(app) {
        setup(&app).await;
        let incident = catalog_course(&app, "資安事件處理與應變").await;
        catalog::update_course(&app.db, incident.id, CoursePatch {
            security_category: Some(Some(SecurityCategory::General)),
            ..Default::default()
        }, &learnmap::audit::Actor::admin())
        .await
        .expect("update");

        import(&app, &csv(&[
            "E10003,4237,,taipei_elearning,技術面,A,,3,2026-03-01",
            "E10003,,資訊管理概論,,法制,,,3,2026-03-02",
            "E10003,4336,,,,,,3,2026-03-03",
            "E10003,4336,,,,,professional,3,2026-03-04",
            "E10003,4234,,,security,,522,3,2026-03-05",
        ]), None).await;
        let rows = stored(&app, "E10003").await;
        let facts: Vec<_> = rows.iter().map(|c| (c.facet, c.level, c.security_category)).collect();
        assert_eq!(facts, [
            (Some(Facet::Technical), Some(Level::D), None),
            (Some(Facet::Management), None, None),
            (Some(Facet::Policy), None, Some(SecurityCategory::General)),
            // The row says professional; the course is general education.
            (Some(Facet::Policy), None, Some(SecurityCategory::General)),
            // A course the catalog gives no category takes the platform's tag.
            (Some(Facet::Management), None, Some(SecurityCategory::General)),
        ]);
    }
}

db_test! {
    async fn outside_courses_keep_their_own_facts(app) {
        setup(&app).await;
        import(&app, &csv(&[
            "E10004,,AWS 認證培訓,,technical,A,,12,2026-04-01",
            "E10004,,資通安全通識教育訓練,,資安,,通識,3,2026-04-02",
            "E10004,,資安職能訓練,,,,523,6,2026-04-03",
            "E10004,,政府採購法規研習,e等公務園,法制面,,,2.5,2026-04-04",
        ]), None).await;
        let rows = stored(&app, "E10004").await;
        let facts: Vec<_> = rows
            .iter()
            .map(|c| (c.course_key.as_str(), c.platform, c.facet, c.level, c.security_category, c.centihours))
            .collect();
        assert_eq!(facts, [
            ("title:aws 認證培訓", Platform::Other, Some(Facet::Technical), Some(Level::A), None, 1200),
            ("title:資通安全通識教育訓練", Platform::Other, None, None, Some(SecurityCategory::General), 300),
            ("title:資安職能訓練", Platform::Other, None, None, Some(SecurityCategory::Professional), 600),
            ("title:政府採購法規研習", Platform::HrdElearn, Some(Facet::Legal), None, None, 250),
        ]);
        assert!(rows.iter().all(|c| c.course_id.is_none() && c.source == "import"));
    }
}

// ---------------------------------------------------------------------------
// Once only

db_test! {
    async fn the_same_completion_twice_in_a_file_is_recorded_once(app) {
        setup(&app).await;
        let report = import(&app, &csv(&[
            "E10005,4237,,taipei_elearning,,,,3,2026-05-01",
            "e10005,,資料庫概論,,,,,3,115/05/01",
            "E10005,,Outside Course,,policy,,,2,2026-05-02",
            "E10005,,ＯＵＴＳＩＤＥ　course,other,policy,,,2,2026-05-02",
            "E10005,,Outside Course,,policy,,,2,2026-05-03",
        ]), None).await;
        assert_eq!(counts(&report), (5, 3, 0, 2));
        let rows: Vec<usize> = report.changes.iter().map(|c| c.row).collect();
        assert_eq!(rows, [2, 4, 6], "the later duplicates are unchanged");
        assert_eq!(stored(&app, "E10005").await.len(), 3);
    }
}

db_test! {
    async fn the_same_completion_twice_with_other_hours_is_refused(app) {
        setup(&app).await;
        let text = csv(&[
            "E10005,,Outside Course,,policy,,,2,2026-05-02",
            "E10005,,outside course,,policy,,,3,2026-05-02",
            "E10005,,Other Course,,policy,,,1,2026-05-03",
            "E10005,,other course,,legal,,,1,2026-05-03",
        ]);
        let errors = refused(&app, &text, None).await;
        assert_eq!(places(&errors), [(Some(3), "hours"), (Some(5), "facet")]);
        assert!(errors[0].reason.contains("row 2"), "{}", errors[0].reason);
        assert_eq!(total(&app).await, 0);

        let dry = import_completions(&app.db, &text, None, options(true)).await;
        assert!(matches!(dry, Err(Error::BadInput(_))), "a dry run refuses it too: {dry:?}");
    }
}

db_test! {
    async fn an_unknown_column_does_not_hide_the_rows_errors(app) {
        setup(&app).await;
        let text = format!(
            "{HEADER},note\n\
             E10005,,Outside Course,,policy,,,two,2026-05-02,x\n\
             E99999,,Outside Course,,policy,,,2,2026-05-02,\n\
             E10005,,Other Course,,policy,,,1,2026-05-03,,y\n\
             E10005,,Same Course,,policy,,,2,2026-05-04,\n\
             E10005,,same course,,legal,,,2,2026-05-04,\n"
        );
        let errors = refused(&app, &text, None).await;
        assert_eq!(places(&errors), [
            (Some(1), "header"),
            (Some(2), "hours"),
            (Some(3), "employee_no"),
            (Some(4), "cells"),
            (Some(6), "facet"),
        ]);
        assert!(errors[0].reason.starts_with("\"note\" is not a known column"), "{}", errors[0].reason);
        assert_eq!(total(&app).await, 0);
    }
}

db_test! {
    async fn a_reimport_changes_nothing_and_a_correction_updates(app) {
        setup(&app).await;
        let first = csv(&[
            "E10006,4237,,taipei_elearning,,,,3,2026-06-01",
            "E10006,,Kubernetes 實務,,technical,B,,6,2026-06-02",
        ]);
        import(&app, &first, None).await;
        let before = stored(&app, "E10006").await;

        let again = import(&app, &first, None).await;
        assert_eq!(counts(&again), (2, 0, 0, 2));
        assert_eq!(stored(&app, "E10006").await, before);

        let corrected = csv(&[
            "E10006,,資料庫概論,,,,,2.5,2026-06-01",
            "E10006,,kubernetes 實務,,technical,B,523,6,2026-06-02",
        ]);
        let report = import(&app, &corrected, None).await;
        assert_eq!(counts(&report), (2, 0, 2, 0));
        assert_eq!(report.changes[0].detail, "hours 3 → 2.5");
        assert_eq!(
            report.changes[1].detail,
            "title Kubernetes 實務 → kubernetes 實務; security_category (none) → professional"
        );
        let after = stored(&app, "E10006").await;
        assert_eq!((after[0].id, after[0].centihours), (before[0].id, 250));
        assert_eq!(after[1].security_category, Some(SecurityCategory::Professional));
        assert_eq!(after.len(), 2);
    }
}

// ---------------------------------------------------------------------------
// Refused files

db_test! {
    async fn every_bad_row_is_reported_and_nothing_is_written(app) {
        setup(&app).await;
        let text = csv(&[
            "E10007,4237,,taipei_elearning,,,,3,2026-01-05",
            "E99999,4237,,,,,,3,2026-01-05",
            "E10007,,,taipei_elearning,,,,3,2026-01-05",
            "E10007,9999,,taipei_elearning,,,,3,2026-01-05",
            "E10007,,外部課程,,,,,3,2026-01-05",
            "E10007,,外部技術課程,,technical,,,3,2026-01-05",
            "E10007,,外部資安課程,,security,,,3,2026-01-05",
            "E10007,4237,,,,,,3,2026-02-30",
            "E10007,4237,,,,,,3,2026-12-02",
            "E10007,4237,,,,,,0,2026-01-05",
            "E10007,4237,,,,,,40.5,2026-01-05",
            "E10007,4237,,,,,,兩小時,2026-01-05",
            "E10007,4237,,moodle,,,,3,2026-01-05",
            "E10007,,外部課程,,science,,,3,2026-01-05",
            "E10007,,外部課程,,technical,E,,3,2026-01-05",
            "E10007,,外部課程,,policy,,524,3,2026-01-05",
            "E10007,,外部課程,,policy,B,,3,2026-01-05",
            "E10007,4233,,,,,,3,2026-01-05",
        ]);
        let errors = refused(&app, &text, None).await;
        assert_eq!(places(&errors), [
            (Some(3), "employee_no"),
            (Some(4), "course_title"),
            (Some(5), "course_code"),
            (Some(6), "facet"),
            (Some(7), "level"),
            (Some(8), "security_category"),
            (Some(9), "completed_on"),
            (Some(10), "completed_on"),
            (Some(11), "hours"),
            (Some(12), "hours"),
            (Some(13), "hours"),
            (Some(14), "platform"),
            (Some(15), "facet"),
            (Some(16), "level"),
            (Some(17), "security_category"),
            (Some(18), "level"),
        ], "{errors:#?}");
        assert_eq!(total(&app).await, 0, "the good row is not written either");

        let reason = |row: usize| errors.iter().find(|e| e.row == Some(row)).map(|e| e.reason.as_str()).unwrap_or("");
        assert_eq!(reason(3), "no person has employee number E99999; import people first");
        assert_eq!(reason(10), "2026-12-02 is in the future (today is 2026-12-01)");
        assert!(reason(5).starts_with("no catalog course has the code \"9999\" on platform taipei_elearning"), "{}", reason(5));

        let hidden = csv(&["E10007,,外部\u{202E}課程,,policy,,,3,2026-01-05", "E10007,,外部\u{7F}課程,,policy,,,3,2026-01-05"]);
        let errors = refused(&app, &hidden, None).await;
        assert_eq!(places(&errors), [(Some(2), "course_title"), (Some(3), "course_title")]);
        assert_eq!(errors[0].reason, "holds the invisible formatting character U+202E; a title is one line of text");
        assert_eq!(errors[1].reason, "holds the control character U+007F; a title is one line of text");

        // 4233 is no course code on two platforms here, so the last row was
        // fine; a file of only good rows goes in.
        let good = csv(&["E10007,4237,,taipei_elearning,,,,3,2026-01-05"]);
        assert_eq!(counts(&import(&app, &good, None).await), (1, 1, 0, 0));
    }
}

db_test! {
    async fn header_problems_are_reported(app) {
        setup(&app).await;
        let errors = refused(&app, "employee_no,course_title,hours,note\nE10001,資料庫概論,3,x\n", None).await;
        assert_eq!(places(&errors), [(Some(1), "header"), (Some(1), "completed_on")]);
    }
}

// ---------------------------------------------------------------------------
// Dry runs

db_test! {
    async fn a_dry_run_reports_and_writes_nothing(app) {
        setup(&app).await;
        let text = csv(&[
            "E10008,4237,,taipei_elearning,,,,3,2026-01-05",
            "E10008,,資料庫概論,,,,,3,2026-01-05",
            "E10008,,外部課程,,policy,,,1.5,2026-01-06",
        ]);
        let dry = import_completions(&app.db, &text, None, options(true)).await.expect("accepted");
        assert!(dry.dry_run);
        assert_eq!(counts(&dry), (3, 2, 0, 1));
        assert_eq!(total(&app).await, 0);

        let real = import(&app, &text, None).await;
        assert!(!real.dry_run);
        assert_eq!(counts(&real), counts(&dry));
        assert_eq!(real.changes, dry.changes, "the dry run reported exactly what the import does");
        assert_eq!(total(&app).await, 2);

        // A dry run of a refused file is refused the same way.
        let bad = csv(&["E99999,4237,,,,,,3,2026-01-05"]);
        assert!(matches!(
            import_completions(&app.db, &bad, None, options(true)).await,
            Err(Error::BadInput(_))
        ));
    }
}

// ---------------------------------------------------------------------------
// The forms files come in

db_test! {
    async fn reads_chinese_headers_big5_and_full_width_cells(app) {
        setup(&app).await;
        let text = "員工編號,課程代碼,課程名稱,學習平臺,面向,等級,課程類別,學習時數,學習完成日期\r\n\
                    Ｅ１０００９,４２３７,,臺北e大,,,,３,１１５／０３／１５\r\n\
                    E10009,,零基礎學 Python：從入門到活用(上),e等公務園+學習平臺,,,,3,115.3.16\r\n\
                    E10009,,資通安全通識,,資安面,,通識,1.5,民國115年3月17日\r\n";
        let (big5, _, unmappable) = encoding_rs::BIG5.encode(text);
        assert!(!unmappable);
        let decoded = learnmap::import::decode(&big5).expect("Big5 decodes");

        let report = import(&app, &decoded, None).await;
        assert_eq!(counts(&report), (3, 3, 0, 0));
        let rows = stored(&app, "E10009").await;
        let dates: Vec<NaiveDate> = rows.iter().map(|c| c.completed_on).collect();
        assert_eq!(dates, [ymd(2026, 3, 15), ymd(2026, 3, 16), ymd(2026, 3, 17)]);
        assert!(rows[0].course_id.is_some() && rows[1].course_id.is_some());
        assert_eq!(rows[2].security_category, Some(SecurityCategory::General));
        assert_eq!(rows[2].centihours, 150);
    }
}

// ---------------------------------------------------------------------------
// Mappings

const EXPORT_MAPPING: &str = r#"
[columns]
employee_no = "人員代號"
course_title = "課程名稱"
hours = "認證時數"
completed_on = "完成日期"
security_category = "課程類別代碼"

[values.security_category]
"522" = "general"
"523" = "professional"

[defaults]
platform = "hrd_elearn"
"#;

db_test! {
    async fn a_mapping_reads_an_export_with_522_and_523(app) {
        setup(&app).await;
        let mapping = Mapping::parse(EXPORT_MAPPING).expect("valid");
        let export = "序號,人員代號,姓名,課程名稱,課程類別,課程類別代碼,學習時數,認證時數,完成日期\n\
                      1,E10010,楊欣怡,資通安全通識教育訓練(數位),資通安全,522,3.2,3,115/02/10\n\
                      2,E10010,楊欣怡,資安職能訓練：弱點掃描,資通安全,523,6.4,6,115/02/11\n\
                      3,E10010,楊欣怡,政府數位轉型新視界,政策,,1.1,1,115/02/12\n\
                      4,E10010,楊欣怡,112 年一般人員及主管資通安全通識教育訓練 -個人資訊安全與個人資料保護,資通安全,522,3,3,115/02/13\n";
        let report = import(&app, export, Some(&mapping)).await;
        assert_eq!(counts(&report), (4, 4, 0, 0));

        let rows = stored(&app, "E10010").await;
        let facts: Vec<_> = rows
            .iter()
            .map(|c| (c.course_id.is_some(), c.platform, c.facet, c.security_category, c.centihours))
            .collect();
        assert_eq!(facts, [
            (false, Platform::HrdElearn, None, Some(SecurityCategory::General), 300),
            (false, Platform::HrdElearn, None, Some(SecurityCategory::Professional), 600),
            (true, Platform::HrdElearn, Some(Facet::Policy), None, 100),
            (true, Platform::HrdElearn, Some(Facet::Legal), Some(SecurityCategory::General), 300),
        ]);

        // Without the mapping the export is refused: its headers are unknown.
        let errors = refused(&app, export, None).await;
        assert!(errors.iter().any(|e| e.field == "header"), "{errors:?}");
    }
}

db_test! {
    async fn a_mapping_with_unknown_codes_refuses_rows_it_cannot_place(app) {
        setup(&app).await;
        let mapping = Mapping::parse(EXPORT_MAPPING).expect("valid");
        // 101 is a platform category, not a security one; the course is not
        // in the catalog on e等公務園, so nothing says what it counts toward.
        let export = "人員代號,課程名稱,課程類別代碼,認證時數,完成日期\nE10010,外部課程,101,2,115/02/10\n";
        let errors = refused(&app, export, Some(&mapping)).await;
        assert_eq!(places(&errors), [(Some(2), "security_category")]);

        let text = EXPORT_MAPPING.replace("\"523\" = \"professional\"", "\"523\" = \"professional\"\n\"*\" = \"\"");
        let mapping = Mapping::parse(&text).expect("valid");
        let errors = refused(&app, export, Some(&mapping)).await;
        assert_eq!(places(&errors), [(Some(2), "facet")], "101 now reads as no category");
    }
}

db_test! {
    async fn bad_mappings_and_missing_mapped_columns_are_refused(app) {
        setup(&app).await;
        for text in ["[columns\n", "[columns]\nstaff = \"人員代號\"\n", "[values.platform]\n\"x\" = \"moodle\"\n"] {
            match Mapping::parse(text) {
                Err(Error::BadInput(errors)) => {
                    assert!(errors.iter().all(|e| e.field == "mapping" && e.row.is_none()), "{errors:?}");
                }
                other => panic!("{text}: expected a mapping error, got {other:?}"),
            }
        }

        let mapping = Mapping::parse(EXPORT_MAPPING).expect("valid");
        let export = "員工編號,課程名稱,認證時數,完成日期\nE10010,資料庫概論,3,2026-01-05\n";
        let errors = refused(&app, export, Some(&mapping)).await;
        assert_eq!(places(&errors), [(Some(1), "employee_no")]);
        assert!(errors[0].reason.contains("the mapping names it \"人員代號\""), "{}", errors[0].reason);
        assert_eq!(total(&app).await, 0);
    }
}

// ---------------------------------------------------------------------------
// Reading completions back

db_test! {
    async fn completions_of_lists_a_window_by_date_then_id(app) {
        setup(&app).await;
        import(&app, &csv(&[
            "E10012,,外部課程 C,,policy,,,1,2026-03-01",
            "E10012,,外部課程 A,,policy,,,1,2025-12-31",
            "E10012,,外部課程 B,,policy,,,1,2026-01-01",
            "E10012,,外部課程 D,,policy,,,1,2026-01-01",
            "E10012,,外部課程 E,,policy,,,1,2026-12-01",
            "E10013,,外部課程 A,,policy,,,1,2026-01-01",
        ]), None).await;
        let id = person_id(&app, "E10012").await;
        let rows = completions_of(&app.db, id, ymd(2026, 1, 1), ymd(2026, 12, 1)).await.expect("list");
        let titles: Vec<&str> = rows.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["外部課程 B", "外部課程 D", "外部課程 C", "外部課程 E"]);
        assert!(rows[0].id < rows[1].id);
        assert!(completions_of(&app.db, id, ymd(2027, 1, 1), ymd(2027, 12, 31)).await.expect("list").is_empty());
    }
}

// ---------------------------------------------------------------------------
// The command line

fn learnmap(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_learnmap"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run learnmap")
}

#[test]
fn the_cli_imports_completions_with_and_without_a_mapping() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let run = |args: &[&str]| {
        let output = learnmap(&url, args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    };
    let last = |text: &str| text.lines().last().unwrap_or("").to_string();

    assert!(run(&["import", "units", "examples/units.csv"]).0);
    assert!(run(&["import", "people", "examples/people.csv"]).0);

    let (ok, _, stderr) = run(&[
        "import",
        "people",
        "examples/people.csv",
        "--mapping",
        "examples/mappings/elearn-hrd.toml",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("--mapping applies only to `import completions`"),
        "{stderr}"
    );

    let (ok, stdout, stderr) = run(&["import", "completions", "examples/completions.csv", "--dry-run"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        last(&stdout),
        "266 rows: 266 would be created, 0 would be updated, 0 unchanged (dry run: nothing written)"
    );

    let (ok, stdout, stderr) = run(&["import", "completions", "examples/completions.csv"]);
    assert!(ok, "{stderr}");
    assert_eq!(last(&stdout), "266 rows: 266 created, 0 updated, 0 unchanged");

    let mapped = [
        "import",
        "completions",
        "examples/elearn-hrd-export.csv",
        "--mapping",
        "examples/mappings/elearn-hrd.toml",
    ];
    let (ok, stdout, stderr) = run(&mapped);
    assert!(ok, "{stderr}");
    assert_eq!(last(&stdout), "9 rows: 7 created, 0 updated, 2 unchanged");

    let (ok, _, stderr) = run(&["import", "completions", "examples/elearn-hrd-export.csv"]);
    assert!(!ok, "the export needs its mapping");
    assert!(stderr.contains("rejected"), "{stderr}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[columns]\nstaff = \"人員代號\"\n").expect("write");
    let bad = bad.to_str().expect("utf-8 path");
    let (ok, _, stderr) = run(&[
        "import",
        "completions",
        "examples/elearn-hrd-export.csv",
        "--mapping",
        bad,
    ]);
    assert!(!ok);
    assert!(stderr.contains("mapping: columns.staff:"), "{stderr}");
}

db_test! {
    async fn a_leaving_date_before_stored_completions_is_refused(app) {
        setup(&app).await;
        import(&app, COMPLETIONS, None).await;
        let header = PEOPLE.lines().next().expect("header");
        let e10001 = PEOPLE.lines().find(|l| l.starts_with("E10001,")).expect("E10001");
        let leaving = |left: &str| {
            // left_on is the eighth column of the example file.
            let mut cells: Vec<&str> = e10001.split(',').collect();
            cells[7] = left;
            format!("{header}\n{}\n", cells.join(","))
        };

        // E10001's last completion in the examples is on 2026-07-04.
        let refused = match import_people(&app.db, &leaving("2026-07-03"), options(false)).await {
            Err(Error::BadInput(errors)) => errors,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(places(&refused), [(Some(2), "left_on")]);
        assert_eq!(
            refused[0].reason,
            "2026-07-03 is before E10001's completion of 2026-07-04: a course done after leaving is not theirs; fix the date or that completion"
        );
        let stored = person::Entity::find().filter(person::Column::EmployeeNo.eq("E10001")).one(&app.db).await.expect("read");
        assert_eq!(stored.and_then(|p| p.left_on), None, "nothing written");

        // Their last day may be the day of the last course.
        let report = import_people(&app.db, &leaving("2026-07-04"), options(false)).await.expect("accepted");
        assert_eq!(report.updated, 1);
        assert_eq!(counts(&import_completions(&app.db, COMPLETIONS, None, options(true)).await.expect("the same file still imports")).0, 266);
    }
}
