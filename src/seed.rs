//! Loading the learning map's catalog and rules into a database, once.

use sea_orm::{DatabaseConnection, TransactionTrait};

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
    let txn = db.begin().await?;

    let catalog = catalog::seed::seed(&txn).await?;
    let rule_sets = rules::seed::seed(&txn).await?;

    txn.commit().await?;
    Ok(SeedReport {
        topics: catalog.topics,
        courses: catalog.courses,
        rule_sets,
    })
}
