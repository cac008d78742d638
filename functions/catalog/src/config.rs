//! The catalog Lambda's configuration, read once from the environment at start-up.

use clap::Parser;
use nanoshop_api::SecretSource;
use nanoshop_api::config::{AuthVariables, is_true};
use nanoshop_api::secrets::CursorSecretVariables;
use nanoshop_store::dynamo::TableNames;

use crate::ACCESS;

/// Everything `main` needs; a missing or malformed variable stops start-up, never a request.
/// Each field's `env` is the variable it is read from ([`variables`] lists them for the
/// deployment template's check).
#[derive(Debug, Parser)]
pub struct Config {
    /// The tables of [`ACCESS`] (`CATALOG_TABLE`), and no other.
    #[arg(skip)]
    pub tables: TableNames,
    /// `IMAGE_BUCKET`: the private bucket uploads go to.
    #[arg(long, env = "IMAGE_BUCKET")]
    pub image_bucket: String,
    /// `IMAGE_BASE_URL`: the public prefix images are served from (a CloudFront distribution).
    #[arg(long, env = "IMAGE_BASE_URL")]
    pub image_base_url: String,
    /// The key that signs list cursors; see [`Config::cursor_secret`].
    #[command(flatten)]
    pub cursor_secret: CursorSecretVariables,
    /// `S3_FORCE_PATH_STYLE`: `true` for local S3 servers (SeaweedFS, moto).
    #[arg(long, env = "S3_FORCE_PATH_STYLE", value_parser = is_true, action = clap::ArgAction::Set, default_value = "false")]
    pub s3_force_path_style: bool,
    /// The identity provider whose tokens admins bring.
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

    /// The key that signs list cursors: `CURSOR_SECRET_ID`, else `CURSOR_SECRET`. Missing or
    /// short, the function answers 503 `not_configured` until it can be read.
    pub fn cursor_secret(&self) -> SecretSource {
        self.cursor_secret.source()
    }
}

/// Every environment variable the catalog binary reads: its tables' and [`Config`]'s.
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
