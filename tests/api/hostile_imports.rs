//! The four importers fed files that mix good rows with hostile cells, and
//! random bytes, against a real database: an import either refuses the file
//! as bad input and writes nothing, or accepts it, and importing the same file
//! again then changes nothing.

use chrono::NaiveDate;
use learnmap::compliance::completions;
use learnmap::compliance::mapping::Mapping;
use learnmap::import::decode;
use learnmap::personnel::import::{self, ImportOptions, ImportReport};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::db_test;
use crate::helpers::TestApp;
use crate::personnel_import::{self, EVIDENCE, PEOPLE, UNITS, load_examples};

const COMPLETIONS: &str = include_str!("../../examples/completions.csv");
const HRD_EXPORT: &str = include_str!("../../examples/elearn-hrd-export.csv");
const HRD_MAPPING: &str = include_str!("../../examples/mappings/elearn-hrd.toml");

/// Files per importer and database: each costs a few imports, and the suite
/// runs on PostgreSQL too.
const CASES: usize = 40;

#[derive(Debug, Clone, Copy)]
enum Importer {
    Units,
    People,
    Evidence,
    Completions,
    /// Another platform's export, read through a mapping file.
    MappedCompletions,
}

impl Importer {
    fn example(self) -> &'static str {
        match self {
            Importer::Units => UNITS,
            Importer::People => PEOPLE,
            Importer::Evidence => EVIDENCE,
            Importer::Completions => COMPLETIONS,
            Importer::MappedCompletions => HRD_EXPORT,
        }
    }

    async fn run(self, db: &DatabaseConnection, text: &str, dry_run: bool) -> learnmap::Result<ImportReport> {
        let options = ImportOptions {
            dry_run,
            today: NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"),
            actor: learnmap::audit::Actor::admin(),
            source: None,
        };
        match self {
            Importer::Units => import::import_units(db, text, options).await,
            Importer::People => import::import_people(db, text, options).await,
            Importer::Evidence => import::import_evidence(db, text, options).await,
            Importer::Completions => completions::import_completions(db, text, None, options).await,
            Importer::MappedCompletions => {
                let mapping = Mapping::parse(HRD_MAPPING).expect("the example mapping");
                completions::import_completions(db, text, Some(&mapping), options).await
            }
        }
    }
}

/// Cells that break parsers, overflow numbers or confuse CSV.
fn hostile_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\"".to_string()),
        Just("\"unclosed, quote".to_string()),
        Just("\"a\"\"b\"".to_string()),
        Just("\u{feff}".to_string()),
        Just("\0".to_string()),
        Just("\u{3000}\u{200b}".to_string()),
        Just("=HYPERLINK(\"http://x\")".to_string()),
        Just("99999999999999999999".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("0/0/0".to_string()),
        Just("0000-01-01".to_string()),
        Just("9999-12-31".to_string()),
        Just("999/12/31".to_string()),
        Just("民國0年1月1日".to_string()),
        Just("１１５／０２／２９".to_string()),
        Just("DDB".to_string()),
        Just("E10001".to_string()),
        Just("e10001".to_string()),
        Just("Ｅ１０００１".to_string()),
        Just("a@b".to_string()),
        Just("it_staff".to_string()),
        Just("yes".to_string()),
        Just("A".to_string()),
        Just("522".to_string()),
        Just("0.001".to_string()),
        Just("40.5".to_string()),
        (1usize..3_000).prop_map(|n| "長".repeat(n)),
        "[0-9]{1,9}",
        "[A-Za-z0-9 _-]{0,12}",
        any::<String>(),
    ]
}

/// The example file with some cells replaced, some rows repeated and some
/// dropped; the header is kept, or sometimes damaged.
fn mutated(example: &'static str) -> impl Strategy<Value = String> {
    let lines: Vec<&'static str> = example.lines().collect();
    let rows = lines.len() - 1;
    let picks = prop::collection::vec(
        (1..=rows, prop::option::weighted(0.1, (0usize..12, hostile_cell()))),
        1..10,
    );
    let header = prop_oneof![
        12 => Just(None),
        1 => hostile_cell().prop_map(Some),
    ];
    (header, picks, prop::bool::weighted(0.1)).prop_map(move |(header, picks, wide)| {
        let mut out = vec![match header {
            Some(extra) => format!("{},{}", lines[0], extra),
            None => lines[0].to_string(),
        }];
        for (index, change) in picks {
            let mut cells: Vec<String> = lines[index].split(',').map(String::from).collect();
            if let Some((column, cell)) = change {
                let column = column % cells.len();
                cells[column] = cell;
            }
            if wide && index % 5 == 0 {
                cells.extend(std::iter::repeat_n(String::from("x"), 300));
            }
            out.push(cells.join(","));
        }
        out.join("\n")
    })
}

/// Random bytes, as a file upload may hold; only what decodes reaches the
/// importer, as in the CLI.
fn random_file() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..400).prop_map(|bytes| decode(&bytes).unwrap_or_default())
}

fn files(importer: Importer) -> Vec<String> {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let seed = [importer as u8 + 1; 32];
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = prop_oneof![5 => mutated(importer.example()), 1 => random_file()];
    (0..CASES)
        .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
        .collect()
}

