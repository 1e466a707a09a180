//! The GraphQL schema. Resolvers here only parse, check access, call a service
//! function and map its result; the rules live in the service modules.

mod access;
mod audit;
mod catalog;
mod checks;
mod completions;
mod compliance;
pub mod error;
mod jobs;
mod loaders;
pub mod metrics;
mod nul;
mod order;
mod pagination;
pub mod parsed;
mod personnel;
pub mod scalars;
mod size;
mod variables;

use async_graphql::{EmptySubscription, MergedObject, Schema};
use sea_orm::DatabaseConnection;

pub use access::Caller;

/// The deepest query accepted. GraphiQL's introspection query needs 13 levels.
pub const MAX_DEPTH: usize = 16;
/// The most expensive query accepted, counting one per field.
pub const MAX_COMPLEXITY: usize = 5_000;
/// What one person's evaluation counts toward [`MAX_COMPLEXITY`] besides its
/// fields: it reads and evaluates their facts, so a query may hold a couple
/// of hundred (a supervisor's team at once), not thousands of aliases.
pub const EVALUATION_COMPLEXITY: usize = 20;
/// What a unit's evaluation counts: a city agency is thousands of people, so
/// a query may ask for a few units, not a hundred.
pub const UNIT_EVALUATION_COMPLEXITY: usize = 500;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    catalog::CatalogQuery,
    personnel::PersonnelQuery,
    compliance::ComplianceQuery,
    jobs::JobsQuery,
    access::AccessQuery,
    audit::AuditQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    catalog::CatalogMutation,
    personnel::PersonnelMutation,
    compliance::ComplianceMutation,
    completions::CompletionsMutation,
    jobs::JobsMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema over a database; the server and the tests run the same one.
/// Mail queued by mutations goes to `.eml` files under `data/outbox`.
pub fn schema(db: DatabaseConnection) -> AppSchema {
    schema_with_mail(db, crate::mail::MailConfig::default())
}

/// The schema with the mail configuration that job mutations send with.
/// It counts its requests in metrics of its own (`schema.data::<Metrics>()`).
pub fn schema_with_mail(db: DatabaseConnection, mail: crate::mail::MailConfig) -> AppSchema {
    let reference = std::sync::Arc::new(crate::reference::ReferenceCache::default());
    let recent = std::sync::Arc::new(crate::compliance::recent::RecentFacts::default());
    let metrics = crate::metrics::Metrics::new();
    // Registered last, innermost: the metrics see every parse, cached or not.
    let parsed = parsed::ParsedQueries::default();
    Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .data(reference)
        .data(recent)
        .extension(loaders::PerRequest)
        .data(db)
        .data(mail)
        .data(metrics.clone())
        .extension(metrics::GraphqlMetrics(metrics))
        .extension(error::ErrorCodes)
        .extension(nul::RefuseNul)
        .extension(checks::DocumentChecks(parsed.clone()))
        .extension(order::QueryOrder(parsed.clone()))
        .data(parsed.clone())
        .extension(parsed)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .register_output_type::<scalars::Date>()
        .finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .register_output_type::<scalars::Date>()
        .finish()
        .sdl()
}

fn db<'a>(ctx: &async_graphql::Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}
