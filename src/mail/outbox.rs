//! The outbox table: queuing a message once, and claiming messages to send.

use chrono::{DateTime, Duration, Utc};
use entity::outbox;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::templates::Rendered;
use crate::error::Result;

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `kind:recipient:year:Qn`: queuing the same key twice keeps the first.
    pub key: String,
    pub kind: &'static str,
    pub recipient_no: String,
    pub recipient_name: String,
    pub recipient_email: String,
    pub rendered: Rendered,
}

/// Queues a message unless its key is queued already; true when added.
pub async fn queue(db: &impl ConnectionTrait, message: NewMessage, now: DateTime<Utc>) -> Result<bool> {
    let model = outbox::ActiveModel {
        key: Set(message.key),
        kind: Set(message.kind.to_string()),
        recipient_no: Set(message.recipient_no),
        recipient_name: Set(message.recipient_name),
        recipient_email: Set(message.recipient_email),
        subject: Set(message.rendered.subject),
        text_body: Set(message.rendered.text),
        html_body: Set(message.rendered.html),
        status: Set(PENDING.to_string()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    };
    let inserted = outbox::Entity::insert(model)
        .on_conflict(OnConflict::column(outbox::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

fn due(now: DateTime<Utc>, stale_after: Duration) -> sea_orm::sea_query::SimpleExpr {
    outbox::Column::Status
        .eq(PENDING)
        .and(outbox::Column::NextAttemptAt.lte(now))
        .or(outbox::Column::Status
            .eq(SENDING)
            .and(outbox::Column::ClaimedAt.lt(now - stale_after)))
}

/// The messages due now: pending ones whose time has come, and ones left
/// `sending` longer than `stale_after` by a sender that stopped.
pub async fn due_ids(db: &impl ConnectionTrait, now: DateTime<Utc>, stale_after: Duration) -> Result<Vec<i32>> {
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(due(now, stale_after))
        .order_by_asc(outbox::Column::Id)
        .into_tuple::<i32>()
        .all(db)
        .await?)
}

/// Claims a message that is still due, marking it `sending`. The conditional
/// update makes the claim safe against another sender claiming it at once.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Result<Option<outbox::Model>> {
    let claimed = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(SENDING))
        .col_expr(outbox::Column::ClaimedAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(id))
        .filter(due(now, stale_after))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    Ok(outbox::Entity::find_by_id(id).one(db).await?)
}

pub async fn mark_sent(db: &impl ConnectionTrait, message: outbox::Model, now: DateTime<Utc>) -> Result<()> {
    let attempts = message.attempts + 1;
    let mut model: outbox::ActiveModel = message.into();
    model.status = Set(SENT.to_string());
    model.attempts = Set(attempts);
    model.sent_at = Set(Some(now));
    model.last_error = Set(None);
    model.update(db).await?;
    Ok(())
}

/// Records a failed attempt: pending again after `retry_at`, or failed for
/// good when `retry_at` is `None`.
pub async fn mark_attempt_failed(
    db: &impl ConnectionTrait,
    message: outbox::Model,
    error: String,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let attempts = message.attempts + 1;
    let mut model: outbox::ActiveModel = message.into();
    model.attempts = Set(attempts);
    model.last_error = Set(Some(error));
    model.claimed_at = Set(None);
    match retry_at {
        Some(at) => {
            model.status = Set(PENDING.to_string());
            model.next_attempt_at = Set(at);
        }
        None => model.status = Set(FAILED.to_string()),
    }
    model.update(db).await?;
    Ok(())
}

/// Messages by status, for reports and tests.
pub async fn by_status(db: &impl ConnectionTrait, status: &str) -> Result<Vec<outbox::Model>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::Status.eq(status))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await?)
}
