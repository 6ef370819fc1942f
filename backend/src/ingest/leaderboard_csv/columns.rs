//! Decides what each column of a leaderboard table is for, from its header
//! alone: the model, a score, a score's stderr, the sample count, metadata
//! kept in the run's configuration, or a column left out, with why.
//!
//! Headers drift between files (`ARC (25-shot)` and `ARC(25-shot)`,
//! `output_length` beside `avg_length`), so roles come from names read
//! loosely, never from column positions.

use crate::ingest::file_error::{ErrorCode, FileError};

/// The table layouts that are imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// An AlpacaEval board: a nameless model column, `win_rate`,
    /// `standard_error`, counts and lengths.
    AlpacaEval,
    /// A scraped Open LLM Leaderboard (v1): `Model`, `Average`, one
    /// `<Task>(<n>-shot)` column per task, `Parameters`, `URL`.
    OpenLlmLeaderboard,
}

/// The metric of an Open LLM Leaderboard task column: the board's score in
/// percent. Which metric the board computed it from (`acc_norm`, `mc2`, …)
/// is not in the file.
pub(super) const LEADERBOARD_SCORE: &str = "score";

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Role {
    Model,
    /// A score: of `task` (`None`: the board's own task) under `metric`.
    Score {
        task: Option<String>,
        metric: String,
        n_shot: Option<i32>,
        /// The column holding its stderr.
        stderr: Option<usize>,
        higher_is_better: Option<bool>,
    },
    /// The stderr of a score column.
    Stderr,
    /// How many items each model was compared on.
    SampleCount,
    /// Kept in each run's configuration under this key.
    Metadata(&'static str),
    /// Not imported, for this reason.
    Ignored(&'static str),
}

/// Returns each column's role; fails when a header names two columns alike
/// or leaves a column after the first without a name (whose numbers could
/// belong to no task or metric).
pub(super) fn roles(layout: Layout, header: &[String]) -> Result<Vec<Role>, FileError> {
    let header_error = |message| FileError {
        code: ErrorCode::InvalidCsv,
        path: "line 1".into(),
        message,
    };
    if let Some(name) = repeated(header) {
        let message = format!("The column `{name}` appears twice in the header.");
        return Err(header_error(message));
    }
    if let Some(index) = header.iter().skip(1).position(String::is_empty) {
        let message = format!("Column {} has no name in the header.", index + 2);
        return Err(header_error(message));
    }
    let index_of = |name: &str| header.iter().position(|h| h == name);
    let roles: Vec<Role> = header
        .iter()
        .enumerate()
        .map(|(index, name)| match layout {
            _ if index == 0 => Role::Model,
            Layout::AlpacaEval => alpaca_eval(name, &index_of),
            Layout::OpenLlmLeaderboard => open_llm(name),
        })
        .collect();
    // A row is one run per task, so two columns of one task's metric (at
    // two n-shots, say) would claim the same result.
    if let Some(index) = repeated_score(&roles) {
        let message = format!(
            "The column `{}` repeats the task and metric of an earlier column.",
            header[index]
        );
        return Err(header_error(message));
    }

    Ok(roles)
}

fn repeated_score(roles: &[Role]) -> Option<usize> {
    let key = |role: &Role| match role {
        Role::Score { task, metric, .. } => Some((task.clone(), metric.clone())),
        _ => None,
    };
    let keys: Vec<_> = roles.iter().map(key).collect();
    keys.iter()
        .enumerate()
        .find(|(index, key)| key.is_some() && keys[..*index].contains(key))
        .map(|(index, _)| index)
}

fn repeated(header: &[String]) -> Option<&str> {
    header
        .iter()
        .enumerate()
        .find(|(index, name)| header[..*index].contains(name))
        .map(|(_, name)| name.as_str())
}

fn alpaca_eval(name: &str, index_of: &dyn Fn(&str) -> Option<usize>) -> Role {
    let score = |stderr: Option<usize>, higher| Role::Score {
        task: None,
        metric: name.to_owned(),
        n_shot: None,
        stderr,
        higher_is_better: higher,
    };
    match name {
        "win_rate" => score(index_of("standard_error"), Some(true)),
        "length_controlled_winrate" => score(index_of("lc_standard_error"), Some(true)),
        "discrete_win_rate" => score(None, Some(true)),
        "standard_error" | "lc_standard_error" => Role::Stderr,
        "n_total" => Role::SampleCount,
        "mode" => Role::Metadata("mode"),
        // Counts (`n_wins`) and output lengths: numbers without a direction.
        _ => score(None, None),
    }
}

fn open_llm(name: &str) -> Role {
    match name.to_ascii_lowercase().as_str() {
        "average" => Role::Ignored(
            "the mean of the task columns, which composite rankings compute from the tasks",
        ),
        "parameters" => {
            Role::Ignored("a model size the scraper rescaled to 0–100, not a parameter count")
        }
        "url" => Role::Metadata("url"),
        _ => {
            let (task, n_shot) = task_and_shots(name);
            Role::Score {
                task: Some(task),
                metric: LEADERBOARD_SCORE.to_owned(),
                n_shot,
                stderr: None,
                higher_is_better: Some(true),
            }
        }
    }
}

/// Splits `ARC(25-shot)` or `ARC (25-shot)` into `ARC` and 25; a header
/// without a shot count is all task.
pub(super) fn task_and_shots(header: &str) -> (String, Option<i32>) {
    let shots = header
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once('('))
        .and_then(|(task, inner)| {
            let count = inner.trim().strip_suffix("-shot")?.trim().parse().ok()?;
            Some((task.trim().to_owned(), count))
        });
    match shots {
        Some((task, count)) if !task.is_empty() => (task, Some(count)),
        _ => (header.trim().to_owned(), None),
    }
}

/// Returns owned header names, for tests.
#[cfg(test)]
pub(super) fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shot_counts_are_read_in_either_spelling() {
        assert_eq!(task_and_shots("ARC(25-shot)"), ("ARC".into(), Some(25)));
        assert_eq!(task_and_shots("ARC (25-shot)"), ("ARC".into(), Some(25)));
        assert_eq!(task_and_shots("MMLU ( 5-shot )"), ("MMLU".into(), Some(5)));
        assert_eq!(task_and_shots("Average"), ("Average".into(), None));
        assert_eq!(task_and_shots("(5-shot)"), ("(5-shot)".into(), None));
    }

    #[test]
    fn alpaca_eval_pairs_scores_with_their_stderr() -> Result<(), FileError> {
        let names = header(&["", "win_rate", "standard_error", "mode", "n_total"]);
        let roles = roles(Layout::AlpacaEval, &names)?;
        assert_eq!(roles[0], Role::Model);
        assert!(matches!(
            &roles[1],
            Role::Score {
                stderr: Some(2),
                ..
            }
        ));
        assert_eq!(roles[2], Role::Stderr);
        assert_eq!(roles[3], Role::Metadata("mode"));
        assert_eq!(roles[4], Role::SampleCount);
        Ok(())
    }

    #[test]
    fn repeated_and_nameless_headers_are_refused() {
        let error = |names: &[&str]| {
            let error = roles(Layout::OpenLlmLeaderboard, &header(names)).err();
            error.map(|e| (e.code, e.path, e.message))
        };
        assert_eq!(
            error(&["Model", "URL", "URL"]),
            Some((
                ErrorCode::InvalidCsv,
                "line 1".into(),
                "The column `URL` appears twice in the header.".into()
            ))
        );
        assert_eq!(
            error(&["Model", "ARC(25-shot)", "ARC (0-shot)"]),
            Some((
                ErrorCode::InvalidCsv,
                "line 1".into(),
                "The column `ARC (0-shot)` repeats the task and metric of an earlier column."
                    .into()
            ))
        );
        assert_eq!(
            error(&["Model", "ARC(25-shot)", ""]),
            Some((
                ErrorCode::InvalidCsv,
                "line 1".into(),
                "Column 3 has no name in the header.".into()
            ))
        );
    }
}
