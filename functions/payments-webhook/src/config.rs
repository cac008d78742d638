//! The webhook Lambda's configuration, read once from the environment at start-up.

use nanoshop_api::SecretSource;
use nanoshop_api::config::optional;
use nanoshop_store::dynamo::TableNames;

/// Every environment variable the webhook binary reads at start-up and a deployment sets:
/// [`Config::from_env`]'s (the table names through `TableNames::from_env`). It verifies Stripe's
/// signature, not JWTs. The deployment template must set each of these (`tests/e2e/infra.rs`
/// checks `infra/template.yaml` against this list). Without `STRIPE_SECRET_ID` (a container,
/// `nanoshop serve`, tests) it reads `STRIPE_WEBHOOK_SECRET` and `STRIPE_SECRET_KEY` instead;
/// `STRIPE_API_BASE` only tests set.
pub const ENV: &[&str] = &["CATALOG_TABLE", "CARTS_TABLE", "ORDERS_TABLE", "IDEMPOTENCY_TABLE", "STRIPE_SECRET_ID"];

#[derive(Debug)]
pub struct Config {
    /// `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`, `IDEMPOTENCY_TABLE`.
    pub tables: TableNames,
    /// The endpoint's signing secret (`whsec_…`): field `webhook_secret` of the Secrets Manager
    /// secret `STRIPE_SECRET_ID`, else `STRIPE_WEBHOOK_SECRET`.
    pub webhook_secret: SecretSource,
    /// For refunds of payments that arrive after their order closed: field `secret_key` of
    /// `STRIPE_SECRET_ID`, else `STRIPE_SECRET_KEY`.
    pub stripe_secret_key: SecretSource,
    /// `STRIPE_API_BASE`: another Stripe API endpoint (tests against localstripe); optional.
    pub stripe_api_base: Option<String>,
}

impl Config {
    /// Missing secrets are not an error here: the function starts, and answers 503
    /// `not_configured` until they can be read.
    ///
    /// # Errors
    /// Names the first table variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            tables: TableNames::from_env()?,
            webhook_secret: SecretSource::from_env("STRIPE_SECRET_ID", Some("webhook_secret"), "STRIPE_WEBHOOK_SECRET"),
            stripe_secret_key: SecretSource::from_env("STRIPE_SECRET_ID", Some("secret_key"), "STRIPE_SECRET_KEY"),
            stripe_api_base: optional("STRIPE_API_BASE"),
        })
    }
}
