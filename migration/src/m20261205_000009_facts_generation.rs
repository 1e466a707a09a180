//! A generation number of the people's facts that the engine reads beside
//! the person row (role assignments, evidence and completions), bumped by
//! triggers on every write to those tables. One person's `compliance` keeps
//! their facts in memory and checks this row, read in the same statement as
//! the person, before reusing them.
//!
//! On PostgreSQL a writing transaction holds the row until it commits, so two
//! transactions that write facts at once take turns; imports are single
//! transactions anyway.

use sea_orm_migration::prelude::*;

use crate::generation::Counter;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COUNTER: Counter = Counter {
    name: "facts_generation",
    tables: &["role_assignment", "evidence", "completion"],
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        COUNTER.create(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        COUNTER.drop(manager).await
    }
}
