//! Recommendations: the cheapest set of catalog courses that closes a line's gap.
//!
//! Each line is solved on its own: a course that would serve a facet line and a
//! security line may be recommended for both, because a person reads them as two
//! separate debts and the sets stay easy to explain.

use super::engine::{CompletionFact, CourseFact, Line, counts_toward};
use crate::hours::Hours;
use crate::rules::Requirement;

/// The courses recommended for one line with a shortfall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// Index into `Evaluation::lines`.
    pub line: usize,
    /// In catalog order. Empty when no catalog course counts toward the line
    /// (technical level A, for instance, is certification courses outside the
    /// catalog), so the caller can still say the gap has no listed course.
    pub course_ids: Vec<i32>,
    /// The sum of the chosen courses' hours.
    pub hours: Hours,
    /// False when even all candidates together fall short; they are then all
    /// recommended, as the best the catalog can do.
    pub closes_gap: bool,
}

/// One recommendation per line with a shortfall, in line order.
pub fn for_lines(
    lines: &[Line],
    completions: &[CompletionFact],
    taken_elsewhere: &[i32],
    catalog: &[CourseFact],
) -> Vec<Recommendation> {
    let taken = Taken::of(completions, taken_elsewhere);
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.shortfall > Hours::ZERO)
        .map(|(index, line)| for_line(index, &line.requirement, line.shortfall, &taken, catalog))
        .collect()
}

/// The catalog courses a person has taken, at any date, looked up once per
/// person rather than once per line and course.
#[derive(Debug, Clone, Default)]
pub struct Taken(Vec<i32>);

impl Taken {
    /// The courses of the completions read, and of those read apart (see
    /// `PersonCompliance::taken_elsewhere`).
    pub fn of(completions: &[CompletionFact], elsewhere: &[i32]) -> Self {
        let mut ids: Vec<i32> = completions.iter().filter_map(|c| c.course_id).collect();
        ids.extend_from_slice(elsewhere);
        ids.sort_unstable();
        ids.dedup();
        Taken(ids)
    }

    pub fn contains(&self, course_id: i32) -> bool {
        self.0.binary_search(&course_id).is_ok()
    }
}

/// Among the courses that would count toward the requirement and that the person
/// has not taken, the set with the fewest hours that covers the shortfall; ties
/// go to fewer courses, then to the earliest courses in catalog order.
pub fn for_line(
    line: usize,
    requirement: &Requirement,
    shortfall: Hours,
    taken: &Taken,
    catalog: &[CourseFact],
) -> Recommendation {
    let candidates: Vec<&CourseFact> = catalog.iter().filter(|c| is_candidate(requirement, c, taken)).collect();
    let weights: Vec<i64> = candidates.iter().map(|c| c.hours.centihours()).collect();

    match cheapest_cover(&weights, shortfall.centihours()) {
        Some(chosen) => recommendation(line, chosen.iter().map(|&i| candidates[i]), true),
        None => recommendation(line, candidates.iter().copied(), false),
    }
}

/// A course counts toward the line, has positive hours (a zero-hour course closes
/// nothing) and was never taken, at any date: retaking a course is rarely
/// accepted by the platforms, so an old completion still rules it out.
fn is_candidate(requirement: &Requirement, course: &CourseFact, taken: &Taken) -> bool {
    course.hours > Hours::ZERO
        && counts_toward(requirement, course.facet, course.level, course.security_category)
        && !taken.contains(course.id)
}

fn recommendation<'a>(line: usize, courses: impl Iterator<Item = &'a CourseFact>, closes_gap: bool) -> Recommendation {
    let courses: Vec<&CourseFact> = courses.collect();
    Recommendation {
        line,
        course_ids: courses.iter().map(|c| c.id).collect(),
        hours: courses.iter().map(|c| c.hours).sum(),
        closes_gap,
    }
}

