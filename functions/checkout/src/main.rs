//! The checkout Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::startup::Clients;
use nanoshop_api::{health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_checkout::config::Config;
use nanoshop_checkout::{CheckoutDeps, FUNCTION, VERSION, router};
use nanoshop_payments::stripe::StripeGateway;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(config.auth.verifier()?);
    let clients = Clients::load(config.tables.clone()).await?;
    let secrets = &clients.secrets;
    let order_token_keys = secrets.key_ring(&config.order_token_secret(), "order token");
    let (secret_key, publishable_key) =
        (secrets.open(&config.stripe.secret_key()), secrets.open(&config.stripe_publishable_key()));
    clients.warm().await;
    let stripe = StripeGateway::with_keys(
        Arc::new(secret_key),
        Some(Arc::new(publishable_key)),
        config.stripe.api_base.as_deref(),
    )?;
    let (store, payments, window) = (Arc::new(clients.store), Arc::new(stripe), config.payment_window);
    let max_units_per_sku = config.max_units_per_sku;
    // The routes wait for a usable order-token key; after that, the key rotates under them.
    let app = when_configured(move || {
        let (keys, store, payments, verifier) =
            (order_token_keys.clone(), store.clone(), payments.clone(), verifier.clone());
        async move {
            keys.signing_keys().await.ok()?;
            let order_tokens = OrderTokens::rotating(keys);
            Some(router(CheckoutDeps {
                store,
                payments,
                verifier,
                order_tokens,
                payment_window: window,
                max_units_per_sku,
            }))
        }
    })
    .await;
    nanoshop_api::run(with_common_layers_and_fallback(health_router(FUNCTION, VERSION).merge(app))).await
}
