//! `orders-events-relay`: triggered by the orders table's stream, puts every new outbox event on
//! the EventBridge bus `EVENT_BUS_NAME`, and answers which records failed (`batchItemFailures`;
//! the event source mapping has `FunctionResponseTypes: [ReportBatchItemFailures]`). The stream
//! resumes from the lowest failed record; what was accepted is not put again (see
//! `nanoshop_orders::events`). At least once, deduplicated by consumers on the event id.

use nanoshop_orders::config::RelayConfig;
use nanoshop_orders::events::{EventBridgeSink, StreamRelay};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    nanoshop_api::init_tracing();
    let bus = RelayConfig::from_env()?.event_bus_name;
    let aws = nanoshop_api::startup::aws_config().await?;
    let relay = StreamRelay::new(EventBridgeSink { client: aws_sdk_eventbridge::Client::new(&aws), bus });
    lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        let relay = &relay;
        async move { relay.relay(&event.payload).await.map_err(|e| lambda_runtime::Error::from(format!("{e:#}"))) }
    }))
    .await
    .map_err(|e| anyhow::anyhow!(e))
}
