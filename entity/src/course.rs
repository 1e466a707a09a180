//! A course of the catalog: a recommended course of the learning map, or one an
//! admin added.

use sea_orm::entity::prelude::*;

use crate::enums::{Domain, Facet, Level, Platform, SecurityCategory};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub title: String,
    /// The title folded for search and duplicate checks: NFKC, lower case,
    /// single spaces.
    pub title_key: String,
    /// Hours in hundredths, so that sums stay exact.
    pub centihours: i32,
    pub link: String,
    pub platform: Platform,
    /// The course's identifier on its platform, read from the link.
    pub platform_code: Option<String>,
    pub facet: Facet,
    pub level: Option<Level>,
    pub domain: Option<Domain>,
    /// Set when the course also serves the security-training requirement.
    pub security_category: Option<SecurityCategory>,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
