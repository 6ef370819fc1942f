//! Page state kept in the URL's query string, so every view can be shared
//! and reloaded: reading it from query pairs and writing it back.

pub mod samples;

/// What the leaderboard page shows, exactly as the URL says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderboardState {
    pub task: String,
    pub metric: String,
    pub n_shot: Option<i64>,
    pub version: Option<String>,
    pub filter: Option<String>,
    pub tag: Option<String>,
    pub project: Option<String>,
    /// Keeps entries whose model name contains this (a family such as `pythia`).
    pub model: Option<String>,
    /// First day included, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// First day excluded, `YYYY-MM-DD`.
    pub to: Option<String>,
    pub all_revisions: bool,
    pub sort: Option<String>,
}

impl LeaderboardState {
    /// Reads the state from a query-string look-up; unknown keys are ignored
    /// and malformed numbers are treated as absent.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| get(key).filter(|value| !value.trim().is_empty());
        Self {
            task: text("task").unwrap_or_default(),
            metric: text("metric").unwrap_or_default(),
            n_shot: text("nshot").and_then(|n| n.parse().ok()),
            version: text("version"),
            filter: text("filter"),
            tag: text("tag"),
            project: text("project"),
            model: text("model"),
            from: text("from").filter(|d| is_day(d)),
            to: text("to").filter(|d| is_day(d)),
            all_revisions: text("revisions").as_deref() == Some("all"),
            sort: text("sort"),
        }
    }

    /// Writes the state as a query string (without `?`), leaving out what is unset.
    pub fn to_query(&self) -> String {
        let n_shot = self.n_shot.map(|n| n.to_string());
        let revisions = self.all_revisions.then(|| "all".to_string());
        let pairs = [
            ("task", Some(&self.task).filter(|t| !t.is_empty())),
            ("metric", Some(&self.metric).filter(|m| !m.is_empty())),
            ("nshot", n_shot.as_ref()),
            ("version", self.version.as_ref()),
            ("filter", self.filter.as_ref()),
            ("tag", self.tag.as_ref()),
            ("project", self.project.as_ref()),
            ("model", self.model.as_ref()),
            ("from", self.from.as_ref()),
            ("to", self.to.as_ref()),
            ("revisions", revisions.as_ref()),
            ("sort", self.sort.as_ref()),
        ];
        query_string(&pairs)
    }

    /// Returns the state with the configuration choices cleared, for when the
    /// task or metric changes and the old configuration may not exist.
    pub fn without_configuration(mut self) -> Self {
        self.n_shot = None;
        self.version = None;
        self.filter = None;
        self
    }
}

/// Joins present pairs into `k=v&k=v`, encoding both sides.
pub fn query_string(pairs: &[(&str, Option<&String>)]) -> String {
    let present = pairs
        .iter()
        .filter_map(|(key, value)| Some((key, (*value)?)));
    let encoded: Vec<String> = present
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect();
    encoded.join("&")
}

/// Splits a comma-separated list, dropping empty items.
pub fn split_list(text: &str) -> Vec<String> {
    let items = text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty());
    items.map(str::to_string).collect()
}

/// Returns true for `YYYY-MM-DD`.
pub fn is_day(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// Turns a `YYYY-MM-DD` day into the RFC 3339 midnight the API expects.
pub fn day_start(day: &str) -> Option<String> {
    is_day(day).then(|| format!("{day}T00:00:00Z"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes percent-escapes; malformed escapes are kept as written.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The link to a model's page; its name's slashes stay readable.
pub fn model_href(name: &str) -> String {
    let segments: Vec<String> = name.split('/').map(encode).collect();
    format!("/models/{}", segments.join("/"))
}

/// The link to a task's page.
pub fn task_href(name: &str) -> String {
    format!("/tasks/{}", encode(name))
}

/// The link to a run's page.
pub fn run_href(id: &str) -> String {
    format!("/runs/{}", encode(id))
}

/// The link to a task × metric leaderboard.
pub fn leaderboard_href(task: &str, metric: &str) -> String {
    let state = LeaderboardState {
        task: task.into(),
        metric: metric.into(),
        ..LeaderboardState::default()
    };
    format!("/leaderboard?{}", state.to_query())
}

/// The link to a dataset's page.
pub fn dataset_href(name: &str) -> String {
    format!("/datasets/{}", encode(name))
}

/// Which part of a dataset's page shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DatasetTab {
    #[default]
    Versions,
    Items,
    History,
}

impl DatasetTab {
    /// Every tab, in the order the page lists them.
    pub const ALL: [Self; 3] = [Self::Versions, Self::Items, Self::History];

    /// The tab's name in the URL and on screen.
    pub fn key(self) -> &'static str {
        match self {
            Self::Versions => "versions",
            Self::Items => "items",
            Self::History => "history",
        }
    }

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Versions => "Versions",
            Self::Items => "Items",
            Self::History => "History",
        }
    }
}

/// What a dataset's page shows, exactly as the URL says: the tab, the
/// version whose items show, and the cursor of the items or history page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetView {
    pub tab: DatasetTab,
    pub version: Option<i64>,
    pub after: Option<String>,
}

