//! The checkout Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::secrets::{SecretsManagerClient, hmac_key};
use nanoshop_api::{Secrets, Verifier, health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_checkout::config::Config;
use nanoshop_checkout::{CheckoutDeps, FUNCTION, VERSION, router};
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_store::dynamo::DynamoStore;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(Verifier::from_env()?);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.tables);
    let secrets = Secrets::new(Some(SecretsManagerClient::new(&aws)));
    let order_token_secret = secrets.open(&config.order_token_secret);
    let (secret_key, publishable_key) =
        (secrets.open(&config.stripe_secret_key), secrets.open(&config.stripe_publishable_key));
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
    // Order tokens are signed with a key fixed at construction: the routes wait for it.
    let app = when_configured(move || {
        let (secret, store, payments, verifier) =
            (order_token_secret.clone(), store.clone(), payments.clone(), verifier.clone());
        async move {
            let key = hmac_key(&secret, "order token").await?;
            let order_tokens = OrderTokens::new(key.expose_secret().as_bytes());
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
