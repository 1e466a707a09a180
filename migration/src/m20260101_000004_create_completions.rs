//! Completed trainings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Completion::Table)
                    .col(pk_auto(Completion::Id))
                    .col(integer(Completion::PersonId))
                    .col(integer_null(Completion::CourseId))
                    .col(string(Completion::CourseKey))
                    .col(string(Completion::Title))
                    .col(integer(Completion::Centihours))
                    .col(date(Completion::CompletedOn))
                    .col(string_len(Completion::Platform, 20))
                    .col(string_len_null(Completion::Facet, 16))
                    .col(string_len_null(Completion::Level, 1))
                    .col(string_len_null(Completion::SecurityCategory, 12))
                    .col(string(Completion::Source))
                    .col(timestamp_with_time_zone(Completion::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("completion_person")
                            .from(Completion::Table, Completion::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("completion_once")
                    .table(Completion::Table)
                    .col(Completion::PersonId)
                    .col(Completion::CourseKey)
                    .col(Completion::CompletedOn)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("completion_person_date")
                    .table(Completion::Table)
                    .col(Completion::PersonId)
                    .col(Completion::CompletedOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Completion::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Completion {
    Table,
    Id,
    PersonId,
    CourseId,
    CourseKey,
    Title,
    Centihours,
    CompletedOn,
    Platform,
    Facet,
    Level,
    SecurityCategory,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}
