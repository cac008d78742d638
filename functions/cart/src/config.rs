//! The cart Lambda's configuration, read once from the environment at start-up.

use clap::Parser;
use nanoshop_api::config::AuthVariables;
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::dynamo::TableNames;

use crate::ACCESS;

/// Everything `main` needs; a missing or malformed variable stops start-up, never a request.
/// Each field's `env` is the variable it is read from ([`variables`] lists them for the
/// deployment template's check).
#[derive(Debug, Parser)]
pub struct Config {
    /// The tables of [`ACCESS`] (`CARTS_TABLE`, `CATALOG_TABLE`), and no other.
    #[arg(skip)]
    pub tables: TableNames,
    /// `IMAGE_BASE_URL`: the public prefix images are served from.
    #[arg(long, env = "IMAGE_BASE_URL")]
    pub image_base_url: String,
    /// `MAX_UNITS_PER_SKU`: the most units of one SKU a cart may hold, 1 to 99 (default 10); the
    /// checkout must have the same.
    #[arg(long, env = "MAX_UNITS_PER_SKU", default_value_t = MaxUnitsPerSku::DEFAULT)]
    pub max_units_per_sku: MaxUnitsPerSku,
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

/// Every environment variable the cart binary reads: its tables' and [`Config`]'s.
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
