//! Completed trainings: the completions import and the lookups the compliance
//! service needs.
//!
//! `completions.csv`: `employee_no,course_code,course_title,platform,facet,level,security_category,hours,completed_on`,
//! with the usual Chinese headers; or another platform's export read through a
//! [`Mapping`]. Like the personnel imports, the file is read whole and checked
//! row by row against the catalog and the people; nothing is written unless
//! every row is good, and a dry run performs the writes in a transaction and
//! rolls it back.
//!
//! **Matching the catalog.** A row is a catalog course when
//! 1. its `course_code` (a platform's course number, or a course link, which
//!    also gives the platform) is that of a catalog course on the row's
//!    platform, or on any platform when the platform is blank and only one
//!    platform has the code; else
//! 2. its `course_title` equals a catalog course's title, compared after
//!    [`text::fold`] and ignoring white space, on the row's platform; or on any
//!    platform when the row's platform is blank, as long as only one course
//!    has the title (else the row must say its platform). A row whose platform
//!    is `other` matches only catalog courses of platform other.
//!
//! Archived courses still match: completions are history. A course code that
//! matches nothing falls back to the title; without a title the row is refused.
//! For a catalog course, the catalog's title, platform, facet, level and
//! security category are recorded whatever the row says; the row's security
//! category only for a catalog course that has none (the platform tagged it
//! 522 or 523 under the security regulation, which the map does not
//! classify), so a row cannot turn a general course into professional hours.
//! Any other row is an outside course with its own title, platform
//! (`other` when blank), facet, level and security category: it needs a facet
//! or a security category, and a level when technical. Facet `security` means
//! training that serves only the security requirement: it is stored with no
//! facet and needs a security category.
//!
//! **Once only.** A completion is identified by person, course and date:
//! `course:<id>` for a catalog course, `title:<folded title>` for an outside
//! one. The same completion twice in a file is recorded once (the first row
//! wins; later ones are reported unchanged). Importing it again changes nothing,
//! unless its title's spelling, hours, platform, facet, level or security
//! category differ: the stored completion is then updated (reported with what
//! changed), keeping its source and creation time.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{Facet, Level, Platform, SecurityCategory, completion, course, person};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set, SqlErr,
};

pub use super::mapping::Mapping;
use crate::audit::{Entry, snapshot};
use crate::catalog::{MAX_COURSE_HOURS, link};
use crate::error::{Error, FieldError, Result};
use crate::hours::Hours;
use crate::import::value::{keep, parse_employee_no, quote};
use crate::import::{Column, Row, Table, parse_date, parse_hours};
use crate::personnel::import::{Action, Audited, Change, ImportOptions, ImportReport, finish, reject_if_any};
use crate::text;

/// The `source` of completions written by this import.
pub const SOURCE_IMPORT: &str = "import";

/// The most people whose stored completions are fetched in one query.
const PEOPLE_PER_QUERY: usize = 500;

pub(crate) const COLUMNS: &[Column] = &[
    Column::required("employee_no", &["員工編號", "人員編號", "員工代號"]),
    Column::optional("course_code", &["課程代碼", "課程編號", "課程代號"]),
    Column::optional("course_title", &["課程名稱", "課程"]),
    Column::optional("platform", &["平臺", "平台", "學習平臺", "學習平台"]),
    Column::optional("facet", &["面向"]),
    Column::optional("level", &["等級"]),
    Column::optional("security_category", &["資安類別", "課程類別"]),
    Column::required("hours", &["時數", "學習時數", "認證時數", "訓練時數"]),
    Column::required("completed_on", &["完成日期", "學習完成日期", "上課日期", "結訓日期"]),
];

