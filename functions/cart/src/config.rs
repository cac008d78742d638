//! The cart Lambda's configuration, read once from the environment at start-up.

use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::dynamo::TableNames;

/// Every environment variable the cart binary reads at start-up: [`Config::from_env`]'s (the
/// table names through `TableNames::from_env`) and `Verifier::from_env`'s, which `main` calls too.
/// A container may set `AUTH_JWKS_FILE` instead of `AUTH_JWKS`. The deployment template must set
/// each of these (`tests/e2e/infra.rs` checks `infra/template.yaml` against this list).
pub const ENV: &[&str] = &[
    "CATALOG_TABLE",
    "CARTS_TABLE",
    "ORDERS_TABLE",
    "IDEMPOTENCY_TABLE",
    "IMAGE_BASE_URL",
    "MAX_UNITS_PER_SKU",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS",
    "AUTH_ADMIN_CLAIM",
];

#[derive(Debug)]
pub struct Config {
    /// `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`, `IDEMPOTENCY_TABLE`.
    pub tables: TableNames,
    /// `IMAGE_BASE_URL`: the public prefix images are served from.
    pub image_base_url: String,
    /// `MAX_UNITS_PER_SKU`: the most units of one SKU a cart may hold, 1 to 99 (default 10); the
    /// checkout must have the same.
    pub max_units_per_sku: MaxUnitsPerSku,
}

impl Config {
    /// # Errors
    /// Names the first variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            tables: TableNames::from_env()?,
            image_base_url: nanoshop_api::config::required("IMAGE_BASE_URL")?,
            max_units_per_sku: nanoshop_api::config::parsed_or("MAX_UNITS_PER_SKU", MaxUnitsPerSku::DEFAULT)?,
        })
    }
}
