//! The catalog Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::secrets::secrets_manager_client;
use nanoshop_api::{CursorCodec, Secrets, health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_catalog::config::Config;
use nanoshop_catalog::images::S3Images;
use nanoshop_catalog::{CatalogDeps, FUNCTION, VERSION, router};
use nanoshop_store::dynamo::DynamoStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(config.auth.verifier()?);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables.clone());
    let secrets = Secrets::new(Some(secrets_manager_client(&aws)));
    let cursor_keys = secrets.key_ring(&config.cursor_secret(), "cursor");
    // Both during init, which Lambda does not bill: the table's TLS connection, and the secret
    // (a failure is logged; requests then answer 503 until a read succeeds).
    tokio::join!(store.warm(), secrets.load());
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws).force_path_style(config.s3_force_path_style).build(),
    );
    let store = Arc::new(store);
    let images = Arc::new(S3Images::new(s3, config.image_bucket, config.image_base_url));
    // The routes wait for a usable cursor key; after that, the key rotates under them.
    let app = when_configured(move || {
        let (keys, store, images, verifier) = (cursor_keys.clone(), store.clone(), images.clone(), verifier.clone());
        async move {
            keys.signing_keys().await.ok()?;
            let cursors = CursorCodec::rotating(keys);
            Some(router(CatalogDeps { store, images, verifier, cursors }))
        }
    })
    .await;
    nanoshop_api::run(with_common_layers_and_fallback(health_router(FUNCTION, VERSION).merge(app))).await
}
