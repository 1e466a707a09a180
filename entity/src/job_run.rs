//! One run of a scheduled job, for a year and quarter.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub job: String,
    pub year: i32,
    pub quarter: i32,
    pub dry_run: bool,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// `schedule`, `catch_up`, `cli` or `admin`.
    pub trigger: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub people: i32,
    pub lines: i32,
    pub reminders: i32,
    pub digests: i32,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
