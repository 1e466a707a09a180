//! Compliance in GraphQL: rule sets, a person's standing and a unit's.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use entity::completion;

use super::access::require_admin;
use super::catalog::{Course, Facet, Level, Platform, SecurityCategory};
use super::error::{ServiceResultExt, bad_argument};
use super::pagination::{Counted, page_size};
use super::personnel::{Person, Role, SecurityLevel};
use super::scalars::Date;
use crate::clock;
use crate::compliance::engine::{self, IgnoreReason as EngineIgnoreReason, Status};
use crate::compliance::recent::RecentFacts;
use crate::compliance::service::{self, Detail, PersonCompliance, UnitCompliance};
use crate::hours::Hours;
use crate::rules::{self, Requirement, RuleSetInForce};

/// Where a person stands for the year.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::compliance::engine::Status")]
pub enum ComplianceStatus {
    /// Every requirement is met.
    Complete,
    /// Hours remain, but none is behind the quarter's pace.
    OnTrack,
    /// Some requirement is behind the pace of the quarter holding the as-of date.
    Behind,
    /// The year has ended (as of Dec 31) with hours still owed.
    NonCompliant,
}

/// Why a completion counted toward nothing.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::compliance::engine::IgnoreReason")]
pub enum IgnoreReason {
    /// Dated after the as-of date.
    AfterAsOf,
    /// Before the window of every requirement it could serve.
    OutsideWindow,
    /// Its level is not one the requirement of its facet allows.
    LevelNotAllowed,
    /// No requirement of the person covers its facet or security category.
    OtherFacet,
}

fn hours(h: Hours) -> f64 {
    h.as_f64()
}

/// One requirement of a rule set.
#[derive(SimpleObject)]
pub struct RequirementRule {
    /// The role it applies to; null for people holding no IT role.
    role: Option<Role>,
    facet: Facet,
    /// Applies only with (true) or without (false) a technical background.
    technical_background: Option<bool>,
    /// Course levels that count; empty for any.
    levels: Vec<Level>,
    security_category: Option<SecurityCategory>,
    /// Agency security levels it applies to; empty for all.
    agency_levels: Vec<SecurityLevel>,
    /// 1 counts the year; 2 counts the year before as well.
    window_years: i32,
    hours: f64,
}

impl From<&Requirement> for RequirementRule {
    fn from(r: &Requirement) -> Self {
        RequirementRule {
            role: r.role.map(Into::into),
            facet: r.facet.into(),
            technical_background: r.technical_background,
            levels: r.levels.iter().map(|l| (*l).into()).collect(),
            security_category: r.security_category.map(Into::into),
            agency_levels: r.agency_levels.iter().map(|l| (*l).into()).collect(),
            window_years: r.window_years.into(),
            hours: hours(r.hours),
        }
    }
}

/// The rule set in force for a year.
#[derive(SimpleObject)]
pub struct RuleSet {
    /// The year asked about.
    year: i32,
    /// The year whose set is in force: the same year, or the latest earlier
    /// one when the year has none of its own.
    rule_year: i32,
    inherited: bool,
    note: String,
    requirements: Vec<RequirementRule>,
}

impl From<&RuleSetInForce> for RuleSet {
    fn from(set: &RuleSetInForce) -> Self {
        RuleSet {
            year: set.requested_year,
            rule_year: set.rule_set.year,
            inherited: set.inherited(),
            note: set.rule_set.note.clone(),
            requirements: set.requirements.iter().map(Into::into).collect(),
        }
    }
}

/// A requirement to add to a year's rule set.
#[derive(InputObject)]
pub struct RequirementInput {
    /// Null for people holding no IT role.
    role: Option<Role>,
    facet: Facet,
    technical_background: Option<bool>,
    #[graphql(default)]
    levels: Vec<Level>,
    security_category: Option<SecurityCategory>,
    #[graphql(default)]
    agency_levels: Vec<SecurityLevel>,
    #[graphql(default = 1)]
    window_years: i32,
    hours: f64,
}

