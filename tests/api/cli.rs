//! The `learnmap` binary: `import units|people|evidence FILE [--dry-run]` and
//! `print-schema`, run for real on a SQLite file of their own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use async_graphql::Request;
use serde_json::{Value, json};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A temporary SQLite database for one test.
struct Db {
    dir: tempfile::TempDir,
}

impl Db {
    fn new() -> Db {
        Db {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.dir.path().join("x.db").display())
    }

    /// Writes a file next to the database and returns its path.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// Runs `learnmap --database-url <this> <args>`.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_learnmap"))
            .arg("--database-url")
            .arg(self.url())
            .args(args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0")
            .output()
            .expect("run learnmap")
    }

    /// Runs an import that must succeed and returns its stdout.
    fn import(&self, kind: &str, file: &Path, dry_run: bool) -> String {
        let path = file.to_str().expect("utf-8 path");
        let mut args = vec!["import", kind, path];
        if dry_run {
            args.push("--dry-run");
        }
        let output = self.run(&args);
        assert!(
            output.status.success(),
            "import {kind} failed: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// Queries the database over the same GraphQL schema the server runs.
    async fn query(&self, query: &str) -> Value {
        let db = learnmap::db::connect(&self.url()).await.expect("connect");
        learnmap::db::migrate(&db).await.expect("migrate");
        let schema = learnmap::graphql::schema(db.clone());
        let response = serde_json::to_value(
            schema
                .execute(Request::new(query).data(learnmap::graphql::Caller::admin()))
                .await,
        )
        .expect("json");
        db.close().await.expect("close");
        assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
        response["data"].clone()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

fn example(name: &str) -> PathBuf {
    Path::new(EXAMPLES).join(name)
}

fn last_line(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or("")
}

#[test]
fn imports_units_from_the_command_line() {
    let db = Db::new();

    let stdout = db.import("units", &example("units.csv"), false);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 13, "{stdout}");
    assert_eq!(lines[0], "row 2: create DDB: security level B from 2024-01-01");
    assert_eq!(lines[1], "row 3: create DDB-PLN");
    assert_eq!(lines[11], "row 13: create DST-JM-CIV");
    assert_eq!(last_line(&stdout), "12 rows: 12 created, 0 updated, 0 unchanged");
    assert!(stdout.ends_with("12 rows: 12 created, 0 updated, 0 unchanged\n"));

    let again = db.import("units", &example("units.csv"), false);
    assert_eq!(again, "12 rows: 0 created, 0 updated, 12 unchanged\n");
}

#[test]
fn imports_the_three_example_files_in_order() {
    let db = Db::new();
    db.import("units", &example("units.csv"), false);
    let people = db.import("people", &example("people.csv"), false);
    assert_eq!(last_line(&people), "36 rows: 36 created, 0 updated, 0 unchanged");
    let evidence = db.import("evidence", &example("evidence.csv"), false);
    assert_eq!(last_line(&evidence), "36 rows: 36 created, 0 updated, 0 unchanged");
}

#[test]
fn a_dry_run_writes_nothing() {
    let db = Db::new();

    let dry = db.import("units", &example("units.csv"), true);
    assert_eq!(
        dry.lines().next(),
        Some("row 2: create DDB: security level B from 2024-01-01")
    );
    assert_eq!(
        last_line(&dry),
        "12 rows: 12 would be created, 0 would be updated, 0 unchanged (dry run: nothing written)"
    );

    let real = db.import("units", &example("units.csv"), false);
    assert_eq!(last_line(&real), "12 rows: 12 created, 0 updated, 0 unchanged");
}

#[tokio::test]
async fn a_rejected_file_exits_non_zero_and_writes_nothing() {
    let db = Db::new();
    let file = Path::new(FIXTURES).join("units_rejected.csv");
    let path = file.to_str().expect("utf-8 path");

    let output = db.run(&["import", "units", path]);
    assert!(!output.status.success(), "a rejected file must fail");
    assert_ne!(output.status.code(), Some(0));
    assert_eq!(text(&output.stdout), "", "no report for a rejected file");

    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{path}: row ")))
        .collect();
    assert_eq!(
        errors,
        [
            format!("{path}: row 3, parent_code: unit NOPE does not exist"),
            format!(
                "{path}: row 4, security_level: only agencies (units without a parent) carry a security level; units below inherit it"
            ),
            format!("{path}: row 5, name: is required"),
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{path} rejected: 3 errors, nothing was written")),
        "{stderr}"
    );

    // Not even the good row (DDB) was written.
    assert_eq!(db.query("{ units { code } }").await, json!({ "units": [] }));
    let real = db.import("units", &example("units.csv"), false);
    assert_eq!(last_line(&real), "12 rows: 12 created, 0 updated, 0 unchanged");
}

#[test]
fn summaries_of_one_row_and_one_error_read_in_the_singular() {
    let db = Db::new();
    let one = db.file(
        "one-unit.csv",
        b"unit_code,name,parent_code,security_level,level_since\nORG,Test agency,,C,2024-01-01\n",
    );

    let dry = db.import("units", &one, true);
    assert_eq!(
        dry,
        "row 2: create ORG: security level C from 2024-01-01\n\
         1 row: 1 would be created, 0 would be updated, 0 unchanged (dry run: nothing written)\n"
    );
    let real = db.import("units", &one, false);
    assert_eq!(last_line(&real), "1 row: 1 created, 0 updated, 0 unchanged");

    let bad = db.file(
        "bad-unit.csv",
        b"unit_code,name,parent_code,security_level,level_since\nORG,,,C,2024-01-01\n",
    );
    let output = db.run(&["import", "units", bad.to_str().expect("utf-8 path")]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("{} rejected: 1 error, nothing was written", bad.display())),
        "{stderr}"
    );
}

#[test]
fn a_file_with_very_many_errors_prints_the_first_hundred_and_counts_the_rest() {
    let db = Db::new();
    let mut units = String::from("unit_code,name,parent_code\n");
    for n in 1..=101 {
        units.push_str(&format!("U{n},單位{n},NOPE\n"));
    }
    let file = db.file("many.csv", units.as_bytes());
    let path = file.to_str().expect("utf-8 path");

    let output = db.run(&["import", "units", path]);

    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    let listed: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&format!("{path}: "))).collect();
    assert_eq!(listed.len(), 101, "{stderr}");
    assert_eq!(
        listed[0],
        format!("{path}: row 2, parent_code: unit NOPE does not exist")
    );
    assert_eq!(
        listed[99],
        format!("{path}: row 101, parent_code: unit NOPE does not exist")
    );
    assert_eq!(
        listed[100],
        format!("{path}: and 1 more error not listed; fix these and check the file again")
    );
    assert!(
        stderr.contains(&format!("{path} rejected: 101 errors, nothing was written")),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_text_is_refused() {
    let db = Db::new();
    let utf16: Vec<u8> = "unit_code,name\nDDB,x\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let file = db.file("units-utf16.csv", &utf16);

    let output = db.run(&["import", "units", file.to_str().expect("utf-8 path")]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("the file is neither UTF-8 nor Big5 text"), "{stderr}");
}

#[tokio::test]
async fn reads_a_big5_people_file() {
    let db = Db::new();
    db.import("units", &example("units.csv"), false);

    let people = "員工編號,姓名,電子郵件,單位代碼,職務類別,直屬主管員工編號,到職日\r\n\
                  E10001,陳怡君,yijun.chen@mail.example.gov.tw,DDB,資訊主管人員,,97/08/01\r\n\
                  E10002,林志明,zhiming.lin@mail.example.gov.tw,DDB-PLN,資訊主管人員,E10001,99.2.1\r\n\
                  E10003,黃淑芬,shufen.huang@mail.example.gov.tw,DDB-PLN,資訊業務人員,E10002,2018/9/3\r\n";
    let (bytes, _, had_errors) = encoding_rs::BIG5.encode(people);
    assert!(!had_errors, "every character has a Big5 code");
    assert!(std::str::from_utf8(&bytes).is_err(), "the file is Big5, not UTF-8");
    let file = db.file("people-big5.csv", &bytes);

    let stdout = db.import("people", &file, false);
    assert_eq!(
        stdout,
        "row 2: create E10001\nrow 3: create E10002\nrow 4: create E10003\n3 rows: 3 created, 0 updated, 0 unchanged\n"
    );

    let data = db
        .query(
            r#"{ person(employeeNo: "E10003") {
              name joinedOn role(asOf: "2026-03-15") unit { name }
              supervisor { name joinedOn role(asOf: "2026-03-15") supervisor { name joinedOn } }
            } }"#,
        )
        .await;
    assert_eq!(
        data["person"],
        json!({
            "name": "黃淑芬", "joinedOn": "2018-09-03", "role": "IT_STAFF", "unit": { "name": "數位策略組" },
            "supervisor": {
                "name": "林志明", "joinedOn": "2010-02-01", "role": "IT_SUPERVISOR",
                "supervisor": { "name": "陳怡君", "joinedOn": "2008-08-01" }
            }
        })
    );

    // The same people in the UTF-8 example file are the same rows.
    let utf8: String = include_str!("../../examples/people.csv")
        .lines()
        .take(4)
        .map(|l| format!("{l}\n"))
        .collect();
    let again = db.import("people", &db.file("people-utf8.csv", utf8.as_bytes()), false);
    assert_eq!(again, "3 rows: 0 created, 0 updated, 3 unchanged\n");
}

#[test]
fn prints_the_committed_schema() {
    let db = Db::new();
    let output = db.run(&["print-schema"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).expect("schema");
    assert!(
        text(&output.stdout) == committed,
        "print-schema differs from schema.graphql"
    );
}

#[test]
fn runs_the_quarter_then_sends_what_it_queued() {
    let db = Db::new();
    for kind in ["units", "people", "evidence", "completions"] {
        db.import(kind, &example(&format!("{kind}.csv")), false);
    }
    let outbox = db.dir.path().join("outbox");
    let outbox_dir = outbox.to_str().expect("utf-8 path");
    let eml_files = || std::fs::read_dir(&outbox).map_or(0, |d| d.count());

    let queued = db.run(&[
        "jobs",
        "run",
        "quarterly",
        "--year",
        "2026",
        "--quarter",
        "1",
        "--queue-only",
    ]);
    assert!(queued.status.success(), "{}", text(&queued.stderr));
    let summary = text(&queued.stdout);
    assert!(summary.contains("run 1: 35 people, "), "{summary}");
    assert!(summary.contains(" 34 reminders, 12 digests in "), "{summary}");
    assert!(!summary.contains("mail:"), "queue only sends nothing: {summary}");
    assert_eq!(eml_files(), 0);

    let sent = db.run(&["--outbox-dir", outbox_dir, "mail", "send"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert_eq!(text(&sent.stdout), "46 sent, 0 to retry, 0 failed\n");
    assert_eq!(eml_files(), 46);

    let rerun = db.run(&[
        "--outbox-dir",
        outbox_dir,
        "jobs",
        "run",
        "quarterly",
        "--year",
        "2026",
        "--quarter",
        "1",
    ]);
    assert!(rerun.status.success(), "{}", text(&rerun.stderr));
    let summary = text(&rerun.stdout);
    assert!(summary.contains("run 2: 35 people, "), "{summary}");
    assert!(summary.contains(" 0 reminders, 0 digests in "), "{summary}");
    assert!(summary.contains("(queued before)"), "{summary}");
    assert!(summary.ends_with("mail: 0 sent, 0 to retry, 0 failed\n"), "{summary}");
    assert_eq!(eml_files(), 46);
}

#[tokio::test]
async fn a_dry_run_of_the_quarter_says_what_it_records() {
    let db = Db::new();
    for kind in ["units", "people", "evidence", "completions"] {
        db.import(kind, &example(&format!("{kind}.csv")), false);
    }
    let outbox = db.dir.path().join("outbox");
    let outbox_dir = outbox.to_str().expect("utf-8 path");

    let dry = db.run(&[
        "--outbox-dir",
        outbox_dir,
        "jobs",
        "run",
        "quarterly",
        "--year",
        "2026",
        "--quarter",
        "1",
        "--dry-run",
    ]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let summary = last_line(&text(&dry.stdout)).to_string();
    assert!(summary.starts_with("run 1: 35 people, "), "{summary}");
    assert!(
        summary.ends_with(" (dry run: no snapshot or mail written, nothing sent; the run is recorded in jobRuns)"),
        "{summary}"
    );

    // What the line says: the run is listed, and nothing else was written.
    let data = db
        .query(
            "{ jobRuns { id dryRun status trigger reminders digests } \
               quarterlyShortfalls(year: 2026, quarter: 1) { totalCount } \
               auditLog(filter: { action: \"runQuarterlyShortfall\" }) { totalCount } }",
        )
        .await;
    assert_eq!(
        data,
        json!({
            "jobRuns": [{ "id": 1, "dryRun": true, "status": "completed", "trigger": "cli", "reminders": 34, "digests": 12 }],
            "quarterlyShortfalls": { "totalCount": 0 },
            "auditLog": { "totalCount": 0 }
        })
    );
    assert!(!outbox.exists(), "no mail was written");
}

#[test]
fn help_describes_each_command_on_its_own_line() {
    let output = Db::new().run(&["--help"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let line = |command: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("no {command} line in:\n{stdout}"))
            .to_string()
    };
    assert!(line("import").contains("Import a CSV file"), "{stdout}");
    let report = line("report");
    assert!(report.contains("compliance report"), "{stdout}");
    assert!(!report.contains("Import"), "{stdout}");
}

#[test]
fn a_failed_command_prints_its_error_without_a_backtrace() {
    let db = Db::new();
    let missing = db.dir.path().join("missing.csv");

    let output = Command::new(env!("CARGO_BIN_EXE_learnmap"))
        .args(["--database-url", &db.url(), "import", "units"])
        .arg(&missing)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run learnmap");

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("Error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("missing.csv"), "names the file: {stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
}

#[test]
fn gen_demo_refuses_a_size_out_of_range_before_touching_the_database() {
    let db = Db::new();

    for size in ["0", "1000001", "many"] {
        let output = db.run(&["gen-demo", "--people", size]);
        assert_eq!(output.status.code(), Some(2), "--people {size}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("--people"), "{stderr}");
    }

    assert!(!db.dir.path().join("x.db").exists(), "no database was made");
}

#[test]
fn report_reads_roc_dates_and_names_its_flags_in_errors() {
    let db = Db::new();
    db.import("units", &example("units.csv"), false);
    db.import("people", &example("people.csv"), false);
    let report = |as_of: &str| db.run(&["report", "--unit", "DDB", "--year", "2026", "--as-of", as_of]);

    let gregorian = report("2026-03-31");
    assert!(gregorian.status.success(), "{}", text(&gregorian.stderr));
    assert!(
        text(&gregorian.stdout).contains("E10010"),
        "{}",
        text(&gregorian.stdout)
    );
    let roc = report("115/03/31");
    assert!(roc.status.success(), "{}", text(&roc.stderr));
    assert_eq!(
        text(&roc.stdout),
        text(&gregorian.stdout),
        "the same day, written in the ROC calendar"
    );

    let outside = report("2025-12-31");
    assert_eq!(outside.status.code(), Some(1));
    assert_eq!(
        text(&outside.stderr).trim_end(),
        "Error: --as-of: 2025-12-31 is not in 2026"
    );

    let unreadable = report("115/02/30");
    assert_eq!(unreadable.status.code(), Some(2), "refused by the argument parser");
    assert!(
        text(&unreadable.stderr).contains("--as-of"),
        "{}",
        text(&unreadable.stderr)
    );
}

#[test]
fn the_quarterly_job_names_its_flags_in_errors() {
    let db = Db::new();

    let output = db.run(&[
        "jobs",
        "run",
        "quarterly",
        "--year",
        "2026",
        "--quarter",
        "5",
        "--dry-run",
    ]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr).trim_end(),
        "Error: --quarter: must be 1, 2, 3 or 4"
    );
}

#[test]
fn migrate_says_how_many_migrations_it_applied() {
    let db = Db::new();

    let first = db.run(&["migrate"]);
    let again = db.run(&["migrate"]);

    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        "11 migrations applied; the database is up to date\n"
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        "the database is up to date: no migration to apply\n"
    );
}

#[test]
fn a_job_help_puts_its_own_options_first_and_the_server_options_under_headings() {
    let output = Db::new().run(&["jobs", "run", "quarterly", "--help"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let section = |heading: &str| {
        let start = stdout
            .find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("no {heading} section in:\n{stdout}"));
        let rest = &stdout[start + heading.len() + 3..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_string()
    };

    let options = section("Options");
    assert!(options.contains("--year <YEAR>"), "{stdout}");
    assert!(options.contains("The compliance year"), "{stdout}");
    assert!(options.contains("The quarter, 1 to 4"), "{stdout}");
    assert!(!options.contains("--bind"), "{stdout}");
    assert!(!options.contains("--smtp-url"), "{stdout}");
    assert!(section("Server").contains("--bind <BIND>"), "{stdout}");
    assert!(section("Mail").contains("--smtp-url <SMTP_URL>"), "{stdout}");
    assert!(section("Schedule").contains("--quarterly-cron"), "{stdout}");
    assert!(section("Authentication").contains("--jwt-secret"), "{stdout}");
}
