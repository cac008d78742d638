//! `orders-expirer`: one sweep of unpaid orders past their payment window, then exit. In AWS a
//! schedule invokes it every minute (a Lambda invoked by EventBridge Scheduler); anywhere else,
//! run it from cron. Two runs at once are safe.

use std::sync::Arc;

use nanoshop_api::startup::Clients;
use nanoshop_orders::config::ExpirerConfig;
use nanoshop_orders::expiry;
use nanoshop_orders::repo::OrdersRepository;
use nanoshop_payments::stripe::StripeGateway;

async fn sweep(repo: &OrdersRepository, stripe: &StripeGateway) -> anyhow::Result<expiry::Sweep> {
    let outcome = expiry::sweep(repo, stripe, chrono::Utc::now()).await?;
    tracing::info!(
        expired = outcome.expired,
        skipped = outcome.skipped,
        stopped_early = outcome.stopped_early,
        not_configured = outcome.not_configured,
        "expiry sweep"
    );
    nanoshop_api::metrics::add(nanoshop_api::Metric::OrdersExpired, u64::try_from(outcome.expired).unwrap_or(u64::MAX));
    // The heartbeat counts sweeps that could do their work: without a usable Stripe key none is
    // counted, and the heartbeat alarm tells the operator.
    if !outcome.not_configured {
        nanoshop_api::metrics::count(nanoshop_api::Metric::ExpirySweeps);
    }
    Ok(outcome)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let config = ExpirerConfig::from_env()?;
    let clients = Clients::load(config.tables.clone()).await?;
    let stripe_key = clients.secrets.open(&config.stripe.secret_key());
    // Read during init (the table is not warmed: one sweep, then exit); without a usable key the
    // sweep expires nothing, says so in its log and counts no heartbeat, until the key can be read.
    clients.secrets.load().await;
    let repo = OrdersRepository::new(Arc::new(clients.store));
    let stripe = StripeGateway::with_keys(Arc::new(stripe_key), None, config.stripe.api_base.as_deref())?;
    if std::env::var("AWS_LAMBDA_RUNTIME_API").is_ok() {
        // Each scheduled invocation is one sweep; the event's content does not matter.
        lambda_runtime::run(lambda_runtime::service_fn(|_: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let (repo, stripe) = (&repo, &stripe);
            async move {
                let outcome = sweep(repo, stripe).await.map_err(|e| lambda_runtime::Error::from(format!("{e:#}")))?;
                Ok::<_, lambda_runtime::Error>(
                    serde_json::json!({"expired": outcome.expired, "skipped": outcome.skipped, "stopped_early": outcome.stopped_early}),
                )
            }
        }))
        .await
        .map_err(|e| anyhow::anyhow!(e))
    } else {
        sweep(&repo, &stripe).await.map(drop)
    }
}
