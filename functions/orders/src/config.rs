//! The orders Lambda's (and the expirer's) configuration, read once from the environment.

use nanoshop_api::SecretSource;
use nanoshop_api::config::optional;
use nanoshop_store::dynamo::TableNames;

/// Every environment variable the orders binary reads at start-up and a deployment sets:
/// [`Config::from_env`]'s (the table names through `TableNames::from_env`) and
/// `Verifier::from_env`'s, which `main` calls too. A container may set `AUTH_JWKS_FILE` instead of
/// `AUTH_JWKS`, and the secrets' values instead of their Secrets Manager ids: `STRIPE_SECRET_KEY`
/// for `STRIPE_SECRET_ID`, `ORDER_TOKEN_SECRET` for `ORDER_TOKEN_SECRET_ID`, `CURSOR_SECRET` for
/// `CURSOR_SECRET_ID`. `STRIPE_API_BASE` only tests set. The deployment template must set each of
/// these (`tests/e2e/infra.rs` checks `infra/template.yaml` against this list).
pub const ENV: &[&str] = &[
    "CATALOG_TABLE",
    "CARTS_TABLE",
    "ORDERS_TABLE",
    "IDEMPOTENCY_TABLE",
    "STRIPE_SECRET_ID",
    "ORDER_TOKEN_SECRET_ID",
    "CURSOR_SECRET_ID",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS",
    "AUTH_ADMIN_CLAIM",
    "ORDER_TOKEN_PERSONAL_DATA_DAYS",
];

/// What `orders-expirer` reads ([`ExpirerConfig::from_env`]): the tables and the Stripe key it
/// cancels intents with (`STRIPE_SECRET_KEY` in a container). It checks no tokens and signs no
/// cursors, so it is given neither secret.
pub const EXPIRER_ENV: &[&str] =
    &["CATALOG_TABLE", "CARTS_TABLE", "ORDERS_TABLE", "IDEMPOTENCY_TABLE", "STRIPE_SECRET_ID"];

/// What `orders-events-relay` reads (in `src/bin/events_relay.rs`): the EventBridge bus it puts
/// the order events on. It reads no table: the orders table's stream brings the records.
pub const RELAY_ENV: &[&str] = &["EVENT_BUS_NAME"];

/// What the expiry sweep needs: the tables and Stripe.
#[derive(Debug)]
pub struct ExpirerConfig {
    /// `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`, `IDEMPOTENCY_TABLE`.
    pub tables: TableNames,
    /// For cancels and refunds: field `secret_key` of the Secrets Manager secret
    /// `STRIPE_SECRET_ID`, else `STRIPE_SECRET_KEY`.
    pub stripe_secret_key: SecretSource,
    /// `STRIPE_API_BASE`: another Stripe API endpoint (tests against localstripe); optional.
    pub stripe_api_base: Option<String>,
}

impl ExpirerConfig {
    /// # Errors
    /// Names the first table variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            tables: TableNames::from_env()?,
            stripe_secret_key: SecretSource::from_env("STRIPE_SECRET_ID", Some("secret_key"), "STRIPE_SECRET_KEY"),
            stripe_api_base: optional("STRIPE_API_BASE"),
        })
    }
}

/// The orders function's: the expirer's, plus the secrets of order tokens and cursors.
#[derive(Debug)]
pub struct Config {
    /// The tables and Stripe.
    pub base: ExpirerConfig,
    /// The checkout function's order-token key, to check guests' order tokens: the Secrets
    /// Manager secret `ORDER_TOKEN_SECRET_ID`, else `ORDER_TOKEN_SECRET`.
    pub order_token_secret: SecretSource,
    /// At least 32 bytes that sign list cursors: `CURSOR_SECRET_ID`, else `CURSOR_SECRET`.
    pub cursor_secret: SecretSource,
    /// `ORDER_TOKEN_PERSONAL_DATA_DAYS`: for how many days after it was issued an order token
    /// shows the order's e-mail and address (0 to 3650; unset: 30). After that it shows the rest.
    pub personal_data_window: chrono::TimeDelta,
}

/// Longest personal-data window accepted: ten years.
const MAX_PERSONAL_DATA_DAYS: i64 = 3650;

/// `ORDER_TOKEN_PERSONAL_DATA_DAYS`, or the default window.
fn personal_data_window() -> anyhow::Result<chrono::TimeDelta> {
    let Some(days) = optional("ORDER_TOKEN_PERSONAL_DATA_DAYS") else {
        return Ok(crate::DEFAULT_PERSONAL_DATA_WINDOW);
    };
    let days = days.trim().parse::<i64>().ok().filter(|d| (0..=MAX_PERSONAL_DATA_DAYS).contains(d));
    let days = days.ok_or_else(|| {
        anyhow::anyhow!(
            "ORDER_TOKEN_PERSONAL_DATA_DAYS must be a whole number of days from 0 to {MAX_PERSONAL_DATA_DAYS}"
        )
    })?;
    Ok(chrono::TimeDelta::days(days))
}

impl Config {
    /// Secrets are only located here: a missing or short one makes the function answer 503
    /// `not_configured` until it can be read, rather than stop.
    ///
    /// # Errors
    /// Names the first table variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            base: ExpirerConfig::from_env()?,
            order_token_secret: SecretSource::from_env("ORDER_TOKEN_SECRET_ID", None, "ORDER_TOKEN_SECRET"),
            cursor_secret: SecretSource::from_env("CURSOR_SECRET_ID", None, "CURSOR_SECRET"),
            personal_data_window: personal_data_window()?,
        })
    }
}
