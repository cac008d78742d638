//! Order events, from the outbox to the subscribers.
//!
//! Every state change writes its events into the orders table's outbox in the same transaction
//! (`nanoshop_schema::orders::order_writes`), so an event exists exactly when its change does.
//! Relaying is at least once, deduplicated by consumers on the event's `id`:
//!
//! - In AWS the table's stream triggers `orders-events-relay` ([`StreamRelay`]), which puts the
//!   events on EventBridge and reports per record what was not accepted (the Lambda response
//!   `batchItemFailures`, with the event source mapping's `ReportBatchItemFailures`). The stream
//!   resumes from the lowest sequence number reported; the relay remembers which events of a
//!   batch were accepted and does not put them again when the stream delivers them once more.
//! - Locally `nanoshop serve` reads the outbox ([`relay_outbox`]), publishes, then deletes what
//!   was accepted.
//!
//! Both keep each order's events in order ([`publish_in_order`]): a call to the sink carries at
//! most one event of an order, and once an order's event is refused its later events wait with
//! it. The schema of each event is in `docs/events.md`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::OrderEvent;
use nanoshop_schema::decode;
use nanoshop_schema::orders::{OUTBOX, outbox_key};
use nanoshop_store::{Query, Store, Table};

/// EventBridge's `source` for every nanoshop order event.
pub const SOURCE: &str = "nanoshop.orders";
/// EventBridge takes at most 10 entries per `PutEvents`.
pub const PUT_BATCH: usize = 10;
/// How many accepted event ids a relay remembers, to skip them when the stream delivers them
/// again after a partial failure: many times a stream batch (at most 100 records).
pub const REMEMBERED: usize = 10_000;

/// Where events go.
#[async_trait]
pub trait EventSink: Send + Sync + std::fmt::Debug {
    /// Offers `events` (at most [`PUT_BATCH`]) in one call and says, event by event, whether each
    /// was accepted.
    ///
    /// # Errors
    /// When the call failed as a whole: none of the events is known to be accepted, and the caller
    /// offers them all again later.
    async fn put(&self, events: &[OrderEvent]) -> anyhow::Result<Vec<bool>>;
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
    async fn put(&self, events: &[OrderEvent]) -> anyhow::Result<Vec<bool>> {
        let mut request = self.client.put_events();
        for event in events {
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
        // One result entry per request entry, in order; a refused one carries an error code.
        let results = response.entries();
        let accepted: Vec<bool> =
            (0..events.len()).map(|i| results.get(i).is_some_and(|r| r.error_code().is_none())).collect();
        for (event, result) in events.iter().zip(results).filter(|(_, r)| r.error_code().is_some()) {
            tracing::warn!(
                event = %event.id,
                code = result.error_code().unwrap_or_default(),
                message = result.error_message().unwrap_or_default(),
                "EventBridge refused an order event"
            );
        }
        Ok(accepted)
    }
}

/// Publishes `events` (in the order they happened) through `sink`, skipping those `done` says were
/// accepted before, and returns for each whether it is now published (accepted now or before).
///
/// Each order's events stay in order: a call carries at most one event of an order (another of the
/// same order waits for the next call, sent once the first is known accepted), and after an event
/// of an order is refused its later events are not offered at all. Events of other orders go on.
pub async fn publish_in_order(
    sink: &dyn EventSink,
    events: &[OrderEvent],
    done: impl Fn(&OrderEvent) -> bool,
) -> Vec<bool> {
    let mut published = vec![false; events.len()];
    let mut blocked: HashSet<&OrderId> = HashSet::new();
    let mut call: Vec<usize> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if done(event) {
            published[i] = true;
            continue;
        }
        if call.len() == PUT_BATCH || call.iter().any(|&j| events[j].order_id == event.order_id) {
            put(sink, events, &mut call, &mut published, &mut blocked).await;
        }
        if !blocked.contains(&event.order_id) {
            call.push(i);
        }
    }
    put(sink, events, &mut call, &mut published, &mut blocked).await;
    published
}

