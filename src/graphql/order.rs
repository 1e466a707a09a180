//! Response fields in the order the query asked for them.
//!
//! The GraphQL specification asks a JSON response to list an object's fields
//! in the order of the query's selection set (its `CollectFields`), which is
//! what a person reading a response or a test comparing text expects.
//! async-graphql 7.2 resolves a query's fields side by side and inserts each
//! one when it finishes, so a field that waits on the database comes after
//! one that does not, and the order changes from one request to the next.
//! This extension puts every object of the response back in the query's
//! order once execution is done; the values themselves are untouched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Response, ServerResult, Value, Variables};

use super::parsed::ParsedQueries;

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// The response keys of a selection in query order, each with the selection
/// sets that answer to it. Looked up by key, so that sorting an object of
/// thousands of fields costs n log n rather than n².
type Order<'a> = IndexMap<Name, Vec<&'a SelectionSet>>;

/// The extension, over the schema's parsed queries: a request whose query
/// they hold shares that parse instead of copying it.
pub struct QueryOrder(pub ParsedQueries);

impl ExtensionFactory for QueryOrder {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Reorder {
            parsed: self.0.clone(),
            document: Mutex::new(None),
        })
    }
}

/// One request's document, kept from parsing to the end of execution.
struct Reorder {
    parsed: ParsedQueries,
    document: Mutex<Option<Arc<ExecutableDocument>>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Reorder {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let shared = self.parsed.shared(query).unwrap_or_else(|| Arc::new(document.clone()));
        if let Ok(mut kept) = self.document.lock() {
            *kept = Some(shared);
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;

        let document = self.document.lock().ok().and_then(|mut kept| kept.take());
        if let Some(document) = document
            && let Some(selection) = operation(&document, operation_name)
        {
            reorder(&mut response.data, &[selection], &document.fragments);
        }
        response
    }
}

/// The selection set of the operation that ran.
fn operation<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a SelectionSet> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(&operation.node.selection_set.node)
}

/// Puts `value`'s fields in the order of `sets` (one selection set, or
/// several when the same response key was selected more than once), then
/// does the same for every field's value and every list item.
fn reorder(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments) {
    match value {
        Value::Object(fields) => {
            let mut order = Order::new();
            collect(sets, fragments, &mut order, 0);

            let rank = |key: &Name| order.get_index_of(key).unwrap_or(usize::MAX);
            fields.sort_by(|a, _, b, _| rank(a).cmp(&rank(b)));
            for (key, field) in fields.iter_mut() {
                if let Some(subsets) = order.get(key) {
                    reorder(field, subsets, fragments);
                }
            }
        }
        Value::List(items) => {
            for item in items {
                reorder(item, sets, fragments);
            }
        }
        _ => {}
    }
}

/// Fragments nest at most this deep here; validation has already refused
/// cycles, so this only bounds the walk.
const MAX_FRAGMENT_DEPTH: usize = 32;

/// The response keys of `sets` in query order, fragments spread in place,
/// each with the selection sets of every field that answers to it. A key
/// under a type condition that did not apply is simply absent from the
/// object, so conditions need no checking.
fn collect<'a>(sets: &[&'a SelectionSet], fragments: &'a Fragments, order: &mut Order<'a>, depth: usize) {
    if depth > MAX_FRAGMENT_DEPTH {
        return;
    }
    for set in sets {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.clone();
                    let subset = &field.node.selection_set.node;
                    order.entry(key).or_default().push(subset);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = fragments.get(&spread.node.fragment_name.node) {
                        collect(&[&fragment.node.selection_set.node], fragments, order, depth + 1);
                    }
                }
                Selection::InlineFragment(inline) => {
                    collect(&[&inline.node.selection_set.node], fragments, order, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(fields) => fields.keys().map(|k| k.to_string()).collect(),
            other => panic!("not an object: {other}"),
        }
    }

    fn ordered(query: &str, response: serde_json::Value) -> Value {
        let document = async_graphql::parser::parse_query(query).expect("query");
        let mut value = Value::from_json(response).expect("value");
        let selection = operation(&document, None).expect("operation");
        reorder(&mut value, &[selection], &document.fragments);
        value
    }

    #[test]
    fn fields_follow_the_query_through_aliases_fragments_and_lists() {
        let query = "{ b: facets { name ...F } a: __typename ... on Query { c: __typename } } \
                     fragment F on Facet { code name }";
        let response = serde_json::json!({
            "c": "Query",
            "a": "Query",
            "b": [{ "code": "P", "name": "政策" }, { "code": "M", "name": "管理" }]
        });

        let value = ordered(query, response);

        assert_eq!(keys(&value), ["b", "a", "c"]);
        let Value::Object(top) = &value else { unreachable!() };
        let Value::List(facets) = &top["b"] else {
            panic!("a list")
        };
        for facet in facets {
            assert_eq!(
                keys(facet),
                ["name", "code"],
                "name first, as selected before the fragment"
            );
        }
    }

    #[test]
    fn a_key_selected_twice_merges_both_selections() {
        let query = "{ p: person { name } p: person { unit { code } id } }";
        let response = serde_json::json!({ "p": { "id": "1", "unit": { "code": "U" }, "name": "N" } });

        let value = ordered(query, response);

        let Value::Object(top) = &value else { unreachable!() };
        assert_eq!(keys(&top["p"]), ["name", "unit", "id"]);
    }
}
