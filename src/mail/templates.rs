//! Rendering messages from the repository's templates, compiled into the
//! binary. Each message has a subject, a plain-text and an HTML template, in
//! Traditional Chinese (`zh`, the default) and English (`en`).

use std::sync::LazyLock;

use minijinja::{Environment, Value};

use crate::error::{Error, Result};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "reminder.zh.subject.j2",
    "reminder.zh.txt.j2",
    "reminder.zh.html.j2",
    "reminder.en.subject.j2",
    "reminder.en.txt.j2",
    "reminder.en.html.j2",
    "digest.zh.subject.j2",
    "digest.zh.txt.j2",
    "digest.zh.html.j2",
    "digest.en.subject.j2",
    "digest.en.txt.j2",
    "digest.en.html.j2",
];

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The languages messages are written in; anything else falls back to `zh`.
pub fn language(code: &str) -> &'static str {
    if code.eq_ignore_ascii_case("en") { "en" } else { "zh" }
}

/// The templates, parsed once per process: a quarterly run renders tens of
/// thousands of messages, and parsing twelve templates for each one cost more
/// than rendering it.
static ENVIRONMENT: LazyLock<std::result::Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|e| e.to_string())?;
    }
    Ok(env)
});

fn environment() -> Result<&'static Environment<'static>> {
    ENVIRONMENT
        .as_ref()
        .map_err(|e| Error::Internal(format!("template: {e}")))
}

/// Renders `kind` (`reminder` or `digest`) in a language. HTML templates are
/// auto-escaped (by their `.html` suffix); text and subjects are not.
pub fn render(kind: &str, language_code: &str, context: Value) -> Result<Rendered> {
    let env = environment()?;
    let lang = language(language_code);
    let get = |part: &str| -> Result<String> {
        env.get_template(&format!("{kind}.{lang}.{part}.j2"))
            .and_then(|t| t.render(&context))
            .map_err(template_error)
    };
    Ok(Rendered {
        subject: get("subject")?.trim().to_string(),
        text: get("txt")?,
        html: get("html")?,
    })
}

fn template_error(e: minijinja::Error) -> Error {
    Error::Internal(format!("template: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        environment().unwrap();
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let context = minijinja::context! {
            name => "A&B", year => 2026, quarter => 1, as_of => "2026-03-31", deadline => "2026-12-31",
            total_shortfall => "3", lines => Vec::<Value>::new(), courses => Vec::<Value>::new(),
        };
        let rendered = render("reminder", "zh", context).unwrap();
        assert_eq!(rendered.subject, "2026 年第 1 季資通職能訓練時數提醒：尚缺 3 小時");
        assert!(rendered.text.starts_with("A&B 您好"));
        assert!(rendered.html.contains("A&amp;B 您好"));
    }

    #[test]
    fn an_english_digest_counts_one_person_or_several() {
        let report = minijinja::context! {
            name => "Lin", employee_no => "P1", shortfall => "2",
            behind_labels_zh => "管理面", behind_labels_en => "Management",
        };
        let digest = |reports: Vec<Value>| {
            let context = minijinja::context! {
                name => "Lee", year => 2026, quarter => 1, as_of => "2026-03-31", deadline => "2026-12-31", reports,
            };
            render("digest", "en", context).unwrap().text
        };

        assert!(digest(vec![report.clone()]).contains("1 person you supervise is behind"));
        assert!(digest(vec![report.clone(), report]).contains("2 people you supervise are behind"));
    }

    #[test]
    fn unknown_languages_fall_back_to_chinese() {
        assert_eq!(language("EN"), "en");
        assert_eq!(language("fr"), "zh");
    }
}