/// One call to the sink with the events at `call` (then emptied); the orders of refused events
/// are blocked.
async fn put<'e>(
    sink: &dyn EventSink,
    events: &'e [OrderEvent],
    call: &mut Vec<usize>,
    published: &mut [bool],
    blocked: &mut HashSet<&'e OrderId>,
) {
    if call.is_empty() {
        return;
    }
    let offered: Vec<OrderEvent> = call.iter().map(|&i| events[i].clone()).collect();
    let accepted = sink.put(&offered).await.unwrap_or_else(|e| {
        tracing::warn!(error = %format!("{e:#}"), events = offered.len(), "could not put order events");
        vec![false; offered.len()]
    });
    for (k, &i) in call.iter().enumerate() {
        if accepted.get(k).copied().unwrap_or(false) {
            published[i] = true;
        } else {
            blocked.insert(&events[i].order_id);
        }
    }
    call.clear();
}

/// An outbox record of a DynamoDB stream batch: its sequence number and its event, or why the
/// event cannot be read.
#[derive(Debug)]
pub struct StreamEvent {
    pub sequence: String,
    pub event: Result<OrderEvent, String>,
}

/// The outbox events in a DynamoDB stream batch (`INSERT`s of `OUTBOX` items), in stream order.
/// Other records (orders, listings) are not events and are skipped.
///
/// # Errors
/// A record without a sequence number: not a stream batch, and nothing could be reported of it.
pub fn events_in_stream(batch: &serde_json::Value) -> anyhow::Result<Vec<StreamEvent>> {
    let mut events = Vec::new();
    for record in batch["Records"].as_array().into_iter().flatten() {
        let image = &record["dynamodb"]["NewImage"];
        if record["eventName"] != "INSERT" || image["pk"]["S"] != OUTBOX {
            continue;
        }
        let sequence = record["dynamodb"]["SequenceNumber"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("a stream record without a sequence number"))?
            .to_owned();
        let event = match image["doc"]["S"].as_str() {
            Some(doc) => serde_json::from_str(doc).map_err(|e| format!("an unreadable outbox event: {e}")),
            None => Err("an outbox record without a document".to_owned()),
        };
        events.push(StreamEvent { sequence, event });
    }
    Ok(events)
}

