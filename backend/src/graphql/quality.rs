//! GraphQL types of data-quality findings and quarantined files.

use async_graphql::{ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::quarantine;
use uuid::Uuid;

use crate::error::ServiceError;
use crate::service::quality::{self, Finding};

/// One data-quality finding about one run.
#[derive(SimpleObject, Clone)]
pub struct QualityWarning {
    /// `out_of_range`, `non_finite`, `negative_stderr`, `missing_stderr`,
    /// `incomplete_samples`, `duplicate_samples`, `conflicting_results` or
    /// `copied_results`.
    pub rule: String,
    pub run_id: Uuid,
    pub source_path: String,
    pub detail: String,
}

impl From<&Finding> for QualityWarning {
    fn from(finding: &Finding) -> Self {
        Self {
            rule: finding.rule.code().to_string(),
            run_id: finding.run_id,
            source_path: finding.source_path.clone(),
            detail: finding.detail.clone(),
        }
    }
}

/// How many findings a rule has.
#[derive(SimpleObject)]
pub struct RuleCount {
    pub rule: String,
    pub count: u64,
}

/// Every finding of every rule over the stored data.
pub struct QualityReport(pub Vec<Finding>);

#[Object]
impl QualityReport {
    /// Every rule with its number of findings, rules without any included.
    async fn counts(&self) -> Vec<RuleCount> {
        quality::counts(&self.0)
            .into_iter()
            .map(|(rule, count)| RuleCount {
                rule: rule.code().to_string(),
                count: count as u64,
            })
            .collect()
    }

    /// The findings, by rule then source file; `rule` keeps one rule's (a
    /// code `counts` lists; any other is `invalid_argument`).
    async fn findings(
        &self,
        rule: Option<String>,
        #[graphql(default = 100, validator(minimum = 0, maximum = 1000))] first: i32,
    ) -> Result<Vec<QualityWarning>, ServiceError> {
        if let Some(code) = rule.as_deref()
            && !quality::Rule::ALL.iter().any(|known| known.code() == code)
        {
            return Err(ServiceError::invalid(
                "rule",
                format!("`{code}` is not a rule's code"),
            ));
        }
        Ok(self
            .0
            .iter()
            .filter(|f| rule.as_deref().is_none_or(|r| f.rule.code() == r))
            .take(usize::try_from(first).unwrap_or(0))
            .map(QualityWarning::from)
            .collect())
    }
}

/// A rejected source file, kept until a fixed copy is stored.
pub struct QuarantinedFile(pub quarantine::Model);

#[Object]
impl QuarantinedFile {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn quarantined_at(&self) -> DateTime<Utc> {
        self.0.quarantined_at
    }

    /// Who ran the ingest that rejected it.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    async fn source_path(&self) -> &str {
        &self.0.source_path
    }

    async fn source_sha256(&self) -> Option<&str> {
        self.0.source_sha256.as_deref()
    }

    /// The error's stable code (`invalid_json`, `invalid_field`, …).
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Where in the file: a JSON path (`$.results.arc_easy`) or `line N`.
    async fn location(&self) -> &str {
        &self.0.location
    }

    async fn message(&self) -> &str {
        &self.0.message
    }

    /// When a later ingest of the same path stored the file; `null` while open.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
}
