//! One order event in, at most one e-mail out: [`Notifier::handle`].
//!
//! Events arrive at least once (the relay, EventBridge's retries, Lambda's retries, a replay), so
//! the e-mail of an event is claimed before it is sent: a conditional put of `MAIL#{event id}` in
//! the idempotency table, with a TTL ([`nanoshop_schema::orders::mail_key`]). Whoever wrote it
//! sends; everyone else finds it and sends nothing.
//!
//! - The claim is a lease (`state: sending`, `owner`, `lease_until`). Sent: `state: sent`. A
//!   transient failure deletes the claim (only the owner's), so the retry of the event claims it
//!   afresh and sends once. A refusal for good: `state: refused`, the order flagged
//!   `email_refused` for the merchant, and the event acknowledged (never retried for ever).
//! - A claim still in its lease is another delivery sending right now: this one fails, and its
//!   retry finds the mail sent. A claim past its lease is a delivery that died between claiming
//!   and recording: it is taken over, and sent. That is the one window where a shopper could get a
//!   mail twice (the process died after the server took it and before the record was written);
//!   never a mail lost.
//!
//! Why the idempotency table and not the orders table: it is the table of processed-event records
//! with TTL already, and the orders table's stream feeds the events relay, which would wake for
//! every delivery record written beside the orders.
//!
//! Events of a type that sends no mail, of unknown types, and of orders that no longer exist are
//! acknowledged and logged; an event that cannot be read at all is an error, so it ends in the
//! dead-letter queue.

use std::sync::Arc;

use chrono::Utc;
use nanoshop_api::capability::OrderTokens;
use nanoshop_domain::ids::{OrderEventId, OrderId};
use nanoshop_domain::order::{Order, OrderEventType, OrderFlag};
use nanoshop_domain::settings::StoreSettings;
use nanoshop_schema::catalog::settings_key;
use nanoshop_schema::orders::{MAIL_TTL_SECS, mail_key, order_key, order_writes};
use nanoshop_schema::{CorruptItem, decode};
use nanoshop_store::port::{EXPIRES_AT, now_unix};
use nanoshop_store::{Condition, Item, Store, StoreError, Table, Update, Value};
use serde::Deserialize;

use crate::deliver::{Mailer, SendError};
use crate::message::{MailKind, Sender};
use crate::render::{MailContext, TemplateError, Templates};

/// The claim's attributes.
const STATE: &str = "state";
const OWNER: &str = "owner";
const LEASE_UNTIL: &str = "lease_until";
const SENDING: &str = "sending";
const SENT: &str = "sent";
const REFUSED: &str = "refused";
/// How long a claim holds off other deliveries of the same event: longer than one send can take
/// (the SMTP and SES clients time out well within it) and than the function's timeout.
pub const LEASE_SECS: i64 = 90;
/// Attempts at raising the order's flag against concurrent writes of the order.
const FLAG_ATTEMPTS: usize = 5;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The mail was accepted by the server or service.
    Sent(MailKind),
    /// An earlier delivery of the same event already sent (or was refused): nothing sent.
    AlreadyDone,
    /// The address refused the mail for good; the order is flagged for the merchant.
    Refused(MailKind),
    /// The event's type sends no mail, or is one this function does not know.
    NoMail,
    /// The order is gone: nothing to tell.
    OrderGone,
    /// The customer erased their account (`DELETE /me`), which blanked the order's e-mail: there
    /// is nobody to write to, and flagging a refusal would tell the merchant of a fault that is not
    /// one.
    Erased,
}

