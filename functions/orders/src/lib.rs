//! The orders function: the merchant's and the customer's view of what was bought, fulfilment,
//! cancel and refund; and the expiry sweep of unpaid orders (the `orders-expirer` binary).
//!
//! - [`router`] builds the routes from [`OrdersDeps`]; `main.rs` only wires.
//! - [`http`]: the handlers; state changes come from `nanoshop_domain::order`.
//! - [`repo`]: orders, their listings and the stock movements that go with a change.
//! - [`expiry`]: the sweep, shared by the scheduled binary and `nanoshop serve`.
//! - [`events`]: order events from the outbox to EventBridge (`orders-events-relay`) or, locally,
//!   to a log.

pub mod config;
pub mod events;
pub mod expiry;
pub mod http;
pub mod repo;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use http::{FulfillmentHttpBody, ListOrdersHttpQuery, OrderTokenHttpResponse, RefundHttpBody, RefundHttpResponse};
use nanoshop_api::capability::OrderTokens;
use nanoshop_api::{Access, CursorCodec, Header, Page, PaginationQuery, Route, Verifier, schema};
use nanoshop_domain::order::Order;
use nanoshop_payments::PaymentGateway;
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};

use crate::repo::OrdersRepository;

pub const FUNCTION: &str = "orders";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/orders",
        access: Access::CustomerOrAdmin,
        summary: "Orders newest first; admins filter by status or e-mail",
        body: None,
        query: &[schema::<ListOrdersHttpQuery>, schema::<PaginationQuery>],
        ok: &[(200, Some(schema::<Page<Order>>))],
        headers: &[],
        errors: &[(400, &["invalid_status"])],
    },
    Route {
        method: "GET",
        path: "/orders/{id}",
        access: Access::OrderOwnerTokenOrAdmin,
        summary: "One order",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<Order>))],
        headers: &[],
        errors: &[],
    },
    Route {
        method: "POST",
        path: "/orders/{id}/cancel",
        access: Access::OwnerOrAdmin,
        summary: "Cancel; refunds what was paid, restocks",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<Order>))],
        headers: &[],
        errors: &[
            (409, &["invalid_transition", "payment_in_flight", "payment_provider_refused", "order_changed"]),
            (502, &["payment_provider_unavailable"]),
        ],
    },
    Route {
        method: "POST",
        path: "/orders/{id}/token",
        access: Access::OwnerOrAdmin,
        summary: "A fresh order token; every earlier token of the order stops working",
        body: None,
        query: &[],
        ok: &[(201, Some(schema::<OrderTokenHttpResponse>))],
        headers: &[],
        errors: &[(409, &["order_changed"])],
    },
    Route {
        method: "POST",
        path: "/orders/{id}/fulfillments",
        access: Access::Admin,
        summary: "Ship some or all of what is left",
        body: Some(schema::<FulfillmentHttpBody>),
        query: &[],
        ok: &[(201, Some(schema::<Order>))],
        headers: &[],
        errors: &[(409, &["invalid_transition", "order_changed"]), (422, &["invalid_lines", "validation_failed"])],
    },
    Route {
        method: "POST",
        path: "/orders/{id}/refunds",
        access: Access::Admin,
        summary: "Refund (Idempotency-Key required), restocking explicitly",
        body: Some(schema::<RefundHttpBody>),
        query: &[],
        ok: &[(201, Some(schema::<RefundHttpResponse<'static>>))],
        headers: &[Header::IdempotencyKey],
        errors: &[
            (409, &["invalid_transition", "payment_provider_refused", "order_changed"]),
            (422, &["invalid_amount", "invalid_lines", "validation_failed"]),
            (502, &["payment_provider_unavailable"]),
        ],
    },
];

/// Every table the orders function touches and how. Listings are queried on the table itself;
/// the warm-up describes the catalog table.
pub const ACCESS: &[TableAccess] = &[
    TableAccess {
        table: Table::Orders,
        actions: &[Action::GetItem, Action::BatchGetItem, Action::Query, Action::PutItem, Action::DeleteItem],
        index: false,
    },
    TableAccess { table: Table::Catalog, actions: &[Action::UpdateItem, Action::DescribeTable], index: false },
    TableAccess { table: Table::Idempotency, actions: &[Action::PutItem, Action::DeleteItem], index: false },
];

/// What `orders-expirer` does: query the pending index, then expire each order (order and listing
/// writes) and release its stock, or move an order it cannot close behind the others (an update
/// of its index key).
pub const EXPIRER_ACCESS: &[TableAccess] = &[
    TableAccess {
        table: Table::Orders,
        actions: &[Action::Query, Action::PutItem, Action::UpdateItem, Action::DeleteItem],
        index: true,
    },
    TableAccess { table: Table::Catalog, actions: &[Action::UpdateItem], index: false },
];

/// What `orders-events-relay` does to the tables: it reads the orders table's stream (through its
/// event source mapping, with the function's role) and nothing else; the events it puts on the bus
/// are not a table action.
pub const RELAY_ACCESS: &[TableAccess] = &[TableAccess {
    table: Table::Orders,
    actions: &[Action::DescribeStream, Action::GetRecords, Action::GetShardIterator, Action::ListStreams],
    index: false,
}];

/// What the orders function needs, built once at start-up.
#[derive(Debug, Clone)]
pub struct OrdersDeps {
    pub store: Arc<dyn Store>,
    pub payments: Arc<dyn PaymentGateway>,
    pub verifier: Arc<Verifier>,
    pub order_tokens: OrderTokens,
    pub cursors: CursorCodec,
    /// How long after it was issued an order token still shows the order's personal data
    /// (`ORDER_TOKEN_PERSONAL_DATA_DAYS`).
    pub personal_data_window: chrono::TimeDelta,
}

/// How long an order token shows personal data unless configured otherwise.
pub const DEFAULT_PERSONAL_DATA_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// Each field is a sub-state the handlers extract on its own (`State<Arc<Verifier>>` for the
/// auth extractors); `FromRef` is derived for every one.
#[derive(Debug, Clone, FromRef)]
pub struct OrdersState {
    pub repo: OrdersRepository,
    pub payments: Arc<dyn PaymentGateway>,
    pub verifier: Arc<Verifier>,
    pub order_tokens: OrderTokens,
    pub cursors: CursorCodec,
    pub personal_data_window: chrono::TimeDelta,
}

/// The orders routes, without the common layers.
pub fn router(deps: OrdersDeps) -> Router {
    let state = OrdersState {
        repo: OrdersRepository::new(deps.store),
        payments: deps.payments,
        verifier: deps.verifier,
        order_tokens: deps.order_tokens,
        cursors: deps.cursors,
        personal_data_window: deps.personal_data_window,
    };
    Router::new()
        .route("/orders", get(http::list))
        .route("/orders/{id}", get(http::get))
        .route("/orders/{id}/cancel", post(http::cancel))
        .route("/orders/{id}/token", post(http::new_token))
        .route("/orders/{id}/fulfillments", post(http::fulfill))
        .route("/orders/{id}/refunds", post(http::refund))
        .with_state(state)
}
