//! The customers Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::startup::Clients;
use nanoshop_api::{health_router, with_common_layers};
use nanoshop_customers::config::Config;
use nanoshop_customers::{CustomersDeps, FUNCTION, VERSION, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = config.auth.verifier()?;
    let clients = Clients::load(config.tables.clone()).await?;
    // No secrets: this opens the table's TLS connection during init; errors surface later.
    clients.warm().await;
    let deps = CustomersDeps { store: Arc::new(clients.store), verifier: Arc::new(verifier) };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
