//! Text folding shared by search, duplicate checks and imports, and the
//! counts that summaries print.

use unicode_normalization::UnicodeNormalization;

/// Folds text so that full-width and half-width forms, letter case and runs of
/// white space (including the ideographic space U+3000) compare equal.
///
/// NFKC maps full-width Latin letters, digits and punctuation to their ASCII
/// forms; lower-casing and space collapsing do the rest.
pub fn fold(text: &str) -> String {
    let normalized: String = text.nfkc().flat_map(char::to_lowercase).collect();
    normalized.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A `LIKE` pattern matching any text that contains `needle`, with `\` as the
/// escape character so that `%` and `_` in the needle match themselves.
pub fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `1 row`, `3 rows`: a count with its noun in the right number. Summaries
/// that people read (the CLI, the audit log) go through this, since `1 rows`
/// or `1 were created` reads as a fault.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    let noun = if n == 1 { singular } else { plural };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_and_spaces() {
        assert_eq!(fold("ＰＹＴＨＯＮ　基礎"), "python 基礎");
        assert_eq!(fold("  Power BI  全方位入門（一）"), "power bi 全方位入門(一)");
        assert_eq!(fold("UI_UX"), "ui_ux");
    }

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(contains_pattern("ui_ux"), "%ui\\_ux%");
        assert_eq!(contains_pattern("100%"), "%100\\%%");
    }

    #[test]
    fn counts_take_the_noun_in_the_right_number() {
        assert_eq!(count(0, "row", "rows"), "0 rows");
        assert_eq!(count(1, "row", "rows"), "1 row");
        assert_eq!(count(2, "person", "people"), "2 people");
        assert_eq!(count(1, "person", "people"), "1 person");
    }
}
