//! The cart Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::startup::Clients;
use nanoshop_api::{health_router, with_common_layers};
use nanoshop_cart::config::Config;
use nanoshop_cart::{CartDeps, FUNCTION, VERSION, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = config.auth.verifier()?;
    let clients = Clients::load(config.tables.clone()).await?;
    // No secrets: this opens the table's TLS connection during init; errors surface later.
    clients.warm().await;
    let deps = CartDeps {
        store: Arc::new(clients.store),
        verifier: Arc::new(verifier),
        image_base: config.image_base_url,
        max_units_per_sku: config.max_units_per_sku,
    };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
