//! The audit log: who changed what, when, and how it looked before and after.
//!
//! Services record an [`Entry`] with the same connection or transaction that
//! makes the change, so the entry commits or rolls back with it: a rejected or
//! dry-run import, or a failed mutation, leaves no entry, and every committed
//! change has one. Entries are only ever added.
//!
//! The before and after images may hold personal data (a person's name and
//! email); they are for admins reading `auditLog` and are never logged.

pub mod snapshot;

use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::Value;

use crate::error::Result;

/// How many entries one insert statement writes: imports of tens of thousands
/// of rows write their entries a chunk at a time, well below the bind-parameter
/// limits of SQLite and PostgreSQL.
pub const ENTRIES_PER_INSERT: usize = 500;

/// Who made a change, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// A signed-in person, by the employee number of their token.
    pub fn employee(employee_no: &str) -> Actor {
        Actor(employee_no.to_string())
    }

    /// The command line, as `cli:<OS user>` from `$USER` (or `$LOGNAME`,
    /// or Windows' `$USERNAME`).
    pub fn cli() -> Actor {
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|u| !u.trim().is_empty()));
        Actor::cli_user(user.as_deref())
    }

    /// The command line run by this OS user; `cli` when the user is unknown.
    pub fn cli_user(user: Option<&str>) -> Actor {
        match user.map(str::trim).filter(|u| !u.is_empty()) {
            Some(user) => Actor(format!("cli:{user}")),
            None => Actor("cli".to_string()),
        }
    }

    /// The server itself: the scheduler and the start-up seed.
    pub fn system() -> Actor {
        Actor("system".to_string())
    }

    /// An admin without an employee number: tools and tests that run the
    /// schema directly.
    pub fn admin() -> Actor {
        Actor("admin".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The mutation or command, as the schema names it: `createCourse`.
    pub action: &'static str,
    /// The kind of record: `course`, `person`, `unit`, `import`.
    pub entity: &'static str,
    /// The record's key: a course id, an employee number, a unit code.
    pub key: String,
    /// The record before the change; `None` when the change created it.
    pub before: Option<Value>,
    /// The record after the change; `None` when the change deleted it.
    pub after: Option<Value>,
    /// One line for people: `created course 12`.
    pub summary: String,
}

impl Entry {
    pub fn new(
        action: &'static str,
        entity: &'static str,
        key: impl Into<String>,
        summary: impl Into<String>,
    ) -> Entry {
        Entry {
            action,
            entity,
            key: key.into(),
            before: None,
            after: None,
            summary: summary.into(),
        }
    }

    pub fn before(self, before: Option<Value>) -> Entry {
        Entry { before, ..self }
    }

    pub fn after(self, after: Option<Value>) -> Entry {
        Entry { after, ..self }
    }
}

/// Records one entry, with the connection or transaction of the change.
pub async fn record(db: &impl ConnectionTrait, actor: &Actor, entry: Entry) -> Result<()> {
    record_all(db, actor, vec![entry]).await
}

/// Records entries in chunks of [`ENTRIES_PER_INSERT`], all stamped with the
/// same instant: they are one change.
pub async fn record_all(db: &impl ConnectionTrait, actor: &Actor, entries: Vec<Entry>) -> Result<()> {
    let now = Utc::now();
    let rows: Vec<audit_entry::ActiveModel> = entries.into_iter().map(|e| row_of(actor, now, e)).collect();

    for chunk in rows.chunks(ENTRIES_PER_INSERT) {
        audit_entry::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

fn row_of(actor: &Actor, at: DateTime<Utc>, entry: Entry) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        occurred_at: Set(at),
        actor: Set(actor.0.clone()),
        action: Set(entry.action.to_string()),
        entity: Set(entry.entity.to_string()),
        entity_key: Set(entry.key),
        before: Set(entry.before.map(|v| v.to_string())),
        after: Set(entry.after.map(|v| v.to_string())),
        summary: Set(entry.summary),
        ..Default::default()
    }
}

/// What an audit listing may be narrowed to; all given conditions hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub key: Option<String>,
    /// Entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub until: Option<DateTime<Utc>>,
}

impl AuditFilter {
    fn apply(&self, mut query: sea_orm::Select<audit_entry::Entity>) -> sea_orm::Select<audit_entry::Entity> {
        if let Some(actor) = &self.actor {
            query = query.filter(audit_entry::Column::Actor.eq(actor.trim()));
        }
        if let Some(action) = &self.action {
            query = query.filter(audit_entry::Column::Action.eq(action.trim()));
        }
        if let Some(entity) = &self.entity {
            query = query.filter(audit_entry::Column::Entity.eq(entity.trim()));
        }
        if let Some(key) = &self.key {
            query = query.filter(audit_entry::Column::EntityKey.eq(key.trim()));
        }
        if let Some(from) = self.from {
            query = query.filter(audit_entry::Column::OccurredAt.gte(from));
        }
        if let Some(until) = self.until {
            query = query.filter(audit_entry::Column::OccurredAt.lt(until));
        }
        query
    }
}

/// One page of entries, newest first.
pub struct AuditPage {
    pub entries: Vec<audit_entry::Model>,
    pub has_next: bool,
    pub total: u64,
}

/// Entries newest first (by id, which grows with every insert), after the
/// entry `after` of an earlier page.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    after: Option<i32>,
    first: u64,
) -> Result<AuditPage> {
    let total = filter.apply(audit_entry::Entity::find()).count(db).await?;

    let mut query = filter
        .apply(audit_entry::Entity::find())
        .order_by_desc(audit_entry::Column::Id);
    if let Some(after) = after {
        query = query.filter(audit_entry::Column::Id.lt(after));
    }
    let mut entries = query.limit(first + 1).all(db).await?;

    let has_next = entries.len() as u64 > first;
    entries.truncate(first as usize);
    Ok(AuditPage {
        entries,
        has_next,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_named_by_its_user() {
        assert_eq!(Actor::cli_user(Some("chen")).as_str(), "cli:chen");
        assert_eq!(Actor::cli_user(Some("  ")).as_str(), "cli");
        assert_eq!(Actor::cli_user(None).as_str(), "cli");
    }

    #[test]
    fn an_entry_keeps_its_images() {
        let entry = Entry::new("createCourse", "course", "7", "created course 7")
            .after(Some(serde_json::json!({ "title": "Rust" })));
        assert_eq!(entry.before, None);
        assert_eq!(entry.after, Some(serde_json::json!({ "title": "Rust" })));
        assert_eq!(entry.key, "7");
    }
}
