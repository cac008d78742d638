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
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post, put};
use http::categories::{CategoryHttpBody, CategoryHttpResponse, CategoryTreeHttpResponse};
use http::discounts::{DiscountHttpBody, DiscountHttpResponse};
use http::inventory::{InventoryHttpBody, InventoryHttpResponse};
use http::merge_patch::MergePatch;
use http::products::{
    ImageUploadHttpRequest, ImageUploadHttpResponse, ListProductsHttpQuery, ProductHttpBody, ProductHttpResponse,
};
use http::settings::{PublicSettingsHttpResponse, SettingsHttpBody, SettingsHttpResponse};
use nanoshop_api::http::Health;
use nanoshop_api::{Access, CursorCodec, Header, Page, PaginationQuery, Route, Verifier, one_of, schema};
use nanoshop_store::Store;
use nanoshop_store::port::{Action, Table, TableAccess};

use crate::images::ImageStorage;
use crate::repo::CatalogRepository;

pub const FUNCTION: &str = "catalog";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every route of the catalog function, as `docs/api.md` lists them, with what each reads and
/// answers: the OpenAPI document is generated from this table and the types it names.
/// `errors` is the one place a route's own problem codes are declared.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/products",
        access: Access::Anyone,
        summary: "List active products; admins may filter by status",
        body: None,
        query: &[schema::<ListProductsHttpQuery>, schema::<PaginationQuery>],
        ok: &[(200, Some(schema::<Page<ProductHttpResponse>>))],
        headers: &[],
        errors: &[(400, &["invalid_status", "invalid_category"]), (403, &["forbidden"])],
    },
    Route {
        method: "POST",
        path: "/products",
        access: Access::Admin,
        summary: "Create a product",
        body: Some(schema::<ProductHttpBody>),
        query: &[],
        ok: &[(201, Some(schema::<ProductHttpResponse>))],
        headers: &[Header::ETag, Header::Location],
        errors: &[(409, &["slug_taken", "sku_taken"]), (422, &["validation_failed"])],
    },
    Route {
        method: "GET",
        path: "/products/{id_or_slug}",
        access: Access::Anyone,
        summary: "One product by id or slug",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<ProductHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[],
    },
    Route {
        method: "PATCH",
        path: "/products/{id}",
        access: Access::Admin,
        summary: "Merge-patch a product",
        body: Some(schema::<MergePatch>),
        query: &[],
        ok: &[(200, Some(schema::<ProductHttpResponse>))],
        headers: &[Header::IfMatch, Header::ETag],
        errors: &[(409, &["slug_taken", "sku_taken"]), (422, &["validation_failed"])],
    },
    Route {
        method: "DELETE",
        path: "/products/{id}",
        access: Access::Admin,
        summary: "Archive a product",
        body: None,
        query: &[],
        ok: &[(204, None)],
        headers: &[Header::IfMatch, Header::ETag],
        errors: &[],
    },
    Route {
        method: "POST",
        path: "/products/{id}/images",
        access: Access::Admin,
        summary: "Presigned upload of a product image",
        body: Some(schema::<ImageUploadHttpRequest>),
        query: &[],
        ok: &[(201, Some(schema::<ImageUploadHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[(409, &["too_many_images"]), (422, &["validation_failed"])],
    },
    Route {
        method: "GET",
        path: "/categories",
        access: Access::Anyone,
        summary: "The category tree",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<CategoryTreeHttpResponse>))],
        headers: &[],
        errors: &[],
    },
    Route {
        method: "PUT",
        path: "/categories/{slug}",
        access: Access::Admin,
        summary: "Create or update a category",
        body: Some(schema::<CategoryHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<CategoryHttpResponse>)), (201, Some(schema::<CategoryHttpResponse>))],
        headers: &[Header::IfMatch, Header::ETag],
        errors: &[(409, &["category_changed"]), (422, &["validation_failed"])],
    },
    Route {
        method: "GET",
        path: "/inventory/{sku}",
        access: Access::Admin,
        summary: "Stock of a SKU",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<InventoryHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[],
    },
    Route {
        method: "PUT",
        path: "/inventory/{sku}",
        access: Access::Admin,
        summary: "Set the units on hand of a SKU",
        body: Some(schema::<InventoryHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<InventoryHttpResponse>))],
        headers: &[Header::IfMatch, Header::ETag],
        errors: &[(409, &["below_reserved", "stock_changed"]), (422, &["validation_failed"])],
    },
    Route {
        method: "GET",
        path: "/settings",
        access: Access::Anyone,
        summary: "Store settings (public part; all for admins)",
        body: None,
        query: &[],
        ok: &[(200, Some(one_of::<PublicSettingsHttpResponse, SettingsHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[],
    },
    Route {
        method: "PUT",
        path: "/settings",
        access: Access::Admin,
        summary: "Replace the store settings",
        body: Some(schema::<SettingsHttpBody>),
        query: &[],
        ok: &[(200, Some(schema::<SettingsHttpResponse>))],
        headers: &[Header::IfMatch, Header::ETag],
        errors: &[(422, &["validation_failed"])],
    },
    Route {
        method: "POST",
        path: "/discounts",
        access: Access::Admin,
        summary: "Create a discount code",
        body: Some(schema::<DiscountHttpBody>),
        query: &[],
        ok: &[(201, Some(schema::<DiscountHttpResponse>))],
        headers: &[Header::ETag, Header::Location],
        errors: &[(409, &["code_taken"]), (422, &["validation_failed"])],
    },
    Route {
        method: "GET",
        path: "/discounts",
        access: Access::Admin,
        summary: "List discount codes, newest first",
        body: None,
        query: &[schema::<PaginationQuery>],
        ok: &[(200, Some(schema::<Page<DiscountHttpResponse>>))],
        headers: &[],
        errors: &[],
    },
    Route {
        method: "GET",
        path: "/discounts/{id}",
        access: Access::Admin,
        summary: "One discount code",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<DiscountHttpResponse>))],
        headers: &[Header::ETag],
        errors: &[],
    },
    Route {
        method: "PATCH",
        path: "/discounts/{id}",
        access: Access::Admin,
        summary: "Merge-patch a discount code",
        body: Some(schema::<MergePatch>),
        query: &[],
        ok: &[(200, Some(schema::<DiscountHttpResponse>))],
        headers: &[Header::IfMatch, Header::ETag],
        errors: &[(422, &["validation_failed"])],
    },
    Route {
        method: "GET",
        path: "/health",
        access: Access::Anyone,
        summary: "Liveness and version",
        body: None,
        query: &[],
        ok: &[(200, Some(schema::<Health>))],
        headers: &[],
        errors: &[],
    },
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

/// The handlers' state. Each field is a sub-state the handlers may extract on its own
/// (`State<Arc<Verifier>>` for the auth extractors); `FromRef` is derived for every one.
#[derive(Debug, Clone, FromRef)]
pub struct CatalogState {
    pub repo: CatalogRepository,
    pub images: Arc<dyn ImageStorage>,
    pub verifier: Arc<Verifier>,
    pub cursors: CursorCodec,
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