impl DatasetView {
    /// Reads the view from a query-string look-up; an unknown tab is the
    /// default one and a malformed version is absent.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| get(key).filter(|value| !value.trim().is_empty());
        let tab = text("tab")
            .and_then(|key| DatasetTab::ALL.into_iter().find(|t| t.key() == key))
            .unwrap_or_default();
        Self {
            tab,
            version: text("version").and_then(|n| n.parse().ok()),
            after: text("after"),
        }
    }

    /// Returns the URL of `dataset`'s page in this view; the default tab is
    /// left out.
    pub fn href(&self, dataset: &str) -> String {
        let tab = (self.tab != DatasetTab::Versions).then(|| self.tab.key().to_string());
        let version = self.version.map(|n| n.to_string());
        let pairs = [
            ("tab", tab.as_ref()),
            ("version", version.as_ref()),
            ("after", self.after.as_ref()),
        ];
        let query = query_string(&pairs);
        let path = dataset_href(dataset);
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }

    /// Returns the view of another tab, from its first page.
    pub fn with_tab(&self, tab: DatasetTab) -> Self {
        Self {
            tab,
            version: self.version,
            after: None,
        }
    }
}

/// The link to the sign-in page, which comes back to `path?search` after.
pub fn sign_in_href(path: &str, search: &str) -> String {
    if path == "/sign-in" {
        return path.to_string();
    }
    let search = search.trim_start_matches('?');
    let here = match search {
        "" => path.to_string(),
        _ => format!("{path}?{search}"),
    };
    format!("/sign-in?next={}", encode(&here))
}

/// Returns where to go after signing in: `next` when it is a path on this
/// site, else the dataset list. A full URL or `//host` is never followed.
pub fn after_sign_in(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") => path.to_string(),
        _ => "/datasets".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(query: &str) -> LeaderboardState {
        let pairs: HashMap<String, String> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (decode(key), decode(value)))
            .collect();
        LeaderboardState::from_query(|key| pairs.get(key).cloned())
    }

    #[test]
    fn leaderboard_state_survives_a_round_trip_through_the_url() {
        let state = LeaderboardState {
            task: "arc_easy".into(),
            metric: "acc".into(),
            n_shot: Some(5),
            version: Some("1".into()),
            filter: Some("strict-match".into()),
            tag: Some("nightly run".into()),
            project: None,
            model: Some("pythia".into()),
            from: Some("2024-01-01".into()),
            to: None,
            all_revisions: true,
            sort: Some("value-asc".into()),
        };
        let query = state.to_query();
        assert_eq!(
            query,
            "task=arc_easy&metric=acc&nshot=5&version=1&filter=strict-match&\
             tag=nightly%20run&model=pythia&from=2024-01-01&revisions=all&sort=value-asc"
        );
        assert_eq!(parse(&query), state);
    }

    #[test]
    fn malformed_values_in_the_url_are_ignored() {
        let state = parse("task=arc_easy&nshot=five&from=last-week&revisions=some");
        assert_eq!(state.task, "arc_easy");
        assert_eq!(state.n_shot, None);
        assert_eq!(state.from, None);
        assert!(!state.all_revisions);
    }

    #[test]
    fn changing_task_forgets_the_configuration() {
        let state = parse("task=a&metric=m&nshot=5&version=1&filter=none&tag=t");
        let cleared = state.without_configuration();
        assert_eq!(cleared.to_query(), "task=a&metric=m&tag=t");
    }

    #[test]
    fn links_keep_model_names_readable() {
        assert_eq!(
            model_href("EleutherAI/pythia-v1.1-160m"),
            "/models/EleutherAI/pythia-v1.1-160m"
        );
        assert_eq!(model_href("a b"), "/models/a%20b");
        assert_eq!(decode("a%20b%2Fc"), "a b/c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(
            leaderboard_href("arc_easy", "acc"),
            "/leaderboard?task=arc_easy&metric=acc"
        );
    }

    #[test]
    fn days_and_lists_are_parsed_strictly() {
        assert!(is_day("2025-02-28"));
        assert!(!is_day("2025-2-28"));
        assert_eq!(
            day_start("2025-02-28").as_deref(),
            Some("2025-02-28T00:00:00Z")
        );
        assert_eq!(split_list("a, b,,c "), vec!["a", "b", "c"]);
    }

    #[test]
    fn dataset_views_survive_a_round_trip_through_the_url() {
        let view = DatasetView {
            tab: DatasetTab::Items,
            version: Some(3),
            after: Some("abc".into()),
        };
        let href = view.href("arc easy");
        assert_eq!(href, "/datasets/arc%20easy?tab=items&version=3&after=abc");
        let query: HashMap<String, String> = href
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (decode(key), decode(value)))
            .collect();
        assert_eq!(DatasetView::from_query(|key| query.get(key).cloned()), view);
        assert_eq!(DatasetView::default().href("arc"), "/datasets/arc");
        let history = view.with_tab(DatasetTab::History);
        assert_eq!(history.href("arc"), "/datasets/arc?tab=history&version=3");
    }

    #[test]
    fn unknown_tabs_and_bad_versions_fall_back() {
        let view = DatasetView::from_query(|key| match key {
            "tab" => Some("settings".into()),
            "version" => Some("two".into()),
            _ => None,
        });
        assert_eq!(view, DatasetView::default());
    }

    #[test]
    fn sign_in_returns_only_to_paths_on_this_site() {
        assert_eq!(after_sign_in(Some("/datasets/arc")), "/datasets/arc");
        assert_eq!(after_sign_in(Some("//evil.example")), "/datasets");
        assert_eq!(after_sign_in(Some("https://evil.example")), "/datasets");
        assert_eq!(after_sign_in(None), "/datasets");
        assert_eq!(
            sign_in_href("/datasets/arc", "?tab=items"),
            "/sign-in?next=%2Fdatasets%2Farc%3Ftab%3Ditems"
        );
        assert_eq!(sign_in_href("/runs", ""), "/sign-in?next=%2Fruns");
        assert_eq!(sign_in_href("/sign-in", "next=%2Fruns"), "/sign-in");
    }
}
