//! Order events, from the outbox to the subscribers.
//!
//! Every state change writes its events into the orders table's outbox in the same transaction
//! (`nanoshop_schema::orders::order_writes`), so an event exists exactly when its change does.
//! Relaying is at least once: in AWS the table's stream triggers `orders-events-relay`, which puts
//! the events on EventBridge and fails the batch (to be retried) if any entry was refused;
//! locally `nanoshop serve` reads the outbox, publishes, then deletes. Consumers deduplicate by
//! the event's `id`. The schema of each event is in `docs/events.md`.

use async_trait::async_trait;
use nanoshop_domain::order::OrderEvent;
use nanoshop_schema::decode;
use nanoshop_schema::orders::{OUTBOX, outbox_key};
use nanoshop_store::{Query, Store, Table};

/// EventBridge's `source` for every nanoshop order event.
pub const SOURCE: &str = "nanoshop.orders";
/// EventBridge takes at most 10 entries per `PutEvents`.
const PUT_BATCH: usize = 10;

/// Where events go.
#[async_trait]
pub trait EventSink: Send + Sync + std::fmt::Debug {
    /// Publishes `events` in order.
    ///
    /// # Errors
    /// When any event was not accepted; the caller publishes them again later.
    async fn publish(&self, events: &[OrderEvent]) -> anyhow::Result<()>;
}

/// Publishes to an EventBridge bus: `source` [`SOURCE`], `detail-type` the event type, `detail`
/// the event.
#[derive(Debug, Clone)]
pub struct EventBridgeSink {
    pub client: aws_sdk_eventbridge::Client,
    pub bus: String,
}

#[async_trait]
impl EventSink for EventBridgeSink {
    async fn publish(&self, events: &[OrderEvent]) -> anyhow::Result<()> {
        for chunk in events.chunks(PUT_BATCH) {
            let mut request = self.client.put_events();
            for event in chunk {
                request = request.entries(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(event.kind.as_str())
                        .detail(serde_json::to_string(event)?)
                        .build(),
                );
            }
            let response = request.send().await?;
            anyhow::ensure!(
                response.failed_entry_count() == 0,
                "EventBridge refused {} of {} events",
                response.failed_entry_count(),
                chunk.len()
            );
        }
        Ok(())
    }
}

/// The outbox events in a DynamoDB stream batch (`INSERT`s of `OUTBOX` items), in stream order.
/// Other records (orders, listings) are not events and are skipped.
///
/// # Errors
/// An outbox record whose document cannot be read: a bug, worth failing the batch over.
pub fn events_in_stream(batch: &serde_json::Value) -> anyhow::Result<Vec<OrderEvent>> {
    let mut events = Vec::new();
    for record in batch["Records"].as_array().into_iter().flatten() {
        let image = &record["dynamodb"]["NewImage"];
        if record["eventName"] != "INSERT" || image["pk"]["S"] != OUTBOX {
            continue;
        }
        let doc = image["doc"]["S"].as_str().ok_or_else(|| anyhow::anyhow!("an outbox record without a document"))?;
        events.push(serde_json::from_str(doc)?);
    }
    Ok(events)
}

/// Relays up to `limit` outbox events through `sink`, oldest first, deleting each batch once it
/// is published (the local relay). Returns how many were relayed.
///
/// # Errors
/// Store or sink failures; what was not deleted is relayed again next time.
pub async fn relay_outbox(store: &dyn Store, sink: &dyn EventSink, limit: u32) -> anyhow::Result<usize> {
    let mut query = Query::new(Table::Orders, OUTBOX);
    query.limit = limit;
    let page = store.query(&query).await?;
    let events = page.items.iter().map(decode::<OrderEvent>).collect::<Result<Vec<_>, _>>()?;
    if events.is_empty() {
        return Ok(0);
    }
    sink.publish(&events).await?;
    for event in &events {
        store.delete(Table::Orders, &outbox_key(&event.id), None).await?;
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inserted_outbox_records_are_events() {
        let event = r#"{"id":"oevt_01J00000000000000000000000","type":"order.paid","occurred_at":"2026-11-26T10:00:00Z","order_id":"ord_01J00000000000000000000000","order_number":"7","order_version":3,"status":"paid","payment_status":"succeeded","fulfillment_status":"unfulfilled","email":"a@b.example","customer_id":null,"total":{"amount":1490,"currency":"EUR"},"refunded":{"amount":0,"currency":"EUR"}}"#;
        let batch = serde_json::json!({"Records": [
            {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX"}, "doc": {"S": event}}}},
            {"eventName": "MODIFY", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX"}, "doc": {"S": event}}}},
            {"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "ORDER#ord_1"}, "doc": {"S": "{}"}}}},
            {"eventName": "REMOVE", "dynamodb": {}}
        ]});
        let events = events_in_stream(&batch).expect("readable");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind.as_str(), "order.paid");
        let broken = serde_json::json!({"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX"}}}}]});
        assert!(events_in_stream(&broken).is_err());
    }
}
