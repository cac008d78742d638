//! Order events in local mode: relayed from the outbox in-process, appended to
//! `<data dir>/events.jsonl` (one JSON event a line, as EventBridge would carry it in `detail`),
//! and kept in memory for the tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use nanoshop_domain::order::OrderEvent;
use nanoshop_orders::events::EventSink;

#[derive(Debug, Default)]
pub struct LocalEvents {
    log: Option<PathBuf>,
    published: Mutex<Vec<OrderEvent>>,
}

impl LocalEvents {
    pub fn new(log: Option<PathBuf>) -> Self {
        Self { log, published: Mutex::new(Vec::new()) }
    }

    /// Every event published so far, in order.
    pub fn published(&self) -> Vec<OrderEvent> {
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl EventSink for LocalEvents {
    async fn put(&self, events: &[OrderEvent]) -> anyhow::Result<Vec<bool>> {
        if let Some(path) = &self.log {
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
            for event in events {
                writeln!(file, "{}", serde_json::to_string(event)?)?;
            }
        }
        for event in events {
            tracing::info!(event = %event.id, kind = event.kind.as_str(), order = %event.order_id, "order event");
        }
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(events);
        Ok(vec![true; events.len()])
    }
}
