//! A generation number of the reference data (catalog, rule sets, units and
//! agency levels), bumped by triggers on every write to those tables. The
//! application caches the reference data and checks this one row before
//! reusing its copy (see [`crate::generation`]).

use sea_orm_migration::prelude::*;

use crate::generation::Counter;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COUNTER: Counter = Counter {
    name: "reference_generation",
    tables: &["course", "rule_set", "requirement", "unit", "agency_level"],
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
