//! The GraphQL API: schema construction, shared by the server, the `schema`
//! command and the tests.

mod audit;
mod composite;
mod connection;
mod dataset;
mod error_codes;
pub mod loader;
mod mutation;
pub mod principal;
mod quality;
mod query;
mod record;
mod samples;
mod stats;
mod task_summary;
mod types;

use async_graphql::{EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

pub use loader::Loaders;
pub use mutation::MutationRoot;
pub use principal::Principal;
pub use query::QueryRoot;

/// The schema type served at `/graphql`.
pub type YardstickSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest nesting a query may use. Real pages need about 8; GraphiQL's
/// introspection query (nine nested `ofType`) needs 13.
const MAX_DEPTH: usize = 16;
/// Largest complexity a query may have. A connection counts its children once
/// per node it may return (`first`, default 50), so nested lists multiply.
const MAX_COMPLEXITY: usize = 50_000;

/// Builds the schema around a database connection.
///
/// Data loaders are added per request (see [`Loaders`]) so their caches never
/// outlive one response.
pub fn build_schema(db: DatabaseConnection) -> YardstickSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(db)
        .extension(error_codes::ErrorCodes)
        .extension(principal::MutationGate)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// Returns the schema's SDL, as checked in at `backend/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .finish()
        .sdl()
}
