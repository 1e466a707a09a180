//! `people.csv`: `employee_no,name,email,unit_code,role,supervisor_no,joined_on,left_on,technical_background`,
//! with the optional `role_since` (when a changed role took effect; the import
//! date when absent) and `background_reason` (why a background was set by hand).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{Role, completion, person, unit};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};

use super::{
    Audited, Change, ImportOptions, ImportReport, action_for, begin, changed_entries, changed_keys, difference, finish,
    keep, read_table, reject_if_any,
};
use crate::audit::snapshot;
use crate::error::{FieldError, Result};
use crate::import::value::parse_employee_no;
use crate::import::{Column, Row, Table, parse_date, parse_email, parse_yes_no};
use crate::text;

mod roles;

const COLUMNS: &[Column] = &[
    Column::required("employee_no", &["員工編號", "人員編號", "員工代號"]),
    Column::required("name", &["姓名"]),
    Column::required("email", &["電子郵件", "電子信箱", "e-mail", "mail"]),
    Column::required("unit_code", &["單位代碼", "機關代碼"]),
    Column::optional("role", &["職務類別", "人員類別", "資通人員類別", "角色"]),
    Column::optional("supervisor_no", &["直屬主管員工編號", "主管員工編號", "直屬主管"]),
    Column::optional("joined_on", &["到職日", "到職日期"]),
    Column::optional("left_on", &["離職日", "離職日期"]),
    Column::optional(
        "technical_background",
        &["資通基礎技術背景", "技術背景", "具資通基礎技術背景"],
    ),
    Column::optional("role_since", &["職務起日", "職務生效日"]),
    Column::optional("background_reason", &["技術背景說明", "認定理由"]),
    Column::optional("language", &["語言", "偏好語言"]),
];

/// The reason stored with a background set by the import without one.
const DEFAULT_REASON: &str = "set in the people import";

#[derive(Debug, Clone)]
struct PersonRow {
    line: usize,
    employee_no: String,
    name: String,
    email: String,
    unit_code: String,
    role: Option<Role>,
    supervisor_no: Option<String>,
    joined_on: Option<NaiveDate>,
    left_on: Option<NaiveDate>,
    background: Option<bool>,
    reason: Option<String>,
    role_since: Option<NaiveDate>,
    /// `None` keeps what is stored (new people get `zh`).
    language: Option<&'static str>,
    /// The file has no role column: the stored roles stay as they are.
    keep_role: bool,
}

pub async fn import_people(db: &DatabaseConnection, text: &str, options: ImportOptions) -> Result<ImportReport> {
    let (table, mut errors) = read_table(text, COLUMNS)?;
    if table.has("role_since") && !table.has("role") {
        errors.push(FieldError::at_row(
            1,
            "header",
            "role_since needs the role column: it says since when the role in that column is held",
        ));
    }
    let units: HashMap<String, i32> = unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let existing: HashMap<String, person::Model> = person::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.employee_no.clone(), p))
        .collect();

    let (mut rows, row_errors) = parse_rows(table.rows());
    keep_absent_columns(&table, &mut rows, &existing);
    let mut named: Vec<Named> = table.rows().map(|row| named(&row)).collect();
    if !table.has("supervisor_no") {
        keep_stored_supervisors(&mut named, &existing);
    }
    errors.extend(row_errors);
    errors.extend(duplicates(&named));
    errors.extend(check_references(&named, &units, &existing));
    errors.extend(shared_emails(&rows, &existing, options.today));
    errors.extend(roles_without_a_start(&rows, &existing));
    errors.extend(stored_dates_in_order(&table, &rows));
    errors.extend(check_left_after_completions(db, &rows, &existing).await?);
    reject_if_any(errors)?;

    let unit_codes: HashMap<i32, String> = units.iter().map(|(code, id)| (*id, code.clone())).collect();
    let txn = begin(db).await?;
    let mut before = before_images(&txn, &rows, &existing, &options).await?;
    let mut ids: HashMap<String, i32> = existing.iter().map(|(no, p)| (no.clone(), p.id)).collect();
    let mut changes = Vec::new();
    for row in &rows {
        let old = existing.get(&row.employee_no);
        let (id, mut differences) = upsert_person(&txn, row, units[&row.unit_code], old, &unit_codes).await?;
        ids.insert(row.employee_no.clone(), id);
        differences.extend(roles::sync_role(&txn, id, row, old, options.today).await?);
        changes.push(Change {
            row: row.line,
            key: row.employee_no.clone(),
            action: action_for(old.is_none(), &differences),
            detail: differences.join("; "),
        });
    }
    for (row, change) in rows.iter().zip(changes.iter_mut()) {
        if let Some(detail) = set_supervisor(&txn, row, &ids, existing.get(&row.employee_no)).await? {
            change.mark_updated(detail);
        }
    }

    let audited = audited(&txn, &changes, &mut before, &options).await?;
    finish(txn, changes, &options, audited).await
}

