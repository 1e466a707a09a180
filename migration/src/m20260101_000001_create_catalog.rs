//! The course catalog and the topics of the learning map.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Course::Table)
                    .col(pk_auto(Course::Id))
                    .col(string(Course::Title))
                    .col(string(Course::TitleKey))
                    .col(integer(Course::Centihours))
                    .col(string(Course::Link))
                    .col(string_len(Course::Platform, 20))
                    .col(string_null(Course::PlatformCode))
                    .col(string_len(Course::Facet, 16))
                    .col(string_len_null(Course::Level, 1))
                    .col(string_len_null(Course::Domain, 24))
                    .col(string_len_null(Course::SecurityCategory, 12))
                    .col(timestamp_with_time_zone_null(Course::ArchivedAt))
                    .col(timestamp_with_time_zone(Course::CreatedAt))
                    .col(timestamp_with_time_zone(Course::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("course_platform_title_key")
                    .table(Course::Table)
                    .col(Course::Platform)
                    .col(Course::TitleKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("course_platform_code")
                    .table(Course::Table)
                    .col(Course::Platform)
                    .col(Course::PlatformCode)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Topic::Table)
                    .col(pk_auto(Topic::Id))
                    .col(string_len(Topic::Facet, 16))
                    .col(string_len_null(Topic::Domain, 24))
                    .col(string_len_null(Topic::Level, 1))
                    .col(string(Topic::Title))
                    .col(integer(Topic::Position))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Topic::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Course::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Course {
    Table,
    Id,
    Title,
    TitleKey,
    Centihours,
    Link,
    Platform,
    PlatformCode,
    Facet,
    Level,
    Domain,
    SecurityCategory,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Topic {
    Table,
    Id,
    Facet,
    Domain,
    Level,
    Title,
    Position,
}
