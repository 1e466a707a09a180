//! Makes the quarterly job's writes cheaper on PostgreSQL.
//!
//! - `quarterly_shortfall_period` was on year, quarter and employee number,
//!   so every snapshot row landed at a random place in the index: a third of
//!   the run's time in the database went to it. Nothing reads the snapshot by
//!   employee number; `quarterlyShortfalls` pages a quarter by id. An index
//!   on year, quarter and id serves that page directly, and new rows go at
//!   its right edge.
//! - The outbox bodies (about 2 KB each) are compressed with lz4 instead of
//!   the default pglz where the server has it (PostgreSQL 14 and later, built
//!   with lz4): the same rows in two thirds of the time. Rows written before
//!   keep their compression; both read the same.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BODIES: [&str; 2] = ["text_body", "html_body"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_period_index(manager, "id").await?;
        if has_lz4(manager).await? {
            compress_bodies(manager, "lz4").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if has_lz4(manager).await? {
            compress_bodies(manager, "default").await?;
        }
        replace_period_index(manager, "employee_no").await
    }
}

/// One call, so both statements run on one connection: SQLite checks a new
/// index's name against the schema its connection last read, and another
/// pooled connection may not have read the drop yet. SQLite runs migrations
/// outside a transaction, so a migration stopped between the two statements
/// leaves no index; `IF EXISTS` lets the next start finish it.
async fn replace_period_index(manager: &SchemaManager<'_>, last: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "DROP INDEX IF EXISTS quarterly_shortfall_period; \
             CREATE INDEX quarterly_shortfall_period ON quarterly_shortfall (year, quarter, {last})"
        ))
        .await?;
    Ok(())
}

/// Whether the server can compress with lz4: PostgreSQL lists it among the
/// values of `default_toast_compression` only when built with it.
async fn has_lz4(manager: &SchemaManager<'_>) -> Result<bool, DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(false);
    }
    let found = manager
        .get_connection()
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)",
        ))
        .await?;
    Ok(found.is_some())
}

async fn compress_bodies(manager: &SchemaManager<'_>, method: &str) -> Result<(), DbErr> {
    let columns: Vec<String> = BODIES
        .iter()
        .map(|column| format!("ALTER COLUMN {column} SET COMPRESSION {method}"))
        .collect();
    manager
        .get_connection()
        .execute_unprepared(&format!("ALTER TABLE outbox {}", columns.join(", ")))
        .await?;
    Ok(())
}
