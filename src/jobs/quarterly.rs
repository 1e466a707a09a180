//! The quarterly shortfall job: after each quarter, snapshot everyone's
//! standing, queue a reminder to each person who owes hours and a digest to
//! each supervisor with a report behind.
//!
//! Exactly once: a database lease lets one replica run it; scheduled and
//! catch-up runs skip a quarter that already has a completed run; and every
//! message has an outbox key, so a rerun, a crash in the middle or a second
//! replica queues nothing twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use entity::{Facet, SecurityCategory, job_run, person, unit};
use minijinja::context;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::shortfall::{self, Period, ShortfallRow};
use super::{lease, quarter};
use crate::audit::{self, Actor, Entry};
use crate::catalog::names;
use crate::compliance::engine::Status;
use crate::compliance::service::{self, Detail, PersonCompliance, Snapshot, UnitCompliance};
use crate::error::{Error, Result};
use crate::hours::Hours;
use crate::mail::outbox::{self, NewMessage};
use crate::mail::templates;
use crate::reference::Reference;
use crate::text;

pub const JOB: &str = "quarterly_shortfall";
const LEASE_TTL_MINUTES: i64 = 30;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    CatchUp,
    Cli,
    Admin,
}

impl Trigger {
    fn code(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::Cli => "cli",
            Trigger::Admin => "admin",
        }
    }

    /// Who the audit log names for a run of this trigger when the caller
    /// names nobody: the scheduler is `system`, the CLI its OS user.
    fn default_actor(self) -> Actor {
        match self {
            Trigger::Schedule | Trigger::CatchUp => Actor::system(),
            Trigger::Cli => Actor::cli(),
            Trigger::Admin => Actor::admin(),
        }
    }

    /// Scheduled runs happen once per quarter; people may rerun by hand.
    fn once_per_quarter(self) -> bool {
        matches!(self, Trigger::Schedule | Trigger::CatchUp)
    }
}

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub year: i32,
    pub quarter: u32,
    pub dry_run: bool,
    pub trigger: Trigger,
    /// Who runs it: a replica's name, for the lease (each run adds a token of
    /// its own to it).
    pub holder: String,
    /// The date mail is judged against (people who have left get none).
    pub today: NaiveDate,
}

/// A message the run queued, or would queue in a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub kind: &'static str,
    pub recipient_no: String,
    pub subject: String,
    /// False when the key was queued before (nothing new).
    pub new: bool,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Ran {
        run: job_run::Model,
        messages: Vec<Planned>,
    },
    /// Another replica holds the lease.
    Busy,
    /// The quarter has a completed run already.
    AlreadyDone { run: job_run::Model },
    /// A scheduled run found nobody to evaluate (a database not loaded yet):
    /// nothing is recorded, so the quarter runs once people are there.
    NobodyYet,
}

/// Runs the job as its trigger's actor (see [`run_as`]).
pub async fn run(db: &DatabaseConnection, request: RunRequest) -> Result<Outcome> {
    let actor = request.trigger.default_actor();
    run_as(db, request, &actor).await
}

/// Runs the job; a real run that completes records `runQuarterlyShortfall`
/// with its run id and counts, in the transaction of its snapshot and outbox.
/// A dry run writes no snapshot, message or audit entry, but keeps its
/// `job_run` row (marked `dry_run`): operators asked to see that it ran and
/// what it counted, and a dry run never counts as the quarter done.
pub async fn run_as(db: &DatabaseConnection, request: RunRequest, actor: &Actor) -> Result<Outcome> {
    let started = std::time::Instant::now();
    // The year first: a quarter of a year out of range has no last day either.
    service::as_of_for(request.year, None, request.today)?;
    let as_of = quarter::last_day(request.year, request.quarter)
        .ok_or_else(|| Error::bad_input("quarter", "must be 1, 2, 3 or 4"))?;
    // A year without rules is refused before anything is recorded, as a
    // quarter that has not ended is: it is no run.
    crate::rules::require_in_force(db, request.year).await?;
    if !request.dry_run && as_of >= request.today {
        return Err(Error::bad_input(
            "quarter",
            format!(
                "{} Q{} ends on {as_of}: it can run from the day after (a dry run works any time)",
                request.year, request.quarter
            ),
        ));
    }

    let held = Held {
        name: format!("{JOB}:{}-Q{}", request.year, request.quarter),
        holder: format!("{} run {}", request.holder, lease::run_token()),
    };
    let ttl = Duration::minutes(LEASE_TTL_MINUTES);
    if !request.dry_run && !lease::acquire(db, &held.name, &held.holder, ttl).await? {
        crate::metrics::job_finished(JOB, &Ok(Outcome::Busy), started);
        return Ok(Outcome::Busy);
    }

    let outcome = run_holding_lease(db, &request, as_of, actor, &held).await;
    crate::metrics::job_finished(JOB, &outcome, started);
    if !request.dry_run {
        lease::release(db, &held.name, &held.holder).await?;
    }
    outcome
}