/// Imports completions from decoded CSV text; `mapping` reads another
/// platform's export (its other columns are then ignored).
pub async fn import_completions(
    db: &DatabaseConnection,
    text: &str,
    mapping: Option<&Mapping>,
    options: ImportOptions,
) -> Result<ImportReport> {
    let (table, mut errors) = read_table(text, mapping)?;
    let people: HashMap<String, Staff> = person::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let staff = Staff {
                id: p.id,
                left_on: p.left_on,
            };
            (p.employee_no, staff)
        })
        .collect();
    let catalog = Catalog::new(course::Entity::find().order_by_asc(course::Column::Id).all(db).await?);

    let mut rows = Vec::new();
    for row in table.rows() {
        match read_row(&Cells { row, mapping }, &people, &catalog, options.today) {
            Ok(completion) => rows.push(completion),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    errors.extend(conflicting_duplicates(&rows));
    reject_if_any(errors)?;

    let stored = stored_completions(db, &rows).await?;
    let txn = crate::db::begin_write(db).await?;
    let mut seen: HashMap<Identity, usize> = HashMap::new();
    let mut changes = Vec::new();
    let mut entries = Vec::new();
    for row in &rows {
        let identity = identity_of(row);
        let (action, detail) = match seen.get(&identity) {
            Some(first) => (Action::Unchanged, format!("same completion as row {first}")),
            None => {
                seen.insert(identity.clone(), row.line);
                write(&txn, row, stored.get(&identity)).await?
            }
        };
        if action != Action::Unchanged && !options.dry_run {
            entries.push(entry_for(row, stored.get(&identity), action, &detail));
        }
        changes.push(Change {
            row: row.line,
            key: format!("{} {} {}", row.employee_no, row.completed_on, row.course.title),
            action,
            detail,
        });
    }

    let audited = Audited {
        action: "importCompletions",
        kind: "completions",
        entries,
    };
    finish(txn, changes, &options, audited).await
}

/// Rows that record the same completion (person, course, date) must agree on
/// its hours and how it counts: a later row is otherwise kept only as a
/// repeat of the first, and what it says differently would be dropped unseen.
fn conflicting_duplicates(rows: &[CompletionRow]) -> Vec<FieldError> {
    let mut first: HashMap<Identity, &CompletionRow> = HashMap::new();
    let mut errors = Vec::new();
    for row in rows {
        let Some(earlier) = first.get(&identity_of(row)) else {
            first.insert(identity_of(row), row);
            continue;
        };
        let (a, b) = (&earlier.course, &row.course);
        let fields = [
            ("hours", earlier.hours.to_string(), row.hours.to_string()),
            ("platform", a.platform.to_value(), b.platform.to_value()),
            ("facet", code(a.facet), code(b.facet)),
            ("level", code(a.level), code(b.level)),
            (
                "security_category",
                code(a.security_category),
                code(b.security_category),
            ),
        ];
        for (field, theirs, ours) in fields {
            if theirs != ours {
                errors.push(FieldError::at_row(
                    row.line,
                    field,
                    format!(
                        "{ours} here, but row {} records the same completion with {theirs}; keep one of the two rows",
                        earlier.line
                    ),
                ));
            }
        }
    }
    errors
}

/// The audit entry of a created or updated completion, keyed by the person's
/// employee number.
fn entry_for(row: &CompletionRow, stored: Option<&completion::Model>, action: Action, detail: &str) -> Entry {
    let resolved = &row.course;
    let written = completion::Model {
        id: stored.map_or(0, |s| s.id),
        person_id: row.person_id,
        course_id: resolved.course_id,
        course_key: resolved.course_key.clone(),
        title: resolved.title.clone(),
        centihours: i32::try_from(row.hours.centihours()).unwrap_or(i32::MAX),
        completed_on: row.completed_on,
        platform: resolved.platform,
        facet: resolved.facet,
        level: resolved.level,
        security_category: resolved.security_category,
        source: stored.map_or_else(|| SOURCE_IMPORT.to_string(), |s| s.source.clone()),
        created_at: stored.map_or_else(Utc::now, |s| s.created_at),
    };
    let summary = match action {
        Action::Created => format!(
            "added a completion of {} on {}: {detail}",
            row.employee_no, row.completed_on
        ),
        _ => format!(
            "updated a completion of {} on {}: {detail}",
            row.employee_no, row.completed_on
        ),
    };
    Entry::new("importCompletions", "completion", row.employee_no.clone(), summary)
        .before(stored.map(|s| snapshot::completion(&row.employee_no, s)))
        .after(Some(snapshot::completion(&row.employee_no, &written)))
}

/// A person's completions dated from `from` to `to`, both included, by date
/// then id.
pub async fn completions_of(
    db: &impl ConnectionTrait,
    person_id: i32,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<completion::Model>> {
    Ok(completion::Entity::find()
        .filter(completion::Column::PersonId.eq(person_id))
        .filter(completion::Column::CompletedOn.between(from, to))
        .order_by_asc(completion::Column::CompletedOn)
        .order_by_asc(completion::Column::Id)
        .all(db)
        .await?)
}

/// What makes a completion the same one again.
type Identity = (i32, String, NaiveDate);

fn identity_of(row: &CompletionRow) -> Identity {
    (row.person_id, row.course.course_key.clone(), row.completed_on)
}

/// Reads the file's header: strictly without a mapping, and with a mapping
/// by the headers it names, ignoring the export's other columns. Problems
/// that leave the rows readable (an unknown column, a shifted row) come back
/// beside the table, to be reported with the rows' errors.
fn read_table(text: &str, mapping: Option<&Mapping>) -> Result<(Table, Vec<FieldError>)> {
    let Some(mapping) = mapping else {
        return Table::read_collecting(text, COLUMNS, &[], false).map_err(Error::BadInput);
    };
    let columns = mapping.columns_for(COLUMNS);
    let extra = mapping.extra_aliases();
    let explained = |errors: Vec<FieldError>| errors.into_iter().map(|e| explain(e, mapping)).collect();
    let (table, problems) =
        Table::read_collecting(text, &columns, &extra, true).map_err(|errors| Error::BadInput(explained(errors)))?;

    let missing: Vec<FieldError> = extra
        .iter()
        .filter(|(key, _)| !table.has(key))
        .map(|(key, header)| FieldError::at_row(1, *key, missing_mapped(header)))
        .collect();
    if missing.is_empty() {
        Ok((table, explained(problems)))
    } else {
        Err(Error::BadInput(missing))
    }
}

/// Header errors in the terms of the mapping: a run-time alias's problem is
/// the mapping's, and a missing column is the one the mapping names.
fn explain(error: FieldError, mapping: &Mapping) -> FieldError {
    if error.row.is_none() {
        return FieldError::new(
            super::mapping::FIELD,
            format!("columns.{}: {}", error.field, error.reason),
        );
    }
    match mapping.header(&error.field) {
        Some(header) if !header.is_empty() && error.reason.starts_with("column is missing") => FieldError {
            reason: missing_mapped(header),
            ..error
        },
        _ => error,
    }
}

fn missing_mapped(header: &str) -> String {
    format!(
        "column is missing: the mapping names it {}, which is not in the file's header",
        quote(header)
    )
}

/// A row's cells as the import reads them: through the mapping, if any.
struct Cells<'a> {
    row: Row<'a>,
    mapping: Option<&'a Mapping>,
}

impl Cells<'_> {
    fn get(&self, key: &str) -> Option<Cow<'_, str>> {
        match self.mapping {
            Some(mapping) => mapping.apply(key, self.row.get(key)).map(Cow::Owned),
            None => self.row.get(key).map(Cow::Borrowed),
        }
    }

    fn parse<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, FieldError> {
        self.get(key)
            .map(|cell| parse(&cell))
            .transpose()
            .map_err(|reason| self.row.error(key, reason))
    }

    fn require<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, FieldError> {
        self.parse(key, parse)?
            .ok_or_else(|| self.row.error(key, "is required"))
    }
}

/// A row's course, as the row names it, before it is matched to the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CourseRow {
    line: usize,
    code: Option<String>,
    title: Option<String>,
    /// The row's platform, or the one its course link names; `None` when blank.
    platform: Option<Platform>,
    /// `Some(Security)`: training that serves only the security requirement.
    facet: Option<Facet>,
    level: Option<Level>,
    security_category: Option<SecurityCategory>,
}

/// A row that passed every check: who, when, how long, and what is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CompletionRow {
    line: usize,
    employee_no: String,
    person_id: i32,
    hours: Hours,
    completed_on: NaiveDate,
    course: Resolved,
}

/// What a row is checked against of its person.
#[derive(Debug, Clone, Copy)]
struct Staff {
    id: i32,
    left_on: Option<NaiveDate>,
}