/// The stored images of the file's people who exist, unless nothing will be
/// recorded (a dry run).
async fn before_images(
    txn: &DatabaseTransaction,
    rows: &[PersonRow],
    existing: &HashMap<String, person::Model>,
    options: &ImportOptions,
) -> Result<HashMap<String, serde_json::Value>> {
    if options.dry_run {
        return Ok(HashMap::new());
    }
    let listed: Vec<person::Model> = rows
        .iter()
        .filter_map(|r| existing.get(&r.employee_no))
        .cloned()
        .collect();
    snapshot::people(txn, &listed).await
}

/// One entry per created or updated person, with their images before and
/// after; nothing to gather for a dry run.
async fn audited(
    txn: &DatabaseTransaction,
    changes: &[Change],
    before: &mut HashMap<String, serde_json::Value>,
    options: &ImportOptions,
) -> Result<Audited> {
    let changed = changed_keys(changes);
    let mut after = if options.dry_run {
        HashMap::new()
    } else {
        snapshot::people_by_employee_no(txn, &changed).await?
    };
    Ok(Audited {
        action: "importPeople",
        kind: "people",
        entries: changed_entries("importPeople", "person", changes, before, &mut after),
    })
}

/// A leaving date before one of the person's stored completions is refused,
/// as the completions import refuses a completion after it: the stored hours
/// would then count for someone who was no longer there, and the same
/// completions file would no longer import.
async fn check_left_after_completions(
    db: &DatabaseConnection,
    rows: &[PersonRow],
    existing: &HashMap<String, person::Model>,
) -> Result<Vec<FieldError>> {
    let leaving: HashMap<i32, (&PersonRow, NaiveDate)> = rows
        .iter()
        .filter_map(|row| Some((existing.get(&row.employee_no)?.id, (row, row.left_on?))))
        .collect();
    let mut errors = Vec::new();
    let ids: Vec<i32> = leaving.keys().copied().collect();
    for chunk in ids.chunks(1_000) {
        let latest: Vec<(i32, NaiveDate)> = completion::Entity::find()
            .select_only()
            .column(completion::Column::PersonId)
            .column_as(completion::Column::CompletedOn.max(), "latest")
            .filter(completion::Column::PersonId.is_in(chunk.iter().copied()))
            .group_by(completion::Column::PersonId)
            .into_tuple()
            .all(db)
            .await?;
        for (id, last) in latest {
            let (row, left) = leaving[&id];
            if last > left {
                errors.push(FieldError::at_row(
                    row.line,
                    "left_on",
                    format!(
                        "{left} is before {}'s completion of {last}: a course done after leaving is not theirs; fix the date or that completion",
                        row.employee_no
                    ),
                ));
            }
        }
    }
    errors.sort_by_key(|e| e.row);
    Ok(errors)
}

