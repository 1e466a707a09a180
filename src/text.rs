//! Text folding shared by search, duplicate checks and imports.

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
}
