//! The catalog Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::secrets::{SecretsManagerClient, hmac_key};
use nanoshop_api::{CursorCodec, Secrets, Verifier, health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_catalog::config::Config;
use nanoshop_catalog::images::S3Images;
use nanoshop_catalog::{CatalogDeps, FUNCTION, VERSION, router};
use nanoshop_store::dynamo::DynamoStore;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(Verifier::from_env()?);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables);
    let secrets = Secrets::new(Some(SecretsManagerClient::new(&aws)));
    let cursor_secret = secrets.open(&config.cursor_secret);
    // Both during init, which Lambda does not bill: the table's TLS connection, and the secret
    // (a failure is logged; requests then answer 503 until a read succeeds).
    tokio::join!(store.warm(), secrets.load());
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws).force_path_style(config.s3_force_path_style).build(),
    );
    let store = Arc::new(store);
    let images = Arc::new(S3Images::new(s3, config.image_bucket, config.image_base_url));
    // Cursors are signed with a key fixed at construction: the routes wait for it.
    let app = when_configured(move || {
        let (secret, store, images, verifier) =
            (cursor_secret.clone(), store.clone(), images.clone(), verifier.clone());
        async move {
            let cursors = CursorCodec::new(hmac_key(&secret, "cursor").await?.expose_secret().as_bytes());
            Some(router(CatalogDeps { store, images, verifier, cursors }))
        }
    })
    .await;
    nanoshop_api::run(with_common_layers_and_fallback(health_router(FUNCTION, VERSION).merge(app))).await
}
