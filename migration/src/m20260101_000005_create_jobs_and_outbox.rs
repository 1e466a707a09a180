//! Scheduled job runs, the lease that lets one replica run a job, the quarterly
//! shortfall snapshot, the mail outbox, and a person's preferred language.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .add_column(string_len(Person::Language, 8).default("zh"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobLease::Table)
                    .col(string(JobLease::Name).primary_key())
                    .col(string_null(JobLease::Holder))
                    .col(timestamp_with_time_zone_null(JobLease::ExpiresAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobRun::Table)
                    .col(pk_auto(JobRun::Id))
                    .col(string(JobRun::Job))
                    .col(integer(JobRun::Year))
                    .col(integer(JobRun::Quarter))
                    .col(boolean(JobRun::DryRun))
                    .col(string_len(JobRun::Status, 12))
                    .col(string(JobRun::Trigger))
                    .col(timestamp_with_time_zone(JobRun::StartedAt))
                    .col(timestamp_with_time_zone_null(JobRun::FinishedAt))
                    .col(integer(JobRun::People))
                    .col(integer(JobRun::Lines))
                    .col(integer(JobRun::Reminders))
                    .col(integer(JobRun::Digests))
                    .col(text_null(JobRun::Error))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("job_run_job_period")
                    .table(JobRun::Table)
                    .col(JobRun::Job)
                    .col(JobRun::Year)
                    .col(JobRun::Quarter)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(QuarterlyShortfall::Table)
                    .col(pk_auto(QuarterlyShortfall::Id))
                    .col(integer(QuarterlyShortfall::Year))
                    .col(integer(QuarterlyShortfall::Quarter))
                    .col(integer(QuarterlyShortfall::RunId))
                    .col(integer(QuarterlyShortfall::PersonId))
                    .col(string(QuarterlyShortfall::EmployeeNo))
                    .col(integer(QuarterlyShortfall::UnitId))
                    .col(string_len(QuarterlyShortfall::Status, 16))
                    .col(string_len(QuarterlyShortfall::Facet, 16))
                    .col(string_len_null(QuarterlyShortfall::SecurityCategory, 12))
                    .col(string(QuarterlyShortfall::Levels))
                    .col(integer(QuarterlyShortfall::WindowYears))
                    .col(integer(QuarterlyShortfall::RequiredCentihours))
                    .col(integer(QuarterlyShortfall::CountedCentihours))
                    .col(integer(QuarterlyShortfall::ExpectedCentihours))
                    .col(integer(QuarterlyShortfall::ShortfallCentihours))
                    .col(boolean(QuarterlyShortfall::Behind))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("quarterly_shortfall_period")
                    .table(QuarterlyShortfall::Table)
                    .col(QuarterlyShortfall::Year)
                    .col(QuarterlyShortfall::Quarter)
                    .col(QuarterlyShortfall::EmployeeNo)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_auto(Outbox::Id))
                    .col(string(Outbox::Key).unique_key())
                    .col(string_len(Outbox::Kind, 16))
                    .col(string(Outbox::RecipientNo))
                    .col(string(Outbox::RecipientName))
                    .col(string(Outbox::RecipientEmail))
                    .col(string(Outbox::Subject))
                    .col(text(Outbox::TextBody))
                    .col(text(Outbox::HtmlBody))
                    .col(string_len(Outbox::Status, 12))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedAt))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("outbox_status_next")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            QuarterlyShortfall::Table.into_iden(),
            JobRun::Table.into_iden(),
            JobLease::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .drop_column(Person::Language)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Language,
}

#[derive(DeriveIden)]
enum JobLease {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum JobRun {
    Table,
    Id,
    Job,
    Year,
    Quarter,
    DryRun,
    Status,
    Trigger,
    StartedAt,
    FinishedAt,
    People,
    Lines,
    Reminders,
    Digests,
    Error,
}

#[derive(DeriveIden)]
enum QuarterlyShortfall {
    Table,
    Id,
    Year,
    Quarter,
    RunId,
    PersonId,
    EmployeeNo,
    UnitId,
    Status,
    Facet,
    SecurityCategory,
    Levels,
    WindowYears,
    RequiredCentihours,
    CountedCentihours,
    ExpectedCentihours,
    ShortfallCentihours,
    Behind,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Key,
    Kind,
    RecipientNo,
    RecipientName,
    RecipientEmail,
    Subject,
    TextBody,
    HtmlBody,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedAt,
    LastError,
    CreatedAt,
    SentAt,
}
