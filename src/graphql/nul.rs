//! Text holding the NUL character (U+0000) is refused before anything runs.
//!
//! PostgreSQL cannot store or even compare it (its text types end at a NUL),
//! so a search, a lookup or an import holding one failed there as an internal
//! error while SQLite answered; the CLI's file reader refuses such files too.
//! One check at the door gives both databases, and every argument, the same
//! answer: `BAD_USER_INPUT`.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::{Request, ServerError, ServerResult, Value};

const REFUSAL: &str = "text may not contain the NUL character (U+0000)";

pub struct RefuseNul;

impl ExtensionFactory for RefuseNul {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RefuseNul)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RefuseNul {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let in_variables = request.variables.iter().any(|(_, value)| holds_nul(value));
        if in_variables || query_holds_nul(&request.query) {
            return Err(ServerError::new(REFUSAL, None));
        }
        next.run(ctx, request).await
    }
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::List(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(name, v)| name.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// A NUL in the query text itself, or written as a string escape (`\u0000`
/// or `\u{0}`) that the parser would turn into one. A backslash that is
/// itself escaped (`\\u0000`, the six characters) starts no escape.
fn query_holds_nul(query: &str) -> bool {
    query.contains('\0')
        || query.match_indices("\\u").any(|(at, _)| {
            let backslashes = query[..=at].bytes().rev().take_while(|&b| b == b'\\').count();
            let rest = &query[at + 2..];
            backslashes % 2 == 1 && (rest.starts_with("0000") || braced_zero(rest))
        })
}

fn braced_zero(rest: &str) -> bool {
    let Some(inner) = rest
        .strip_prefix('{')
        .and_then(|r| r.split_once('}'))
        .map(|(digits, _)| digits)
    else {
        return false;
    };
    !inner.is_empty() && inner.chars().all(|c| c == '0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_written_out_or_escaped() {
        assert!(query_holds_nul("{ a(s: \"x\0\") }"));
        assert!(query_holds_nul(r#"{ a(s: "x\u0000") }"#));
        assert!(query_holds_nul(r#"{ a(s: "x\u{0}") }"#));
        assert!(query_holds_nul(r#"{ a(s: "x\u{000}") }"#));
        assert!(!query_holds_nul(r#"{ a(s: "x\u0041\u{10}") }"#));
        assert!(
            !query_holds_nul(r#"{ a(s: "x\\u0000") }"#),
            "an escaped backslash, then text"
        );
        assert!(
            query_holds_nul(r#"{ a(s: "x\\\u0000") }"#),
            "an escaped backslash, then an escape"
        );
    }

    #[test]
    fn finds_nul_deep_in_variables() {
        let nested = Value::from_json(serde_json::json!({ "a": [1, { "b": "ok\u{0}" }] })).expect("value");
        assert!(holds_nul(&nested));
        let clean = Value::from_json(serde_json::json!({ "a": [1, { "b": "ok" }] })).expect("value");
        assert!(!holds_nul(&clean));
    }
}
