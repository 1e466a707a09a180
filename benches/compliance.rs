//! Benchmarks of the compliance engine, `unitCompliance` over GraphQL and the
//! quarterly job, each beside its SQL floor: one aggregate summing the same
//! hours per person and facet on the same data, timed in the same run.
//!
//! `LEARNMAP_BENCH_DATABASE_URL` names a database holding `learnmap gen-demo`
//! data; unset, a temporary SQLite file gets `LEARNMAP_BENCH_PEOPLE` (default
//! 200) demo people. `LEARNMAP_BENCH_ONLY=engine,floor,unit,quarterly` picks
//! groups. See BENCHMARKS.md.

use std::time::{Duration, Instant};

use async_graphql::{Request, Variables};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use entity::{outbox, unit};
use learnmap::compliance::engine::{self, CompletionFact, CourseFact, PersonFacts};
use learnmap::compliance::service;
use learnmap::graphql::{self, Caller};
use learnmap::jobs::quarterly::{self, Outcome, RunRequest, Trigger};
use learnmap::mail::{MailConfig, Sender};
use learnmap::reference::{self, Reference};
use learnmap::rules::Requirement;
use learnmap::{db, demo, seed};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Statement};
use tokio::runtime::Runtime;

const YEAR: i32 = 2026;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR, 3, 31).expect("a date")
}

struct Setup {
    db: DatabaseConnection,
    agencies: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn setup() -> Setup {
    let (url, dir) = match std::env::var("LEARNMAP_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => (url, None),
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            (
                format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()),
                Some(dir),
            )
        }
    };
    let db = db::connect(&url).await.expect("connect");
    db::migrate(&db).await.expect("migrate");
    seed::run(&db).await.expect("seed");
    if dir.is_some() {
        let people = std::env::var("LEARNMAP_BENCH_PEOPLE")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(200);
        demo::generate(&db, demo::DemoOptions { people, seed: 1 })
            .await
            .expect("gen-demo");
    }
    let agencies = unit::Entity::find()
        .filter(unit::Column::ParentId.is_null())
        .order_by_asc(unit::Column::Code)
        .all(&db)
        .await
        .expect("agencies")
        .into_iter()
        .map(|u| u.code)
        .collect();
    Setup {
        db,
        agencies,
        _dir: dir,
    }
}

fn only(group: &str) -> bool {
    std::env::var("LEARNMAP_BENCH_ONLY")
        .map(|v| v.split(',').any(|g| g.trim() == group))
        .unwrap_or(true)
}

/// The SQL floor: hours per person, facet and security category over the
/// window the engine reads (two years to the as-of date).
pub const FLOOR_SQL: &str = "SELECT person_id, facet, security_category, SUM(centihours) AS centihours \
     FROM completion WHERE completed_on >= '2025-01-01' AND completed_on <= '2026-03-31' \
     GROUP BY person_id, facet, security_category";

async fn floor(db: &DatabaseConnection) -> usize {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), FLOOR_SQL))
        .await
        .expect("floor query")
        .len()
}

/// Everything the engine needs for every person of the city, loaded once.
struct EngineInput {
    people: Vec<(PersonFacts, Vec<CompletionFact>)>,
    requirements: Vec<Requirement>,
    catalog: Vec<CourseFact>,
}

async fn engine_input(setup: &Setup) -> EngineInput {
    let mut people = Vec::new();
    let mut requirements = Vec::new();
    for code in &setup.agencies {
        let unit = service::for_unit(&setup.db, code, YEAR, as_of(), service::Detail::Completions)
            .await
            .expect("for_unit");
        requirements = unit.rules.requirements.clone();
        for p in unit.people {
            people.push((p.facts, p.completions));
        }
    }
    let generation = reference::current_generation(&setup.db).await.expect("generation");
    let catalog = Reference::load(&setup.db, generation)
        .await
        .expect("catalog")
        .course_facts()
        .to_vec();
    EngineInput {
        people,
        requirements,
        catalog,
    }
}

