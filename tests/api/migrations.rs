//! Every migration goes down and up again; the index and compression
//! migration leaves the job's tables as the quarterly job needs them, and
//! the catalog fix marks a course only where no one has chosen otherwise.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::db_test;

/// The columns of the index, in order.
async fn index_columns(db: &DatabaseConnection, index: &str) -> Vec<String> {
    let (backend, sql) = match db.get_database_backend() {
        DbBackend::Postgres => (
            DbBackend::Postgres,
            format!(
                "SELECT a.attname AS name FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() \
                 JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON true \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                 WHERE c.relname = '{index}' ORDER BY k.position"
            ),
        ),
        _ => (
            DbBackend::Sqlite,
            format!("SELECT name FROM pragma_index_info('{index}') ORDER BY seqno"),
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("index columns");
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").expect("name"))
        .collect()
}

/// The compression of each outbox body column on PostgreSQL ("l" for lz4,
/// "" for the server's default), and whether the server has lz4.
async fn body_compression(db: &DatabaseConnection) -> (Vec<String>, bool) {
    let sql = "SELECT attcompression::text AS method FROM pg_attribute \
               WHERE attrelid = 'outbox'::regclass AND attname IN ('text_body', 'html_body') ORDER BY attname";
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("compression");
    let methods = rows
        .iter()
        .map(|r| r.try_get::<String>("", "method").expect("method"))
        .collect();
    let lz4 = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)",
        ))
        .await
        .expect("settings")
        .is_some();
    (methods, lz4)
}

async fn tables(db: &DatabaseConnection) -> usize {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'seaql_migrations'"
        }
        _ => {
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT IN ('seaql_migrations', 'sqlite_sequence')"
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count tables")
        .expect("a row");
    usize::try_from(row.try_get::<i64>("", "n").expect("n")).expect("a count")
}

db_test! {
    async fn the_snapshot_is_indexed_by_quarter_then_id_and_bodies_use_lz4_where_there_is_lz4(app) {
        let columns = index_columns(&app.db, "quarterly_shortfall_period").await;
        assert_eq!(columns, ["year", "quarter", "id"]);

        if app.db.get_database_backend() == DbBackend::Postgres {
            let (methods, lz4) = body_compression(&app.db).await;
            let expected = if lz4 { "l" } else { "" };
            assert_eq!(methods, [expected, expected]);
        }
    }
}

db_test! {
    async fn every_migration_goes_down_and_up_again(app) {
        let before = tables(&app.db).await;
        assert_eq!(before, 17);

        Migrator::down(&app.db, Some(2)).await.expect("down the last two");
        assert_eq!(index_columns(&app.db, "quarterly_shortfall_period").await, ["year", "quarter", "employee_no"]);
        if app.db.get_database_backend() == DbBackend::Postgres {
            assert_eq!(body_compression(&app.db).await.0, ["", ""], "back to the server's default");
        }

        Migrator::down(&app.db, None).await.expect("down every one");
        assert_eq!(tables(&app.db).await, 0);

        Migrator::up(&app.db, None).await.expect("up again");
        assert_eq!(tables(&app.db).await, before);
        assert_eq!(index_columns(&app.db, "quarterly_shortfall_period").await, ["year", "quarter", "id"]);
    }
}

db_test! {
    async fn a_migration_stopped_between_dropping_and_making_the_index_finishes_on_the_next_start(app) {
        // As SQLite leaves it when the process dies between the two
        // statements: it runs migrations outside a transaction.
        app.db
            .execute_unprepared(
                "DROP INDEX quarterly_shortfall_period; \
                 DELETE FROM seaql_migrations WHERE version = 'm20261206_000010_cheaper_job_writes'",
            )
            .await
            .expect("stop half way");
        assert!(index_columns(&app.db, "quarterly_shortfall_period").await.is_empty());

        Migrator::up(&app.db, None).await.expect("the next start");
        assert_eq!(index_columns(&app.db, "quarterly_shortfall_period").await, ["year", "quarter", "id"]);
    }
}

db_test! {
    async fn a_catalog_seeded_earlier_gets_its_general_security_course_and_keeps_an_admins_choice(app) {
        let category = || async {
            let row = app
                .db
                .query_one_raw(Statement::from_string(
                    app.db.get_database_backend(),
                    "SELECT security_category FROM course WHERE title LIKE '112 年一般人員及主管資通安全通識教育訓練%'",
                ))
                .await
                .expect("query")
                .expect("the course is seeded");
            row.try_get::<Option<String>>("", "security_category").expect("category")
        };
        assert_eq!(category().await.as_deref(), Some("general"), "seeded so");

        // As a database seeded before the seed said so.
        Migrator::down(&app.db, Some(1)).await.expect("down");
        assert_eq!(category().await, None);
        Migrator::up(&app.db, None).await.expect("up");
        assert_eq!(category().await.as_deref(), Some("general"));

        // A category an admin set is left alone both ways.
        app.db
            .execute_unprepared("UPDATE course SET security_category = 'professional' WHERE title LIKE '112 年%'")
            .await
            .expect("update");
        Migrator::down(&app.db, Some(1)).await.expect("down");
        Migrator::up(&app.db, None).await.expect("up");
        assert_eq!(category().await.as_deref(), Some("professional"));
    }
}
