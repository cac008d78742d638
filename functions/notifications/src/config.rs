//! The notifications function's configuration, read once from the environment at start-up. Each
//! field's `env` is the variable it is read from; [`variables`] lists them for the deployment
//! template's check (`tests/e2e/infra`).

use clap::Parser;
use nanoshop_api::config::is_true;
use nanoshop_api::secrets::OrderTokenSecretVariables;
use nanoshop_store::dynamo::TableNames;

use crate::ACCESS;
use crate::message::Sender;
use crate::overrides::S3Prefix;

#[derive(Debug, Parser)]
pub struct Config {
    /// The tables of [`ACCESS`] (`ORDERS_TABLE`, `CATALOG_TABLE`, `IDEMPOTENCY_TABLE`).
    #[arg(skip)]
    pub tables: TableNames,
    /// `STORE_NAME`: the store's name, the mails' sender name and heading, unless the store
    /// settings' `store_name` is set (which wins, read with every mail).
    #[arg(long, env = "STORE_NAME")]
    pub store_name: String,
    /// `STORE_ADDRESS`: the store's postal address for the mails' footer, lines separated by `|`,
    /// unless the store settings' `store_address` is set (which wins).
    #[arg(long, env = "STORE_ADDRESS")]
    pub store_address: Option<String>,
    /// `MAIL_FROM`: the address mail is sent from (an SES-verified identity when deployed). Unset:
    /// the store sends no mail, and every event is acknowledged with a warning.
    #[arg(long, env = "MAIL_FROM")]
    pub mail_from: Option<String>,
    /// `MAIL_REPLY_TO`: where shoppers' replies go, when not to `MAIL_FROM`, unless the store
    /// settings' `reply_to` is set (which wins).
    #[arg(long, env = "MAIL_REPLY_TO")]
    pub mail_reply_to: Option<String>,
    /// `STOREFRONT_URL`: the storefront, for the link to the order in the mails (none: no link).
    #[arg(long, env = "STOREFRONT_URL")]
    pub storefront_url: Option<String>,
    /// The checkout function's order-token key, so the link opens the order for a guest.
    #[command(flatten)]
    pub order_token_secret: OrderTokenSecretVariables,
    /// `SES_CONFIGURATION_SET`: the SES configuration set for bounce and complaint events.
    #[arg(long, env = "SES_CONFIGURATION_SET")]
    pub ses_configuration_set: Option<String>,
    /// `SMTP_URL`: send through this SMTP server instead of SES (`smtp://host:port`,
    /// `smtps://user:pass@host`); for a container or a mail service other than SES.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,
    /// `TEMPLATES_DIR`: a folder of template overrides, by the built-in templates' names (for a
    /// container or `nanoshop serve`).
    #[arg(long, env = "TEMPLATES_DIR")]
    pub templates_dir: Option<std::path::PathBuf>,
    /// `TEMPLATES_BUCKET`: the bucket of template overrides when deployed, read at start-up
    /// (`src/overrides.rs`). Unset or blank: the compiled-in templates.
    #[arg(long, env = "TEMPLATES_BUCKET")]
    pub templates_bucket: Option<String>,
    /// `TEMPLATES_PREFIX`: the key prefix of the overrides in `TEMPLATES_BUCKET` (`mail/`): an
    /// override is `<prefix><template name>`. Unset: the bucket's root.
    #[arg(long, env = "TEMPLATES_PREFIX")]
    pub templates_prefix: Option<String>,
    /// `S3_FORCE_PATH_STYLE`: `true` to read `TEMPLATES_BUCKET` as `endpoint/bucket/key`, for
    /// local S3 servers (SeaweedFS, moto), whose buckets have no host names.
    #[arg(long, env = "S3_FORCE_PATH_STYLE", value_parser = is_true, action = clap::ArgAction::Set, default_value = "false")]
    pub s3_force_path_style: bool,
}

impl Config {
    /// # Errors
    /// Names the first variable that is missing or malformed.
    pub fn from_env() -> anyhow::Result<Self> {
        let tables = TableNames::from_env(ACCESS)?;
        Ok(Self { tables, ..nanoshop_api::config::from_env()? })
    }

    /// Where the template overrides are read from in S3, if anywhere.
    ///
    /// # Errors
    /// Both a folder and a bucket are set: which one is meant cannot be guessed.
    pub fn templates_s3(&self) -> anyhow::Result<Option<S3Prefix>> {
        let Some(bucket) = self.templates_bucket.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        anyhow::ensure!(self.templates_dir.is_none(), "set TEMPLATES_DIR or TEMPLATES_BUCKET, not both");
        let prefix = self.templates_prefix.as_deref().unwrap_or_default().trim().to_owned();
        Ok(Some(S3Prefix { bucket: bucket.to_owned(), prefix }))
    }

    /// Who the mail comes from; `None` when no `MAIL_FROM` is set.
    pub fn sender(&self) -> Option<Sender> {
        let from = self.mail_from.as_deref().map(str::trim).filter(|f| !f.is_empty())?.to_owned();
        Some(Sender {
            name: self.store_name.trim().to_owned(),
            address: self
                .store_address
                .as_deref()
                .unwrap_or_default()
                .split('|')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            from,
            reply_to: self.mail_reply_to.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned),
        })
    }
}

/// Every environment variable the notifications binary reads: its tables' and [`Config`]'s.
pub fn variables() -> Vec<String> {
    nanoshop_api::config::function_variables::<Config>(ACCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_configuration_is_a_well_formed_declaration() {
        Config::command().debug_assert();
    }
}
