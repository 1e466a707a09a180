//! A generation number of the reference data (catalog, rule sets, units and
//! agency levels), bumped by triggers on every write to those tables.
//!
//! The application caches the reference data and checks this one row before
//! reusing its copy. Triggers, rather than bumps in application code, make
//! every path count: mutations, imports, `gen-demo`, seeds and hand-written
//! SQL alike, in the same transaction as the write, so a replica that reads
//! the number after a commit never reuses data older than that commit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows the cache holds.
const TABLES: [&str; 5] = ["course", "rule_set", "requirement", "unit", "agency_level"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE TABLE reference_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)")
            .await?;
        db.execute_unprepared("INSERT INTO reference_generation (id, generation) VALUES (1, 1)")
            .await?;

        for statement in create_triggers(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in drop_triggers(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        db.execute_unprepared("DROP TABLE reference_generation").await?;
        Ok(())
    }
}

const BUMP: &str = "UPDATE reference_generation SET generation = generation + 1 WHERE id = 1";

/// SQLite has row triggers only, one per event; PostgreSQL gets one statement
/// trigger per table (truncation included) calling a shared function.
fn create_triggers(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Postgres => {
            let mut statements = vec![format!(
                "CREATE FUNCTION bump_reference_generation() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN {BUMP}; RETURN NULL; END $$"
            )];
            statements.extend(TABLES.iter().map(|table| {
                format!(
                    "CREATE TRIGGER {table}_reference_generation \
                     AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                     FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_generation()"
                )
            }));
            statements
        }
        _ => sqlite_triggers()
            .map(|(name, event, table)| format!("CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END"))
            .collect(),
    }
}

fn drop_triggers(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Postgres => {
            let mut statements: Vec<String> = TABLES
                .iter()
                .map(|table| format!("DROP TRIGGER {table}_reference_generation ON {table}"))
                .collect();
            statements.push("DROP FUNCTION bump_reference_generation()".into());
            statements
        }
        _ => sqlite_triggers()
            .map(|(name, _, _)| format!("DROP TRIGGER {name}"))
            .collect(),
    }
}

fn sqlite_triggers() -> impl Iterator<Item = (String, &'static str, &'static str)> {
    TABLES.into_iter().flat_map(|table| {
        ["INSERT", "UPDATE", "DELETE"].into_iter().map(move |event| {
            (
                format!("{table}_{}_reference_generation", event.to_lowercase()),
                event,
                table,
            )
        })
    })
}
