//! Parsed queries kept by their text: a frontend sends the same few query
//! texts over and over, and parsing one took about a tenth of a cached
//! `compliance` answer's time. Only the parse is skipped; every request is
//! still validated and checked for depth and complexity on its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

/// How many query texts are kept; once full, new texts are parsed every time.
pub const CAPACITY: usize = 512;
/// Longer texts are not kept, so that the cache stays small (at most a few
/// megabytes) whatever clients send.
pub const MAX_TEXT: usize = 8 * 1024;

/// The schema's parsed queries, shared by every request.
#[derive(Default, Clone)]
pub struct ParsedQueries(Arc<Mutex<HashMap<String, Arc<ExecutableDocument>>>>);

impl ParsedQueries {
    /// The kept parse of `query`, shared rather than copied (the response
    /// ordering keeps it for the whole request too).
    pub fn shared(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        self.0.lock().ok()?.get(query).cloned()
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > MAX_TEXT {
            return;
        }
        let Ok(mut held) = self.0.lock() else { return };
        if held.len() < CAPACITY {
            held.insert(query.to_string(), Arc::new(document.clone()));
        }
    }

    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |held| held.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ExtensionFactory for ParsedQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParsedQueries {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.shared(query) {
            return Ok(ExecutableDocument::clone(&document));
        }

        let document = next.run(ctx, query, variables).await?;
        self.keep(query, &document);
        Ok(document)
    }
}
