//! Turning the bytes of an uploaded file into text.
//!
//! Excel saves "CSV UTF-8" with a byte-order mark and plain "CSV" in the
//! system code page, which on a Traditional Chinese Windows is Big5 (CP950).
//! Both reach us, so both are accepted; anything else is refused rather than
//! read as garbage.

use std::borrow::Cow;

use crate::error::FieldError;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes an uploaded file as UTF-8 (with or without a byte-order mark) or,
/// failing that, as Big5, and turns CRLF and lone CR line endings into LF.
///
/// A file that is neither is an error on field `file` with no row, so that the
/// user learns to re-save it instead of seeing a list of mangled names.
pub fn decode(bytes: &[u8]) -> Result<String, FieldError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);

    let text = match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => encoding_rs::BIG5
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or_else(not_text)?,
    };

    let text = normalize_newlines(&text).into_owned();
    if let Some(at) = text.find('\0') {
        return Err(nul_at(&text, at));
    }
    Ok(text)
}

/// NUL never occurs in a text CSV. Every other byte of a UTF-16 file
/// ("Unicode text" in Excel) is NUL and would otherwise pass as valid UTF-8,
/// so many of them mean the wrong encoding; a few mean a stray character in
/// an otherwise good file, and the line that holds the first is named.
fn nul_at(text: &str, first: usize) -> FieldError {
    let nuls = text.bytes().filter(|&b| b == 0).count();
    if nuls * 8 >= text.len() {
        return not_text();
    }
    let line = 1 + text[..first].bytes().filter(|&b| b == b'\n').count();
    FieldError::at_row(
        line,
        "file",
        "holds the NUL character (U+0000), which no text file has; delete it and save again",
    )
}

/// Turns CRLF and lone CR (old Mac Excel) line endings into LF, so that line
/// numbers are counted the same way whatever saved the file.
pub fn normalize_newlines(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

fn not_text() -> FieldError {
    FieldError::new(
        "file",
        "the file is neither UTF-8 nor Big5 text; in Excel, save it as \"CSV UTF-8 (逗號分隔)\"",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_nul_names_its_line_and_utf16_is_not_text() {
        let stray = decode("unit_code,name\r\nA,甲\r\nB,乙\0\n".as_bytes()).expect_err("refused");
        assert_eq!((stray.row, stray.field.as_str()), (Some(3), "file"));
        assert!(stray.reason.starts_with("holds the NUL character"), "{}", stray.reason);

        let utf16: Vec<u8> = "unit_code,name\nA,B\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let wrong = decode(&utf16).expect_err("refused");
        assert_eq!(wrong.row, None);
        assert!(
            wrong.reason.starts_with("the file is neither UTF-8 nor Big5"),
            "{}",
            wrong.reason
        );
    }

    #[test]
    fn strips_the_utf8_byte_order_mark() {
        let bytes = "\u{feff}員工編號,姓名\nA001,王小明\n".as_bytes();
        assert_eq!(decode(bytes).unwrap(), "員工編號,姓名\nA001,王小明\n");
    }

    #[test]
    fn reads_utf8_without_byte_order_mark() {
        assert_eq!(decode("姓名\n王小明".as_bytes()).unwrap(), "姓名\n王小明");
    }

    #[test]
    fn reads_big5() {
        let sample = "員工編號,姓名\nA001,王小明\n";
        let (bytes, _, had_errors) = encoding_rs::BIG5.encode(sample);
        assert!(!had_errors);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the sample must not also be valid UTF-8"
        );

        assert_eq!(decode(&bytes).unwrap(), sample);
    }

    #[test]
    fn normalizes_big5_line_endings_too() {
        let (bytes, _, _) = encoding_rs::BIG5.encode("姓名\r\n王小明\r\n");
        assert_eq!(decode(&bytes).unwrap(), "姓名\n王小明\n");
    }

    #[test]
    fn normalizes_crlf_and_lone_cr() {
        assert_eq!(decode(b"a,b\r\n1,2\r\n").unwrap(), "a,b\n1,2\n");
        assert_eq!(decode(b"a,b\r1,2\r").unwrap(), "a,b\n1,2\n");
        assert_eq!(decode(b"a\r\n\r\nb\rc").unwrap(), "a\n\nb\nc");
    }

    #[test]
    fn leaves_text_without_cr_untouched() {
        assert!(matches!(normalize_newlines("a\nb"), Cow::Borrowed("a\nb")));
    }

    #[test]
    fn refuses_bytes_that_are_neither_utf8_nor_big5() {
        // 0xFF is never valid in UTF-8 nor a Big5 lead byte.
        let err = decode(b"name\n\xFF\xFE\n").unwrap_err();
        assert_eq!(err.row, None);
        assert_eq!(err.field, "file");
        assert!(err.reason.contains("neither UTF-8 nor Big5"), "{}", err.reason);
    }

    #[test]
    fn refuses_utf16() {
        let utf16_le: Vec<u8> = "name\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&utf16_le).unwrap_err().field, "file");

        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend(&utf16_le);
        assert_eq!(decode(&with_bom).unwrap_err().field, "file");
    }

    #[test]
    fn accepts_an_empty_file() {
        assert_eq!(decode(b"").unwrap(), "");
        assert_eq!(decode(UTF8_BOM).unwrap(), "");
    }
}
