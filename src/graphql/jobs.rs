//! Jobs in GraphQL: running the quarterly job, its runs and its snapshot.

use async_graphql::connection::{Connection, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Object, SimpleObject};
use entity::{job_run, quarterly_shortfall};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::access::require_admin;
use super::catalog::{Facet, SecurityCategory};
use super::error::{ServiceResultExt, bad_argument};
use super::pagination::{Counted, after_id, page_size};
use super::scalars::DateTime;
use crate::clock;
use crate::hours::Hours;
use crate::jobs::quarterly::{self, Outcome, RunRequest, Trigger};
use crate::mail::{MailConfig, Sender};
use crate::personnel;

/// One run of a job.
pub struct JobRun(job_run::Model);

#[Object]
impl JobRun {
    async fn id(&self) -> i32 {
        self.0.id
    }

    async fn job(&self) -> &str {
        &self.0.job
    }

    async fn year(&self) -> i32 {
        self.0.year
    }

    async fn quarter(&self) -> i32 {
        self.0.quarter
    }

    async fn dry_run(&self) -> bool {
        self.0.dry_run
    }

    /// `running`, `completed` or `failed`.
    async fn status(&self) -> &str {
        &self.0.status
    }

    /// `schedule`, `catch_up`, `cli` or `admin`.
    async fn trigger(&self) -> &str {
        &self.0.trigger
    }

    async fn started_at(&self) -> DateTime {
        DateTime(self.0.started_at)
    }

    async fn finished_at(&self) -> Option<DateTime> {
        self.0.finished_at.map(DateTime)
    }

    /// People evaluated.
    async fn people(&self) -> i32 {
        self.0.people
    }

    /// Person-requirement lines in the snapshot.
    async fn lines(&self) -> i32 {
        self.0.lines
    }

    /// Reminders queued (or, in a dry run, that would be).
    async fn reminders(&self) -> i32 {
        self.0.reminders
    }

    async fn digests(&self) -> i32 {
        self.0.digests
    }

    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// What asking for a run did.
#[derive(SimpleObject)]
pub struct QuarterlyRunResult {
    /// `ran`, `busy` (another replica runs it), `already_done` or
    /// `nobody_yet` (no people loaded).
    outcome: String,
    run: Option<JobRun>,
    /// Messages queued by this run (for a dry run: that would be).
    messages: Vec<PlannedMessage>,
}

#[derive(SimpleObject)]
pub struct PlannedMessage {
    /// `reminder` or `digest`.
    kind: String,
    recipient_no: String,
    subject: String,
    /// False when an earlier run had queued it already.
    new: bool,
}

/// A person's standing on one requirement at the end of a quarter, as reported.
pub struct Shortfall(quarterly_shortfall::Model);

#[Object]
impl Shortfall {
    async fn employee_no(&self) -> &str {
        &self.0.employee_no
    }

    async fn year(&self) -> i32 {
        self.0.year
    }

    async fn quarter(&self) -> i32 {
        self.0.quarter
    }

    /// The person's status at the quarter's end.
    async fn status(&self) -> &str {
        &self.0.status
    }

    async fn facet(&self) -> Facet {
        self.0.facet.into()
    }

    async fn security_category(&self) -> Option<SecurityCategory> {
        self.0.security_category.map(Into::into)
    }

    async fn required_hours(&self) -> f64 {
        Hours::from_centihours(self.0.required_centihours.into()).as_f64()
    }

    async fn counted_hours(&self) -> f64 {
        Hours::from_centihours(self.0.counted_centihours.into()).as_f64()
    }

    async fn expected_hours(&self) -> f64 {
        Hours::from_centihours(self.0.expected_centihours.into()).as_f64()
    }

    async fn shortfall_hours(&self) -> f64 {
        Hours::from_centihours(self.0.shortfall_centihours.into()).as_f64()
    }

    async fn behind(&self) -> bool {
        self.0.behind
    }
}

pub type ShortfallConnection = Connection<OpaqueCursor<i32>, Shortfall, Counted, EmptyFields>;

#[derive(Default)]
pub struct JobsQuery;

#[Object]
impl JobsQuery {
    /// The quarterly job's runs, newest first (admins).
    async fn job_runs(&self, ctx: &Context<'_>, first: Option<i32>) -> async_graphql::Result<Vec<JobRun>> {
        require_admin(ctx)?;
        let first = page_size(first)?;
        Ok(quarterly::runs(super::db(ctx), first)
            .await
            .gql()?
            .into_iter()
            .map(JobRun)
            .collect())
    }

