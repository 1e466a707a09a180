//! Marks the catalog's one course whose title names it general security
//! education (資通安全通識教育訓練) as serving the general security
//! requirement, in databases seeded before the seed catalog said so; without
//! it no security shortfall was ever given a course to close it.
//!
//! Only a course still without a category is changed, so an admin's own
//! choice stands; `down` clears the category it set.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The course's link, as the seed catalog gives it: links identify seed
/// courses, and titles may have been edited since.
const LINK: &str = "https://elearn.hrd.gov.tw/mooc/course_share.php?code=0af2c17df9b39b968eddcd824221b7d0";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_category(manager, Some("general"), None).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_category(manager, None, Some("general")).await
    }
}

/// Sets the course's category to `to` where it is `from` now.
async fn set_category(manager: &SchemaManager<'_>, to: Option<&str>, from: Option<&str>) -> Result<(), DbErr> {
    let was = match from {
        Some(category) => Expr::col(Course::SecurityCategory).eq(category),
        None => Expr::col(Course::SecurityCategory).is_null(),
    };
    let update = Query::update()
        .table(Course::Table)
        .value(Course::SecurityCategory, to)
        .and_where(Expr::col(Course::Link).eq(LINK))
        .and_where(was)
        .to_owned();
    manager.exec_stmt(update).await
}

#[derive(DeriveIden)]
enum Course {
    Table,
    Link,
    SecurityCategory,
}