/// An address may belong to one person still employed: two who shared one
/// would each receive the other's reminders, with their hours and courses.
/// The check is of the people as the import leaves them, so two people can
/// swap addresses in one file; someone who left before `today` gets no mail
/// and may keep an address that has since been given to another.
fn shared_emails(rows: &[PersonRow], existing: &HashMap<String, person::Model>, today: NaiveDate) -> Vec<FieldError> {
    let employed = |left_on: Option<NaiveDate>| left_on.is_none_or(|left| left >= today);
    let listed: HashSet<&str> = rows.iter().map(|r| r.employee_no.as_str()).collect();
    let mut holders: HashMap<String, Vec<(&str, Option<usize>)>> = HashMap::new();
    for p in existing.values() {
        if !listed.contains(p.employee_no.as_str()) && employed(p.left_on) {
            holders
                .entry(p.email.to_lowercase())
                .or_default()
                .push((&p.employee_no, None));
        }
    }
    for r in rows.iter().filter(|r| employed(r.left_on)) {
        holders
            .entry(r.email.clone())
            .or_default()
            .push((&r.employee_no, Some(r.line)));
    }

    let mut errors = Vec::new();
    for (email, people) in holders.iter().filter(|(_, people)| people.len() > 1) {
        for (no, line) in people {
            let Some(line) = line else { continue };
            let others: Vec<String> = people
                .iter()
                .filter(|(other, _)| other != no)
                .map(|(other, line)| match line {
                    Some(line) => format!("{other} (row {line})"),
                    None => format!("{other} (already stored)"),
                })
                .collect();
            if others.is_empty() {
                continue; // one employee number twice, reported as such
            }
            errors.push(FieldError::at_row(
                *line,
                "email",
                format!(
                    "{email} is also the address of {}; each person still employed needs an address of their own, or one receives the other's reminders",
                    others.join(", ")
                ),
            ));
        }
    }
    errors.sort_by_key(|e| e.row);
    errors
}

/// A new person's role starts on `role_since`, else on the joining date. With
/// neither, the day it started is unknown: taking the import date would make
/// them hold no role earlier in the year, and their report for that year
/// would ask for the general security hours alone, far below what the role
/// requires. The row is refused instead.
fn roles_without_a_start(rows: &[PersonRow], existing: &HashMap<String, person::Model>) -> Vec<FieldError> {
    rows.iter()
        .filter(|r| !existing.contains_key(&r.employee_no))
        .filter(|r| r.role.is_some() && r.joined_on.is_none() && r.role_since.is_none())
        .map(|r| {
            FieldError::at_row(
                r.line,
                "joined_on",
                "is needed for a new person with a role (or give role_since): otherwise the role has no start",
            )
        })
        .collect()
}

/// Joining, role and leaving dates in order, where one of them is the stored
/// date of a column the file leaves out (dates both in the row are checked
/// with its cells, so that one pass lists every error).
fn stored_dates_in_order(table: &Table, rows: &[PersonRow]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for r in rows {
        for misordered in date_order_errors(r.joined_on, r.left_on, r.role_since) {
            let [earlier, later] = misordered.columns;
            if table.has(earlier) && table.has(later) {
                continue;
            }
            errors.push(if misordered.field == "left_on" && !table.has("left_on") {
                let (joined, left) = (r.joined_on.unwrap_or_default(), r.left_on.unwrap_or_default());
                FieldError::at_row(
                    r.line,
                    "joined_on",
                    format!(
                        "{joined} is after the leaving date {left}; give left_on (blank for someone who came back)"
                    ),
                )
            } else {
                FieldError::at_row(r.line, misordered.field, misordered.reason)
            });
        }
    }
    errors
}

