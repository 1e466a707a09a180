//! Connecting to the database and bringing its schema up to date.

use std::path::Path;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// The embedded default: a SQLite file under `./data/`, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/learnmap.db?mode=rwc";

/// Opens a connection pool. For a SQLite file, its folder is created first, so
/// that the default works on a fresh clone.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if let Some(dir) = sqlite_folder(url) {
        std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }

    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false);
    // A connection is tested with a round trip only after it sat idle: testing
    // it each time it leaves the pool doubled the round trips of a cached
    // `compliance` answer, and a connection in steady use is not the one a
    // restart or a firewall has dropped.
    options.test_before_acquire_if_idle_for(std::time::Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's model; a small pool avoids lock
        // contention between connections of the same process.
        options.max_connections(4);
        // sqlx runs each SQLite connection on its own thread, which hands
        // rows to the async side through a channel of 50 by default. Once
        // the channel is full every row taken wakes the blocked thread to
        // send one more: on two cores a unit's 30,000 rows spent more time
        // switching threads than reading. A larger channel lets the thread
        // run ahead; 10,000 rows of a few columns are about 2 MB.
        //
        // Write-ahead logging lets readers go on while a writer (an import,
        // the quarterly job) holds the write lock; with SQLite's own default
        // (a rollback journal) a report waited behind a long import and gave
        // up with "database is locked".
        options.map_sqlx_sqlite_opts(|opts| {
            opts.row_buffer_size(10_000)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
        });
    }
    Database::connect(options).await
}

/// Begins a transaction that will write. On SQLite it takes the write lock at
/// once (`BEGIN IMMEDIATE`), waiting its turn behind another writer: a
/// deferred transaction that read first and then tried to write after
/// another connection had committed would fail at once with "database is
/// locked" (two quarterly runs racing, an import beside a job). PostgreSQL
/// ignores the mode.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies every pending migration and says how many there were.
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, DbErr> {
    let pending = Migrator::get_pending_migrations(db).await?.len();
    Migrator::up(db, None).await?;
    Ok(pending)
}

fn sqlite_folder(url: &str) -> Option<&Path> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_folder_of_a_sqlite_file() {
        assert_eq!(sqlite_folder(DEFAULT_DATABASE_URL), Some(Path::new("data")));
        assert_eq!(sqlite_folder("sqlite:/tmp/x/a.db"), Some(Path::new("/tmp/x")));
        assert_eq!(sqlite_folder("sqlite::memory:"), None);
        assert_eq!(sqlite_folder("sqlite://a.db"), None);
        assert_eq!(sqlite_folder("postgres://postgres@127.0.0.1/x"), None);
    }
}
