//! The webhook Lambda's configuration, read once from the environment at start-up.

use clap::Parser;
use nanoshop_api::SecretSource;
use nanoshop_api::config::secret;
use nanoshop_payments::stripe::StripeVariables;
use nanoshop_store::dynamo::TableNames;
use secrecy::SecretString;

use crate::ACCESS;

/// Everything `main` needs. Each field's `env` is the variable it is read from ([`variables`]
/// lists them for the deployment template's check). It verifies Stripe's signature, not JWTs.
/// A deployment sets `STRIPE_SECRET_ID`; a container (`nanoshop serve`, tests) sets the values
/// instead.
#[derive(Debug, Parser)]
pub struct Config {
    /// The tables of [`ACCESS`] (catalog, orders, idempotency), and no other.
    #[arg(skip)]
    pub tables: TableNames,
    /// The Stripe secret (fields `webhook_secret`, and `secret_key` for refunds of payments that
    /// arrive after their order closed), or the API key itself.
    #[command(flatten)]
    pub stripe: StripeVariables,
    /// `STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret (`whsec_…`) itself, without
    /// `STRIPE_SECRET_ID`.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", value_parser = secret)]
    pub webhook_secret_value: Option<SecretString>,
}

impl Config {
    /// Missing secrets are not an error here: the function starts, and answers 503
    /// `not_configured` until they can be read.
    ///
    /// # Errors
    /// Names the first table variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        let tables = TableNames::from_env(ACCESS)?;
        Ok(Self { tables, ..nanoshop_api::config::from_env()? })
    }

    /// The endpoint's signing secret: field `webhook_secret` of `STRIPE_SECRET_ID`, else
    /// `STRIPE_WEBHOOK_SECRET`.
    pub fn webhook_secret(&self) -> SecretSource {
        self.stripe.field("webhook_secret", self.webhook_secret_value.clone())
    }
}

/// Every environment variable the webhook binary reads: its tables' and [`Config`]'s.
pub fn variables() -> Vec<String> {
    nanoshop_api::config::function_variables::<Config>(ACCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// clap's own checks of the declaration (one `long` name per argument across the flattened
    /// pieces, defaults its parsers accept), so a bad one fails here, not at a cold start.
    #[test]
    fn the_configuration_is_a_well_formed_declaration() {
        Config::command().debug_assert();
    }
}
