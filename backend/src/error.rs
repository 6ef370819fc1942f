//! The service error type, its table of stable codes, and the one conversion
//! into GraphQL errors.
//!
//! Clients see a one-sentence message and `extensions.code`; database text
//! never reaches them. Internal errors are logged once, here, with their cause.

use sea_orm::DbErr;

/// Everything a service function can fail with.
///
/// Deliberately not `Display`: async-graphql converts any `Display` error with
/// a blanket `From` that keeps the message and drops `extensions.code`. Without
/// it, `?` in a resolver can only go through the conversion below.
#[derive(Debug)]
pub enum ServiceError {
    /// A named thing does not exist; `entity` is its kind (`model`, `run`, …).
    NotFound { entity: &'static str, key: String },
    /// An argument is malformed or out of range.
    Invalid { field: &'static str, reason: String },
    /// The database or another dependency failed; details stay in the log.
    Internal(DbErr),
}

impl From<DbErr> for ServiceError {
    fn from(error: DbErr) -> Self {
        Self::Internal(error)
    }
}

/// Shorthand for service results.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// Returns the stable, snake_case code clients may branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound {
                entity: "model", ..
            } => "model_not_found",
            Self::NotFound { entity: "run", .. } => "run_not_found",
            Self::NotFound { entity: "task", .. } => "task_not_found",
            Self::NotFound {
                entity: "metric", ..
            } => "metric_not_found",
            Self::NotFound { .. } => "not_found",
            Self::Invalid {
                field: "cursor", ..
            } => "invalid_cursor",
            Self::Invalid { .. } => "invalid_argument",
            Self::Internal(_) => "internal",
        }
    }

    /// Returns the one-sentence message clients see.
    pub fn message(&self) -> String {
        match self {
            Self::NotFound { entity, key } => format!("{entity} `{key}` was not found"),
            Self::Invalid { field, reason } => format!("invalid `{field}`: {reason}"),
            Self::Internal(_) => "internal error".to_string(),
        }
    }

    /// Builds the error for a missing entity.
    pub fn not_found(entity: &'static str, key: impl Into<String>) -> Self {
        Self::NotFound {
            entity,
            key: key.into(),
        }
    }

    /// Builds the error for a malformed argument.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl ServiceError {
    /// Converts into the GraphQL error clients see: message plus `extensions.code`.
    ///
    /// This is the one place internal errors are logged with their cause.
    pub fn to_graphql(&self) -> async_graphql::Error {
        if let Self::Internal(cause) = self {
            tracing::error!(error = %cause, "request failed on an internal error");
        }
        let code = self.code();
        use async_graphql::ErrorExtensions;
        async_graphql::Error::new(self.message())
            .extend_with(|_, extensions| extensions.set("code", code))
    }
}

impl From<ServiceError> for async_graphql::Error {
    fn from(error: ServiceError) -> Self {
        error.to_graphql()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_database_text() {
        let error = ServiceError::from(DbErr::Custom("relation \"run\" is broken".into()));
        let graphql = error.to_graphql();
        assert_eq!(graphql.message, "internal error");
    }

    #[test]
    fn codes_are_noun_first() {
        assert_eq!(
            ServiceError::not_found("model", "x").code(),
            "model_not_found"
        );
        assert_eq!(
            ServiceError::invalid("cursor", "bad").code(),
            "invalid_cursor"
        );
        assert_eq!(
            ServiceError::invalid("first", "bad").code(),
            "invalid_argument"
        );
    }
}
