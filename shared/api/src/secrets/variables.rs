//! Where the HMAC secrets more than one function reads are found, declared once and flattened
//! into each function's configuration, so the functions that must share a key cannot drift apart
//! in where they read it. Field names are clap's argument ids, unique across a configuration.

use secrecy::SecretString;

use super::SecretSource;

/// A value parser for secret values: kept as a [`SecretString`] from the moment it is read, so
/// no `Debug` of a configuration shows it.
///
/// # Errors
/// Never; the `Result` is what clap's value parsers return.
pub fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(value.into())
}

/// The order-token key (at least 32 bytes): checkout signs order tokens with it and orders checks
/// them, so both must read the same secret.
#[derive(Debug, clap::Args)]
pub struct OrderTokenSecretVariables {
    /// `ORDER_TOKEN_SECRET_ID`: the Secrets Manager secret whose value signs order tokens.
    #[arg(long = "order-token-secret-id", env = "ORDER_TOKEN_SECRET_ID")]
    pub order_token_secret_id: Option<String>,
    /// `ORDER_TOKEN_SECRET`: the value itself, without `ORDER_TOKEN_SECRET_ID`.
    #[arg(long = "order-token-secret", env = "ORDER_TOKEN_SECRET", value_parser = secret)]
    pub order_token_secret_value: Option<SecretString>,
}

impl OrderTokenSecretVariables {
    /// `ORDER_TOKEN_SECRET_ID`, else `ORDER_TOKEN_SECRET`.
    pub fn source(&self) -> SecretSource {
        SecretSource::new(self.order_token_secret_id.clone(), None, self.order_token_secret_value.clone())
    }
}

/// The key that signs list cursors (at least 32 bytes, shared by every instance of a function).
#[derive(Debug, clap::Args)]
pub struct CursorSecretVariables {
    /// `CURSOR_SECRET_ID`: the Secrets Manager secret whose value signs list cursors.
    #[arg(long = "cursor-secret-id", env = "CURSOR_SECRET_ID")]
    pub cursor_secret_id: Option<String>,
    /// `CURSOR_SECRET`: the value itself, where there is no `CURSOR_SECRET_ID` (a container).
    #[arg(long = "cursor-secret", env = "CURSOR_SECRET", value_parser = secret)]
    pub cursor_secret_value: Option<SecretString>,
}

impl CursorSecretVariables {
    /// `CURSOR_SECRET_ID`, else `CURSOR_SECRET`.
    pub fn source(&self) -> SecretSource {
        SecretSource::new(self.cursor_secret_id.clone(), None, self.cursor_secret_value.clone())
    }
}
