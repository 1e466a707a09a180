//! A lease in the database, so that one replica among many runs a job.
//!
//! Taking the lease is one conditional UPDATE, atomic on SQLite and
//! PostgreSQL alike: it succeeds only when nobody holds the lease, or the
//! holder's time ran out (a replica that died mid-run). Holding it already
//! is no exception: a holder names one run, not a process, since two runs
//! of one process (two admins at once, the schedule and a catch-up) or of
//! two containers that are each process 1 would otherwise both hold it.

use chrono::{DateTime, Duration, Utc};
use entity::job_lease;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::error::Result;

pub async fn acquire(db: &impl ConnectionTrait, name: &str, holder: &str, ttl: Duration) -> Result<bool> {
    let now = Utc::now();
    ensure_row(db, name).await?;

    let taken = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Holder, Expr::value(holder))
        .col_expr(job_lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(job_lease::Column::Name.eq(name))
        .filter(
            job_lease::Column::Holder
                .is_null()
                .or(job_lease::Column::ExpiresAt.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Renews the lease if `holder` still holds it, and says whether it does. A
/// run calls it in its own transaction just before committing: a run that
/// outlived its lease and lost it to another then keeps nothing, and one
/// that still holds it keeps the lease row locked until it commits, so that
/// nobody takes the quarter over in between.
pub async fn confirm(db: &impl ConnectionTrait, name: &str, holder: &str, ttl: Duration) -> Result<bool> {
    let renewed = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::ExpiresAt, Expr::value(Utc::now() + ttl))
        .filter(job_lease::Column::Name.eq(name))
        .filter(job_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

pub async fn release(db: &impl ConnectionTrait, name: &str, holder: &str) -> Result<()> {
    job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Holder, Expr::value(Option::<String>::None))
        .col_expr(job_lease::Column::ExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(job_lease::Column::Name.eq(name))
        .filter(job_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}

/// A token that tells one run from every other: the time in nanoseconds and
/// a number drawn from the standard library's per-process random keys, so
/// that two processes started at once still differ.
pub fn run_token() -> String {
    use std::hash::{BuildHasher, Hasher};

    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{:016x}", hasher.finish())
}

async fn ensure_row(db: &impl ConnectionTrait, name: &str) -> Result<()> {
    let row = job_lease::ActiveModel {
        name: Set(name.to_string()),
        holder: Set(None),
        expires_at: Set(None),
    };
    job_lease::Entity::insert(row)
        .on_conflict(OnConflict::column(job_lease::Column::Name).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}
