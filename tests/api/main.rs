//! Integration tests through the public surface: the GraphQL schema, HTTP and
//! the seed. Every test runs on a fresh SQLite database and, when
//! `TEST_DATABASE_URL` points to PostgreSQL, on a fresh PostgreSQL database too.

mod helpers;

mod catalog_mutations;
mod catalog_queries;
mod http;
mod schema;
mod seed;
