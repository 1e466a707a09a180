//! A person tracked by learnmap, keyed by employee number. No national ID
//! number is ever stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub employee_no: String,
    pub name: String,
    pub email: String,
    /// Name, employee number and email folded for search.
    pub search_key: String,
    pub unit_id: i32,
    pub supervisor_id: Option<i32>,
    pub joined_on: Option<Date>,
    pub left_on: Option<Date>,
    /// An admin's answer to "has a technical background", overriding evidence.
    pub background_override: Option<bool>,
    pub background_reason: Option<String>,
    /// The language of messages: `zh` (Traditional Chinese, the default) or `en`.
    pub language: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::unit::Entity",
        from = "Column::UnitId",
        to = "super::unit::Column::Id"
    )]
    Unit,
    #[sea_orm(belongs_to = "Entity", from = "Column::SupervisorId", to = "Column::Id")]
    Supervisor,
}

impl ActiveModelBehavior for ActiveModel {}
