//! A cap on how much a query document selects, checked as soon as it is
//! parsed, before async-graphql's own checks and validation (see
//! [`super::checks`]).
//!
//! The complexity limit counts the schema's own fields only: `__typename`,
//! `__schema` and `__type` cost nothing there, so a document of tens of
//! thousands of `__typename` aliases, or of hundreds of whole-schema
//! introspections, passed it and kept the server busy for seconds, with no
//! token needed. Here every selection counts, a fragment's wherever it is
//! spread, and an introspection root counts as much as the schema it lists.

use std::collections::HashMap;
use std::ops::ControlFlow;

use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned};

/// The most selections a document may make: as many as the complexity limit
/// allows fields, so that no query the schema's fields allow is refused here.
pub const MAX_SELECTIONS: usize = super::MAX_COMPLEXITY;

/// What `__schema` and `__type` count: answering one lists the schema, a
/// hundred objects or so.
const INTROSPECTION_ROOT: usize = 100;

/// Fragments are followed this deep; validation refuses cycles later, so
/// this only bounds the walk.
const MAX_FRAGMENT_DEPTH: usize = 32;

/// Why a document over the cap is refused.
pub fn too_many() -> String {
    format!(
        "the query makes more than {MAX_SELECTIONS} selections (aliases and fragments counted \
         wherever they stand, `__schema` and `__type` {INTROSPECTION_ROOT} each); split it into smaller queries"
    )
}

/// How many selections the document's operations, with their fragments
/// spread, and its fragment definitions make, or `None` past `cap`. Counting
/// stops at the cap, so a document spreading fragments exponentially costs
/// no more to check than one of `cap` fields.
pub fn selections_within(document: &ExecutableDocument, cap: usize) -> Option<usize> {
    let mut count = Count {
        fragments: &document.fragments,
        total: 0,
        cap,
    };
    let operations = document.operations.iter().map(|(_, op)| &op.node.selection_set.node);
    let definitions = document.fragments.values().map(|f| &f.node.selection_set.node);
    for set in operations.chain(definitions) {
        if count.set(set, 0).is_break() {
            return None;
        }
    }
    Some(count.total)
}

struct Count<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    total: usize,
    cap: usize,
}

impl Count<'_> {
    fn set(&mut self, set: &SelectionSet, depth: usize) -> ControlFlow<()> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    self.add(match field.node.name.node.as_str() {
                        "__schema" | "__type" => INTROSPECTION_ROOT,
                        _ => 1,
                    })?;
                    self.set(&field.node.selection_set.node, depth)?;
                }
                Selection::FragmentSpread(spread) => {
                    self.add(1)?;
                    let fragment = self.fragments.get(&spread.node.fragment_name.node);
                    if let Some(fragment) = fragment.filter(|_| depth < MAX_FRAGMENT_DEPTH) {
                        self.set(&fragment.node.selection_set.node, depth + 1)?;
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.add(1)?;
                    self.set(&inline.node.selection_set.node, depth + 1)?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn add(&mut self, weight: usize) -> ControlFlow<()> {
        self.total += weight;
        if self.total > self.cap {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exceeds(query: &str, cap: usize) -> bool {
        selections_within(&async_graphql::parser::parse_query(query).expect("query"), cap).is_none()
    }

    #[test]
    fn counts_fields_aliases_and_meta_fields() {
        let query = "{ a: __typename b: __typename facets { code name } }";
        assert!(!exceeds(query, 5), "five selections");
        assert!(exceeds(query, 4));
    }

    #[test]
    fn counts_a_fragment_wherever_it_is_spread() {
        // Two fields, three spreads of three fields each, one inline
        // fragment, and the definition's own three.
        let query =
            "{ x: facets { ...F } y: facets { ...F ... on Facet { ...F } } } fragment F on Facet { code name id }";
        assert!(!exceeds(query, 2 + 3 + 9 + 1 + 3));
        assert!(exceeds(query, 2 + 3 + 9 + 1 + 2));
    }

    #[test]
    fn an_introspection_root_counts_a_hundred() {
        assert!(!exceeds("{ __schema { types { name } } }", 102));
        assert!(exceeds("{ __schema { types { name } } }", 101));
        assert!(exceeds(
            "{ a: __type(name: \"Query\") { name } b: __type(name: \"Facet\") { name } }",
            150
        ));
    }

    #[test]
    fn graphiql_introspection_fits_well_within_the_cap() {
        let query = include_str!("../../tests/api/introspection.graphql");
        let document = async_graphql::parser::parse_query(query).expect("query");
        assert_eq!(selections_within(&document, MAX_SELECTIONS), Some(581));
    }

    #[test]
    fn stops_counting_a_fragment_bomb_at_the_cap() {
        let mut query = String::from("{ ...F0 }");
        for i in 0..40 {
            query.push_str(&format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1));
        }
        query.push_str(" fragment F40 on Query { __typename }");
        assert!(exceeds(&query, MAX_SELECTIONS));
    }
}
