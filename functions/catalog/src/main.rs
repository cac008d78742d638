//! The catalog Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::startup::Clients;
use nanoshop_api::{CursorCodec, health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_catalog::config::Config;
use nanoshop_catalog::images::S3Images;
use nanoshop_catalog::{CatalogDeps, FUNCTION, VERSION, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(config.auth.verifier()?);
    let clients = Clients::load(config.tables.clone()).await?;
    let cursor_keys = clients.secrets.key_ring(&config.cursor_secret(), "cursor");
    clients.warm().await;
    let s3 = nanoshop_s3::S3::from_sdk_config(&clients.aws, config.s3_force_path_style)?;
    let store = Arc::new(clients.store);
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