impl RequirementInput {
    fn into_requirement(self, index: usize) -> async_graphql::Result<Requirement> {
        let field = |name: &str| format!("requirements[{index}].{name}");
        let hours = Hours::from_f64(self.hours).ok_or_else(|| {
            bad_argument(
                &field("hours"),
                "must be a number of hours more than 0 and at most 1,000, with at most two decimals",
            )
        })?;
        let window_years =
            u8::try_from(self.window_years).map_err(|_| bad_argument(&field("windowYears"), "must be 1 or 2"))?;
        Ok(Requirement {
            role: self.role.map(Into::into),
            facet: self.facet.into(),
            technical_background: self.technical_background,
            levels: self.levels.into_iter().map(Into::into).collect(),
            security_category: self.security_category.map(Into::into),
            agency_levels: self.agency_levels.into_iter().map(Into::into).collect(),
            window_years,
            hours,
        })
    }
}

/// A completed training.
pub struct Completion(completion::Model);

#[Object]
impl Completion {
    async fn id(&self) -> async_graphql::ID {
        async_graphql::ID(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn hours(&self) -> f64 {
        hours(Hours::from_centihours(self.0.centihours.into()))
    }

    async fn completed_on(&self) -> Date {
        Date(self.0.completed_on)
    }

    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }

    /// The map facet it counts toward; null for security-only training.
    async fn facet(&self) -> Option<Facet> {
        self.0.facet.map(Into::into)
    }

    async fn level(&self) -> Option<Level> {
        self.0.level.map(Into::into)
    }

    async fn security_category(&self) -> Option<SecurityCategory> {
        self.0.security_category.map(Into::into)
    }

    /// Where the record came from.
    async fn source(&self) -> &str {
        &self.0.source
    }

    /// The catalog course, when the completion matched one.
    async fn course_id(&self) -> Option<async_graphql::ID> {
        self.0.course_id.map(|id| async_graphql::ID(id.to_string()))
    }
}

/// One requirement as it stands for the person.
#[derive(SimpleObject)]
pub struct ComplianceLine {
    facet: Facet,
    security_category: Option<SecurityCategory>,
    /// Course levels that count; empty for any.
    levels: Vec<Level>,
    window_years: i32,
    /// Jan 1 of the first year of the window.
    window_start: Date,
    required_hours: f64,
    counted_hours: f64,
    /// max(0, required − counted).
    shortfall_hours: f64,
    /// The pace due by the end of the quarter holding the as-of date.
    expected_hours: f64,
    /// Counted hours are below the expected pace.
    behind: bool,
}

impl From<&engine::Line> for ComplianceLine {
    fn from(l: &engine::Line) -> Self {
        ComplianceLine {
            facet: l.requirement.facet.into(),
            security_category: l.requirement.security_category.map(Into::into),
            levels: l.requirement.levels.iter().map(|v| (*v).into()).collect(),
            window_years: l.requirement.window_years.into(),
            window_start: Date(l.window_start),
            required_hours: hours(l.required),
            counted_hours: hours(l.counted),
            shortfall_hours: hours(l.shortfall),
            expected_hours: hours(l.expected),
            behind: l.behind,
        }
    }
}

/// A counted completion by id; its row is fetched only when asked for.
pub struct CountedCompletion {
    completion_id: i64,
    line: usize,
}

/// A completion that counted, and toward which line (index into `lines`).
#[Object]
impl CountedCompletion {
    async fn completion(&self, ctx: &Context<'_>) -> async_graphql::Result<Completion> {
        completion_by_id(ctx, self.completion_id).await
    }

    async fn line(&self) -> usize {
        self.line
    }
}

pub struct IgnoredCompletion {
    completion_id: i64,
    reason: IgnoreReason,
}

#[Object]
impl IgnoredCompletion {
    async fn completion(&self, ctx: &Context<'_>) -> async_graphql::Result<Completion> {
        completion_by_id(ctx, self.completion_id).await
    }

