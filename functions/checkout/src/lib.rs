//! The checkout function: `POST /checkout` turns a cart into an order `pending_payment`, with
//! every line's stock reserved in one atomic write, and a PaymentIntent for its exact total.
//!
//! - [`router`] builds the routes from [`CheckoutDeps`]; `main.rs` only wires.
//! - [`http`]: the handler, step by step (its module documentation is the flow).
//! - [`repo`]: the reads, and the reserve and release transactions.

pub mod config;
pub mod http;
pub mod repo;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::post;
use http::{CheckoutHttpRequest, CheckoutHttpResponse};
use nanoshop_api::capability::OrderTokens;
use nanoshop_api::{Access, Header, Route, Verifier, schema};
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_payments::PaymentGateway;
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};

use crate::repo::CheckoutRepository;

pub const FUNCTION: &str = "checkout";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub const ROUTES: &[Route] = &[Route {
    method: "POST",
    path: "/checkout",
    access: Access::CartTokenOrOwner,
    summary: "Turn a cart into an order with its stock reserved, and a PaymentIntent",
    body: Some(schema::<CheckoutHttpRequest>),
    query: &[],
    ok: &[(201, Some(schema::<CheckoutHttpResponse<'static>>))],
    headers: &[Header::IdempotencyKey],
    errors: &[
        (409, &["cart_empty", "cart_already_checked_out", "out_of_stock", "items_unavailable", "cart_changed"]),
        (
            422,
            &[
                "validation_failed",
                "invalid_address",
                "shipping_method_unavailable",
                "quantity_limit",
                "invalid_discount",
                "nothing_to_pay",
            ],
        ),
        (502, &["payment_provider_unavailable"]),
        (503, &["not_configured"]),
    ],
}];

/// Every table the checkout touches and how; its IAM policy is derived from this list.
pub const ACCESS: &[TableAccess] = &[
    TableAccess {
        table: Table::Catalog,
        actions: &[
            Action::BatchGetItem,
            Action::UpdateItem,
            Action::PutItem,
            Action::DeleteItem,
            Action::DescribeTable,
        ],
        index: false,
    },
    TableAccess {
        table: Table::Carts,
        actions: &[Action::BatchGetItem, Action::PutItem, Action::DeleteItem],
        index: false,
    },
    TableAccess {
        table: Table::Orders,
        actions: &[Action::GetItem, Action::PutItem, Action::DeleteItem],
        index: false,
    },
    TableAccess {
        table: Table::Idempotency,
        actions: &[Action::BatchGetItem, Action::PutItem, Action::DeleteItem],
        index: false,
    },
];

/// What the checkout needs, built once at start-up.
#[derive(Debug, Clone)]
pub struct CheckoutDeps {
    pub store: Arc<dyn Store>,
    pub payments: Arc<dyn PaymentGateway>,
    pub verifier: Arc<Verifier>,
    pub order_tokens: OrderTokens,
    /// How long an unpaid order holds its stock.
    pub payment_window: chrono::TimeDelta,
    /// The most units of one SKU an order may reserve (the cart's limit, checked again: a cart
    /// may have been filled before the limit was lowered).
    pub max_units_per_sku: MaxUnitsPerSku,
}

/// Each field is a sub-state the handlers extract on its own (`State<Arc<Verifier>>` for the
/// auth extractors); `FromRef` is derived for every one.
#[derive(Debug, Clone, FromRef)]
pub struct CheckoutState {
    pub repo: CheckoutRepository,
    pub payments: Arc<dyn PaymentGateway>,
    pub verifier: Arc<Verifier>,
    pub order_tokens: OrderTokens,
    pub payment_window: chrono::TimeDelta,
    pub max_units_per_sku: MaxUnitsPerSku,
}

/// The checkout's routes, without the common layers.
pub fn router(deps: CheckoutDeps) -> Router {
    let state = CheckoutState {
        repo: CheckoutRepository::new(deps.store),
        payments: deps.payments,
        verifier: deps.verifier,
        order_tokens: deps.order_tokens,
        payment_window: deps.payment_window,
        max_units_per_sku: deps.max_units_per_sku,
    };
    Router::new().route("/checkout", post(http::checkout)).with_state(state)
}
