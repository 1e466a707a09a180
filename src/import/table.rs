//! A CSV file read as a table whose columns are found by their header names.
//!
//! Files come from Excel sheets that people keep and rearrange, so columns are
//! found by name, never by position, and a header may be written in English or
//! Chinese, in any case and width. Cells are [`clean`]ed once here so that
//! every import sees the same text.
//!
//! Errors name the column key and the line of the file where the row starts,
//! counting the header as line 1 and every line of a quoted cell that spans
//! lines. That is Excel's row number as long as no cell above spans lines
//! (almost always: a line break in a cell is rare in these files) and a text
//! editor's line number always, and it is the one a line-based tool reports
//! too; numbering records instead would leave the editor no way to find a
//! row below a multi-line cell.

use std::collections::HashMap;

use super::decode::normalize_newlines;
use super::value::{clean, quote};
use crate::error::FieldError;
use crate::text;

/// The usual cause of a row longer than its header, and its cure.
const QUOTE_COMMAS: &str = "put quotes around values that contain commas";

/// A column an import understands: the key that code and error messages use,
/// and the other header names people write for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

impl Column {
    pub const fn required(key: &'static str, aliases: &'static [&'static str]) -> Self {
        Column {
            key,
            aliases,
            required: true,
        }
    }

    pub const fn optional(key: &'static str, aliases: &'static [&'static str]) -> Self {
        Column {
            key,
            aliases,
            required: false,
        }
    }
}

/// The data rows of a file, with their cells cleaned, and where each known
/// column sits in them.
#[derive(Debug, Clone)]
pub struct Table {
    /// Each present column's key and the index of its cell in a record.
    positions: Vec<(&'static str, usize)>,
    records: Vec<Record>,
}

/// A key (an employee number, a unit code) that a file gives on more than
/// one row: each later row is an error on `field`, naming the first row.
/// `rows` are each row's line and key, in file order.
pub fn repeated_keys<'a>(field: &str, rows: impl IntoIterator<Item = (usize, &'a str)>) -> Vec<FieldError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (line, key) in rows {
        if let Some(first) = seen.insert(key, line) {
            errors.push(FieldError::at_row(line, field, format!("{key} is also on row {first}")));
        }
    }
    errors
}

/// One non-blank line (or several, with quoted line breaks) of the file.
#[derive(Debug, Clone)]
struct Record {
    line: usize,
    cells: Vec<String>,
}

/// One data row of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The 1-based line of the file where the row starts; the header is line 1.
    pub line: usize,
    cells: &'a [String],
    positions: &'a [(&'static str, usize)],
}

impl Table {
    /// Reads decoded text with the given columns. Header names match a
    /// column's key or any alias after [`clean`] and case folding, ignoring
    /// spaces, `_` and `-` (so `Employee_No`, ` employee no ` and `員工編號`
    /// can all name one column).
    ///
    /// Unknown headers are an error unless `allow_unknown` is set, so that a
    /// misspelt optional column is not silently dropped; a missing required
    /// column, a column named twice and an empty file are errors on the
    /// header's line. All problems found are returned together.
    pub fn read(text: &str, columns: &[Column], allow_unknown: bool) -> Result<Table, Vec<FieldError>> {
        Table::read_with(text, columns, &[], allow_unknown)
    }

    /// Like [`Table::read`], with more header names given at run time as
    /// `(key, header)` pairs: the mapping an admin sets up for a platform's
    /// export. These take precedence over the built-in aliases.
    pub fn read_with(
        text: &str,
        columns: &[Column],
        extra_aliases: &[(&str, String)],
        allow_unknown: bool,
    ) -> Result<Table, Vec<FieldError>> {
        let (table, problems) = Table::read_collecting(text, columns, extra_aliases, allow_unknown)?;
        if problems.is_empty() { Ok(table) } else { Err(problems) }
    }

