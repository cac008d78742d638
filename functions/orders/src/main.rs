//! The orders Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::secrets::{SecretsManagerClient, hmac_key};
use nanoshop_api::{CursorCodec, Secrets, Verifier, health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_orders::config::Config;
use nanoshop_orders::{FUNCTION, OrdersDeps, VERSION, router};
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_store::dynamo::DynamoStore;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(Verifier::from_env()?);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.base.tables);
    let secrets = Secrets::new(Some(SecretsManagerClient::new(&aws)));
    let stripe_key = secrets.open(&config.base.stripe_secret_key);
    let (order_token_secret, cursor_secret) =
        (secrets.open(&config.order_token_secret), secrets.open(&config.cursor_secret));
    // Both during init, which Lambda does not bill: the table's TLS connection, and the secrets
    // (a failure is logged; requests then answer 503 until a read succeeds).
    tokio::join!(store.warm(), secrets.load());
    // Orders never hand a publishable key to a browser.
    let stripe = StripeGateway::with_keys(Arc::new(stripe_key), None, config.base.stripe_api_base.as_deref())?;
    let (store, payments) = (Arc::new(store), Arc::new(stripe));
    let personal_data_window = config.personal_data_window;
    // Order tokens and cursors are signed with keys fixed at construction: the routes wait for them.
    let app = when_configured(move || {
        let (tokens, cursors, store, payments, verifier) =
            (order_token_secret.clone(), cursor_secret.clone(), store.clone(), payments.clone(), verifier.clone());
        async move {
            let order_tokens = OrderTokens::new(hmac_key(&tokens, "order token").await?.expose_secret().as_bytes());
            let cursors = CursorCodec::new(hmac_key(&cursors, "cursor").await?.expose_secret().as_bytes());
            Some(router(OrdersDeps { store, payments, verifier, order_tokens, cursors, personal_data_window }))
        }
    })
    .await;
    nanoshop_api::run(with_common_layers_and_fallback(health_router(FUNCTION, VERSION).merge(app))).await
}