/// Reads and checks one row against the people and the catalog, returning
/// every problem of the row: a course that cannot be placed is reported even
/// when the hours or the date are wrong too.
fn read_row(
    cells: &Cells<'_>,
    people: &HashMap<String, Staff>,
    catalog: &Catalog,
    today: NaiveDate,
) -> std::result::Result<CompletionRow, Vec<FieldError>> {
    let row = &cells.row;
    let mut errors = Vec::new();

    let employee_no = keep(&mut errors, cells.require("employee_no", parse_employee_no));
    let staff = employee_no.as_ref().and_then(|no| {
        let staff = people.get(no).copied();
        if staff.is_none() {
            errors.push(row.error(
                "employee_no",
                format!("no person has employee number {no}; import people first"),
            ));
        }
        staff
    });
    let course = match parse_course(cells) {
        Ok(course) => keep_all(&mut errors, resolve(&course, catalog)),
        Err(mut course_errors) => {
            errors.append(&mut course_errors);
            None
        }
    };
    let hours = keep(&mut errors, cells.require("hours", parse_completion_hours));
    let completed_on = keep(&mut errors, cells.require("completed_on", parse_date));
    if let Some(date) = completed_on
        && date > today
    {
        errors.push(row.error("completed_on", format!("{date} is in the future (today is {today})")));
    }
    // A course finished after someone left is not theirs: a wrong number or
    // a wrong date, and either would count hours toward nobody's duty.
    if let (
        Some(date),
        Some(Staff {
            left_on: Some(left), ..
        }),
        Some(no),
    ) = (completed_on, staff, &employee_no)
        && date > left
    {
        errors.push(row.error("completed_on", format!("{date} is after {no} left on {left}")));
    }
    let person_id = staff.map(|s| s.id);

    match (employee_no, person_id, course, hours, completed_on, errors.is_empty()) {
        (Some(employee_no), Some(person_id), Some(course), Some(hours), Some(completed_on), true) => {
            Ok(CompletionRow {
                line: row.line,
                employee_no,
                person_id,
                hours,
                completed_on,
                course,
            })
        }
        _ => Err(errors),
    }
}

fn keep_all<T>(errors: &mut Vec<FieldError>, result: std::result::Result<T, Vec<FieldError>>) -> Option<T> {
    result.map_err(|mut e| errors.append(&mut e)).ok()
}

/// The cells that name the course and say what it counts toward.
fn parse_course(cells: &Cells<'_>) -> std::result::Result<CourseRow, Vec<FieldError>> {
    let row = &cells.row;
    let mut errors = Vec::new();

    let code = keep(&mut errors, cells.parse("course_code", parse_course_code)).flatten();
    let title = keep(&mut errors, cells.parse("course_title", parse_title)).flatten();
    let platform = keep(&mut errors, cells.parse("platform", parse_platform)).flatten();
    let facet = keep(&mut errors, cells.parse("facet", parse_facet)).flatten();
    let level = keep(&mut errors, cells.parse("level", parse_level)).flatten();
    let security_category = keep(&mut errors, cells.parse("security_category", parse_security_category))
        .flatten()
        .flatten();

    if cells.get("course_code").is_none() && title.is_none() && !errors.iter().any(|e| e.field == "course_title") {
        errors.push(row.error(
            "course_title",
            "is required when course_code is blank: the row names no course",
        ));
    }
    if level.is_some()
        && let Some(facet) = facet.filter(|f| *f != Facet::Technical)
    {
        errors.push(row.error(
            "level",
            format!("only technical courses have a level, and facet is {}", facet.to_value()),
        ));
    }
    let (link_platform, code) = match code {
        Some((platform, code)) => (platform, Some(code)),
        None => (None, None),
    };
    if let (Some(from_link), Some(given)) = (link_platform, platform)
        && from_link != given
    {
        errors.push(row.error(
            "course_code",
            format!(
                "the link is to a {} course, but platform is {}",
                from_link.to_value(),
                given.to_value()
            ),
        ));
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CourseRow {
        line: row.line,
        code,
        title,
        platform: platform.or(link_platform),
        facet,
        level,
        security_category,
    })
}

/// The courses of the catalog, indexed by course code and by title.
struct Catalog {
    courses: Vec<course::Model>,
    /// Lower-cased platform code → indexes.
    by_code: HashMap<String, Vec<usize>>,
    /// [`title_match_key`] → indexes.
    by_title: HashMap<String, Vec<usize>>,
}

impl Catalog {
    fn new(courses: Vec<course::Model>) -> Self {
        let mut by_code: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, course) in courses.iter().enumerate() {
            if let Some(code) = &course.platform_code {
                by_code.entry(code.to_ascii_lowercase()).or_default().push(index);
            }
            by_title.entry(title_match_key(&course.title)).or_default().push(index);
        }
        Catalog {
            courses,
            by_code,
            by_title,
        }
    }

    fn find(&self, index: &HashMap<String, Vec<usize>>, key: &str, platform: Option<Platform>) -> Vec<&course::Model> {
        index
            .get(key)
            .into_iter()
            .flatten()
            .map(|i| &self.courses[*i])
            .filter(|c| platform.is_none_or(|p| c.platform == p))
            .collect()
    }

    fn by_code(&self, code: &str, platform: Option<Platform>) -> Vec<&course::Model> {
        self.find(&self.by_code, &code.to_ascii_lowercase(), platform)
    }

    fn by_title(&self, title: &str, platform: Option<Platform>) -> Vec<&course::Model> {
        self.find(&self.by_title, &title_match_key(title), platform)
    }
}

/// Titles match when they fold alike ignoring white space, which platforms
/// put in and leave out around Latin words (`C 與 C++` and `C與C++`).
fn title_match_key(title: &str) -> String {
    text::fold(title).chars().filter(|c| !c.is_whitespace()).collect()
}

/// How a row was told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched {
    ByCode,
    ByTitle,
    Outside,
}

/// A row matched to the catalog: what is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resolved {
    course_id: Option<i32>,
    course_key: String,
    title: String,
    platform: Platform,
    facet: Option<Facet>,
    level: Option<Level>,
    security_category: Option<SecurityCategory>,
    matched: Matched,
}

fn resolve(row: &CourseRow, catalog: &Catalog) -> std::result::Result<Resolved, Vec<FieldError>> {
    let error = |key: &str, reason: String| vec![FieldError::at_row(row.line, key, reason)];

    let mut found = None;
    if let Some(code) = &row.code {
        match catalog.by_code(code, row.platform).as_slice() {
            [] => {}
            [course] => found = Some((*course, Matched::ByCode)),
            several => return Err(error("platform", several_platforms("course code", code, several))),
        }
    }
    if found.is_none()
        && let Some(title) = &row.title
    {
        match catalog.by_title(title, row.platform).as_slice() {
            [] => {}
            [course] => found = Some((*course, Matched::ByTitle)),
            several if row.platform.is_none() => {
                return Err(error("platform", several_platforms("title", title, several)));
            }
            several => {
                let ids: Vec<String> = several.iter().map(|c| c.id.to_string()).collect();
                return Err(error(
                    "course_title",
                    format!("matches catalog courses {}; give the course_code", ids.join(", ")),
                ));
            }
        }
    }

    if let Some((course, matched)) = found {
        let security_category = course.security_category.or(row.security_category);
        if row.facet == Some(Facet::Security) && security_category.is_none() {
            return Err(error(
                "security_category",
                "is required with facet security: general (522) or professional (523)".into(),
            ));
        }
        return Ok(Resolved {
            course_id: Some(course.id),
            course_key: format!("course:{}", course.id),
            title: course.title.clone(),
            platform: course.platform,
            facet: Some(course.facet),
            level: course.level,
            security_category,
            matched,
        });
    }

    let Some(title) = &row.title else {
        let code = row.code.as_deref().unwrap_or_default();
        let on = row
            .platform
            .map_or(String::new(), |p| format!(" on platform {}", p.to_value()));
        return Err(error(
            "course_code",
            format!(
                "no catalog course has the code {}{on}; give the course_title to record an outside course",
                quote(code)
            ),
        ));
    };
    outside_course(row, title)
}

