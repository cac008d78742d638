//! Applying one payment event to one order: exactly once, whatever the delivery order, however
//! often Stripe delivers it, and whatever else changes the order at the same time.

use chrono::Utc;
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::{Order, OrderStatus, PaymentEvent, PaymentOutcome};
use nanoshop_payments::PaymentError;
use nanoshop_schema::catalog::StockMove;
use nanoshop_schema::orders::{EVENT_TTL_SECS, ORDER_ID, event_key, intent_key, order_key, order_writes};
use nanoshop_schema::{CorruptItem, decode};
use nanoshop_store::port::{EXPIRES_AT, now_unix};
use nanoshop_store::{Condition, Item, Store, StoreError, Table, Write};

use crate::WebhookDeps;

/// Attempts when the order keeps changing under us (the expiry sweep, a refund, another event).
const ATTEMPTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
    #[error("the payment provider failed while refunding")]
    Payments(#[from] PaymentError),
    #[error("order {0} kept changing")]
    Contended(OrderId),
}

/// What happened to an event, for the answer and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// It changed the order.
    Changed,
    /// It was seen before.
    Duplicate,
    /// It changed nothing (stale, or the order is already past it).
    NoEffect,
    /// It concerns no order of ours.
    NotOurs,
}

/// The order an intent's charge belongs to, through the pointer checkout wrote.
///
/// # Errors
/// Store failures.
pub async fn order_of_intent(store: &dyn Store, intent_id: &str) -> Result<Option<OrderId>, ApplyError> {
    let item = store.get(Table::Orders, &intent_key(intent_id)).await?;
    Ok(item.and_then(|i| i.s(ORDER_ID).and_then(|s| s.parse().ok())))
}

/// Applies `event` (Stripe's event `event_id`) to order `order_id` once.
///
/// # Errors
/// Store or provider failures (Stripe redelivers on a 5xx), or an order that kept changing.
pub async fn apply(
    deps: &WebhookDeps,
    event_id: &str,
    order_id: &OrderId,
    intent_id: &str,
    event: &PaymentEvent,
) -> Result<Applied, ApplyError> {
    let store = deps.store.as_ref();
    let seen = Write::Put {
        table: Table::Idempotency,
        item: Item::new(&event_key(event_id)).with(EXPIRES_AT, now_unix() + EVENT_TTL_SECS),
        condition: Some(Condition::NotExists),
    };
    for _ in 0..ATTEMPTS {
        if store.get(Table::Idempotency, &event_key(event_id)).await?.is_some() {
            return Ok(Applied::Duplicate);
        }
        let Some(order) =
            store.get(Table::Orders, &order_key(order_id)).await?.as_ref().map(decode::<Order>).transpose()?
        else {
            return Ok(Applied::NotOurs);
        };
        // Metadata can be copied onto any intent; only the order's own intent moves it.
        if order.payment.payment_intent_id.as_deref().is_some_and(|own| own != intent_id) {
            return Ok(Applied::NotOurs);
        }
        let (next, movement) = match order
            .on_payment(event, Utc::now())
            .map_err(|e| CorruptItem { key: order_id.to_string(), reason: e.to_string() })?
        {
            PaymentOutcome::Unchanged => {
                return match store.transact(vec![seen.clone()]).await {
                    Ok(()) => Ok(Applied::NoEffect),
                    Err(e) if e.failed_condition().is_some() => Ok(Applied::Duplicate),
                    Err(e) => Err(e.into()),
                };
            }
            PaymentOutcome::Next { order: next, stock } => (next, stock),
            PaymentOutcome::RefundThen { order: next, amount } => {
                // Refund first, under a key of the order: if recording fails, the redelivered
                // event refunds again with the same key, which the provider answers without a
                // second refund.
                deps.payments.refund(intent_id, amount, &format!("nanoshop-refund-closed-{order_id}")).await?;
                (next, None)
            }
        };
        let mut writes = vec![seen.clone()];
        writes.extend(order_writes(Some(&order), &next)?);
        if let Some(movement) = movement {
            writes.extend(StockMove::from(movement).of_order(&order));
        }
        match store.transact(writes).await {
            Ok(()) => {
                if next.status == OrderStatus::Paid && order.status != OrderStatus::Paid {
                    nanoshop_api::metrics::count(nanoshop_api::Metric::OrdersPaid);
                }
                return Ok(Applied::Changed);
            }
            Err(e) => match e.failed_condition() {
                Some(0) => return Ok(Applied::Duplicate),
                Some(_) => continue,
                None => return Err(e.into()),
            },
        }
    }
    Err(ApplyError::Contended(order_id.clone()))
}