/// Why an event must be delivered again (or, when malformed, set aside).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Not an order event at all: retrying cannot help; it belongs in the dead-letter queue.
    #[error("malformed order event: {0}")]
    Malformed(String),
    /// Another delivery of the same event holds the claim and is sending now.
    #[error("the e-mail of event {0} is being sent by another delivery")]
    InFlight(String),
    #[error(transparent)]
    Send(SendError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The shopper's order page, linked from the mails: `<storefront>#/order/<id>`, with an order
/// token (`?token=`) when the order-token key is given, so a guest opens it from the mail.
#[derive(Debug, Clone)]
pub struct OrderLinks {
    pub storefront: String,
    pub tokens: Option<OrderTokens>,
}

impl OrderLinks {
    async fn of(&self, order: &Order) -> String {
        let base = format!("{}/#/order/{}", self.storefront.trim_end_matches('/'), order.id);
        let Some(tokens) = &self.tokens else { return base };
        match tokens.issue(&order.id, order.token_version, now_unix()).await {
            Ok(token) => format!("{base}?token={token}"),
            // The key cannot be read right now: a link without the token still opens the order
            // for a signed-in customer; the mail is not held back for it.
            Err(e) => {
                tracing::warn!(error = ?e, "no order token for the mail's link");
                base
            }
        }
    }
}

/// Everything [`Notifier::handle`] needs, built once.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub templates: Arc<Templates>,
    pub sender: Sender,
    pub links: Option<OrderLinks>,
    /// Who this instance is in its claims, and the events it finished (see [`Instance`]).
    pub instance: Arc<Instance>,
}

/// What one instance (a Lambda execution environment, a `nanoshop serve` process) knows of its own
/// deliveries. An instance handles one event at a time, so a claim that names it is its own from
/// an attempt whose write it could not confirm (a timeout after the write): it may go on with it
/// instead of waiting out its own lease. And an event it finished whose record could not be
/// written is remembered here, so a redelivery to it sends nothing again.
#[derive(Debug)]
pub struct Instance {
    id: String,
    finished: std::sync::Mutex<std::collections::VecDeque<String>>,
}

/// How many finished events an instance remembers: far more than are redelivered to it.
const REMEMBERED: usize = 10_000;

impl Default for Instance {
    fn default() -> Self {
        Self { id: OrderEventId::generate().to_string(), finished: std::sync::Mutex::default() }
    }
}

impl Instance {
    fn owner(&self, event: &str) -> String {
        format!("{}:{event}", self.id)
    }

    fn finished(&self, event: &str) -> bool {
        self.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().any(|e| e == event)
    }

    fn finish(&self, event: &str) {
        let mut finished = self.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if finished.len() == REMEMBERED {
            finished.pop_front();
        }
        finished.push_back(event.to_owned());
    }
}

/// The part of an event this function reads; the order itself is read from its table.
#[derive(Debug, Deserialize)]
struct EventHead {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    order_id: String,
}

/// An order event as read: its id, its type as written, its order.
#[derive(Debug)]
struct Event {
    id: String,
    kind: String,
    order_id: OrderId,
}

/// Whose claim it is, after trying to take it.
enum Claim {
    Mine,
    Done,
    Busy,
}

