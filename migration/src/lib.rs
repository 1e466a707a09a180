//! Schema migrations, one change per migration, each with a working `down`.

pub use sea_orm_migration::prelude::*;

mod generation;
mod m20260101_000001_create_catalog;
mod m20260101_000002_create_rules;
mod m20260101_000003_create_personnel;
mod m20260101_000004_create_completions;
mod m20260101_000005_create_jobs_and_outbox;
mod m20261204_000006_audit_log;
mod m20261204_000007_indexes;
mod m20261204_000008_reference_generation;
mod m20261205_000009_facts_generation;
mod m20261206_000010_cheaper_job_writes;
mod m20261207_000011_general_security_course;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_catalog::Migration),
            Box::new(m20260101_000002_create_rules::Migration),
            Box::new(m20260101_000003_create_personnel::Migration),
            Box::new(m20260101_000004_create_completions::Migration),
            Box::new(m20260101_000005_create_jobs_and_outbox::Migration),
            Box::new(m20261204_000006_audit_log::Migration),
            Box::new(m20261204_000007_indexes::Migration),
            Box::new(m20261204_000008_reference_generation::Migration),
            Box::new(m20261205_000009_facts_generation::Migration),
            Box::new(m20261206_000010_cheaper_job_writes::Migration),
            Box::new(m20261207_000011_general_security_course::Migration),
        ]
    }
}
