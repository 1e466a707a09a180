//! A person's standing on one requirement at the end of a quarter, as reported:
//! later changes to completions do not rewrite it.

use sea_orm::entity::prelude::*;

use crate::enums::{Facet, SecurityCategory};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quarterly_shortfall")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub year: i32,
    pub quarter: i32,
    pub run_id: i32,
    pub person_id: i32,
    pub employee_no: String,
    pub unit_id: i32,
    /// The person's status: `complete`, `on_track`, `behind`, `non_compliant`.
    pub status: String,
    pub facet: Facet,
    pub security_category: Option<SecurityCategory>,
    pub levels: String,
    pub window_years: i32,
    pub required_centihours: i32,
    pub counted_centihours: i32,
    pub expected_centihours: i32,
    pub shortfall_centihours: i32,
    pub behind: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
