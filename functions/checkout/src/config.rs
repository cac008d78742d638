//! The checkout Lambda's configuration, read once from the environment at start-up.

use clap::Parser;
use nanoshop_api::SecretSource;
use nanoshop_api::config::{AuthVariables, secret};
use nanoshop_api::secrets::OrderTokenSecretVariables;
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_payments::stripe::StripeVariables;
use nanoshop_store::dynamo::TableNames;
use secrecy::SecretString;

use crate::ACCESS;

/// Everything `main` needs. Each field's `env` is the variable it is read from ([`variables`]
/// lists them for the deployment template's check). A deployment sets the secrets' Secrets
/// Manager ids; a container sets their values instead.
#[derive(Debug, Parser)]
pub struct Config {
    /// The tables of [`ACCESS`] (all four), and no other.
    #[arg(skip)]
    pub tables: TableNames,
    /// The Stripe secret (fields `secret_key` and `publishable_key`), or the API key itself.
    #[command(flatten)]
    pub stripe: StripeVariables,
    /// `STRIPE_PUBLISHABLE_KEY`: the key handed to browsers (`pk_…`), without `STRIPE_SECRET_ID`.
    #[arg(long, env = "STRIPE_PUBLISHABLE_KEY", value_parser = secret)]
    pub stripe_publishable_key_value: Option<SecretString>,
    /// The key that signs order tokens (the orders function must have the same).
    #[command(flatten)]
    pub order_token_secret: OrderTokenSecretVariables,
    /// `PAYMENT_WINDOW_MINUTES`: how long an unpaid order holds its stock, 5 to 1440 (default 30).
    #[arg(long, env = "PAYMENT_WINDOW_MINUTES", value_parser = payment_window, default_value = "30")]
    pub payment_window: chrono::TimeDelta,
    /// `MAX_UNITS_PER_SKU`: the most units of one SKU an order may reserve, 1 to 99 (default 10);
    /// the cart must have the same.
    #[arg(long, env = "MAX_UNITS_PER_SKU", default_value_t = MaxUnitsPerSku::DEFAULT)]
    pub max_units_per_sku: MaxUnitsPerSku,
    /// The identity provider whose tokens customers bring.
    #[command(flatten)]
    pub auth: AuthVariables,
}

/// `PAYMENT_WINDOW_MINUTES`, from 5 minutes to a day.
fn payment_window(minutes: &str) -> Result<chrono::TimeDelta, &'static str> {
    let minutes = minutes.parse::<i64>().ok().filter(|m| (5..=24 * 60).contains(m));
    minutes.map(chrono::TimeDelta::minutes).ok_or("must be 5 to 1440")
}

impl Config {
    /// Secrets are only located here: a missing or short one makes the function answer 503
    /// `not_configured` until it can be read, rather than stop.
    ///
    /// # Errors
    /// Names the first other variable that is missing or malformed.
    pub fn from_env() -> anyhow::Result<Self> {
        let tables = TableNames::from_env(ACCESS)?;
        Ok(Self { tables, ..nanoshop_api::config::from_env()? })
    }

    /// The key handed to browsers: field `publishable_key` of `STRIPE_SECRET_ID`, else
    /// `STRIPE_PUBLISHABLE_KEY`.
    pub fn stripe_publishable_key(&self) -> SecretSource {
        self.stripe.field("publishable_key", self.stripe_publishable_key_value.clone())
    }

    /// The key that signs order tokens: `ORDER_TOKEN_SECRET_ID`, else `ORDER_TOKEN_SECRET`.
    pub fn order_token_secret(&self) -> SecretSource {
        self.order_token_secret.source()
    }
}

/// Every environment variable the checkout binary reads: its tables' and [`Config`]'s.
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
