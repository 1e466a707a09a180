//! `units.csv`: `unit_code,name,parent_code,security_level,level_since`.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{SecurityLevel, agency_level, unit};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::{
    Action, Audited, Change, ImportOptions, ImportReport, action_for, begin, changed_entries, changed_keys, difference,
    finish, read_table, reject_if_any,
};
use crate::audit::snapshot;
use crate::error::{FieldError, Result};
use crate::import::value::quote;
use crate::import::{Column, Row, parse_date};

const COLUMNS: &[Column] = &[
    Column::required("unit_code", &["單位代碼", "機關代碼", "code"]),
    Column::required("name", &["單位名稱", "機關名稱", "名稱", "unit_name"]),
    Column::optional("parent_code", &["上級單位代碼", "上級機關代碼", "parent"]),
    Column::optional(
        "security_level",
        &["資通安全責任等級", "資安責任等級", "資安等級", "level"],
    ),
    Column::optional("level_since", &["等級生效日", "生效日期", "生效日"]),
];

#[derive(Debug)]
struct UnitRow {
    line: usize,
    code: String,
    name: String,
    parent: Option<String>,
    level: Option<(SecurityLevel, NaiveDate)>,
}

pub async fn import_units(db: &DatabaseConnection, text: &str, options: ImportOptions) -> Result<ImportReport> {
    let (table, mut errors) = read_table(text, COLUMNS)?;
    let existing: HashMap<String, unit::Model> = unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();

    let with_level = units_with_a_level(db).await?;

    let (mut rows, row_errors) = parse_rows(table.rows());
    let mut named: Vec<Named> = table.rows().map(|row| named(&row)).collect();
    if !table.has("parent_code") {
        keep_stored_parents(rows.iter_mut().map(|r| (r.code.as_str(), &mut r.parent)), &existing);
        keep_stored_parents(
            named
                .iter_mut()
                .filter_map(|n| Some((n.code.as_deref()?, &mut n.parent))),
            &existing,
        );
    }
    errors.extend(row_errors);
    errors.extend(duplicates(&named));
    errors.extend(check_references(&named, &existing));
    errors.extend(check_agency_levels(&named, &existing, &with_level));
    errors.extend(check_first_levels(&rows, &existing, &with_level, options.today));
    reject_if_any(errors)?;

    let txn = begin(db).await?;
    let mut before = before_images(&txn, &rows, &existing, &options).await?;
    let mut changes = Vec::new();
    let mut ids: HashMap<String, i32> = existing.iter().map(|(code, u)| (code.clone(), u.id)).collect();
    for row in &rows {
        let (id, created) = upsert_unit(&txn, row, existing.get(&row.code)).await?;
        ids.insert(row.code.clone(), id);
        changes.push(Change {
            row: row.line,
            key: row.code.clone(),
            action: action_for(created, &[]),
            detail: String::new(),
        });
    }
    for (row, change) in rows.iter().zip(changes.iter_mut()) {
        let mut differences = Vec::new();
        if let Some(old) = existing.get(&row.code) {
            difference("name", &old.name, &row.name, &mut differences);
        }
        set_parent(&txn, row, &ids, existing.get(&row.code), &mut differences).await?;
        set_level(&txn, row, ids[&row.code], &mut differences).await?;
        if change.action == Action::Unchanged && !differences.is_empty() {
            change.action = Action::Updated;
        }
        change.detail = differences.join("; ");
    }

    let audited = audited(&txn, &changes, &mut before, &options).await?;
    finish(txn, changes, &options, audited).await
}

/// The stored images of the file's units that exist, unless nothing will be
/// recorded (a dry run).
async fn before_images(
    txn: &sea_orm::DatabaseTransaction,
    rows: &[UnitRow],
    existing: &HashMap<String, unit::Model>,
    options: &ImportOptions,
) -> Result<HashMap<String, serde_json::Value>> {
    if options.dry_run {
        return Ok(HashMap::new());
    }
    let listed: Vec<unit::Model> = rows.iter().filter_map(|r| existing.get(&r.code)).cloned().collect();
    snapshot::units(txn, &listed).await
}

