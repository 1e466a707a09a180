//! Rule sets per compliance year and their requirements.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RuleSet::Table)
                    .col(integer(RuleSet::Year).primary_key())
                    .col(string(RuleSet::Note))
                    .col(timestamp_with_time_zone(RuleSet::CreatedAt))
                    .col(timestamp_with_time_zone(RuleSet::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Requirement::Table)
                    .col(pk_auto(Requirement::Id))
                    .col(integer(Requirement::Year))
                    .col(string_len_null(Requirement::Role, 20))
                    .col(string_len(Requirement::Facet, 16))
                    .col(boolean_null(Requirement::TechnicalBackground))
                    .col(string(Requirement::Levels))
                    .col(string_len_null(Requirement::SecurityCategory, 12))
                    .col(string(Requirement::AgencyLevels))
                    .col(integer(Requirement::WindowYears))
                    .col(integer(Requirement::Centihours))
                    .col(integer(Requirement::Position))
                    .foreign_key(
                        ForeignKey::create()
                            .name("requirement_rule_set")
                            .from(Requirement::Table, Requirement::Year)
                            .to(RuleSet::Table, RuleSet::Year)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Requirement::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(RuleSet::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RuleSet {
    Table,
    Year,
    Note,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Requirement {
    Table,
    Id,
    Year,
    Role,
    Facet,
    TechnicalBackground,
    Levels,
    SecurityCategory,
    AgencyLevels,
    WindowYears,
    Centihours,
    Position,
}