/// The ids of the events a relay saw accepted lately, oldest forgotten first.
#[derive(Debug, Default)]
struct Remembered {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Remembered {
    fn insert(&mut self, id: &str) {
        if self.ids.insert(id.to_owned()) {
            self.order.push_back(id.to_owned());
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }
}

/// The stream relay of `orders-events-relay`: publishes a stream batch's events and answers
/// which records failed.
#[derive(Debug)]
pub struct StreamRelay<S> {
    sink: S,
    /// Events accepted by earlier invocations of this process. The stream delivers again every
    /// record after the lowest one reported, accepted ones included; those are skipped. A
    /// redelivery that reaches a new process puts them again, which consumers deduplicate.
    accepted: Mutex<Remembered>,
}

impl<S: EventSink> StreamRelay<S> {
    pub fn new(sink: S) -> Self {
        Self { sink, accepted: Mutex::default() }
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.accepted.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Relays one stream batch. The answer names the records not published: refused by
    /// EventBridge, unreadable, or held back behind a refused event of the same order. Accepted
    /// records are never named, and are not put again when the stream redelivers them here.
    ///
    /// # Errors
    /// A batch that is not a stream batch (a record without a sequence number): the whole batch
    /// fails and is retried, bisected, then sent to the dead-letter queue.
    pub async fn relay(&self, batch: &serde_json::Value) -> anyhow::Result<DynamoDbEventResponse> {
        let records = events_in_stream(batch)?;
        let readable: Vec<(usize, OrderEvent)> =
            records.iter().enumerate().filter_map(|(i, r)| r.event.as_ref().ok().map(|e| (i, e.clone()))).collect();
        let events: Vec<OrderEvent> = readable.iter().map(|(_, e)| e.clone()).collect();
        let seen: HashSet<String> = {
            let remembered = self.remembered();
            events.iter().map(|e| e.id.to_string()).filter(|id| remembered.ids.contains(id)).collect()
        };
        let published = publish_in_order(&self.sink, &events, |e| seen.contains(&e.id.to_string())).await;
        let mut ok: HashMap<usize, bool> = HashMap::new();
        {
            let mut remembered = self.remembered();
            for ((i, event), done) in readable.iter().zip(&published) {
                if *done {
                    remembered.insert(&event.id.to_string());
                }
                ok.insert(*i, *done);
            }
        }
        let mut response = DynamoDbEventResponse::default();
        for (i, record) in records.iter().enumerate() {
            if let Err(why) = &record.event {
                tracing::error!(sequence = %record.sequence, why = %why, "an outbox record cannot be relayed");
            }
            if !ok.get(&i).copied().unwrap_or(false) {
                response.batch_item_failures.push(failure(&record.sequence));
            }
        }
        tracing::info!(
            relayed = records.len() - response.batch_item_failures.len(),
            failed = response.batch_item_failures.len(),
            "order events relayed"
        );
        Ok(response)
    }
}

fn failure(sequence: &str) -> DynamoDbBatchItemFailure {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(sequence.to_owned());
    failure
}

/// Relays up to `limit` outbox events through `sink`, oldest first, each order's in order, and
/// deletes those accepted (the local relay). Returns how many were accepted.
///
/// # Errors
/// Store failures; what was not deleted is relayed again next time.
pub async fn relay_outbox(store: &dyn Store, sink: &dyn EventSink, limit: u32) -> anyhow::Result<usize> {
    let mut query = Query::new(Table::Orders, OUTBOX);
    query.limit = limit;
    let page = store.query(&query).await?;
    let events = page.items.iter().map(decode::<OrderEvent>).collect::<Result<Vec<_>, _>>()?;
    if events.is_empty() {
        return Ok(0);
    }
    let published = publish_in_order(sink, &events, |_| false).await;
    let mut relayed = 0;
    for (event, _) in events.iter().zip(&published).filter(|(_, done)| **done) {
        store.delete(Table::Orders, &outbox_key(&event.id), None).await?;
        relayed += 1;
    }
    Ok(relayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, order: &str, kind: &str) -> OrderEvent {
        let (id, order) = (format!("oevt_01J{id:0>23}"), format!("ord_01J{order:0>23}"));
        let json = format!(
            r#"{{"id":"{id}","type":"{kind}","occurred_at":"2026-11-26T10:00:00Z","order_id":"{order}","order_number":"7","order_version":3,"status":"paid","payment_status":"succeeded","fulfillment_status":"unfulfilled","email":"a@b.example","customer_id":null,"total":{{"amount":1490,"currency":"EUR"}},"refunded":{{"amount":0,"currency":"EUR"}}}}"#
        );
        serde_json::from_str(&json).expect("an event")
    }

    fn record(sequence: &str, event: &OrderEvent) -> serde_json::Value {
        let doc = serde_json::to_string(event).expect("serialises");
        serde_json::json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": sequence,
            "NewImage": {"pk": {"S": "OUTBOX"}, "doc": {"S": doc}}}})
    }

