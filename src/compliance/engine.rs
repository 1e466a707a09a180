//! The pure compliance engine: plain facts in, an [`Evaluation`] out.
//!
//! It reads no database and no clock. The caller looks up the person's facts on
//! the as-of date, their completions, the year's requirements and the catalog,
//! and passes the as-of date in, so the same inputs always give the same answer
//! and every rule of `domain.md` can be unit-tested here.
//!
//! Decisions where the brief and `domain.md` part ways, or where neither says:
//!
//! - **Pace of a two-year window.** The brief asked for `required × (4 + q) / 8`
//!   on a two-year window; `domain.md` says "at the end of q the expected pace is
//!   required × q / 4" for every requirement, and `domain.md` wins. So a two-year
//!   line is paced like a one-year line, over the year `Y` it falls due in, while
//!   its counted hours still include year `Y − 1` (see [`expected_pace`]).
//! - **Pace inside a quarter.** `domain.md` fixes the pace only at quarter ends;
//!   inside quarter `q` the engine already expects the pace of the end of `q`, so
//!   a person is flagged while there is still time to catch up.
//! - **As-of dates outside the year.** A date after Dec 31 of the year is treated
//!   as Dec 31 (the year is over: later completions belong to the next year); a
//!   date before Jan 1 gives quarter 0, so nothing is expected yet.

use chrono::{Datelike, NaiveDate};
use entity::{Facet, Level, Role, SecurityCategory, SecurityLevel};

use super::recommend;
/// Re-exported so the whole result type is reachable from this module.
pub use super::recommend::Recommendation;
use crate::hours::Hours;
use crate::rules::Requirement;

/// A person's facts on the as-of date: `domain.md` takes the role, the technical
/// background and the agency's security level as they stand on that date, so a
/// change during the year changes which requirements apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    /// `None` for a person holding no IT role; only role-`None` requirements apply.
    pub role: Option<Role>,
    pub technical_background: bool,
    /// `None` when the agency's level is unknown; requirements limited to some
    /// agency levels then do not apply, rather than guessing a level.
    pub agency_level: Option<SecurityLevel>,
}

/// One completed training, with the facts of its course copied in, because a
/// completion recorded by hand (a certification course) has no catalog course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionFact {
    pub id: i64,
    /// The catalog course, if any; used to avoid recommending a course again.
    pub course_id: Option<i32>,
    pub title: String,
    /// A calendar date: the compliance year is a calendar year in Asia/Taipei.
    pub completed_on: NaiveDate,
    pub hours: Hours,
    pub facet: Facet,
    pub level: Option<Level>,
    /// A security category makes the completion count toward the matching
    /// security line as well as toward its facet line.
    pub security_category: Option<SecurityCategory>,
}

/// A catalog course that may be recommended (archived ones are not passed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseFact {
    pub id: i32,
    pub title: String,
    pub hours: Hours,
    pub facet: Facet,
    pub level: Option<Level>,
    pub security_category: Option<SecurityCategory>,
}

/// The overall standing of a person, from best to worst, so a digest can sort
/// and filter on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// No line has a shortfall; also a person to whom no requirement applies.
    Complete,
    /// Hours are still owed, but every line keeps the expected pace.
    OnTrack,
    /// Some line has fewer counted hours than the expected pace.
    Behind,
    /// The year is over (as of Dec 31) and some line still has a shortfall; this
    /// wins over `Behind`, because catching up is no longer possible.
    NonCompliant,
}

/// One applicable requirement and how the person stands on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// A copy, so the caller can show the rule without looking it up again.
    pub requirement: Requirement,
    /// Jan 1 of the first year of the window; the window ends on the as-of date.
    pub window_start: NaiveDate,
    pub required: Hours,
    pub counted: Hours,
    /// `max(0, required − counted)`: surplus never moves to another line.
    pub shortfall: Hours,
    /// The hours expected by the end of the as-of date's quarter, rounded up.
    pub expected: Hours,
    /// `counted < expected`.
    pub behind: bool,
}

/// A completion that counted toward a line; one completion may count toward its
/// facet line and a security line, so there may be two entries for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub completion_id: i64,
    /// Index into [`Evaluation::lines`].
    pub line: usize,
}

/// Why a completion counted toward no line, so a person can see why their hours
/// do not show; the first reason that applies, in the order of the variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoreReason {
    /// Dated after the as-of date.
    AfterAsOf,
    /// Some applicable line is of its facet (or of its security category), but
    /// the date is inside none of those lines' windows: too early, or in a later
    /// year than the one evaluated.
    OutsideWindow,
    /// Inside the window of a line of its facet, but of a level that line does
    /// not allow (for example a level-D course for a line allowing A or B).
    LevelNotAllowed,
    /// No applicable line of its facet, and no applicable security line of its
    /// security category.
    OtherFacet,
}

