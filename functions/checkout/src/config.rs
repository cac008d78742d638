//! The checkout Lambda's configuration, read once from the environment at start-up.

use anyhow::Context;
use nanoshop_api::SecretSource;
use nanoshop_api::config::{optional, parsed_or};
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::dynamo::TableNames;

/// Every environment variable the checkout binary reads at start-up and a deployment sets:
/// [`Config::from_env`]'s (the table names through `TableNames::from_env`) and
/// `Verifier::from_env`'s, which `main` calls too. A container may set `AUTH_JWKS_FILE` instead of
/// `AUTH_JWKS`, and the secrets' values instead of their Secrets Manager ids: `STRIPE_SECRET_KEY`
/// and `STRIPE_PUBLISHABLE_KEY` for `STRIPE_SECRET_ID`, `ORDER_TOKEN_SECRET` for
/// `ORDER_TOKEN_SECRET_ID`. `STRIPE_API_BASE` only tests set. The deployment template must set
/// each of these (`tests/e2e/infra.rs` checks `infra/template.yaml` against this list).
pub const ENV: &[&str] = &[
    "CATALOG_TABLE",
    "CARTS_TABLE",
    "ORDERS_TABLE",
    "IDEMPOTENCY_TABLE",
    "STRIPE_SECRET_ID",
    "ORDER_TOKEN_SECRET_ID",
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
    /// The Stripe API key (`sk_…`): field `secret_key` of the Secrets Manager secret
    /// `STRIPE_SECRET_ID`, else `STRIPE_SECRET_KEY`.
    pub stripe_secret_key: SecretSource,
    /// Handed to browsers (`pk_…`): field `publishable_key` of `STRIPE_SECRET_ID`, else
    /// `STRIPE_PUBLISHABLE_KEY`.
    pub stripe_publishable_key: SecretSource,
    /// `STRIPE_API_BASE`: another Stripe API endpoint (tests against localstripe); optional.
    pub stripe_api_base: Option<String>,
    /// At least 32 bytes; the orders function must have the same: the Secrets Manager secret
    /// `ORDER_TOKEN_SECRET_ID`, else `ORDER_TOKEN_SECRET`.
    pub order_token_secret: SecretSource,
    /// `PAYMENT_WINDOW_MINUTES`: how long an unpaid order holds its stock (default 30).
    pub payment_window: chrono::TimeDelta,
    /// `MAX_UNITS_PER_SKU`: the most units of one SKU an order may reserve, 1 to 99 (default 10);
    /// the cart must have the same.
    pub max_units_per_sku: MaxUnitsPerSku,
}

impl Config {
    /// Secrets are only located here: a missing or short one makes the function answer 503
    /// `not_configured` until it can be read, rather than stop.
    ///
    /// # Errors
    /// Names the first other variable that is missing or malformed.
    pub fn from_env() -> anyhow::Result<Self> {
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
            stripe_secret_key: SecretSource::from_env("STRIPE_SECRET_ID", Some("secret_key"), "STRIPE_SECRET_KEY"),
            stripe_publishable_key: SecretSource::from_env(
                "STRIPE_SECRET_ID",
                Some("publishable_key"),
                "STRIPE_PUBLISHABLE_KEY",
            ),
            stripe_api_base: optional("STRIPE_API_BASE"),
            order_token_secret: SecretSource::from_env("ORDER_TOKEN_SECRET_ID", None, "ORDER_TOKEN_SECRET"),
            payment_window: chrono::TimeDelta::minutes(minutes),
            max_units_per_sku: parsed_or("MAX_UNITS_PER_SKU", MaxUnitsPerSku::DEFAULT)?,
        })
    }
}
