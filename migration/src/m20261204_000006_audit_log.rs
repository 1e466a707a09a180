//! The audit log: one row per recorded change, written in the transaction of
//! the change itself.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .col(pk_auto(AuditEntry::Id))
                    .col(timestamp_with_time_zone(AuditEntry::OccurredAt))
                    .col(string_len(AuditEntry::Actor, 64))
                    .col(string_len(AuditEntry::Action, 64))
                    .col(string_len(AuditEntry::Entity, 32))
                    .col(string(AuditEntry::EntityKey))
                    .col(text_null(AuditEntry::Before))
                    .col(text_null(AuditEntry::After))
                    .col(text(AuditEntry::Summary))
                    .to_owned(),
            )
            .await?;

        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(AuditEntry::Table);
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEntry::Table).to_owned())
            .await
    }
}

/// What `auditLog` filters on; each index ends with the id, the listing's
/// order, so a filtered page is read straight off the index.
const INDEXES: &[(&str, &[AuditEntry])] = &[
    ("audit_entry_occurred_at", &[AuditEntry::OccurredAt]),
    ("audit_entry_actor", &[AuditEntry::Actor, AuditEntry::Id]),
    ("audit_entry_action", &[AuditEntry::Action, AuditEntry::Id]),
    (
        "audit_entry_entity_key",
        &[AuditEntry::Entity, AuditEntry::EntityKey, AuditEntry::Id],
    ),
];

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntry {
    Table,
    Id,
    OccurredAt,
    Actor,
    Action,
    Entity,
    EntityKey,
    Before,
    After,
    Summary,
}
