//! Table shapes of learnmap, one module per table, plus the enums stored as text.
//!
//! These are plain SeaORM models: the rules about what a valid row is live in the
//! service modules of the `learnmap` crate.

pub mod agency_level;
pub mod audit_entry;
pub mod completion;
pub mod course;
pub mod enums;
pub mod evidence;
pub mod job_lease;
pub mod job_run;
pub mod outbox;
pub mod person;
pub mod quarterly_shortfall;
pub mod requirement;
pub mod role_assignment;
pub mod rule_set;
pub mod topic;
pub mod unit;

pub use enums::{
    CertificateCategory, Criterion, Domain, Facet, Level, Platform, Role, SecurityCategory, SecurityLevel,
};
