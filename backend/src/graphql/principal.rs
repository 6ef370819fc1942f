//! Who is asking: the principal the server attaches to every request, the
//! admin check every mutation makes, and the extension that refuses any
//! mutation from a non-admin before a resolver runs — so a mutation added
//! later is protected even if its resolver forgot to ask.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::parse_query;
use async_graphql::parser::types::OperationType;
use async_graphql::{Context, Enum, Object, Request, Result, ServerError, ServerResult};

use crate::error::{Denial, ServiceError};
use crate::service::access::{Holder, Role};

/// The credentials a request came with, as the server verified them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials.
    Anonymous,
    /// `Authorization: Bearer <token>`.
    Token(Holder),
    /// A session cookie; `csrf_ok` says whether the request also carried the
    /// session's CSRF token and came from this site.
    Session { holder: Holder, csrf_ok: bool },
}

impl Principal {
    /// Returns who holds the credentials, if anyone.
    pub fn holder(&self) -> Option<&Holder> {
        match self {
            Self::Anonymous => None,
            Self::Token(holder) | Self::Session { holder, .. } => Some(holder),
        }
    }

    /// Returns the admin behind a change, or why the change is refused.
    pub fn admin(&self) -> Result<&Holder, Denial> {
        match self {
            Self::Anonymous => Err(Denial::Unauthenticated),
            Self::Token(holder) | Self::Session { holder, .. } if holder.role != Role::Admin => {
                Err(Denial::Forbidden)
            }
            Self::Session { csrf_ok: false, .. } => Err(Denial::CsrfFailed),
            Self::Token(holder) | Self::Session { holder, .. } => Ok(holder),
        }
    }
}

/// Returns the name of the admin making a change, as recorded in audit events.
pub fn admin_actor(ctx: &Context<'_>) -> Result<String> {
    let principal = ctx.data_opt::<Principal>().unwrap_or(&Principal::Anonymous);
    principal
        .admin()
        .map(|holder| holder.name.clone())
        .map_err(|denial| ServiceError::Denied(denial).to_graphql())
}

/// Registers [`MutationGateExtension`] on the schema.
pub struct MutationGate;

impl ExtensionFactory for MutationGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MutationGateExtension)
    }
}

struct MutationGateExtension;

/// Whether the operation a request will run is a mutation. The document is
/// parsed here once more (cheap next to running it) because only the request
/// says which of its operations runs: a document may hold queries and
/// mutations side by side, and only the chosen one matters. A document that
/// does not parse is left to the engine, which refuses it.
fn runs_mutation(request: &Request) -> bool {
    let Ok(document) = parse_query(&request.query) else {
        return false;
    };
    let operations: Vec<(Option<&str>, OperationType)> = document
        .operations
        .iter()
        .map(|(name, operation)| (name.map(|n| n.as_str()), operation.node.ty))
        .collect();
    match (&request.operation_name, operations.as_slice()) {
        (Some(wanted), _) => operations
            .iter()
            .any(|(name, ty)| *name == Some(wanted.as_str()) && *ty == OperationType::Mutation),
        (None, [(_, ty)]) => *ty == OperationType::Mutation,
        // Several operations and none named: the engine refuses to choose;
        // refuse here too if any of them would change something.
        (None, _) => operations
            .iter()
            .any(|(_, ty)| *ty == OperationType::Mutation),
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for MutationGateExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if runs_mutation(&request) {
            let principal = request
                .data
                .get(&std::any::TypeId::of::<Principal>())
                .and_then(|data| data.downcast_ref::<Principal>())
                .or_else(|| ctx.data_opt::<Principal>())
                .unwrap_or(&Principal::Anonymous);
            if let Err(denial) = principal.admin() {
                let error = ServiceError::Denied(denial).to_graphql();
                let mut refused = ServerError::new(error.message, None);
                refused.extensions = error.extensions;
                return Err(refused);
            }
        }
        next.run(ctx, request).await
    }
}

/// A role an access token grants.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role")]
pub enum RoleValue {
    /// May read, even when reads are closed to the public.
    Reader,
    /// May read and change everything.
    Admin,
}

impl From<Role> for RoleValue {
    fn from(role: Role) -> Self {
        match role {
            Role::Reader => Self::Reader,
            Role::Admin => Self::Admin,
        }
    }
}

/// The credentials of the current request.
pub struct Viewer(pub Principal);

#[Object]
impl Viewer {
    /// The access token's name; `null` when anonymous.
    async fn name(&self) -> Option<&str> {
        self.0.holder().map(|holder| holder.name.as_str())
    }

    async fn role(&self) -> Option<RoleValue> {
        self.0.holder().map(|holder| holder.role.into())
    }

    /// True when the request came with a valid token or session.
    async fn signed_in(&self) -> bool {
        self.0.holder().is_some()
    }
}
