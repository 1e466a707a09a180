//! Evidence toward one of the seven technical-background criteria.

use sea_orm::entity::prelude::*;

use crate::enums::{CertificateCategory, Criterion};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub person_id: i32,
    pub criterion: Criterion,
    /// What the evidence is: the certificate's name, the department, the course.
    pub detail: String,
    pub category: Option<CertificateCategory>,
    pub obtained_on: Option<Date>,
    pub expires_on: Option<Date>,
    /// Credits or hours, in hundredths.
    pub centi_amount: Option<i32>,
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