/// Two of a person's dates out of order.
struct Misordered {
    /// The columns compared, the one that should come first first.
    columns: [&'static str; 2],
    /// The field to correct.
    field: &'static str,
    reason: String,
}

fn date_order_errors(
    joined_on: Option<NaiveDate>,
    left_on: Option<NaiveDate>,
    role_since: Option<NaiveDate>,
) -> Vec<Misordered> {
    let mut errors = Vec::new();
    if let (Some(joined), Some(left)) = (joined_on, left_on)
        && left < joined
    {
        errors.push(Misordered {
            columns: ["joined_on", "left_on"],
            field: "left_on",
            reason: format!("{left} is before the joining date {joined}"),
        });
    }
    if let (Some(joined), Some(since)) = (joined_on, role_since)
        && since < joined
    {
        errors.push(Misordered {
            columns: ["joined_on", "role_since"],
            field: "role_since",
            reason: format!("{since} is before the joining date {joined}: no role is held before joining"),
        });
    }
    if let (Some(left), Some(since)) = (left_on, role_since)
        && since > left
    {
        errors.push(Misordered {
            columns: ["role_since", "left_on"],
            field: "role_since",
            reason: format!("{since} is after the leaving date {left}: no role is held after leaving"),
        });
    }
    errors
}

/// A column the file leaves out keeps what is stored for the people it lists;
/// only a blank cell in a present column clears a value.
fn keep_absent_columns(table: &Table, rows: &mut [PersonRow], existing: &HashMap<String, person::Model>) {
    let by_id: HashMap<i32, &str> = existing.values().map(|p| (p.id, p.employee_no.as_str())).collect();
    for row in rows.iter_mut() {
        let Some(old) = existing.get(&row.employee_no) else {
            continue;
        };
        if !table.has("joined_on") {
            row.joined_on = old.joined_on;
        }
        if !table.has("left_on") {
            row.left_on = old.left_on;
        }
        if !table.has("technical_background") {
            row.background = old.background_override;
            row.reason = old.background_reason.clone();
        }
        if !table.has("supervisor_no") {
            row.supervisor_no = old.supervisor_id.and_then(|id| by_id.get(&id)).map(|no| no.to_string());
        }
        row.keep_role = !table.has("role");
    }
}

impl Change {
    fn mark_updated(&mut self, detail: String) {
        if self.action == super::Action::Unchanged {
            self.action = super::Action::Updated;
        }
        if !self.detail.is_empty() {
            self.detail.push_str("; ");
        }
        self.detail.push_str(&detail);
    }
}

/// The rows whose every cell reads, and the errors of the others.
fn parse_rows<'a>(rows: impl Iterator<Item = Row<'a>>) -> (Vec<PersonRow>, Vec<FieldError>) {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match parse_row(&row) {
            Ok(person) => parsed.push(person),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    (parsed, errors)
}

/// What a row says about who it is and whom it names, read even when its
/// other cells are wrong: a repeated employee number or an unknown unit or
/// supervisor is then reported in the same pass as a bad email, rather than
/// only once the email is fixed.
struct Named {
    line: usize,
    employee_no: Option<String>,
    unit_code: Option<String>,
    supervisor_no: Option<String>,
}

fn named(row: &Row<'_>) -> Named {
    let employee_no = |key| row.parse(key, parse_employee_no).ok().flatten();
    Named {
        line: row.line,
        employee_no: employee_no("employee_no"),
        unit_code: row.get("unit_code").map(str::to_string),
        supervisor_no: employee_no("supervisor_no"),
    }
}

/// A file without the supervisor column keeps the stored supervisors.
fn keep_stored_supervisors(named: &mut [Named], existing: &HashMap<String, person::Model>) {
    let by_id: HashMap<i32, &str> = existing.values().map(|p| (p.id, p.employee_no.as_str())).collect();
    for person in named.iter_mut() {
        if let Some(old) = person.employee_no.as_ref().and_then(|no| existing.get(no)) {
            person.supervisor_no = old.supervisor_id.and_then(|id| by_id.get(&id)).map(|no| no.to_string());
        }
    }
}

/// An employee number may appear once per file.
fn duplicates(named: &[Named]) -> Vec<FieldError> {
    crate::import::repeated_keys(
        "employee_no",
        named.iter().filter_map(|p| Some((p.line, p.employee_no.as_deref()?))),
    )
}

fn parse_row(row: &Row<'_>) -> std::result::Result<PersonRow, Vec<FieldError>> {
    let mut errors = Vec::new();

    let employee_no = keep(&mut errors, row.require("employee_no", parse_employee_no));
    let name = keep(&mut errors, row.require("name", crate::import::parse_name));
    let email = keep(&mut errors, row.require("email", parse_email));
    let unit_code = keep(&mut errors, row.require("unit_code", |s| Ok(s.to_string())));
    let role = keep(&mut errors, row.parse("role", parse_role)).flatten();
    let supervisor_no = keep(&mut errors, row.parse("supervisor_no", parse_employee_no)).flatten();
    let joined_on = keep(&mut errors, row.parse("joined_on", parse_date)).flatten();
    let left_on = keep(&mut errors, row.parse("left_on", parse_date)).flatten();
    let background = keep(&mut errors, row.parse("technical_background", parse_yes_no))
        .flatten()
        .flatten();
    let role_since = keep(&mut errors, row.parse("role_since", parse_date)).flatten();
    let reason = row.get("background_reason").map(str::to_string);
    let language = keep(&mut errors, row.parse("language", parse_language)).flatten();

    for misordered in date_order_errors(joined_on, left_on, role_since) {
        errors.push(row.error(misordered.field, misordered.reason));
    }
    if let (Some(no), Some(supervisor)) = (&employee_no, &supervisor_no)
        && no == supervisor
    {
        errors.push(row.error("supervisor_no", "a person cannot be their own supervisor"));
    }

    match (employee_no, name, email, unit_code, errors.is_empty()) {
        (Some(employee_no), Some(name), Some(email), Some(unit_code), true) => Ok(PersonRow {
            line: row.line,
            employee_no,
            name,
            email,
            unit_code,
            role,
            supervisor_no,
            joined_on,
            left_on,
            background,
            reason,
            role_since,
            language,
            keep_role: false,
        }),
        _ => Err(errors),
    }
}

/// The language of a person's messages: Traditional Chinese or English.
fn parse_language(text: &str) -> std::result::Result<&'static str, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "zh" | "zh-tw" | "中文" | "繁體中文" => Ok("zh"),
        "en" | "english" | "英文" => Ok("en"),
        _ => Err(format!("\"{text}\" is not a language; use zh or en")),
    }
}

