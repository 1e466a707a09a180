//! Mail: messages rendered from the templates in `templates/`, kept in an
//! outbox table until a sender delivers them.
//!
//! Queuing and sending are separate so that a message exists once whatever
//! happens to the job that queued it, and is sent at least once whatever
//! happens to the process that sends it.

pub mod outbox;
pub mod sender;
mod smtp;
pub mod templates;

pub use sender::{MailConfig, SendReport, Sender};
