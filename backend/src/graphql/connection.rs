//! Relay connections, with `totalCount`, over keyset pages (runs, models,
//! tasks, samples: lists whose order is stable) or offset pages (the rest).
//!
//! Cursors are opaque to clients: base64 of JSON holding the list's name and
//! the row's sort key, or the row's offset. Only forward pagination
//! (`first`/`after`) is offered.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{Context, OutputType, SimpleObject};
use serde::{Deserialize, Serialize};

use crate::error::{ServiceError, ServiceResult};
use crate::service::keyset::{KeyPart, KeysetPage, KeysetRequest};
use crate::service::page::{DEFAULT_PAGE, MAX_PAGE, Page, PageRequest};

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
            let invalid = || ServiceError::invalid("after", format!("`{after}` is not a cursor"));
            let cursor = Cursor::decode_cursor(after).map_err(|_| invalid())?;
            // Offsets beyond i64 cannot come from this API and would overflow SQL.
            let next = cursor
                .0
                .checked_add(1)
                .filter(|&next| i64::try_from(next).is_ok());
            next.ok_or_else(invalid)?
        }
    };
    PageRequest::new(offset, first)
}

/// What a keyset cursor holds: which list issued it, and the sort key of
/// the row it points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeysetCursor {
    list: String,
    key: Vec<KeyPart>,
}

/// A connection of `N` nodes paged by sort key.
pub type KeysetConnection<N> = Connection<OpaqueCursor<KeysetCursor>, N, ConnectionFields>;

/// Turns `first`/`after` arguments of the keyset list `list` into a request.
///
/// Fails with `invalid_cursor` when `after` was not issued by this list.
/// Builds the request of a keyset connection field from its arguments; the
/// list is counted only when the query selects `totalCount`.
pub fn keyset_request(
    ctx: &Context<'_>,
    list: &str,
    first: Option<i32>,
    after: Option<&str>,
) -> ServiceResult<KeysetRequest> {
    let mut request = decode_request(list, first, after)?;
    request.count_total = ctx.look_ahead().field("totalCount").exists();
    Ok(request)
}

fn decode_request(
    list: &str,
    first: Option<i32>,
    after: Option<&str>,
) -> ServiceResult<KeysetRequest> {
    let Some(after) = after else {
        return KeysetRequest::new(first, None);
    };
    let invalid = || ServiceError::invalid("after", format!("`{after}` is not a cursor"));
    let cursor = OpaqueCursor::<KeysetCursor>::decode_cursor(after).map_err(|_| invalid())?;
    if cursor.0.list != list {
        return Err(invalid());
    }
    KeysetRequest::new(first, Some(cursor.0.key))
}

/// Builds a connection from a keyset page of the list `list`.
pub fn keyset_connection<T, N: OutputType>(
    list: &str,
    page: KeysetPage<T>,
    node: impl Fn(T) -> N,
) -> KeysetConnection<N> {
    let mut connection = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        ConnectionFields {
            // Not counted only when the query does not select it, so this
            // value is never sent.
            total_count: page.total.unwrap_or_default(),
        },
    );
    connection
        .edges
        .extend(page.items.into_iter().map(|(key, item)| {
            let cursor = KeysetCursor {
                list: list.to_string(),
                key,
            };
            Edge::new(OpaqueCursor(cursor), node(item))
        }));
    connection
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

/// Nodes a plain list field is assumed to return when nothing bounds it: a
/// model's scores or a run's results run to dozens or hundreds.
const LIST_NODES: usize = 50;

/// The complexity of a plain list field whose items lead back into the graph
/// (a model's scores reach runs, whose model has scores again): its children
/// count once per item it may return, `first` items when it takes one, else
/// [`LIST_NODES`]. Without this, nesting such lists multiplied the work of a
/// small query past any memory while its complexity stayed low.
///
/// A `first` above [`LIST_NODES`] counts as [`LIST_NODES`]: it cannot return
/// more than leaving `first` out, which returns every item.
pub fn list_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.map_or(LIST_NODES, |first| {
        usize::try_from(first).unwrap_or(0).min(LIST_NODES)
    });
    items.saturating_mul(child_complexity).max(1)
}

/// How many leading items a plain list's `first` keeps: all without it;
/// fails with `invalid_argument` when it is negative, as paged lists do.
pub fn list_take(first: Option<i32>) -> ServiceResult<usize> {
    match first {
        None => Ok(usize::MAX),
        Some(first) => usize::try_from(first)
            .map_err(|_| ServiceError::invalid("first", "must not be negative")),
    }
}

/// The complexity of a connection field: its children count once per node it
/// may return, so `first: 500` inside `first: 500` is refused. A `first`
/// above the largest page counts as the largest page, so the resolver can
/// refuse it with the limit named instead of "too complex".
pub fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let nodes = first.map_or(DEFAULT_PAGE, |first| {
        u64::try_from(first).unwrap_or(0).min(MAX_PAGE)
    });
    usize::try_from(nodes)
        .unwrap_or(usize::MAX)
        .saturating_mul(child_complexity)
        .max(1)
}
