//! The catalog Lambda's configuration, read once from the environment at start-up.

use nanoshop_api::SecretSource;
use nanoshop_api::config::required as var;
use nanoshop_store::dynamo::TableNames;

/// Every environment variable the catalog binary reads at start-up: [`Config::from_env`]'s (the
/// table names through `TableNames::from_env`) and `Verifier::from_env`'s, which `main` calls too.
/// A container may set `AUTH_JWKS_FILE` instead of `AUTH_JWKS`, and `CURSOR_SECRET` (the value)
/// instead of `CURSOR_SECRET_ID` (its Secrets Manager id). The deployment template must set
/// each of these (`tests/e2e/infra.rs` checks `infra/template.yaml` against this list).
pub const ENV: &[&str] = &[
    "CATALOG_TABLE",
    "CARTS_TABLE",
    "ORDERS_TABLE",
    "IDEMPOTENCY_TABLE",
    "IMAGE_BUCKET",
    "IMAGE_BASE_URL",
    "CURSOR_SECRET_ID",
    "S3_FORCE_PATH_STYLE",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS",
    "AUTH_ADMIN_CLAIM",
];

/// Everything `main` needs; a missing or malformed variable stops start-up, never a request.
#[derive(Debug)]
pub struct Config {
    /// `CATALOG_TABLE`, `CARTS_TABLE`, `ORDERS_TABLE`, `IDEMPOTENCY_TABLE`.
    pub tables: TableNames,
    /// `IMAGE_BUCKET`: the private bucket uploads go to.
    pub image_bucket: String,
    /// `IMAGE_BASE_URL`: the public prefix images are served from (a CloudFront distribution).
    pub image_base_url: String,
    /// At least 32 bytes that sign list cursors, shared by every instance: the Secrets Manager
    /// secret `CURSOR_SECRET_ID`, else `CURSOR_SECRET`. Missing or short, the function answers 503
    /// `not_configured` until it can be read.
    pub cursor_secret: SecretSource,
    /// `S3_FORCE_PATH_STYLE`: `true` for local S3 servers (SeaweedFS, moto).
    pub s3_force_path_style: bool,
}

impl Config {
    /// # Errors
    /// Names the first variable that is missing or malformed.
    pub fn from_env() -> anyhow::Result<Self> {
        let cursor_secret = SecretSource::from_env("CURSOR_SECRET_ID", None, "CURSOR_SECRET");
        Ok(Self {
            tables: TableNames::from_env()?,
            image_bucket: var("IMAGE_BUCKET")?,
            image_base_url: var("IMAGE_BASE_URL")?,
            cursor_secret,
            s3_force_path_style: std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true"),
        })
    }
}
