//! The cart Lambda's configuration, read once from the environment at start-up.

use anyhow::Context;
use nanoshop_store::dynamo::TableNames;

#[derive(Debug)]
pub struct Config {
    /// `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`, `IDEMPOTENCY_TABLE`.
    pub tables: TableNames,
    /// `IMAGE_BASE_URL`: the public prefix images are served from.
    pub image_base_url: String,
}

impl Config {
    /// # Errors
    /// Names the first variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            tables: TableNames::from_env()?,
            image_base_url: std::env::var("IMAGE_BASE_URL")
                .ok()
                .filter(|v| !v.is_empty())
                .context("IMAGE_BASE_URL is not set")?,
        })
    }
}
