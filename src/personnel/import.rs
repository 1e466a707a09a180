//! Importing units, people and evidence from the CSV files personnel offices
//! keep.
//!
//! Each import reads the whole file, checks every row against the file and the
//! database, and writes nothing unless every row is good: all errors come back
//! together, by row and column, the header's and a row's references included
//! even when its other cells are bad. The writes run in one transaction; a dry run
//! performs them and rolls back, so that its report is exactly what a real run
//! would do. Re-importing a file changes nothing; a person missing from a file
//! is left alone. A real run records each created or updated record, and the
//! import itself, in the audit log within that same transaction.

mod evidence;
pub mod people;
mod units;

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::audit::{self, Actor, Entry};
use crate::error::{Error, FieldError, Result};
use crate::import::Table;
use crate::import::value::keep;
use crate::text;

pub use evidence::import_evidence;
pub use people::import_people;
pub use units::import_units;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// The date a changed role takes effect when the file gives none.
    pub today: NaiveDate,
    /// Who runs the import, for the audit log.
    pub actor: Actor,
    /// The file's name when known (the CLI), for the audit log.
    pub source: Option<String>,
}

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

/// One row's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub row: usize,
    /// The unit code or employee number the row is about.
    pub key: String,
    pub action: Action,
    /// What changed, for updates: `role it_staff → it_supervisor`.
    pub detail: String,
}

/// What an import did, or would do in a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub dry_run: bool,
    /// The rows that created or changed something, in file order.
    pub changes: Vec<Change>,
}

impl ImportReport {
    fn new(changes: Vec<Change>, dry_run: bool) -> Self {
        let count = |action| changes.iter().filter(|c| c.action == action).count();
        ImportReport {
            rows: changes.len(),
            created: count(Action::Created),
            updated: count(Action::Updated),
            unchanged: count(Action::Unchanged),
            dry_run,
            changes: changes.into_iter().filter(|c| c.action != Action::Unchanged).collect(),
        }
    }
}

/// Reads the table and the problems that still let its rows be checked (an
/// unknown column, a shifted row), which the import reports together with
/// its rows' errors; fails at once when no row can be checked.
fn read_table(text: &str, columns: &[crate::import::Column]) -> Result<(Table, Vec<FieldError>)> {
    Table::read_collecting(text, columns, &[], false).map_err(Error::BadInput)
}

/// Whether following `next_of` (a unit's parent, a person's supervisor)
/// from `start` comes back to `start`. A chain that only runs into a cycle
/// further on does not: that cycle is reported at the rows that make it,
/// and this row would be fine without them.
pub(crate) fn comes_back(start: &str, next_of: &HashMap<&str, Option<&str>>) -> bool {
    let mut seen = HashSet::new();
    let mut current = next_of.get(start).copied().flatten();
    while let Some(key) = current {
        if key == start {
            return true;
        }
        if !seen.insert(key) {
            return false;
        }
        current = next_of.get(key).copied().flatten();
    }
    false
}

/// Fails with all errors, sorted by row (the header's first), when there
/// are any.
pub(crate) fn reject_if_any(mut errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort_by_key(|e| e.row.unwrap_or(0));
    Err(Error::BadInput(errors))
}

/// What an import records in the audit log: its action (`importPeople`) and
/// one entry per created or updated record.
pub(crate) struct Audited {
    pub action: &'static str,
    /// What the file holds, for the import's own entry: `people`.
    pub kind: &'static str,
    pub entries: Vec<Entry>,
}

/// Commits the transaction with the import's audit entries, or rolls it back
/// for a dry run (which records nothing).
pub(crate) async fn finish(
    txn: DatabaseTransaction,
    changes: Vec<Change>,
    options: &ImportOptions,
    audited: Audited,
) -> Result<ImportReport> {
    let report = ImportReport::new(changes, options.dry_run);
    if options.dry_run {
        txn.rollback().await?;
        return Ok(report);
    }

    let summary = import_entry(&audited, &report, options);
    let mut entries = audited.entries;
    entries.push(summary);
    audit::record_all(&txn, &options.actor, entries).await?;
    txn.commit().await?;
    Ok(report)
}

/// The entry of the import itself: the file and its counts.
fn import_entry(audited: &Audited, report: &ImportReport, options: &ImportOptions) -> Entry {
    let key = options.source.clone().unwrap_or_else(|| audited.kind.to_string());
    let summary = format!(
        "{} import: {}, {} created, {} updated, {} unchanged",
        audited.kind,
        text::count(report.rows, "row", "rows"),
        report.created,
        report.updated,
        report.unchanged
    );
    let counts = serde_json::json!({
        "file": options.source,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    });
    Entry::new(audited.action, "import", key, summary).after(Some(counts))
}

/// The keys of the records an import created or updated, in file order.
pub(crate) fn changed_keys(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| c.key.clone())
        .collect()
}

/// Entries for the changed records of an import, from their images before
/// (absent for created records) and after.
pub(crate) fn changed_entries(
    action: &'static str,
    entity: &'static str,
    changes: &[Change],
    before: &mut std::collections::HashMap<String, serde_json::Value>,
    after: &mut std::collections::HashMap<String, serde_json::Value>,
) -> Vec<Entry> {
    changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| {
            let summary = match c.action {
                Action::Created => format!("created {entity} {}", c.key),
                _ => format!("updated {entity} {}: {}", c.key, c.detail),
            };
            Entry::new(action, entity, c.key.clone(), summary)
                .before(before.remove(&c.key))
                .after(after.remove(&c.key))
        })
        .collect()
}

async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    Ok(crate::db::begin_write(db).await?)
}

/// A row keeps the value it sets when all its fields match what is stored.
fn action_for(created: bool, differences: &[String]) -> Action {
    match (created, differences.is_empty()) {
        (true, _) => Action::Created,
        (false, true) => Action::Unchanged,
        (false, false) => Action::Updated,
    }
}

/// Names of the fields that differ, `field old → new`.
fn difference<T: PartialEq + std::fmt::Debug>(field: &str, old: &T, new: &T, out: &mut Vec<String>) {
    if old != new {
        out.push(format!("{field} {} → {}", show(old), show(new)));
    }
}

fn show<T: std::fmt::Debug>(value: &T) -> String {
    let text = format!("{value:?}");
    if text == "None" {
        return "(none)".to_string();
    }
    let text = text
        .strip_prefix("Some(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(&text);
    text.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_chain_on_the_cycle_comes_back() {
        // a → b → c → b, d → none
        let next: HashMap<&str, Option<&str>> =
            HashMap::from([("a", Some("b")), ("b", Some("c")), ("c", Some("b")), ("d", None)]);
        assert!(comes_back("b", &next));
        assert!(comes_back("c", &next));
        assert!(!comes_back("a", &next), "a leads into the cycle but is not on it");
        assert!(!comes_back("d", &next));
        assert!(!comes_back("unknown", &next));
    }
}
