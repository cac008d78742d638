//! The payments webhook: `POST /webhooks/stripe`. Each signed event is verified over the raw
//! body, then applied to its order at most once, by state (not arrival order), in one transaction
//! with the record that the event was processed and the stock movement it implies.
//!
//! - [`router`] builds the route from [`WebhookDeps`]; `main.rs` only wires.
//! - [`http`]: verification, routing of event types, and the answers Stripe sees.
//! - [`apply`]: the transaction that applies an event to an order.

pub mod apply;
pub mod config;
pub mod http;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use http::{ReceivedHttpResponse, StripeEventHttpBody};
use nanoshop_api::{Access, Route, Secret, schema};
use nanoshop_payments::PaymentGateway;
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};

pub const FUNCTION: &str = "payments-webhook";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub const ROUTES: &[Route] = &[Route {
    method: "POST",
    path: "/webhooks/stripe",
    access: Access::StripeSignature,
    summary: "Stripe's signed payment events",
    body: Some(schema::<StripeEventHttpBody>),
    query: &[],
    ok: &[(200, Some(schema::<ReceivedHttpResponse>))],
    headers: &[],
    errors: &[
        (400, &["missing_signature", "invalid_signature", "stale_signature", "malformed_event"]),
        (503, &["not_configured"]),
    ],
}];

/// Every table the webhook touches and how; its IAM policy is derived from this list.
pub const ACCESS: &[TableAccess] = &[
    TableAccess {
        table: Table::Orders,
        actions: &[Action::GetItem, Action::PutItem, Action::DeleteItem],
        index: false,
    },
    TableAccess { table: Table::Idempotency, actions: &[Action::GetItem, Action::PutItem], index: false },
    TableAccess { table: Table::Catalog, actions: &[Action::UpdateItem, Action::DescribeTable], index: false },
];

/// What the webhook needs, built once at start-up.
#[derive(Debug, Clone)]
pub struct WebhookDeps {
    pub store: Arc<dyn Store>,
    /// For refunds of payments that arrive after their order closed.
    pub payments: Arc<dyn PaymentGateway>,
    /// The endpoint's signing secret (`whsec_…`), read at run time and re-read when a signature
    /// fails with it.
    pub secret: Secret,
}

/// The webhook route, without the common layers.
pub fn router(deps: WebhookDeps) -> Router {
    Router::new().route("/webhooks/stripe", post(http::receive)).with_state(deps)
}