fn several_platforms(what: &str, value: &str, courses: &[&course::Model]) -> String {
    let platforms: Vec<String> = courses.iter().map(|c| c.platform.to_value()).collect();
    format!(
        "the {what} {} is in the catalog on several platforms ({}); give the platform",
        quote(value),
        platforms.join(", ")
    )
}

/// A course outside the catalog must say what it counts toward.
fn outside_course(row: &CourseRow, title: &str) -> std::result::Result<Resolved, Vec<FieldError>> {
    let mut errors = Vec::new();
    match (row.facet, row.level, row.security_category) {
        (None, _, None) => errors.push(FieldError::at_row(
            row.line,
            "facet",
            "is required for a course outside the catalog (policy, management, legal, technical), unless it has a security category",
        )),
        (Some(Facet::Security), _, None) => errors.push(FieldError::at_row(
            row.line,
            "security_category",
            "is required with facet security: general (522) or professional (523)",
        )),
        (Some(Facet::Technical), None, _) => errors.push(FieldError::at_row(
            row.line,
            "level",
            "is required for a technical course outside the catalog: A, B, C or D",
        )),
        (None | Some(Facet::Security), Some(_), _) => errors.push(FieldError::at_row(
            row.line,
            "level",
            "only technical courses have a level; give facet technical",
        )),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Resolved {
        course_id: None,
        course_key: format!("title:{}", text::fold(title)),
        title: title.to_string(),
        platform: row.platform.unwrap_or(Platform::Other),
        facet: row.facet.filter(|f| *f != Facet::Security),
        level: row.level,
        security_category: row.security_category,
        matched: Matched::Outside,
    })
}

/// The stored completions the rows could meet again: those of the file's
/// people within its dates.
async fn stored_completions(
    db: &DatabaseConnection,
    rows: &[CompletionRow],
) -> Result<HashMap<Identity, completion::Model>> {
    let dates = rows.iter().map(|row| row.completed_on);
    let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
        return Ok(HashMap::new());
    };
    let people: Vec<i32> = rows
        .iter()
        .map(|row| row.person_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();

    let mut stored = HashMap::new();
    for chunk in people.chunks(PEOPLE_PER_QUERY) {
        let found = completion::Entity::find()
            .filter(completion::Column::PersonId.is_in(chunk.iter().copied()))
            .filter(completion::Column::CompletedOn.between(first, last))
            .all(db)
            .await?;
        for c in found {
            stored.insert((c.person_id, c.course_key.clone(), c.completed_on), c);
        }
    }
    Ok(stored)
}

/// Inserts a new completion, or updates a stored one whose facts differ.
async fn write(
    txn: &DatabaseTransaction,
    row: &CompletionRow,
    stored: Option<&completion::Model>,
) -> Result<(Action, String)> {
    let resolved = &row.course;
    let centihours = i32::try_from(row.hours.centihours()).unwrap_or(i32::MAX);
    let Some(old) = stored else {
        completion::ActiveModel {
            person_id: Set(row.person_id),
            course_id: Set(resolved.course_id),
            course_key: Set(resolved.course_key.clone()),
            title: Set(resolved.title.clone()),
            centihours: Set(centihours),
            completed_on: Set(row.completed_on),
            platform: Set(resolved.platform),
            facet: Set(resolved.facet),
            level: Set(resolved.level),
            security_category: Set(resolved.security_category),
            source: Set(SOURCE_IMPORT.to_string()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| raced(e, row.line))?;
        let detail = match resolved.matched {
            Matched::ByCode => format!(
                "catalog course {} (by course code)",
                resolved.course_id.unwrap_or_default()
            ),
            Matched::ByTitle => format!("catalog course {} (by title)", resolved.course_id.unwrap_or_default()),
            Matched::Outside => "outside course".to_string(),
        };
        return Ok((Action::Created, detail));
    };

    let mut differences = Vec::new();
    let mut differ = |field: &str, old: String, new: String| {
        if old != new {
            differences.push(format!("{field} {old} → {new}"));
        }
    };
    differ("title", old.title.clone(), resolved.title.clone());
    differ(
        "hours",
        Hours::from_centihours(old.centihours.into()).to_string(),
        row.hours.to_string(),
    );
    differ("platform", old.platform.to_value(), resolved.platform.to_value());
    differ("facet", code(old.facet), code(resolved.facet));
    differ("level", code(old.level), code(resolved.level));
    differ(
        "security_category",
        code(old.security_category),
        code(resolved.security_category),
    );
    if differences.is_empty() {
        return Ok((Action::Unchanged, String::new()));
    }

    let mut model: completion::ActiveModel = old.clone().into();
    model.course_id = Set(resolved.course_id);
    model.title = Set(resolved.title.clone());
    model.centihours = Set(centihours);
    model.platform = Set(resolved.platform);
    model.facet = Set(resolved.facet);
    model.level = Set(resolved.level);
    model.security_category = Set(resolved.security_category);
    model.update(txn).await?;
    Ok((Action::Updated, differences.join("; ")))
}

fn code<T: ActiveEnum<Value = String>>(value: Option<T>) -> String {
    value.map_or_else(|| "(none)".to_string(), |v| v.to_value())
}

/// Another import recorded the same completion between the checks and the
/// write: the unique index decides, and the file can simply be imported again.
fn raced(error: sea_orm::DbErr, line: usize) -> Error {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::BadInput(vec![FieldError::at_row(
            line,
            "completed_on",
            "this completion was recorded by another import meanwhile; import the file again",
        )]),
        _ => Error::Database(error),
    }
}

/// Checks a mapping's translation or default for a column as the import
/// would read it.
pub(crate) fn check_value(key: &str, text: &str) -> std::result::Result<(), String> {
    match key {
        "employee_no" => parse_employee_no(text).map(drop),
        "course_code" => parse_course_code(text).map(drop),
        "course_title" => parse_title(text).map(drop),
        "platform" => parse_platform(text).map(drop),
        "facet" => parse_facet(text).map(drop),
        "level" => parse_level(text).map(drop),
        "security_category" => parse_security_category(text).map(drop),
        "hours" => parse_completion_hours(text).map(drop),
        "completed_on" => parse_date(text).map(drop),
        _ => Ok(()),
    }
}

