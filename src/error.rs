//! The service layer's one error type.
//!
//! Services return [`Error`]; the GraphQL layer maps it once to a client-safe
//! message and an `extensions.code` (see `graphql::error`), and the CLI prints it.

use std::fmt;

use sea_orm::DbErr;

/// What is wrong with one field of an input, optionally on a numbered row of an
/// imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The 1-based line of the file, header included, for imports.
    pub row: Option<usize>,
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            row: None,
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn at_row(row: usize, field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            row: Some(row),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(row) => write!(f, "row {row}, {}: {}", self.field, self.reason),
            None => write!(f, "{}: {}", self.field, self.reason),
        }
    }
}

/// The most field errors a message or a response lists. An import reports
/// every error of a file at once, which for a file exported with the wrong
/// columns can be one per row: past this many, the rest are only counted,
/// since nobody reads further before fixing the file.
pub const MAX_LISTED_ERRORS: usize = 100;

/// The errors to list, and how many more there are.
pub fn listed(errors: &[FieldError]) -> (&[FieldError], usize) {
    let shown = &errors[..errors.len().min(MAX_LISTED_ERRORS)];
    (shown, errors.len() - shown.len())
}

/// `and 3 more errors not listed`: what follows a capped list.
pub fn more_errors(more: usize) -> String {
    let noun = if more == 1 { "error" } else { "errors" };
    format!("and {more} more {noun} not listed; fix these and check the file again")
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input is invalid; every problem found is listed (the
    /// message lists [`MAX_LISTED_ERRORS`] at most).
    #[error("{}", join(.0))]
    BadInput(Vec<FieldError>),

    #[error("{what} {key} does not exist")]
    NotFound { what: &'static str, key: String },

    #[error("a database error occurred")]
    Database(#[from] DbErr),

    /// A failure of ours that the caller cannot fix; the text is logged, never
    /// sent.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::BadInput(vec![FieldError::new(field, reason)])
    }

    pub fn not_found(what: &'static str, key: impl fmt::Display) -> Self {
        Error::NotFound {
            what,
            key: key.to_string(),
        }
    }
}

fn join(errors: &[FieldError]) -> String {
    let (shown, more) = listed(errors);
    let mut parts: Vec<String> = shown.iter().map(ToString::to_string).collect();
    if more > 0 {
        parts.push(more_errors(more));
    }
    parts.join("; ")
}
