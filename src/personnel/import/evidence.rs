//! `evidence.csv`: `employee_no,criterion,detail,category,obtained_on,expires_on,amount`.
//!
//! A piece of evidence is identified by person, criterion, detail and date
//! obtained; importing it again updates its category, expiry and amount.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{CertificateCategory, Criterion, evidence, person};
use sea_orm::{ActiveEnum, ActiveModelTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set};

use super::{
    Action, Audited, Change, ImportOptions, ImportReport, begin, difference, finish, keep, read_table, reject_if_any,
};
use crate::audit::{Entry, snapshot};
use crate::error::{FieldError, Result};
use crate::hours::Hours;
use crate::import::value::{parse_employee_no, quote};
use crate::import::{Column, Row, parse_date};

const COLUMNS: &[Column] = &[
    Column::required("employee_no", &["員工編號", "人員編號"]),
    Column::required("criterion", &["認定條件", "條件", "技術背景條件"]),
    Column::required("detail", &["說明", "內容", "證明文件", "證照名稱"]),
    Column::optional("category", &["證照類別", "類別"]),
    Column::optional("obtained_on", &["取得日", "取得日期", "畢業日期"]),
    Column::optional("expires_on", &["到期日", "有效期限", "有效日期"]),
    Column::optional("amount", &["學分數或時數", "學分數", "時數", "數量"]),
];

/// The most credits or hours one row may give: far above the 20 credits and
/// 60 hours the criteria ask for, and well within what the column stores.
const MAX_AMOUNT: Hours = Hours::whole(10_000);

#[derive(Debug, Clone)]
struct EvidenceRow {
    line: usize,
    employee_no: String,
    criterion: Criterion,
    detail: String,
    category: Option<CertificateCategory>,
    obtained_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    amount: Option<Hours>,
}

type Identity = (i32, Criterion, String, Option<NaiveDate>);

pub async fn import_evidence(db: &DatabaseConnection, text: &str, options: ImportOptions) -> Result<ImportReport> {
    let (table, mut errors) = read_table(text, COLUMNS)?;
    let people: HashMap<String, i32> = person::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.employee_no, p.id))
        .collect();
    let stored: HashMap<Identity, evidence::Model> = evidence::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|e| (identity_of(&e), e))
        .collect();

    let (rows, row_errors) = parse_rows(table.rows());
    let named: Vec<Named> = table.rows().map(|row| named(&row)).collect();
    errors.extend(row_errors);
    errors.extend(check_rows(&named, &people));
    reject_if_any(errors)?;

    let txn = begin(db).await?;
    let mut changes = Vec::new();
    let mut entries = Vec::new();
    for row in &rows {
        let person_id = people[&row.employee_no];
        let key = (person_id, row.criterion, row.detail.clone(), row.obtained_on);
        let (action, detail) = upsert(&txn, row, person_id, stored.get(&key)).await?;
        if action != Action::Unchanged && !options.dry_run {
            entries.push(entry_for(row, person_id, stored.get(&key), action, &detail));
        }
        changes.push(Change {
            row: row.line,
            key: row.employee_no.clone(),
            action,
            detail,
        });
    }

    let audited = Audited {
        action: "importEvidence",
        kind: "evidence",
        entries,
    };
    finish(txn, changes, &options, audited).await
}

/// The audit entry of a created or updated piece of evidence, keyed by the
/// person's employee number.
fn entry_for(
    row: &EvidenceRow,
    person_id: i32,
    stored: Option<&evidence::Model>,
    action: Action,
    detail: &str,
) -> Entry {
    let written = evidence::Model {
        id: stored.map_or(0, |s| s.id),
        person_id,
        criterion: row.criterion,
        detail: row.detail.clone(),
        category: row.category,
        obtained_on: row.obtained_on,
        expires_on: row.expires_on,
        centi_amount: row.amount.map(|a| a.centihours() as i32),
    };
    let summary = match action {
        Action::Created => format!("added evidence of {}", row.employee_no),
        _ => format!("updated evidence of {}: {detail}", row.employee_no),
    };
    Entry::new("importEvidence", "evidence", row.employee_no.clone(), summary)
        .before(stored.map(|s| snapshot::evidence(&row.employee_no, s)))
        .after(Some(snapshot::evidence(&row.employee_no, &written)))
}

fn identity_of(e: &evidence::Model) -> Identity {
    (e.person_id, e.criterion, e.detail.clone(), e.obtained_on)
}

