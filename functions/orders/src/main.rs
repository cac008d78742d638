//! The orders Lambda (or container): configuration, clients built once, then serve.

use std::sync::Arc;

use nanoshop_api::capability::OrderTokens;
use nanoshop_api::startup::Clients;
use nanoshop_api::{CursorCodec, health_router, when_configured, with_common_layers_and_fallback};
use nanoshop_orders::config::Config;
use nanoshop_orders::{FUNCTION, OrdersDeps, VERSION, router};
use nanoshop_payments::stripe::StripeGateway;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = Config::from_env()?;
    let verifier = Arc::new(config.auth.verifier()?);
    let clients = Clients::load(config.base.tables.clone()).await?;
    let secrets = &clients.secrets;
    let stripe_key = secrets.open(&config.base.stripe.secret_key());
    let (order_token_keys, cursor_keys) = (
        secrets.key_ring(&config.order_token_secret(), "order token"),
        secrets.key_ring(&config.cursor_secret(), "cursor"),
    );
    clients.warm().await;
    // Orders never hand a publishable key to a browser.
    let stripe = StripeGateway::with_keys(Arc::new(stripe_key), None, config.base.stripe.api_base.as_deref())?;
    let (store, payments) = (Arc::new(clients.store), Arc::new(stripe));
    let personal_data_window = config.personal_data_window();
    // The routes wait for usable order-token and cursor keys; after that, the keys rotate under them.
    let app = when_configured(move || {
        let (tokens, cursors, store, payments, verifier) =
            (order_token_keys.clone(), cursor_keys.clone(), store.clone(), payments.clone(), verifier.clone());
        async move {
            tokens.signing_keys().await.ok()?;
            cursors.signing_keys().await.ok()?;
            let (order_tokens, cursors) = (OrderTokens::rotating(tokens), CursorCodec::rotating(cursors));
            Some(router(OrdersDeps { store, payments, verifier, order_tokens, cursors, personal_data_window }))
        }
    })
    .await;
    nanoshop_api::run(with_common_layers_and_fallback(health_router(FUNCTION, VERSION).merge(app))).await
}
