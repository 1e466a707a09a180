//! Reading a course's platform and platform code from its link.

use entity::Platform;
use url::Url;

/// The platform a link belongs to and the course's code there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseLink {
    pub platform: Platform,
    pub code: Option<String>,
}

/// Parses a course link. Links to the two known platforms must name a course in
/// one of the forms those platforms use:
/// - `elearning.taipei/elearn/courseinfo/so.php?v=4230`
/// - `elearn.hrd.gov.tw/mooc/course_share.php?code=…` or `elearn.hrd.gov.tw/info/10028195`
///
/// Any other http(s) host is platform `Other`, with no code.
pub fn parse(link: &str) -> Result<CourseLink, String> {
    let url = Url::parse(link.trim()).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    let host = url.host_str().ok_or("has no host")?.to_ascii_lowercase();

    match host.trim_start_matches("www.") {
        "elearning.taipei" => taipei_code(&url).map(|code| known(Platform::TaipeiElearning, code)),
        "elearn.hrd.gov.tw" => hrd_code(&url).map(|code| known(Platform::HrdElearn, code)),
        _ => Ok(CourseLink {
            platform: Platform::Other,
            code: None,
        }),
    }
}

fn known(platform: Platform, code: String) -> CourseLink {
    CourseLink {
        platform,
        code: Some(code),
    }
}

fn query_value(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

fn taipei_code(url: &Url) -> Result<String, String> {
    query_value(url, "v")
        .filter(|v| v.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| "an elearning.taipei link must name its course as ?v=<number>".into())
}

fn hrd_code(url: &Url) -> Result<String, String> {
    if let Some(code) = query_value(url, "code").filter(|c| c.chars().all(|c| c.is_ascii_alphanumeric())) {
        return Ok(code);
    }
    let mut segments = url.path_segments().into_iter().flatten();
    match (segments.next(), segments.next()) {
        (Some("info"), Some(id)) if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => Ok(id.to_string()),
        _ => Err("an elearn.hrd.gov.tw link must name its course as ?code=<id> or /info/<number>".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_taipei_course_numbers() {
        let link = parse("http://elearning.taipei/elearn/courseinfo/so.php?v=4230").unwrap();
        assert_eq!(link, known(Platform::TaipeiElearning, "4230".into()));
    }

    #[test]
    fn reads_both_hrd_forms() {
        let share =
            parse("https://elearn.hrd.gov.tw/mooc/course_share.php?code=ef8b15d2be63bdcb90fd3da188587a1").unwrap();
        assert_eq!(share.code.as_deref(), Some("ef8b15d2be63bdcb90fd3da188587a1"));
        let info = parse("https://elearn.hrd.gov.tw/info/10028195").unwrap();
        assert_eq!(info, known(Platform::HrdElearn, "10028195".into()));
    }

    #[test]
    fn other_hosts_have_no_code() {
        let link = parse("https://www.example.org/course/7").unwrap();
        assert_eq!(
            link,
            CourseLink {
                platform: Platform::Other,
                code: None
            }
        );
    }

    #[test]
    fn rejects_what_is_not_a_course_link() {
        assert!(parse("not a link").is_err());
        assert!(parse("ftp://elearning.taipei/x").is_err());
        assert!(parse("http://elearning.taipei/elearn/courseinfo/so.php").is_err());
        assert!(parse("http://elearning.taipei/elearn/courseinfo/so.php?v=abc").is_err());
        assert!(parse("https://elearn.hrd.gov.tw/mooc/index.php").is_err());
    }
}
