//! Cleaning cells and reading the simple values found in them.
//!
//! Every parser returns the reason as a `String` that reads after the field
//! name (`row 7, hours: must be a number of hours ...`), so that callers only
//! add the row and the column key. Parsers clean their input again, which is
//! harmless because cleaning is idempotent, so they also accept raw text.

use unicode_normalization::UnicodeNormalization;

use crate::hours::Hours;

/// The longest part of a cell quoted back in an error message, in characters:
/// enough to recognise the value without repeating a pasted paragraph.
const MAX_QUOTED_CHARS: usize = 40;

/// The longest e-mail address that mail systems accept (RFC 5321).
const MAX_EMAIL_CHARS: usize = 254;
/// The longest name of a person or unit: the longest agency names run to
/// about 30 characters, and a longer cell is a pasted paragraph.
pub const MAX_NAME_CHARS: usize = 200;

/// Cleans a cell as typed in Excel: folds full-width digits, letters,
/// punctuation and the ideographic space U+3000 to ASCII (NFKC), drops
/// invisible characters, trims, and collapses inner runs of white space.
///
/// Case is kept: names and codes are stored as written. NFKC leaves Chinese
/// characters alone apart from mapping compatibility ideographs to their
/// unified forms, which is what Big5's duplicate characters need anyway.
///
/// Invisible characters go before folding: dropped after it, one between a
/// letter and a combining accent would leave the two uncomposed until the
/// next cleaning, and cleaning would not be idempotent.
pub fn clean(cell: &str) -> String {
    let folded: String = cell.chars().filter(|c| !is_invisible(*c)).nfkc().collect();

    let mut cleaned = String::with_capacity(folded.len());
    for word in folded.split_whitespace() {
        if !cleaned.is_empty() {
            cleaned.push(' ');
        }
        cleaned.push_str(word);
    }
    cleaned
}

/// Characters that copy-and-paste leaves in cells and nobody means to type: a
/// byte-order mark in the first header, zero-width spaces from web pages.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{feff}' | '\u{200b}' | '\u{2060}')
}

/// Parses hours written as a decimal with at most two places (`2`, `1.5`).
pub fn parse_hours(text: &str) -> Result<Hours, String> {
    let text = clean(text);
    Hours::read(&text).map_err(|why| match why.reason() {
        Some(reason) => format!("{} {reason}", quote(&text)),
        None => format!("must be a number of hours such as 2 or 1.5, not {}", quote(&text)),
    })
}

/// Parses a yes/no cell; a blank cell is `None`, so that the caller decides
/// whether blank means "no" or "not given".
///
/// Accepted, in any case: yes/no, y/n, true/false, 是/否, 有/無, 1/0.
pub fn parse_yes_no(text: &str) -> Result<Option<bool>, String> {
    let text = clean(text);
    match text.to_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "是" | "有" | "1" => Ok(Some(true)),
        "no" | "n" | "false" | "否" | "無" | "0" => Ok(Some(false)),
        _ => Err(format!(
            "must be yes or no (Y/N, 是/否, 有/無, 1/0), not {}",
            quote(&text)
        )),
    }
}

/// A person's or unit's name: one line of at most [`MAX_NAME_CHARS`]
/// characters. A line break or other control character, which a quoted
/// spreadsheet cell can hold, would split the name across the lines of a CSV
/// report and of a message's greeting.
pub fn parse_name(text: &str) -> Result<String, String> {
    let count = text.chars().count();
    if count > MAX_NAME_CHARS {
        return Err(format!(
            "is {count} characters long; a name may have at most {MAX_NAME_CHARS}"
        ));
    }
    if let Some(held) = hidden_character(text) {
        return Err(format!("holds {held}; a name is one line of text"));
    }
    Ok(text.to_string())
}

