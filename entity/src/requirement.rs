//! One requirement of a year's rule set: who it applies to and how many hours of
//! which training it asks for.

use sea_orm::entity::prelude::*;

use crate::enums::{Facet, Role, SecurityCategory};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requirement")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub year: i32,
    /// The role it applies to; `None` applies to people holding no IT role.
    pub role: Option<Role>,
    pub facet: Facet,
    /// Applies only to people with (true) or without (false) a technical
    /// background; `None` applies to both.
    pub technical_background: Option<bool>,
    /// Course levels that count, comma-separated (`A,B`); empty for any level.
    pub levels: String,
    pub security_category: Option<SecurityCategory>,
    /// Agency security levels it applies to, comma-separated; empty for all.
    pub agency_levels: String,
    pub window_years: i32,
    pub centihours: i32,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::rule_set::Entity",
        from = "Column::Year",
        to = "super::rule_set::Column::Year",
        on_delete = "Cascade"
    )]
    RuleSet,
}

impl Related<super::rule_set::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RuleSet.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
