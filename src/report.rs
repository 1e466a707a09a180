//! The unit report: one row per person and requirement, for Excel.
//!
//! CSV is UTF-8 with a byte-order mark, which is how Excel recognises UTF-8;
//! headers carry both the Chinese and the English name so that the file reads
//! in either language.

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook};

use crate::clock;
use crate::compliance::engine::Status;
use crate::compliance::service::{Detail, UnitCompliance};
use crate::error::{Error, FieldError, Result};
use crate::import::value::quote;
use crate::personnel::import::people::role_code;

/// The file formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Csv,
    Xlsx,
}

impl ReportFormat {
    /// `csv` or `xlsx`, in any case; the reason reads after the field name.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ReportFormat::Csv),
            "xlsx" => Ok(ReportFormat::Xlsx),
            _ => Err(format!("{} is not a report format; use csv or xlsx", quote(text))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Xlsx => "xlsx",
        }
    }
}

/// What `GET /reports/units/{code}?year=2026&format=csv|xlsx&asOf=2026-06-30`
/// asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportQuery {
    pub year: i32,
    pub format: ReportFormat,
    pub as_of: Option<NaiveDate>,
}

impl ReportQuery {
    /// Reads a query string, listing every missing, repeated, unreadable or
    /// unknown parameter at once as `BAD_USER_INPUT` field errors, as GraphQL
    /// does for arguments. An unknown one is refused rather than ignored: a
    /// misspelt `as_of` would otherwise give a report as of today.
    pub fn parse(query: &str) -> Result<Self> {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let mut errors = Vec::new();

        for (key, _) in params.iter().filter(|(k, _)| !PARAMETERS.contains(&k.as_str())) {
            errors.push(FieldError::new(
                key.clone(),
                "is not a parameter of the report; use year, format and asOf",
            ));
        }

        let year = match single(&params, "year") {
            Ok(Some(text)) => keep(parse_year(text), "year", &mut errors),
            Ok(None) => keep(Err("is required, such as year=2026".into()), "year", &mut errors),
            Err(reason) => keep(Err(reason), "year", &mut errors),
        };
        let format = match single(&params, "format") {
            Ok(text) => keep(ReportFormat::parse(text.unwrap_or("csv")), "format", &mut errors),
            Err(reason) => keep(Err(reason), "format", &mut errors),
        };
        let as_of = match single(&params, "asOf") {
            Ok(text) => keep(text.map(clock::parse_iso_date).transpose(), "asOf", &mut errors),
            Err(reason) => keep(Err(reason), "asOf", &mut errors),
        };

        match (year, format, as_of) {
            (Some(year), Some(format), Some(as_of)) if errors.is_empty() => Ok(ReportQuery { year, format, as_of }),
            _ => Err(Error::BadInput(errors)),
        }
    }
}

/// The parameters [`ReportQuery::parse`] reads.
const PARAMETERS: [&str; 3] = ["year", "format", "asOf"];

/// The one value of a parameter, if given. A parameter given twice is
/// refused, since either value could be the one meant.
fn single<'a>(params: &'a [(String, String)], key: &str) -> std::result::Result<Option<&'a str>, String> {
    let mut values = params.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str());
    match (values.next(), values.next()) {
        (first, None) => Ok(first),
        _ => Err("is given more than once; give it once".into()),
    }
}

/// The value, or its reason recorded against the parameter.
fn keep<T>(parsed: std::result::Result<T, String>, key: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    parsed.map_err(|reason| errors.push(FieldError::new(key, reason))).ok()
}

/// A year as digits (`2026`); the range is checked with the as-of date.
fn parse_year(text: &str) -> std::result::Result<i32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{} is not a year such as 2026", quote(text)))
}