/// The first character of `text` that a reader would not see for what it
/// is, described: a control character (a line break, a tab, U+0001), or an
/// invisible formatting character: a zero-width space or joiner, a byte
/// order mark, or a bidirectional override, which shows the text after it
/// reversed (a title in a reminder could then read as something else).
/// Names and course titles refuse them.
pub fn hidden_character(text: &str) -> Option<String> {
    let c = text.chars().find(|&c| c.is_control() || is_invisible_format(c))?;
    Some(match c {
        '\n' | '\r' => "a line break".to_string(),
        '\t' => "a tab".to_string(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("the invisible formatting character U+{:04X}", c as u32),
    })
}

/// Zero-width characters, directional marks, embeddings, overrides and
/// isolates, and the byte order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Checks an e-mail address pragmatically and returns it lowercased.
///
/// This is not RFC 5322: it catches what goes wrong in spreadsheets (a name
/// in the e-mail column, two addresses in one cell, a missing domain), not
/// every address a mail server would refuse. Lowercasing lets the same person
/// typed twice with different case be recognised as one.
pub fn parse_email(text: &str) -> Result<String, String> {
    let text = clean(text);
    let fail = || {
        format!(
            "{} is not an e-mail address such as name@mail.taipei.gov.tw",
            quote(&text)
        )
    };

    if text.chars().count() > MAX_EMAIL_CHARS || text.chars().any(|c| c.is_whitespace() || is_forbidden_in_email(c)) {
        return Err(fail());
    }

    let (local, domain) = text.split_once('@').ok_or_else(fail)?;
    if local.is_empty() || !is_domain(domain) {
        return Err(fail());
    }

    Ok(text.to_lowercase())
}

/// Characters that in a spreadsheet cell mean a list or a display name
/// (`王小明 <a@b.tw>`, `a@b.tw; c@d.tw`) rather than one plain address.
fn is_forbidden_in_email(c: char) -> bool {
    c.is_control() || matches!(c, ',' | ';' | ':' | '<' | '>' | '(' | ')' | '[' | ']' | '"' | '\\')
}

/// A domain of at least two non-empty dot-separated labels and no second `@`.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2 && labels.iter().all(|label| !label.is_empty() && !label.contains('@'))
}

/// Employee numbers are letters, digits and `-`; upper case is the canonical
/// form so that `e1001` and `E1001` are one person, in every file.
pub fn parse_employee_no(text: &str) -> Result<String, String> {
    let no = text.trim().to_ascii_uppercase();
    if no.is_empty() || no.len() > 32 || !no.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "{} is not an employee number (letters, digits and -, at most 32)",
            quote(text)
        ));
    }
    Ok(no)
}