/// The lease a run holds (for a dry run, one it never took).
struct Held {
    name: String,
    holder: String,
}

async fn run_holding_lease(
    db: &DatabaseConnection,
    request: &RunRequest,
    as_of: NaiveDate,
    actor: &Actor,
    held: &Held,
) -> Result<Outcome> {
    if request.trigger.once_per_quarter()
        && let Some(done) = completed_run(db, request.year, request.quarter).await?
    {
        return Ok(Outcome::AlreadyDone { run: done });
    }

    if request.trigger.once_per_quarter() && person::Entity::find().count(db).await? == 0 {
        return Ok(Outcome::NobodyYet);
    }

    if !request.dry_run {
        close_abandoned_runs(db, request).await?;
    }
    let started = start_run(db, request).await?;
    let span = tracing::info_span!(
        "job",
        job.name = JOB,
        job.year = request.year,
        job.quarter = request.quarter,
        job.run = started.id
    );
    let _entered = span.enter();

    match compute_and_queue(db, request, as_of, started.id, actor, held).await {
        Ok((counts, messages)) => {
            let run = finish_run(db, started, "completed", counts, None).await?;
            tracing::info!(
                job.people = run.people,
                job.reminders = run.reminders,
                job.digests = run.digests,
                "job run completed"
            );
            Ok(Outcome::Ran { run, messages })
        }
        Err(error) => {
            tracing::error!(error = %error, "job run failed");
            finish_run(db, started, "failed", Counts::default(), Some(error.to_string())).await?;
            Err(error)
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    people: usize,
    lines: usize,
    reminders: usize,
    digests: usize,
}

/// Evaluates agency by agency in three stages that run side by side: one
/// agency is read while the one before is planned (its snapshot rows and
/// reminders rendered) and the one before that is written, all in one write
/// transaction: either all of it lands or, on error or in a dry run, none.
/// Memory holds a few agencies at a time (one in each stage, one waiting
/// between stages); digests follow from a compact note of who is behind.
///
/// On PostgreSQL everything is read from one [`Snapshot`], taken as the run
/// starts, in parts on connections of their own, so that reading and writing
/// go on side by side. SQLite has one writer and cannot share a snapshot
/// between connections, so there the run reads in its write transaction.
async fn compute_and_queue(
    db: &DatabaseConnection,
    request: &RunRequest,
    as_of: NaiveDate,
    run_id: i32,
    actor: &Actor,
    held: &Held,
) -> Result<(Counts, Vec<Planned>)> {
    let snapshot = match db.get_database_backend() {
        DbBackend::Postgres => Some(Snapshot::open(db).await?),
        _ => None,
    };
    // A dry run writes nothing, so it takes no write lock: on SQLite imports
    // go on beside it instead of waiting for it.
    let txn = if request.dry_run {
        db.begin().await?
    } else {
        crate::db::begin_write(db).await?
    };
    let source = match &snapshot {
        Some(snapshot) => Source::Snapshot(snapshot),
        None => Source::Run(&txn),
    };

    let suffix = format!(":{}:Q{}", request.year, request.quarter);
    let mut progress = Progress::new(outbox::keys_ending_with(&txn, &suffix).await?);
    let period = Period {
        year: request.year,
        quarter: request.quarter as i32,
        run_id,
    };
    if !request.dry_run {
        shortfall::delete(&txn, period).await?;
    }

    let (units, read_units) = tokio::sync::mpsc::channel::<UnitCompliance>(1);
    let (batches, mut received) = tokio::sync::mpsc::channel::<Batch>(1);
    let read = read_agencies(&source, request.year, as_of, units);
    let plan = plan_agencies(source.reader(), request, as_of, &mut progress, read_units, batches);
    let write = async {
        while let Some(batch) = received.recv().await {
            if !request.dry_run {
                shortfall::insert(&txn, period, batch.rows).await?;
                outbox::queue_many(&txn, batch.messages, Utc::now()).await?;
            }
        }
        Ok(())
    };
    tokio::try_join!(read, plan, write)?;

    if let Some(snapshot) = snapshot {
        snapshot.close().await?;
    }
    if request.dry_run {
        txn.rollback().await?;
    } else {
        let ttl = Duration::minutes(LEASE_TTL_MINUTES);
        if !lease::confirm(&txn, &held.name, &held.holder, ttl).await? {
            return Err(Error::Internal(
                "the run outlived its lease and another run took the quarter over; nothing of this run was kept".into(),
            ));
        }
        audit::record(&txn, actor, run_entry(request, run_id, progress.counts)).await?;
        txn.commit().await?;
    }
    Ok((progress.counts, progress.planned))
}

/// Where a run reads people and their facts.
enum Source<'a> {
    Snapshot(&'a Snapshot),
    Run(&'a DatabaseTransaction),
}

impl Source<'_> {
    fn reader(&self) -> &DatabaseTransaction {
        match self {
            Source::Snapshot(snapshot) => snapshot.reader(),
            Source::Run(txn) => txn,
        }
    }

    async fn unit(&self, reference: Arc<Reference>, code: &str, year: i32, as_of: NaiveDate) -> Result<UnitCompliance> {
        match self {
            Source::Snapshot(snapshot) => snapshot.unit(reference, code, year, as_of, Detail::Totals).await,
            Source::Run(txn) => service::for_unit_with(*txn, reference, code, year, as_of, Detail::Totals).await,
        }
    }
}

/// What one agency, or the digests at the end, leave to be written.
struct Batch {
    rows: Vec<ShortfallRow>,
    messages: Vec<NewMessage>,
}

/// Reads and evaluates each agency in turn and sends it on to be planned.
/// Stops early when the planner has stopped, whose error is the run's.
async fn read_agencies(
    source: &Source<'_>,
    year: i32,
    as_of: NaiveDate,
    units: tokio::sync::mpsc::Sender<UnitCompliance>,
) -> Result<()> {
    let db = source.reader();
    let reference = Arc::new(Reference::load_current(db).await?);

    for agency in agencies(db).await? {
        let mut unit = source.unit(reference.clone(), &agency.code, year, as_of).await?;
        add_taken_elsewhere(db, &mut unit).await?;
        if units.send(unit).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Every reminder recommends courses, so the job reads, for everyone, the
/// courses their evaluation did not read (at any date: the sums it read name
/// none).
async fn add_taken_elsewhere(db: &DatabaseTransaction, unit: &mut UnitCompliance) -> Result<()> {
    let ids: Vec<i32> = unit.people.iter().map(|p| p.person.id).collect();
    let mut taken = service::taken_elsewhere_of(db, &ids, unit.year, Some(unit.as_of), unit.detail).await?;
    for p in &mut unit.people {
        p.taken_elsewhere = taken.remove(&p.person.id).unwrap_or_default();
    }
    Ok(())
}

/// Plans each agency's snapshot rows and reminders and sends them on to be
/// written; then the digests. Stops early when the writer has stopped, whose
/// error is the run's.
async fn plan_agencies(
    db: &DatabaseTransaction,
    request: &RunRequest,
    as_of: NaiveDate,
    progress: &mut Progress,
    mut units: tokio::sync::mpsc::Receiver<UnitCompliance>,
    batches: tokio::sync::mpsc::Sender<Batch>,
) -> Result<()> {
    while let Some(unit) = units.recv().await {
        let (unit, batch) = plan_agency(unit, request.clone(), as_of).await?;
        progress.plan(&batch.messages);
        progress.note(&unit.people, request.today);
        if batches.send(batch).await.is_err() {
            return Ok(());
        }
    }

    let messages = digests(db, std::mem::take(&mut progress.behind), request, as_of).await?;
    progress.plan(&messages);
    let _ = batches
        .send(Batch {
            rows: Vec::new(),
            messages,
        })
        .await;
    Ok(())
}

/// One agency's snapshot rows and rendered reminders, made on a thread of
/// their own: rendering is a third of the run's work in this process, and
/// meanwhile the next agency is read and decoded on the other.
async fn plan_agency(unit: UnitCompliance, request: RunRequest, as_of: NaiveDate) -> Result<(UnitCompliance, Batch)> {
    let planned = tokio::task::spawn_blocking(move || {
        let rows = if request.dry_run {
            Vec::new()
        } else {
            shortfall::rows_of(&unit.people)
        };
        let messages = reminders(&unit, &request, as_of)?;
        Ok((unit, Batch { rows, messages }))
    });
    planned
        .await
        .map_err(|e| Error::Internal(format!("planning an agency's reminders stopped: {e}")))?
}

/// The audit entry of a real run: what it snapshot and queued.
fn run_entry(request: &RunRequest, run_id: i32, counts: Counts) -> Entry {
    let summary = format!(
        "quarterly shortfall {} Q{}: run {run_id}, {}, {}, {}",
        request.year,
        request.quarter,
        text::count(counts.people, "person", "people"),
        text::count(counts.reminders, "reminder", "reminders"),
        text::count(counts.digests, "digest", "digests")
    );
    let after = serde_json::json!({
        "run": run_id,
        "year": request.year,
        "quarter": request.quarter,
        "trigger": request.trigger.code(),
        "people": counts.people,
        "lines": counts.lines,
        "reminders": counts.reminders,
        "digests": counts.digests,
    });
    Entry::new("runQuarterlyShortfall", "job_run", run_id.to_string(), summary).after(Some(after))
}

/// What a run has done so far.
struct Progress {
    counts: Counts,
    planned: Vec<Planned>,
    /// Outbox keys of this quarter queued before or during the run.
    queued: HashSet<String>,
    /// Who is behind, by supervisor id, for the digests.
    behind: BTreeMap<i32, Vec<DigestRow>>,
}

impl Progress {
    fn new(queued: HashSet<String>) -> Self {
        Progress {
            counts: Counts::default(),
            planned: Vec::new(),
            queued,
            behind: BTreeMap::new(),
        }
    }

    /// Counts the messages and notes which are new; they are written by the
    /// run's writer.
    fn plan(&mut self, messages: &[NewMessage]) {
        for message in messages {
            let new = self.queued.insert(message.key.clone());
            match (message.kind, new) {
                ("reminder", true) => self.counts.reminders += 1,
                ("digest", true) => self.counts.digests += 1,
                _ => {}
            }
            self.planned.push(Planned {
                kind: message.kind,
                recipient_no: message.recipient_no.clone(),
                subject: message.rendered.subject.clone(),
                new,
            });
        }
    }

    /// Counts an agency's people and keeps, of those behind and still here
    /// on the day of the run, what a digest shows: like a reminder, a digest
    /// says nothing of someone who has left since the quarter ended.
    fn note(&mut self, people: &[PersonCompliance], today: NaiveDate) {
        self.counts.people += people.len();
        self.counts.lines += people.iter().map(|p| p.evaluation.lines.len()).sum::<usize>();
        for p in people.iter().filter(|p| is_behind(p) && !has_left(&p.person, today)) {
            if let Some(supervisor) = p.person.supervisor_id {
                self.behind.entry(supervisor).or_default().push(DigestRow::of(p));
            }
        }
    }
}

/// The agencies (top-level units), in code order.
async fn agencies(db: &impl ConnectionTrait) -> Result<Vec<unit::Model>> {
    Ok(unit::Entity::find()
        .filter(unit::Column::ParentId.is_null())
        .order_by_asc(unit::Column::Code)
        .all(db)
        .await?)
}

/// Joined by `today` (or no joining date recorded) and not left.
fn employed(person: &person::Model, today: NaiveDate) -> bool {
    person.joined_on.is_none_or(|joined| joined <= today) && !has_left(person, today)
}

fn has_left(person: &person::Model, today: NaiveDate) -> bool {
    person.left_on.is_some_and(|left| left <= today)
}

fn owes(p: &PersonCompliance) -> bool {
    p.evaluation.lines.iter().any(|l| l.shortfall > Hours::ZERO || l.behind)
}

fn is_behind(p: &PersonCompliance) -> bool {
    matches!(p.evaluation.status, Status::Behind | Status::NonCompliant)
}

/// A reminder for everyone in the unit who owes hours and has not left.
fn reminders(unit: &UnitCompliance, request: &RunRequest, as_of: NaiveDate) -> Result<Vec<NewMessage>> {
    unit.people
        .iter()
        .filter(|p| owes(p) && !has_left(&p.person, request.today))
        .map(|p| reminder(unit, p, request, as_of))
        .collect()
}

/// A digest for each supervisor employed on the day of the run with someone
/// behind. The reports of a supervisor who has left, or not joined yet, go to
/// the nearest supervisor above them who is employed, so that someone hears
/// of them before the people file names a new supervisor.
async fn digests(
    db: &impl ConnectionTrait,
    behind: BTreeMap<i32, Vec<DigestRow>>,
    request: &RunRequest,
    as_of: NaiveDate,
) -> Result<Vec<NewMessage>> {
    let chain = supervisor_chain(db, behind.keys().copied().collect(), request.today).await?;

    let mut by_recipient: BTreeMap<i32, (&person::Model, Vec<DigestRow>)> = BTreeMap::new();
    for (supervisor_id, reports) in behind {
        let Some(recipient) = employed_above(&chain, supervisor_id, request.today) else {
            continue;
        };
        by_recipient
            .entry(recipient.id)
            .or_insert_with(|| (recipient, Vec::new()))
            .1
            .extend(reports);
    }

    by_recipient
        .into_values()
        .map(|(recipient, reports)| digest(recipient, &reports, request, as_of))
        .collect()
}

/// The supervisors named, and above each who is not employed, their own
/// supervisors, up to one who is or the top. Read a level at a time;
/// a person read once is not read again, so a loop in the tree ends.
async fn supervisor_chain(
    db: &impl ConnectionTrait,
    ids: Vec<i32>,
    today: NaiveDate,
) -> Result<HashMap<i32, person::Model>> {
    let mut chain: HashMap<i32, person::Model> = HashMap::new();
    let mut wanted = ids;

    while !wanted.is_empty() {
        let found = person::Entity::find()
            .filter(person::Column::Id.is_in(wanted))
            .all(db)
            .await?;
        let above: HashSet<i32> = found
            .iter()
            .filter(|p| !employed(p, today))
            .filter_map(|p| p.supervisor_id)
            .collect();
        chain.extend(found.into_iter().map(|p| (p.id, p)));
        wanted = above.into_iter().filter(|id| !chain.contains_key(id)).collect();
    }
    Ok(chain)
}

/// The supervisor if employed, else the nearest one above who is; `None`
/// when no one above is.
fn employed_above(chain: &HashMap<i32, person::Model>, supervisor_id: i32, today: NaiveDate) -> Option<&person::Model> {
    let mut seen = HashSet::new();
    let mut current = chain.get(&supervisor_id)?;
    while !employed(current, today) {
        if !seen.insert(current.id) {
            return None;
        }
        current = chain.get(&current.supervisor_id?)?;
    }
    Some(current)
}

fn reminder(unit: &UnitCompliance, p: &PersonCompliance, request: &RunRequest, as_of: NaiveDate) -> Result<NewMessage> {
    let lines: Vec<_> = p
        .evaluation
        .lines
        .iter()
        .filter(|l| l.shortfall > Hours::ZERO || l.behind)
        .map(|l| {
            let (label_zh, label_en) = label(
                l.requirement.facet,
                l.requirement.security_category,
                &l.requirement.levels,
            );
            context! {
                label_zh, label_en,
                required => l.required.to_string(), counted => l.counted.to_string(),
                shortfall => l.shortfall.to_string(), expected => l.expected.to_string(), behind => l.behind,
            }
        })
        .collect();

    let mut course_ids: Vec<i32> = p
        .recommendations(&unit.catalog, &[])
        .iter()
        .flat_map(|r| r.course_ids.iter().copied())
        .collect();
    // A course can serve two lines (a facet and a security category): it is
    // listed once, where it first appears.
    let mut listed = HashSet::new();
    course_ids.retain(|id| listed.insert(*id));
    let courses: Vec<_> = course_ids
        .iter()
        .filter_map(|id| unit.catalog.get(id))
        .map(|c| context! { title => c.title.clone(), link => c.link.clone(), hours => Hours::from_centihours(c.centihours.into()).to_string() })
        .collect();

    let total: Hours = p.evaluation.lines.iter().map(|l| l.shortfall).sum();
    let rendered = templates::render(
        "reminder",
        &p.person.language,
        context! {
            name => p.person.name.clone(), year => request.year, quarter => request.quarter,
            as_of => as_of.to_string(), deadline => format!("{}-12-31", request.year),
            total_shortfall => total.to_string(), lines, courses,
        },
    )?;
    Ok(NewMessage {
        key: format!(
            "reminder:{}:{}:Q{}",
            p.person.employee_no, request.year, request.quarter
        ),
        kind: "reminder",
        recipient_no: p.person.employee_no.clone(),
        recipient_name: p.person.name.clone(),
        recipient_email: p.person.email.clone(),
        rendered,
    })
}

/// One person behind, as a supervisor's digest lists them.
#[derive(Debug, Clone, serde::Serialize)]
struct DigestRow {
    name: String,
    employee_no: String,
    shortfall: String,
    behind_labels_zh: String,
    behind_labels_en: String,
}

impl DigestRow {
    fn of(p: &PersonCompliance) -> Self {
        let behind: Vec<(String, String)> = p
            .evaluation
            .lines
            .iter()
            .filter(|l| l.behind)
            .map(|l| {
                label(
                    l.requirement.facet,
                    l.requirement.security_category,
                    &l.requirement.levels,
                )
            })
            .collect();
        let shortfall: Hours = p.evaluation.lines.iter().map(|l| l.shortfall).sum();
        DigestRow {
            name: p.person.name.clone(),
            employee_no: p.person.employee_no.clone(),
            shortfall: shortfall.to_string(),
            behind_labels_zh: behind.iter().map(|b| b.0.as_str()).collect::<Vec<_>>().join("、"),
            behind_labels_en: behind.iter().map(|b| b.1.as_str()).collect::<Vec<_>>().join(", "),
        }
    }
}

fn digest(
    supervisor: &person::Model,
    reports: &[DigestRow],
    request: &RunRequest,
    as_of: NaiveDate,
) -> Result<NewMessage> {
    let rendered = templates::render(
        "digest",
        &supervisor.language,
        context! {
            name => supervisor.name.clone(), year => request.year, quarter => request.quarter,
            as_of => as_of.to_string(), deadline => format!("{}-12-31", request.year), reports,
        },
    )?;
    Ok(NewMessage {
        key: format!(
            "digest:{}:{}:Q{}",
            supervisor.employee_no, request.year, request.quarter
        ),
        kind: "digest",
        recipient_no: supervisor.employee_no.clone(),
        recipient_name: supervisor.name.clone(),
        recipient_email: supervisor.email.clone(),
        rendered,
    })
}

/// A requirement's name in both languages: `技術面（A、B 級）`, `Technical (A, B)`,
/// `資安面（專業）`, `Security (professional)`.
fn label(facet: Facet, category: Option<SecurityCategory>, levels: &[entity::Level]) -> (String, String) {
    let (zh, en) = names::facet_names(facet);
    let codes: Vec<String> = levels.iter().map(|l| format!("{l:?}")).collect();
    match (category, codes.is_empty()) {
        (Some(SecurityCategory::General), _) => (format!("{zh}（通識）"), format!("{en} (general)")),
        (Some(SecurityCategory::Professional), _) => (format!("{zh}（專業）"), format!("{en} (professional)")),
        (None, false) => (
            format!("{zh}（{} 級）", codes.join("、")),
            format!("{en} ({})", codes.join(", ")),
        ),
        (None, true) => (zh.to_string(), en.to_string()),
    }
}

async fn completed_run(db: &DatabaseConnection, year: i32, quarter: u32) -> Result<Option<job_run::Model>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(JOB))
        .filter(job_run::Column::Year.eq(year))
        .filter(job_run::Column::Quarter.eq(quarter as i32))
        .filter(job_run::Column::DryRun.eq(false))
        .filter(job_run::Column::Status.eq("completed"))
        .one(db)
        .await?)
}

/// Marks failed the real runs of the quarter still listed as running. The
/// caller holds the quarter's lease, so none of them is running: their
/// process stopped (killed, or the machine went down) before it could say
/// so, and they would otherwise stay `running` in `jobRuns` for good. Dry
/// runs take no lease, so one may be running now; one that started longer
/// ago than a lease lasts is taken to have stopped too.
async fn close_abandoned_runs(db: &DatabaseConnection, request: &RunRequest) -> Result<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};

    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value("failed"))
        .col_expr(job_run::Column::FinishedAt, Expr::value(Some(Utc::now())))
        .col_expr(
            job_run::Column::Error,
            Expr::value(Some(
                "stopped before it finished (its process ended); nothing of it was kept",
            )),
        )
        .filter(job_run::Column::Job.eq(JOB))
        .filter(job_run::Column::Year.eq(request.year))
        .filter(job_run::Column::Quarter.eq(request.quarter as i32))
        .filter(
            job_run::Column::DryRun
                .eq(false)
                .or(job_run::Column::StartedAt.lt(Utc::now() - Duration::minutes(LEASE_TTL_MINUTES))),
        )
        .filter(job_run::Column::Status.eq("running"))
        .exec(db)
        .await?;
    Ok(())
}