/// Everything the imports write, row by row.
async fn snapshot(db: &DatabaseConnection) -> String {
    let mut text = String::new();
    text += &format!("{:?}\n", entity::unit::Entity::find().all(db).await.expect("units"));
    text += &format!(
        "{:?}\n",
        entity::agency_level::Entity::find().all(db).await.expect("levels")
    );
    text += &format!("{:?}\n", entity::person::Entity::find().all(db).await.expect("people"));
    text += &format!(
        "{:?}\n",
        entity::role_assignment::Entity::find().all(db).await.expect("roles")
    );
    text += &format!(
        "{:?}\n",
        entity::evidence::Entity::find().all(db).await.expect("evidence")
    );
    text += &format!(
        "{:?}\n",
        entity::completion::Entity::find().all(db).await.expect("completions")
    );
    text
}

/// The audit log's size: a dry run or a refused import adds nothing to it.
async fn audit_entries(db: &DatabaseConnection) -> u64 {
    entity::audit_entry::Entity::find()
        .count(db)
        .await
        .expect("audit entries")
}

/// Runs an import in a task of its own, so that a panic names the file.
async fn run(db: &DatabaseConnection, importer: Importer, text: &str, dry_run: bool) -> learnmap::Result<ImportReport> {
    let (db, owned) = (db.clone(), text.to_string());
    tokio::spawn(async move { importer.run(&db, &owned, dry_run).await })
        .await
        .unwrap_or_else(|panic| panic!("{importer:?} import panicked ({panic}) on {text:?}"))
}

async fn check(app: &TestApp, importer: Importer) {
    load_examples(app).await;
    let (mut accepted, mut refused) = (0, 0);

    for text in files(importer) {
        let before = snapshot(&app.db).await;
        let audited = audit_entries(&app.db).await;

        let dry = run(&app.db, importer, &text, true).await;
        assert_eq!(
            snapshot(&app.db).await,
            before,
            "{importer:?} dry run wrote on {text:?}"
        );
        assert_eq!(
            audit_entries(&app.db).await,
            audited,
            "{importer:?} dry run audited {text:?}"
        );

        match run(&app.db, importer, &text, false).await {
            Err(learnmap::Error::BadInput(errors)) => {
                assert!(!errors.is_empty());
                assert!(
                    dry.is_err(),
                    "{importer:?}: dry run accepted what the import refused: {text:?}"
                );
                assert_eq!(
                    snapshot(&app.db).await,
                    before,
                    "{importer:?} refused but wrote on {text:?}"
                );
                assert_eq!(
                    audit_entries(&app.db).await,
                    audited,
                    "{importer:?} refused but audited {text:?}"
                );
                refused += 1;
            }
            Err(other) => panic!("{importer:?}: not a user error ({other}) on {text:?}"),
            Ok(report) => {
                let dry = dry
                    .unwrap_or_else(|e| panic!("{importer:?}: dry run refused ({e}) what the import took: {text:?}"));
                assert_eq!((dry.created, dry.updated), (report.created, report.updated), "{text:?}");
                let after = snapshot(&app.db).await;
                let again = run(&app.db, importer, &text, false)
                    .await
                    .expect("a re-import is accepted");
                assert_eq!(
                    (again.created, again.updated, again.unchanged),
                    (0, 0, report.rows),
                    "{importer:?} re-import of {text:?}"
                );
                assert_eq!(
                    snapshot(&app.db).await,
                    after,
                    "{importer:?} re-import wrote on {text:?}"
                );
                // What was accepted must also read back: units, people, roles,
                // evidence and technical backgrounds, over GraphQL.
                personnel_import::snapshot(app).await;
                accepted += 1;
            }
        }
    }

    eprintln!("{importer:?}: {accepted} files accepted, {refused} refused");
    assert!(
        refused > 0 && accepted > 0,
        "{importer:?}: some hostile files are refused, some accepted"
    );
}

db_test! {
    async fn hostile_unit_files_are_refused_or_idempotent(app) {
        check(&app, Importer::Units).await;
    }
}

db_test! {
    async fn hostile_people_files_are_refused_or_idempotent(app) {
        check(&app, Importer::People).await;
    }
}

db_test! {
    async fn hostile_evidence_files_are_refused_or_idempotent(app) {
        check(&app, Importer::Evidence).await;
    }
}

db_test! {
    async fn hostile_completion_files_are_refused_or_idempotent(app) {
        check(&app, Importer::Completions).await;
    }
}

db_test! {
    async fn hostile_platform_exports_are_refused_or_idempotent(app) {
        check(&app, Importer::MappedCompletions).await;
    }
}

db_test! {
    async fn an_amount_too_large_for_its_column_is_refused(app) {
        load_examples(&app).await;
        let before = snapshot(&app.db).await;
        let text = "employee_no,criterion,detail,obtained_on,amount\nE10001,training_hours,研習,2024-01-01,30000000\n";

        let result = Importer::Evidence.run(&app.db, text, false).await;

        let Err(learnmap::Error::BadInput(errors)) = result else { panic!("refused: {result:?}") };
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].row, errors[0].field.as_str()), (Some(2), "amount"));
        assert_eq!(errors[0].reason, "30000000 is more than 10000, the most one row may give; check the cell");
        assert_eq!(snapshot(&app.db).await, before);
    }
}
