//! Loading the learning map's catalog and rules into a database, once.

use sea_orm::DatabaseConnection;

use crate::audit::{self, Actor, Entry};
use crate::catalog;
use crate::error::Result;
use crate::rules;

/// What a seeding added; all zeros when everything was already there.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub topics: usize,
    pub courses: usize,
    pub rule_sets: usize,
}

/// Adds the seed catalog and rule sets that are missing, all in one transaction.
pub async fn run(db: &DatabaseConnection) -> Result<SeedReport> {
    let txn = crate::db::begin_write(db).await?;

    let catalog = catalog::seed::seed(&txn).await?;
    let rule_sets = rules::seed::seed(&txn).await?;
    let report = SeedReport {
        topics: catalog.topics,
        courses: catalog.courses,
        rule_sets,
    };

    if report != SeedReport::default() {
        audit::record(&txn, &Actor::system(), entry_of(report)).await?;
    }
    txn.commit().await?;
    Ok(report)
}

/// The seed is the application's own data, loaded by whatever process opens
/// the database first, so it is recorded as `system`, and only when it added
/// something: a server's every start does not fill the log.
fn entry_of(report: SeedReport) -> Entry {
    let summary = format!(
        "seeded {} topics, {} courses, {} rule sets",
        report.topics, report.courses, report.rule_sets
    );
    let after = serde_json::json!({
        "topics": report.topics,
        "courses": report.courses,
        "ruleSets": report.rule_sets,
    });
    Entry::new("seed", "seed", "catalog", summary).after(Some(after))
}
