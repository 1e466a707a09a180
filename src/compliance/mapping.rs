//! A mapping file: how to read another platform's export as a completions file.
//!
//! Training platforms export their own columns under their own names, with
//! their own codes in the cells. An admin describes one export once, in TOML:
//!
//! ```toml
//! # examples/mappings/elearn-hrd.toml
//! [columns]                 # which of the export's columns holds each field
//! employee_no = "人員代號"
//! course_title = "課程名稱"
//! hours = "認證時數"
//! completed_on = "完成日期"
//! security_category = "課程類別代碼"
//! level = ""                # "": the export has no such column; ignore one with the usual names
//!
//! [values.security_category] # cells translated before they are parsed
//! "522" = "general"
//! "523" = "professional"
//! "*" = ""                  # any other non-blank cell: blank
//!
//! [defaults]                # what a blank (or missing) cell means
//! platform = "hrd_elearn"
//! ```
//!
//! The keys are those of the completions import (`employee_no`, `course_code`,
//! `course_title`, `platform`, `facet`, `level`, `security_category`, `hours`,
//! `completed_on`). A column the mapping names is found by that header only
//! (or by its key), never by the built-in Chinese aliases, so that an export
//! with both `課程類別` and `課程類別代碼` is read from the one named. Other
//! columns of the export are ignored. A cell is read as: the cleaned cell,
//! translated by `values` (compared ignoring case and full-width forms; `"*"`
//! catches every other non-blank cell; a translation to `""` makes it blank),
//! then, if blank, the `defaults` value. Translations and defaults are checked
//! when the mapping is read, so a typing error in them is a mapping error, not
//! an error on every row.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::completions::{COLUMNS, check_value};
use crate::error::{Error, FieldError, Result};
use crate::import::value::quote;
use crate::import::{Column, clean};
use crate::text;

/// The field every mapping error is reported on.
pub const FIELD: &str = "mapping";

/// The `values` key that catches every cell not listed.
const ANY_OTHER: &str = "*";

/// A parsed, checked mapping file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// `(key, header)`: where the export keeps each field; an empty header
    /// means the export has no such column.
    columns: Vec<(&'static str, String)>,
    values: HashMap<&'static str, ValueMap>,
    defaults: HashMap<&'static str, String>,
}

/// The translations of one column's cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ValueMap {
    /// Folded cell → value as the import reads it.
    by_cell: HashMap<String, String>,
    /// The value of every other non-blank cell, from the `"*"` key.
    any_other: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
}

impl Mapping {
    /// Reads a mapping file; every problem is an error on field `mapping`
    /// naming the TOML key (`columns.hours: ...`).
    pub fn parse(text: &str) -> Result<Mapping> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            Error::BadInput(vec![FieldError::new(
                FIELD,
                format!("is not a valid mapping file: {}", e.to_string().trim_end()),
            )])
        })?;

        let mut errors = Vec::new();
        let mut mapping = Mapping::default();

        let mut headers: HashMap<String, &'static str> = HashMap::new();
        for (key, header) in &raw.columns {
            let Some(column) = column(key, "columns", &mut errors) else {
                continue;
            };
            let header = clean(header);
            if header.is_empty() {
                if column.required {
                    errors.push(mapping_error(format!(
                        "columns.{key}: cannot be \"\": every completions file needs a {key} column"
                    )));
                    continue;
                }
            } else if let Some(other) = headers.insert(header_key(&header), column.key) {
                errors.push(mapping_error(format!(
                    "columns.{key}: {} is already the column of {other}",
                    quote(&header)
                )));
                continue;
            }
            mapping.columns.push((column.key, header));
        }

        for (key, table) in &raw.values {
            let Some(column) = column(key, "values", &mut errors) else {
                continue;
            };
            let mut map = ValueMap::default();
            for (from, to) in table {
                let to = clean(to);
                if !to.is_empty()
                    && let Err(reason) = check_value(column.key, &to)
                {
                    errors.push(mapping_error(format!("values.{key}.{}: {reason}", quote(from))));
                    continue;
                }
                if from.trim() == ANY_OTHER {
                    map.any_other = Some(to);
                    continue;
                }
                let folded = text::fold(&clean(from));
                if folded.is_empty() {
                    errors.push(mapping_error(format!(
                        "values.{key}: a blank cell cannot be translated; use [defaults] {key} instead"
                    )));
                } else if map.by_cell.insert(folded, to).is_some() {
                    errors.push(mapping_error(format!(
                        "values.{key}.{}: is listed twice (case and full-width forms do not count)",
                        quote(from)
                    )));
                }
            }
            mapping.values.insert(column.key, map);
        }

        for (key, value) in &raw.defaults {
            let Some(column) = column(key, "defaults", &mut errors) else {
                continue;
            };
            let value = clean(value);
            if value.is_empty() {
                errors.push(mapping_error(format!(
                    "defaults.{key}: must not be blank; leave the key out instead"
                )));
            } else if let Err(reason) = check_value(column.key, &value) {
                errors.push(mapping_error(format!("defaults.{key}: {reason}")));
            } else {
                mapping.defaults.insert(column.key, value);
            }
        }

        if errors.is_empty() {
            Ok(mapping)
        } else {
            Err(Error::BadInput(errors))
        }
    }

    /// `(key, header)` for each column the mapping names, for
    /// [`crate::import::Table::read_with`]; columns mapped to `""` are left out.
    pub fn extra_aliases(&self) -> Vec<(&'static str, String)> {
        self.columns
            .iter()
            .filter(|(_, header)| !header.is_empty())
            .cloned()
            .collect()
    }

    /// The header the mapping names for a key: `None` when it names none,
    /// `Some("")` when the export has no such column.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.columns.iter().find(|(k, _)| *k == key).map(|(_, h)| h.as_str())
    }

    /// The columns to read the export with: a mapped column is found by its
    /// mapped header only (no built-in aliases), a column mapped to `""` is
    /// not read at all, and a column with a default need not be present.
    pub fn columns_for(&self, columns: &[Column]) -> Vec<Column> {
        columns
            .iter()
            .filter(|c| self.header(c.key) != Some(""))
            .map(|c| Column {
                key: c.key,
                aliases: if self.header(c.key).is_some() { &[] } else { c.aliases },
                required: c.required && !self.defaults.contains_key(c.key),
            })
            .collect()
    }

    /// The value of a cell as the import reads it: the cleaned cell (`None`
    /// when blank or absent), translated, then defaulted when blank.
    pub fn apply(&self, key: &str, cell: Option<&str>) -> Option<String> {
        let translated = match (cell, self.values.get(key)) {
            (Some(cell), Some(map)) => map
                .by_cell
                .get(&text::fold(cell))
                .or(map.any_other.as_ref())
                .cloned()
                .unwrap_or_else(|| cell.to_string()),
            (Some(cell), None) => cell.to_string(),
            (None, _) => String::new(),
        };
        if !translated.is_empty() {
            return Some(translated);
        }
        self.defaults.get(key).cloned()
    }
}

