//! Deriving a technical background (資通基礎技術背景) from evidence.
//!
//! Pure: evidence and an optional admin override in, a verdict out. The verdict
//! names the criterion that was met, or says for each criterion why it fell
//! short, so that a person can see what to hand in.

use chrono::{Months, NaiveDate};
use entity::{CertificateCategory, Criterion};
use sea_orm::Iterable;

use crate::hours::Hours;

/// Criteria 6 and 7 look back this many months from the as-of date.
const LOOKBACK_MONTHS: u32 = 120;
/// Criterion 4: certificates in at least this many categories.
const CERTIFICATE_CATEGORIES_NEEDED: usize = 2;
/// Criterion 6.
pub const CREDITS_NEEDED: Hours = Hours::whole(20);
/// Criterion 7.
pub const TRAINING_HOURS_NEEDED: Hours = Hours::whole(60);

/// One piece of evidence, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFact {
    pub criterion: Criterion,
    pub detail: String,
    pub category: Option<CertificateCategory>,
    pub obtained_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub amount: Option<Hours>,
}

impl EvidenceFact {
    /// Obtained on or before the date, and not expired before it (a
    /// certificate is still valid on its expiry date).
    fn in_force(&self, as_of: NaiveDate) -> bool {
        self.obtained_on.is_none_or(|d| d <= as_of) && self.expires_on.is_none_or(|d| d >= as_of)
    }
}

/// An admin's answer, which wins over the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub value: bool,
    pub reason: String,
}

/// How one criterion fares on the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub criterion: Criterion,
    pub met: bool,
    /// Why, in a sentence a person can act on.
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub has_background: bool,
    /// Set when an admin decided the answer by hand.
    pub overridden: Option<Override>,
    /// The first criterion met, in the order of the rules.
    pub met_by: Option<Criterion>,
    /// One finding per criterion, in the order of the rules.
    pub findings: Vec<Finding>,
}

pub fn derive(evidence: &[EvidenceFact], overridden: Option<Override>, as_of: NaiveDate) -> Verdict {
    let findings: Vec<Finding> = Criterion::iter().map(|c| assess(c, evidence, as_of)).collect();
    let met_by = findings.iter().find(|f| f.met).map(|f| f.criterion);

    let has_background = match &overridden {
        Some(o) => o.value,
        None => met_by.is_some(),
    };
    Verdict {
        has_background,
        overridden,
        met_by,
        findings,
    }
}

fn assess(criterion: Criterion, evidence: &[EvidenceFact], as_of: NaiveDate) -> Finding {
    let mine: Vec<&EvidenceFact> = evidence.iter().filter(|e| e.criterion == criterion).collect();
    let (met, explanation) = match criterion {
        Criterion::Certificate => certificates(&mine, as_of),
        Criterion::Credits => accumulated(&mine, as_of, CREDITS_NEEDED, ("credit", "credits")),
        Criterion::TrainingHours => accumulated(&mine, as_of, TRAINING_HOURS_NEEDED, ("hour", "hours")),
        _ => single(&mine, as_of),
    };
    Finding {
        criterion,
        met,
        explanation,
    }
}

/// Criteria 1, 2, 3 and 5: one piece of evidence in force suffices.
fn single(evidence: &[&EvidenceFact], as_of: NaiveDate) -> (bool, String) {
    if let Some(valid) = evidence.iter().find(|e| e.in_force(as_of)) {
        return (true, format!("met by {}", valid.detail));
    }
    match evidence.first() {
        None => (false, "no evidence recorded".into()),
        Some(e) => (false, not_in_force(e, as_of)),
    }
}

fn not_in_force(e: &EvidenceFact, as_of: NaiveDate) -> String {
    match (e.obtained_on, e.expires_on) {
        (Some(obtained), _) if obtained > as_of => {
            format!("{} counts only from {obtained}, when it is obtained", e.detail)
        }
        (_, Some(expired)) => format!("{} expired on {expired}", e.detail),
        _ => format!("{} is not in force", e.detail),
    }
}

