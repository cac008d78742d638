//! The checkout Lambda's configuration, read once from the environment at start-up.

use anyhow::Context;
use nanoshop_api::config::{optional, parsed_or, required as var};
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::dynamo::TableNames;
use secrecy::{ExposeSecret, SecretString};

/// Every environment variable the checkout binary reads at start-up and a deployment sets:
/// [`Config::from_env`]'s (the table names through `TableNames::from_env`) and
/// `Verifier::from_env`'s, which `main` calls too. A container may set `AUTH_JWKS_FILE` instead of
/// `AUTH_JWKS`. `STRIPE_API_BASE` is read too, but only tests set it. The deployment template must
/// set each of these (`tests/e2e/infra.rs` checks `infra/template.yaml` against this list).
pub const ENV: &[&str] = &[
    "CATALOG_TABLE",
    "CARTS_TABLE",
    "ORDERS_TABLE",
    "IDEMPOTENCY_TABLE",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "ORDER_TOKEN_SECRET",
    "PAYMENT_WINDOW_MINUTES",
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
    /// `STRIPE_SECRET_KEY`: the Stripe API key (`sk_…`).
    pub stripe_secret_key: SecretString,
    /// `STRIPE_PUBLISHABLE_KEY`: handed to browsers (`pk_…`).
    pub stripe_publishable_key: String,
    /// `STRIPE_API_BASE`: another Stripe API endpoint (tests against localstripe); optional.
    pub stripe_api_base: Option<String>,
    /// `ORDER_TOKEN_SECRET`: at least 32 bytes; the orders function must have the same.
    pub order_token_secret: SecretString,
    /// `PAYMENT_WINDOW_MINUTES`: how long an unpaid order holds its stock (default 30).
    pub payment_window: chrono::TimeDelta,
    /// `MAX_UNITS_PER_SKU`: the most units of one SKU an order may reserve, 1 to 99 (default 10);
    /// the cart must have the same.
    pub max_units_per_sku: MaxUnitsPerSku,
}

impl Config {
    /// # Errors
    /// Names the first variable that is missing or malformed.
    pub fn from_env() -> anyhow::Result<Self> {
        let order_token_secret = SecretString::from(var("ORDER_TOKEN_SECRET")?);
        anyhow::ensure!(order_token_secret.expose_secret().len() >= 32, "ORDER_TOKEN_SECRET must be at least 32 bytes");
        let minutes = match std::env::var("PAYMENT_WINDOW_MINUTES") {
            Ok(m) => m
                .parse::<i64>()
                .ok()
                .filter(|m| (5..=24 * 60).contains(m))
                .context("PAYMENT_WINDOW_MINUTES must be 5 to 1440")?,
            Err(_) => 30,
        };
        Ok(Self {
            tables: TableNames::from_env()?,
            stripe_secret_key: SecretString::from(var("STRIPE_SECRET_KEY")?),
            stripe_publishable_key: var("STRIPE_PUBLISHABLE_KEY")?,
            stripe_api_base: optional("STRIPE_API_BASE"),
            order_token_secret,
            payment_window: chrono::TimeDelta::minutes(minutes),
            max_units_per_sku: parsed_or("MAX_UNITS_PER_SKU", MaxUnitsPerSku::DEFAULT)?,
        })
    }
}
