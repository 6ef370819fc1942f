//! Gives every error in a response an `extensions.code`.
//!
//! Resolver errors get theirs from `ServiceError`; errors async-graphql raises
//! itself (syntax, unknown fields, depth and complexity limits, bad argument
//! types) carry none, so clients could not branch on them. This extension
//! labels those `invalid_query`, and turns the parser's multi-line source
//! diagrams into one sentence a client can show.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::{Response, Value};

/// The code of errors raised by async-graphql before any resolver ran.
pub const INVALID_QUERY: &str = "invalid_query";

/// Registers [`ErrorCodesExtension`] on the schema.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            let extensions = error.extensions.get_or_insert_with(Default::default);
            if extensions.get("code").is_none() {
                extensions.set("code", Value::from(INVALID_QUERY));
            }
            if let Some(sentence) = syntax_sentence(&error.message) {
                error.message = sentence;
            } else if let Some(sentence) = uuid_sentence(&error.message) {
                error.message = sentence;
            }
        }
        response
    }
}

/// Rewrites the parser's diagram (` --> 1:5`, the source line, a caret,
/// `= expected name`) as `syntax error at line 1, column 5: expected name`;
/// `None` for any other message.
fn syntax_sentence(message: &str) -> Option<String> {
    let position = message
        .trim_start()
        .strip_prefix("-->")?
        .lines()
        .next()?
        .trim();
    let (line, column) = position.split_once(':')?;
    let expected = message
        .lines()
        .filter_map(|text| text.trim_start().strip_prefix("= "))
        .collect::<Vec<_>>()
        .join("; ");
    let expected = if expected.is_empty() {
        "the query cannot be parsed".to_string()
    } else {
        expected.replace('_', " ")
    };
    Some(format!(
        "syntax error at line {line}, column {column}: {expected}"
    ))
}

/// Rewrites the scalar parser's `Failed to parse "UUID": invalid character:
/// found `n` at 0` as a sentence that says what an id looks like.
fn uuid_sentence(message: &str) -> Option<String> {
    let detail = message.strip_prefix("Failed to parse \"UUID\": ")?;
    Some(format!(
        "not a valid id ({detail}): ids are UUIDs like 0f8fad5b-d9cb-469f-a165-70867728950e"
    ))
}

#[cfg(test)]
mod tests {
    use super::{syntax_sentence, uuid_sentence};

    #[test]
    fn a_malformed_id_says_what_an_id_looks_like() {
        assert_eq!(
            uuid_sentence("Failed to parse \"UUID\": invalid character: found `n` at 0").as_deref(),
            Some(
                "not a valid id (invalid character: found `n` at 0): ids are UUIDs like \
                 0f8fad5b-d9cb-469f-a165-70867728950e"
            )
        );
        assert_eq!(uuid_sentence("Failed to parse \"Int\": too big"), None);
    }

    #[test]
    fn parser_diagrams_become_one_sentence() {
        let diagram = " --> 1:3\n  |\n1 | { runs {\n  |   ^---\n  |\n  = expected selection";
        assert_eq!(
            syntax_sentence(diagram).as_deref(),
            Some("syntax error at line 1, column 3: expected selection")
        );
        let empty = " --> 1:1\n  |\n1 | \n  | ^---\n  |\n  = expected executable_definition";
        assert_eq!(
            syntax_sentence(empty).as_deref(),
            Some("syntax error at line 1, column 1: expected executable definition")
        );
        assert_eq!(
            syntax_sentence("Unknown field \"x\" on type \"Query\"."),
            None
        );
    }
}
