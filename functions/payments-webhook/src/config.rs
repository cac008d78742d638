//! The webhook Lambda's configuration, read once from the environment at start-up.

use nanoshop_api::config::{optional, required as var};
use nanoshop_store::dynamo::TableNames;
use secrecy::SecretString;

/// Every environment variable the webhook binary reads at start-up and a deployment sets:
/// [`Config::from_env`]'s (the table names through `TableNames::from_env`). It verifies Stripe's
/// signature, not JWTs. `STRIPE_API_BASE` is read too, but only tests set it. The deployment
/// template must set each of these (`tests/e2e/infra.rs` checks `infra/template.yaml` against
/// this list).
pub const ENV: &[&str] = &[
    "CATALOG_TABLE",
    "CARTS_TABLE",
    "ORDERS_TABLE",
    "IDEMPOTENCY_TABLE",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_SECRET_KEY",
];

#[derive(Debug)]
pub struct Config {
    /// `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`, `IDEMPOTENCY_TABLE`.
    pub tables: TableNames,
    /// `STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret (`whsec_…`).
    pub webhook_secret: SecretString,
    /// `STRIPE_SECRET_KEY`: for refunds of payments that arrive after their order closed.
    pub stripe_secret_key: SecretString,
    /// `STRIPE_API_BASE`: another Stripe API endpoint (tests against localstripe); optional.
    pub stripe_api_base: Option<String>,
}

impl Config {
    /// # Errors
    /// Names the first variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            tables: TableNames::from_env()?,
            webhook_secret: SecretString::from(var("STRIPE_WEBHOOK_SECRET")?),
            stripe_secret_key: SecretString::from(var("STRIPE_SECRET_KEY")?),
            stripe_api_base: optional("STRIPE_API_BASE"),
        })
    }
}
