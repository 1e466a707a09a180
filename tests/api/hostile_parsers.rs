//! Random and hostile input for the pure readers of imports: the decoder, the
//! table reader, the date parser and the value parsers must answer every
//! input with a value or an error, never a panic, and what they accept must
//! make sense.

use chrono::{Datelike, NaiveDate};
use learnmap::compliance::mapping::Mapping;
use learnmap::import::{Column, Table, clean, decode, parse_date, parse_email, parse_hours, parse_yes_no};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Pure functions are cheap: a few thousand cases each.
const CASES: u32 = 2_000;

/// A runner with a fixed seed, so that CI runs the same cases every time and a
/// failure reproduces.
fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let result = runner(cases).run(&strategy, test);
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Pieces that spreadsheets and attackers put in cells.
fn hostile_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\u{feff}".to_string()),
        Just("\0".to_string()),
        Just("\"".to_string()),
        Just("\"\"".to_string()),
        Just(",".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("\u{3000}".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{301}".to_string()),
        Just("e".to_string()),
        Just("民國".to_string()),
        Just("年".to_string()),
        Just("月".to_string()),
        Just("日".to_string()),
        Just("-".to_string()),
        Just("/".to_string()),
        Just(".".to_string()),
        Just("=cmd|' /C calc'!A0".to_string()),
        Just("１２３４５６７８９０".to_string()),
        Just("99999999999999999999999999".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("000".to_string()),
        Just("9999".to_string()),
        Just("@".to_string()),
        "[0-9]{1,12}",
        "[ae\u{200b}\u{feff}\u{301}\u{3000} ]{1,6}",
        "[0-9０-９]{1,4}[-/.年][0-9０-９]{1,3}[-/.月][0-9０-９]{1,3}日?",
        any::<String>(),
        ".{0,3}",
    ]
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_piece(), 0..8).prop_map(|pieces| pieces.concat())
}

#[test]
fn dates_from_hostile_text_are_values_or_errors() {
    check(CASES, hostile_text(), |text| {
        if let Ok(date) = parse_date(&text) {
            let iso = date.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_date(&iso), Ok(date), "{:?} → {}", text, iso);
        }
        Ok(())
    });
}

#[test]
fn dates_near_the_calendar_bounds_are_values_or_errors() {
    let roc = (0u32..=1000, 0u32..=13, 0u32..=32).prop_map(|(y, m, d)| format!("{y}/{m}/{d}"));
    let compact = (0u32..=9999, 0u32..=99, 0u32..=99).prop_map(|(y, m, d)| format!("{y:03}{m:02}{d:02}"));
    let chinese = (-5i64..=1000, 0u32..=13, 0u32..=32).prop_map(|(y, m, d)| format!("民國{y}年{m}月{d}日"));
    check(CASES, prop_oneof![roc, compact, chinese], |text| {
        let _ = parse_date(&text);
        Ok(())
    });
}

#[test]
fn every_date_reads_back_in_every_form() {
    let days = (1912i32..=2910, 1u32..=12, 1u32..=31)
        .prop_filter_map("a calendar day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
    check(CASES, days, |date| {
        let (y, m, d) = (date.year(), date.month(), date.day());
        let roc = y - 1911;
        let forms = [
            format!("{y}-{m:02}-{d:02}"),
            format!("{y}/{m}/{d}"),
            format!("{roc}/{m}/{d}"),
            format!("{roc:03}{m:02}{d:02}"),
            format!("民國{roc}年{m}月{d}日"),
            format!("{y}年{m}月{d}日"),
            full_width(&format!("{roc}/{m:02}/{d:02}")),
        ];
        for form in forms {
            prop_assert_eq!(parse_date(&form), Ok(date), "{}", form);
        }
        Ok(())
    });
}

fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c),
            '/' => '／',
            other => other,
        })
        .collect()
}

#[test]
fn values_from_hostile_text_are_values_or_errors() {
    check(CASES, hostile_text(), |text| {
        if let Ok(hours) = parse_hours(&text) {
            prop_assert!(hours.as_f64() >= 0.0 && hours.as_f64() < 1e9, "{text:?}");
        }
        let _ = parse_yes_no(&text);
        if let Ok(email) = parse_email(&text) {
            prop_assert!(email.contains('@') && !email.contains(char::is_whitespace), "{email:?}");
        }
        Ok(())
    });
}