impl Notifier {
    /// Sends the mail of `event` (an EventBridge event whose `detail` is an order event, or the
    /// order event itself) unless an earlier delivery did.
    ///
    /// # Errors
    /// [`NotifyError::Malformed`] for what is not an order event; anything else means "deliver
    /// this event again later": nothing was sent, or what was sent is recorded.
    pub async fn handle(&self, event: &serde_json::Value) -> Result<Outcome, NotifyError> {
        let head = parse(event)?;
        let Some(kind) = serde_json::from_value::<OrderEventType>(serde_json::Value::String(head.kind.clone()))
            .ok()
            .and_then(MailKind::of)
        else {
            tracing::info!(event = %head.id, kind = %head.kind, "no mail for this event type");
            return Ok(Outcome::NoMail);
        };
        let Some(order) = self.order(&head.order_id).await? else {
            tracing::warn!(event = %head.id, order = %head.order_id, "the event's order no longer exists; no mail");
            return Ok(Outcome::OrderGone);
        };
        if order.email.is_empty() {
            tracing::info!(event = %head.id, order = %order.id, "the order's customer erased their account; no mail");
            return Ok(Outcome::Erased);
        }
        if self.instance.finished(&head.id) {
            return Ok(Outcome::AlreadyDone);
        }
        let owner = self.instance.owner(&head.id);
        match self.claim(&head.id, &owner).await? {
            Claim::Mine => {}
            Claim::Done => {
                tracing::info!(event = %head.id, "mail already sent for this event");
                return Ok(Outcome::AlreadyDone);
            }
            Claim::Busy => return Err(NotifyError::InFlight(head.id)),
        }
        let mail = match self.compose(&head.id, kind, &order).await {
            Ok(mail) => mail,
            Err(e) => {
                self.release(&head.id, &owner).await;
                return Err(e);
            }
        };
        match self.mailer.send(&mail).await {
            Ok(()) => {
                self.record(&head.id, &owner, SENT).await;
                tracing::info!(event = %head.id, order = %order.id, kind = kind.template(), "order e-mail sent");
                Ok(Outcome::Sent(kind))
            }
            Err(SendError::Refused(reason)) => {
                // The flag first: if it cannot be written the claim is given back, and the retry
                // (which delivers nothing, the address refusing again) flags the order then.
                if let Err(e) = self.flag(&order.id).await {
                    self.release(&head.id, &owner).await;
                    return Err(e);
                }
                self.record(&head.id, &owner, REFUSED).await;
                tracing::warn!(event = %head.id, order = %order.id, %reason, "order e-mail refused; order flagged");
                Ok(Outcome::Refused(kind))
            }
            Err(e) => {
                self.release(&head.id, &owner).await;
                Err(NotifyError::Send(e))
            }
        }
    }

    async fn order(&self, id: &OrderId) -> Result<Option<Order>, NotifyError> {
        let item = self.store.get(Table::Orders, &order_key(id)).await?;
        Ok(item.map(|i| decode(&i)).transpose()?)
    }

    async fn compose(&self, event: &str, kind: MailKind, order: &Order) -> Result<crate::Mail, NotifyError> {
        let link = match &self.links {
            Some(links) => Some(links.of(order).await),
            None => None,
        };
        // One read of the settings per mail, not a cache: a mail is rare next to the price of one
        // small read, and an admin who fixes the store's address sees it in the very next mail
        // from every instance, with nothing to invalidate.
        let settings = self.store.get(Table::Catalog, &settings_key()).await?;
        let settings: StoreSettings = settings.map(|i| decode(&i)).transpose()?.unwrap_or_default();
        let sender = self.sender.with_settings(&settings);
        let context = MailContext::new(order, &sender, settings.locale, settings.prices_include_tax, link);
        Ok(self.templates.compose(event, kind, &context)?)
    }

    /// Takes the claim on `event`'s mail for `owner`, or says who has it.
    async fn claim(&self, event: &str, owner: &str) -> Result<Claim, NotifyError> {
        let key = mail_key(event);
        // A claim deleted or expired between the put and the read is simply tried again.
        for _ in 0..3 {
            let now = now_unix();
            let item = Item::new(&key)
                .with(STATE, SENDING)
                .with(OWNER, owner)
                .with(LEASE_UNTIL, now + LEASE_SECS)
                .with(EXPIRES_AT, now + MAIL_TTL_SECS);
            let current = match self.store.put(Table::Idempotency, item, Some(Condition::NotExists)).await {
                Ok(()) => return Ok(Claim::Mine),
                Err(StoreError::ConditionFailed { current: Some(current) }) => Some(*current),
                Err(StoreError::ConditionFailed { current: None }) => self.store.get(Table::Idempotency, &key).await?,
                Err(e) => return Err(e.into()),
            };
            let Some(current) = current else { continue };
            match (current.s(STATE), current.s(OWNER), current.n(LEASE_UNTIL)) {
                (Some(SENDING), Some(holder), Some(until)) if until < now => {
                    // The holder died mid-send: take it over, unless someone else just did.
                    let takeover = Update::new(key.clone()).set(OWNER, owner).set(LEASE_UNTIL, now + LEASE_SECS).when(
                        Condition::And(vec![
                            Condition::Equals(STATE.into(), Value::from(SENDING)),
                            Condition::Equals(OWNER.into(), Value::from(holder)),
                        ]),
                    );
                    return match self.store.update(Table::Idempotency, takeover).await {
                        Ok(_) => Ok(Claim::Mine),
                        Err(e) if e.is_condition_failed() => Ok(Claim::Busy),
                        Err(e) => Err(e.into()),
                    };
                }
                // This instance's own earlier attempt, whose write it could not confirm.
                (Some(SENDING), Some(holder), _) if holder == owner => return Ok(Claim::Mine),
                (Some(SENDING), _, _) => return Ok(Claim::Busy),
                _ => return Ok(Claim::Done),
            }
        }
        Ok(Claim::Busy)
    }