/// A completion that counted toward no line, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ignored {
    pub completion_id: i64,
    pub reason: IgnoreReason,
}

/// The standing of one person in one year as of one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub status: Status,
    /// The applicable requirements, in the order they were passed in.
    pub lines: Vec<Line>,
    /// In completion order, then line order.
    pub counted: Vec<Counted>,
    /// In completion order.
    pub ignored: Vec<Ignored>,
}

/// Evaluates a person against the requirements of `year` as of `as_of`.
///
/// Only requirements of `year` should be passed in.
pub fn evaluate(
    person: &PersonFacts,
    completions: &[CompletionFact],
    requirements: &[Requirement],
    year: i32,
    as_of: NaiveDate,
) -> Evaluation {
    let until = as_of.min(last_day(year));
    let quarter = quarter_of(year, until);

    let lines: Vec<Line> = requirements
        .iter()
        .filter(|r| applies(r, person))
        .map(|r| line(r, completions, year, until, quarter))
        .collect();

    let counted = counted_pairs(&lines, completions, until);
    let ignored = ignored(&lines, completions, as_of, until);
    let status = status_of(&lines, until == last_day(year));

    Evaluation {
        status,
        lines,
        counted,
        ignored,
    }
}

/// The courses that close each shortfall of an evaluation: one recommendation
/// per line with a shortfall, in line order. The catalog should be in the
/// order ties are broken by (by id).
///
/// Apart from [`evaluate`] because a unit's report shows the standing of
/// hundreds of people and the recommendations of a page of them: searching
/// the catalog for everyone was a tenth of a city-wide report.
pub fn recommend(
    evaluation: &Evaluation,
    completions: &[CompletionFact],
    taken_elsewhere: &[i32],
    catalog: &[CourseFact],
) -> Vec<Recommendation> {
    recommend::for_lines(&evaluation.lines, completions, taken_elsewhere, catalog)
}

/// Whether a requirement applies to the person: same role (`None` only to `None`),
/// same background when it names one, and an agency level it lists when it lists
/// any (an unknown agency level matches no list).
pub fn applies(requirement: &Requirement, person: &PersonFacts) -> bool {
    let role = requirement.role == person.role;
    let background = requirement
        .technical_background
        .is_none_or(|b| b == person.technical_background);
    let agency = requirement.agency_levels.is_empty()
        || person
            .agency_level
            .is_some_and(|level| requirement.agency_levels.contains(&level));

    role && background && agency
}

/// Whether something of this facet, level and security category counts toward
/// the requirement, dates aside. Shared by completions and catalog courses.
///
/// A security requirement (facet `Security`) counts by category alone, whatever
/// the facet; general and professional never count for each other. Any other
/// requirement counts its own facet, at an allowed level when it lists levels (a
/// course without a level then does not count).
pub fn counts_toward(
    requirement: &Requirement,
    facet: Facet,
    level: Option<Level>,
    category: Option<SecurityCategory>,
) -> bool {
    if requirement.facet == Facet::Security {
        return requirement.security_category.is_some() && requirement.security_category == category;
    }

    let allowed = requirement.levels.is_empty() || level.is_some_and(|l| requirement.levels.contains(&l));
    requirement.facet == facet && allowed
}

