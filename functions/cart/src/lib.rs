//! The cart function: guest and customer carts, priced from the catalog on every read and write,
//! with discount codes, shipping options and tax.
//!
//! - [`router`] builds the function's routes from [`CartDeps`]; `main.rs` only wires.
//! - [`repo`]: its reads and writes, and the one batch read of the catalog that pricing needs.
//! - [`view`]: the response shape of a cart and its quote (`nanoshop_domain::quote`).
//! - [`http`]: the handlers; every change goes through one read-change-write path with retries.

pub mod config;
pub mod http;
pub mod repo;
#[cfg(test)]
mod tests;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, patch, post, put};
use http::{CreateCartHttpBody, DiscountHttpBody, ItemHttpBody, QuantityHttpBody, ShippingHttpBody};
use nanoshop_api::{Access, Header, Route, Verifier, schema};
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};
use view::CartHttpResponse;

use crate::repo::CartRepository;

pub const FUNCTION: &str = "cart";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every route of the cart function, as `docs/api.md` lists them, with what each reads and answers:
/// the OpenAPI document is generated from this table and the types it names. `errors` is the one
/// place a route's own problem codes are declared.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/carts",
        access: Access::Anyone,
        summary: "Create a cart (a customer's, with a JWT); the guest token is returned once",
        body: Some(schema::<CreateCartHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>)), (201, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[
            (409, &["too_many_lines", "cart_changed"]),
            (422, &["validation_failed", "unsupported_currency", "unknown_sku", "quantity_limit"]),
        ],
    },
    Route {
        method: "GET",
        path: "/carts/{id}",
        access: Access::CartTokenOrOwner,
        summary: "The cart, priced from the catalog",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[],
    },
    Route {
        method: "POST",
        path: "/carts/{id}/items",
        access: Access::CartTokenOrOwner,
        summary: "Add units of a SKU",
        body: Some(schema::<ItemHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[
            (409, &["too_many_lines", "cart_already_checked_out", "cart_changed"]),
            (422, &["validation_failed", "unknown_sku", "quantity_limit"]),
        ],
    },
    Route {
        method: "PATCH",
        path: "/carts/{id}/items/{sku}",
        access: Access::CartTokenOrOwner,
        summary: "Set a line's quantity; 0 removes it",
        body: Some(schema::<QuantityHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[
            (409, &["cart_already_checked_out", "cart_changed"]),
            (422, &["validation_failed", "quantity_limit"]),
        ],
    },
    Route {
        method: "DELETE",
        path: "/carts/{id}/items/{sku}",
        access: Access::CartTokenOrOwner,
        summary: "Remove a line",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[(409, &["cart_already_checked_out", "cart_changed"])],
    },
    Route {
        method: "PUT",
        path: "/carts/{id}/discount",
        access: Access::CartTokenOrOwner,
        summary: "Apply a discount code",
        body: Some(schema::<DiscountHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[
            (409, &["cart_already_checked_out", "cart_changed"]),
            (422, &["invalid_discount"]),
            (429, &["too_many_attempts"]),
        ],
    },
    Route {
        method: "DELETE",
        path: "/carts/{id}/discount",
        access: Access::CartTokenOrOwner,
        summary: "Remove the discount code",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[(409, &["cart_already_checked_out", "cart_changed"])],
    },
    Route {
        method: "PUT",
        path: "/carts/{id}/shipping",
        access: Access::CartTokenOrOwner,
        summary: "Set the address and shipping method",
        body: Some(schema::<ShippingHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[
            (409, &["cart_already_checked_out", "cart_changed"]),
            (422, &["validation_failed", "country_not_shipped", "shipping_method_unavailable"]),
        ],
    },
    Route {
        method: "POST",
        path: "/carts/{id}/claim",
        access: Access::CustomerAndCartToken,
        summary: "Merge a guest cart into the customer's cart",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[(409, &["cart_already_checked_out", "cart_changed"]), (422, &["unknown_sku"])],
    },
    Route {
        method: "GET",
        path: "/me/cart",
        access: Access::Customer,
        summary: "The customer's active cart",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<CartHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[],
    },
];

/// Every table the cart function touches and how; its IAM policy is derived from this list. It
/// only reads the catalog (one batch per request), and warms its connection there.
pub const ACCESS: &[TableAccess] = &[
    TableAccess {
        table: Table::Carts,
        actions: &[Action::GetItem, Action::PutItem, Action::ConditionCheckItem],
        index: false,
    },
    TableAccess { table: Table::Catalog, actions: &[Action::BatchGetItem, Action::DescribeTable], index: false },
];

/// What the cart function needs, built once at start-up.
#[derive(Debug, Clone)]
pub struct CartDeps {
    pub store: Arc<dyn Store>,
    pub verifier: Arc<Verifier>,
    /// Where product images are served from; image keys are appended.
    pub image_base: String,
    /// The most units of one SKU a cart may hold.
    pub max_units_per_sku: MaxUnitsPerSku,
}

/// Each field is a sub-state the handlers extract on its own (`State<Arc<Verifier>>` for the
/// auth extractors); `FromRef` is derived for every one.
#[derive(Debug, Clone, FromRef)]
pub struct CartState {
    pub repo: CartRepository,
    pub verifier: Arc<Verifier>,
    pub image_base: String,
    pub max_units_per_sku: MaxUnitsPerSku,
}

/// The cart's routes, without the common layers (added once by the binary or the local server).
pub fn router(deps: CartDeps) -> Router {
    let state = CartState {
        repo: CartRepository::new(deps.store),
        verifier: deps.verifier,
        image_base: deps.image_base,
        max_units_per_sku: deps.max_units_per_sku,
    };
    Router::new()
        .route("/carts", post(http::create))
        .route("/carts/{id}", get(http::get))
        .route("/carts/{id}/items", post(http::add_item))
        .route("/carts/{id}/items/{sku}", patch(http::set_item).delete(http::remove_item))
        .route("/carts/{id}/discount", put(http::apply_discount).delete(http::remove_discount))
        .route("/carts/{id}/shipping", put(http::set_shipping))
        .route("/carts/{id}/claim", post(http::claim))
        .route("/me/cart", get(http::mine))
        .with_state(state)
}
