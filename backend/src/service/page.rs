//! Offset pages: the request every list takes and the page it returns.
//!
//! Stored facts are append-only, so an offset stays meaningful between
//! requests except when new rows arrive in the middle of a listing.

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QuerySelect, Select};

use crate::error::{ServiceError, ServiceResult};

/// The largest page a client may ask for: MLflow's client pages by a
/// thousand too, and a query spanning a few weeks of runs fits in one.
pub const MAX_PAGE: u64 = 1000;
/// The page size when the client names none.
pub const DEFAULT_PAGE: u64 = 50;

/// Which slice of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: u64,
    pub limit: u64,
}

impl PageRequest {
    /// Builds a request from GraphQL-style `first`/offset, checking bounds.
    pub fn new(offset: u64, first: Option<i32>) -> ServiceResult<Self> {
        let limit = match first {
            None => DEFAULT_PAGE,
            Some(first) if first < 0 => {
                return Err(ServiceError::invalid("first", "must not be negative"));
            }
            Some(first) => u64::try_from(first).unwrap_or(0),
        };
        if limit > MAX_PAGE {
            return Err(ServiceError::invalid(
                "first",
                format!("must be at most {MAX_PAGE}"),
            ));
        }

        Ok(Self { offset, limit })
    }
}

/// One slice of a list, with the size of the whole list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub offset: u64,
    pub total: u64,
}

impl<T> Page<T> {
    /// Returns whether rows exist after this page.
    pub fn has_next(&self) -> bool {
        self.offset + (self.items.len() as u64) < self.total
    }
}

/// Fetches one page of `select` and the size of the whole list.
pub async fn fetch<E, C>(
    db: &C,
    select: Select<E>,
    page: PageRequest,
) -> ServiceResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = select.clone().count(db).await?;
    let items = select.offset(page.offset).limit(page.limit).all(db).await?;

    Ok(Page {
        items,
        offset: page.offset,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        assert_eq!(
            PageRequest::new(0, None).map(|p| p.limit).ok(),
            Some(DEFAULT_PAGE)
        );
        assert!(PageRequest::new(0, Some(-1)).is_err());
        assert!(PageRequest::new(0, Some(1000)).is_ok());
        assert!(PageRequest::new(0, Some(1001)).is_err());
    }

    #[test]
    fn has_next_counts_the_slice() {
        let page = Page {
            items: vec![1, 2],
            offset: 3,
            total: 6,
        };
        assert!(page.has_next());
        let last = Page {
            items: vec![1],
            offset: 5,
            total: 6,
        };
        assert!(!last.has_next());
    }
}
