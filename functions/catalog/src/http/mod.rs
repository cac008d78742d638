//! The catalog's HTTP edge: body types (named `…HttpBody` / `…HttpResponse` so they are never
//! mistaken for domain types), handlers that read as a few business steps, and the mapping of
//! catalog errors to problem+json.

pub mod categories;
pub mod discounts;
pub mod inventory;
pub mod merge_patch;
pub mod products;
pub mod settings;

use nanoshop_api::ApiError;
use nanoshop_domain::FieldError;
use nanoshop_store::StoreError;

use crate::repo::CatalogError;

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::VersionConflict => ApiError::precondition_failed(),
            CatalogError::SlugTaken(slug) => {
                ApiError::conflict("slug_taken", format!("the slug `{slug}` belongs to another product"))
                    .with_errors(vec![FieldError { field: "slug".into(), message: "taken".into() }])
            }
            CatalogError::SkuTaken(sku) => {
                ApiError::conflict("sku_taken", format!("the SKU `{sku}` belongs to another product")).with_errors(
                    vec![FieldError { field: "variants".into(), message: format!("SKU `{sku}` is taken") }],
                )
            }
            CatalogError::CodeTaken(code) => {
                ApiError::conflict("code_taken", format!("another discount has the code `{code}`"))
                    .with_errors(vec![FieldError { field: "code".into(), message: "taken".into() }])
            }
            CatalogError::StockChanged { sku } => {
                ApiError::conflict("stock_changed", format!("stock of `{sku}` kept changing; retry"))
            }
            CatalogError::CategoryConflict => {
                ApiError::conflict("category_changed", "a category changed at the same time; retry")
            }
            CatalogError::TooManyWrites { writes, max } => {
                ApiError::validation(nanoshop_domain::ValidationErrors::single(
                    "variants",
                    format!(
                        "this change rewrites {writes} items and one change may rewrite {max}: \
                         change fewer SKUs, or the title and tags, in a separate change"
                    ),
                ))
            }
            e @ CatalogError::Store(StoreError::Unavailable(_)) => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}
