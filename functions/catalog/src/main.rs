//! The catalog Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::{CursorCodec, Verifier, health_router, with_common_layers};
use nanoshop_catalog::config::Config;
use nanoshop_catalog::images::S3Images;
use nanoshop_catalog::{CatalogDeps, FUNCTION, VERSION, router};
use nanoshop_store::dynamo::DynamoStore;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Verifier::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables);
    // Opens the TLS connection during init, which Lambda does not bill; errors surface later.
    store.warm().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws).force_path_style(config.s3_force_path_style).build(),
    );
    let deps = CatalogDeps {
        store: Arc::new(store),
        images: Arc::new(S3Images::new(s3, config.image_bucket, config.image_base_url)),
        verifier: Arc::new(verifier),
        cursors: CursorCodec::new(config.cursor_secret.expose_secret().as_bytes()),
    };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