async fn start_run(db: &DatabaseConnection, request: &RunRequest) -> Result<job_run::Model> {
    let run = job_run::ActiveModel {
        job: Set(JOB.to_string()),
        year: Set(request.year),
        quarter: Set(request.quarter as i32),
        dry_run: Set(request.dry_run),
        status: Set("running".to_string()),
        trigger: Set(request.trigger.code().to_string()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        people: Set(0),
        lines: Set(0),
        reminders: Set(0),
        digests: Set(0),
        error: Set(None),
        ..Default::default()
    };
    Ok(run.insert(db).await?)
}

async fn finish_run(
    db: &DatabaseConnection,
    run: job_run::Model,
    status: &str,
    counts: Counts,
    error: Option<String>,
) -> Result<job_run::Model> {
    let mut model: job_run::ActiveModel = run.into();
    model.status = Set(status.to_string());
    model.finished_at = Set(Some(Utc::now()));
    model.people = Set(counts.people as i32);
    model.lines = Set(counts.lines as i32);
    model.reminders = Set(counts.reminders as i32);
    model.digests = Set(counts.digests as i32);
    model.error = Set(error);
    Ok(model.update(db).await?)
}

/// The runs of the job, newest first.
pub async fn runs(db: &DatabaseConnection, limit: u64) -> Result<Vec<job_run::Model>> {
    use sea_orm::QuerySelect;
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(JOB))
        .order_by_desc(job_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
