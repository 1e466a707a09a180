//! Indexes for the listings that filter on something other than a person.
//!
//! `people(filter: {role})` looks up the holders of a role on a date; without
//! an index on the role it reads every role assignment of the city.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
