//! Who is calling, and what they may read and do.
//!
//! The server verifies the bearer token and puts a [`Caller`] into the request
//! data; a request without one is anonymous. The rules:
//!
//! - Anyone, signed in or not, reads the catalog (`facets`, `technicalDomains`,
//!   `course`, `courses`) and the rules (`requirements`).
//! - A signed-in caller also reads the units (`units`, `unit`): the city's
//!   organisation is public, but not to anonymous clients.
//! - A person reads their own record and compliance (`me`, `person`,
//!   `compliance`); a supervisor also reads those of everyone below them in
//!   the supervisor tree, however deep. Anyone else's is `FORBIDDEN`, whether
//!   the person exists or not (so employee numbers cannot be probed).
//! - An admin reads everything and alone may mutate or import. The listings
//!   that span people beyond a supervisor tree (`people`, `unitCompliance`,
//!   `jobRuns`, `quarterlyShortfalls`) are for admins only: a supervisor walks
//!   their tree with `me { directReports { … } }`.
//!
//! Every resolver that hands out a `Person` checks that the caller may read
//! that person (`person`, `compliance`, `Person.supervisor`,
//! `Person.directReports`, and the admin-only ones), so the fields of a
//! `Person` need no check of their own: whatever path reaches a person, the
//! caller may read them. A person asking for their supervisor is refused, and
//! with it every path to their peers.
//!
//! Refusals carry `extensions.code`: `UNAUTHENTICATED` for an anonymous caller
//! where sign-in is needed, `FORBIDDEN` for a signed-in one without the right.

use async_graphql::{Context, ErrorExtensions, Object};
use entity::person;

use super::error::ServiceResultExt;
use crate::personnel::{self, PersonAt};

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// A signed-in person, by the employee number of their token.
    Person {
        employee_no: String,
    },
    /// An admin: from a token with the `admin` role, or (without an employee
    /// number) tests and tools running the schema directly.
    Admin {
        employee_no: Option<String>,
    },
}

impl Caller {
    /// An admin with no employee number.
    pub fn admin() -> Caller {
        Caller::Admin { employee_no: None }
    }

    pub fn person(employee_no: impl Into<String>) -> Caller {
        Caller::Person {
            employee_no: employee_no.into(),
        }
    }

    /// The employee number behind the caller, if any.
    pub fn employee_no(&self) -> Option<&str> {
        match self {
            Caller::Anonymous | Caller::Admin { employee_no: None } => None,
            Caller::Person { employee_no }
            | Caller::Admin {
                employee_no: Some(employee_no),
            } => Some(employee_no),
        }
    }

    /// Who the audit log names for the caller's changes: their employee
    /// number, or `admin` for an admin without one.
    pub fn actor(&self) -> crate::audit::Actor {
        match self.employee_no() {
            Some(no) => crate::audit::Actor::employee(no),
            None => crate::audit::Actor::admin(),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Admin { .. })
    }

    /// How the caller appears in logs: an employee number and never a name.
    pub fn log_id(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::Person { employee_no } => employee_no.clone(),
            Caller::Admin { employee_no: Some(no) } => format!("{no} (admin)"),
            Caller::Admin { employee_no: None } => "admin".into(),
        }
    }
}

/// The caller of the request; anonymous unless the server (or a test) put one
/// into the request data.
pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    const ANONYMOUS: &Caller = &Caller::Anonymous;
    ctx.data_opt::<Caller>().unwrap_or(ANONYMOUS)
}

pub fn unauthenticated() -> async_graphql::Error {
    async_graphql::Error::new("sign in first").extend_with(|_, e| e.set("code", "UNAUTHENTICATED"))
}

pub fn forbidden(message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "FORBIDDEN"))
}

/// The audit actor of the request's caller.
pub fn actor(ctx: &Context<'_>) -> crate::audit::Actor {
    caller(ctx).actor()
}

/// Any signed-in caller.
pub fn require_signed_in(ctx: &Context<'_>) -> async_graphql::Result<()> {
    match caller(ctx) {
        Caller::Anonymous => Err(unauthenticated()),
        Caller::Person { .. } | Caller::Admin { .. } => Ok(()),
    }
}

