//! The audit log in GraphQL: `auditLog`, for admins.

use async_graphql::connection::{Connection, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Json, Object};
use entity::audit_entry;
use serde_json::Value;

use super::access::require_admin;
use super::error::ServiceResultExt;
use super::pagination::{Counted, after_id, page_size};
use super::scalars::DateTime;
use crate::audit::{self, AuditFilter as Filter};

/// One recorded change.
pub struct AuditEntry(audit_entry::Model);

#[Object]
impl AuditEntry {
    async fn occurred_at(&self) -> DateTime {
        DateTime(self.0.occurred_at)
    }

    /// Who made the change: an employee number, `cli:<OS user>` for the
    /// command line, `system` for the scheduler and the seed, `admin` for an
    /// admin without an employee number.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The mutation or command: `createCourse`, `importPeople`,
    /// `runQuarterlyShortfall`, `seed`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The kind of record: `course`, `unit`, `person`, `evidence`,
    /// `completion`, `rule_set`, `job_run`, `import` (an import's own entry)
    /// or `seed`.
    async fn entity(&self) -> &str {
        &self.0.entity
    }

    /// The record's key: a course id, unit code, employee number, year, run id,
    /// or an import's file name.
    async fn key(&self) -> &str {
        &self.0.entity_key
    }

    async fn summary(&self) -> &str {
        &self.0.summary
    }

    /// The record before the change, as a JSON object; null when the change
    /// created it.
    async fn before(&self) -> Option<Json<Value>> {
        self.0.before.as_deref().map(json_of)
    }

    /// The record after the change, as a JSON object; null when the change
    /// deleted it.
    async fn after(&self) -> Option<Json<Value>> {
        self.0.after.as_deref().map(json_of)
    }
}

/// Stored images are written by the application as JSON; text that somehow
/// is not comes back as a JSON string rather than failing the page.
fn json_of(text: &str) -> Json<Value> {
    Json(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())))
}

/// What to narrow the audit log to; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// An employee number, `cli:<user>`, `system` or `admin`.
    actor: Option<String>,
    /// A mutation or command name, e.g. `importPeople`.
    action: Option<String>,
    /// A kind of record, e.g. `person`.
    entity: Option<String>,
    /// A record's key, e.g. an employee number; with `entity` for one record.
    key: Option<String>,
    /// Entries at or after this instant.
    from: Option<DateTime>,
    /// Entries before this instant.
    until: Option<DateTime>,
}

impl From<AuditFilter> for Filter {
    fn from(f: AuditFilter) -> Self {
        Filter {
            actor: f.actor,
            action: f.action,
            entity: f.entity,
            key: f.key,
            from: f.from.map(|t| t.0),
            until: f.until.map(|t| t.0),
        }
    }
}

pub type AuditConnection = Connection<OpaqueCursor<i32>, AuditEntry, Counted, EmptyFields>;

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every recorded mutation, import and job run, newest first, a page at a
    /// time (`first` at most 100). Admins only: the images hold personal data.
    #[graphql(complexity = "super::pagination::page_complexity(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AuditFilter>,
    ) -> async_graphql::Result<AuditConnection> {
        require_admin(ctx)?;
        let first = page_size(first)?;
        let after = after_id(after)?;
        let filter: Filter = filter.unwrap_or_default().into();

        let page = audit::list(super::db(ctx), &filter, after, first).await.gql()?;

        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            page.has_next,
            Counted {
                total_count: page.total,
            },
        );
        connection.edges.extend(
            page.entries
                .into_iter()
                .map(|e| Edge::new(OpaqueCursor(e.id), AuditEntry(e))),
        );
        Ok(connection)
    }
}
