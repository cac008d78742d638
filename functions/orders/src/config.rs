//! The configurations of the orders crate's three binaries, read once from the environment at
//! start-up: `orders` ([`Config`]), `orders-expirer` ([`ExpirerConfig`]) and
//! `orders-events-relay` ([`RelayConfig`]). Each field's `env` is the variable it is read from;
//! [`variables`], [`expirer_variables`] and [`relay_variables`] list them for the deployment
//! template's check. A deployment sets the secrets' Secrets Manager ids; a container sets their
//! values instead.

use clap::Parser;
use nanoshop_api::SecretSource;
use nanoshop_api::config::AuthVariables;
use nanoshop_api::secrets::{CursorSecretVariables, OrderTokenSecretVariables};
use nanoshop_payments::stripe::StripeVariables;
use nanoshop_store::dynamo::TableNames;

use crate::{ACCESS, EXPIRER_ACCESS};

/// What the expiry sweep needs: the tables and Stripe. It checks no tokens and signs no cursors,
/// so it is given neither secret.
#[derive(Debug, Parser)]
pub struct ExpirerConfig {
    /// The tables of the binary's access list, and no other.
    #[arg(skip)]
    pub tables: TableNames,
    /// The Stripe secret (field `secret_key`, for cancels and refunds), or the API key itself.
    #[command(flatten)]
    pub stripe: StripeVariables,
}

impl ExpirerConfig {
    /// # Errors
    /// Names the first table variable that is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        let tables = TableNames::from_env(EXPIRER_ACCESS)?;
        Ok(Self { tables, ..nanoshop_api::config::from_env()? })
    }
}

/// The orders function's: the expirer's, plus the secrets of order tokens and cursors.
#[derive(Debug, Parser)]
pub struct Config {
    /// The tables and Stripe.
    #[command(flatten)]
    pub base: ExpirerConfig,
    /// The checkout function's order-token key, to check guests' order tokens.
    #[command(flatten)]
    pub order_token_secret: OrderTokenSecretVariables,
    /// The key that signs list cursors.
    #[command(flatten)]
    pub cursor_secret: CursorSecretVariables,
    /// `ORDER_TOKEN_PERSONAL_DATA_DAYS`: for how many days after it was issued an order token
    /// shows the order's e-mail and address (0 to 3650; unset: 30). After that it shows the rest.
    #[arg(long, env = "ORDER_TOKEN_PERSONAL_DATA_DAYS", value_parser = personal_data_days)]
    pub personal_data_days: Option<chrono::TimeDelta>,
    /// The identity provider whose tokens customers and admins bring.
    #[command(flatten)]
    pub auth: AuthVariables,
}

/// Longest personal-data window accepted: ten years.
const MAX_PERSONAL_DATA_DAYS: i64 = 3650;

/// `ORDER_TOKEN_PERSONAL_DATA_DAYS`, whole days from 0 to [`MAX_PERSONAL_DATA_DAYS`].
fn personal_data_days(days: &str) -> Result<chrono::TimeDelta, String> {
    let days = days.trim().parse::<i64>().ok().filter(|d| (0..=MAX_PERSONAL_DATA_DAYS).contains(d));
    days.map(chrono::TimeDelta::days)
        .ok_or_else(|| format!("must be a whole number of days from 0 to {MAX_PERSONAL_DATA_DAYS}"))
}

impl Config {
    /// Secrets are only located here: a missing or short one makes the function answer 503
    /// `not_configured` until it can be read, rather than stop.
    ///
    /// # Errors
    /// Names the first variable that is missing or malformed.
    pub fn from_env() -> anyhow::Result<Self> {
        let tables = TableNames::from_env(ACCESS)?;
        let mut config: Self = nanoshop_api::config::from_env()?;
        config.base.tables = tables;
        Ok(config)
    }

    /// The key that checks guests' order tokens: `ORDER_TOKEN_SECRET_ID`, else
    /// `ORDER_TOKEN_SECRET`.
    pub fn order_token_secret(&self) -> SecretSource {
        self.order_token_secret.source()
    }

    /// The key that signs list cursors: `CURSOR_SECRET_ID`, else `CURSOR_SECRET`.
    pub fn cursor_secret(&self) -> SecretSource {
        self.cursor_secret.source()
    }

    /// How long an order token shows personal data: `ORDER_TOKEN_PERSONAL_DATA_DAYS`, or
    /// [`crate::DEFAULT_PERSONAL_DATA_WINDOW`].
    pub fn personal_data_window(&self) -> chrono::TimeDelta {
        self.personal_data_days.unwrap_or(crate::DEFAULT_PERSONAL_DATA_WINDOW)
    }
}

/// What `orders-events-relay` needs: the EventBridge bus it puts the order events on. It reads
/// no table: the orders table's stream brings the records.
#[derive(Debug, Parser)]
pub struct RelayConfig {
    /// `EVENT_BUS_NAME`: the bus.
    #[arg(long, env = "EVENT_BUS_NAME")]
    pub event_bus_name: String,
}

impl RelayConfig {
    /// # Errors
    /// `EVENT_BUS_NAME is not set`.
    pub fn from_env() -> anyhow::Result<Self> {
        nanoshop_api::config::from_env()
    }
}

/// Every environment variable the orders binary reads: its tables' and [`Config`]'s.
pub fn variables() -> Vec<String> {
    nanoshop_api::config::function_variables::<Config>(ACCESS)
}

/// Every environment variable `orders-expirer` reads: its tables' and [`ExpirerConfig`]'s.
pub fn expirer_variables() -> Vec<String> {
    nanoshop_api::config::function_variables::<ExpirerConfig>(EXPIRER_ACCESS)
}

/// Every environment variable `orders-events-relay` reads: [`RelayConfig`]'s.
pub fn relay_variables() -> Vec<String> {
    nanoshop_api::config::variables::<RelayConfig>()
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
        ExpirerConfig::command().debug_assert();
        RelayConfig::command().debug_assert();
    }
}