/// A role as a code or as the title a personnel office writes.
pub fn parse_role(text: &str) -> std::result::Result<Role, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "it_staff" | "資訊業務人員" => Ok(Role::ItStaff),
        "it_supervisor" | "資訊主管人員" | "資訊主管" => Ok(Role::ItSupervisor),
        "security_officer" | "資通安全專責人員" | "資安專責人員" => Ok(Role::SecurityOfficer),
        _ => Err(format!(
            "\"{text}\" is not a role; use it_staff (資訊業務人員), it_supervisor (資訊主管人員) or security_officer (資通安全專責人員)"
        )),
    }
}

/// Units must exist already; supervisors in the file or the database; and the
/// supervisor chain, with the file's answers replacing stored ones, must never
/// come back to a person.
fn check_references(
    rows: &[Named],
    units: &HashMap<String, i32>,
    existing: &HashMap<String, person::Model>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let in_file: HashSet<&str> = rows.iter().filter_map(|r| r.employee_no.as_deref()).collect();
    let by_id: HashMap<i32, &str> = existing.values().map(|p| (p.id, p.employee_no.as_str())).collect();

    let mut supervisor_of: HashMap<&str, Option<&str>> = existing
        .values()
        .map(|p| {
            (
                p.employee_no.as_str(),
                p.supervisor_id.and_then(|s| by_id.get(&s).copied()),
            )
        })
        .collect();
    for row in rows {
        if let Some(no) = row.employee_no.as_deref() {
            supervisor_of.insert(no, row.supervisor_no.as_deref());
        }
    }

    for row in rows {
        if let Some(code) = row.unit_code.as_deref()
            && !units.contains_key(code)
        {
            errors.push(FieldError::at_row(
                row.line,
                "unit_code",
                format!("unit {code} does not exist; import it first"),
            ));
        }
        let (Some(no), Some(supervisor)) = (row.employee_no.as_deref(), row.supervisor_no.as_deref()) else {
            continue;
        };
        if supervisor == no {
            continue;
        }
        if !in_file.contains(supervisor) && !existing.contains_key(supervisor) {
            errors.push(FieldError::at_row(
                row.line,
                "supervisor_no",
                format!("no person has employee number {supervisor}"),
            ));
        } else if super::comes_back(no, &supervisor_of) {
            errors.push(FieldError::at_row(
                row.line,
                "supervisor_no",
                format!("{supervisor} makes a cycle of supervisors back to {no}"),
            ));
        }
    }
    errors
}

