//! Who is calling, and what they may do.
//!
//! Authentication is not wired yet: every request is served as [`Caller::Admin`]
//! unless the server puts another caller into the request data. Mutations call
//! [`require_admin`], so that adding authentication changes this module only.

use async_graphql::{Context, ErrorExtensions};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Person { employee_no: String },
    Admin,
}

pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data_opt::<Caller>().unwrap_or(&Caller::Admin)
}

pub fn require_admin(ctx: &Context<'_>) -> async_graphql::Result<()> {
    match caller(ctx) {
        Caller::Admin => Ok(()),
        Caller::Anonymous => {
            Err(async_graphql::Error::new("sign in first").extend_with(|_, e| e.set("code", "UNAUTHENTICATED")))
        }
        Caller::Person { .. } => {
            Err(async_graphql::Error::new("only admins may do this").extend_with(|_, e| e.set("code", "FORBIDDEN")))
        }
    }
}
