//! Keyset pages: a page starts after the sort key of the last row a client
//! saw, rather than at a position, so rows stored while a client pages
//! through a list never shift or repeat what it sees.
//!
//! A list names its sort columns once (`Sort`); the key of a row is the
//! values of those columns, and the rows after a key are those that sort
//! strictly after it. Every sort ends in a unique column, so keys are total.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::page::PageRequest;
use crate::error::{ServiceError, ServiceResult};

/// One value of a sort key, tagged with its type so a key read back from a
/// client is checked against the list's columns before it reaches SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyPart {
    Text(String),
    Time(DateTime<Utc>),
    Id(Uuid),
    Number(i64),
}

/// The type a sort column's key part must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Time,
    Id,
    Number,
}

impl KeyPart {
    fn kind(&self) -> KeyKind {
        match self {
            Self::Text(_) => KeyKind::Text,
            Self::Time(_) => KeyKind::Time,
            Self::Id(_) => KeyKind::Id,
            Self::Number(_) => KeyKind::Number,
        }
    }

    fn value(&self) -> Value {
        match self {
            Self::Text(text) => text.clone().into(),
            Self::Time(time) => (*time).into(),
            Self::Id(id) => (*id).into(),
            Self::Number(number) => (*number).into(),
        }
    }
}

/// One sort column of a list.
#[derive(Debug, Clone, Copy)]
pub struct Sort<C> {
    pub column: C,
    pub descending: bool,
    pub kind: KeyKind,
}

impl<C> Sort<C> {
    pub const fn ascending(column: C, kind: KeyKind) -> Self {
        Self {
            column,
            descending: false,
            kind,
        }
    }

    pub const fn descending(column: C, kind: KeyKind) -> Self {
        Self {
            column,
            descending: true,
            kind,
        }
    }
}

/// Which page to read: after which key, and how many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysetRequest {
    pub after: Option<Vec<KeyPart>>,
    pub limit: u64,
    /// Whether to count the whole list too. Counting reads every matching
    /// row, so a client paging a large listing without asking for the total
    /// should not pay for it on every page.
    pub count_total: bool,
}

impl KeysetRequest {
    /// Builds a request from `first` and a decoded `after` key, checking
    /// `first` as offset pages do.
    pub fn new(first: Option<i32>, after: Option<Vec<KeyPart>>) -> ServiceResult<Self> {
        let limit = PageRequest::new(0, first)?.limit;
        Ok(Self {
            after,
            limit,
            count_total: true,
        })
    }
}

/// One page of a keyset list: each row with its key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeysetPage<T> {
    pub items: Vec<(Vec<KeyPart>, T)>,
    pub has_previous: bool,
    pub has_next: bool,
    /// How many rows the whole list holds; `None` when the request did not
    /// ask for it.
    pub total: Option<u64>,
}

/// Reads the page of `select` that `request` asks for, sorted by `sort`;
/// `key_of` gives a row's key in `sort` order.
///
/// Fails with `invalid_cursor` when the key does not fit the list's sort.
pub async fn fetch<E, C>(
    db: &C,
    select: Select<E>,
    sort: &[Sort<E::Column>],
    request: &KeysetRequest,
    key_of: impl Fn(&E::Model) -> Vec<KeyPart>,
) -> ServiceResult<KeysetPage<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = if request.count_total {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let mut ordered = select;
    for column in sort {
        let order = if column.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        ordered = ordered.order_by(column.column, order);
    }
    if let Some(after) = &request.after {
        ordered = ordered.filter(after_key(sort, after)?);
    }
    let mut rows = ordered.limit(request.limit + 1).all(db).await?;
    let has_next = rows.len() as u64 > request.limit;
    rows.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));

    Ok(KeysetPage {
        items: rows.into_iter().map(|row| (key_of(&row), row)).collect(),
        has_previous: request.after.is_some(),
        has_next,
        total,
    })
}

/// The rows that sort strictly after `key`: for sort columns `a, b, c`,
/// `a > ka OR (a = ka AND b > kb) OR (a = ka AND b = kb AND c > kc)`, with
/// `<` for descending columns.
fn after_key<C: ColumnTrait>(sort: &[Sort<C>], key: &[KeyPart]) -> ServiceResult<Condition> {
    let fits = key.len() == sort.len()
        && sort
            .iter()
            .zip(key)
            .all(|(column, part)| column.kind == part.kind());
    if !fits {
        return Err(ServiceError::invalid(
            "after",
            "the cursor belongs to another list",
        ));
    }
    let mut after = Condition::any();
    for (position, (column, part)) in sort.iter().zip(key).enumerate() {
        let mut branch = Condition::all();
        for (earlier, earlier_part) in sort.iter().zip(key).take(position) {
            branch = branch.add(earlier.column.eq(earlier_part.value()));
        }
        let beyond = if column.descending {
            column.column.lt(part.value())
        } else {
            column.column.gt(part.value())
        };
        after = after.add(branch.add(beyond));
    }

    Ok(after)
}

#[cfg(test)]
mod tests {
    use entity::run;
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    const RUNS: [Sort<run::Column>; 2] = [
        Sort::descending(run::Column::EffectiveAt, KeyKind::Time),
        Sort::ascending(run::Column::Id, KeyKind::Id),
    ];

    #[test]
    fn rows_after_a_key_sort_strictly_after_it() -> ServiceResult<()> {
        let at = DateTime::from_timestamp(0, 0).unwrap_or_default();
        let key = [KeyPart::Time(at), KeyPart::Id(Uuid::nil())];
        let sql = run::Entity::find()
            .filter(after_key(&RUNS, &key)?)
            .build(DbBackend::Postgres)
            .to_string();
        let epoch = "'1970-01-01 00:00:00.000000 +00:00'";
        let nil = "'00000000-0000-0000-0000-000000000000'";
        let (at, id) = (r#""run"."effective_at""#, r#""run"."id""#);
        let expected = format!("WHERE {at} < {epoch} OR ({at} = {epoch} AND {id} > {nil})");
        assert!(sql.ends_with(&expected), "{sql}");
        Ok(())
    }

    #[test]
    fn keys_of_another_shape_are_refused() {
        let wrong_kind = [KeyPart::Text("x".into()), KeyPart::Id(Uuid::nil())];
        let too_short = [KeyPart::Id(Uuid::nil())];
        for key in [&wrong_kind[..], &too_short[..]] {
            let code = after_key(&RUNS, key).map_err(|e| e.code());
            assert_eq!(code.err(), Some("invalid_cursor"));
        }
    }
}
