//! Gives every error in a response an `extensions.code`.
//!
//! Resolver errors get theirs from `ServiceError`; errors async-graphql raises
//! itself (syntax, unknown fields, depth and complexity limits, bad argument
//! types) carry none, so clients could not branch on them. This extension
//! labels those `invalid_query`.

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
        }
        response
    }
}
