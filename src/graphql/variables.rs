//! A variable the operation declares required (`$x: Boolean!`, no default)
//! must be given a value, as the GraphQL spec's variable coercion says;
//! checked before the query runs (see [`super::checks`]).
//!
//! async-graphql reports a missing variable only where an argument reads it:
//! one read only by `@include(if: $x)` or `@skip(if: $x)` was taken as
//! neither, and the answer held nulls in non-null places and no error.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};
use async_graphql::{Positioned, Value, Variables};

/// What is wrong with the first required variable of the operation that
/// would run that has no value, or is null.
pub fn unset(document: &ExecutableDocument, operation: Option<&str>, variables: &Variables) -> Option<String> {
    let operation = chosen(document, operation)?;
    operation.node.variable_definitions.iter().find_map(|definition| {
        let definition = &definition.node;
        let required = !definition.var_type.node.nullable && definition.default_value.is_none();
        let given = variables
            .get(&definition.name.node)
            .is_some_and(|value| *value != Value::Null);
        (required && !given).then(|| {
            format!(
                "variable ${} of type {} is required: give it a value in `variables`",
                definition.name.node, definition.var_type.node
            )
        })
    })
}

/// The operation named, or the document's only one.
fn chosen<'d>(document: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d Positioned<OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, operation: Option<&str>, variables: serde_json::Value) -> Option<String> {
        let document = async_graphql::parser::parse_query(query).expect("query");
        unset(&document, operation, &Variables::from_json(variables))
    }

    #[test]
    fn a_required_variable_needs_a_value() {
        let query = "query($x: Boolean!) { facets { nameEn @include(if: $x) } }";
        assert_eq!(
            check(query, None, serde_json::json!({})).as_deref(),
            Some("variable $x of type Boolean! is required: give it a value in `variables`")
        );
        assert!(
            check(query, None, serde_json::json!({ "x": null })).is_some(),
            "null is no value"
        );
        assert_eq!(check(query, None, serde_json::json!({ "x": false })), None);
    }

    #[test]
    fn a_nullable_variable_or_one_with_a_default_may_be_left_out() {
        assert_eq!(check("query($x: Boolean) { a }", None, serde_json::json!({})), None);
        assert_eq!(
            check("query($x: Boolean! = true) { a }", None, serde_json::json!({})),
            None
        );
    }

    #[test]
    fn only_the_operation_that_runs_is_checked() {
        let query = "query A($x: Int!) { a } query B { b }";
        assert_eq!(check(query, Some("B"), serde_json::json!({})), None);
        assert!(check(query, Some("A"), serde_json::json!({})).is_some());
        assert_eq!(
            check(query, None, serde_json::json!({})),
            None,
            "async-graphql asks which to run"
        );
        assert!(check("query A($x: Int!) { a }", None, serde_json::json!({})).is_some());
    }
}
