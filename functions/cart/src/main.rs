//! The cart Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::{health_router, with_common_layers};
use nanoshop_cart::config::Config;
use nanoshop_cart::{CartDeps, FUNCTION, VERSION, router};
use nanoshop_store::dynamo::DynamoStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = config.auth.verifier()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables.clone());
    // Opens the TLS connection during init, which Lambda does not bill; errors surface later.
    store.warm().await;
    let deps = CartDeps {
        store: Arc::new(store),
        verifier: Arc::new(verifier),
        image_base: config.image_base_url,
        max_units_per_sku: config.max_units_per_sku,
    };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
