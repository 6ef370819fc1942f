//! Sorting table rows by a column: numbers that are not finite always sort
//! last, whichever way the column is sorted, so they never pose as best.

use std::cmp::Ordering;

/// One cell's sort key.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Number(Option<f64>),
    Text(String),
}

/// Which way a column is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

impl Order {
    /// The opposite order, for a second click on the same column.
    pub fn flipped(self) -> Self {
        match self {
            Self::Ascending => Self::Descending,
            Self::Descending => Self::Ascending,
        }
    }

    /// The value of the header's `aria-sort` attribute.
    pub fn aria(self) -> &'static str {
        match self {
            Self::Ascending => "ascending",
            Self::Descending => "descending",
        }
    }
}

/// A column and its order, as written in the URL (`value-desc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortBy {
    pub column: String,
    pub order: Order,
}

impl SortBy {
    /// Reads `column-asc` or `column-desc`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let (column, order) = text.rsplit_once('-')?;
        let order = match order {
            "asc" => Order::Ascending,
            "desc" => Order::Descending,
            _ => return None,
        };
        Some(Self {
            column: column.to_string(),
            order,
        })
    }

    /// Writes the form `parse` reads.
    pub fn to_param(&self) -> String {
        let order = match self.order {
            Order::Ascending => "asc",
            Order::Descending => "desc",
        };
        format!("{}-{order}", self.column)
    }

    /// The sort after a click on `column`: flips the current column, or sorts
    /// a new one in its natural order.
    pub fn clicked(current: Option<&SortBy>, column: &str, natural: Order) -> SortBy {
        let order = match current {
            Some(current) if current.column == column => current.order.flipped(),
            _ => natural,
        };
        SortBy {
            column: column.to_string(),
            order,
        }
    }
}

fn compare(a: &Key, b: &Key, order: Order) -> Ordering {
    let directed = |ordering: Ordering| match order {
        Order::Ascending => ordering,
        Order::Descending => ordering.reverse(),
    };
    match (a, b) {
        (Key::Number(Some(a)), Key::Number(Some(b))) => directed(a.total_cmp(b)),
        (Key::Number(Some(_)), Key::Number(None)) => Ordering::Less,
        (Key::Number(None), Key::Number(Some(_))) => Ordering::Greater,
        (Key::Text(a), Key::Text(b)) => directed(a.to_lowercase().cmp(&b.to_lowercase())),
        _ => Ordering::Equal,
    }
}

/// Sorts rows stably by the key `key` gives each; rows without a finite
/// number stay last.
pub fn sort_rows<T>(rows: &mut [T], order: Order, key: impl Fn(&T) -> Key) {
    rows.sort_by(|a, b| compare(&key(a), &key(b), order));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_sort_last_in_both_orders() {
        let mut rows = vec![Some(0.5), None, Some(0.9), Some(0.1)];
        sort_rows(&mut rows, Order::Descending, |v| Key::Number(*v));
        assert_eq!(rows, vec![Some(0.9), Some(0.5), Some(0.1), None]);
        sort_rows(&mut rows, Order::Ascending, |v| Key::Number(*v));
        assert_eq!(rows, vec![Some(0.1), Some(0.5), Some(0.9), None]);
    }

    #[test]
    fn text_sorts_ignoring_case() {
        let mut rows = vec!["facebook/opt", "EleutherAI/pythia", "bigscience/bloom"];
        sort_rows(&mut rows, Order::Ascending, |v| Key::Text(v.to_string()));
        assert_eq!(
            rows,
            vec!["bigscience/bloom", "EleutherAI/pythia", "facebook/opt"]
        );
    }

    #[test]
    fn clicking_a_header_flips_or_starts_in_its_natural_order() {
        let value_desc = SortBy::parse("value-desc");
        assert_eq!(
            value_desc,
            Some(SortBy {
                column: "value".into(),
                order: Order::Descending
            })
        );
        let flipped = SortBy::clicked(value_desc.as_ref(), "value", Order::Descending);
        assert_eq!(flipped.to_param(), "value-asc");
        let other = SortBy::clicked(value_desc.as_ref(), "model", Order::Ascending);
        assert_eq!(other.to_param(), "model-asc");
        assert_eq!(SortBy::parse("value-sideways"), None);
    }
}
