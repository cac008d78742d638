//! How payment events and time move an order: paid, failed, cancelled or expired, with the
//! stock movement each implies.
//!
//! Payment events are applied by state, not by arrival order: a late `processing` after
//! `succeeded` changes nothing, a `succeeded` after `payment_failed` pays.

use chrono::{DateTime, Utc};

use super::{Order, OrderFlag, OrderStatus, OrderTotals, PaymentStatus, StockState};
use crate::money::{Money, MoneyError};

/// How long an unpaid order holds its stock.
pub const DEFAULT_PAYMENT_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// How a payment event changes an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Nothing to do: a duplicate, a stale event, or one that arrives after the order moved on.
    Unchanged,
    /// The order's next state, and the stock movement to apply with it in one transaction.
    Next { order: Box<Order>, stock: Option<StockMove> },
    /// The money arrived for an order that no longer holds stock: refund it, then record this.
    RefundThen { order: Box<Order>, amount: Money },
}

/// A movement of every line's units, applied in the transaction that changes the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockMove {
    /// reserved → sold: `on_hand -= q`, `reserved -= q`.
    Commit,
    /// reserved → available: `available += q`, `reserved -= q`.
    Release,
}

/// A payment event, as far as an order is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    Processing,
    Succeeded {
        amount: Money,
    },
    Failed {
        message: Option<String>,
    },
    /// The intent was canceled `at` that moment (the provider's time, not the event's arrival).
    Canceled {
        at: DateTime<Utc>,
    },
    /// The processor's cumulative refunded amount.
    Refunded {
        total_refunded: Money,
    },
    Disputed,
}

impl Order {
    fn flagged(mut self, flag: OrderFlag) -> Self {
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
        self
    }

    /// What `event` does to this order, by the order's state alone.
    ///
    /// # Errors
    /// Only overflow while reconciling refunded amounts (impossible for real amounts).
    pub fn on_payment(&self, event: &PaymentEvent, now: DateTime<Utc>) -> Result<PaymentOutcome, MoneyError> {
        use OrderStatus as S;
        use PaymentStatus as P;
        let next = |order: Order, stock| Ok(PaymentOutcome::Next { order: Box::new(order), stock });
        match event {
            PaymentEvent::Processing => match (self.status, self.payment_status) {
                (S::PendingPayment, P::Pending | P::Failed) => {
                    next(Order { payment_status: P::Processing, ..self.next(now) }, None)
                }
                _ => Ok(PaymentOutcome::Unchanged),
            },
            PaymentEvent::Succeeded { amount } => {
                if *amount != self.totals.total {
                    return if self.flags.contains(&OrderFlag::PaymentMismatch) {
                        Ok(PaymentOutcome::Unchanged)
                    } else {
                        next(self.next(now).flagged(OrderFlag::PaymentMismatch), None)
                    };
                }
                match self.status {
                    S::PendingPayment => next(
                        Order {
                            status: S::Paid,
                            payment_status: P::Succeeded,
                            payment_error: None,
                            stock: StockState::Committed,
                            ..self.next(now)
                        },
                        Some(StockMove::Commit),
                    ),
                    S::Expired | S::Cancelled if self.payment_status != P::Refunded => {
                        let refunded = Order {
                            payment_status: P::Refunded,
                            totals: OrderTotals { refunded: *amount, ..self.totals },
                            ..self.next(now)
                        }
                        .flagged(OrderFlag::PaidAfterClose);
                        Ok(PaymentOutcome::RefundThen { order: Box::new(refunded), amount: *amount })
                    }
                    _ => Ok(PaymentOutcome::Unchanged),
                }
            }
            PaymentEvent::Failed { message } => match (self.status, self.payment_status) {
                (S::PendingPayment, P::Pending | P::Processing | P::Failed)
                    if self.payment_error != *message || self.payment_status != P::Failed =>
                {
                    next(Order { payment_status: P::Failed, payment_error: message.clone(), ..self.next(now) }, None)
                }
                _ => Ok(PaymentOutcome::Unchanged),
            },
            PaymentEvent::Canceled { at } => match self.status {
                // Canceled once its payment window had passed, the order expired, whoever canceled
                // the intent: the expiry sweep cancels it first and may fail to save before this
                // event arrives. Decided by when the intent was canceled, not when the event came:
                // a cancel inside the window that Stripe delivers late still cancels.
                S::PendingPayment => {
                    let status = if self.expires_at <= *at { S::Expired } else { S::Cancelled };
                    next(Order { status, stock: StockState::Released, ..self.next(now) }, Some(StockMove::Release))
                }
                _ => Ok(PaymentOutcome::Unchanged),
            },
            PaymentEvent::Refunded { total_refunded } => {
                // Cumulative and monotone: a late or repeated event never lowers what was refunded.
                if total_refunded.currency != self.currency || total_refunded.amount <= self.totals.refunded.amount {
                    return Ok(PaymentOutcome::Unchanged);
                }
                let refunded = Money::new(total_refunded.amount.min(self.totals.total.amount), self.currency);
                let status =
                    if refunded.amount >= self.totals.total.amount { P::Refunded } else { P::PartiallyRefunded };
                next(
                    Order { payment_status: status, totals: OrderTotals { refunded, ..self.totals }, ..self.next(now) },
                    None,
                )
            }
            PaymentEvent::Disputed => {
                if self.flags.contains(&OrderFlag::Disputed) {
                    Ok(PaymentOutcome::Unchanged)
                } else {
                    next(self.next(now).flagged(OrderFlag::Disputed), None)
                }
            }
        }
    }

