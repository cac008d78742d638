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
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, patch, post, put};
use nanoshop_api::{Route, Verifier};
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};

use crate::repo::CartRepository;

pub const FUNCTION: &str = "cart";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every route of the cart function, as API.md lists them.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/carts",
        who: "anyone",
        summary: "Create a cart (a customer's, with a JWT); the guest token is returned once",
    },
    Route {
        method: "GET",
        path: "/carts/{id}",
        who: "cart token or owner",
        summary: "The cart, priced from the catalog",
    },
    Route { method: "POST", path: "/carts/{id}/items", who: "cart token or owner", summary: "Add units of a SKU" },
    Route {
        method: "PATCH",
        path: "/carts/{id}/items/{sku}",
        who: "cart token or owner",
        summary: "Set a line's quantity; 0 removes it",
    },
    Route { method: "DELETE", path: "/carts/{id}/items/{sku}", who: "cart token or owner", summary: "Remove a line" },
    Route { method: "PUT", path: "/carts/{id}/discount", who: "cart token or owner", summary: "Apply a discount code" },
    Route {
        method: "DELETE",
        path: "/carts/{id}/discount",
        who: "cart token or owner",
        summary: "Remove the discount code",
    },
    Route {
        method: "PUT",
        path: "/carts/{id}/shipping",
        who: "cart token or owner",
        summary: "Set the address and shipping method",
    },
    Route {
        method: "POST",
        path: "/carts/{id}/claim",
        who: "customer",
        summary: "Merge a guest cart into the customer's cart",
    },
    Route { method: "GET", path: "/me/cart", who: "customer", summary: "The customer's active cart" },
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

#[derive(Debug, Clone)]
pub struct CartState {
    pub repo: CartRepository,
    pub verifier: Arc<Verifier>,
    pub image_base: String,
    pub max_units_per_sku: MaxUnitsPerSku,
}

impl FromRef<CartState> for Arc<Verifier> {
    fn from_ref(state: &CartState) -> Self {
        state.verifier.clone()
    }
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
