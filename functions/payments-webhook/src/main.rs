//! The payments webhook Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::startup::Clients;
use nanoshop_api::{health_router, with_common_layers};
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_payments_webhook::config::Config;
use nanoshop_payments_webhook::{FUNCTION, VERSION, WebhookDeps, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let clients = Clients::load(config.tables.clone()).await?;
    let webhook_secret = clients.secrets.open(&config.webhook_secret());
    let stripe_key = clients.secrets.open(&config.stripe.secret_key());
    clients.warm().await;
    // The webhook never hands a publishable key to a browser.
    let stripe = StripeGateway::with_keys(Arc::new(stripe_key), None, config.stripe.api_base.as_deref())?;
    let deps = WebhookDeps { store: Arc::new(clients.store), payments: Arc::new(stripe), secret: webhook_secret };
    nanoshop_api::run(with_common_layers(router(deps).merge(health_router(FUNCTION, VERSION)))).await
}
