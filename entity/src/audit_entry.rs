//! One entry of the audit log: who changed what, when, and how it looked
//! before and after.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub occurred_at: DateTimeUtc,
    /// An employee number, `cli:<OS user>`, `system` or `admin`.
    pub actor: String,
    /// The mutation or command: `createCourse`, `importPeople`, `seed`.
    pub action: String,
    /// The kind of record: `course`, `person`, `unit`, `import`.
    pub entity: String,
    /// The record's key: a course id, an employee number, a unit code, a year.
    pub entity_key: String,
    /// The record as JSON text before the change; `None` when it was created.
    pub before: Option<String>,
    /// The record as JSON text after the change; `None` when it was deleted.
    pub after: Option<String>,
    pub summary: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