    /// Like [`Table::read_with`], but a problem that still leaves the rows
    /// readable comes back beside the table rather than instead of it, so
    /// that an import can report it together with its rows' errors in one
    /// pass: an unknown or repeated column (its cells are not read; the
    /// first of a repeated column is) and a row with a value past the header
    /// or under a blank header (the row is left out, as its cells have
    /// probably shifted). Only what leaves no rows to check is an `Err`: a
    /// file that is not CSV, an unclosed quote, an empty file, a missing
    /// required column (every row would be missing it too), a bad mapping.
    pub fn read_collecting(
        text: &str,
        columns: &[Column],
        extra_aliases: &[(&str, String)],
        allow_unknown: bool,
    ) -> Result<(Table, Vec<FieldError>), Vec<FieldError>> {
        let names = HeaderNames::new(columns, extra_aliases)?;

        let text = normalize_newlines(text.strip_prefix('\u{feff}').unwrap_or(text));
        if let Some(line) = unclosed_quote_line(&text) {
            return Err(vec![FieldError::at_row(
                line,
                "file",
                "a quoted cell that starts on this line is never closed; check its quote marks",
            )]);
        }

        let mut records = read_records(&text)?.into_iter();
        let header = records.next().ok_or_else(|| {
            vec![FieldError::at_row(
                1,
                "file",
                "is empty; its first line must name the columns",
            )]
        })?;
        let (layout, mut problems) = Layout::from_header(&header, columns, &names, allow_unknown)?;

        let records: Vec<Record> = records
            .filter(|record| match layout.check(record, allow_unknown) {
                Ok(()) => true,
                Err(error) => {
                    problems.push(error);
                    false
                }
            })
            .collect();

        let table = Table {
            positions: layout.positions,
            records,
        };
        Ok((table, problems))
    }

    /// The data rows in file order; fully blank rows are not included.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().map(|record| Row {
            line: record.line,
            cells: &record.cells,
            positions: &self.positions,
        })
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether the file has the column: lets an import tell an optional
    /// column left out (keep what is stored) from one left blank.
    pub fn has(&self, key: &str) -> bool {
        self.positions.iter().any(|(k, _)| *k == key)
    }
}

impl Row<'_> {
    /// The cleaned cell of a column by key; `None` when the column is absent
    /// or the cell is blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        let (_, position) = self.positions.iter().find(|(k, _)| *k == key)?;
        self.cells
            .get(*position)
            .map(String::as_str)
            .filter(|cell| !cell.is_empty())
    }

    /// An error about this row's cell of a column.
    pub fn error(&self, key: &str, reason: impl Into<String>) -> FieldError {
        FieldError::at_row(self.line, key, reason)
    }

    /// Parses an optional cell with one of the value parsers; blank is `None`.
    pub fn parse<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, FieldError> {
        self.get(key)
            .map(parse)
            .transpose()
            .map_err(|reason| self.error(key, reason))
    }

    /// Parses a cell that must not be blank.
    pub fn require<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, FieldError> {
        self.parse(key, parse)?.ok_or_else(|| self.error(key, "is required"))
    }
}

/// Which column each header name stands for.
struct HeaderNames {
    by_name: HashMap<String, &'static str>,
}

impl HeaderNames {
    /// Indexes the keys, the built-in aliases and the run-time ones; a
    /// run-time alias for an unknown key, or one header given two keys, is an
    /// error in the admin's mapping rather than in the file, so it has no row.
    fn new(columns: &[Column], extra_aliases: &[(&str, String)]) -> Result<Self, Vec<FieldError>> {
        let mut by_name = HashMap::new();
        let mut errors = Vec::new();

        for (key, header) in extra_aliases {
            let Some(column) = columns.iter().find(|column| column.key == *key) else {
                errors.push(FieldError::new(
                    *key,
                    format!("is not a column of this import; {}", list(columns)),
                ));
                continue;
            };
            match by_name.get(&header_key(header)) {
                Some(other) if *other != column.key => errors.push(FieldError::new(
                    column.key,
                    format!("cannot also be {}, which is already mapped to {other}", quote(header)),
                )),
                _ => {
                    by_name.insert(header_key(header), column.key);
                }
            }
        }

        for column in columns {
            for name in std::iter::once(&column.key).chain(column.aliases) {
                by_name.entry(header_key(name)).or_insert(column.key);
            }
        }

        if errors.is_empty() {
            Ok(HeaderNames { by_name })
        } else {
            Err(errors)
        }
    }

