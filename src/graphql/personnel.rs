//! Personnel in GraphQL: units, people, roles, technical background, imports.

use async_graphql::connection::{Connection, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use entity::{agency_level, evidence, person, role_assignment, unit};

use super::access::require_admin;
use super::error::ServiceResultExt;
use super::loaders;
use super::pagination::{Counted, page_size};
use super::scalars::Date;
use crate::clock;
use crate::hours::Hours;
use crate::personnel::{self, PeopleFilter, background, import};

/// An IT role (資通人員類別).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    /// 資訊業務人員
    ItStaff,
    /// 資訊主管人員
    ItSupervisor,
    /// 資通安全專責人員
    SecurityOfficer,
}

/// An agency's security responsibility level (資通安全責任等級).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::SecurityLevel")]
pub enum SecurityLevel {
    A,
    B,
    C,
    D,
    E,
}

/// A criterion of the technical background, in the order of the rules.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::Criterion")]
pub enum Criterion {
    /// 1. information processing job series
    JobSeries,
    /// 2. information, electrical or electronic engineer
    EngineerLicence,
    /// 3. Class C or higher technician certificate
    TechnicianCertificate,
    /// 4. certificates in two of five categories
    Certificate,
    /// 5. ICT degree
    IctDegree,
    /// 6. 20 credits within ten years
    Credits,
    /// 7. 60 training hours within ten years
    TrainingHours,
}

/// The five certificate categories of criterion 4.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "entity::CertificateCategory")]
pub enum CertificateCategory {
    Cybersecurity,
    NetworkManagement,
    DatabaseManagement,
    SoftwareEngineering,
    SoftwareTesting,
}

fn as_of_or_today(as_of: Option<Date>) -> chrono::NaiveDate {
    as_of.map(|d| d.0).unwrap_or_else(clock::today)
}

/// A person, keyed by employee number.
pub struct Person(pub person::Model);

#[Object]
impl Person {
    async fn employee_no(&self) -> &str {
        &self.0.employee_no
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn joined_on(&self) -> Option<Date> {
        self.0.joined_on.map(Date)
    }

    /// Set once the person has left; they then get no reminders.
    async fn left_on(&self) -> Option<Date> {
        self.0.left_on.map(Date)
    }

    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        let reference = loaders::reference(ctx).await?;
        Ok(reference.unit(self.0.unit_id).cloned().map(Unit))
    }

