//! Order events in local mode: relayed from the outbox in-process, handed to the notifications
//! function (its mail written as `.eml` files to `<data dir>/mail/`), appended to
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
    /// The notifications function, as EventBridge's rule would invoke it in AWS.
    notifier: Option<nanoshop_notifications::Notifier>,
}

/// Where `nanoshop serve` puts the shop's e-mails.
#[derive(Debug, Clone)]
pub struct LocalMail {
    /// Each message as `<event id>-<kind>.eml` (`<data dir>/mail`).
    pub dir: PathBuf,
    /// The storefront's address, for the order links in the mails.
    pub storefront: String,
    /// A merchant's template overrides, when the folder exists (`<data dir>/templates`).
    pub templates: PathBuf,
}

impl LocalMail {
    /// The notifications function over `store`, writing files: `nanoshop serve`'s mail.
    ///
    /// # Errors
    /// A template override that does not compile.
    pub fn notifier(
        &self,
        store: std::sync::Arc<dyn nanoshop_store::Store>,
        order_token_key: &[u8],
    ) -> anyhow::Result<nanoshop_notifications::Notifier> {
        use nanoshop_notifications::render::Templates;
        let templates =
            if self.templates.is_dir() { Templates::with_overrides(&self.templates)? } else { Templates::builtin() };
        Ok(nanoshop_notifications::Notifier {
            store,
            mailer: std::sync::Arc::new(nanoshop_notifications::FileMailer { dir: self.dir.clone() }),
            templates: std::sync::Arc::new(templates),
            sender: nanoshop_notifications::Sender {
                name: "nanoshop (local)".into(),
                address: vec!["Mail written to files by nanoshop serve".into()],
                from: "orders@nanoshop.localhost".into(),
                reply_to: None,
            },
            links: Some(nanoshop_notifications::OrderLinks {
                storefront: self.storefront.clone(),
                tokens: Some(nanoshop_api::capability::OrderTokens::new(order_token_key)),
            }),
            instance: Default::default(),
        })
    }
}

impl LocalEvents {
    pub fn new(log: Option<PathBuf>) -> Self {
        Self { log, published: Mutex::new(Vec::new()), notifier: None }
    }

    /// These events, each also handed to `notifier` before it counts as published: an event whose
    /// mail could not be sent yet stays in the outbox and is offered again on the next tick (and
    /// sends nothing twice, see `nanoshop_notifications::delivery`).
    #[must_use]
    pub fn with_notifier(self, notifier: nanoshop_notifications::Notifier) -> Self {
        Self { notifier: Some(notifier), ..self }
    }

    /// Every event published so far, in order.
    pub fn published(&self) -> Vec<OrderEvent> {
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl EventSink for LocalEvents {
    async fn put(&self, events: &[OrderEvent]) -> anyhow::Result<Vec<bool>> {
        let mut accepted = vec![true; events.len()];
        if let Some(notifier) = &self.notifier {
            for (event, ok) in events.iter().zip(accepted.iter_mut()) {
                if let Err(e) = notifier.handle(&serde_json::to_value(event)?).await {
                    tracing::warn!(event = %event.id, error = %e, "order e-mail not sent yet; the event is offered again");
                    *ok = false;
                }
            }
        }
        let delivered: Vec<OrderEvent> =
            events.iter().zip(&accepted).filter(|(_, ok)| **ok).map(|(e, _)| e.clone()).collect();
        if let Some(path) = &self.log {
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
            for event in &delivered {
                writeln!(file, "{}", serde_json::to_string(event)?)?;
            }
        }
        for event in &delivered {
            tracing::info!(event = %event.id, kind = event.kind.as_str(), order = %event.order_id, "order event");
        }
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(delivered);
        Ok(accepted)
    }
}