    async fn reason(&self) -> IgnoreReason {
        self.reason
    }
}

/// The whole row of a completion the engine referred to; the evaluation read
/// only the columns it needs, so the rest is fetched, batched, when asked for.
async fn completion_by_id(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Completion> {
    let id = i32::try_from(id).map_err(|_| async_graphql::Error::new("completion id out of range"))?;
    super::loaders::of(ctx)
        .load_one(super::loaders::CompletionId(id))
        .await?
        .map(Completion)
        .ok_or_else(|| super::error::to_graphql(crate::Error::not_found("completion", id)))
}

/// Courses that close a line's shortfall with the fewest total hours.
#[derive(SimpleObject)]
pub struct Recommendation {
    /// Index into `lines`.
    line: usize,
    facet: Facet,
    security_category: Option<SecurityCategory>,
    shortfall_hours: f64,
    courses: Vec<Course>,
    total_hours: f64,
    /// False when even all candidate courses do not close the gap.
    closes_gap: bool,
}

/// A person's standing for a year, as of a date, with its explanation.
#[derive(SimpleObject)]
pub struct Compliance {
    person: Person,
    year: i32,
    as_of: Date,
    /// The year whose rule set applied.
    rule_year: i32,
    role: Option<Role>,
    technical_background: bool,
    agency_level: Option<SecurityLevel>,
    status: ComplianceStatus,
    lines: Vec<ComplianceLine>,
    counted: Vec<CountedCompletion>,
    ignored: Vec<IgnoredCompletion>,
    recommendations: Vec<Recommendation>,
}

fn compliance_of(p: &PersonCompliance, unit: &UnitCompliance, also_taken: &[i32]) -> Compliance {
    let e = &p.evaluation;
    Compliance {
        person: Person(p.person.clone()),
        year: unit.year,
        as_of: Date(unit.as_of),
        rule_year: unit.rules.rule_set.year,
        role: p.facts.role.map(Into::into),
        technical_background: p.facts.technical_background,
        agency_level: p.facts.agency_level.map(Into::into),
        status: e.status.into(),
        lines: e.lines.iter().map(Into::into).collect(),
        counted: e
            .counted
            .iter()
            .map(|c| CountedCompletion {
                completion_id: c.completion_id,
                line: c.line,
            })
            .collect(),
        ignored: e
            .ignored
            .iter()
            .map(|i| {
                let reason: EngineIgnoreReason = i.reason;
                IgnoredCompletion {
                    completion_id: i.completion_id,
                    reason: reason.into(),
                }
            })
            .collect(),
        recommendations: p
            .recommendations(&unit.catalog, also_taken)
            .iter()
            .filter_map(|r| {
                let line = e.lines.get(r.line)?;
                Some(Recommendation {
                    line: r.line,
                    facet: line.requirement.facet.into(),
                    security_category: line.requirement.security_category.map(Into::into),
                    shortfall_hours: hours(line.shortfall),
                    courses: r
                        .course_ids
                        .iter()
                        .filter_map(|id| unit.catalog.get(id).cloned().map(Course))
                        .collect(),
                    total_hours: hours(r.hours),
                    closes_gap: r.closes_gap,
                })
            })
            .collect(),
    }
}

/// How many people of a unit are in a status.
#[derive(SimpleObject)]
pub struct StatusCount {
    status: ComplianceStatus,
    people: usize,
}

/// A unit's standing on one kind of requirement.
#[derive(SimpleObject)]
pub struct FacetSummary {
    facet: Facet,
    security_category: Option<SecurityCategory>,
    /// People this requirement applies to.
    people: usize,
    behind: usize,
    with_shortfall: usize,
    required_hours: f64,
    counted_hours: f64,
    shortfall_hours: f64,
}

pub type ComplianceConnection = Connection<OpaqueCursor<usize>, Compliance, Counted, EmptyFields>;

/// A unit's standing (its subtree included) for a year, as of a date.
pub struct UnitComplianceReport(UnitCompliance);

#[Object]
impl UnitComplianceReport {
    async fn unit(&self) -> super::personnel::Unit {
        super::personnel::Unit(self.0.unit.clone())
    }

    async fn year(&self) -> i32 {
        self.0.year
    }

    async fn as_of(&self) -> Date {
        Date(self.0.as_of)
    }

    /// People evaluated: those of the subtree not yet left on the as-of date.
    async fn people(&self) -> usize {
        self.0.people.len()
    }

    /// Counts per status, in order from complete to non-compliant.
    async fn by_status(&self) -> Vec<StatusCount> {
        [Status::Complete, Status::OnTrack, Status::Behind, Status::NonCompliant]
            .into_iter()
            .map(|status| StatusCount {
                status: status.into(),
                people: self.0.people.iter().filter(|p| p.evaluation.status == status).count(),
            })
            .collect()
    }

    /// Totals per facet and security category.
    async fn by_facet(&self) -> Vec<FacetSummary> {
        summaries(&self.0)
    }

    /// The people behind pace or non-compliant, by employee number.
    #[graphql(complexity = "super::pagination::page_complexity(first, child_complexity)")]
    async fn behind(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ComplianceConnection> {
        let first = page_size(first)? as usize;
        let start = super::pagination::after_offset(after)?;
        let behind: Vec<&PersonCompliance> = self
            .0
            .people
            .iter()
            .filter(|p| matches!(p.evaluation.status, Status::Behind | Status::NonCompliant))
            .collect();

        let page = behind.iter().skip(start).take(first);
        prime_page(ctx, page.clone()).await?;
        // Read now, for the page only: the report itself leaves it out (see
        // `PersonCompliance::taken_elsewhere`).
        let ids: Vec<i32> = page.map(|p| p.person.id).collect();
        let unit = &self.0;
        let taken = service::taken_elsewhere_of(super::db(ctx), &ids, unit.year, Some(unit.as_of), unit.detail)
            .await
            .gql()?;

        let mut connection = Connection::with_additional_fields(
            start > 0,
            behind.len() > start + first,
            Counted {
                total_count: behind.len() as u64,
            },
        );
        connection
            .edges
            .extend(behind.iter().enumerate().skip(start).take(first).map(|(i, p)| {
                let also_taken = taken.get(&p.person.id).map_or(&[][..], Vec::as_slice);
                Edge::new(OpaqueCursor(i + 1), compliance_of(p, unit, also_taken))
            }));
        Ok(connection)
    }
}

/// Whether a unit report must read every completion: only when a page of
/// `behind` lists what counted or what did not, through `edges { node }` or
/// `nodes` (anywhere in the document, fragments included); lines, statuses,
/// summaries and recommendations come the same from hours the database
/// summed ([`Detail::Totals`]).
fn detail_asked(ctx: &Context<'_>) -> Detail {
    let behind = ctx.look_ahead().field("behind");
    let lists = |node: async_graphql::Lookahead<'_>| node.field("counted").exists() || node.field("ignored").exists();
    if lists(behind.field("edges").field("node")) || lists(behind.field("nodes")) {
        Detail::Completions
    } else {
        Detail::Totals
    }
}

/// Loads what the page's rows will ask for, one batch per field.
async fn prime_page<'p>(
    ctx: &Context<'_>,
    page: impl Iterator<Item = &'p &'p PersonCompliance> + Clone,
) -> async_graphql::Result<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let wanted = super::loaders::Wanted::of(node.field("person"));
    let people: Vec<&entity::person::Model> = page.clone().map(|p| &p.person).collect();
    super::loaders::prime_people(ctx, wanted, people.into_iter()).await?;

    let counted = node.field("counted").field("completion").exists();
    let ignored = node.field("ignored").field("completion").exists();
    if counted || ignored {
        let mut ids: Vec<i64> = Vec::new();
        for p in page {
            let e = &p.evaluation;
            if counted {
                ids.extend(e.counted.iter().map(|c| c.completion_id));
            }
            if ignored {
                ids.extend(e.ignored.iter().map(|i| i.completion_id));
            }
        }
        super::loaders::prime_completions(ctx, ids.into_iter()).await?;
    }
    Ok(())
}

/// Running totals of one facet and security category, exact until the end.
#[derive(Default)]
struct Totals {
    people: usize,
    behind: usize,
    with_shortfall: usize,
    required: Hours,
    counted: Hours,
    shortfall: Hours,
}

fn summaries(unit: &UnitCompliance) -> Vec<FacetSummary> {
    type Key = (entity::Facet, Option<entity::SecurityCategory>);
    let mut totals: Vec<(Key, Totals)> = Vec::new();

    for line in unit.people.iter().flat_map(|p| p.evaluation.lines.iter()) {
        let key = (line.requirement.facet, line.requirement.security_category);
        let index = match totals.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                totals.push((key, Totals::default()));
                totals.len() - 1
            }
        };
        let t = &mut totals[index].1;
        t.people += 1;
        t.behind += usize::from(line.behind);
        t.with_shortfall += usize::from(line.shortfall > Hours::ZERO);
        t.required = t.required + line.required;
        t.counted = t.counted + line.counted;
        t.shortfall = t.shortfall + line.shortfall;
    }

    totals
        .into_iter()
        .map(|((facet, category), t)| FacetSummary {
            facet: facet.into(),
            security_category: category.map(Into::into),
            people: t.people,
            behind: t.behind,
            with_shortfall: t.with_shortfall,
            required_hours: hours(t.required),
            counted_hours: hours(t.counted),
            shortfall_hours: hours(t.shortfall),
        })
        .collect()
}

