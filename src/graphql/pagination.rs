//! Relay-style forward pagination shared by every connection.

use async_graphql::SimpleObject;
use async_graphql::connection::OpaqueCursor;

use super::error::bad_argument;

/// The page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Extra fields of every connection.
#[derive(SimpleObject)]
pub struct Counted {
    /// How many items match the filter, over all pages.
    pub total_count: u64,
}

/// A page costs its children once per item it may hold, so that a query of
/// many aliased pages is refused by the complexity limit.
pub fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE) as usize;
    items.saturating_mul(child_complexity).max(1)
}

/// Checks `first`: a page holds 0 to 100 items. A larger request is refused
/// rather than cut short, so that a client never mistakes a cut page for the end.
pub fn page_size(first: Option<i32>) -> async_graphql::Result<u64> {
    match first.unwrap_or(DEFAULT_PAGE_SIZE) {
        n @ 0..=MAX_PAGE_SIZE => Ok(n as u64),
        n => Err(bad_argument(
            "first",
            format!("must be between 0 and {MAX_PAGE_SIZE}, not {n}"),
        )),
    }
}

/// Reads an `after` cursor given back by an earlier page.
pub fn after_id(after: Option<String>) -> async_graphql::Result<Option<i32>> {
    use async_graphql::connection::CursorType;
    after
        .map(|c| {
            OpaqueCursor::<i32>::decode_cursor(&c)
                .map(|c| c.0)
                .map_err(|_| bad_argument("after", "is not a cursor this API gave out"))
        })
        .transpose()
}

/// Reads an `after` cursor that holds a text key (an employee number).
pub fn after_key(after: Option<String>) -> async_graphql::Result<Option<String>> {
    use async_graphql::connection::CursorType;
    after
        .map(|c| {
            OpaqueCursor::<String>::decode_cursor(&c)
                .map(|c| c.0)
                .map_err(|_| bad_argument("after", "is not a cursor this API gave out"))
        })
        .transpose()
}

/// Reads an `after` cursor of a list computed in memory: the position after
/// which the page starts.
pub fn after_offset(after: Option<String>) -> async_graphql::Result<usize> {
    use async_graphql::connection::CursorType;
    match after {
        None => Ok(0),
        Some(c) => OpaqueCursor::<usize>::decode_cursor(&c)
            .map(|c| c.0)
            .map_err(|_| bad_argument("after", "is not a cursor this API gave out")),
    }
}