pub const HEADERS: [&str; 16] = [
    "員工編號 Employee No",
    "姓名 Name",
    "單位代碼 Unit",
    "職務類別 Role",
    "資通基礎技術背景 Technical background",
    "機關資安等級 Agency level",
    "面向 Facet",
    "資安類別 Security category",
    "等級 Levels",
    "期間年數 Window years",
    "應修時數 Required hours",
    "已修時數 Counted hours",
    "不足時數 Shortfall hours",
    "本季應達時數 Expected hours",
    "落後 Behind",
    "狀態 Status",
];

/// Builds a unit's report in the given format.
pub async fn unit_report(
    db: &sea_orm::DatabaseConnection,
    unit_code: &str,
    year: i32,
    as_of: chrono::NaiveDate,
    format: ReportFormat,
) -> Result<Vec<u8>> {
    use sea_orm::EntityTrait;

    let unit = crate::compliance::service::for_unit(db, unit_code, year, as_of, Detail::Totals).await?;
    let codes = entity::unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.code))
        .collect();
    write(format, &rows(&unit, &codes))
}

/// The report's cells, as text, numbers as people write them (`2.5`).
pub fn rows(unit: &UnitCompliance, unit_codes: &std::collections::HashMap<i32, String>) -> Vec<[String; 16]> {
    let mut rows = Vec::new();
    for p in &unit.people {
        for line in &p.evaluation.lines {
            let r = &line.requirement;
            rows.push([
                p.person.employee_no.clone(),
                p.person.name.clone(),
                unit_codes.get(&p.person.unit_id).cloned().unwrap_or_default(),
                role_code(p.facts.role).to_string(),
                if p.facts.technical_background { "yes" } else { "no" }.to_string(),
                p.facts.agency_level.map(|l| format!("{l:?}")).unwrap_or_default(),
                format!("{:?}", r.facet).to_lowercase(),
                r.security_category
                    .map(|c| format!("{c:?}").to_lowercase())
                    .unwrap_or_default(),
                r.levels.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join(","),
                r.window_years.to_string(),
                line.required.to_string(),
                line.counted.to_string(),
                line.shortfall.to_string(),
                line.expected.to_string(),
                if line.behind { "yes" } else { "no" }.to_string(),
                status_code(p.evaluation.status).to_string(),
            ]);
        }
    }
    rows
}

pub fn status_code(status: Status) -> &'static str {
    match status {
        Status::Complete => "complete",
        Status::OnTrack => "on_track",
        Status::Behind => "behind",
        Status::NonCompliant => "non_compliant",
    }
}

pub fn write(format: ReportFormat, rows: &[[String; 16]]) -> Result<Vec<u8>> {
    match format {
        ReportFormat::Csv => to_csv(rows),
        ReportFormat::Xlsx => to_xlsx(rows),
    }
}

fn to_csv(rows: &[[String; 16]]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(HEADERS).map_err(report_error)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| inert(cell).into_owned()))
            .map_err(report_error)?;
    }
    writer.into_inner().map_err(|e| report_error(e.into_error()))
}

/// A cell Excel would read as a formula (`=`, `+`, `-`, `@`, or a leading tab
/// or carriage return) gets a leading apostrophe, so an imported name can never
/// run as one. Numbers in the report are never negative, so none is touched.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Hours columns are written as numbers so that Excel can sum them.
fn to_xlsx(rows: &[[String; 16]]) -> Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = Format::new().set_bold();

    for (col, header) in HEADERS.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *header, &bold)
            .map_err(report_error)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            let col = col as u16;
            match (col, cell.parse::<f64>()) {
                (9..=13, Ok(number)) => sheet.write_number(r, col, number),
                _ => sheet.write_string(r, col, cell),
            }
            .map_err(report_error)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(report_error)?;
    workbook.save_to_buffer().map_err(report_error)
}

fn report_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("cannot write the report: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_in_cells_are_made_inert() {
        assert_eq!(inert("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(inert("+1"), "'+1");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("林小明"), "林小明");
        assert_eq!(inert("2.5"), "2.5");
    }
}