#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// The rule set in force for a year, with where it came from.
    async fn requirements(&self, ctx: &Context<'_>, year: i32) -> async_graphql::Result<Option<RuleSet>> {
        let set = rules::in_force(super::db(ctx), year).await.gql()?;
        Ok(set.as_ref().map(Into::into))
    }

    /// What a person owes for a year as of a date (default: today, or Dec 31
    /// of a past year), what counted, what did not and why, and which courses
    /// close the gap.
    #[graphql(complexity = "super::EVALUATION_COMPLEXITY + child_complexity")]
    async fn compliance(
        &self,
        ctx: &Context<'_>,
        employee_no: String,
        year: i32,
        as_of: Option<Date>,
    ) -> async_graphql::Result<Compliance> {
        let found = super::access::readable_person(ctx, &employee_no).await?;
        let as_of = service::as_of_for(year, as_of.map(|d| d.0), clock::today()).gql()?;
        let found = found
            .ok_or_else(|| crate::Error::not_found("person", &employee_no))
            .gql()?;

        let reference = super::loaders::reference_at(ctx, found.reference_generation).await?;
        let recent = ctx.data_unchecked::<Arc<RecentFacts>>();
        let (person, unit) = service::for_person(
            super::db(ctx),
            reference,
            recent,
            found.facts_generation,
            found.person,
            year,
            as_of,
        )
        .await
        .gql()?;
        Ok(compliance_of(&person, &unit, &[]))
    }

    /// A unit's standing, its subtree included.
    #[graphql(complexity = "super::UNIT_EVALUATION_COMPLEXITY + child_complexity")]
    async fn unit_compliance(
        &self,
        ctx: &Context<'_>,
        unit_code: String,
        year: i32,
        as_of: Option<Date>,
    ) -> async_graphql::Result<UnitComplianceReport> {
        require_admin(ctx)?;
        let as_of = service::as_of_for(year, as_of.map(|d| d.0), clock::today()).gql()?;
        let reference = super::loaders::reference(ctx).await?;
        let detail = detail_asked(ctx);
        let unit = service::for_unit_pooled(super::db(ctx), reference, &unit_code, year, as_of, detail)
            .await
            .gql()?;
        Ok(UnitComplianceReport(unit))
    }
}

#[derive(Default)]
pub struct ComplianceMutation;

#[Object]
impl ComplianceMutation {
    /// Replaces (or creates) a year's rule set (admins).
    async fn set_requirements(
        &self,
        ctx: &Context<'_>,
        year: i32,
        note: String,
        requirements: Vec<RequirementInput>,
    ) -> async_graphql::Result<RuleSet> {
        require_admin(ctx)?;
        let requirements = requirements
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.into_requirement(i))
            .collect::<async_graphql::Result<Vec<_>>>()?;

        let set = rules::replace(super::db(ctx), year, &note, &requirements, &super::access::actor(ctx))
            .await
            .gql()?;

        tracing::info!(rules.year = year, rules.count = requirements.len(), "rule set replaced");
        Ok((&set).into())
    }
}
