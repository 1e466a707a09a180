//! The one place where service errors become GraphQL errors.
//!
//! Clients get a safe message and `extensions.code`; a database error's cause is
//! logged here, once, and never sent.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::{ErrorExtensions, Response, Value};

use crate::error::Error;

pub fn to_graphql(error: Error) -> async_graphql::Error {
    match error {
        Error::BadInput(fields) => {
            let message = Error::BadInput(fields.clone()).to_string();
            let (shown, more) = crate::error::listed(&fields);
            let shown = Value::List(shown.iter().map(field_value).collect());
            async_graphql::Error::new(message).extend_with(|_, ext| {
                ext.set("code", "BAD_USER_INPUT");
                ext.set("fields", shown);
                if more > 0 {
                    ext.set("moreErrors", more as i32);
                }
            })
        }
        not_found @ Error::NotFound { .. } => {
            async_graphql::Error::new(not_found.to_string()).extend_with(|_, ext| ext.set("code", "NOT_FOUND"))
        }
        Error::Database(cause) => {
            tracing::error!(error = %cause, "database error");
            internal()
        }
        Error::Internal(cause) => {
            tracing::error!(error = %cause, "internal error");
            internal()
        }
    }
}

fn internal() -> async_graphql::Error {
    async_graphql::Error::new("internal error").extend_with(|_, ext| ext.set("code", "INTERNAL"))
}

fn field_value(field: &crate::error::FieldError) -> Value {
    let mut map = async_graphql::indexmap::IndexMap::new();
    if let Some(row) = field.row {
        map.insert(async_graphql::Name::new("row"), Value::from(row as i32));
    }
    map.insert(async_graphql::Name::new("field"), Value::from(field.field.clone()));
    map.insert(async_graphql::Name::new("reason"), Value::from(field.reason.clone()));
    Value::Object(map)
}

/// `service_call().await.gql()?` in resolvers.
pub trait ServiceResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> ServiceResultExt<T> for Result<T, Error> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_graphql)
    }
}

/// An error about an argument, detected in the GraphQL layer itself.
pub fn bad_argument(field: &str, reason: impl Into<String>) -> async_graphql::Error {
    to_graphql(Error::bad_input(field, reason))
}

/// Gives every error of a response an `extensions.code`. Errors that reach a
/// client without one come from async-graphql itself, before any resolver
/// ran or while it read the arguments: a query that does not parse, fails
/// validation, is too deep or too complex, or a value a scalar refuses. All of
/// them are the request's fault, so they become `BAD_USER_INPUT`; resolvers
/// set their own codes through [`to_graphql`].
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            let extensions = error.extensions.get_or_insert_with(Default::default);
            if extensions.get("code").is_none() {
                extensions.set("code", "BAD_USER_INPUT");
            }
        }
        response
    }
}