/// Keeps a parsed value, or records its error so that the row's other cells
/// are still checked and every problem of a file is reported at once.
pub(crate) fn keep<T>(
    errors: &mut Vec<crate::error::FieldError>,
    result: Result<T, crate::error::FieldError>,
) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// A cell's text in quotes for an error message, shortened if very long.
pub(crate) fn quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED_CHARS {
        return format!("\"{text}\"");
    }
    let head: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    format!("\"{head}…\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invisible_character_between_a_letter_and_its_accent_cleans_once() {
        let once = clean("e\u{200b}\u{301}");

        assert_eq!(once, "\u{e9}");
        assert_eq!(clean(&once), once);
    }

    #[test]
    fn folds_full_width_digits_letters_and_punctuation() {
        assert_eq!(clean("Ａ００１"), "A001");
        assert_eq!(clean("１１５／０３／１５"), "115/03/15");
        assert_eq!(clean("ｗａｎｇ＠ｍａｉｌ．ｔａｉｐｅｉ"), "wang@mail.taipei");
        assert_eq!(clean("（一）"), "(一)");
    }

    #[test]
    fn keeps_case_and_chinese() {
        assert_eq!(clean("Power BI"), "Power BI");
        assert_eq!(clean("王小明"), "王小明");
        assert_eq!(clean("資訊局 資訊管理科"), "資訊局 資訊管理科");
    }

    #[test]
    fn folds_ideographic_space_and_collapses_white_space() {
        assert_eq!(clean("王\u{3000}小明"), "王 小明");
        assert_eq!(clean("\u{3000}\u{3000}A001\u{3000}"), "A001");
        assert_eq!(clean("  Power \t  BI \n 入門  "), "Power BI 入門");
        assert_eq!(clean("a\u{a0}b"), "a b");
    }

    #[test]
    fn drops_invisible_characters() {
        assert_eq!(clean("\u{feff}員工編號"), "員工編號");
        assert_eq!(clean("A0\u{200b}01"), "A001");
    }

    #[test]
    fn blank_cells_clean_to_empty() {
        assert_eq!(clean(""), "");
        assert_eq!(clean(" \u{3000}\t "), "");
    }

    #[test]
    fn cleaning_is_idempotent() {
        for cell in ["Ａ００１", " 王\u{3000}小明 ", "ｗａｎｇ＠ｍａｉｌ", "①②", "ｶﾀｶﾅ"] {
            let once = clean(cell);
            assert_eq!(clean(&once), once, "{cell}");
        }
    }

    #[test]
    fn parses_hours() {
        assert_eq!(parse_hours("2"), Ok(Hours::whole(2)));
        assert_eq!(parse_hours(" 1.5 "), Ok(Hours::from_centihours(150)));
        assert_eq!(parse_hours("０．５"), Ok(Hours::from_centihours(50)));
    }

    #[test]
    fn rejects_hours_that_are_not_numbers() {
        for text in ["", "two", "1,5", "2 hours"] {
            let reason = parse_hours(text).unwrap_err();
            assert!(
                reason.contains("must be a number of hours such as 2 or 1.5"),
                "{text}: {reason}"
            );
            assert!(reason.contains(&format!("\"{}\"", clean(text))), "{text}: {reason}");
        }
        assert_eq!(parse_hours("-1").unwrap_err(), "\"-1\" must be more than 0");
        assert_eq!(
            parse_hours("1.255").unwrap_err(),
            "\"1.255\" has more than two decimals; round it to hundredths, such as 1.25"
        );
    }

    #[test]
    fn parses_yes_and_no() {
        for yes in ["yes", "YES", "Y", "y", "true", "True", "是", "有", "1", "１", " Yes "] {
            assert_eq!(parse_yes_no(yes), Ok(Some(true)), "{yes}");
        }
        for no in ["no", "No", "N", "n", "false", "FALSE", "否", "無", "0", "ｎｏ"] {
            assert_eq!(parse_yes_no(no), Ok(Some(false)), "{no}");
        }
    }

    #[test]
    fn blank_yes_no_is_none() {
        assert_eq!(parse_yes_no(""), Ok(None));
        assert_eq!(parse_yes_no(" \u{3000} "), Ok(None));
    }

    #[test]
    fn rejects_other_yes_no_values() {
        for text in ["maybe", "2", "yes please", "x"] {
            let reason = parse_yes_no(text).unwrap_err();
            assert!(reason.starts_with("must be yes or no"), "{text}: {reason}");
            assert!(reason.contains(&format!("\"{text}\"")), "{text}: {reason}");
        }
    }

    #[test]
    fn accepts_and_lowercases_emails() {
        assert_eq!(
            parse_email("Wang.XM@mail.Taipei.gov.tw"),
            Ok("wang.xm@mail.taipei.gov.tw".into())
        );
        assert_eq!(parse_email(" a+b@example.com "), Ok("a+b@example.com".into()));
        assert_eq!(
            parse_email("ｗａｎｇ＠ｍａｉｌ．ｔａｉｐｅｉ．ｇｏｖ．ｔｗ"),
            Ok("wang@mail.taipei.gov.tw".into())
        );
    }

    #[test]
    fn rejects_bad_emails() {
        let bad = [
            "",
            "wang",
            "@mail.taipei.gov.tw",
            "wang@",
            "wang@localhost",
            "wang@mail..gov.tw",
            "wang@.tw",
            "wang@tw.",
            "wang@@mail.gov.tw",
            "a@b@mail.gov.tw",
            "wang xm@mail.gov.tw",
            "王小明 <wang@mail.gov.tw>",
            "a@b.tw; c@d.tw",
            "a@b.tw,c@d.tw",
        ];
        for text in bad {
            let reason = parse_email(text).unwrap_err();
            assert!(reason.contains("is not an e-mail address"), "{text}: {reason}");
        }
    }

    #[test]
    fn rejects_overlong_emails() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(parse_email(&long).is_err());
    }

    #[test]
    fn a_name_is_one_line_of_text() {
        assert_eq!(parse_name("王小明").as_deref(), Ok("王小明"));
        assert_eq!(parse_name("Ann O'Neil-Chen").as_deref(), Ok("Ann O'Neil-Chen"));
        for (name, held) in [
            ("王\n小明", "a line break"),
            ("王小明\r", "a line break"),
            ("王\t小明", "a tab"),
            ("王\u{7}小明", "the control character U+0007"),
            ("王小明\u{7F}", "the control character U+007F"),
            ("王\u{200B}小明", "the invisible formatting character U+200B"),
            ("\u{202E}明小王", "the invisible formatting character U+202E"),
            ("\u{FEFF}王小明", "the invisible formatting character U+FEFF"),
        ] {
            assert_eq!(
                parse_name(name),
                Err(format!("holds {held}; a name is one line of text")),
                "{name:?}"
            );
        }
    }

    #[test]
    fn quotes_long_cells_shortened() {
        assert_eq!(quote("短"), "\"短\"");
        let long = "字".repeat(100);
        let quoted = quote(&long);
        assert_eq!(quoted.chars().count(), MAX_QUOTED_CHARS + 3);
        assert!(quoted.ends_with("…\""));
    }
}