/// A platform's course code (`4230`, `ef8b15d2…`), or a course link, which
/// also names the platform.
fn parse_course_code(text: &str) -> std::result::Result<(Option<Platform>, String), String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let parsed = link::parse(text).map_err(|reason| format!("the course link {reason}"))?;
        return match parsed.code {
            Some(code) => Ok((Some(parsed.platform), code)),
            None => Err(format!(
                "{} is not a link to a course of 臺北e大 or e等公務園+學習平臺; leave course_code blank and give the course_title",
                quote(text)
            )),
        };
    }
    if text.len() > 64 || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!(
            "{} is not a course code (letters and digits, such as 4230) or a course link",
            quote(text)
        ));
    }
    Ok((None, text.to_string()))
}

fn parse_title(text: &str) -> std::result::Result<String, String> {
    match crate::catalog::title_problem(text) {
        Some(reason) => Err(reason),
        None => Ok(text.to_string()),
    }
}

/// A folded value without spaces, for comparing codes and Chinese names.
fn compact(text: &str) -> String {
    text::fold(text).chars().filter(|c| !c.is_whitespace()).collect()
}

/// A platform as a code or by its name; `other` is any other platform.
pub fn parse_platform(text: &str) -> std::result::Result<Platform, String> {
    match compact(text).as_str() {
        "taipei_elearning" | "臺北e大" | "台北e大" | "e大" | "elearning.taipei" => Ok(Platform::TaipeiElearning),
        "hrd_elearn"
        | "e等公務園"
        | "e等公務園+"
        | "e等公務園+學習平臺"
        | "e等公務園+學習平台"
        | "e等公務園學習平臺"
        | "e等公務園學習平台"
        | "elearn.hrd.gov.tw" => Ok(Platform::HrdElearn),
        "other" | "其他" => Ok(Platform::Other),
        _ => Err(format!(
            "{} is not a platform; use taipei_elearning (臺北e大), hrd_elearn (e等公務園+學習平臺) or other",
            quote(text)
        )),
    }
}

/// A facet as a code or in Chinese, with or without `面`: `technical`, `技術`,
/// `技術面`. `security` (資安) is training that serves only the security
/// requirement.
pub fn parse_facet(text: &str) -> std::result::Result<Facet, String> {
    let folded = compact(text);
    match folded.strip_suffix('面').unwrap_or(&folded) {
        "policy" | "政策" => Ok(Facet::Policy),
        "management" | "管理" => Ok(Facet::Management),
        "legal" | "法制" => Ok(Facet::Legal),
        "technical" | "技術" => Ok(Facet::Technical),
        "security" | "資安" | "資通安全" => Ok(Facet::Security),
        _ => Err(format!(
            "{} is not a facet; use policy (政策), management (管理), legal (法制), technical (技術) or security (資安)",
            quote(text)
        )),
    }
}

/// A technical level: `A` to `D`, `B級`, or its name (專業, 進階, 基礎, 通識).
pub fn parse_level(text: &str) -> std::result::Result<Level, String> {
    let folded = compact(text);
    match folded.strip_suffix('級').unwrap_or(&folded) {
        "a" | "專業" => Ok(Level::A),
        "b" | "進階" => Ok(Level::B),
        "c" | "基礎" => Ok(Level::C),
        "d" | "通識" => Ok(Level::D),
        _ => Err(format!(
            "{} is not a level; use A (專業), B (進階), C (基礎) or D (通識)",
            quote(text)
        )),
    }
}

/// A security category as a code, the platforms' category number (522, 523)
/// or its Chinese name; blank, `none` and `無` are no category.
pub fn parse_security_category(text: &str) -> std::result::Result<Option<SecurityCategory>, String> {
    match compact(text).as_str() {
        "" | "none" | "無" => Ok(None),
        "general" | "522" | "通識" | "資安通識" | "資通安全通識" | "資通安全通識教育訓練" => {
            Ok(Some(SecurityCategory::General))
        }
        "professional" | "523" | "專業" | "資安專業" | "資通安全專業" | "資通安全專業課程訓練" => {
            Ok(Some(SecurityCategory::Professional))
        }
        _ => Err(format!(
            "{} is not a security category; use general (通識, 522), professional (專業, 523) or leave it blank",
            quote(text)
        )),
    }
}

