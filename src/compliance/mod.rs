//! Compliance: what each person owes and what closes the gap.

pub mod engine;
pub mod recommend;
pub mod service;
