//! Compliance: what each person owes and what closes the gap.

pub mod completions;
pub mod engine;
pub mod mapping;
pub mod recent;
pub mod recommend;
pub mod service;
