//! Relay connections over offset pages, with `totalCount`.
//!
//! Cursors are opaque to clients (base64 of the row's offset); only forward
//! pagination (`first`/`after`) is offered.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{OutputType, SimpleObject};

use crate::error::{ServiceError, ServiceResult};
use crate::service::page::{Page, PageRequest};

/// The cursor of one edge: its position in the whole list.
pub type Cursor = OpaqueCursor<u64>;

/// Fields every connection carries besides its edges.
#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// How many nodes the whole list holds, across all pages.
    pub total_count: u64,
}

/// A connection of `N` nodes.
pub type PageConnection<N> = Connection<Cursor, N, ConnectionFields>;

/// Turns `first`/`after` arguments into a page request.
pub fn page_request(first: Option<i32>, after: Option<&str>) -> ServiceResult<PageRequest> {
    let offset = match after {
        None => 0,
        Some(after) => {
            let cursor = Cursor::decode_cursor(after).map_err(|_| {
                ServiceError::invalid("cursor", format!("`{after}` is not a cursor"))
            })?;
            cursor.0 + 1
        }
    };
    PageRequest::new(offset, first)
}

/// Builds a connection from a page, mapping each item to its node.
pub fn connection<T, N: OutputType>(page: Page<T>, node: impl Fn(T) -> N) -> PageConnection<N> {
    let has_next = page.has_next();
    let mut connection = Connection::with_additional_fields(
        page.offset > 0,
        has_next,
        ConnectionFields {
            total_count: page.total,
        },
    );
    let offset = page.offset;
    connection.edges.extend(
        page.items
            .into_iter()
            .enumerate()
            .map(|(index, item)| Edge::new(OpaqueCursor(offset + index as u64), node(item))),
    );
    connection
}
