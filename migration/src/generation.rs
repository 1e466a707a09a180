//! Generation counters: a one-row table whose number triggers bump on every
//! write to a set of tables, so that an application can cache rows of those
//! tables and check one number before reusing them.
//!
//! Triggers, rather than bumps in application code, make every path count:
//! mutations, imports, `gen-demo`, seeds and hand-written SQL alike, in the
//! same transaction as the write, so a replica that reads the number after a
//! commit never reuses data older than that commit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// A counter table and the tables whose writes bump it.
pub struct Counter {
    /// The table holding the number (`id = 1`, `generation`).
    pub name: &'static str,
    pub tables: &'static [&'static str],
}

impl Counter {
    pub async fn create(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let name = self.name;
        db.execute_unprepared(&format!(
            "CREATE TABLE {name} (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)"
        ))
        .await?;
        db.execute_unprepared(&format!("INSERT INTO {name} (id, generation) VALUES (1, 1)"))
            .await?;

        for statement in self.create_triggers(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    pub async fn drop(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in self.drop_triggers(manager.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        db.execute_unprepared(&format!("DROP TABLE {}", self.name)).await?;
        Ok(())
    }

    fn bump(&self) -> String {
        format!("UPDATE {} SET generation = generation + 1 WHERE id = 1", self.name)
    }

    /// SQLite has row triggers only, one per event; PostgreSQL gets one
    /// statement trigger per table (truncation included) calling a shared
    /// function, so a bulk insert bumps the number once per statement.
    fn create_triggers(&self, backend: DbBackend) -> Vec<String> {
        let (name, bump) = (self.name, self.bump());
        match backend {
            DbBackend::Postgres => {
                let mut statements = vec![format!(
                    "CREATE FUNCTION bump_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN {bump}; RETURN NULL; END $$"
                )];
                statements.extend(self.tables.iter().map(|table| {
                    format!(
                        "CREATE TRIGGER {table}_{name} \
                         AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION bump_{name}()"
                    )
                }));
                statements
            }
            _ => self
                .sqlite_triggers()
                .map(|(trigger, event, table)| {
                    format!("CREATE TRIGGER {trigger} AFTER {event} ON {table} BEGIN {bump}; END")
                })
                .collect(),
        }
    }

    fn drop_triggers(&self, backend: DbBackend) -> Vec<String> {
        let name = self.name;
        match backend {
            DbBackend::Postgres => {
                let mut statements: Vec<String> = self
                    .tables
                    .iter()
                    .map(|table| format!("DROP TRIGGER {table}_{name} ON {table}"))
                    .collect();
                statements.push(format!("DROP FUNCTION bump_{name}()"));
                statements
            }
            _ => self
                .sqlite_triggers()
                .map(|(trigger, _, _)| format!("DROP TRIGGER {trigger}"))
                .collect(),
        }
    }

    fn sqlite_triggers(&self) -> impl Iterator<Item = (String, &'static str, &'static str)> + '_ {
        self.tables.iter().flat_map(move |&table| {
            ["INSERT", "UPDATE", "DELETE"]
                .into_iter()
                .map(move |event| (format!("{table}_{}_{}", event.to_lowercase(), self.name), event, table))
        })
    }
}