/// The positions (ascending) of the subset of `weights` whose sum is at least
/// `target` and smallest; ties go to fewer items, then to the lexicographically
/// smallest positions. `None` when even all of them fall short, or when a
/// weight is not positive (callers drop zero-hour courses first).
///
/// An exact 0/1 knapsack over sums, in units of the weights' greatest common
/// divisor (half hours when every course is a half-hour step, hundredths at
/// worst). Only sums below `target + heaviest` matter: a cover reaching that
/// much stays a cover without any one of its items, so it is never the cheapest.
pub fn cheapest_cover(weights: &[i64], target: i64) -> Option<Vec<usize>> {
    if target <= 0 {
        return Some(Vec::new());
    }
    if weights.iter().any(|&w| w <= 0) || weights.iter().sum::<i64>() < target {
        return None;
    }

    let unit = weights.iter().copied().fold(0, gcd);
    let units: Vec<usize> = weights.iter().map(|&w| to_index(w / unit)).collect();
    let target = to_index(ceil_div(target, unit));
    let heaviest = units.iter().copied().max().unwrap_or(0);
    let cap = (target + heaviest).saturating_sub(1).min(units.iter().sum());

    let best = best_subsets(&units, cap);
    best.into_iter().skip(target).flatten().next()
}

/// For every sum up to `cap`, the best subset reaching exactly that sum. Items
/// are added in order, so each subset stays sorted; appending the same largest
/// item to two subsets of equal size keeps their order, which makes the
/// tie-breaks exact.
fn best_subsets(units: &[usize], cap: usize) -> Vec<Option<Vec<usize>>> {
    let mut best: Vec<Option<Vec<usize>>> = vec![None; cap + 1];
    best[0] = Some(Vec::new());

    for (item, &weight) in units.iter().enumerate() {
        for sum in (weight..=cap).rev() {
            let Some(mut with_item) = best[sum - weight].clone() else {
                continue;
            };
            with_item.push(item);
            if is_better(&with_item, best[sum].as_ref()) {
                best[sum] = Some(with_item);
            }
        }
    }
    best
}

