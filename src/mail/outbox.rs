//! The outbox table: queuing a message once, and claiming messages to send.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use entity::outbox;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set, Statement, Value,
};

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

/// Rows per insert on SQLite: 15 columns each keeps a chunk far below its
/// bind parameters, and a few hundred bodies in memory at once.
const QUEUE_CHUNK: usize = 200;

/// Queues many messages in a few statements; a key queued before keeps its
/// first message. Returns how many rows were added.
///
/// On PostgreSQL the messages go in one statement whose columns are bound as
/// arrays and spread back into rows by `unnest`, as the quarterly snapshot's
/// are: one statement text, parsed and planned once, however many messages.
pub async fn queue_many(db: &impl ConnectionTrait, messages: Vec<NewMessage>, now: DateTime<Utc>) -> Result<u64> {
    if messages.is_empty() {
        return Ok(0);
    }
    if db.get_database_backend() == DbBackend::Postgres {
        return queue_unnested(db, messages, now).await;
    }

    let mut added = 0;
    let mut rows = messages.into_iter().map(|m| pending(m, now)).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<outbox::ActiveModel> = rows.by_ref().take(QUEUE_CHUNK).collect();
        added += outbox::Entity::insert_many(chunk)
            .on_conflict(OnConflict::column(outbox::Column::Key).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(added)
}

const QUEUE_UNNESTED: &str = "INSERT INTO outbox \
    (key, kind, recipient_no, recipient_name, recipient_email, subject, text_body, html_body, \
     status, attempts, next_attempt_at, created_at) \
    SELECT m.*, $9, 0, $10, $10 \
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) \
      AS m(key, kind, recipient_no, recipient_name, recipient_email, subject, text_body, html_body) \
    ON CONFLICT (key) DO NOTHING";

async fn queue_unnested(db: &impl ConnectionTrait, messages: Vec<NewMessage>, now: DateTime<Utc>) -> Result<u64> {
    let mut columns: [Vec<String>; 8] = Default::default();
    for column in &mut columns {
        column.reserve_exact(messages.len());
    }
    for m in messages {
        let fields = [
            m.key,
            m.kind.to_string(),
            m.recipient_no,
            m.recipient_name,
            m.recipient_email,
            m.rendered.subject,
            m.rendered.text,
            m.rendered.html,
        ];
        for (column, field) in columns.iter_mut().zip(fields) {
            column.push(field);
        }
    }

    let mut values: Vec<Value> = columns.into_iter().map(Value::from).collect();
    values.push(PENDING.into());
    values.push(now.into());
    let added = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            QUEUE_UNNESTED,
            values,
        ))
        .await?
        .rows_affected();
    Ok(added)
}

/// The keys queued so far whose key ends with `suffix` (such as `:2026:Q1`),
/// so that a run can tell which of its messages are new before queuing them.
pub async fn keys_ending_with(db: &impl ConnectionTrait, suffix: &str) -> Result<HashSet<String>> {
    let keys = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Key)
        .filter(outbox::Column::Key.like(format!("%{suffix}")))
        .into_tuple::<String>()
        .all(db)
        .await?;
    Ok(keys.into_iter().filter(|k| k.ends_with(suffix)).collect())
}

fn pending(message: NewMessage, now: DateTime<Utc>) -> outbox::ActiveModel {
    outbox::ActiveModel {
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
    }
}

fn due(now: DateTime<Utc>, stale_after: Duration) -> sea_orm::sea_query::SimpleExpr {
    outbox::Column::Status
        .eq(PENDING)
        .and(outbox::Column::NextAttemptAt.lte(now))
        .or(outbox::Column::Status
            .eq(SENDING)
            .and(outbox::Column::ClaimedAt.lt(now - stale_after)))
}

/// Claims up to `limit` messages that are due now and have an id above
/// `after`, in id order, marking them `sending`; returns the claimed rows.
///
/// Due means pending and its time has come, or left `sending` longer than
/// `stale_after` by a sender that stopped. The update repeats the due
/// condition, so of two senders claiming at once each message goes to one:
/// PostgreSQL re-checks the condition on a row another transaction just
/// changed, and SQLite runs one writer at a time.
pub async fn claim_batch(
    db: &impl ConnectionTrait,
    after: i32,
    limit: u64,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Result<Vec<outbox::Model>> {
    let candidates = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(outbox::Column::Id.gt(after))
        .filter(due(now, stale_after))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .into_query();

    let mut claimed = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(SENDING))
        .col_expr(outbox::Column::ClaimedAt, Expr::value(now))
        .filter(outbox::Column::Id.in_subquery(candidates))
        .filter(due(now, stale_after))
        .exec_with_returning(db)
        .await?;
    claimed.sort_by_key(|m| m.id);
    Ok(claimed)
}

/// Marks delivered messages sent, one statement for the lot.
pub async fn mark_sent(db: &impl ConnectionTrait, ids: &[i32], now: DateTime<Utc>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(SENT))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(outbox::Column::LastError, Expr::value(Option::<String>::None))
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives claimed messages back untouched (a sender stopping before it tried
/// them): pending again at once, with no attempt counted.
pub async fn release(db: &impl ConnectionTrait, ids: &[i32]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(PENDING))
        .col_expr(outbox::Column::ClaimedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(outbox::Column::Status.eq(SENDING))
        .exec(db)
        .await?;
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
