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
use nanoshop_domain::{Currency, FieldError, Money, ValidationErrors};
use nanoshop_store::StoreError;
use serde::{Deserialize, Serialize};

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
            e @ CatalogError::Store(StoreError::Unavailable(_)) => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

/// Money as the API writes it: `{"amount": 1999, "currency": "EUR"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyHttpBody {
    pub amount: i64,
    pub currency: String,
}

/// Described as the one `Money` of the API.
impl schemars::JsonSchema for MoneyHttpBody {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        Money::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        Money::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Money::json_schema(generator)
    }
}

impl From<Money> for MoneyHttpBody {
    fn from(m: Money) -> Self {
        Self { amount: m.amount, currency: m.currency.to_string() }
    }
}

impl MoneyHttpBody {
    /// The amount as money, or a field error at `field`.
    pub fn parse(&self, field: &str, errors: &mut ValidationErrors) -> Option<Money> {
        match self.currency.parse::<Currency>() {
            Ok(currency) => Some(Money::new(self.amount, currency)),
            Err(e) => {
                errors.add(format!("{field}.currency"), e.to_string());
                None
            }
        }
    }
}