/// Jan 1 of the window's first year: the year itself, or the year before for a
/// two-year window. Any other value is treated as one year (validation rejects
/// it before it gets here).
pub fn window_start(year: i32, window_years: u8) -> NaiveDate {
    let first_year = if window_years == 2 { year - 1 } else { year };
    NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// The quarter (1 to 4) holding the date, or 0 before the year starts.
pub fn quarter_of(year: i32, date: NaiveDate) -> u32 {
    match date.year().cmp(&year) {
        std::cmp::Ordering::Less => 0,
        std::cmp::Ordering::Equal => date.month0() / 3 + 1,
        std::cmp::Ordering::Greater => 4,
    }
}

/// `required × q / 4`, rounded up to the next hundredth so the pace is never
/// understated; for every window length, as `domain.md` states it (see the module
/// documentation for why not `(4 + q) / 8` on two-year windows).
pub fn expected_pace(required: Hours, quarter: u32) -> Hours {
    let numerator = required.centihours() * i64::from(quarter.min(4));
    Hours::from_centihours(ceil_div(numerator, 4))
}

fn ceil_div(numerator: i64, denominator: i64) -> i64 {
    let rounds_up = numerator.rem_euclid(denominator) != 0;
    numerator.div_euclid(denominator) + i64::from(rounds_up)
}

fn last_day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

fn line(requirement: &Requirement, completions: &[CompletionFact], year: i32, until: NaiveDate, quarter: u32) -> Line {
    let window_start = window_start(year, requirement.window_years);
    let required = requirement.hours;

    let counted: Hours = completions
        .iter()
        .filter(|c| counts_in_window(requirement, window_start, until, c))
        .map(|c| c.hours)
        .sum();

    let expected = expected_pace(required, quarter);
    Line {
        requirement: requirement.clone(),
        window_start,
        required,
        counted,
        shortfall: required.saturating_sub(counted),
        expected,
        behind: counted < expected,
    }
}

fn counts_in_window(requirement: &Requirement, start: NaiveDate, until: NaiveDate, c: &CompletionFact) -> bool {
    in_window(c.completed_on, start, until) && counts_toward(requirement, c.facet, c.level, c.security_category)
}

fn in_window(date: NaiveDate, start: NaiveDate, until: NaiveDate) -> bool {
    start <= date && date <= until
}

fn counted_pairs(lines: &[Line], completions: &[CompletionFact], until: NaiveDate) -> Vec<Counted> {
    let mut pairs = Vec::new();
    for c in completions {
        for (index, line) in lines.iter().enumerate() {
            if counts_in_window(&line.requirement, line.window_start, until, c) {
                pairs.push(Counted {
                    completion_id: c.id,
                    line: index,
                });
            }
        }
    }
    pairs
}

fn ignored(lines: &[Line], completions: &[CompletionFact], as_of: NaiveDate, until: NaiveDate) -> Vec<Ignored> {
    completions
        .iter()
        .filter(|c| {
            !lines
                .iter()
                .any(|l| counts_in_window(&l.requirement, l.window_start, until, c))
        })
        .map(|c| Ignored {
            completion_id: c.id,
            reason: ignore_reason(lines, c, as_of, until),
        })
        .collect()
}

/// The reason for a completion that counted nowhere. The lines it is about are
/// those of its facet (any level) and the security lines of its category; if
/// its date is inside one of their windows and it still did not count, only a
/// level can have stopped it.
fn ignore_reason(lines: &[Line], c: &CompletionFact, as_of: NaiveDate, until: NaiveDate) -> IgnoreReason {
    if c.completed_on > as_of {
        return IgnoreReason::AfterAsOf;
    }

    let related: Vec<&Line> = lines.iter().filter(|l| is_related(&l.requirement, c)).collect();
    if related.is_empty() {
        return IgnoreReason::OtherFacet;
    }

    if related
        .iter()
        .all(|l| !in_window(c.completed_on, l.window_start, until))
    {
        return IgnoreReason::OutsideWindow;
    }
    IgnoreReason::LevelNotAllowed
}

fn is_related(requirement: &Requirement, c: &CompletionFact) -> bool {
    if requirement.facet == Facet::Security {
        return counts_toward(requirement, c.facet, c.level, c.security_category);
    }
    requirement.facet == c.facet
}

fn status_of(lines: &[Line], year_over: bool) -> Status {
    let owes = lines.iter().any(|l| l.shortfall > Hours::ZERO);
    let behind = lines.iter().any(|l| l.behind);

    match (owes, year_over, behind) {
        (false, _, _) => Status::Complete,
        (true, true, _) => Status::NonCompliant,
        (true, false, true) => Status::Behind,
        (true, false, false) => Status::OnTrack,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use entity::SecurityCategory as Cat;
    use entity::SecurityLevel as Agency;

    use super::*;
    use crate::rules::seed;

    /// The committed 2026 rule set, which this also checks.
    pub(crate) fn rules_2026() -> Vec<Requirement> {
        let file = seed::parse(seed::RULES_TOML).expect("the committed rules parse");
        let set = file
            .rule_set
            .iter()
            .find(|s| s.year == 2026)
            .expect("the seed holds 2026");
        set.requirement.iter().map(Requirement::from).collect()
    }

    pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
    }

    pub(crate) fn h(text: &str) -> Hours {
        Hours::parse(text).expect("valid hours")
    }

    fn person(role: Option<Role>, background: bool, agency: Option<Agency>) -> PersonFacts {
        PersonFacts {
            role,
            technical_background: background,
            agency_level: agency,
        }
    }

    fn staff(background: bool) -> PersonFacts {
        person(Some(Role::ItStaff), background, Some(Agency::D))
    }

    pub(crate) fn done(
        id: i64,
        on: NaiveDate,
        hours: &str,
        facet: Facet,
        level: Option<Level>,
        category: Option<Cat>,
    ) -> CompletionFact {
        CompletionFact {
            id,
            course_id: None,
            title: format!("completion {id}"),
            completed_on: on,
            hours: h(hours),
            facet,
            level,
            security_category: category,
        }
    }

    fn run(person: &PersonFacts, completions: &[CompletionFact], as_of: NaiveDate) -> Evaluation {
        evaluate(person, completions, &rules_2026(), 2026, as_of)
    }

    fn facet_line(eval: &Evaluation, facet: Facet) -> (usize, &Line) {
        let found = eval
            .lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.requirement.facet == facet);
        found.expect("a line of that facet")
    }

    fn security_line(eval: &Evaluation, category: Cat) -> (usize, &Line) {
        let found = eval
            .lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.requirement.security_category == Some(category));
        found.expect("a security line of that category")
    }

    fn reasons(eval: &Evaluation) -> Vec<(i64, IgnoreReason)> {
        eval.ignored.iter().map(|i| (i.completion_id, i.reason)).collect()
    }

    #[test]
    fn table_2_gives_every_role_and_background_its_hours() {
        let cases = [
            (Role::ItStaff, true, ["3", "6", "3", "6"]),
            (Role::ItStaff, false, ["3", "6", "3", "8"]),
            (Role::ItSupervisor, true, ["3", "4", "3", "3"]),
            (Role::ItSupervisor, false, ["3", "4", "3", "4"]),
            (Role::SecurityOfficer, true, ["2", "2", "3", "4"]),
            (Role::SecurityOfficer, false, ["2", "2", "3", "4"]),
        ];

        for (role, background, hours) in cases {
            let eval = run(&person(Some(role), background, Some(Agency::D)), &[], date(2026, 6, 1));

            let facet_lines: Vec<(Facet, Hours)> = eval
                .lines
                .iter()
                .filter(|l| l.requirement.facet != Facet::Security)
                .map(|l| (l.requirement.facet, l.required))
                .collect();
            let expected: Vec<(Facet, Hours)> = [Facet::Policy, Facet::Management, Facet::Legal, Facet::Technical]
                .into_iter()
                .zip(hours.map(h))
                .collect();
            assert_eq!(facet_lines, expected, "{role:?}, background {background}");
        }
    }

    #[test]
    fn table_2_counts_technical_hours_only_at_the_allowed_levels() {
        let cases = [
            (Role::ItStaff, true, vec![Level::A, Level::B]),
            (Role::ItStaff, false, vec![Level::C]),
            (Role::ItSupervisor, true, vec![Level::A, Level::B, Level::C]),
            (Role::ItSupervisor, false, vec![Level::D]),
            (Role::SecurityOfficer, true, vec![Level::A, Level::B]),
            (Role::SecurityOfficer, false, vec![Level::C]),
        ];
        let levels = [Some(Level::A), Some(Level::B), Some(Level::C), Some(Level::D), None];
        let completions: Vec<CompletionFact> = (0..)
            .zip(levels)
            .map(|(id, level)| done(id, date(2026, 2, 1), "1", Facet::Technical, level, None))
            .collect();

        for (role, background, allowed) in cases {
            let eval = run(
                &person(Some(role), background, Some(Agency::D)),
                &completions,
                date(2026, 6, 1),
            );

            let (_, technical) = facet_line(&eval, Facet::Technical);
            assert_eq!(
                technical.requirement.levels, allowed,
                "{role:?}, background {background}"
            );
            assert_eq!(
                technical.counted,
                Hours::whole(allowed.len() as i64),
                "{role:?}, background {background}"
            );
        }
    }

    #[test]
    fn non_technical_lines_count_any_level() {
        let completions = [done(1, date(2026, 2, 1), "3", Facet::Policy, None, None)];

        let eval = run(&staff(true), &completions, date(2026, 6, 1));

        let (_, policy) = facet_line(&eval, Facet::Policy);
        assert!(policy.requirement.levels.is_empty());
        assert_eq!(policy.counted, h("3"));
    }

    #[test]
    fn security_lines_follow_the_agency_level() {
        let professional = (Cat::Professional, h("3"), 2);
        let general = (Cat::General, h("3"), 1);
        let table = [
            (
                Some(Role::SecurityOfficer),
                vec![(Cat::Professional, h("12"), 1)],
                vec![general],
                vec![],
            ),
            (
                Some(Role::ItStaff),
                vec![professional, general],
                vec![general],
                vec![general],
            ),
            (
                Some(Role::ItSupervisor),
                vec![professional, general],
                vec![general],
                vec![general],
            ),
            (None, vec![general], vec![general], vec![general]),
        ];

        for (role, high, low, unknown) in table {
            let cases = [
                (Some(Agency::A), &high),
                (Some(Agency::B), &high),
                (Some(Agency::C), &high),
                (Some(Agency::D), &low),
                (Some(Agency::E), &low),
                (None, &unknown),
            ];
            for (agency, expected) in cases {
                let eval = run(&person(role, false, agency), &[], date(2026, 6, 1));

                let security: Vec<(Cat, Hours, u8)> = eval
                    .lines
                    .iter()
                    .filter_map(|l| Some((l.requirement.security_category?, l.required, l.requirement.window_years)))
                    .collect();
                assert_eq!(&security, expected, "{role:?} at agency {agency:?}");
            }
        }
    }

    #[test]
    fn a_person_with_no_role_owes_only_general_security() {
        let eval = run(&person(None, true, Some(Agency::A)), &[], date(2026, 6, 1));

        assert_eq!(eval.lines.len(), 1);
        assert_eq!(eval.lines[0].requirement.facet, Facet::Security);
        assert_eq!(eval.lines[0].requirement.security_category, Some(Cat::General));
    }

    #[test]
    fn professional_security_never_counts_toward_general() {
        let completions = [done(
            1,
            date(2026, 3, 1),
            "3",
            Facet::Security,
            None,
            Some(Cat::Professional),
        )];
        let at_b = person(Some(Role::ItStaff), true, Some(Agency::B));

        let eval = run(&at_b, &completions, date(2026, 6, 1));
        let (professional, _) = security_line(&eval, Cat::Professional);
        assert_eq!(
            eval.counted,
            [Counted {
                completion_id: 1,
                line: professional
            }]
        );
        assert_eq!(security_line(&eval, Cat::General).1.counted, Hours::ZERO);

        let eval = run(&staff(true), &completions, date(2026, 6, 1));
        assert_eq!(security_line(&eval, Cat::General).1.counted, Hours::ZERO);
        assert_eq!(reasons(&eval), [(1, IgnoreReason::OtherFacet)]);
    }

    #[test]
    fn a_completion_counts_toward_its_facet_and_its_security_category() {
        let completions = [done(1, date(2026, 3, 1), "3", Facet::Legal, None, Some(Cat::General))];

        let eval = run(&staff(true), &completions, date(2026, 6, 1));

        let (legal, legal_line) = facet_line(&eval, Facet::Legal);
        let (general, general_line) = security_line(&eval, Cat::General);
        assert_eq!(
            eval.counted,
            [
                Counted {
                    completion_id: 1,
                    line: legal
                },
                Counted {
                    completion_id: 1,
                    line: general
                }
            ]
        );
        assert_eq!((legal_line.counted, general_line.counted), (h("3"), h("3")));
        assert!(eval.ignored.is_empty());
    }

    #[test]
    fn a_two_year_window_counts_the_year_before_and_a_one_year_window_does_not() {
        let completions = [done(
            1,
            date(2025, 12, 15),
            "3",
            Facet::Security,
            None,
            Some(Cat::Professional),
        )];
        let staff_at_b = person(Some(Role::ItStaff), true, Some(Agency::B));
        let officer_at_b = person(Some(Role::SecurityOfficer), true, Some(Agency::B));

        let eval = run(&staff_at_b, &completions, date(2026, 6, 1));
        let (_, line) = security_line(&eval, Cat::Professional);
        assert_eq!(line.window_start, date(2025, 1, 1));
        assert_eq!((line.counted, line.shortfall), (h("3"), Hours::ZERO));

        let eval = run(&officer_at_b, &completions, date(2026, 6, 1));
        let (_, line) = security_line(&eval, Cat::Professional);
        assert_eq!(line.window_start, date(2026, 1, 1));
        assert_eq!((line.counted, line.shortfall), (Hours::ZERO, h("12")));
        assert_eq!(reasons(&eval), [(1, IgnoreReason::OutsideWindow)]);
    }

    #[test]
    fn a_two_year_window_starts_on_jan_1_of_the_year_before() {
        let completions = [
            done(
                1,
                date(2024, 12, 31),
                "1",
                Facet::Security,
                None,
                Some(Cat::Professional),
            ),
            done(2, date(2025, 1, 1), "1", Facet::Security, None, Some(Cat::Professional)),
        ];

        let eval = run(
            &person(Some(Role::ItSupervisor), true, Some(Agency::C)),
            &completions,
            date(2026, 6, 1),
        );

        assert_eq!(security_line(&eval, Cat::Professional).1.counted, h("1"));
        assert_eq!(reasons(&eval), [(1, IgnoreReason::OutsideWindow)]);
    }

    #[test]
    fn a_one_year_window_starts_on_jan_1() {
        let completions = [
            done(1, date(2025, 12, 31), "1", Facet::Policy, None, None),
            done(2, date(2026, 1, 1), "1", Facet::Policy, None, None),
        ];

        let eval = run(&staff(true), &completions, date(2026, 1, 1));

        let (policy, line) = facet_line(&eval, Facet::Policy);
        assert_eq!(line.counted, h("1"));
        assert_eq!(
            eval.counted,
            [Counted {
                completion_id: 2,
                line: policy
            }]
        );
        assert_eq!(reasons(&eval), [(1, IgnoreReason::OutsideWindow)]);
    }

    #[test]
    fn a_completion_the_day_after_as_of_is_ignored() {
        let completions = [
            done(1, date(2026, 6, 30), "1", Facet::Policy, None, None),
            done(2, date(2026, 7, 1), "1", Facet::Policy, None, None),
        ];

        let eval = run(&staff(true), &completions, date(2026, 6, 30));

        assert_eq!(facet_line(&eval, Facet::Policy).1.counted, h("1"));
        assert_eq!(reasons(&eval), [(2, IgnoreReason::AfterAsOf)]);
    }

    #[test]
    fn half_hours_sum_exactly_and_close_a_line() {
        let completions = [
            done(1, date(2026, 1, 5), "0.5", Facet::Policy, None, None),
            done(2, date(2026, 2, 5), "0.5", Facet::Policy, None, None),
            done(3, date(2026, 3, 5), "1.5", Facet::Policy, None, None),
            done(4, date(2026, 4, 5), "0.5", Facet::Policy, None, None),
        ];

        let eval = run(&staff(true), &completions, date(2026, 5, 1));

        let (policy, line) = facet_line(&eval, Facet::Policy);
        assert_eq!((line.counted, line.shortfall), (h("3"), Hours::ZERO));
        assert!(
            recommend(&eval, &completions, &[], &[])
                .iter()
                .all(|r| r.line != policy)
        );
    }

    #[test]
    fn the_quarter_is_the_one_holding_the_date() {
        assert_eq!(quarter_of(2026, date(2026, 1, 1)), 1);
        assert_eq!(quarter_of(2026, date(2026, 3, 31)), 1);
        assert_eq!(quarter_of(2026, date(2026, 4, 1)), 2);
        assert_eq!(quarter_of(2026, date(2026, 6, 30)), 2);
        assert_eq!(quarter_of(2026, date(2026, 7, 1)), 3);
        assert_eq!(quarter_of(2026, date(2026, 10, 1)), 4);
        assert_eq!(quarter_of(2026, date(2026, 12, 31)), 4);
        assert_eq!(quarter_of(2026, date(2025, 12, 31)), 0);
        assert_eq!(quarter_of(2026, date(2027, 1, 1)), 4);
    }

    #[test]
    fn the_expected_pace_is_a_quarter_per_quarter_rounded_up() {
        assert_eq!(expected_pace(h("6"), 0), Hours::ZERO);
        assert_eq!(expected_pace(h("6"), 1), h("1.5"));
        assert_eq!(expected_pace(h("6"), 2), h("3"));
        assert_eq!(expected_pace(h("6"), 3), h("4.5"));
        assert_eq!(expected_pace(h("6"), 4), h("6"));
        assert_eq!(expected_pace(h("3"), 1), h("0.75"));
        assert_eq!(expected_pace(h("1.01"), 1), h("0.26"));
        assert_eq!(expected_pace(h("0.05"), 2), h("0.03"));
        assert_eq!(expected_pace(h("0.05"), 3), h("0.04"));
    }

    #[test]
    fn behind_is_strictly_below_the_rounded_up_pace() {
        let requirement = Requirement {
            hours: h("1.01"),
            ..rules_2026()[0].clone()
        };
        let below = [done(1, date(2026, 2, 1), "0.25", Facet::Policy, None, None)];
        let at = [done(1, date(2026, 2, 1), "0.26", Facet::Policy, None, None)];

        let eval = evaluate(
            &staff(true),
            &below,
            std::slice::from_ref(&requirement),
            2026,
            date(2026, 3, 1),
        );
        assert_eq!((eval.lines[0].expected, eval.lines[0].behind), (h("0.26"), true));

        let eval = evaluate(
            &staff(true),
            &at,
            std::slice::from_ref(&requirement),
            2026,
            date(2026, 3, 1),
        );
        assert_eq!((eval.lines[0].expected, eval.lines[0].behind), (h("0.26"), false));
    }

    /// Everything an it_staff with background at a D agency owes, except 4 of
    /// the 6 management hours.
    fn all_but_management() -> Vec<CompletionFact> {
        vec![
            done(1, date(2026, 1, 10), "3", Facet::Policy, None, None),
            done(2, date(2026, 1, 11), "3", Facet::Legal, None, Some(Cat::General)),
            done(3, date(2026, 1, 12), "6", Facet::Technical, Some(Level::B), None),
            done(4, date(2026, 2, 1), "2", Facet::Management, None, None),
        ]
    }

    #[test]
    fn april_1_moves_the_pace_from_q1_to_q2() {
        let eval = run(&staff(true), &all_but_management(), date(2026, 3, 31));
        let (_, management) = facet_line(&eval, Facet::Management);
        assert_eq!((management.expected, management.behind), (h("1.5"), false));
        assert_eq!(eval.status, Status::OnTrack);

        let eval = run(&staff(true), &all_but_management(), date(2026, 4, 1));
        let (_, management) = facet_line(&eval, Facet::Management);
        assert_eq!((management.expected, management.behind), (h("3"), true));
        assert_eq!(eval.status, Status::Behind);
    }

    #[test]
    fn a_two_year_line_is_paced_over_the_year_it_falls_due() {
        let completions = [done(
            1,
            date(2025, 5, 1),
            "1",
            Facet::Security,
            None,
            Some(Cat::Professional),
        )];

        let eval = run(
            &person(Some(Role::ItStaff), true, Some(Agency::A)),
            &completions,
            date(2026, 2, 1),
        );

        let (_, line) = security_line(&eval, Cat::Professional);
        assert_eq!((line.expected, line.behind), (h("0.75"), false));
    }

    #[test]
    fn statuses_go_from_on_track_to_behind_to_non_compliant() {
        let eval = run(&staff(true), &all_but_management(), date(2026, 3, 1));
        assert_eq!(eval.status, Status::OnTrack);

        let eval = run(&staff(true), &all_but_management(), date(2026, 9, 30));
        assert_eq!(eval.status, Status::Behind);

        let eval = run(&staff(true), &all_but_management(), date(2026, 12, 31));
        assert_eq!(eval.status, Status::NonCompliant);
        assert!(eval.lines.iter().any(|l| l.behind), "non-compliance wins over behind");

        let mut all = all_but_management();
        all.push(done(5, date(2026, 12, 31), "4", Facet::Management, None, None));
        let eval = run(&staff(true), &all, date(2026, 12, 31));
        assert_eq!(eval.status, Status::Complete);
        assert!(recommend(&eval, &all, &[], &[]).is_empty());
    }

    #[test]
    fn statuses_are_ordered_from_best_to_worst() {
        assert!(Status::Complete < Status::OnTrack);
        assert!(Status::OnTrack < Status::Behind);
        assert!(Status::Behind < Status::NonCompliant);
    }

    #[test]
    fn a_person_with_no_applicable_lines_is_complete() {
        let eval = evaluate(&staff(true), &[], &[], 2026, date(2026, 12, 31));
        assert_eq!(eval.status, Status::Complete);
        assert!(eval.lines.is_empty());

        let officer_only: Vec<Requirement> = rules_2026()
            .into_iter()
            .filter(|r| r.role == Some(Role::SecurityOfficer))
            .collect();
        let eval = evaluate(&person(None, false, None), &[], &officer_only, 2026, date(2026, 12, 31));
        assert_eq!(eval.status, Status::Complete);
    }

    #[test]
    fn an_as_of_date_after_the_year_is_taken_as_dec_31() {
        let completions = [
            done(1, date(2027, 1, 5), "3", Facet::Policy, None, None),
            done(2, date(2027, 1, 11), "3", Facet::Policy, None, None),
        ];

        let eval = run(&staff(true), &completions, date(2027, 1, 10));

        let (_, policy) = facet_line(&eval, Facet::Policy);
        assert_eq!((policy.counted, policy.expected), (Hours::ZERO, h("3")));
        assert_eq!(
            reasons(&eval),
            [(1, IgnoreReason::OutsideWindow), (2, IgnoreReason::AfterAsOf)]
        );
        assert_eq!(eval.status, Status::NonCompliant);
    }

    #[test]
    fn an_as_of_date_before_the_year_expects_nothing_yet() {
        let completions = [done(1, date(2025, 12, 20), "1", Facet::Policy, None, None)];

        let eval = run(&staff(true), &completions, date(2025, 12, 31));

        assert!(eval.lines.iter().all(|l| l.expected == Hours::ZERO && !l.behind));
        assert_eq!(reasons(&eval), [(1, IgnoreReason::OutsideWindow)]);
        assert_eq!(eval.status, Status::OnTrack);
    }

    #[test]
    fn each_ignore_reason_applies_in_order() {
        let completions = [
            done(1, date(2026, 7, 1), "1", Facet::Legal, None, None),
            done(2, date(2025, 11, 1), "1", Facet::Technical, Some(Level::D), None),
            done(3, date(2026, 2, 1), "1", Facet::Technical, Some(Level::D), None),
            done(4, date(2026, 2, 1), "1", Facet::Technical, None, None),
            done(5, date(2026, 2, 1), "1", Facet::Security, None, None),
        ];

        let eval = run(&staff(true), &completions, date(2026, 6, 30));

        assert_eq!(
            reasons(&eval),
            [
                (1, IgnoreReason::AfterAsOf),
                (2, IgnoreReason::OutsideWindow),
                (3, IgnoreReason::LevelNotAllowed),
                (4, IgnoreReason::LevelNotAllowed),
                (5, IgnoreReason::OtherFacet),
            ]
        );
        assert!(eval.counted.is_empty());
    }

    #[test]
    fn a_person_with_no_role_ignores_map_facets() {
        let completions = [
            done(1, date(2026, 7, 1), "1", Facet::Policy, None, None),
            done(2, date(2026, 2, 1), "1", Facet::Policy, None, None),
            done(3, date(2025, 2, 1), "1", Facet::Policy, None, Some(Cat::General)),
            done(4, date(2026, 2, 1), "1", Facet::Policy, None, Some(Cat::General)),
        ];

        let eval = run(&person(None, false, Some(Agency::D)), &completions, date(2026, 6, 30));

        assert_eq!(
            reasons(&eval),
            [
                (1, IgnoreReason::AfterAsOf),
                (2, IgnoreReason::OtherFacet),
                (3, IgnoreReason::OutsideWindow)
            ]
        );
        assert_eq!(
            eval.counted,
            [Counted {
                completion_id: 4,
                line: 0
            }]
        );
    }

    #[test]
    fn a_disallowed_level_still_counts_toward_security() {
        let completions = [done(
            1,
            date(2026, 2, 1),
            "3",
            Facet::Technical,
            Some(Level::D),
            Some(Cat::Professional),
        )];

        let eval = run(
            &person(Some(Role::ItStaff), true, Some(Agency::B)),
            &completions,
            date(2026, 6, 30),
        );

        let (professional, _) = security_line(&eval, Cat::Professional);
        assert_eq!(
            eval.counted,
            [Counted {
                completion_id: 1,
                line: professional
            }]
        );
        assert_eq!(facet_line(&eval, Facet::Technical).1.counted, Hours::ZERO);
        assert!(eval.ignored.is_empty());
    }

    /// The same completions, read with the facts held on two dates.
    fn changing_person_completions() -> Vec<CompletionFact> {
        vec![
            done(1, date(2026, 2, 10), "4", Facet::Management, None, None),
            done(2, date(2026, 3, 5), "4", Facet::Technical, Some(Level::C), None),
            done(3, date(2026, 5, 2), "3", Facet::Technical, Some(Level::A), None),
        ]
    }

    #[test]
    fn a_role_change_changes_the_lines() {
        let completions = changing_person_completions();

        let march = run(&staff(false), &completions, date(2026, 3, 31));
        let (_, management) = facet_line(&march, Facet::Management);
        let (_, technical) = facet_line(&march, Facet::Technical);
        assert_eq!((management.required, management.shortfall), (h("6"), h("2")));
        assert_eq!((technical.required, technical.counted), (h("8"), h("4")));
        assert_eq!(reasons(&march), [(3, IgnoreReason::AfterAsOf)]);

        let supervisor = person(Some(Role::ItSupervisor), true, Some(Agency::D));
        let september = run(&supervisor, &completions, date(2026, 9, 30));
        let (_, management) = facet_line(&september, Facet::Management);
        let (_, technical) = facet_line(&september, Facet::Technical);
        assert_eq!((management.required, management.shortfall), (h("4"), Hours::ZERO));
        assert_eq!(
            (technical.required, technical.counted, technical.shortfall),
            (h("3"), h("7"), Hours::ZERO)
        );
        assert!(september.ignored.is_empty());
    }

    #[test]
    fn gaining_a_technical_background_changes_the_allowed_levels() {
        let completions = changing_person_completions();

        let september = run(&staff(true), &completions, date(2026, 9, 30));

        let (_, technical) = facet_line(&september, Facet::Technical);
        assert_eq!(technical.requirement.levels, [Level::A, Level::B]);
        assert_eq!((technical.required, technical.counted), (h("6"), h("3")));
        assert_eq!(reasons(&september), [(2, IgnoreReason::LevelNotAllowed)]);
    }

    #[test]
    fn an_unknown_agency_level_drops_the_agency_specific_rules() {
        let officer = person(Some(Role::SecurityOfficer), true, None);

        let eval = run(&officer, &[], date(2026, 6, 30));

        assert!(eval.lines.iter().all(|l| l.requirement.facet != Facet::Security));
        assert_eq!(eval.lines.len(), 4);
    }

    #[test]
    fn recommendations_follow_the_lines_with_a_shortfall() {
        let completions = [done(1, date(2026, 2, 1), "1", Facet::Policy, None, None)];
        let course = |id: i32, hours: &str, facet: Facet| CourseFact {
            id,
            title: format!("course {id}"),
            hours: h(hours),
            facet,
            level: None,
            security_category: None,
        };
        let catalog = [
            course(1, "3", Facet::Policy),
            course(2, "2", Facet::Policy),
            course(3, "6", Facet::Management),
        ];

        let eval = evaluate(&staff(true), &completions, &rules_2026(), 2026, date(2026, 6, 30));
        let recommendations = recommend(&eval, &completions, &[], &catalog);

        let (policy, _) = facet_line(&eval, Facet::Policy);
        let (management, _) = facet_line(&eval, Facet::Management);
        let lines_with_gaps: Vec<usize> = recommendations.iter().map(|r| r.line).collect();
        assert_eq!(lines_with_gaps, (0..eval.lines.len()).collect::<Vec<_>>());
        let for_policy = &recommendations[policy];
        assert_eq!(
            (
                for_policy.course_ids.as_slice(),
                for_policy.hours,
                for_policy.closes_gap
            ),
            (&[2][..], h("2"), true)
        );
        assert_eq!(recommendations[management].course_ids, [3]);
    }
}