    #[test]
    fn only_inserted_outbox_records_are_events() {
        let paid = event("1", "A", "order.paid");
        let doc = serde_json::to_string(&paid).expect("serialises");
        let batch = serde_json::json!({"Records": [
            record("100", &paid),
            {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "200", "NewImage": {"pk": {"S": "OUTBOX"}, "doc": {"S": doc}}}},
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "300", "NewImage": {"pk": {"S": "ORDER#ord_1"}, "doc": {"S": "{}"}}}},
            {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "400"}},
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "500", "NewImage": {"pk": {"S": "OUTBOX"}}}}
        ]});
        let events = events_in_stream(&batch).expect("readable");
        assert_eq!(events.len(), 2);
        assert_eq!(
            (events[0].sequence.as_str(), events[0].event.as_ref().map(|e| e.kind.as_str())),
            ("100", Ok("order.paid"))
        );
        assert_eq!(events[1].sequence, "500");
        assert!(events[1].event.is_err(), "an outbox record without a document is a failed record");
        let unsequenced = serde_json::json!({"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": {"pk": {"S": "OUTBOX"}}}}]});
        assert!(events_in_stream(&unsequenced).is_err());
    }

    /// EventBridge as a test sees it: refuses the events named in `refuse`, records every call.
    #[derive(Debug, Default)]
    struct Bus {
        refuse: Mutex<HashSet<String>>,
        calls: Mutex<Vec<Vec<String>>>,
    }

    #[async_trait]
    impl EventSink for Bus {
        async fn put(&self, events: &[OrderEvent]) -> anyhow::Result<Vec<bool>> {
            assert!(events.len() <= PUT_BATCH);
            let refuse = self.refuse.lock().expect("lock").clone();
            self.calls.lock().expect("lock").push(events.iter().map(|e| e.id.to_string()).collect());
            Ok(events.iter().map(|e| !refuse.contains(&e.id.to_string())).collect())
        }
    }

    impl Bus {
        /// Every event put so far, in order.
        fn put_so_far(&self) -> Vec<String> {
            self.calls.lock().expect("lock").iter().flatten().cloned().collect()
        }
    }

    fn reported(response: &DynamoDbEventResponse) -> Vec<&str> {
        response.batch_item_failures.iter().filter_map(|f| f.item_identifier.as_deref()).collect()
    }

    #[tokio::test]
    async fn a_refused_event_is_reported_with_what_must_follow_it_and_nothing_accepted_is_put_again() {
        let (a1, b1, a2, b2, c1) = (
            event("1", "A", "order.placed"),
            event("2", "B", "order.placed"),
            event("3", "A", "order.paid"),
            event("4", "B", "order.paid"),
            event("5", "C", "order.placed"),
        );
        let records = [("11", &a1), ("12", &b1), ("13", &a2), ("14", &b2), ("15", &c1)];
        let batch = serde_json::json!({"Records": records.iter().map(|(s, e)| record(s, e)).collect::<Vec<_>>()});
        let relay = StreamRelay::new(Bus::default());
        relay.sink.refuse.lock().expect("lock").insert(a1.id.to_string());

        let first = relay.relay(&batch).await.expect("a stream batch");
        assert_eq!(reported(&first), ["11", "13"], "A's refused event, and A's next one held behind it");
        let wire = serde_json::to_value(&first).expect("serialises");
        assert_eq!(
            wire,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "11"}, {"itemIdentifier": "13"}]})
        );
        let put = relay.sink.put_so_far();
        assert!(!put.contains(&a2.id.to_string()), "A's second event is not put before its first");
        for accepted in [&b1, &b2, &c1] {
            assert_eq!(put.iter().filter(|id| **id == accepted.id.to_string()).count(), 1);
        }

        // The stream resumes from the lowest sequence number reported: every record from 11 on.
        relay.sink.refuse.lock().expect("lock").clear();
        relay.sink.calls.lock().expect("lock").clear();
        let second = relay.relay(&batch).await.expect("a stream batch");
        assert!(reported(&second).is_empty());
        assert_eq!(relay.sink.put_so_far(), [a1.id.to_string(), a2.id.to_string()], "only what was not accepted");
        assert_eq!(relay.sink.calls.lock().expect("lock").len(), 2, "A's two events in two calls, in order");
    }

    #[tokio::test]
    async fn an_unreachable_bus_fails_every_record_and_an_unreadable_one_fails_alone() {
        #[derive(Debug)]
        struct Down;
        #[async_trait]
        impl EventSink for Down {
            async fn put(&self, _: &[OrderEvent]) -> anyhow::Result<Vec<bool>> {
                anyhow::bail!("connection refused")
            }
        }
        let (a1, b1) = (event("1", "A", "order.placed"), event("2", "B", "order.placed"));
        let batch = serde_json::json!({"Records": [record("1", &a1), record("2", &b1)]});
        let down = StreamRelay::new(Down).relay(&batch).await.expect("a stream batch");
        assert_eq!(reported(&down), ["1", "2"]);

        let broken = serde_json::json!({"Records": [record("1", &a1),
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "2", "NewImage": {"pk": {"S": "OUTBOX"}, "doc": {"S": "{"}}}},
            record("3", &b1)]});
        let relay = StreamRelay::new(Bus::default());
        assert_eq!(reported(&relay.relay(&broken).await.expect("a stream batch")), ["2"]);
        assert_eq!(relay.sink.put_so_far().len(), 2);
    }

    #[tokio::test]
    async fn a_call_carries_at_most_ten_events_and_one_per_order() {
        let events: Vec<OrderEvent> =
            (0..12).map(|i| event(&format!("{i:X}"), &format!("{:X}", i % 6), "order.placed")).collect();
        let bus = Bus::default();
        let published = publish_in_order(&bus, &events, |_| false).await;
        assert!(published.iter().all(|p| *p));
        for call in bus.calls.lock().expect("lock").iter() {
            let orders: HashSet<_> = call
                .iter()
                .map(|id| events.iter().find(|e| e.id.to_string() == *id).map(|e| e.order_id.clone()))
                .collect();
            assert_eq!(orders.len(), call.len(), "one event per order per call: {call:?}");
        }
    }
}
