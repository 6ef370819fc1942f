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
    /// A thing with this name exists already.
    Exists { entity: &'static str, key: String },
    /// An argument is malformed or out of range.
    Invalid { field: &'static str, reason: String },
    /// One element of a list input is malformed; `path` names it the way a
    /// client wrote it, e.g. `runs[3].results[0].metric`.
    InvalidElement { path: String, reason: String },
    /// An uploaded file is malformed; `line` is 1-based when one line is at fault.
    InvalidFile { line: Option<u64>, reason: String },
    /// The thing exists but its state does not allow the change (a published
    /// version edited, a draft deprecated, …).
    InvalidState { reason: String },
    /// The request's credentials do not allow it.
    Denied(Denial),
    /// The database or another dependency failed; details stay in the log.
    Internal(DbErr),
}

/// Why a request was refused for its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No credentials where some are needed.
    Unauthenticated,
    /// A token or session that matches nothing stored.
    InvalidToken,
    /// A token that was revoked.
    TokenRevoked,
    /// Valid credentials whose role does not allow the request.
    Forbidden,
    /// A cookie-authenticated change without the session's CSRF token.
    CsrfFailed,
    /// An `Authorization` header of another scheme than Bearer (Basic, say):
    /// refused rather than read as anonymous, so a misconfigured client
    /// learns why its credentials do nothing.
    UnsupportedScheme,
}

impl Denial {
    /// Returns the stable code of this denial.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken => "invalid_token",
            Self::TokenRevoked => "token_revoked",
            Self::Forbidden => "forbidden",
            Self::CsrfFailed => "csrf_failed",
            Self::UnsupportedScheme => "unsupported_auth_scheme",
        }
    }

    /// Returns the one-sentence message clients see.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unauthenticated => "this request needs credentials: send an access token",
            Self::InvalidToken => "the access token or session is not valid",
            Self::TokenRevoked => "the access token was revoked",
            Self::Forbidden => "this request needs an admin token",
            Self::CsrfFailed => {
                "a change made with a session cookie must come from this site and carry \
                 the session's X-CSRF-Token header"
            }
            Self::UnsupportedScheme => {
                "only `Authorization: Bearer <token>` is accepted; other schemes are refused"
            }
        }
    }
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
            Self::NotFound { entity, .. } => match *entity {
                "model" => "model_not_found",
                "run" => "run_not_found",
                "task" => "task_not_found",
                "metric" => "metric_not_found",
                "dataset" => "dataset_not_found",
                "dataset version" => "dataset_version_not_found",
                "access token" => "token_not_found",
                _ => "not_found",
            },
            Self::Exists { entity, .. } => match *entity {
                "dataset" => "dataset_exists",
                "access token" => "token_exists",
                _ => "already_exists",
            },
            Self::Invalid { field: "after", .. } => "invalid_cursor",
            Self::Invalid { .. } | Self::InvalidElement { .. } | Self::InvalidFile { .. } => {
                "invalid_argument"
            }
            Self::InvalidState { .. } => "invalid_state",
            Self::Denied(denial) => denial.code(),
            Self::Internal(_) => "internal",
        }
    }

    /// Returns the one-sentence message clients see.
    pub fn message(&self) -> String {
        match self {
            Self::NotFound { entity, key } => format!("{entity} `{key}` was not found"),
            Self::Exists { entity, key } => format!("{entity} `{key}` exists already"),
            Self::Invalid { field, reason } => format!("invalid `{field}`: {reason}"),
            Self::InvalidElement { path, reason } => format!("invalid `{path}`: {reason}"),
            Self::InvalidFile {
                line: Some(line),
                reason,
            } => format!("line {line} of the file: {reason}"),
            Self::InvalidFile { line: None, reason } => format!("the file: {reason}"),
            Self::InvalidState { reason } => reason.clone(),
            Self::Denied(denial) => denial.message().to_string(),
            Self::Internal(_) => "internal error".to_string(),
        }
    }

    /// Returns the argument or input field at fault, so a form can show the
    /// message beside it.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::InvalidElement { path, .. } => Some(path),
            Self::InvalidFile { .. } => Some("file"),
            Self::Exists { .. } => Some("name"),
            _ => None,
        }
    }

    /// Builds the error for a missing entity.
    pub fn not_found(entity: &'static str, key: impl Into<String>) -> Self {
        Self::NotFound {
            entity,
            key: key.into(),
        }
    }

    /// Builds the error for a refused state change.
    pub fn invalid_state(reason: impl Into<String>) -> Self {
        Self::InvalidState {
            reason: reason.into(),
        }
    }

    /// Builds the error for a malformed argument.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Builds the error for a malformed element of a list input.
    pub fn invalid_element(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidElement {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl ServiceError {
    /// Returns what a log line should say: the cause of an internal error,
    /// which clients never see, or the client's message.
    pub fn log_detail(&self) -> String {
        match self {
            Self::Internal(cause) => cause.to_string(),
            other => other.message(),
        }
    }

    /// Converts into the GraphQL error clients see: message plus `extensions.code`.
    ///
    /// This is the one place internal errors are logged with their cause.
    pub fn to_graphql(&self) -> async_graphql::Error {
        if let Self::Internal(cause) = self {
            tracing::error!(error = %cause, "request failed on an internal error");
        }
        let code = self.code();
        let field = self.field().map(str::to_string);
        let line = match self {
            Self::InvalidFile { line, .. } => *line,
            _ => None,
        };
        use async_graphql::ErrorExtensions;
        async_graphql::Error::new(self.message()).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Some(field) = field {
                extensions.set("field", field);
            }
            if let Some(line) = line {
                extensions.set("line", line);
            }
        })
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
            ServiceError::invalid("after", "bad").code(),
            "invalid_cursor"
        );
        assert_eq!(
            ServiceError::invalid("first", "bad").code(),
            "invalid_argument"
        );
    }
}