    /// The agency (top-level unit) the person's unit belongs to.
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        let reference = loaders::reference(ctx).await?;
        Ok(reference.agency_of(self.0.unit_id).cloned().map(Unit))
    }

    /// The direct supervisor.
    async fn supervisor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Person>> {
        super::access::require_reader_of_supervisor(ctx, &self.0).await?;
        let Some(id) = self.0.supervisor_id else {
            return Ok(None);
        };
        Ok(loaders::of(ctx).load_one(loaders::PersonId(id)).await?.map(Person))
    }

    /// The people whose direct supervisor this person is.
    async fn direct_reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Person>> {
        super::access::require_reader_of(ctx, &self.0).await?;
        let reports = loaders::of(ctx).load_one(loaders::ReportsOf(self.0.id)).await?;
        Ok(reports.into_iter().flatten().map(Person).collect())
    }

    /// The role held on a date (default: today in Taipei); null for none.
    async fn role(&self, ctx: &Context<'_>, as_of: Option<Date>) -> async_graphql::Result<Option<Role>> {
        let history = self.roles(ctx).await?;
        Ok(personnel::role_on(&history, as_of_or_today(as_of)).map(Into::into))
    }

    /// Every role held, oldest first.
    async fn role_history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RoleAssignment>> {
        let history = self.roles(ctx).await?;
        Ok(history.into_iter().map(RoleAssignment).collect())
    }

    /// Whether the person has a technical background on a date (default:
    /// today), and why.
    async fn technical_background(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> async_graphql::Result<TechnicalBackground> {
        let on = as_of_or_today(as_of);
        let evidence: Vec<background::EvidenceFact> = self
            .evidence_rows(ctx)
            .await?
            .iter()
            .map(personnel::evidence_fact)
            .collect();
        let verdict = background::derive(&evidence, personnel::override_of(&self.0), on);
        Ok(TechnicalBackground::from_verdict(verdict, on))
    }

    /// The evidence recorded toward the technical background.
    async fn evidence(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Evidence>> {
        let evidence = self.evidence_rows(ctx).await?;
        Ok(evidence.into_iter().map(Evidence).collect())
    }
}

impl Person {
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<role_assignment::Model>> {
        let history = loaders::of(ctx).load_one(loaders::RolesOf(self.0.id)).await?;
        Ok(history.unwrap_or_default())
    }

    async fn evidence_rows(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<evidence::Model>> {
        let evidence = loaders::of(ctx).load_one(loaders::EvidenceOf(self.0.id)).await?;
        Ok(evidence.unwrap_or_default())
    }
}

/// A unit of the organisation; one without a parent is an agency (機關).
pub struct Unit(pub unit::Model);

#[Object]
impl Unit {
    async fn code(&self) -> &str {
        &self.0.code
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn is_agency(&self) -> bool {
        self.0.parent_id.is_none()
    }

    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        let Some(id) = self.0.parent_id else { return Ok(None) };
        let reference = loaders::reference(ctx).await?;
        Ok(reference.unit(id).cloned().map(Unit))
    }

    /// The units directly below.
    async fn children(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        let reference = loaders::reference(ctx).await?;
        Ok(reference.children(self.0.id).cloned().map(Unit).collect())
    }

    /// The agency the unit belongs to (itself for an agency).
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        let reference = loaders::reference(ctx).await?;
        Ok(Unit(
            reference
                .agency_of(self.0.id)
                .cloned()
                .unwrap_or_else(|| self.0.clone()),
        ))
    }

    /// The agency's security level in force on a date (default: today);
    /// units below an agency inherit it.
    async fn security_level(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> async_graphql::Result<Option<SecurityLevel>> {
        let reference = loaders::reference(ctx).await?;
        Ok(reference.level_of(self.0.id, as_of_or_today(as_of)).map(Into::into))
    }

    /// The agency's security levels over time, oldest first.
    async fn security_level_history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AgencyLevel>> {
        let reference = loaders::reference(ctx).await?;
        let agency = reference.agency_of(self.0.id).map_or(self.0.id, |a| a.id);
        Ok(reference
            .level_history(agency)
            .iter()
            .cloned()
            .map(AgencyLevel)
            .collect())
    }
}

/// A security level from a date on.
pub struct AgencyLevel(agency_level::Model);

#[Object]
impl AgencyLevel {
    async fn level(&self) -> SecurityLevel {
        self.0.level.into()
    }

    async fn since(&self) -> Date {
        Date(self.0.since)
    }
}

/// A role over a date range; `endsOn` is inclusive and null while open.
pub struct RoleAssignment(role_assignment::Model);

#[Object]
impl RoleAssignment {
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }

    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
}

/// A piece of evidence toward a criterion.
pub struct Evidence(evidence::Model);

#[Object]
impl Evidence {
    async fn criterion(&self) -> Criterion {
        self.0.criterion.into()
    }

    async fn detail(&self) -> &str {
        &self.0.detail
    }

    async fn category(&self) -> Option<CertificateCategory> {
        self.0.category.map(Into::into)
    }

    async fn obtained_on(&self) -> Option<Date> {
        self.0.obtained_on.map(Date)
    }

    async fn expires_on(&self) -> Option<Date> {
        self.0.expires_on.map(Date)
    }

    /// Credits or hours, for criteria 6 and 7.
    async fn amount(&self) -> Option<f64> {
        self.0.centi_amount.map(|a| Hours::from_centihours(a.into()).as_f64())
    }
}

/// The answer to "has a technical background" on a date, with the reasons.
#[derive(SimpleObject)]
pub struct TechnicalBackground {
    as_of: Date,
    has_background: bool,
    /// True when an admin set the answer by hand; it then wins over evidence.
    overridden: bool,
    override_reason: Option<String>,
    /// The first criterion met, when the evidence suffices.
    met_by: Option<Criterion>,
    /// One finding per criterion, in the order of the rules.
    findings: Vec<Finding>,
}

impl TechnicalBackground {
    fn from_verdict(verdict: background::Verdict, as_of: chrono::NaiveDate) -> Self {
        TechnicalBackground {
            as_of: Date(as_of),
            has_background: verdict.has_background,
            overridden: verdict.overridden.is_some(),
            override_reason: verdict.overridden.map(|o| o.reason),
            met_by: verdict.met_by.map(Into::into),
            findings: verdict
                .findings
                .into_iter()
                .map(|f| Finding {
                    criterion: f.criterion.into(),
                    met: f.met,
                    explanation: f.explanation,
                })
                .collect(),
        }
    }
}

/// How one criterion fares.
#[derive(SimpleObject)]
pub struct Finding {
    criterion: Criterion,
    met: bool,
    /// Why, e.g. "valid certificates in one category only (cybersecurity); a
    /// second category is needed".
    explanation: String,
}

/// What a people listing may be narrowed to.
#[derive(InputObject, Default)]
pub struct PeopleFilterInput {
    /// People of this unit and every unit below it (an unknown unit is
    /// refused).
    unit_code: Option<String>,
    /// People holding this role on `asOf` (default today).
    role: Option<Role>,
    /// Direct reports of this person (an unknown person is refused).
    supervisor_no: Option<String>,
    /// Part of the name, employee number or email.
    search: Option<String>,
    as_of: Option<Date>,
}

/// What an import did, or would do in a dry run.
#[derive(SimpleObject)]
pub struct ImportReport {
    /// Data rows read.
    rows: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
    /// True when nothing was written.
    dry_run: bool,
    /// The rows that create or change something.
    changes: Vec<ImportChange>,
}

#[derive(SimpleObject)]
pub struct ImportChange {
    /// The line of the file, header = 1.
    row: usize,
    key: String,
    action: ImportAction,
    detail: String,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::personnel::import::Action")]
pub enum ImportAction {
    Created,
    Updated,
    Unchanged,
}

impl From<import::ImportReport> for ImportReport {
    fn from(r: import::ImportReport) -> Self {
        ImportReport {
            rows: r.rows,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            dry_run: r.dry_run,
            changes: r
                .changes
                .into_iter()
                .map(|c| ImportChange {
                    row: c.row,
                    key: c.key,
                    action: c.action.into(),
                    detail: c.detail,
                })
                .collect(),
        }
    }
}

pub type PersonConnection = Connection<OpaqueCursor<String>, Person, Counted, EmptyFields>;

#[derive(Default)]
pub struct PersonnelQuery;

#[Object]
impl PersonnelQuery {
    /// One person by employee number.
    async fn person(&self, ctx: &Context<'_>, employee_no: String) -> async_graphql::Result<Option<Person>> {
        Ok(super::access::readable_person(ctx, &employee_no)
            .await?
            .map(|found| Person(found.person)))
    }

    /// People in employee-number order, a page at a time (`first` at most 100).
    #[graphql(complexity = "super::pagination::page_complexity(first, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        filter: Option<PeopleFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PersonConnection> {
        require_admin(ctx)?;
        let first = page_size(first)?;
        let after = super::pagination::after_key(after)?;
        let f = filter.unwrap_or_default();
        let filter = PeopleFilter {
            unit_code: f.unit_code,
            role: f.role.map(Into::into),
            supervisor_no: f.supervisor_no,
            search: f.search,
            as_of: f.as_of.map(|d| d.0),
        };

        let page = personnel::list_people(super::db(ctx), &filter, after.clone(), first, clock::today())
            .await
            .gql()?;

        let wanted = loaders::Wanted::of(ctx.look_ahead().field("edges").field("node"));
        loaders::prime_people(ctx, wanted, page.people.iter()).await?;

        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            page.has_next,
            Counted {
                total_count: page.total,
            },
        );
        connection.edges.extend(
            page.people
                .into_iter()
                .map(|p| Edge::new(OpaqueCursor(p.employee_no.clone()), Person(p))),
        );
        Ok(connection)
    }

    /// All units, by code.
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        super::access::require_signed_in(ctx)?;
        Ok(personnel::units(super::db(ctx))
            .await
            .gql()?
            .into_iter()
            .map(Unit)
            .collect())
    }

    async fn unit(&self, ctx: &Context<'_>, code: String) -> async_graphql::Result<Option<Unit>> {
        super::access::require_signed_in(ctx)?;
        Ok(personnel::find_unit(super::db(ctx), &code).await.gql()?.map(Unit))
    }
}

