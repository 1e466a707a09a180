//! Counting GraphQL operations: an extension that names each request's
//! operation, times it and runs it with the schema's metrics as the current
//! ones (so the job and the mail it triggers count there too).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest, NextValidation,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition, Selection};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Variables};

use crate::metrics::Metrics;

/// The label of a request whose query did not parse.
const UNPARSED: &str = "unparsed";
/// The label of a request whose query parsed but failed validation (unknown
/// fields, too deep, too complex). Only operations that validate name a label
/// of their own, so that made-up names and fields cannot use up the labels.
const INVALID: &str = "invalid";

/// Creates one [`RequestMetrics`] per request.
pub struct GraphqlMetrics(pub Metrics);

impl ExtensionFactory for GraphqlMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestMetrics {
            metrics: self.0.clone(),
            requested_name: Mutex::new(None),
            operation: Mutex::new(None),
            valid: AtomicBool::new(false),
        })
    }
}

struct RequestMetrics {
    metrics: Metrics,
    /// The request's `operationName`.
    requested_name: Mutex<Option<String>>,
    /// The operation's label, once the query parsed.
    operation: Mutex<Option<String>>,
    /// Whether the query passed validation.
    valid: AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestMetrics {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();

        let response = self.metrics.scope(next.run(ctx)).await;

        let operation = match lock(&self.operation).clone() {
            None => UNPARSED.to_string(),
            Some(_) if !self.valid.load(Ordering::Relaxed) => INVALID.to_string(),
            Some(label) => label,
        };
        self.metrics
            .graphql_request(&operation, response.errors.is_empty(), started.elapsed());
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *lock(&self.requested_name) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await;
        self.valid.store(result.is_ok(), Ordering::Relaxed);
        result
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let requested = lock(&self.requested_name).clone();
        *lock(&self.operation) = Some(operation_label(&document, requested.as_deref()));
        Ok(document)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The operation's name (as requested, or as the only operation declares it);
/// for an anonymous one, its type and first root field, e.g.
/// `query:compliance`.
pub fn operation_label(document: &ExecutableDocument, requested: Option<&str>) -> String {
    if let Some(name) = requested {
        return name.to_string();
    }
    match &document.operations {
        DocumentOperations::Single(operation) => anonymous_label(&operation.node),
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            operations.keys().next().map(ToString::to_string).unwrap_or_default()
        }
        DocumentOperations::Multiple(_) => UNPARSED.to_string(),
    }
}

fn anonymous_label(operation: &OperationDefinition) -> String {
    let field = operation
        .selection_set
        .node
        .items
        .iter()
        .find_map(|item| match &item.node {
            Selection::Field(field) => Some(field.node.name.node.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "_".to_string());
    format!("{}:{field}", operation.ty)
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn label(query: &str, requested: Option<&str>) -> String {
        operation_label(&parse_query(query).expect("parses"), requested)
    }

    #[test]
    fn names_operations_by_name_or_first_root_field() {
        assert_eq!(label("{ a: compliance { x } courses { y } }", None), "query:compliance");
        assert_eq!(
            label("mutation { runQuarterlyShortfall { outcome } }", None),
            "mutation:runQuarterlyShortfall"
        );
        assert_eq!(label("query MyUnits { units { code } }", None), "MyUnits");
        assert_eq!(label("query A { a } query B { b }", Some("B")), "B");
        assert_eq!(label("query A { a } query B { b }", None), UNPARSED);
        assert_eq!(label("{ ...F } fragment F on QueryRoot { a }", None), "query:_");
    }
}
