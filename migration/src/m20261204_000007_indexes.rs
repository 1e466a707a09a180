//! Indexes for the compliance reads and the role filter.
//!
//! - `completion_facts` holds every column the engine reads after the person
//!   and date it is searched by, so a unit's completions of the two-year
//!   window come from the index alone (an index-only scan in PostgreSQL once
//!   the table is vacuumed), not from one heap page per row.
//! - `people(filter: {role})` looks up the holders of a role on a date;
//!   without an index on the role it reads every role assignment of the city.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("completion_facts")
                    .table(Completion::Table)
                    .col(Completion::PersonId)
                    .col(Completion::CompletedOn)
                    .col(Completion::Id)
                    .col(Completion::CourseId)
                    .col(Completion::Centihours)
                    .col(Completion::Facet)
                    .col(Completion::Level)
                    .col(Completion::SecurityCategory)
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("role_assignment_role_starts_on")
                    .table(RoleAssignment::Table)
                    .col(RoleAssignment::Role)
                    .col(RoleAssignment::StartsOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("completion_facts")
                    .table(Completion::Table)
                    .to_owned(),
            )
            .await?;

        manager
            .drop_index(
                Index::drop()
                    .name("role_assignment_role_starts_on")
                    .table(RoleAssignment::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RoleAssignment {
    Table,
    Role,
    StartsOn,
}

#[derive(DeriveIden)]
enum Completion {
    Table,
    Id,
    PersonId,
    CourseId,
    Centihours,
    CompletedOn,
    Facet,
    Level,
    SecurityCategory,
}