fn parse_rows<'a>(rows: impl Iterator<Item = Row<'a>>) -> (Vec<EvidenceRow>, Vec<FieldError>) {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match parse_row(&row) {
            Ok(evidence) => parsed.push(evidence),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    (parsed, errors)
}

fn parse_row(row: &Row<'_>) -> std::result::Result<EvidenceRow, Vec<FieldError>> {
    let mut errors = Vec::new();

    let employee_no = keep(&mut errors, row.require("employee_no", parse_employee_no));
    let criterion = keep(&mut errors, row.require("criterion", parse_criterion));
    let detail = keep(&mut errors, required_detail(row));
    let category = keep(&mut errors, row.parse("category", parse_category)).flatten();
    let obtained_on = keep(&mut errors, row.parse("obtained_on", parse_date)).flatten();
    let expires_on = keep(&mut errors, row.parse("expires_on", parse_date)).flatten();
    let amount = keep(&mut errors, row.parse("amount", parse_amount)).flatten();

    if let Some(criterion) = criterion {
        let shape = shape_problems(row, criterion, category, obtained_on, expires_on, amount);
        let unread: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
        // A cell that could not be read is reported once, not again as missing.
        errors.extend(shape.into_iter().filter(|e| !unread.contains(&e.field)));
    }

    match (employee_no, criterion, detail, errors.is_empty()) {
        (Some(employee_no), Some(criterion), Some(detail), true) => Ok(EvidenceRow {
            line: row.line,
            employee_no,
            criterion,
            detail,
            category,
            obtained_on,
            expires_on,
            amount,
        }),
        _ => Err(errors),
    }
}

/// The accepted criteria, each as its code, its number in the rules and its
/// Chinese name, for error messages.
const CRITERIA: &str = "job_series (1, 資訊處理職系), engineer_licence (2, 技師), \
technician_certificate (3, 技術士證), certificate (4, 專業證照), ict_degree (5, 資通訊科系), \
credits (6, 學分) or training_hours (7, 訓練時數)";

/// The accepted certificate categories, with their Chinese names.
const CATEGORIES: &str = "cybersecurity (資通安全), network_management (網路管理), \
database_management (資料庫管理), software_engineering (軟體工程) or software_testing (軟體測試)";

/// The detail tells two pieces of evidence of one criterion apart, so it
/// may not be blank.
fn required_detail(row: &Row<'_>) -> std::result::Result<String, FieldError> {
    row.get("detail").map(str::to_string).ok_or_else(|| {
        row.error(
            "detail",
            "is required: what the evidence is, such as the certificate, licence or degree and who issued it",
        )
    })
}

/// Credits or hours, as a number with at most two decimals.
fn parse_amount(text: &str) -> std::result::Result<Hours, String> {
    Hours::read(text).map_err(|why| match why.reason() {
        Some(reason) => format!("{} {reason}", quote(text)),
        None => format!(
            "{} is not a number; write the credits or hours as a number such as 20 or 1.5",
            quote(text)
        ),
    })
}

/// Certificates need a category; credits and hours need an amount and the date
/// they were earned, since only the last ten years count.
fn shape_problems(
    row: &Row<'_>,
    criterion: Criterion,
    category: Option<CertificateCategory>,
    obtained_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    amount: Option<Hours>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let code = criterion.to_value();
    let counted = match criterion {
        Criterion::Credits => Some("credits earned"),
        Criterion::TrainingHours => Some("hours trained"),
        _ => None,
    };

    match (criterion, category) {
        (Criterion::Certificate, None) => {
            errors.push(row.error("category", format!("is required for a certificate; use {CATEGORIES}")))
        }
        (Criterion::Certificate, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(row.error(
            "category",
            format!("only certificates (criterion certificate) have a category; leave it blank for {code}"),
        )),
    }
    match (amount, counted) {
        (None, Some(what)) => errors.push(row.error("amount", format!("is required for {code}: the {what}"))),
        (Some(a), Some(what)) if a <= Hours::ZERO => {
            errors.push(row.error("amount", format!("must be more than 0: the {what}")))
        }
        (Some(a), _) if a > MAX_AMOUNT => errors.push(row.error(
            "amount",
            format!("{a} is more than {MAX_AMOUNT}, the most one row may give; check the cell"),
        )),
        (Some(_), None) => errors.push(row.error(
            "amount",
            format!("only credits and training hours have an amount; leave it blank for {code}"),
        )),
        _ => {}
    }
    if let (Some(what), None) = (counted, obtained_on) {
        errors.push(row.error(
            "obtained_on",
            format!("is required for {code}: only {what} in the ten years before a date count toward it"),
        ));
    }
    if let (Some(obtained), Some(expires)) = (obtained_on, expires_on)
        && expires < obtained
    {
        errors.push(row.error(
            "expires_on",
            format!("{expires} is before obtained_on {obtained}; evidence cannot expire before it is obtained"),
        ));
    }
    errors
}

/// The criterion as a code, its number in the rules (1-7) or its Chinese name.
pub fn parse_criterion(text: &str) -> std::result::Result<Criterion, String> {
    let criterion = match text.trim().to_ascii_lowercase().as_str() {
        "job_series" | "1" | "資訊處理職系" | "職系" => Criterion::JobSeries,
        "engineer_licence" | "engineer_license" | "2" | "技師" => Criterion::EngineerLicence,
        "technician_certificate" | "3" | "技術士證" | "技術士" => Criterion::TechnicianCertificate,
        "certificate" | "4" | "專業證照" | "證照" => Criterion::Certificate,
        "ict_degree" | "5" | "資通訊科系" | "學歷" => Criterion::IctDegree,
        "credits" | "6" | "學分" => Criterion::Credits,
        "training_hours" | "7" | "訓練時數" | "結訓時數" => Criterion::TrainingHours,
        _ => return Err(format!("{} is not a criterion; use {CRITERIA}", quote(text))),
    };
    Ok(criterion)
}

pub fn parse_category(text: &str) -> std::result::Result<CertificateCategory, String> {
    let category = match text.trim().to_ascii_lowercase().as_str() {
        "cybersecurity" | "資通安全" | "資安" => CertificateCategory::Cybersecurity,
        "network_management" | "網路管理" => CertificateCategory::NetworkManagement,
        "database_management" | "資料庫管理" => CertificateCategory::DatabaseManagement,
        "software_engineering" | "軟體工程" => CertificateCategory::SoftwareEngineering,
        "software_testing" | "軟體測試" => CertificateCategory::SoftwareTesting,
        _ => {
            return Err(format!(
                "{} is not a certificate category; use {CATEGORIES}",
                quote(text)
            ));
        }
    };
    Ok(category)
}

/// What a row says about whose evidence it is and which piece, read even
/// when its other cells are wrong: an unknown person or a repeated piece is
/// then reported in the same pass as a bad amount.
struct Named {
    line: usize,
    employee_no: Option<String>,
    /// Person, criterion, detail and date obtained, when all of them read.
    piece: Option<(String, Criterion, String, Option<NaiveDate>)>,
}

fn named(row: &Row<'_>) -> Named {
    let employee_no = row.parse("employee_no", parse_employee_no).ok().flatten();
    let criterion = row.parse("criterion", parse_criterion).ok().flatten();
    let detail = row.get("detail").map(str::to_string);
    let obtained_on = row.parse("obtained_on", parse_date).ok();
    let piece = match (&employee_no, criterion, detail, obtained_on) {
        (Some(no), Some(criterion), Some(detail), Some(obtained_on)) => {
            Some((no.clone(), criterion, detail, obtained_on))
        }
        _ => None,
    };
    Named {
        line: row.line,
        employee_no,
        piece,
    }
}

/// Every person must exist, and a piece of evidence may appear once per file.
fn check_rows(rows: &[Named], people: &HashMap<String, i32>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen: HashMap<&(String, Criterion, String, Option<NaiveDate>), usize> = HashMap::new();
    for row in rows {
        if let Some(no) = row.employee_no.as_deref()
            && !people.contains_key(no)
        {
            errors.push(FieldError::at_row(
                row.line,
                "employee_no",
                format!("no person has employee number {no}; import people first"),
            ));
        }
        let Some(piece) = &row.piece else { continue };
        if let Some(first) = seen.insert(piece, row.line) {
            errors.push(FieldError::at_row(
                row.line,
                "detail",
                format!(
                    "the same evidence (employee_no, criterion, detail and obtained_on) is also on row {first}; keep one of the two rows"
                ),
            ));
        }
    }
    errors
}

async fn upsert(
    txn: &DatabaseTransaction,
    row: &EvidenceRow,
    person_id: i32,
    stored: Option<&evidence::Model>,
) -> Result<(Action, String)> {
    let centi_amount = row.amount.and_then(|a| i32::try_from(a.centihours()).ok());
    let Some(old) = stored else {
        evidence::ActiveModel {
            person_id: Set(person_id),
            criterion: Set(row.criterion),
            detail: Set(row.detail.clone()),
            category: Set(row.category),
            obtained_on: Set(row.obtained_on),
            expires_on: Set(row.expires_on),
            centi_amount: Set(centi_amount),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        return Ok((Action::Created, String::new()));
    };

    let mut differences = Vec::new();
    difference("category", &old.category, &row.category, &mut differences);
    difference("expires_on", &old.expires_on, &row.expires_on, &mut differences);
    let shown = |centi: Option<i32>| centi.map(|c| Hours::from_centihours(c.into()).to_string());
    difference(
        "amount",
        &shown(old.centi_amount),
        &shown(centi_amount),
        &mut differences,
    );
    if differences.is_empty() {
        return Ok((Action::Unchanged, String::new()));
    }

    let mut model: evidence::ActiveModel = old.clone().into();
    model.category = Set(row.category);
    model.expires_on = Set(row.expires_on);
    model.centi_amount = Set(centi_amount);
    model.update(txn).await?;
    Ok((Action::Updated, differences.join("; ")))
}
