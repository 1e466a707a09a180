//! Shared test set-up: a fresh, migrated and seeded database per test, and the
//! schema over it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use async_graphql::{Request, Variables};
use learnmap::graphql::{self, AppSchema, Caller};
use learnmap::{db, seed};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;

/// A handle on `db` that counts every statement sent through it, and the
/// count: the statement-count tests build a schema over the handle.
pub fn counting_statements(db: &DatabaseConnection) -> (DatabaseConnection, Arc<AtomicUsize>) {
    let counter = Arc::new(AtomicUsize::new(0));
    let mut counted = db.clone();
    let seen = counter.clone();
    counted.set_metric_callback(move |_info| {
        seen.fetch_add(1, Ordering::Relaxed);
    });
    (counted, counter)
}

pub struct TestApp {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    /// The database URL, for running the binary against the same database.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL schema of this test, dropped with it.
    schema_name: Option<(String, String)>,
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        TestApp::open(&url, Some(dir)).await
    }

    /// A new schema in the database of `TEST_DATABASE_URL`, first on the
    /// search path of every connection; `None` when the variable is unset.
    /// Schemas, unlike databases, are created and dropped in milliseconds.
    pub async fn postgres() -> Option<TestApp> {
        let base = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
        let name = unique_database_name();

        let admin = db::connect(&base).await.expect("connect to TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE SCHEMA \"{name}\""))
            .await
            .expect("create test schema");
        admin.close().await.expect("close admin connection");

        let mut url = url::Url::parse(&base).expect("TEST_DATABASE_URL is a URL");
        url.query_pairs_mut()
            .append_pair("options", &format!("-c search_path={name}"));
        let mut app = TestApp::open(url.as_str(), None).await;
        app.schema_name = Some((base, name));
        Some(app)
    }

    async fn open(url: &str, dir: Option<tempfile::TempDir>) -> TestApp {
        let db = db::connect(url).await.expect("connect");
        db::migrate(&db).await.expect("migrate");
        seed::run(&db).await.expect("seed");
        let schema = graphql::schema(db.clone());
        TestApp {
            db,
            schema,
            url: url.to_string(),
            _dir: dir,
            schema_name: None,
        }
    }

    /// Runs a query (as an admin) that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.execute(query, variables).await;
        assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
        response["data"].clone()
    }

    /// Runs a query as an admin and returns the whole response (`data` and
    /// `errors`).
    pub async fn execute(&self, query: &str, variables: Value) -> Value {
        self.execute_as(Caller::admin(), query, variables).await
    }

    /// Runs a query as the caller and returns the whole response.
    pub async fn execute_as(&self, caller: Caller, query: &str, variables: Value) -> Value {
        let request = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(caller);
        let response = self.schema.execute(request).await;
        serde_json::to_value(&response).expect("response serialises")
    }

    /// Runs a query (as an admin) that must fail and returns its first error.
    pub async fn error(&self, query: &str, variables: Value) -> Value {
        let response = self.execute(query, variables).await;
        let errors = response["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected an error: {response:#}"));
        errors[0].clone()
    }
}

impl Drop for TestApp {
    /// Drops the test's PostgreSQL schema, on a thread of its own since drop
    /// cannot await.
    fn drop(&mut self) {
        let Some((base, name)) = self.schema_name.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = db::connect(&base).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        });
        let _ = dropped.join();
    }
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "learnmap_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Declares a test that runs once on SQLite and once on PostgreSQL (skipped,
/// with a note, when `TEST_DATABASE_URL` is unset).
#[macro_export]
macro_rules! db_test {
    (async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::TestApp::sqlite().await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                learnmap_no_postgres,
                ignore = "TEST_DATABASE_URL was not set when the tests were built"
            )]
            async fn postgres() {
                let Some($app) = $crate::helpers::TestApp::postgres().await else {
                    eprintln!("TEST_DATABASE_URL is not set: PostgreSQL run skipped");
                    return;
                };
                $body
            }
        }
    };
}

/// The `extensions.code` of an error.
pub fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or("")
}

/// The fields named by a BAD_USER_INPUT error.
pub fn fields(error: &Value) -> Vec<String> {
    error["extensions"]["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| f["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
