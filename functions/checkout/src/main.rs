//! The checkout Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::secrets::secrets_manager_client;
use nanoshop_api::{Secrets, health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_checkout::config::Config;
use nanoshop_checkout::{CheckoutDeps, FUNCTION, VERSION, router};
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_store::dynamo::DynamoStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(config.auth.verifier()?);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables.clone());
    let secrets = Secrets::new(Some(secrets_manager_client(&aws)));
    let order_token_keys = secrets.key_ring(&config.order_token_secret(), "order token");
    let (secret_key, publishable_key) =
        (secrets.open(&config.stripe_secret_key()), secrets.open(&config.stripe_publishable_key()));
    // Both during init, which Lambda does not bill: the table's TLS connection, and the secrets
    // (a failure is logged; requests then answer 503 until a read succeeds).
    tokio::join!(store.warm(), secrets.load());
    let stripe = StripeGateway::with_keys(
        Arc::new(secret_key),
        Some(Arc::new(publishable_key)),
        config.stripe_api_base.as_deref(),
    )?;
    let (store, payments, window) = (Arc::new(store), Arc::new(stripe), config.payment_window);
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