/// The import's column for a mapping key, or an error naming the keys.
fn column(key: &str, table: &str, errors: &mut Vec<FieldError>) -> Option<&'static Column> {
    let found = COLUMNS.iter().find(|c| c.key == key.trim());
    if found.is_none() {
        let keys: Vec<&str> = COLUMNS.iter().map(|c| c.key).collect();
        errors.push(mapping_error(format!(
            "{table}.{key}: {} is not a column of the completions import; the columns are {}",
            quote(key),
            keys.join(", ")
        )));
    }
    found
}

fn mapping_error(reason: String) -> FieldError {
    FieldError::new(FIELD, reason)
}

/// Headers compare as [`crate::import::Table`] compares them: folded, without
/// spaces, `_` and `-`.
fn header_key(name: &str) -> String {
    text::fold(name)
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HRD: &str = r#"
# an export of e等公務園+學習平臺
[columns]
employee_no = "人員代號"
course_title = "課程名稱"
hours = "認證時數"
completed_on = "完成日期"
security_category = "課程類別代碼"

[values.security_category]
"522" = "general"
"523" = "professional"

[defaults]
platform = "hrd_elearn"
"#;

    fn mapping_errors(text: &str) -> Vec<String> {
        match Mapping::parse(text) {
            Err(Error::BadInput(errors)) => {
                assert!(errors.iter().all(|e| e.field == FIELD && e.row.is_none()), "{errors:?}");
                errors.into_iter().map(|e| e.reason).collect()
            }
            other => panic!("expected a mapping error, got {other:?}"),
        }
    }

    #[test]
    fn reads_the_example_mapping() {
        let mapping = Mapping::parse(HRD).expect("valid");
        assert_eq!(mapping.header("employee_no"), Some("人員代號"));
        assert_eq!(mapping.header("facet"), None);
        assert_eq!(mapping.extra_aliases().len(), 5);
        assert_eq!(
            mapping.apply("security_category", Some("522")).as_deref(),
            Some("general")
        );
        assert_eq!(
            mapping.apply("security_category", Some("523")).as_deref(),
            Some("professional")
        );
        assert_eq!(mapping.apply("platform", None).as_deref(), Some("hrd_elearn"));
    }

    #[test]
    fn the_example_file_is_valid() {
        let text = include_str!("../../examples/mappings/elearn-hrd.toml");
        assert!(Mapping::parse(text).is_ok());
    }

    #[test]
    fn cells_not_listed_pass_through_and_blanks_stay_blank() {
        let mapping = Mapping::parse(HRD).expect("valid");
        assert_eq!(
            mapping.apply("security_category", Some("general")).as_deref(),
            Some("general")
        );
        assert_eq!(mapping.apply("security_category", None), None);
        assert_eq!(
            mapping.apply("course_title", Some("資料庫概論")).as_deref(),
            Some("資料庫概論")
        );
        assert_eq!(
            mapping.apply("platform", Some("taipei_elearning")).as_deref(),
            Some("taipei_elearning")
        );
    }

    #[test]
    fn translations_ignore_case_and_width() {
        let mapping = Mapping::parse("[values.facet]\n\"Tech\" = \"technical\"\n").expect("valid");
        assert_eq!(mapping.apply("facet", Some("TECH")).as_deref(), Some("technical"));
        assert_eq!(mapping.apply("facet", Some("ｔｅｃｈ")).as_deref(), Some("technical"));
    }

    #[test]
    fn any_other_catches_the_rest_and_blank_translations_fall_to_defaults() {
        let text = r#"
[values.security_category]
"522" = "general"
"*" = ""
[values.platform]
"e大" = ""
[defaults]
platform = "taipei_elearning"
"#;
        let mapping = Mapping::parse(text).expect("valid");
        assert_eq!(
            mapping.apply("security_category", Some("522")).as_deref(),
            Some("general")
        );
        assert_eq!(mapping.apply("security_category", Some("101")), None);
        assert_eq!(
            mapping.apply("platform", Some("e大")).as_deref(),
            Some("taipei_elearning")
        );
    }

    #[test]
    fn mapped_columns_lose_their_built_in_aliases() {
        let mapping = Mapping::parse(
            "[columns]\nsecurity_category = \"課程類別代碼\"\nlevel = \"\"\n[defaults]\nhours = \"1\"\n",
        )
        .expect("valid");
        let columns = mapping.columns_for(COLUMNS);
        let find = |key: &str| columns.iter().find(|c| c.key == key).copied();
        assert_eq!(find("security_category").map(|c| c.aliases.len()), Some(0));
        assert!(find("course_title").is_some_and(|c| !c.aliases.is_empty()));
        assert_eq!(find("level"), None, "a column mapped to \"\" is not read");
        assert_eq!(
            find("hours").map(|c| c.required),
            Some(false),
            "a default makes it optional"
        );
        assert_eq!(find("employee_no").map(|c| c.required), Some(true));
        assert_eq!(
            mapping.extra_aliases(),
            vec![("security_category", "課程類別代碼".to_string())]
        );
    }

    #[test]
    fn an_empty_mapping_is_valid() {
        assert_eq!(Mapping::parse("").expect("valid"), Mapping::default());
    }

    #[test]
    fn toml_errors_are_mapping_errors() {
        let reasons = mapping_errors("[columns\nemployee_no = 1");
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].starts_with("is not a valid mapping file: "),
            "{}",
            reasons[0]
        );

        let reasons = mapping_errors("[columns]\nhours = 3\n");
        assert!(reasons[0].contains("string"), "{}", reasons[0]);
    }

    #[test]
    fn unknown_tables_and_keys_are_named() {
        let reasons = mapping_errors("[colums]\nhours = \"時數\"\n");
        assert!(reasons[0].contains("colums"), "{}", reasons[0]);

        let reasons = mapping_errors(
            "[columns]\nemployee = \"人員代號\"\n[values.grade]\n\"1\" = \"A\"\n[defaults]\nsource = \"x\"\n",
        );
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(
            reasons[0].starts_with("columns.employee: \"employee\" is not a column of the completions import; the columns are employee_no, "),
            "{}",
            reasons[0]
        );
        assert!(reasons[1].starts_with("values.grade: "), "{}", reasons[1]);
        assert!(reasons[2].starts_with("defaults.source: "), "{}", reasons[2]);
    }

    #[test]
    fn translations_and_defaults_must_be_values_the_import_accepts() {
        let reasons = mapping_errors(
            "[values.security_category]\n\"522\" = \"genral\"\n[defaults]\nplatform = \"moodle\"\nhours = \"50\"\ncompleted_on = \"soon\"\n",
        );
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(
            reasons[0].starts_with("values.security_category.\"522\": \"genral\" is not a security category"),
            "{}",
            reasons[0]
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("defaults.platform: \"moodle\" is not a platform")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("defaults.hours: must be at most 40")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.starts_with("defaults.completed_on: ")),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_header_may_hold_one_field_and_required_columns_cannot_be_dropped() {
        let reasons = mapping_errors("[columns]\ncourse_title = \"課程\"\ncourse_code = \"課 程\"\nhours = \"\"\n");
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons.iter().any(|r| r.contains("is already the column of")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.starts_with("columns.hours: cannot be \"\"")),
            "{reasons:?}"
        );
    }

    #[test]
    fn listing_a_cell_twice_is_an_error() {
        let reasons = mapping_errors("[values.level]\n\"a\" = \"A\"\n\"Ａ\" = \"A\"\n");
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].contains("is listed twice"), "{}", reasons[0]);
    }
}