#[test]
fn cleaning_twice_is_cleaning_once() {
    check(CASES, hostile_text(), |text| {
        let once = clean(&text);
        prop_assert_eq!(clean(&once), once.clone(), "{:?}", text);
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        Ok(())
    });
}

#[test]
fn decoding_random_bytes_gives_clean_text_or_an_error() {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        hostile_text().prop_map(String::into_bytes),
        hostile_text().prop_map(|t| {
            let (bytes, _, _) = encoding_rs::BIG5.encode(&t);
            bytes.into_owned()
        }),
    ];
    check(CASES, bytes, |bytes| {
        if let Ok(text) = decode(&bytes) {
            prop_assert!(!text.contains('\r') && !text.contains('\0'), "{text:?}");
        }
        Ok(())
    });
}

const COLUMNS: &[Column] = &[
    Column::required("employee_no", &["員工編號"]),
    Column::required("name", &["姓名"]),
    Column::optional("joined_on", &["到職日"]),
];

/// CSV-looking text: a header that may or may not fit, then rows of hostile
/// cells, some quoted, some very long, some rows very wide.
fn hostile_csv() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        Just("employee_no,name,joined_on".to_string()),
        Just("\u{feff}員工編號,姓名".to_string()),
        Just("name,name".to_string()),
        Just("employee_no".to_string()),
        hostile_text(),
    ];
    let cell = prop_oneof![
        4 => hostile_text(),
        1 => hostile_text().prop_map(|t| format!("\"{}\"", t.replace('"', "\"\""))),
        1 => (1usize..=5_000).prop_map(|n| "長".repeat(n)),
    ];
    let row = prop_oneof![
        8 => prop::collection::vec(cell.clone(), 0..5),
        1 => prop::collection::vec(Just("x".to_string()), 100..2_000),
    ];
    (header, prop::collection::vec(row, 0..6)).prop_map(|(header, rows)| {
        let mut text = header;
        for row in rows {
            text.push('\n');
            text.push_str(&row.join(","));
        }
        text
    })
}

#[test]
fn tables_from_hostile_csv_are_tables_or_errors() {
    check(500, hostile_csv(), |text| {
        for allow_unknown in [false, true] {
            if let Ok(table) = Table::read(&text, COLUMNS, allow_unknown) {
                for row in table.rows() {
                    prop_assert!(row.line >= 2, "data rows start after the header");
                    let _ = row.parse("joined_on", parse_date);
                }
            }
        }
        Ok(())
    });
}

#[test]
fn tables_from_random_text_are_tables_or_errors() {
    check(CASES, any::<String>(), |text| {
        let _ = Table::read(&text, COLUMNS, true);
        Ok(())
    });
}

/// Mapping files are TOML an admin writes: sections of column names,
/// value translations and defaults.
fn hostile_mapping() -> impl Strategy<Value = String> {
    let section = prop_oneof![
        Just("[columns]"),
        Just("[defaults]"),
        Just("[values.security_category]"),
        Just("[values.platform]"),
        Just("[values.nosuchfield]"),
        Just("[other]"),
    ];
    let key = prop_oneof![
        Just("employee_no".to_string()),
        Just("hours".to_string()),
        Just("completed_on".to_string()),
        Just("platform".to_string()),
        Just("\"*\"".to_string()),
        Just("\"522\"".to_string()),
        "[a-z_]{1,12}",
    ];
    let value = hostile_piece().prop_map(|v| format!("{v:?}"));
    let line = (key, value).prop_map(|(key, value)| format!("{key} = {value}"));
    let block = (section, prop::collection::vec(line, 0..5))
        .prop_map(|(section, lines)| format!("{section}\n{}", lines.join("\n")));
    prop_oneof![
        4 => prop::collection::vec(block, 0..4).prop_map(|blocks| blocks.join("\n")),
        1 => hostile_text(),
    ]
}

#[test]
fn mappings_from_hostile_text_are_mappings_or_errors() {
    check(CASES, hostile_mapping(), |text| {
        let _ = Mapping::parse(&text);
        Ok(())
    });
}