    fn find(&self, header: &str) -> Option<&'static str> {
        self.by_name.get(&header_key(header)).copied()
    }
}

/// The form in which header names are compared: folded, and without the
/// separators people use interchangeably between words.
fn header_key(name: &str) -> String {
    text::fold(name)
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .collect()
}

/// The columns of a file as its header lays them out.
struct Layout {
    positions: Vec<(&'static str, usize)>,
    /// Indexes of header cells that are blank: Excel leaves them where a
    /// column was once used, so they are allowed as long as they stay empty.
    blank_headers: Vec<usize>,
    width: usize,
}

impl Layout {
    /// The layout and the header's problems that leave the rows readable;
    /// with a required column missing, every problem of the header is the
    /// error.
    fn from_header(
        header: &Record,
        columns: &[Column],
        names: &HeaderNames,
        allow_unknown: bool,
    ) -> Result<(Self, Vec<FieldError>), Vec<FieldError>> {
        let mut positions: Vec<(&'static str, usize)> = Vec::new();
        let mut blank_headers = Vec::new();
        let mut errors = Vec::new();

        for (index, name) in header.cells.iter().enumerate() {
            if name.is_empty() {
                blank_headers.push(index);
                continue;
            }
            match names.find(name) {
                Some(key) => match positions.iter().find(|(k, _)| *k == key) {
                    Some((_, first)) => errors.push(duplicate(header, key, *first, index)),
                    None => positions.push((key, index)),
                },
                None if allow_unknown => {}
                None => errors.push(FieldError::at_row(
                    header.line,
                    "header",
                    format!("{} is not a known column; {}", quote(name), list(columns)),
                )),
            }
        }

        let mut missing = false;
        for column in columns.iter().filter(|column| column.required) {
            if !positions.iter().any(|(key, _)| *key == column.key) {
                missing = true;
                errors.push(FieldError::at_row(
                    header.line,
                    column.key,
                    format!("column is missing; name a column {}", names_of(column)),
                ));
            }
        }

        if missing {
            return Err(errors);
        }
        let layout = Layout {
            positions,
            blank_headers,
            width: header.cells.len(),
        };
        Ok((layout, errors))
    }

    /// A row may be shorter than the header (Excel drops trailing blanks) but
    /// must not put a value where no column is named: past the header, it is
    /// almost always an unquoted comma that shifted the row's cells.
    fn check(&self, record: &Record, allow_unknown: bool) -> Result<(), FieldError> {
        let filled = |index: &usize| record.cells.get(*index).is_some_and(|cell| !cell.is_empty());

        if let Some(index) = (self.width..record.cells.len()).find(filled) {
            let (found, last) = (column_letter(index), column_letter(self.width.saturating_sub(1)));
            return Err(FieldError::at_row(
                record.line,
                "cells",
                format!("has a value in column {found}, past the header's last column {last}; {QUOTE_COMMAS}"),
            ));
        }

        match self.blank_headers.iter().find(|index| filled(index)) {
            Some(index) if !allow_unknown => Err(FieldError::at_row(
                record.line,
                "cells",
                format!("has a value in column {}, which has no header", column_letter(*index)),
            )),
            _ => Ok(()),
        }
    }
}

fn duplicate(header: &Record, key: &str, first: usize, second: usize) -> FieldError {
    let name = |index: usize| header.cells.get(index).map_or(String::new(), |cell| quote(cell));
    FieldError::at_row(
        header.line,
        key,
        format!(
            "column appears twice, as {} in column {} and as {} in column {}",
            name(first),
            column_letter(first),
            name(second),
            column_letter(second),
        ),
    )
}

/// `"employee_no" or "員工編號"`: the names a missing column may have.
fn names_of(column: &Column) -> String {
    let names: Vec<String> = std::iter::once(&column.key)
        .chain(column.aliases)
        .map(|name| quote(name))
        .collect();
    names.join(" or ")
}

/// `the columns are employee_no (員工編號), name (姓名)`: the key and first
/// alias of each column, so that both languages are shown.
fn list(columns: &[Column]) -> String {
    let names: Vec<String> = columns
        .iter()
        .map(|column| match column.aliases.first() {
            Some(alias) => format!("{} ({alias})", column.key),
            None => column.key.to_string(),
        })
        .collect();
    format!("the columns are {}", names.join(", "))
}

/// Excel's name for a 0-based column index: A to Z, then AA, AB, ...
fn column_letter(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// Reads every record with its starting line and cleaned cells, leaving out
/// fully blank ones.
fn read_records(text: &str) -> Result<Vec<Record>, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut records = Vec::new();

    loop {
        let start = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let line = error.position().map_or(start, csv::Position::line);
                return Err(vec![FieldError::at_row(
                    to_usize(line),
                    "file",
                    format!("cannot be read as CSV: {error}"),
                )]);
            }
        }

