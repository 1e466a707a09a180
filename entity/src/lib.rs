//! Table shapes of learnmap, one module per table, plus the enums stored as text.
//!
//! These are plain SeaORM models: the rules about what a valid row is live in the
//! service modules of the `learnmap` crate.

pub mod course;
pub mod enums;
pub mod requirement;
pub mod rule_set;
pub mod topic;

pub use enums::{Domain, Facet, Level, Platform, Role, SecurityCategory, SecurityLevel};
