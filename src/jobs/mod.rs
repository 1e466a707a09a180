//! Scheduled jobs: plain async functions that take their dependencies, and a
//! thin scheduler around them.

pub mod lease;
pub mod quarter;
pub mod quarterly;
pub mod scheduler;
pub mod shortfall;