/// Writes the person's own fields; returns the id and what changed.
async fn upsert_person(
    txn: &DatabaseTransaction,
    row: &PersonRow,
    unit_id: i32,
    old: Option<&person::Model>,
    unit_codes: &HashMap<i32, String>,
) -> Result<(i32, Vec<String>)> {
    let reason = row
        .background
        .map(|_| row.reason.clone().unwrap_or_else(|| DEFAULT_REASON.to_string()));
    let search_key = text::fold(&format!("{} {} {}", row.name, row.employee_no, row.email));
    let now = Utc::now();

    let Some(old) = old else {
        let model = person::ActiveModel {
            employee_no: Set(row.employee_no.clone()),
            name: Set(row.name.clone()),
            email: Set(row.email.clone()),
            search_key: Set(search_key),
            unit_id: Set(unit_id),
            supervisor_id: Set(None),
            joined_on: Set(row.joined_on),
            left_on: Set(row.left_on),
            background_override: Set(row.background),
            background_reason: Set(reason),
            language: Set(row.language.unwrap_or("zh").to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        return Ok((model.insert(txn).await?.id, Vec::new()));
    };

    let mut differences = Vec::new();
    difference("name", &old.name, &row.name, &mut differences);
    difference("email", &old.email, &row.email, &mut differences);
    let code_of = |id: i32| unit_codes.get(&id).cloned().unwrap_or_else(|| id.to_string());
    difference("unit", &code_of(old.unit_id), &code_of(unit_id), &mut differences);
    difference("joined_on", &old.joined_on, &row.joined_on, &mut differences);
    difference("left_on", &old.left_on, &row.left_on, &mut differences);
    difference(
        "technical_background",
        &old.background_override,
        &row.background,
        &mut differences,
    );
    if row.background.is_some() {
        difference("background_reason", &old.background_reason, &reason, &mut differences);
    }
    let language = row.language.map_or_else(|| old.language.clone(), str::to_string);
    difference("language", &old.language, &language, &mut differences);
    if differences.is_empty() {
        return Ok((old.id, differences));
    }

    let mut model: person::ActiveModel = old.clone().into();
    model.name = Set(row.name.clone());
    model.email = Set(row.email.clone());
    model.search_key = Set(search_key);
    model.unit_id = Set(unit_id);
    model.joined_on = Set(row.joined_on);
    model.left_on = Set(row.left_on);
    model.background_override = Set(row.background);
    model.background_reason = Set(reason);
    model.language = Set(language);
    model.updated_at = Set(now);
    model.update(txn).await?;
    Ok((old.id, differences))
}

async fn set_supervisor(
    txn: &DatabaseTransaction,
    row: &PersonRow,
    ids: &HashMap<String, i32>,
    old: Option<&person::Model>,
) -> Result<Option<String>> {
    let wanted = row.supervisor_no.as_ref().and_then(|no| ids.get(no)).copied();
    let current = old.and_then(|p| p.supervisor_id);
    if wanted == current {
        return Ok(None);
    }

    let model = person::ActiveModel {
        id: Set(ids[&row.employee_no]),
        supervisor_id: Set(wanted),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    model.update(txn).await?;
    let detail = format!("supervisor → {}", row.supervisor_no.as_deref().unwrap_or("(none)"));
    Ok(old.map(|_| detail))
}

pub fn role_code(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::ItStaff) => "it_staff",
        Some(Role::ItSupervisor) => "it_supervisor",
        Some(Role::SecurityOfficer) => "security_officer",
        None => "(none)",
    }
}
