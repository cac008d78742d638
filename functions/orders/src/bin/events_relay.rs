//! `orders-events-relay`: triggered by the orders table's stream, puts every new outbox event on
//! the EventBridge bus `EVENT_BUS_NAME`. A batch with any refused event fails as a whole and the
//! stream delivers it again: at least once, deduplicated by consumers on the event id.

use nanoshop_orders::events::{EventBridgeSink, EventSink, events_in_stream};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let bus = std::env::var("EVENT_BUS_NAME").map_err(|_| anyhow::anyhow!("EVENT_BUS_NAME is not set"))?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sink = EventBridgeSink { client: aws_sdk_eventbridge::Client::new(&aws), bus };
    lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let sink = &sink;
        async move {
            let events = events_in_stream(&event.payload).map_err(|e| lambda_runtime::Error::from(format!("{e:#}")))?;
            sink.publish(&events).await.map_err(|e| lambda_runtime::Error::from(format!("{e:#}")))?;
            tracing::info!(relayed = events.len(), "order events relayed");
            Ok::<_, lambda_runtime::Error>(())
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