    /// Records how the owner's send ended. The send happened whatever this write does: if it fails
    /// the event is still acknowledged (a retry would send again once the lease lapsed), and this
    /// instance remembers it; the claim lapses into a takeover only for a redelivery elsewhere.
    async fn record(&self, event: &str, owner: &str, state: &str) {
        self.instance.finish(event);
        if let Err(e) = self.write_record(event, owner, state).await {
            tracing::error!(event, error = %e, "mail sent but its record not written; a redelivery elsewhere may send it again");
        }
    }

    async fn write_record(&self, event: &str, owner: &str, state: &str) -> Result<(), NotifyError> {
        let update = Update::new(mail_key(event))
            .set(STATE, state)
            .remove(LEASE_UNTIL)
            .when(Condition::Equals(OWNER.into(), Value::from(owner)));
        match self.store.update(Table::Idempotency, update).await {
            Ok(_) => Ok(()),
            // Our lease ran out and another delivery took the claim over: it records its own end.
            Err(e) if e.is_condition_failed() => {
                tracing::warn!(event, "claim taken over before the send was recorded");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the claim back after a transient failure, so the event's retry sends. If this fails
    /// too, the claim's lease runs out and the retry takes it over.
    async fn release(&self, event: &str, owner: &str) {
        let condition = Condition::Equals(OWNER.into(), Value::from(owner));
        if let Err(e) = self.store.delete(Table::Idempotency, &mail_key(event), Some(condition)).await {
            tracing::warn!(event, error = %e, "could not release the mail claim; it lapses with its lease");
        }
    }

    /// Raises `email_refused` on the order, against concurrent writes of it.
    async fn flag(&self, id: &OrderId) -> Result<(), NotifyError> {
        for _ in 0..FLAG_ATTEMPTS {
            let Some(order) = self.order(id).await? else { return Ok(()) };
            let Some(next) = order.with_flag(OrderFlag::EmailRefused, Utc::now()) else { return Ok(()) };
            match self.store.transact(order_writes(Some(&order), &next)?).await {
                Ok(()) => return Ok(()),
                Err(e) if e.failed_condition() == Some(0) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        tracing::warn!(order = %id, "order kept changing; e-mail refusal not flagged on it");
        Ok(())
    }
}

/// The order event in `event`: the EventBridge envelope's `detail`, or the event itself.
fn parse(event: &serde_json::Value) -> Result<Event, NotifyError> {
    let detail = event.get("detail").unwrap_or(event);
    let head: EventHead = serde_json::from_value(detail.clone()).map_err(|e| NotifyError::Malformed(e.to_string()))?;
    head.id.parse::<OrderEventId>().map_err(|e| NotifyError::Malformed(e.to_string()))?;
    let order_id = head.order_id.parse::<OrderId>().map_err(|e| NotifyError::Malformed(e.to_string()))?;
    Ok(Event { id: head.id, kind: head.kind, order_id })
}

#[cfg(test)]
mod tests;