/// Criterion 4: valid certificates in at least two distinct categories; two
/// certificates of one category count once.
fn certificates(evidence: &[&EvidenceFact], as_of: NaiveDate) -> (bool, String) {
    let mut categories: Vec<CertificateCategory> = evidence
        .iter()
        .filter(|e| e.in_force(as_of))
        .filter_map(|e| e.category)
        .collect();
    categories.sort();
    categories.dedup();

    let expired = evidence.iter().filter(|e| !e.in_force(as_of)).count();
    let names: Vec<&str> = categories.iter().map(|c| category_code(*c)).collect();
    let mut explanation = match categories.len() {
        0 => "no valid certificate; valid certificates in two categories are needed".to_string(),
        n if n >= CERTIFICATE_CATEGORIES_NEEDED => format!("valid certificates in {}", names.join(", ")),
        _ => format!(
            "valid certificates in one category only ({}); a second category is needed",
            names.join(", ")
        ),
    };
    if expired > 0 && categories.len() < CERTIFICATE_CATEGORIES_NEEDED {
        let verb = if expired == 1 { "is" } else { "are" };
        let certificates = crate::text::count(expired, "certificate", "certificates");
        explanation.push_str(&format!("; {certificates} {verb} not in force on {as_of}"));
    }
    (categories.len() >= CERTIFICATE_CATEGORIES_NEEDED, explanation)
}

/// Criteria 6 and 7: a sum within the ten years before the date. Evidence
/// obtained on the same calendar day ten years earlier still counts.
fn accumulated(evidence: &[&EvidenceFact], as_of: NaiveDate, needed: Hours, unit: (&str, &str)) -> (bool, String) {
    let since = as_of
        .checked_sub_months(Months::new(LOOKBACK_MONTHS))
        .unwrap_or(NaiveDate::MIN);
    let within = |e: &&&EvidenceFact| e.obtained_on.is_some_and(|d| d >= since && d <= as_of);

    let counted: Hours = evidence.iter().filter(within).filter_map(|e| e.amount).sum();
    let older: Hours = evidence
        .iter()
        .filter(|e| e.obtained_on.is_some_and(|d| d < since))
        .filter_map(|e| e.amount)
        .sum();

    let noun = |hours: Hours| if hours == Hours::whole(1) { unit.0 } else { unit.1 };
    if counted >= needed {
        return (true, format!("{counted} {} since {since}", noun(counted)));
    }
    let mut explanation = format!("{counted} {} since {since}, {needed} needed", noun(counted));
    if older > Hours::ZERO {
        let verb = if older == Hours::whole(1) { "is" } else { "are" };
        explanation.push_str(&format!("; {older} more {} {verb} older than ten years", noun(older)));
    }
    (false, explanation)
}

