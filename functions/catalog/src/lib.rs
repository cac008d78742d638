//! The catalog function: products with variants and per-currency prices, categories, stock
//! levels, store settings, and presigned image uploads.
//!
//! - [`router`] builds the function's axum router from its [`CatalogDeps`]; `main.rs` only wires.
//! - [`repo`] is every read and write of the catalog table, over the storage port.
//! - [`http`] holds the handlers and their body types.
//! - [`images`] is the image-storage port and its S3 adapter.
//! - [`ROUTES`] lists every route, for the OpenAPI description and the infrastructure checks.

pub mod config;
pub mod http;
pub mod images;
pub mod repo;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post, put};
use nanoshop_api::{Access, CursorCodec, Route, Verifier};
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};

use crate::images::ImageStorage;
use crate::repo::CatalogRepository;

pub const FUNCTION: &str = "catalog";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every route of the catalog function, as API.md lists them.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/products",
        access: Access::Anyone,
        summary: "List active products; admins may filter by status",
    },
    Route { method: "POST", path: "/products", access: Access::Admin, summary: "Create a product" },
    Route {
        method: "GET",
        path: "/products/{id_or_slug}",
        access: Access::Anyone,
        summary: "One product by id or slug",
    },
    Route { method: "PATCH", path: "/products/{id}", access: Access::Admin, summary: "Merge-patch a product" },
    Route { method: "DELETE", path: "/products/{id}", access: Access::Admin, summary: "Archive a product" },
    Route {
        method: "POST",
        path: "/products/{id}/images",
        access: Access::Admin,
        summary: "Presigned upload of a product image",
    },
    Route { method: "GET", path: "/categories", access: Access::Anyone, summary: "The category tree" },
    Route { method: "PUT", path: "/categories/{slug}", access: Access::Admin, summary: "Create or update a category" },
    Route { method: "GET", path: "/inventory/{sku}", access: Access::Admin, summary: "Stock of a SKU" },
    Route { method: "PUT", path: "/inventory/{sku}", access: Access::Admin, summary: "Set the units on hand of a SKU" },
    Route {
        method: "GET",
        path: "/settings",
        access: Access::Anyone,
        summary: "Store settings (public part; all for admins)",
    },
    Route { method: "PUT", path: "/settings", access: Access::Admin, summary: "Replace the store settings" },
    Route { method: "POST", path: "/discounts", access: Access::Admin, summary: "Create a discount code" },
    Route { method: "GET", path: "/discounts", access: Access::Admin, summary: "List discount codes, newest first" },
    Route { method: "GET", path: "/discounts/{id}", access: Access::Admin, summary: "One discount code" },
    Route { method: "PATCH", path: "/discounts/{id}", access: Access::Admin, summary: "Merge-patch a discount code" },
    Route { method: "GET", path: "/health", access: Access::Anyone, summary: "Liveness and version" },
];

/// Every table the catalog function touches and how; its IAM policy is derived from this list.
pub const ACCESS: &[TableAccess] = &[TableAccess {
    table: Table::Catalog,
    actions: &[
        Action::GetItem,
        Action::BatchGetItem,
        Action::Query,
        Action::PutItem,
        Action::UpdateItem,
        Action::DeleteItem,
        Action::ConditionCheckItem,
        Action::DescribeTable,
    ],
    index: true,
}];

/// What the catalog function needs, built once at start-up.
#[derive(Debug, Clone)]
pub struct CatalogDeps {
    pub store: Arc<dyn Store>,
    pub images: Arc<dyn ImageStorage>,
    pub verifier: Arc<Verifier>,
    pub cursors: CursorCodec,
}

/// The handlers' state.
#[derive(Debug, Clone)]
pub struct CatalogState {
    pub repo: CatalogRepository,
    pub images: Arc<dyn ImageStorage>,
    pub verifier: Arc<Verifier>,
    pub cursors: CursorCodec,
}

impl FromRef<CatalogState> for Arc<Verifier> {
    fn from_ref(state: &CatalogState) -> Self {
        state.verifier.clone()
    }
}

/// The catalog's routes, without the common layers (request ids, limits, problem+json
/// fallbacks), which the binary or the all-in-one server adds once around everything.
pub fn router(deps: CatalogDeps) -> Router {
    let state = CatalogState {
        repo: CatalogRepository::new(deps.store),
        images: deps.images,
        verifier: deps.verifier,
        cursors: deps.cursors,
    };
    Router::new()
        .route("/products", get(http::products::list).post(http::products::create))
        .route("/products/{id}", get(http::products::get).patch(http::products::patch).delete(http::products::archive))
        .route("/products/{id}/images", post(http::products::add_image))
        .route("/categories", get(http::categories::tree))
        .route("/categories/{slug}", put(http::categories::put))
        .route("/inventory/{sku}", get(http::inventory::get).put(http::inventory::put))
        .route("/settings", get(http::settings::get).put(http::settings::put))
        .route("/discounts", get(http::discounts::list).post(http::discounts::create))
        .route("/discounts/{id}", get(http::discounts::get).patch(http::discounts::patch))
        .with_state(state)
}
