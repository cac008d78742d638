//! The orders Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::{CursorCodec, Verifier, health_router, with_common_layers};
use nanoshop_orders::config::Config;
use nanoshop_orders::{FUNCTION, OrdersDeps, VERSION, router};
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_store::dynamo::DynamoStore;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Verifier::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.base.tables);
    // Opens the TLS connection during init, which Lambda does not bill; errors surface later.
    store.warm().await;
    let stripe = StripeGateway::new(
        config.base.stripe_secret_key.expose_secret(),
        String::new(),
        config.base.stripe_api_base.as_deref(),
    )?;
    let deps = OrdersDeps {
        store: Arc::new(store),
        payments: Arc::new(stripe),
        verifier: Arc::new(verifier),
        order_tokens: OrderTokens::new(config.order_token_secret.expose_secret().as_bytes()),
        cursors: CursorCodec::new(config.cursor_secret.expose_secret().as_bytes()),
        personal_data_window: config.personal_data_window,
    };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
