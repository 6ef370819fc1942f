//! The URL state of per-sample views: a run page's tab and its samples'
//! filters and cursor, and the two runs (and the items shown) of a per-item
//! comparison.

use super::{encode, query_string, run_href};

/// Which part of a run's page shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunTab {
    /// Results, provenance and history.
    #[default]
    Overview,
    Samples,
}

impl RunTab {
    /// Every tab, in the order the page lists them.
    pub const ALL: [Self; 2] = [Self::Overview, Self::Samples];

    /// The tab's name in the URL.
    pub fn key(self) -> &'static str {
        match self {
            Self::Overview => "overview",
            Self::Samples => "samples",
        }
    }
}

/// Which verdicts the samples table keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Verdict {
    #[default]
    All,
    Correct,
    Incorrect,
}

impl Verdict {
    /// Every choice, in the order the filter lists them.
    pub const ALL: [Self; 3] = [Self::All, Self::Correct, Self::Incorrect];

    /// The choice's name in the URL (and its `<option>` value).
    pub fn key(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Correct => "correct",
            Self::Incorrect => "incorrect",
        }
    }

    /// The choice's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::Correct => "Correct only",
            Self::Incorrect => "Incorrect only",
        }
    }

    /// The API's `correct` filter: `None` keeps every sample.
    pub fn correct(self) -> Option<bool> {
        match self {
            Self::All => None,
            Self::Correct => Some(true),
            Self::Incorrect => Some(false),
        }
    }

    /// Reads a choice by its key; anything else keeps every sample.
    pub fn from_key(key: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|v| v.key() == key)
            .unwrap_or_default()
    }
}

/// What a run's page shows, exactly as the URL says: the tab, and on the
/// samples tab the filters and the cursor of the page shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunView {
    pub tab: RunTab,
    pub verdict: Verdict,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    /// Text the sample's input must contain.
    pub search: Option<String>,
    pub after: Option<String>,
}

impl RunView {
    /// Reads the view from a query-string look-up; unknown tabs and
    /// verdicts fall back to the defaults, and a score that is not a finite
    /// number is absent.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| get(key).filter(|value| !value.trim().is_empty());
        let tab = text("tab")
            .and_then(|key| RunTab::ALL.into_iter().find(|t| t.key() == key))
            .unwrap_or_default();
        Self {
            tab,
            verdict: text("verdict").map_or(Verdict::All, |key| Verdict::from_key(&key)),
            min_score: text("min").and_then(|n| parse_score(&n)),
            max_score: text("max").and_then(|n| parse_score(&n)),
            search: text("search").map(|s| s.trim().to_string()),
            after: text("after"),
        }
    }

    /// Returns the URL of run `id`'s page in this view; defaults are left
    /// out, and the samples' filters only travel with the samples tab.
    pub fn href(&self, id: &str) -> String {
        let path = run_href(id);
        if self.tab == RunTab::Overview {
            return path;
        }
        let verdict = (self.verdict != Verdict::All).then(|| self.verdict.key().to_string());
        let min = self.min_score.map(|n| n.to_string());
        let max = self.max_score.map(|n| n.to_string());
        let tab = self.tab.key().to_string();
        let pairs = [
            ("tab", Some(&tab)),
            ("verdict", verdict.as_ref()),
            ("min", min.as_ref()),
            ("max", max.as_ref()),
            ("search", self.search.as_ref()),
            ("after", self.after.as_ref()),
        ];
        format!("{path}?{}", query_string(&pairs))
    }

    /// Returns the view of another tab, with the samples' filters kept.
    pub fn with_tab(&self, tab: RunTab) -> Self {
        Self {
            tab,
            after: None,
            ..self.clone()
        }
    }

    /// True when a filter narrows the samples.
    pub fn is_filtered(&self) -> bool {
        self.verdict != Verdict::All
            || self.min_score.is_some()
            || self.max_score.is_some()
            || self.search.is_some()
    }
}

/// Reads a score bound typed by a person: a finite number, else nothing.
pub fn parse_score(text: &str) -> Option<f64> {
    text.trim().parse().ok().filter(|n: &f64| n.is_finite())
}

/// Which shared items a per-item comparison lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DiffShow {
    /// Items one run got right and the other wrong.
    #[default]
    Discordant,
    /// Items only the first run got right.
    FirstRight,
    /// Items only the second run got right.
    SecondRight,
    /// Every item the two runs scored differently, judged or not.
    Scored,
}

impl DiffShow {
    /// Every choice, in the order the filter lists them.
    pub const ALL: [Self; 4] = [
        Self::Discordant,
        Self::FirstRight,
        Self::SecondRight,
        Self::Scored,
    ];