/// Admins only: every mutation and import, and the listings across people.
pub fn require_admin(ctx: &Context<'_>) -> async_graphql::Result<()> {
    match caller(ctx) {
        Caller::Admin { .. } => Ok(()),
        Caller::Anonymous => Err(unauthenticated()),
        Caller::Person { .. } => Err(forbidden("only admins may do this")),
    }
}

const NOT_YOURS: &str = "you may read only your own record and those of the people below you";

/// The caller may read this person: an admin, the person, or anyone above
/// them in the supervisor tree. At most one query, batched with the checks of
/// the other rows of a list.
pub async fn require_reader_of(ctx: &Context<'_>, target: &person::Model) -> async_graphql::Result<()> {
    let caller_no = match caller(ctx) {
        Caller::Admin { .. } => return Ok(()),
        Caller::Anonymous => return Err(unauthenticated()),
        Caller::Person { employee_no } => employee_no,
    };
    if &target.employee_no == caller_no || is_above(ctx, caller_no, target.supervisor_id).await? {
        Ok(())
    } else {
        Err(forbidden(NOT_YOURS))
    }
}

/// Finds the person with this employee number if the caller may read them:
/// for a caller who is not an admin, a person who does not exist is refused
/// like one they may not read. Admins get `None` for a missing person. The
/// generation numbers come with the row, for whatever the request reads from
/// the caches next.
pub async fn readable_person(ctx: &Context<'_>, employee_no: &str) -> async_graphql::Result<Option<PersonAt>> {
    if let Caller::Anonymous = caller(ctx) {
        return Err(unauthenticated());
    }
    let found = personnel::find_person_at(super::db(ctx), employee_no).await.gql()?;
    match (&found, caller(ctx).is_admin()) {
        (_, true) => Ok(found),
        (Some(target), false) => require_reader_of(ctx, &target.person).await.map(|()| found),
        // Asking for one's own number is answered "not found": it says
        // nothing of anyone else. Anyone else's unknown number is refused
        // like a known one, so that it does not tell who exists.
        (None, false) if asks_for_self(ctx, employee_no) => Ok(None),
        (None, false) => Err(forbidden(NOT_YOURS)),
    }
}

fn asks_for_self(ctx: &Context<'_>, employee_no: &str) -> bool {
    match caller(ctx) {
        Caller::Person { employee_no: own } => personnel::employee_key(own) == personnel::employee_key(employee_no),
        _ => false,
    }
}

/// [`require_reader_of`] the person's supervisor (nothing to check without one).
pub async fn require_reader_of_supervisor(ctx: &Context<'_>, target: &person::Model) -> async_graphql::Result<()> {
    let caller_no = match caller(ctx) {
        Caller::Admin { .. } => return Ok(()),
        Caller::Anonymous => return Err(unauthenticated()),
        Caller::Person { employee_no } => employee_no,
    };
    let Some(id) = target.supervisor_id else { return Ok(()) };
    let chain = chain_from(ctx, id).await?;
    if chain.is_empty() || chain.iter().any(|no| no == caller_no) {
        Ok(())
    } else {
        Err(forbidden(NOT_YOURS))
    }
}

/// Whether the employee is this person (a supervisor of the target) or above
/// them in the supervisor tree.
async fn is_above(ctx: &Context<'_>, employee_no: &str, supervisor_id: Option<i32>) -> async_graphql::Result<bool> {
    let Some(id) = supervisor_id else { return Ok(false) };
    Ok(chain_from(ctx, id).await?.iter().any(|no| no == employee_no))
}

/// The employee numbers from a person up their supervisor chain; empty when
/// the person does not exist.
async fn chain_from(ctx: &Context<'_>, person_id: i32) -> async_graphql::Result<Vec<String>> {
    Ok(super::loaders::of(ctx)
        .load_one(super::loaders::ChainAbove(person_id))
        .await?
        .unwrap_or_default())
}

#[derive(Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// The caller's own record; null when their employee number has no record
    /// (yet). Needs a signed-in caller.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::personnel::Person>> {
        require_signed_in(ctx)?;
        let Some(employee_no) = caller(ctx).employee_no() else {
            return Ok(None);
        };
        Ok(personnel::find_person(super::db(ctx), employee_no)
            .await
            .gql()?
            .map(super::personnel::Person))
    }
}
