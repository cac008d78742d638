//! The checkout Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::{Verifier, health_router, with_common_layers};
use nanoshop_checkout::config::Config;
use nanoshop_checkout::{CheckoutDeps, FUNCTION, VERSION, router};
use nanoshop_payments::stripe::StripeGateway;
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
    let stripe = StripeGateway::new(
        config.stripe_secret_key.expose_secret(),
        config.stripe_publishable_key,
        config.stripe_api_base.as_deref(),
    )?;
    let deps = CheckoutDeps {
        store: Arc::new(store),
        payments: Arc::new(stripe),
        verifier: Arc::new(verifier),
        order_tokens: OrderTokens::new(config.order_token_secret.expose_secret().as_bytes()),
        payment_window: config.payment_window,
        max_units_per_sku: config.max_units_per_sku,
    };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