    /// The choice's name in the URL.
    pub fn key(self) -> &'static str {
        match self {
            Self::Discordant => "discordant",
            Self::FirstRight => "first",
            Self::SecondRight => "second",
            Self::Scored => "scored",
        }
    }

    /// The choice's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Discordant => "All discordant",
            Self::FirstRight => "Only the first right",
            Self::SecondRight => "Only the second right",
            Self::Scored => "Every score difference",
        }
    }

    /// True when an item with these verdicts (first, second) is listed.
    pub fn keeps(self, first: Option<bool>, second: Option<bool>) -> bool {
        match self {
            Self::Discordant => matches!(
                (first, second),
                (Some(true), Some(false)) | (Some(false), Some(true))
            ),
            Self::FirstRight => first == Some(true) && second == Some(false),
            Self::SecondRight => first == Some(false) && second == Some(true),
            Self::Scored => true,
        }
    }
}

/// What a per-item comparison shows, exactly as the URL says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleDiffView {
    pub first: String,
    pub second: String,
    pub show: DiffShow,
}

impl SampleDiffView {
    /// Reads the view from a query-string look-up; an unknown `show` lists
    /// the discordant items.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| {
            get(key)
                .map(|value| value.trim().to_string())
                .unwrap_or_default()
        };
        let show = text("show");
        Self {
            first: text("first"),
            second: text("second"),
            show: DiffShow::ALL
                .into_iter()
                .find(|s| s.key() == show)
                .unwrap_or_default(),
        }
    }

    /// Returns the comparison's URL; the default `show` is left out.
    pub fn href(&self) -> String {
        let mut href = format!(
            "/compare-samples?first={}&second={}",
            encode(&self.first),
            encode(&self.second)
        );
        if self.show != DiffShow::Discordant {
            href.push_str("&show=");
            href.push_str(self.show.key());
        }
        href
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::decode;
    use super::*;

    fn query_of(href: &str) -> HashMap<String, String> {
        let query = href.split_once('?').map(|(_, q)| q).unwrap_or_default();
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (decode(key), decode(value)))
            .collect()
    }

    #[test]
    fn sample_filters_survive_a_round_trip_through_the_url() {
        let view = RunView {
            tab: RunTab::Samples,
            verdict: Verdict::Incorrect,
            min_score: Some(0.5),
            max_score: Some(1.0),
            search: Some("red apples".into()),
            after: Some("MTk=".into()),
        };
        let href = view.href("r-1");
        assert_eq!(
            href,
            "/runs/r-1?tab=samples&verdict=incorrect&min=0.5&max=1&\
             search=red%20apples&after=MTk%3D"
        );
        let query = query_of(&href);
        assert_eq!(RunView::from_query(|key| query.get(key).cloned()), view);
    }

    #[test]
    fn the_overview_tab_has_a_bare_url_and_keeps_no_cursor() {
        let view = RunView {
            verdict: Verdict::Correct,
            after: Some("abc".into()),
            ..RunView::default()
        };
        assert_eq!(view.href("r"), "/runs/r");
        let samples = view.with_tab(RunTab::Samples);
        assert_eq!(samples.href("r"), "/runs/r?tab=samples&verdict=correct");
        assert!(samples.is_filtered());
        assert!(!RunView::default().is_filtered());
    }

    #[test]
    fn malformed_sample_filters_are_ignored() {
        let view = RunView::from_query(|key| match key {
            "tab" => Some("settings".into()),
            "verdict" => Some("maybe".into()),
            "min" => Some("NaN".into()),
            "max" => Some("lots".into()),
            "search" => Some("   ".into()),
            _ => None,
        });
        assert_eq!(view, RunView::default());
        assert_eq!(parse_score(" -2.5 "), Some(-2.5));
        assert_eq!(parse_score("inf"), None);
        assert_eq!(Verdict::from_key("incorrect").correct(), Some(false));
        assert_eq!(Verdict::All.correct(), None);
    }

    #[test]
    fn sample_comparisons_survive_a_round_trip_through_the_url() {
        let view = SampleDiffView {
            first: "a".into(),
            second: "b c".into(),
            show: DiffShow::SecondRight,
        };
        let href = view.href();
        assert_eq!(href, "/compare-samples?first=a&second=b%20c&show=second");
        let query = query_of(&href);
        assert_eq!(
            SampleDiffView::from_query(|key| query.get(key).cloned()),
            view
        );
        let plain = SampleDiffView {
            show: DiffShow::Discordant,
            ..view
        };
        assert_eq!(plain.href(), "/compare-samples?first=a&second=b%20c");
    }

    #[test]
    fn each_choice_keeps_its_items() {
        let (right, wrong) = (Some(true), Some(false));
        assert!(DiffShow::Discordant.keeps(right, wrong));
        assert!(DiffShow::Discordant.keeps(wrong, right));
        assert!(!DiffShow::Discordant.keeps(right, None));
        assert!(DiffShow::FirstRight.keeps(right, wrong));
        assert!(!DiffShow::FirstRight.keeps(wrong, right));
        assert!(DiffShow::SecondRight.keeps(wrong, right));
        assert!(DiffShow::Scored.keeps(None, None));
    }
}
