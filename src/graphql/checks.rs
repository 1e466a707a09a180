//! Checks of a request's query document that must come before
//! async-graphql's own: the cap on selections ([`super::size`]) and the
//! required variables ([`super::variables`]).
//!
//! They run while the request is prepared, on a parse of their own, because
//! async-graphql checks a parsed document's recursion depth by following
//! every fragment spread afresh: a kilobyte of fragments that each spread
//! the next one twice took it seconds, doubling with each level, so the
//! count that stops at the cap must come first. The parse is handed on, so
//! a query is parsed once; a text the schema has kept a parse of was counted
//! when it was kept.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError, ServerResult};

use super::parsed::ParsedQueries;
use super::{size, variables};

/// Holds the schema's kept parses.
pub struct DocumentChecks(pub ParsedQueries);

impl ExtensionFactory for DocumentChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentChecks(self.0.clone()))
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentChecks {
    /// A text that does not parse goes on as it came, for async-graphql to
    /// report its syntax error as it always does.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Some(kept) = self.0.shared(&request.query) {
            refuse_unset(&kept, &request)?;
            return next.run(ctx, request).await;
        }
        let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
            return next.run(ctx, request).await;
        };

        if size::selections_within(&document, size::MAX_SELECTIONS).is_none() {
            return Err(ServerError::new(size::too_many(), None));
        }
        refuse_unset(&document, &request)?;
        request.set_parsed_query(document);
        next.run(ctx, request).await
    }
}

fn refuse_unset(document: &ExecutableDocument, request: &Request) -> ServerResult<()> {
    match variables::unset(document, request.operation_name.as_deref(), &request.variables) {
        Some(message) => Err(ServerError::new(message, None)),
        None => Ok(()),
    }
}