/// One entry per created or updated unit, with its images before and after;
/// nothing to gather for a dry run.
async fn audited(
    txn: &sea_orm::DatabaseTransaction,
    changes: &[Change],
    before: &mut HashMap<String, serde_json::Value>,
    options: &ImportOptions,
) -> Result<Audited> {
    let changed = changed_keys(changes);
    let mut after = if options.dry_run {
        HashMap::new()
    } else {
        snapshot::units_by_code(txn, &changed).await?
    };
    Ok(Audited {
        action: "importUnits",
        kind: "units",
        entries: changed_entries("importUnits", "unit", changes, before, &mut after),
    })
}

/// What a row says about which unit it is and which one is its parent, read
/// even when its other cells are wrong: a repeated code or an unknown
/// parent is then reported in the same pass as a blank name, rather than
/// only once the name is fixed.
struct Named {
    line: usize,
    code: Option<String>,
    parent: Option<String>,
    /// False when the parent cell is there but unreadable: the row's parent
    /// is then unknown, not absent.
    parent_read: bool,
    /// Whether the row gives a security level or its date, right or wrong.
    level_given: bool,
}

fn named(row: &Row<'_>) -> Named {
    let parent = row.parse("parent_code", parse_unit_code);
    Named {
        line: row.line,
        code: row.parse("unit_code", parse_unit_code).ok().flatten(),
        parent_read: parent.is_ok(),
        parent: parent.ok().flatten(),
        level_given: row.get("security_level").is_some() || row.get("level_since").is_some(),
    }
}

/// A file without the parent column keeps the stored tree for the units it
/// lists; given each unit's code and its parent to set.
fn keep_stored_parents<'a>(
    units: impl Iterator<Item = (&'a str, &'a mut Option<String>)>,
    existing: &HashMap<String, unit::Model>,
) {
    let by_id: HashMap<i32, &str> = existing.values().map(|u| (u.id, u.code.as_str())).collect();
    for (code, parent) in units {
        if let Some(old) = existing.get(code) {
            *parent = old.parent_id.and_then(|id| by_id.get(&id)).map(|code| code.to_string());
        }
    }
}