const UNIT_QUERY: &str = "query($code: String!) { unitCompliance(unitCode: $code, year: 2026, asOf: \"2026-03-31\") { \
     people byStatus { status people } \
     byFacet { facet securityCategory people behind requiredHours countedHours shortfallHours } \
     behind(first: 20) { totalCount edges { node { status } } } } }";

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let setup = rt.block_on(setup());

    if only("floor") {
        let mut group = c.benchmark_group("floor");
        group.sample_size(10);
        group.bench_function("sql_sum_per_person_facet", |b| {
            b.to_async(&rt).iter(|| floor(&setup.db));
        });
        group.finish();
    }

    if only("engine") {
        let input = rt.block_on(engine_input(&setup));
        eprintln!("engine: {} people", input.people.len());
        let mut group = c.benchmark_group("engine");
        group.sample_size(10);
        group.bench_function("evaluate_city", |b| {
            b.iter(|| {
                input
                    .people
                    .iter()
                    .map(|(facts, completions)| {
                        let evaluation = engine::evaluate(facts, completions, &input.requirements, YEAR, as_of());
                        engine::recommend(&evaluation, completions, &[], &input.catalog).len() + evaluation.lines.len()
                    })
                    .sum::<usize>()
            });
        });
        group.finish();
    }

    if only("unit") {
        let schema = graphql::schema(setup.db.clone());
        let run = |code: String| {
            let schema = schema.clone();
            async move {
                let request = Request::new(UNIT_QUERY)
                    .variables(Variables::from_json(serde_json::json!({ "code": code })))
                    .data(Caller::admin());
                let response = schema.execute(request).await;
                assert!(response.errors.is_empty(), "{:?}", response.errors);
            }
        };
        let mut group = c.benchmark_group("unit_compliance");
        group.sample_size(10);
        // The city has no root unit (agencies are roots), so "the whole city"
        // is one request per agency, in turn.
        group.bench_function("city_all_agencies", |b| {
            b.to_async(&rt).iter(|| async {
                for code in &setup.agencies {
                    run(code.clone()).await;
                }
            });
        });
        if let Some(first) = setup.agencies.first() {
            group.bench_function("one_agency", |b| {
                b.to_async(&rt).iter(|| run(first.clone()));
            });
        }
        group.finish();
    }

    if only("quarterly") {
        let outbox_dir = tempfile::tempdir().expect("outbox dir");
        let mail = MailConfig {
            smtp_url: None,
            outbox_dir: outbox_dir.path().to_path_buf(),
            ..MailConfig::default()
        };
        let sender = Sender::new(mail).expect("sender");
        let mut group = c.benchmark_group("quarterly");
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        group.bench_function("end_to_end_with_mail", |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (db, sender, dir) = (setup.db.clone(), &sender, outbox_dir.path().to_path_buf());
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        // Untimed: an empty outbox, so every run writes every message.
                        outbox::Entity::delete_many().exec(&db).await.expect("clear outbox");
                        std::fs::remove_dir_all(&dir).ok();
                        std::fs::create_dir_all(&dir).expect("outbox dir");
                        let started = Instant::now();
                        let outcome = quarterly::run(
                            &db,
                            RunRequest {
                                year: YEAR,
                                quarter: 1,
                                dry_run: false,
                                trigger: Trigger::Admin,
                                holder: "bench".into(),
                                today: NaiveDate::from_ymd_opt(YEAR, 4, 1).expect("a date"),
                            },
                        )
                        .await
                        .expect("quarterly run");
                        assert!(matches!(outcome, Outcome::Ran { .. }));
                        let report = sender.drain(&db).await.expect("drain");
                        assert_eq!(report.failed, 0);
                        total += started.elapsed();
                    }
                    total
                }
            });
        });
        group.finish();
    }
}

criterion_group!(compliance, benches);
criterion_main!(compliance);
