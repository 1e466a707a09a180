//! A topic of Table 1: a row of a facet, or an entry of a technical domain's cell.

use sea_orm::entity::prelude::*;

use crate::enums::{Domain, Facet, Level};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub facet: Facet,
    pub domain: Option<Domain>,
    pub level: Option<Level>,
    pub title: String,
    /// Order within its facet or cell, as in the source.
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
