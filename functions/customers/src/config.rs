//! The customers Lambda's configuration, read once from the environment at start-up.

use clap::Parser;
use nanoshop_api::config::AuthVariables;
use nanoshop_store::dynamo::TableNames;

use crate::ACCESS;

/// Everything `main` needs; a missing or malformed variable stops start-up, never a request.
/// Each field's `env` is the variable it is read from ([`variables`] lists them for the
/// deployment template's check).
#[derive(Debug, Parser)]
pub struct Config {
    /// The tables of [`ACCESS`] (`CARTS_TABLE`, `ORDERS_TABLE`), and no other.
    #[arg(skip)]
    pub tables: TableNames,
    /// The identity provider whose tokens customers and admins bring.
    #[command(flatten)]
    pub auth: AuthVariables,
}

impl Config {
    /// # Errors
    /// Names the first variable that is missing or malformed.
    pub fn from_env() -> anyhow::Result<Self> {
        let tables = TableNames::from_env(ACCESS)?;
        Ok(Self { tables, ..nanoshop_api::config::from_env()? })
    }
}

/// Every environment variable the customers binary reads: its tables' and [`Config`]'s.
pub fn variables() -> Vec<String> {
    nanoshop_api::config::function_variables::<Config>(ACCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// clap's own checks of the declaration, so a bad one fails here, not at a cold start.
    #[test]
    fn the_configuration_is_a_well_formed_declaration() {
        Config::command().debug_assert();
    }
}