/// The rows whose every cell reads, and the errors of the others.
fn parse_rows<'a>(rows: impl Iterator<Item = Row<'a>>) -> (Vec<UnitRow>, Vec<FieldError>) {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match parse_row(&row) {
            Ok(unit) => parsed.push(unit),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    (parsed, errors)
}

/// A unit code may appear once per file.
fn duplicates(named: &[Named]) -> Vec<FieldError> {
    crate::import::repeated_keys(
        "unit_code",
        named.iter().filter_map(|u| Some((u.line, u.code.as_deref()?))),
    )
}

fn parse_row(row: &Row<'_>) -> std::result::Result<UnitRow, Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = row
        .require("unit_code", parse_unit_code)
        .map_err(|e| errors.push(e))
        .ok();
    let name = row
        .require("name", crate::import::parse_name)
        .map_err(|e| errors.push(e))
        .ok();
    let parent = row
        .parse("parent_code", parse_unit_code)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    // A cell that is there but unreadable has its own error; only a blank
    // one is "required" beside the other.
    let level = row
        .parse("security_level", parse_security_level)
        .map_err(|e| errors.push(e));
    let since = row.parse("level_since", parse_date).map_err(|e| errors.push(e));

    let level = match (level, since) {
        (Err(()), _) | (_, Err(())) => None,
        (Ok(Some(level)), Ok(Some(since))) => Some((level, since)),
        (Ok(Some(_)), Ok(None)) => {
            errors.push(row.error(
                "level_since",
                "is required with a security level: the date it took effect",
            ));
            None
        }
        (Ok(None), Ok(Some(_))) => {
            errors.push(row.error("security_level", "is required when level_since is given"));
            None
        }
        (Ok(None), Ok(None)) => None,
    };
    if parent.is_some() && level.is_some() {
        errors.push(row.error(
            "security_level",
            "only agencies (units without a parent) carry a security level; units below inherit it",
        ));
    }

    match (code, name, errors.is_empty()) {
        (Some(code), Some(name), true) => Ok(UnitRow {
            line: row.line,
            code,
            name,
            parent,
            level,
        }),
        _ => Err(errors),
    }
}

/// The longest unit code: the government's agency codes have 10 characters,
/// and a code is a key in indexes that PostgreSQL bounds.
pub const MAX_CODE_CHARS: usize = 40;

/// A unit code as people type it into other files and GraphQL: one word.
/// Cells are cleaned first, so a line break inside a quoted cell reads as a
/// space here; either would make a code nobody can type back.
pub fn parse_unit_code(text: &str) -> std::result::Result<String, String> {
    let count = text.chars().count();
    if count > MAX_CODE_CHARS {
        return Err(format!(
            "is {count} characters long; a unit code may have at most {MAX_CODE_CHARS}"
        ));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(format!(
            "{} has a space or line break; write unit codes without them, such as DDB-PLN",
            quote(text)
        ));
    }
    Ok(text.to_string())
}

/// A-E, as written on the authority's notice: `A`, `a`, `A級`.
pub fn parse_security_level(text: &str) -> std::result::Result<SecurityLevel, String> {
    let letter = text
        .trim()
        .trim_end_matches('級')
        .trim_end_matches("等")
        .trim()
        .to_ascii_uppercase();
    match letter.as_str() {
        "A" => Ok(SecurityLevel::A),
        "B" => Ok(SecurityLevel::B),
        "C" => Ok(SecurityLevel::C),
        "D" => Ok(SecurityLevel::D),
        "E" => Ok(SecurityLevel::E),
        _ => Err(format!("\"{text}\" is not a security level; use A, B, C, D or E")),
    }
}

/// Parents must exist in the file or the database, and following parents must
/// never lead back to a unit (the file's parents replace stored ones).
fn check_references(rows: &[Named], existing: &HashMap<String, unit::Model>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let coded = || rows.iter().filter_map(|r| Some((r, r.code.as_deref()?)));
    let in_file: HashSet<&str> = coded().map(|(_, code)| code).collect();
    let by_id: HashMap<i32, &str> = existing.values().map(|u| (u.id, u.code.as_str())).collect();

    let mut parent_of: HashMap<&str, Option<&str>> = existing
        .values()
        .map(|u| (u.code.as_str(), u.parent_id.and_then(|p| by_id.get(&p).copied())))
        .collect();
    for (row, code) in coded() {
        parent_of.insert(code, row.parent.as_deref());
    }

    for (row, code) in coded() {
        let Some(parent) = row.parent.as_deref() else { continue };
        if parent == code {
            errors.push(FieldError::at_row(
                row.line,
                "parent_code",
                "a unit cannot be its own parent",
            ));
        } else if !in_file.contains(parent) && !existing.contains_key(parent) {
            errors.push(FieldError::at_row(
                row.line,
                "parent_code",
                format!("unit {parent} does not exist"),
            ));
        } else if super::comes_back(code, &parent_of) {
            errors.push(FieldError::at_row(
                row.line,
                "parent_code",
                format!("{parent} makes a cycle of parents back to {code}"),
            ));
        }
    }
    errors
}

/// The units that have a security level stored, from any date.
async fn units_with_a_level(db: &DatabaseConnection) -> Result<HashSet<i32>> {
    let levels = agency_level::Entity::find().all(db).await?;
    Ok(levels.into_iter().map(|level| level.unit_id).collect())
}

/// An agency (a unit without a parent) needs a security level: the row
/// gives one, or the unit has one stored already. Without it, the rules that
/// depend on the level (professional security training at levels A to C)
/// would silently not apply to its people.
fn check_agency_levels(
    rows: &[Named],
    existing: &HashMap<String, unit::Model>,
    with_level: &HashSet<i32>,
) -> Vec<FieldError> {
    rows.iter()
        .filter(|row| row.parent_read && row.parent.is_none() && !row.level_given)
        .filter_map(|row| Some((row, row.code.as_deref()?)))
        .filter(|(_, code)| !existing.get(*code).is_some_and(|u| with_level.contains(&u.id)))
        .map(|(row, code)| {
            FieldError::at_row(
                row.line,
                "security_level",
                format!("is required for {code}, an agency (no parent_code): A, B, C, D or E, with level_since"),
            )
        })
        .collect()
}

/// An agency's first level must be in force already: one that starts later
/// would leave its people with no level, and the level-dependent rules
/// unapplied, until that day. A later change follows in another file, once
/// the agency has a level.
fn check_first_levels(
    rows: &[UnitRow],
    existing: &HashMap<String, unit::Model>,
    with_level: &HashSet<i32>,
    today: NaiveDate,
) -> Vec<FieldError> {
    rows.iter()
        .filter(|row| row.parent.is_none())
        .filter(|row| !existing.get(&row.code).is_some_and(|u| with_level.contains(&u.id)))
        .filter_map(|row| Some((row, row.level?.1)))
        .filter(|(_, since)| *since > today)
        .map(|(row, since)| {
            FieldError::at_row(
                row.line,
                "level_since",
                format!(
                    "{since} is after today ({today}) and {} has no level yet: give the level in force today first",
                    row.code
                ),
            )
        })
        .collect()
}

async fn upsert_unit(
    txn: &sea_orm::DatabaseTransaction,
    row: &UnitRow,
    existing: Option<&unit::Model>,
) -> Result<(i32, bool)> {
    let now = Utc::now();
    match existing {
        Some(old) if old.name == row.name => Ok((old.id, false)),
        Some(old) => {
            let mut model: unit::ActiveModel = old.clone().into();
            model.name = Set(row.name.clone());
            model.updated_at = Set(now);
            Ok((model.update(txn).await?.id, false))
        }
        None => {
            let model = unit::ActiveModel {
                code: Set(row.code.clone()),
                name: Set(row.name.clone()),
                parent_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            Ok((model.insert(txn).await?.id, true))
        }
    }
}

async fn set_parent(
    txn: &sea_orm::DatabaseTransaction,
    row: &UnitRow,
    ids: &HashMap<String, i32>,
    existing: Option<&unit::Model>,
    differences: &mut Vec<String>,
) -> Result<()> {
    let wanted = row.parent.as_ref().and_then(|p| ids.get(p)).copied();
    let current = existing.and_then(|u| u.parent_id);
    if wanted == current {
        return Ok(());
    }
    if existing.is_some() {
        differences.push(format!("parent → {}", row.parent.as_deref().unwrap_or("(none)")));
    }

    let id = ids[&row.code];
    let model = unit::ActiveModel {
        id: Set(id),
        parent_id: Set(wanted),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    model.update(txn).await?;
    Ok(())
}

/// Records a level from its date on, unless that exact level and date are
/// stored; the same date with another level corrects the stored one.
async fn set_level(
    txn: &sea_orm::DatabaseTransaction,
    row: &UnitRow,
    unit_id: i32,
    differences: &mut Vec<String>,
) -> Result<()> {
    let Some((level, since)) = row.level else { return Ok(()) };
    let stored = agency_level::Entity::find()
        .filter(agency_level::Column::UnitId.eq(unit_id))
        .filter(agency_level::Column::Since.eq(since))
        .one(txn)
        .await?;

    match stored {
        Some(s) if s.level == level => {}
        Some(s) => {
            differences.push(format!("security level on {since} {:?} → {level:?}", s.level));
            let mut model: agency_level::ActiveModel = s.into();
            model.level = Set(level);
            model.update(txn).await?;
        }
        None => {
            differences.push(format!("security level {level:?} from {since}"));
            agency_level::ActiveModel {
                unit_id: Set(unit_id),
                level: Set(level),
                since: Set(since),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}