    /// The order expired unpaid: its stock goes back. `None` when it is no longer pending or not
    /// yet due.
    pub fn expire(&self, now: DateTime<Utc>) -> Option<Order> {
        (self.status == OrderStatus::PendingPayment && self.expires_at <= now).then(|| Order {
            status: OrderStatus::Expired,
            stock: StockState::Released,
            ..self.next(now)
        })
    }

    /// The order could not get a payment intent: it is cancelled and its stock goes back.
    pub fn abandon(&self, now: DateTime<Utc>) -> Option<Order> {
        (self.status == OrderStatus::PendingPayment).then(|| Order {
            status: OrderStatus::Cancelled,
            stock: StockState::Released,
            ..self.next(now)
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::money::Currency;
    use crate::order::fixtures::{eur, order};

    fn after(o: &Order, e: PaymentEvent) -> PaymentOutcome {
        o.on_payment(&e, Utc::now()).expect("no overflow")
    }

    fn state(outcome: &PaymentOutcome) -> Option<(OrderStatus, PaymentStatus, Option<StockMove>)> {
        match outcome {
            PaymentOutcome::Next { order, stock } => Some((order.status, order.payment_status, *stock)),
            _ => None,
        }
    }

    #[test]
    fn a_matching_payment_pays_a_pending_order_and_commits_its_stock() {
        let o = order(OrderStatus::PendingPayment, PaymentStatus::Pending);
        let out = after(&o, PaymentEvent::Succeeded { amount: eur(1000) });
        assert_eq!(state(&out), Some((OrderStatus::Paid, PaymentStatus::Succeeded, Some(StockMove::Commit))));
    }

    #[test]
    fn events_apply_by_state_not_by_arrival_order() {
        let paid = order(OrderStatus::Paid, PaymentStatus::Succeeded);
        for late in [
            PaymentEvent::Processing,
            PaymentEvent::Failed { message: None },
            PaymentEvent::Canceled { at: Utc::now() },
            PaymentEvent::Succeeded { amount: eur(1000) },
        ] {
            assert_eq!(after(&paid, late.clone()), PaymentOutcome::Unchanged, "{late:?} after success");
        }
        let failed = order(OrderStatus::PendingPayment, PaymentStatus::Failed);
        let out = after(&failed, PaymentEvent::Succeeded { amount: eur(1000) });
        assert_eq!(state(&out).map(|s| s.0), Some(OrderStatus::Paid), "a success after a failure pays");
    }

    #[test]
    fn a_payment_of_another_amount_or_currency_is_not_accepted() {
        let o = order(OrderStatus::PendingPayment, PaymentStatus::Pending);
        for wrong in [eur(999), Money::new(1000, Currency::USD)] {
            match after(&o, PaymentEvent::Succeeded { amount: wrong }) {
                PaymentOutcome::Next { order, stock } => {
                    assert_eq!((order.status, stock), (OrderStatus::PendingPayment, None));
                    assert!(order.flags.contains(&OrderFlag::PaymentMismatch));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn money_for_a_closed_order_is_refunded_and_flagged() {
        for status in [OrderStatus::Expired, OrderStatus::Cancelled] {
            let o = order(status, PaymentStatus::Pending);
            match after(&o, PaymentEvent::Succeeded { amount: eur(1000) }) {
                PaymentOutcome::RefundThen { order, amount } => {
                    assert_eq!(
                        (order.status, order.payment_status, amount),
                        (status, PaymentStatus::Refunded, eur(1000))
                    );
                    assert!(order.flags.contains(&OrderFlag::PaidAfterClose));
                }
                other => panic!("{other:?}"),
            }
            let refunded = Order { payment_status: PaymentStatus::Refunded, ..o };
            assert_eq!(after(&refunded, PaymentEvent::Succeeded { amount: eur(1000) }), PaymentOutcome::Unchanged);
        }
    }

    #[test]
    fn refunds_reconcile_to_the_largest_cumulative_amount() {
        let paid = order(OrderStatus::Paid, PaymentStatus::Succeeded);
        let partial = match after(&paid, PaymentEvent::Refunded { total_refunded: eur(300) }) {
            PaymentOutcome::Next { order, .. } => *order,
            other => panic!("{other:?}"),
        };
        assert_eq!((partial.payment_status, partial.totals.refunded), (PaymentStatus::PartiallyRefunded, eur(300)));
        assert_eq!(after(&partial, PaymentEvent::Refunded { total_refunded: eur(300) }), PaymentOutcome::Unchanged);
        assert_eq!(after(&partial, PaymentEvent::Refunded { total_refunded: eur(100) }), PaymentOutcome::Unchanged);
        let full = after(&partial, PaymentEvent::Refunded { total_refunded: eur(1000) });
        assert_eq!(state(&full).map(|s| s.1), Some(PaymentStatus::Refunded));
    }

    #[test]
    fn a_cancelled_intent_cancels_a_pending_order_and_releases_its_stock() {
        let o = order(OrderStatus::PendingPayment, PaymentStatus::Failed);
        let before_the_end = o.expires_at - chrono::TimeDelta::seconds(1);
        // Delivered after the window closed, but canceled inside it: cancelled.
        let late = chrono::TimeDelta::hours(2);
        let in_time = o.on_payment(&PaymentEvent::Canceled { at: before_the_end }, o.expires_at + late);
        assert_eq!(
            state(&in_time.expect("no overflow")),
            Some((OrderStatus::Cancelled, PaymentStatus::Failed, Some(StockMove::Release)))
        );
        // Past its window, the order expired: the sweep canceled the intent and its own save failed.
        let overdue = o.on_payment(&PaymentEvent::Canceled { at: o.expires_at }, o.expires_at).expect("no overflow");
        assert_eq!(state(&overdue), Some((OrderStatus::Expired, PaymentStatus::Failed, Some(StockMove::Release))));
        assert!(o.expire(o.expires_at).is_some());
        assert!(o.expire(o.expires_at - chrono::TimeDelta::seconds(1)).is_none(), "not before its time");
        assert!(order(OrderStatus::Paid, PaymentStatus::Succeeded).expire(Utc::now()).is_none());
    }

    #[test]
    fn processing_and_failures_only_touch_pending_orders() {
        let o = order(OrderStatus::PendingPayment, PaymentStatus::Pending);
        assert_eq!(state(&after(&o, PaymentEvent::Processing)).map(|s| s.1), Some(PaymentStatus::Processing));
        let failed = after(&o, PaymentEvent::Failed { message: Some("declined".into()) });
        assert_eq!(state(&failed).map(|s| s.1), Some(PaymentStatus::Failed));
        let expired = order(OrderStatus::Expired, PaymentStatus::Pending);
        assert_eq!(after(&expired, PaymentEvent::Failed { message: None }), PaymentOutcome::Unchanged);
        assert_eq!(after(&expired, PaymentEvent::Processing), PaymentOutcome::Unchanged);
    }
}