fn is_better(candidate: &[usize], current: Option<&Vec<usize>>) -> bool {
    match current {
        None => true,
        Some(current) => (candidate.len(), candidate) < (current.len(), current.as_slice()),
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

fn ceil_div(numerator: i64, denominator: i64) -> i64 {
    (numerator + denominator - 1) / denominator
}

/// Sums here are positive and bounded by the catalog's total hours.
fn to_index(value: i64) -> usize {
    usize::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use entity::{Facet, Level, SecurityCategory};

    use super::*;
    use crate::compliance::engine::tests::{date, done, h, rules_2026};

    fn course(id: i32, hours: &str, facet: Facet, level: Option<Level>) -> CourseFact {
        CourseFact {
            id,
            title: format!("course {id}"),
            hours: h(hours),
            facet,
            level,
            security_category: None,
        }
    }

    fn policy_courses(hours: &[&str]) -> Vec<CourseFact> {
        (1..)
            .zip(hours)
            .map(|(id, hours)| course(id, hours, Facet::Policy, None))
            .collect()
    }

    fn requirement(facet: Facet, levels: &[Level], category: Option<SecurityCategory>) -> Requirement {
        let found = rules_2026()
            .into_iter()
            .find(|r| r.facet == facet && r.security_category == category);
        let requirement = found.expect("a 2026 requirement of that kind");
        Requirement {
            levels: levels.to_vec(),
            ..requirement
        }
    }

    fn recommend(shortfall: &str, catalog: &[CourseFact], completions: &[CompletionFact]) -> (Vec<i32>, Hours, bool) {
        let policy = requirement(Facet::Policy, &[], None);
        let r = for_line(0, &policy, h(shortfall), &Taken::of(completions, &[]), catalog);
        (r.course_ids, r.hours, r.closes_gap)
    }

    #[test]
    fn picks_the_fewest_hours_that_close_the_gap() {
        let catalog = policy_courses(&["2", "2", "1.5", "1.5"]);

        assert_eq!(recommend("3", &catalog, &[]), (vec![3, 4], h("3"), true));
    }

    #[test]
    fn beats_taking_the_largest_course_first() {
        let catalog = policy_courses(&["4", "3", "3"]);

        assert_eq!(recommend("6", &catalog, &[]), (vec![2, 3], h("6"), true));
    }

    #[test]
    fn overshoots_as_little_as_possible() {
        let catalog = policy_courses(&["2", "2", "3"]);

        assert_eq!(recommend("2.5", &catalog, &[]), (vec![3], h("3"), true));
    }

    #[test]
    fn equal_hours_go_to_fewer_courses() {
        let catalog = policy_courses(&["1", "1", "1", "3"]);

        assert_eq!(recommend("3", &catalog, &[]), (vec![4], h("3"), true));
    }

    #[test]
    fn equal_hours_and_count_go_to_the_earliest_courses() {
        let catalog = policy_courses(&["1", "2", "2", "1"]);
        assert_eq!(recommend("3", &catalog, &[]), (vec![1, 2], h("3"), true));

        let catalog = policy_courses(&["2", "1", "1", "2"]);
        assert_eq!(recommend("2", &catalog, &[]), (vec![1], h("2"), true));
    }

    #[test]
    fn works_in_hundredths_when_courses_are_not_half_hour_steps() {
        let catalog = policy_courses(&["0.5", "0.75", "1.25", "0.3"]);
        assert_eq!(recommend("1.25", &catalog, &[]), (vec![3], h("1.25"), true));

        assert_eq!(recommend("0.8", &catalog, &[]), (vec![1, 4], h("0.8"), true));
    }

    #[test]
    fn skips_courses_already_taken_at_any_date() {
        let catalog = policy_courses(&["3", "2", "2"]);
        let taken_long_ago = CompletionFact {
            course_id: Some(1),
            ..done(9, date(2024, 5, 1), "3", Facet::Policy, None, None)
        };

        assert_eq!(recommend("3", &catalog, &[taken_long_ago]), (vec![2, 3], h("4"), true));
    }

    #[test]
    fn recommends_everything_when_nothing_closes_the_gap() {
        let catalog = policy_courses(&["1", "0.5"]);

        assert_eq!(recommend("3", &catalog, &[]), (vec![1, 2], h("1.5"), false));
    }

    #[test]
    fn recommends_nothing_when_no_course_counts() {
        let catalog = vec![course(1, "3", Facet::Legal, None), course(2, "0", Facet::Policy, None)];

        assert_eq!(recommend("3", &catalog, &[]), (vec![], Hours::ZERO, false));
    }

    #[test]
    fn candidates_must_count_toward_the_line() {
        let technical = requirement(Facet::Technical, &[Level::A, Level::B], None);
        let catalog = vec![
            course(1, "1", Facet::Technical, Some(Level::B)),
            course(2, "1", Facet::Technical, Some(Level::C)),
            course(3, "1", Facet::Technical, None),
            course(4, "1", Facet::Policy, Some(Level::A)),
            course(5, "1", Facet::Technical, Some(Level::A)),
        ];

        let r = for_line(3, &technical, h("6"), &Taken::default(), &catalog);

        assert_eq!(
            r,
            Recommendation {
                line: 3,
                course_ids: vec![1, 5],
                hours: h("2"),
                closes_gap: false
            }
        );
    }

    #[test]
    fn security_candidates_match_by_category_whatever_the_facet() {
        let general = requirement(Facet::Security, &[], Some(SecurityCategory::General));
        let with = |id, facet, category| CourseFact {
            security_category: category,
            ..course(id, "1.5", facet, None)
        };
        let catalog = vec![
            with(1, Facet::Legal, Some(SecurityCategory::General)),
            with(2, Facet::Security, Some(SecurityCategory::Professional)),
            with(3, Facet::Security, None),
            with(4, Facet::Policy, Some(SecurityCategory::General)),
        ];

        let r = for_line(4, &general, h("3"), &Taken::default(), &catalog);

        assert_eq!(
            r,
            Recommendation {
                line: 4,
                course_ids: vec![1, 4],
                hours: h("3"),
                closes_gap: true
            }
        );
    }

    #[test]
    fn cheapest_cover_handles_the_edges() {
        assert_eq!(cheapest_cover(&[100, 200], 0), Some(vec![]));
        assert_eq!(cheapest_cover(&[], 1), None);
        assert_eq!(cheapest_cover(&[100, 0], 50), None);
        assert_eq!(cheapest_cover(&[300], 300), Some(vec![0]));
        assert_eq!(cheapest_cover(&[300], 301), None);
    }

    #[test]
    fn cheapest_cover_stays_exact_on_a_large_catalog() {
        let weights: Vec<i64> = (0..40)
            .map(|i| if i % 2 == 0 { 701 } else { 499 })
            .chain([4000])
            .collect();

        assert_eq!(cheapest_cover(&weights, 1200), Some(vec![0, 1]));
        assert_eq!(cheapest_cover(&weights, 1201), Some(vec![0, 2]));
    }
}
