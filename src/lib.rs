//! learnmap: the IT competency-training backend of Taipei City Government.
//!
//! The service modules (`catalog`, `rules`) hold the domain and talk to the
//! database through SeaORM; `graphql` only translates between them and clients;
//! `server` wires HTTP. Everything a test needs is public here, so tests execute
//! the same schema the binary serves.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod compliance;
pub mod db;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod hours;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod personnel;
pub mod reference;
pub mod report;
pub mod rules;
pub mod seed;
pub mod server;
pub mod shutdown;
pub mod text;

pub use error::{Error, Result};