        let line = record
            .position()
            .map_or(to_usize(start), |position| start_line(text, position));
        let cells: Vec<String> = record.iter().map(clean).collect();
        if cells.iter().any(|cell| !cell.is_empty()) {
            records.push(Record { line, cells });
        }
    }

    Ok(records)
}

/// The line a record really starts on. The csv crate skips empty lines
/// before a record but reports the position from before them, so they are
/// counted here; the text has only LF line endings by now.
fn start_line(text: &str, position: &csv::Position) -> usize {
    let skipped = usize::try_from(position.byte())
        .ok()
        .and_then(|byte| text.get(byte..))
        .map_or(0, |rest| rest.bytes().take_while(|b| *b == b'\n').count());
    to_usize(position.line()).saturating_add(skipped)
}

fn to_usize(line: u64) -> usize {
    usize::try_from(line).unwrap_or(usize::MAX)
}

/// The line on which a quoted cell opens that the file never closes.
///
/// The csv crate reads such a cell to the end of the file, which would fold
/// every later row into one cell without a word; this follows the same rules
/// (a quote opens a cell only at its start, `""` is a quote inside one) to
/// catch it.
fn unclosed_quote_line(text: &str) -> Option<usize> {
    enum State {
        CellStart,
        Unquoted,
        Quoted { opened: usize },
        QuoteInQuoted { opened: usize },
    }

    let mut state = State::CellStart;
    let mut line = 1;
    for c in text.chars() {
        state = match (state, c) {
            (State::CellStart, '"') => State::Quoted { opened: line },
            (State::Quoted { opened }, '"') => State::QuoteInQuoted { opened },
            (State::QuoteInQuoted { opened }, '"') => State::Quoted { opened },
            (state @ State::Quoted { .. }, _) => state,
            (_, ',' | '\n') => State::CellStart,
            _ => State::Unquoted,
        };
        if c == '\n' {
            line += 1;
        }
    }

    match state {
        State::Quoted { opened } => Some(opened),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::date::parse_date;
    use crate::import::decode::decode;

    const STAFF: &[Column] = &[
        Column::required("employee_no", &["員工編號", "員工代號"]),
        Column::required("name", &["姓名"]),
        Column::optional("joined_on", &["到職日期"]),
        Column::optional("note", &["備註"]),
    ];

    fn read(text: &str) -> Table {
        Table::read(text, STAFF, false).unwrap()
    }

    fn read_err(text: &str) -> Vec<FieldError> {
        Table::read(text, STAFF, false).unwrap_err()
    }

    /// Each row's line and its cells for the given keys, blank as "".
    fn cells(table: &Table, keys: &[&str]) -> Vec<(usize, Vec<String>)> {
        table
            .rows()
            .map(|row| {
                (
                    row.line,
                    keys.iter().map(|key| row.get(key).unwrap_or("").to_string()).collect(),
                )
            })
            .collect()
    }

    fn row(line: usize, values: &[&str]) -> (usize, Vec<String>) {
        (line, values.iter().map(|value| value.to_string()).collect())
    }

    #[test]
    fn reads_rows_by_header_name() {
        let table = read("employee_no,name\nA001,王小明\nA002,李大華\n");
        assert_eq!(table.len(), 2);
        assert!(!table.is_empty());
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(2, &["A001", "王小明"]), row(3, &["A002", "李大華"])]
        );
    }

    #[test]
    fn finds_columns_in_any_order() {
        let table = read("姓名,備註,員工編號\n王小明,新進,A001\n");
        assert_eq!(
            cells(&table, &["employee_no", "name", "note"]),
            vec![row(2, &["A001", "王小明", "新進"])]
        );
    }

    #[test]
    fn matches_chinese_headers_and_second_aliases() {
        let table = read("員工代號,姓名\nA001,王小明\n");
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(2, &["A001", "王小明"])]
        );
    }

    #[test]
    fn matches_headers_regardless_of_case_width_spaces_and_separators() {
        for header in [
            "Employee_No",
            " employee_no ",
            "EMPLOYEE NO",
            "employee-no",
            "ＥｍｐｌｏｙｅｅＮｏ",
            "\u{3000}員工編號\u{3000}",
        ] {
            let table = Table::read(&format!("{header},name\nA001,王小明\n"), STAFF, false)
                .unwrap_or_else(|e| panic!("{header:?}: {e:?}"));
            assert_eq!(
                table.rows().next().unwrap().get("employee_no"),
                Some("A001"),
                "{header:?}"
            );
        }
    }

    #[test]
    fn cleans_cells() {
        let table = read("employee_no,name,note\n  Ａ００１ ,王\u{3000}小明,  two   spaces  \n");
        assert_eq!(
            cells(&table, &["employee_no", "name", "note"]),
            vec![row(2, &["A001", "王 小明", "two spaces"])]
        );
    }

    #[test]
    fn blank_cells_and_absent_columns_are_none() {
        let table = read("employee_no,name,note\nA001,王小明, \u{3000} \nA002,李大華\n");
        let rows: Vec<Row<'_>> = table.rows().collect();
        assert_eq!(rows[0].get("note"), None);
        assert_eq!(rows[1].get("note"), None, "a short row's missing cells are blank");
        assert_eq!(rows[0].get("joined_on"), None, "the column is not in the file");
        assert_eq!(rows[0].get("no_such_key"), None);
        assert!(table.has("note"));
        assert!(!table.has("joined_on"));
    }

    #[test]
    fn skips_fully_blank_rows_but_keeps_line_numbers() {
        let table = read("employee_no,name\n\nA001,王小明\n,\n , \u{3000}\nA002,李大華\n\n");
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(3, &["A001", "王小明"]), row(6, &["A002", "李大華"])]
        );
    }

    #[test]
    fn counts_blank_lines_before_the_header_and_after_multi_line_cells() {
        let errors = read_err("\n\nnote\n");
        assert!(errors.iter().all(|e| e.row == Some(3)), "{errors:?}");

        let table = read("\n\nemployee_no,name,note\nA001,王小明,\"a\nb\"\n\n\nA002,李大華\n");
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(4, &["A001", "王小明"]), row(8, &["A002", "李大華"])]
        );
    }

    #[test]
    fn reads_quoted_commas_and_line_breaks_with_real_line_numbers() {
        let text = "employee_no,name,note\nA001,王小明,\"調職, 待確認\"\nA002,李大華,\"第一行\n第二行\n第三行\"\nA003,陳美玲,\"說 \"\"好\"\"\"\n";
        let table = read(text);
        assert_eq!(
            cells(&table, &["employee_no", "name", "note"]),
            vec![
                row(2, &["A001", "王小明", "調職, 待確認"]),
                row(3, &["A002", "李大華", "第一行 第二行 第三行"]),
                row(6, &["A003", "陳美玲", "說 \"好\""]),
            ]
        );
    }

    #[test]
    fn reports_errors_after_a_multi_line_cell_on_the_right_line() {
        let text = "employee_no,name,note\nA001,王小明,\"a\nb\"\nA002,李大華,x,extra\n";
        let errors = read_err(text);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].row, Some(4));
    }

    #[test]
    fn counts_crlf_lines_like_lf() {
        let text = "employee_no,name,note\r\nA001,王小明,\"a\r\nb\"\r\nA002,李大華\r\n";
        let table = read(text);
        assert_eq!(
            cells(&table, &["employee_no", "name", "note"]),
            vec![row(2, &["A001", "王小明", "a b"]), row(4, &["A002", "李大華", ""])]
        );
    }

    #[test]
    fn reads_a_decoded_big5_file() {
        let (bytes, _, _) = encoding_rs::BIG5.encode("員工編號,姓名\r\nA001,王小明\r\n");
        let text = decode(&bytes).unwrap();
        let table = read(&text);
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(2, &["A001", "王小明"])]
        );
    }

    #[test]
    fn reads_text_that_still_has_its_byte_order_mark() {
        let table = read("\u{feff}員工編號,姓名\nA001,王小明\n");
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn unknown_headers_are_errors_unless_allowed() {
        let text = "employee_no,name,部門\nA001,王小明,資訊局\n";
        let errors = read_err(text);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].row, Some(1));
        assert_eq!(errors[0].field, "header");
        assert!(
            errors[0].reason.starts_with("\"部門\" is not a known column"),
            "{}",
            errors[0].reason
        );
        assert!(
            errors[0].reason.contains("employee_no (員工編號)"),
            "{}",
            errors[0].reason
        );

        let table = Table::read(text, STAFF, true).unwrap();
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(2, &["A001", "王小明"])]
        );
    }

    #[test]
    fn problems_that_leave_the_rows_readable_come_beside_the_table() {
        let text = "employee_no,name,部門,姓名\nA001,王小明,資訊局,x\nA002,李,大華,x,extra\nA003,陳美玲\n";
        let (table, problems) = Table::read_collecting(text, STAFF, &[], false).unwrap();

        let found: Vec<(Option<usize>, &str)> = problems.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(found, [(Some(1), "header"), (Some(1), "name"), (Some(3), "cells")]);
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(2, &["A001", "王小明"]), row(4, &["A003", "陳美玲"])],
            "the first of a repeated column is read; a shifted row is left out"
        );
        assert_eq!(
            read_err(text).len(),
            3,
            "read refuses the same file with the same problems"
        );
    }

    #[test]
    fn a_missing_required_column_still_stops_the_read() {
        let errors = Table::read_collecting("name,部門\n王小明,x\n", STAFF, &[], false).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["header", "employee_no"]);
    }

    #[test]
    fn missing_required_columns_are_errors_on_line_one() {
        let errors = read_err("note\nx\n");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["employee_no", "name"]);
        assert!(errors.iter().all(|e| e.row == Some(1)));
        assert_eq!(
            errors[0].reason,
            "column is missing; name a column \"employee_no\" or \"員工編號\" or \"員工代號\""
        );
    }

    #[test]
    fn missing_optional_columns_are_fine() {
        assert_eq!(read("employee_no,name\n").len(), 0);
    }

    #[test]
    fn a_column_named_twice_is_an_error() {
        let errors = read_err("employee_no,name,員工編號\nA001,王小明,A001\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].row, Some(1));
        assert_eq!(errors[0].field, "employee_no");
        assert_eq!(
            errors[0].reason,
            "column appears twice, as \"employee_no\" in column A and as \"員工編號\" in column C"
        );
    }

    #[test]
    fn reports_every_header_problem_at_once() {
        let errors = read_err("姓名,姓名,部門\n");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "header", "employee_no"]);
    }

    #[test]
    fn an_empty_file_is_an_error() {
        for text in ["", "\n\n", " , \n", "\u{feff}"] {
            let errors = read_err(text);
            assert_eq!(
                errors,
                vec![FieldError::at_row(
                    1,
                    "file",
                    "is empty; its first line must name the columns"
                )]
            );
        }
    }

    #[test]
    fn a_row_with_more_cells_than_the_header_is_an_error() {
        let errors = read_err("employee_no,name\nA001,王小明\nA002,李,大華\nA003,陳美玲,,x\n");
        assert_eq!(errors.len(), 2);
        assert_eq!((errors[0].row, errors[0].field.as_str()), (Some(3), "cells"));
        assert!(
            errors[0].reason.contains("column C, past the header's last column B"),
            "{}",
            errors[0].reason
        );
        assert_eq!(errors[1].row, Some(4));
        assert!(errors[1].reason.contains("column D"), "{}", errors[1].reason);
    }

    #[test]
    fn blank_cells_past_the_header_are_tolerated() {
        let table = read("employee_no,name\nA001,王小明,,\u{3000}\n");
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn blank_header_cells_must_stay_empty() {
        assert_eq!(read("employee_no,,name,\nA001,,王小明,\n").len(), 1);

        let errors = read_err("employee_no,,name\nA001,x,王小明\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].row, Some(2));
        assert_eq!(errors[0].reason, "has a value in column B, which has no header");

        assert!(Table::read("employee_no,,name\nA001,x,王小明\n", STAFF, true).is_ok());
    }

    #[test]
    fn an_unclosed_quote_is_an_error_on_its_line() {
        let errors = read_err("employee_no,name,note\nA001,王小明,ok\nA002,李大華,\"never closed\nA003,陳美玲,x\n");
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].row, errors[0].field.as_str()), (Some(3), "file"));
    }

    #[test]
    fn quotes_inside_unquoted_cells_are_literal() {
        let table = read("employee_no,name,note\nA001,王小明,5\" screen\n");
        assert_eq!(table.rows().next().unwrap().get("note"), Some("5\" screen"));
    }

    #[test]
    fn extra_aliases_map_an_export_onto_keys() {
        let extra = [
            ("employee_no", "Staff ID".to_string()),
            ("name", "Full Name".to_string()),
        ];
        let table = Table::read_with("staff_id,FULL NAME\nA001,王小明\n", STAFF, &extra, false).unwrap();
        assert_eq!(
            cells(&table, &["employee_no", "name"]),
            vec![row(2, &["A001", "王小明"])]
        );
    }

    #[test]
    fn extra_aliases_take_precedence_over_built_in_ones() {
        let extra = [("note", "姓名".to_string()), ("name", "學員".to_string())];
        let table = Table::read_with("員工編號,學員,姓名\nA001,王小明,備忘\n", STAFF, &extra, false).unwrap();
        assert_eq!(cells(&table, &["name", "note"]), vec![row(2, &["王小明", "備忘"])]);
    }

    #[test]
    fn extra_aliases_must_name_known_keys_and_not_clash() {
        let errors = Table::read_with("employee_no,name\n", STAFF, &[("dept", "部門".to_string())], false).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].row, errors[0].field.as_str()), (None, "dept"));

        let clash = [("name", "Name".to_string()), ("note", "NAME".to_string())];
        let errors = Table::read_with("employee_no,name\n", STAFF, &clash, false).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "note");
    }

    #[test]
    fn row_helpers_name_the_line_and_key() {
        let table = read("employee_no,name,joined_on\nA001,王小明,115/13/01\nA002,李大華,\nA003,陳美玲,115/3/15\n");
        let rows: Vec<Row<'_>> = table.rows().collect();

        let error = rows[0].parse("joined_on", parse_date).unwrap_err();
        assert_eq!(
            error.to_string(),
            "row 2, joined_on: \"115/13/01\" is not a date: 2026-13-01 is not a calendar date"
        );

        assert_eq!(rows[1].parse("joined_on", parse_date), Ok(None));
        assert_eq!(
            rows[1].require("joined_on", parse_date).unwrap_err().to_string(),
            "row 3, joined_on: is required"
        );

        let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 15);
        assert_eq!(rows[2].require("joined_on", parse_date).ok(), date);
    }

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn finds_unclosed_quotes() {
        assert_eq!(unclosed_quote_line("a,b\n\"x\ny\",z\n"), None);
        assert_eq!(unclosed_quote_line("a,\"b \"\"q\"\" c\"\n"), None);
        assert_eq!(unclosed_quote_line("a,b\"c\n"), None);
        assert_eq!(unclosed_quote_line("a,b\n1,\"open\n2,3\n"), Some(2));
        assert_eq!(unclosed_quote_line("\"a\"\"\n"), Some(1));
    }
}
