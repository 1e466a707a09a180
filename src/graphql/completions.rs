//! Completions in GraphQL: the import of completed trainings.

use async_graphql::{Context, Object};

use super::access::require_admin;
use super::error::ServiceResultExt;
use super::personnel::ImportReport;
use crate::clock;
use crate::compliance::completions::{self, Mapping};
use crate::personnel::import::ImportOptions;

#[derive(Default)]
pub struct CompletionsMutation;

#[Object]
impl CompletionsMutation {
    /// Imports completions given as CSV text (admins). All or nothing.
    /// `mapping` is the text of a mapping file (TOML) that names which of
    /// another platform's export columns holds each field; the export's other
    /// columns are then ignored.
    async fn import_completions(
        &self,
        ctx: &Context<'_>,
        csv: String,
        mapping: Option<String>,
        #[graphql(default)] dry_run: bool,
    ) -> async_graphql::Result<ImportReport> {
        require_admin(ctx)?;
        let mapping = mapping.as_deref().map(Mapping::parse).transpose().gql()?;
        let options = ImportOptions {
            dry_run,
            today: clock::today(),
            actor: super::access::actor(ctx),
            source: None,
        };
        let report = completions::import_completions(super::db(ctx), &csv, mapping.as_ref(), options)
            .await
            .gql()?;
        tracing::info!(
            import.kind = "completions",
            import.rows = report.rows,
            import.mapping = mapping.is_some(),
            import.dry_run = dry_run,
            "import done"
        );
        Ok(report.into())
    }
}
