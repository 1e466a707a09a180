//! An agency's security responsibility level from a date on; the row with the
//! latest `since` not after a date is the level in force on it.

use sea_orm::entity::prelude::*;

use crate::enums::SecurityLevel;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agency_level")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub unit_id: i32,
    pub level: SecurityLevel,
    pub since: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::unit::Entity",
        from = "Column::UnitId",
        to = "super::unit::Column::Id",
        on_delete = "Cascade"
    )]
    Unit,
}

impl ActiveModelBehavior for ActiveModel {}