/// Hours of one completion: more than 0, at most 40, exact to a hundredth.
pub fn parse_completion_hours(text: &str) -> std::result::Result<Hours, String> {
    let hours = parse_hours(text)?;
    if hours <= Hours::ZERO {
        return Err("must be more than 0".into());
    }
    if hours > MAX_COURSE_HOURS {
        return Err(format!(
            "must be at most {MAX_COURSE_HOURS} for one completion, not {hours}"
        ));
    }
    Ok(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a date")
    }

    const TODAY: (i32, u32, u32) = (2026, 6, 30);

    fn today() -> NaiveDate {
        ymd(TODAY.0, TODAY.1, TODAY.2)
    }

    fn people() -> HashMap<String, Staff> {
        let staff = |id, left_on| Staff { id, left_on };
        HashMap::from([
            ("E10001".to_string(), staff(1, None)),
            ("E10002".to_string(), staff(2, None)),
            ("E10003".to_string(), staff(3, Some(ymd(2026, 3, 31)))),
        ])
    }

    /// Reads every row of a file, optionally through a mapping, against the
    /// test catalog and people.
    fn parse(text: &str, mapping: Option<&Mapping>) -> Vec<std::result::Result<CompletionRow, Vec<FieldError>>> {
        let (table, problems) = read_table(text, mapping).expect("the header reads");
        assert_eq!(problems, [], "the header and the rows' shape are right");
        let (people, catalog) = (people(), catalog());
        table
            .rows()
            .map(|row| read_row(&Cells { row, mapping }, &people, &catalog, today()))
            .collect()
    }

    fn with_header(line: &str) -> String {
        format!(
            "employee_no,course_code,course_title,platform,facet,level,security_category,hours,completed_on\n{line}\n"
        )
    }

    fn parse_one(line: &str) -> std::result::Result<CompletionRow, Vec<FieldError>> {
        parse(&with_header(line), None).remove(0)
    }

    /// Only the cells that name the course.
    fn course_of(line: &str) -> std::result::Result<CourseRow, Vec<FieldError>> {
        let text = with_header(line);
        let (table, _) = read_table(&text, None).expect("the header reads");
        let row = table.rows().next().expect("a row");
        parse_course(&Cells { row, mapping: None })
    }

    fn fields(result: std::result::Result<impl std::fmt::Debug, Vec<FieldError>>) -> Vec<String> {
        match result {
            Ok(value) => panic!("expected errors, got {value:?}"),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    fn course(
        id: i32,
        title: &str,
        platform: Platform,
        code: Option<&str>,
        facet: Facet,
        level: Option<Level>,
    ) -> course::Model {
        course::Model {
            id,
            title: title.to_string(),
            title_key: text::fold(title),
            centihours: 200,
            link: String::new(),
            platform,
            platform_code: code.map(str::to_string),
            facet,
            level,
            domain: None,
            security_category: None,
            archived_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn catalog() -> Catalog {
        let mut security = course(
            4,
            "資安事件處理與應變",
            Platform::TaipeiElearning,
            Some("4336"),
            Facet::Policy,
            None,
        );
        security.security_category = Some(SecurityCategory::General);
        Catalog::new(vec![
            course(
                1,
                "資料庫概論",
                Platform::TaipeiElearning,
                Some("4237"),
                Facet::Technical,
                Some(Level::D),
            ),
            course(
                2,
                "C 與 C++進階實戰：從介面設計到人工智慧應用(上)",
                Platform::HrdElearn,
                Some("64a21e6d134e641677a071424a262eca"),
                Facet::Technical,
                Some(Level::B),
            ),
            course(
                3,
                "數位轉型",
                Platform::TaipeiElearning,
                Some("4233"),
                Facet::Policy,
                None,
            ),
            security,
            course(5, "數位轉型", Platform::HrdElearn, Some("4233"), Facet::Policy, None),
            course(
                6,
                "個人資料保護法素養",
                Platform::TaipeiElearning,
                Some("3822"),
                Facet::Legal,
                None,
            ),
        ])
    }

    fn resolve_one(line: &str) -> std::result::Result<Resolved, Vec<FieldError>> {
        parse_one(line).map(|row| row.course)
    }

    #[test]
    fn parses_platforms() {
        for text in ["taipei_elearning", "臺北e大", "台北ｅ大", "TAIPEI_ELEARNING"] {
            assert_eq!(parse_platform(text), Ok(Platform::TaipeiElearning), "{text}");
        }
        for text in [
            "hrd_elearn",
            "e等公務園",
            "e等公務園+學習平臺",
            "ｅ等公務園＋學習平台",
            "e等公務園 + 學習平臺",
        ] {
            assert_eq!(parse_platform(text), Ok(Platform::HrdElearn), "{text}");
        }
        assert_eq!(parse_platform("other"), Ok(Platform::Other));
        assert_eq!(parse_platform("其他"), Ok(Platform::Other));
        let reason = parse_platform("moodle").unwrap_err();
        assert!(
            reason.starts_with("\"moodle\" is not a platform; use taipei_elearning"),
            "{reason}"
        );
    }

    #[test]
    fn parses_facets_with_or_without_the_suffix() {
        let cases = [
            ("policy", Facet::Policy),
            ("政策", Facet::Policy),
            ("政策面", Facet::Policy),
            ("Management", Facet::Management),
            ("管理面", Facet::Management),
            ("法制", Facet::Legal),
            ("legal", Facet::Legal),
            ("技術面", Facet::Technical),
            ("ＴＥＣＨＮＩＣＡＬ", Facet::Technical),
            ("資安", Facet::Security),
            ("資安面", Facet::Security),
            ("security", Facet::Security),
        ];
        for (text, facet) in cases {
            assert_eq!(parse_facet(text), Ok(facet), "{text}");
        }
        for text in ["面", "tech", "資訊"] {
            assert!(parse_facet(text).unwrap_err().contains("is not a facet"), "{text}");
        }
    }

    #[test]
    fn parses_levels() {
        assert_eq!(parse_level("A"), Ok(Level::A));
        assert_eq!(parse_level("b"), Ok(Level::B));
        assert_eq!(parse_level("Ｃ"), Ok(Level::C));
        assert_eq!(parse_level("D級"), Ok(Level::D));
        assert_eq!(parse_level("進階"), Ok(Level::B));
        assert_eq!(parse_level("基礎"), Ok(Level::C));
        for text in ["E", "AB", "1"] {
            assert!(parse_level(text).unwrap_err().contains("is not a level"), "{text}");
        }
    }

    #[test]
    fn parses_security_categories() {
        for text in ["general", "522", "通識", "５２２", "資通安全通識教育訓練"] {
            assert_eq!(
                parse_security_category(text),
                Ok(Some(SecurityCategory::General)),
                "{text}"
            );
        }
        for text in ["professional", "523", "專業", "Professional", "資通安全專業課程訓練"] {
            assert_eq!(
                parse_security_category(text),
                Ok(Some(SecurityCategory::Professional)),
                "{text}"
            );
        }
        assert_eq!(parse_security_category(""), Ok(None));
        assert_eq!(parse_security_category("無"), Ok(None));
        assert!(
            parse_security_category("524")
                .unwrap_err()
                .contains("is not a security category")
        );
    }

    #[test]
    fn hours_are_positive_and_at_most_forty() {
        assert_eq!(parse_completion_hours("1.5"), Ok(Hours::from_centihours(150)));
        assert_eq!(parse_completion_hours("４０"), Ok(Hours::whole(40)));
        assert_eq!(parse_completion_hours("0.25"), Ok(Hours::from_centihours(25)));
        assert_eq!(parse_completion_hours("0").unwrap_err(), "must be more than 0");
        assert!(
            parse_completion_hours("40.5")
                .unwrap_err()
                .starts_with("must be at most 40")
        );
        assert!(
            parse_completion_hours("two")
                .unwrap_err()
                .starts_with("must be a number of hours")
        );
    }

    #[test]
    fn course_codes_may_be_links() {
        assert_eq!(parse_course_code("4230"), Ok((None, "4230".into())));
        assert_eq!(
            parse_course_code("http://elearning.taipei/elearn/courseinfo/so.php?v=4230"),
            Ok((Some(Platform::TaipeiElearning), "4230".into()))
        );
        assert_eq!(
            parse_course_code("https://elearn.hrd.gov.tw/info/10028195"),
            Ok((Some(Platform::HrdElearn), "10028195".into()))
        );
        assert!(
            parse_course_code("https://example.org/x")
                .unwrap_err()
                .contains("not a link to a course")
        );
        assert!(parse_course_code("43 30").unwrap_err().contains("is not a course code"));
    }

    #[test]
    fn parses_a_full_row_with_chinese_values_and_a_roc_date() {
        let line = "ｅ１０００１,4237,,臺北e大,技術面,Ｄ,,３,115/03/15";
        assert_eq!(
            course_of(line).expect("parses"),
            CourseRow {
                line: 2,
                code: Some("4237".into()),
                title: None,
                platform: Some(Platform::TaipeiElearning),
                facet: Some(Facet::Technical),
                level: Some(Level::D),
                security_category: None,
            }
        );
        let row = parse_one(line).expect("reads");
        assert_eq!((row.employee_no.as_str(), row.person_id), ("E10001", 1));
        assert_eq!((row.hours, row.completed_on), (Hours::whole(3), ymd(2026, 3, 15)));
        assert_eq!(row.course.course_key, "course:1");
    }

    #[test]
    fn reads_chinese_headers() {
        let text = "員工編號,課程代碼,課程名稱,學習平臺,面向,等級,課程類別,學習時數,學習完成日期\nE10001,,資料庫概論,,,,522,2.5,2026-01-05\n";
        let row = parse(text, None).remove(0).expect("parses");
        assert_eq!(row.course.course_id, Some(1));
        assert_eq!(row.course.security_category, Some(SecurityCategory::General));
        assert_eq!(row.hours, Hours::from_centihours(250));
    }

    #[test]
    fn row_errors_name_every_bad_cell() {
        let errors = fields(parse_one("E1 001,,,moodle,tech,E,524,0,2026-13-01"));
        assert_eq!(
            errors,
            [
                "employee_no",
                "platform",
                "facet",
                "level",
                "security_category",
                "course_title",
                "hours",
                "completed_on",
            ]
        );
    }

    #[test]
    fn an_unknown_person_and_an_unplaced_course_are_reported_with_bad_cells() {
        let errors = fields(parse_one("E99999,,外部課程,,,,,0,2026-01-05"));
        assert_eq!(errors, ["employee_no", "facet", "hours"]);
        let errors = parse_one("E99999,4237,,,,,,1,2026-01-05").unwrap_err();
        assert_eq!(
            errors[0].reason,
            "no person has employee number E99999; import people first"
        );
    }

    #[test]
    fn future_dates_and_blank_required_cells_are_errors() {
        assert_eq!(fields(parse_one("E10001,4237,,,,,,2,2026-07-01")), ["completed_on"]);
        assert!(
            parse_one("E10001,4237,,,,,,2,2026-06-30").is_ok(),
            "today is not the future"
        );
        assert_eq!(
            fields(parse_one(",4237,,,,,,,")),
            ["employee_no", "hours", "completed_on"]
        );
    }

    #[test]
    fn a_course_finished_after_its_person_left_is_an_error() {
        let errors = parse_one("E10003,4237,,,,,,2,2026-04-01").unwrap_err();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].reason.as_str()),
            ("completed_on", "2026-04-01 is after E10003 left on 2026-03-31")
        );
        assert!(
            parse_one("E10003,4237,,,,,,2,2026-03-31").is_ok(),
            "their last day is theirs"
        );
    }

    #[test]
    fn a_level_needs_the_technical_facet() {
        assert_eq!(fields(parse_one("E10001,,Outside,,policy,B,,2,2026-01-05")), ["level"]);
        assert!(parse_one("E10001,,Outside,,technical,B,,2,2026-01-05").is_ok());
    }

    #[test]
    fn a_bad_course_code_is_not_also_a_missing_title() {
        assert_eq!(fields(course_of("E10001,43 30,,,,,,2,2026-01-05")), ["course_code"]);
    }

    #[test]
    fn a_link_must_agree_with_the_platform() {
        let link = "https://elearn.hrd.gov.tw/info/10028195";
        assert_eq!(
            fields(course_of(&format!("E10001,{link},,taipei_elearning,,,,1,2026-01-05"))),
            ["course_code"]
        );
        let row = course_of(&format!("E10001,{link},,,,,,1,2026-01-05")).expect("parses");
        assert_eq!(row.platform, Some(Platform::HrdElearn));
        assert_eq!(row.code.as_deref(), Some("10028195"));
    }

    #[test]
    fn matches_by_code_and_the_catalog_wins() {
        let resolved = resolve_one("E10001,4237,,taipei_elearning,policy,,,2,2026-01-05").expect("matches");
        assert_eq!(resolved.matched, Matched::ByCode);
        assert_eq!(resolved.course_key, "course:1");
        assert_eq!(resolved.title, "資料庫概論");
        assert_eq!(
            (resolved.facet, resolved.level),
            (Some(Facet::Technical), Some(Level::D))
        );
    }

    #[test]
    fn a_code_on_two_platforms_needs_the_platform() {
        assert_eq!(fields(resolve_one("E10001,4233,,,,,,2,2026-01-05")), ["platform"]);
        let resolved = resolve_one("E10001,4233,,hrd_elearn,,,,2,2026-01-05").expect("matches");
        assert_eq!(resolved.course_id, Some(5));
    }

    #[test]
    fn matches_by_title_ignoring_case_width_and_spaces() {
        let resolved = resolve_one("E10001,,ｃ與Ｃ＋＋進階實戰：從介面設計到人工智慧應用（上）,,,,,3,2026-01-05")
            .expect("matches");
        assert_eq!(resolved.matched, Matched::ByTitle);
        assert_eq!(resolved.course_id, Some(2));
        assert_eq!(
            resolved.platform,
            Platform::HrdElearn,
            "the platform comes from the catalog"
        );
        assert_eq!(resolved.level, Some(Level::B));
    }

    #[test]
    fn a_title_matches_only_on_the_rows_platform() {
        let resolved = resolve_one("E10001,,資料庫概論,hrd_elearn,technical,C,,3,2026-01-05").expect("outside");
        assert_eq!(resolved.matched, Matched::Outside);
        assert_eq!(resolved.course_key, "title:資料庫概論");
        assert_eq!(resolved.platform, Platform::HrdElearn);

        assert_eq!(fields(resolve_one("E10001,,數位轉型,,,,,3,2026-01-05")), ["platform"]);
        let resolved = resolve_one("E10001,,數位轉型,taipei_elearning,,,,3,2026-01-05").expect("matches");
        assert_eq!(resolved.course_id, Some(3));
    }

    #[test]
    fn an_unknown_code_falls_back_to_the_title() {
        let resolved = resolve_one("E10001,9999,個人資料保護法素養,,,,,2,2026-01-05").expect("matches");
        assert_eq!((resolved.course_id, resolved.matched), (Some(6), Matched::ByTitle));

        let errors = resolve_one("E10001,9999,,taipei_elearning,,,,2,2026-01-05").unwrap_err();
        assert_eq!(errors[0].field, "course_code");
        assert_eq!(
            errors[0].reason,
            "no catalog course has the code \"9999\" on platform taipei_elearning; give the course_title to record an outside course"
        );
    }

    #[test]
    fn the_catalogs_security_category_wins_else_the_rows() {
        let resolved = resolve_one("E10001,4336,,,,,,3,2026-01-05").expect("matches");
        assert_eq!(resolved.security_category, Some(SecurityCategory::General));
        let resolved = resolve_one("E10001,4336,,,,,professional,3,2026-01-05").expect("matches");
        assert_eq!(resolved.security_category, Some(SecurityCategory::General));

        // 資料庫概論 has no category in the catalog: a platform's tag counts.
        let resolved = resolve_one("E10001,4237,,,,,523,3,2026-01-05").expect("matches");
        assert_eq!(resolved.security_category, Some(SecurityCategory::Professional));
        let resolved = resolve_one("E10001,4237,,,,,,3,2026-01-05").expect("matches");
        assert_eq!(resolved.security_category, None);
        assert_eq!(
            fields(resolve_one("E10001,4237,,,security,,,3,2026-01-05")),
            ["security_category"]
        );
    }

    #[test]
    fn outside_courses_must_say_what_they_count_toward() {
        assert_eq!(fields(resolve_one("E10001,,AWS 認證課程,,,,,3,2026-01-05")), ["facet"]);
        assert_eq!(
            fields(resolve_one("E10001,,AWS 認證課程,,technical,,,3,2026-01-05")),
            ["level"]
        );
        assert_eq!(
            fields(resolve_one("E10001,,AWS 認證課程,,security,,,3,2026-01-05")),
            ["security_category"]
        );
        assert_eq!(
            fields(resolve_one("E10001,,AWS 認證課程,,,A,general,3,2026-01-05")),
            ["level"]
        );

        let resolved = resolve_one("E10001,,ＡＷＳ 認證課程,,technical,A,,3,2026-01-05").expect("outside");
        assert_eq!(resolved.course_key, "title:aws 認證課程");
        assert_eq!(resolved.title, "AWS 認證課程");
        assert_eq!(resolved.platform, Platform::Other);

        let resolved = resolve_one("E10001,,社交工程演練說明,,security,,523,1,2026-01-05").expect("outside");
        assert_eq!(
            (resolved.facet, resolved.security_category),
            (None, Some(SecurityCategory::Professional))
        );
        let resolved = resolve_one("E10001,,社交工程演練說明,,,,522,1,2026-01-05").expect("outside");
        assert_eq!(
            (resolved.facet, resolved.security_category),
            (None, Some(SecurityCategory::General))
        );
        let resolved = resolve_one("E10001,,政府採購實務,,法制面,,522,1,2026-01-05").expect("outside");
        assert_eq!(resolved.facet, Some(Facet::Legal));
    }

    const HRD_MAPPING: &str = r#"
[columns]
employee_no = "人員代號"
course_title = "課程名稱"
hours = "認證時數"
completed_on = "完成日期"
security_category = "課程類別代碼"
[values.security_category]
"522" = "general"
"523" = "professional"
"*" = ""
[defaults]
platform = "hrd_elearn"
"#;

    #[test]
    fn a_mapping_reads_an_export_with_other_columns() {
        let mapping = Mapping::parse(HRD_MAPPING).expect("valid");
        let text = "序號,人員代號,姓名,課程名稱,課程類別,課程類別代碼,認證時數,完成日期\n1,E10001,王,資安通識,資通安全,522,3,115/02/10\n2,E10002,李,C與C++進階實戰：從介面設計到人工智慧應用(上),資訊,101,3,2026-01-05\n";
        let rows: Vec<CompletionRow> = parse(text, Some(&mapping))
            .into_iter()
            .map(|r| r.expect("parses"))
            .collect();
        assert_eq!(rows[0].course.security_category, Some(SecurityCategory::General));
        assert_eq!(rows[0].course.platform, Platform::HrdElearn);
        assert_eq!(rows[0].course.facet, None, "security only");
        assert_eq!(rows[0].completed_on, ymd(2026, 2, 10));
        assert_eq!(
            rows[1].course.security_category, None,
            "codes other than 522 and 523 are no category"
        );
        assert_eq!(rows[1].course.course_id, Some(2));
    }

    #[test]
    fn without_a_mapping_unknown_columns_are_errors() {
        let text = "employee_no,course_title,hours,completed_on,note\nE10001,資料庫概論,3,2026-01-05,x\n";
        let (table, problems) = read_table(text, None).expect("the rows still read");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].row, problems[0].field.as_str()), (Some(1), "header"));
        assert_eq!(table.len(), 1, "the rows are checked too");
    }

    #[test]
    fn a_mapped_column_missing_from_the_file_is_named() {
        let mapping = Mapping::parse(HRD_MAPPING).expect("valid");
        let text = "員工編號,課程名稱,認證時數,完成日期\nE10001,資料庫概論,3,2026-01-05\n";
        let Err(Error::BadInput(errors)) = read_table(text, Some(&mapping)) else {
            panic!("expected header errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["employee_no"]);
        assert_eq!(
            errors[0].reason,
            "column is missing: the mapping names it \"人員代號\", which is not in the file's header"
        );

        let text = "人員代號,課程名稱,認證時數,完成日期\nE10001,資料庫概論,3,2026-01-05\n";
        let Err(Error::BadInput(errors)) = read_table(text, Some(&mapping)) else {
            panic!("expected header errors");
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].row, errors[0].field.as_str()),
            (Some(1), "security_category")
        );
    }

    #[test]
    fn a_mapped_column_hides_the_built_in_names() {
        let mapping = Mapping::parse(HRD_MAPPING).expect("valid");
        let text = "人員代號,課程名稱,課程類別,課程類別代碼,認證時數,完成日期,學習時數\nE10001,資料庫概論,資訊,523,3,2026-01-05,99\n";
        let row = parse(text, Some(&mapping)).remove(0).expect("parses");
        assert_eq!(row.course.security_category, Some(SecurityCategory::Professional));
        assert_eq!(row.hours, Hours::whole(3));
    }

    #[test]
    fn checks_values_for_the_mapping() {
        assert!(check_value("platform", "hrd_elearn").is_ok());
        assert!(check_value("platform", "x").is_err());
        assert!(check_value("hours", "41").is_err());
        assert!(check_value("completed_on", "115/1/1").is_ok());
        assert!(check_value("course_title", "任何課程").is_ok());
    }
}