pub fn category_code(category: CertificateCategory) -> &'static str {
    match category {
        CertificateCategory::Cybersecurity => "cybersecurity",
        CertificateCategory::NetworkManagement => "network_management",
        CertificateCategory::DatabaseManagement => "database_management",
        CertificateCategory::SoftwareEngineering => "software_engineering",
        CertificateCategory::SoftwareTesting => "software_testing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn fact(criterion: Criterion, obtained: Option<NaiveDate>, expires: Option<NaiveDate>) -> EvidenceFact {
        EvidenceFact {
            criterion,
            detail: format!("{criterion:?}"),
            category: None,
            obtained_on: obtained,
            expires_on: expires,
            amount: None,
        }
    }

    fn cert(category: CertificateCategory, expires: NaiveDate) -> EvidenceFact {
        EvidenceFact {
            category: Some(category),
            ..fact(Criterion::Certificate, Some(day(2020, 1, 1)), Some(expires))
        }
    }

    fn amount(criterion: Criterion, obtained: NaiveDate, hours: i64) -> EvidenceFact {
        EvidenceFact {
            amount: Some(Hours::whole(hours)),
            ..fact(criterion, Some(obtained), None)
        }
    }

    fn finding(verdict: &Verdict, criterion: Criterion) -> &Finding {
        verdict.findings.iter().find(|f| f.criterion == criterion).unwrap()
    }

    const AS_OF: (i32, u32, u32) = (2026, 3, 15);

    fn as_of() -> NaiveDate {
        day(AS_OF.0, AS_OF.1, AS_OF.2)
    }

    #[test]
    fn no_evidence_means_no_background() {
        let verdict = derive(&[], None, as_of());
        assert!(!verdict.has_background);
        assert_eq!(verdict.met_by, None);
        assert_eq!(verdict.findings.len(), 7);
        assert!(verdict.findings.iter().all(|f| !f.met));
        assert_eq!(
            finding(&verdict, Criterion::JobSeries).explanation,
            "no evidence recorded"
        );
    }

    #[test]
    fn each_single_criterion_is_met_by_evidence_in_force() {
        for criterion in [
            Criterion::JobSeries,
            Criterion::EngineerLicence,
            Criterion::TechnicianCertificate,
            Criterion::IctDegree,
        ] {
            let verdict = derive(&[fact(criterion, Some(day(2010, 6, 30)), None)], None, as_of());
            assert!(verdict.has_background, "{criterion:?}");
            assert_eq!(verdict.met_by, Some(criterion));
        }
    }

    #[test]
    fn evidence_obtained_after_the_date_does_not_count_yet() {
        let later = fact(Criterion::EngineerLicence, Some(day(2026, 3, 16)), None);
        let verdict = derive(std::slice::from_ref(&later), None, as_of());
        assert!(!verdict.has_background);
        assert!(
            finding(&verdict, Criterion::EngineerLicence)
                .explanation
                .contains("counts only from 2026-03-16, when it is obtained")
        );
        assert!(derive(&[later], None, day(2026, 3, 16)).has_background);
    }

    #[test]
    fn two_certificate_categories_are_needed() {
        let one = [cert(CertificateCategory::Cybersecurity, day(2027, 1, 1))];
        let verdict = derive(&one, None, as_of());
        assert!(!verdict.has_background);
        assert_eq!(
            finding(&verdict, Criterion::Certificate).explanation,
            "valid certificates in one category only (cybersecurity); a second category is needed"
        );

        let two = [
            cert(CertificateCategory::Cybersecurity, day(2027, 1, 1)),
            cert(CertificateCategory::SoftwareTesting, day(2027, 1, 1)),
        ];
        assert_eq!(derive(&two, None, as_of()).met_by, Some(Criterion::Certificate));
    }

    #[test]
    fn two_certificates_in_one_category_count_once() {
        let same = [
            cert(CertificateCategory::DatabaseManagement, day(2027, 1, 1)),
            cert(CertificateCategory::DatabaseManagement, day(2028, 1, 1)),
        ];
        let verdict = derive(&same, None, as_of());
        assert!(!verdict.has_background);
        assert!(
            finding(&verdict, Criterion::Certificate)
                .explanation
                .starts_with("valid certificates in one category only")
        );
    }

    #[test]
    fn a_certificate_expiring_the_day_before_does_not_count() {
        let certs = [
            cert(CertificateCategory::Cybersecurity, day(2027, 1, 1)),
            cert(CertificateCategory::NetworkManagement, day(2026, 3, 14)),
        ];
        let verdict = derive(&certs, None, as_of());
        assert!(!verdict.has_background);
        assert_eq!(
            finding(&verdict, Criterion::Certificate).explanation,
            "valid certificates in one category only (cybersecurity); a second category is needed; \
             1 certificate is not in force on 2026-03-15"
        );

        let on_the_day = [
            cert(CertificateCategory::Cybersecurity, day(2027, 1, 1)),
            cert(CertificateCategory::NetworkManagement, day(2026, 3, 15)),
        ];
        assert!(derive(&on_the_day, None, as_of()).has_background);
    }

    #[test]
    fn credits_count_within_ten_years_to_the_day() {
        let on_the_day = [
            amount(Criterion::Credits, day(2016, 3, 15), 6),
            amount(Criterion::Credits, day(2020, 9, 1), 14),
        ];
        let verdict = derive(&on_the_day, None, as_of());
        assert_eq!(verdict.met_by, Some(Criterion::Credits));

        let a_day_older = [
            amount(Criterion::Credits, day(2016, 3, 14), 6),
            amount(Criterion::Credits, day(2020, 9, 1), 14),
        ];
        let verdict = derive(&a_day_older, None, as_of());
        assert!(!verdict.has_background);
        assert_eq!(
            finding(&verdict, Criterion::Credits).explanation,
            "14 credits since 2016-03-15, 20 needed; 6 more credits are older than ten years"
        );
    }

    #[test]
    fn explanations_put_counts_in_the_right_number() {
        let one = [
            amount(Criterion::Credits, day(2020, 9, 1), 1),
            amount(Criterion::Credits, day(2015, 1, 1), 1),
        ];
        assert_eq!(
            finding(&derive(&one, None, as_of()), Criterion::Credits).explanation,
            "1 credit since 2016-03-15, 20 needed; 1 more credit is older than ten years"
        );

        let expired = [
            cert(CertificateCategory::Cybersecurity, day(2025, 1, 1)),
            cert(CertificateCategory::NetworkManagement, day(2025, 6, 1)),
        ];
        assert_eq!(
            finding(&derive(&expired, None, as_of()), Criterion::Certificate).explanation,
            "no valid certificate; valid certificates in two categories are needed; \
             2 certificates are not in force on 2026-03-15"
        );
    }

    #[test]
    fn training_hours_need_sixty_within_ten_years() {
        let hours = [
            amount(Criterion::TrainingHours, day(2018, 1, 1), 36),
            EvidenceFact {
                amount: Some(Hours::parse("23.5").unwrap()),
                ..fact(Criterion::TrainingHours, Some(day(2025, 1, 1)), None)
            },
        ];
        let verdict = derive(&hours, None, as_of());
        assert!(!verdict.has_background);
        assert_eq!(
            finding(&verdict, Criterion::TrainingHours).explanation,
            "59.5 hours since 2016-03-15, 60 needed"
        );

        let mut enough = hours.to_vec();
        enough.push(EvidenceFact {
            amount: Some(Hours::parse("0.5").unwrap()),
            ..fact(Criterion::TrainingHours, Some(day(2026, 3, 15)), None)
        });
        assert_eq!(derive(&enough, None, as_of()).met_by, Some(Criterion::TrainingHours));
    }

    #[test]
    fn an_override_wins_both_ways() {
        let evidence = [fact(Criterion::JobSeries, None, None)];
        let no = Override {
            value: false,
            reason: "post reclassified".into(),
        };
        let verdict = derive(&evidence, Some(no.clone()), as_of());
        assert!(!verdict.has_background);
        assert_eq!(verdict.overridden, Some(no));
        assert_eq!(
            verdict.met_by,
            Some(Criterion::JobSeries),
            "the evidence is still shown"
        );

        let yes = Override {
            value: true,
            reason: "foreign degree recognised".into(),
        };
        assert!(derive(&[], Some(yes), as_of()).has_background);
    }

    #[test]
    fn the_first_criterion_met_is_named() {
        let evidence = [
            fact(Criterion::IctDegree, Some(day(2005, 6, 30)), None),
            fact(Criterion::EngineerLicence, Some(day(2012, 1, 1)), None),
        ];
        assert_eq!(
            derive(&evidence, None, as_of()).met_by,
            Some(Criterion::EngineerLicence)
        );
    }
}
