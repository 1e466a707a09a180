//! Units, agency security levels, people, role assignments and evidence.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Unit::Table)
                    .col(pk_auto(Unit::Id))
                    .col(string(Unit::Code).unique_key())
                    .col(string(Unit::Name))
                    .col(integer_null(Unit::ParentId))
                    .col(timestamp_with_time_zone(Unit::CreatedAt))
                    .col(timestamp_with_time_zone(Unit::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("unit_parent")
                            .from(Unit::Table, Unit::ParentId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgencyLevel::Table)
                    .col(pk_auto(AgencyLevel::Id))
                    .col(integer(AgencyLevel::UnitId))
                    .col(string_len(AgencyLevel::Level, 1))
                    .col(date(AgencyLevel::Since))
                    .foreign_key(
                        ForeignKey::create()
                            .name("agency_level_unit")
                            .from(AgencyLevel::Table, AgencyLevel::UnitId)
                            .to(Unit::Table, Unit::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Person::Table)
                    .col(pk_auto(Person::Id))
                    .col(string(Person::EmployeeNo).unique_key())
                    .col(string(Person::Name))
                    .col(string(Person::Email))
                    .col(string(Person::SearchKey))
                    .col(integer(Person::UnitId))
                    .col(integer_null(Person::SupervisorId))
                    .col(date_null(Person::JoinedOn))
                    .col(date_null(Person::LeftOn))
                    .col(boolean_null(Person::BackgroundOverride))
                    .col(string_null(Person::BackgroundReason))
                    .col(timestamp_with_time_zone(Person::CreatedAt))
                    .col(timestamp_with_time_zone(Person::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("person_unit")
                            .from(Person::Table, Person::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("person_supervisor")
                            .from(Person::Table, Person::SupervisorId)
                            .to(Person::Table, Person::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("agency_level_unit_since")
                    .table(AgencyLevel::Table)
                    .col(AgencyLevel::UnitId)
                    .col(AgencyLevel::Since)
                    .unique()
                    .to_owned(),
            )
            .await?;

        for (name, column) in [
            ("person_unit_id", Person::UnitId),
            ("person_supervisor_id", Person::SupervisorId),
        ] {
            manager
                .create_index(Index::create().name(name).table(Person::Table).col(column).to_owned())
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RoleAssignment::Table)
                    .col(pk_auto(RoleAssignment::Id))
                    .col(integer(RoleAssignment::PersonId))
                    .col(string_len(RoleAssignment::Role, 20))
                    .col(date(RoleAssignment::StartsOn))
                    .col(date_null(RoleAssignment::EndsOn))
                    .foreign_key(
                        ForeignKey::create()
                            .name("role_assignment_person")
                            .from(RoleAssignment::Table, RoleAssignment::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .col(pk_auto(Evidence::Id))
                    .col(integer(Evidence::PersonId))
                    .col(string_len(Evidence::Criterion, 24))
                    .col(string(Evidence::Detail))
                    .col(string_len_null(Evidence::Category, 24))
                    .col(date_null(Evidence::ObtainedOn))
                    .col(date_null(Evidence::ExpiresOn))
                    .col(integer_null(Evidence::CentiAmount))
                    .foreign_key(
                        ForeignKey::create()
                            .name("evidence_person")
                            .from(Evidence::Table, Evidence::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("role_assignment_person_id")
                    .table(RoleAssignment::Table)
                    .col(RoleAssignment::PersonId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("evidence_person_id")
                    .table(Evidence::Table)
                    .col(Evidence::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Evidence::Table.into_iden(),
            RoleAssignment::Table.into_iden(),
            Person::Table.into_iden(),
            AgencyLevel::Table.into_iden(),
            Unit::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
    Code,
    Name,
    ParentId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgencyLevel {
    Table,
    Id,
    UnitId,
    Level,
    Since,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
    EmployeeNo,
    Name,
    Email,
    SearchKey,
    UnitId,
    SupervisorId,
    JoinedOn,
    LeftOn,
    BackgroundOverride,
    BackgroundReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RoleAssignment {
    Table,
    Id,
    PersonId,
    Role,
    StartsOn,
    EndsOn,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    PersonId,
    Criterion,
    Detail,
    Category,
    ObtainedOn,
    ExpiresOn,
    CentiAmount,
}
