//! What changed between two lists of items, matched by key: added, removed,
//! changed (same key, other content) and unchanged.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

/// One position of a version: its key and the item stored there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub key: String,
    pub item_id: Uuid,
}

/// How an item differs between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemChange {
    Added,
    Removed,
    Changed,
}

/// One changed key, with the item ids on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffEntry {
    pub key: String,
    pub change: ItemChange,
    pub before: Option<Uuid>,
    pub after: Option<Uuid>,
    /// The items' content, filled for the first entries only (see
    /// `version::ENTRIES_WITH_CONTENT`).
    pub before_content: Option<Value>,
    pub after_content: Option<Value>,
}

/// The counts of a diff and its entries: changed and added keys in the new
/// version's order, then removed keys in the old version's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diff {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub entries: Vec<DiffEntry>,
}

/// Compares `from` (older) with `to` (newer) by key.
pub fn diff(from: &[Member], to: &[Member]) -> Diff {
    let old: HashMap<&str, Uuid> = from.iter().map(|m| (m.key.as_str(), m.item_id)).collect();
    let new: HashMap<&str, Uuid> = to.iter().map(|m| (m.key.as_str(), m.item_id)).collect();
    let mut result = Diff::default();
    for member in to {
        let change = match old.get(member.key.as_str()) {
            None => ItemChange::Added,
            Some(before) if *before == member.item_id => {
                result.unchanged += 1;
                continue;
            }
            Some(_) => ItemChange::Changed,
        };
        match change {
            ItemChange::Added => result.added += 1,
            _ => result.changed += 1,
        }
        result.entries.push(DiffEntry {
            key: member.key.clone(),
            change,
            before: old.get(member.key.as_str()).copied(),
            after: Some(member.item_id),
            before_content: None,
            after_content: None,
        });
    }
    for member in from.iter().filter(|m| !new.contains_key(m.key.as_str())) {
        result.removed += 1;
        result.entries.push(DiffEntry {
            key: member.key.clone(),
            change: ItemChange::Removed,
            before: Some(member.item_id),
            after: None,
            before_content: None,
            after_content: None,
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(key: &str, id: u128) -> Member {
        Member {
            key: key.to_string(),
            item_id: Uuid::from_u128(id),
        }
    }

    #[test]
    fn counts_each_kind_of_change() {
        let from = [member("a", 1), member("b", 2), member("c", 3)];
        let to = [member("d", 4), member("b", 2), member("a", 9)];
        let diff = diff(&from, &to);
        assert_eq!(
            (diff.added, diff.removed, diff.changed, diff.unchanged),
            (1, 1, 1, 1)
        );
        let keys: Vec<(&str, ItemChange)> = diff
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.change))
            .collect();
        assert_eq!(
            keys,
            [
                ("d", ItemChange::Added),
                ("a", ItemChange::Changed),
                ("c", ItemChange::Removed)
            ]
        );
    }
}