    /// The snapshot a quarter's run stored, one row per person and line, in
    /// the order the run wrote them (agency by agency); `unitCode` narrows it
    /// to a unit and its subtree.
    #[graphql(complexity = "super::pagination::page_complexity(first, child_complexity)")]
    async fn quarterly_shortfalls(
        &self,
        ctx: &Context<'_>,
        year: i32,
        quarter: i32,
        unit_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ShortfallConnection> {
        require_admin(ctx)?;
        if !(1..=4).contains(&quarter) {
            return Err(bad_argument("quarter", "must be 1, 2, 3 or 4"));
        }
        let db = super::db(ctx);
        let first = page_size(first)?;
        let after = after_id(after)?;

        let mut query = quarterly_shortfall::Entity::find()
            .filter(quarterly_shortfall::Column::Year.eq(year))
            .filter(quarterly_shortfall::Column::Quarter.eq(quarter));
        if let Some(code) = unit_code {
            let unit = personnel::find_unit(db, &code)
                .await
                .gql()?
                .ok_or_else(|| bad_argument("unitCode", format!("unit {code} does not exist")))?;
            let units = personnel::subtree_ids(db, unit.id).await.gql()?;
            query = query.filter(quarterly_shortfall::Column::UnitId.is_in(units));
        }
        let total = query.clone().count(db).await.map_err(crate::Error::from).gql()?;
        if let Some(after) = after {
            query = query.filter(quarterly_shortfall::Column::Id.gt(after));
        }
        let mut rows = query
            .order_by_asc(quarterly_shortfall::Column::Id)
            .limit(first + 1)
            .all(db)
            .await
            .map_err(crate::Error::from)
            .gql()?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);

        let mut connection =
            Connection::with_additional_fields(after.is_some(), has_next, Counted { total_count: total });
        connection
            .edges
            .extend(rows.into_iter().map(|r| Edge::new(OpaqueCursor(r.id), Shortfall(r))));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct JobsMutation;

#[Object]
impl JobsMutation {
    /// Runs the quarterly shortfall job now (admins): snapshot, queue, send.
    /// A dry run computes and lists the messages, writing no snapshot or
    /// message and sending nothing; it is recorded in `jobRuns` with
    /// `dryRun: true`, so that admins can see it ran.
    async fn run_quarterly_shortfall(
        &self,
        ctx: &Context<'_>,
        year: i32,
        quarter: i32,
        #[graphql(default)] dry_run: bool,
    ) -> async_graphql::Result<QuarterlyRunResult> {
        require_admin(ctx)?;
        let db = super::db(ctx);
        let quarter = u32::try_from(quarter).map_err(|_| bad_argument("quarter", "must be 1, 2, 3 or 4"))?;
        let request = RunRequest {
            year,
            quarter,
            dry_run,
            trigger: Trigger::Admin,
            holder: format!("admin-{}", std::process::id()),
            today: clock::today(),
        };

        let outcome = quarterly::run_as(db, request, &super::access::actor(ctx)).await.gql()?;
        if !dry_run && let Some(mail) = ctx.data_opt::<MailConfig>() {
            let sender = Sender::new(mail.clone()).gql()?;
            sender.drain(db).await.gql()?;
        }

        Ok(match outcome {
            Outcome::Ran { run, messages } => QuarterlyRunResult {
                outcome: "ran".into(),
                run: Some(JobRun(run)),
                messages: messages
                    .into_iter()
                    .map(|m| PlannedMessage {
                        kind: m.kind.into(),
                        recipient_no: m.recipient_no,
                        subject: m.subject,
                        new: m.new,
                    })
                    .collect(),
            },
            Outcome::Busy => QuarterlyRunResult {
                outcome: "busy".into(),
                run: None,
                messages: Vec::new(),
            },
            Outcome::NobodyYet => QuarterlyRunResult {
                outcome: "nobody_yet".into(),
                run: None,
                messages: Vec::new(),
            },
            Outcome::AlreadyDone { run } => QuarterlyRunResult {
                outcome: "already_done".into(),
                run: Some(JobRun(run)),
                messages: Vec::new(),
            },
        })
    }
}
