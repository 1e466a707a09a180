//! A completed training of a person: a catalog course, or an outside one with
//! its own title.

use sea_orm::entity::prelude::*;

use crate::enums::{Facet, Level, Platform, SecurityCategory};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "completion")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub person_id: i32,
    /// The catalog course, when the completion matched one.
    pub course_id: Option<i32>,
    /// `course:<id>` for a catalog course, else `title:<folded title>`: with the
    /// person and the date, what makes a completion the same one again.
    pub course_key: String,
    pub title: String,
    pub centihours: i32,
    pub completed_on: Date,
    pub platform: Platform,
    /// The map facet it counts toward; `None` for training that serves only
    /// the security requirement.
    pub facet: Option<Facet>,
    pub level: Option<Level>,
    pub security_category: Option<SecurityCategory>,
    /// Where the record came from: `import`, `admin`.
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::person::Entity",
        from = "Column::PersonId",
        to = "super::person::Column::Id",
        on_delete = "Cascade"
    )]
    Person,
}

impl ActiveModelBehavior for ActiveModel {}