#[derive(Default)]
pub struct PersonnelMutation;

fn options(ctx: &Context<'_>, dry_run: bool) -> import::ImportOptions {
    import::ImportOptions {
        dry_run,
        today: clock::today(),
        actor: super::access::actor(ctx),
        source: None,
    }
}

/// Logs an import's outcome once and hands its report to the client.
pub(super) fn reported(kind: &str, result: crate::Result<import::ImportReport>) -> async_graphql::Result<ImportReport> {
    let report = result.gql()?;
    tracing::info!(
        import.kind = kind,
        import.rows = report.rows,
        import.dry_run = report.dry_run,
        "import done"
    );
    Ok(report.into())
}

#[Object]
impl PersonnelMutation {
    /// Imports `units.csv` given as text (admins). All or nothing.
    async fn import_units(
        &self,
        ctx: &Context<'_>,
        csv: String,
        #[graphql(default)] dry_run: bool,
    ) -> async_graphql::Result<ImportReport> {
        require_admin(ctx)?;
        let result = import::import_units(super::db(ctx), &csv, options(ctx, dry_run)).await;
        reported("units", result)
    }

    /// Imports `people.csv` given as text (admins). All or nothing.
    async fn import_people(
        &self,
        ctx: &Context<'_>,
        csv: String,
        #[graphql(default)] dry_run: bool,
    ) -> async_graphql::Result<ImportReport> {
        require_admin(ctx)?;
        let result = import::import_people(super::db(ctx), &csv, options(ctx, dry_run)).await;
        reported("people", result)
    }

    /// Imports `evidence.csv` given as text (admins). All or nothing.
    async fn import_evidence(
        &self,
        ctx: &Context<'_>,
        csv: String,
        #[graphql(default)] dry_run: bool,
    ) -> async_graphql::Result<ImportReport> {
        require_admin(ctx)?;
        let result = import::import_evidence(super::db(ctx), &csv, options(ctx, dry_run)).await;
        reported("evidence", result)
    }

    /// Sets (true or false, with a reason) or clears (null) an admin's answer
    /// on a person's technical background.
    async fn set_technical_background(
        &self,
        ctx: &Context<'_>,
        employee_no: String,
        value: Option<bool>,
        reason: Option<String>,
    ) -> async_graphql::Result<Person> {
        require_admin(ctx)?;
        let person =
            personnel::set_background_override(super::db(ctx), &employee_no, value, reason, &super::access::actor(ctx))
                .await
                .gql()?;
        tracing::info!(person.employee_no = %person.employee_no, "technical background set by hand");
        Ok(Person(person))
    }
}
