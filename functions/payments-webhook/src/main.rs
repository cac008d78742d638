//! The payments webhook Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::secrets::secrets_manager_client;
use nanoshop_api::{Secrets, health_router, with_common_layers};
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_payments_webhook::config::Config;
use nanoshop_payments_webhook::{FUNCTION, VERSION, WebhookDeps, router};
use nanoshop_store::dynamo::DynamoStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables.clone());
    let secrets = Secrets::new(Some(secrets_manager_client(&aws)));
    let webhook_secret = secrets.open(&config.webhook_secret());
    let stripe_key = secrets.open(&config.stripe_secret_key());
    // Both during init, which Lambda does not bill: the table's TLS connection, and the secrets
    // (a failure is logged; requests then answer 503 until a read succeeds).
    tokio::join!(store.warm(), secrets.load());
    // The webhook never hands a publishable key to a browser.
    let stripe = StripeGateway::with_keys(Arc::new(stripe_key), None, config.stripe_api_base.as_deref())?;
    let deps = WebhookDeps { store: Arc::new(store), payments: Arc::new(stripe), secret: webhook_secret };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
