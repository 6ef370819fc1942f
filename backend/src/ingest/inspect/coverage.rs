//! Decides whether an Inspect run saw its task's whole dataset.
//!
//! Inspect's sample counts are not lm-eval's: `total_samples` is what the
//! run planned after `--limit` (epochs included), not the dataset's size, so
//! a run of 3 items out of 100 reports 3 of 3. The dataset's size comes from
//! the header instead. A run that did not finish is partial whatever it
//! counted.

use serde_json::{Map, Value};

use crate::ingest::file_error::{FileError, JsonPath};

/// `--limit`: a count, or a `[start, end]` range of samples.
pub fn limit(
    config: Option<&Map<String, Value>>,
    path: &JsonPath,
) -> Result<Option<f64>, FileError> {
    match config.and_then(|config| config.get("limit")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(count)) if count.as_u64().is_some() => Ok(count.as_f64()),
        Some(Value::Array(range)) if range.len() == 2 => {
            match (range[0].as_u64(), range[1].as_u64()) {
                (Some(start), Some(end)) if end >= start => Ok(Some((end - start) as f64)),
                _ => Err(FileError::unexpected(
                    path,
                    "a count or a [start, end] range",
                    &range[0],
                )),
            }
        }
        Some(other) => Err(FileError::unexpected(
            path,
            "a count or a [start, end] range",
            other,
        )),
    }
}

/// `results.total_samples` (planned, epochs included) and
/// `completed_samples`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub total: Option<i64>,
    pub completed: Option<i64>,
}

impl Counts {
    /// Reads the counts of the `results` object at `path`.
    pub fn read(results: &Value, path: &JsonPath) -> Result<Self, FileError> {
        let count = |key: &str| match results.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_i64()
                .filter(|count| *count >= 0)
                .map(Some)
                .ok_or_else(|| FileError::unexpected(&path.key(key), "a sample count", value)),
        };
        Ok(Self {
            total: count("total_samples")?,
            completed: count("completed_samples")?,
        })
    }
}

/// What the header says about how much of the task's dataset the run saw.
pub struct Coverage {
    /// The log's status is `success`.
    pub complete: bool,
    pub counts: Counts,
    /// `eval.dataset.samples`: items in the task's dataset.
    pub dataset_size: Option<i64>,
    pub epochs: i64,
    pub limit: Option<f64>,
}

impl Coverage {
    /// Inspect counts only the samples it planned after `--limit`, so the
    /// planned count is compared with the dataset's size times the epochs;
    /// without a size, any limit is taken to have cut the run, as for
    /// lm-eval.
    pub fn truncated(&self) -> bool {
        if !self.complete {
            return true;
        }
        if let (Some(total), Some(completed)) = (self.counts.total, self.counts.completed)
            && completed < total
        {
            return true;
        }
        match (self.counts.total, self.dataset_size) {
            (Some(total), Some(size)) => total < size.saturating_mul(self.epochs.max(1)),
            _ => self.limit.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn coverage(total: i64, completed: i64, dataset_size: Option<i64>) -> Coverage {
        Coverage {
            complete: true,
            counts: Counts {
                total: Some(total),
                completed: Some(completed),
            },
            dataset_size,
            epochs: 2,
            limit: None,
        }
    }

    #[test]
    fn a_run_is_whole_only_when_it_planned_and_finished_every_item() {
        assert!(!coverage(10, 10, Some(5)).truncated());
        assert!(coverage(4, 4, Some(5)).truncated(), "limited");
        assert!(coverage(10, 9, Some(5)).truncated(), "not all completed");
        let cancelled = Coverage {
            complete: false,
            ..coverage(10, 10, Some(5))
        };
        assert!(cancelled.truncated());
        let unknown_size = Coverage {
            limit: Some(3.0),
            ..coverage(3, 3, None)
        };
        assert!(unknown_size.truncated(), "a limit, and nothing to compare");
        assert!(!coverage(3, 3, None).truncated());
    }

    #[test]
    fn limits_are_counts_or_ranges() -> Result<(), FileError> {
        let path = JsonPath::root();
        let limit_of = |value: Value| {
            let config = json!({ "limit": value });
            limit(config.as_object(), &path)
        };
        assert_eq!(limit_of(json!(20))?, Some(20.0));
        assert_eq!(limit_of(json!([10, 25]))?, Some(15.0));
        assert_eq!(limit_of(Value::Null)?, None);
        assert!(limit_of(json!("all")).is_err());
        assert!(limit_of(json!([5, 1])).is_err());
        Ok(())
    }
}
