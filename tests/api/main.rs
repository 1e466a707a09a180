//! Integration tests through the public surface: the GraphQL schema, HTTP and
//! the seed. Every test runs on a fresh SQLite database and, when
//! `TEST_DATABASE_URL` points to PostgreSQL, on a fresh PostgreSQL database too.

mod fixtures;
mod helpers;

mod audit;
mod auth_access;
mod auth_cli;
mod auth_jwks_url;
mod auth_tokens;
mod catalog_mutations;
mod catalog_queries;
mod cli;
mod completions_import;
mod compliance;
mod error_codes;
mod hostile_imports;
mod hostile_parsers;
mod http;
mod metrics;
mod migrations;
mod parsed_queries;
mod personnel_import;
mod personnel_queries;
mod quarterly;
mod queries_count;
mod recent_facts;
mod reference_cache;
mod schema;
mod seed;
mod smtp;
mod smtp_tls;
