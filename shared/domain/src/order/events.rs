//! The events an order's changes produce, as integrators subscribe to them (`docs/events.md`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{FulfillmentStatus, Order, OrderFlag, OrderStatus, PaymentStatus, RefundState};
use crate::ids::{OrderEventId, OrderId};
use crate::money::Money;

/// What happened to an order, as integrators subscribe to it (`docs/events.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum OrderEventType {
    #[serde(rename = "order.placed")]
    Placed,
    #[serde(rename = "order.paid")]
    Paid,
    /// The processor refused a payment of the still-pending order (it stays payable).
    #[serde(rename = "order.payment_failed")]
    PaymentFailed,
    #[serde(rename = "order.fulfilled")]
    Fulfilled,
    #[serde(rename = "order.cancelled")]
    Cancelled,
    #[serde(rename = "order.refunded")]
    Refunded,
    #[serde(rename = "order.expired")]
    Expired,
}

impl OrderEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "order.placed",
            Self::Paid => "order.paid",
            Self::PaymentFailed => "order.payment_failed",
            Self::Fulfilled => "order.fulfilled",
            Self::Cancelled => "order.cancelled",
            Self::Refunded => "order.refunded",
            Self::Expired => "order.expired",
        }
    }
}

/// One order event: a unique id, what happened, and the order as it is afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderEvent {
    pub id: OrderEventId,
    #[serde(rename = "type")]
    pub kind: OrderEventType,
    pub occurred_at: DateTime<Utc>,
    pub order_id: OrderId,
    pub order_number: String,
    pub order_version: u64,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub email: String,
    pub customer_id: Option<String>,
    pub total: Money,
    pub refunded: Money,
}

/// The events a change from `previous` (none: a new order) to `next` produces. A refund counts
/// when it settles, not when it is reserved.
pub fn events(previous: Option<&Order>, next: &Order) -> Vec<OrderEvent> {
    let mut kinds = Vec::new();
    match previous {
        None => kinds.push(OrderEventType::Placed),
        Some(p) => {
            if p.status != next.status {
                match next.status {
                    OrderStatus::Paid => kinds.push(OrderEventType::Paid),
                    OrderStatus::Fulfilled => kinds.push(OrderEventType::Fulfilled),
                    OrderStatus::Cancelled => kinds.push(OrderEventType::Cancelled),
                    OrderStatus::Expired => kinds.push(OrderEventType::Expired),
                    OrderStatus::PendingPayment => {}
                }
            }
            // One event each time a payment attempt fails, not for a second message of the same one.
            if next.status == OrderStatus::PendingPayment
                && next.payment_status == PaymentStatus::Failed
                && p.payment_status != PaymentStatus::Failed
            {
                kinds.push(OrderEventType::PaymentFailed);
            }
            let settled = |o: &Order| o.refunds.iter().filter(|r| r.state == RefundState::Succeeded).count();
            let paid_after_close =
                !p.flags.contains(&OrderFlag::PaidAfterClose) && next.flags.contains(&OrderFlag::PaidAfterClose);
            if settled(next) > settled(p) || paid_after_close {
                kinds.push(OrderEventType::Refunded);
            }
        }
    }
    kinds
        .into_iter()
        .map(|kind| OrderEvent {
            id: OrderEventId::generate(),
            kind,
            occurred_at: next.updated_at,
            order_id: next.id.clone(),
            order_number: next.number.clone(),
            order_version: next.version,
            status: next.status,
            payment_status: next.payment_status,
            fulfillment_status: next.fulfillment_status,
            email: next.email.clone(),
            customer_id: next.customer_id.clone(),
            total: next.totals.total,
            refunded: next.totals.refunded,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::order::PaymentEvent;
    use crate::order::PaymentOutcome;
    use crate::order::fixtures::{eur, order, with_line};

    #[test]
    fn every_change_of_state_is_one_event() {
        let pending = with_line(order(OrderStatus::PendingPayment, PaymentStatus::Pending));
        let kinds = |p: Option<&Order>, n: &Order| events(p, n).into_iter().map(|e| e.kind).collect::<Vec<_>>();
        assert_eq!(kinds(None, &pending), [OrderEventType::Placed]);
        let paid = match pending.on_payment(&PaymentEvent::Succeeded { amount: eur(1000) }, Utc::now()).expect("ok") {
            PaymentOutcome::Next { order, .. } => *order,
            other => panic!("{other:?}"),
        };
        assert_eq!(kinds(Some(&pending), &paid), [OrderEventType::Paid]);
        let declined = |o: &Order, message: &str| match o
            .on_payment(&PaymentEvent::Failed { message: Some(message.into()) }, Utc::now())
            .expect("ok")
        {
            PaymentOutcome::Next { order, .. } => *order,
            other => panic!("{other:?}"),
        };
        let failed = declined(&pending, "declined");
        assert_eq!(kinds(Some(&pending), &failed), [OrderEventType::PaymentFailed]);
        assert_eq!(kinds(Some(&failed), &declined(&failed, "again")), [], "the same failure told again");
        assert_eq!(kinds(Some(&paid), &paid), [], "no change, no event");
        let (reserved, _) = paid.refund("r".into(), Some(100), None, vec![], Utc::now()).expect("refund");
        assert_eq!(kinds(Some(&paid), &reserved), [], "a reserved refund is not yet an event");
        let (settled, _) = reserved.settle_refund("r", "re".into(), Utc::now()).expect("settle");
        assert_eq!(kinds(Some(&reserved), &settled), [OrderEventType::Refunded]);
        assert_eq!(kinds(Some(&pending), &pending.expire(pending.expires_at).expect("due")), [OrderEventType::Expired]);
        let (cancelling, _) = settled.cancel("c".into(), Utc::now()).expect("cancel");
        assert_eq!(kinds(Some(&settled), &cancelling), [], "a paid order is cancelled when its refund settles");
        let (cancelled, _) = cancelling.settle_refund("c", "re_c".into(), Utc::now()).expect("settle");
        assert_eq!(cancelled.status, OrderStatus::Cancelled);
        assert_eq!(kinds(Some(&cancelling), &cancelled), [OrderEventType::Cancelled, OrderEventType::Refunded]);
        let refused = cancelling.drop_refund("c", Utc::now()).expect("pending");
        assert_eq!(
            (refused.status, kinds(Some(&cancelling), &refused)),
            (OrderStatus::Paid, vec![]),
            "a refused cancel leaves it paid"
        );
        let ids: std::collections::BTreeSet<_> = (0..3).map(|_| events(None, &pending)[0].id.clone()).collect();
        assert_eq!(ids.len(), 3, "every event has its own id");
    }
}
