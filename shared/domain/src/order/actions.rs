//! What the order API does to an order: cancel it, fulfil some or all of it, and refund it in
//! two phases (reserved on the order, then settled or dropped as the provider answers), each
//! checked against the order's state and never beyond what was ordered or paid.

use chrono::{DateTime, Utc};

use super::{Fulfillment, FulfillmentStatus, Order, OrderStatus, PaymentStatus, RefundRecord, RefundState, StockState};
use crate::catalog::Sku;
use crate::money::Money;

/// Why an order cannot do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("an order that is {status} cannot be {action}")]
    InvalidTransition { status: &'static str, action: &'static str },
    #[error("the order has no line for SKU `{0}`")]
    UnknownSku(Sku),
    #[error("only {left} unit(s) of `{sku}` are left to {action}")]
    TooMany { sku: Sku, left: u32, action: &'static str },
    #[error("everything has already been fulfilled")]
    NothingToFulfill,
    #[error("the amount must be between 1 and the {left} left to refund")]
    InvalidAmount { left: Money },
    #[error("a refund is already being processed for this order; retry when it has settled")]
    RefundInProgress,
}

/// What cancelling an order sets in motion, besides its new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelEffect {
    /// Unpaid: cancel the PaymentIntent and release the reserved stock.
    ReleaseReservation,
    /// Paid: refund this (recorded on the order as a pending refund with id `refund_id`), then
    /// restock every line when the refund settles.
    Refund { amount: Money, refund_id: String },
}

/// The actions of the order API and the system, for the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Cancel,
    Fulfill,
    Refund,
    Expire,
}

fn add_units(list: &mut Vec<(Sku, u32)>, sku: &Sku, n: u32) {
    match list.iter_mut().find(|(s, _)| s == sku) {
        Some((_, q)) => *q += n,
        None => list.push((sku.clone(), n)),
    }
}

impl Order {
    fn invalid(&self, action: &'static str) -> TransitionError {
        TransitionError::InvalidTransition { status: self.status.as_str(), action }
    }

    /// Units of `sku` ordered, fulfilled and restocked so far.
    fn units(&self, sku: &Sku) -> Option<(u32, u32, u32)> {
        let ordered = self.lines.iter().find(|l| l.sku == *sku)?.quantity;
        let count = |entries: &mut dyn Iterator<Item = &(Sku, u32)>| {
            entries.filter(|(s, _)| s == sku).map(|(_, q)| *q).sum::<u32>()
        };
        let fulfilled = count(&mut self.fulfillments.iter().flat_map(|f| f.lines.iter()));
        let restocked = count(&mut self.refunds.iter().flat_map(|r| r.restock.iter()));
        Some((ordered, fulfilled, restocked))
    }

    /// What is still paid and not refunded (pending refunds count as refunded).
    pub fn refundable(&self) -> Money {
        Money::new((self.totals.total.amount - self.totals.refunded.amount).max(0), self.currency)
    }

    fn has_pending_refund(&self) -> bool {
        self.refunds.iter().any(|r| r.state == RefundState::Pending)
    }

    /// Cancels the order: unpaid ones release their stock; paid, unfulfilled ones are refunded in
    /// full and restocked. Fulfilled, expired and cancelled orders cannot be cancelled.
    ///
    /// # Errors
    /// [`TransitionError::InvalidTransition`] for any other state.
    pub fn cancel(&self, refund_id: String, now: DateTime<Utc>) -> Result<(Order, CancelEffect), TransitionError> {
        match (self.status, self.fulfillment_status) {
            (OrderStatus::PendingPayment, _) => Ok((
                Order { status: OrderStatus::Cancelled, stock: StockState::Released, ..self.next(now) },
                CancelEffect::ReleaseReservation,
            )),
            // A paid order is cancelled by refunding it; once fully refunded there is nothing left
            // to cancel with, and its units are restocked through refunds.
            (OrderStatus::Paid, FulfillmentStatus::Unfulfilled) if self.refundable().amount > 0 => {
                if self.has_pending_refund() {
                    return Err(TransitionError::RefundInProgress);
                }
                let amount = self.refundable();
                let restock: Vec<(Sku, u32)> = self
                    .lines
                    .iter()
                    .filter_map(|l| {
                        let (ordered, _, restocked) = self.units(&l.sku)?;
                        (ordered > restocked).then(|| (l.sku.clone(), ordered - restocked))
                    })
                    .collect();
                let mut next = self.next(now);
                next.record_pending_refund(refund_id.clone(), amount, Some("order cancelled".into()), restock, now);
                if let Some(refund) = next.refunds.last_mut() {
                    refund.cancels_order = true;
                }
                Ok((next, CancelEffect::Refund { amount, refund_id }))
            }
            _ => Err(self.invalid("cancelled")),
        }
    }

    fn record_pending_refund(
        &mut self,
        id: String,
        amount: Money,
        reason: Option<String>,
        restock: Vec<(Sku, u32)>,
        now: DateTime<Utc>,
    ) {
        self.totals.refunded = Money::new(self.totals.refunded.amount + amount.amount, self.currency);
        self.payment_status = if self.totals.refunded.amount >= self.totals.total.amount {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
        self.refunds.push(RefundRecord {
            id,
            amount,
            reason,
            restock,
            state: RefundState::Pending,
            provider_refund_id: None,
            cancels_order: false,
            created_at: now,
        });
    }

    /// Ships `lines` (all that is left when `None`).
    ///
    /// # Errors
    /// Only paid orders ship; never more units than were ordered.
    pub fn fulfill(
        &self,
        lines: Option<Vec<(Sku, u32)>>,
        fulfillment: Fulfillment,
        now: DateTime<Utc>,
    ) -> Result<Order, TransitionError> {
        if self.status != OrderStatus::Paid {
            return Err(self.invalid("fulfilled"));
        }
        let left = |sku: &Sku| self.units(sku).map(|(o, f, _)| o - f.min(o));
        let lines = match lines {
            Some(lines) => {
                let mut merged: Vec<(Sku, u32)> = Vec::new();
                for (sku, n) in lines {
                    add_units(&mut merged, &sku, n);
                }
                for (sku, n) in &merged {
                    let have = left(sku).ok_or_else(|| TransitionError::UnknownSku(sku.clone()))?;
                    if *n == 0 || *n > have {
                        return Err(TransitionError::TooMany { sku: sku.clone(), left: have, action: "fulfil" });
                    }
                }
                merged
            }
            None => {
                self.lines.iter().filter_map(|l| Some((l.sku.clone(), left(&l.sku)?))).filter(|(_, n)| *n > 0).collect()
            }
        };
        if lines.is_empty() {
            return Err(TransitionError::NothingToFulfill);
        }
        let mut next = self.next(now);
        next.fulfillments.push(Fulfillment { lines, ..fulfillment });
        let done = next.lines.iter().all(|l| next.units(&l.sku).is_some_and(|(o, f, _)| f >= o));
        next.fulfillment_status = if done { FulfillmentStatus::Fulfilled } else { FulfillmentStatus::Partial };
        if done {
            next.status = OrderStatus::Fulfilled;
        }
        Ok(next)
    }

    /// Reserves a refund of `amount` (all that is left when `None`) on the order, with the units
    /// to restock when it settles.
    ///
    /// # Errors
    /// Only orders whose payment succeeded are refunded; never more than was paid in total, never
    /// more units restocked than were ordered; one refund at a time.
    pub fn refund(
        &self,
        id: String,
        amount: Option<i64>,
        reason: Option<String>,
        restock: Vec<(Sku, u32)>,
        now: DateTime<Utc>,
    ) -> Result<(Order, Money), TransitionError> {
        let paid = matches!(self.payment_status, PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded);
        if !paid || !matches!(self.status, OrderStatus::Paid | OrderStatus::Fulfilled) {
            return Err(self.invalid("refunded"));
        }
        if self.has_pending_refund() {
            return Err(TransitionError::RefundInProgress);
        }
        let left = self.refundable();
        let amount = amount.unwrap_or(left.amount);
        if amount <= 0 || amount > left.amount {
            return Err(TransitionError::InvalidAmount { left });
        }
        let mut merged: Vec<(Sku, u32)> = Vec::new();
        for (sku, n) in restock {
            add_units(&mut merged, &sku, n);
        }
        for (sku, n) in &merged {
            let (ordered, _, restocked) = self.units(sku).ok_or_else(|| TransitionError::UnknownSku(sku.clone()))?;
            if *n == 0 || *n > ordered - restocked.min(ordered) {
                return Err(TransitionError::TooMany {
                    sku: sku.clone(),
                    left: ordered - restocked.min(ordered),
                    action: "restock",
                });
            }
        }
        let amount = Money::new(amount, self.currency);
        let mut next = self.next(now);
        next.record_pending_refund(id, amount, reason, merged, now);
        Ok((next, amount))
    }

    /// The refund `id` settled at the provider: recorded, and its units due for restocking.
    pub fn settle_refund(
        &self,
        id: &str,
        provider_refund_id: String,
        now: DateTime<Utc>,
    ) -> Option<(Order, Vec<(Sku, u32)>)> {
        let index = self.refunds.iter().position(|r| r.id == id && r.state == RefundState::Pending)?;
        let mut next = self.next(now);
        let refund = &mut next.refunds[index];
        refund.state = RefundState::Succeeded;
        refund.provider_refund_id = Some(provider_refund_id);
        let restock = refund.restock.clone();
        if refund.cancels_order {
            next.status = OrderStatus::Cancelled;
        }
        Some((next, restock))
    }

    /// The refund `id` failed at the provider: taken back off the order.
    pub fn drop_refund(&self, id: &str, now: DateTime<Utc>) -> Option<Order> {
        let index = self.refunds.iter().position(|r| r.id == id && r.state == RefundState::Pending)?;
        let mut next = self.next(now);
        let refund = next.refunds.remove(index);
        next.totals.refunded = Money::new(next.totals.refunded.amount - refund.amount.amount, self.currency);
        next.payment_status =
            if next.totals.refunded.amount == 0 { PaymentStatus::Succeeded } else { PaymentStatus::PartiallyRefunded };
        Some(next)
    }

    /// Whether `action` is allowed in this order's state, for the transition table.
    pub fn allows(&self, action: Action) -> bool {
        let now = self.expires_at;
        match action {
            Action::Cancel => self.cancel("probe".into(), now).is_ok(),
            Action::Fulfill => self
                .fulfill(
                    None,
                    Fulfillment {
                        id: String::new(),
                        lines: Vec::new(),
                        carrier: None,
                        tracking_number: None,
                        tracking_url: None,
                        created_at: now,
                    },
                    now,
                )
                .is_ok(),
            Action::Refund => self.refund("probe".into(), None, None, Vec::new(), now).is_ok(),
            Action::Expire => self.expire(now).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::order::fixtures::{eur, order, with_line};

    #[test]
    fn every_state_and_action_pair_is_decided() {
        use Action::*;
        use FulfillmentStatus as F;
        use OrderStatus as S;
        use PaymentStatus as P;
        // (status, payment, fulfilment) → allowed actions.
        type Row = ((S, P, F), &'static [Action]);
        let table: &[Row] = &[
            ((S::PendingPayment, P::Pending, F::Unfulfilled), &[Cancel, Expire]),
            ((S::PendingPayment, P::Failed, F::Unfulfilled), &[Cancel, Expire]),
            ((S::PendingPayment, P::Processing, F::Unfulfilled), &[Cancel, Expire]),
            ((S::Paid, P::Succeeded, F::Unfulfilled), &[Cancel, Fulfill, Refund]),
            ((S::Paid, P::PartiallyRefunded, F::Unfulfilled), &[Cancel, Fulfill, Refund]),
            ((S::Paid, P::Refunded, F::Unfulfilled), &[Fulfill]),
            ((S::Paid, P::Succeeded, F::Partial), &[Fulfill, Refund]),
            ((S::Fulfilled, P::Succeeded, F::Fulfilled), &[Refund]),
            ((S::Fulfilled, P::PartiallyRefunded, F::Fulfilled), &[Refund]),
            ((S::Fulfilled, P::Refunded, F::Fulfilled), &[]),
            ((S::Expired, P::Pending, F::Unfulfilled), &[]),
            ((S::Expired, P::Refunded, F::Unfulfilled), &[]),
            ((S::Cancelled, P::Pending, F::Unfulfilled), &[]),
            ((S::Cancelled, P::Refunded, F::Unfulfilled), &[]),
        ];
        for ((status, payment, fulfilment), allowed) in table {
            let mut o = with_line(order(*status, *payment));
            o.fulfillment_status = *fulfilment;
            o.totals.refunded = match payment {
                P::PartiallyRefunded => eur(100),
                P::Refunded => eur(1000),
                _ => eur(0),
            };
            if *fulfilment != F::Unfulfilled {
                let shipped = if *fulfilment == F::Partial { 1 } else { 2 };
                o.fulfillments.push(Fulfillment {
                    id: "f".into(),
                    lines: vec![(o.lines[0].sku.clone(), shipped)],
                    carrier: None,
                    tracking_number: None,
                    tracking_url: None,
                    created_at: o.created_at,
                });
            }
            for action in [Cancel, Fulfill, Refund, Expire] {
                assert_eq!(
                    o.allows(action),
                    allowed.contains(&action),
                    "{status:?}/{payment:?}/{fulfilment:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn fulfilments_and_refunds_never_exceed_the_order() {
        let paid = with_line(order(OrderStatus::Paid, PaymentStatus::Succeeded));
        let sku: Sku = "LS-S".parse().expect("sku");
        let none = Fulfillment {
            id: "f".into(),
            lines: vec![],
            carrier: None,
            tracking_number: None,
            tracking_url: None,
            created_at: paid.created_at,
        };
        assert!(matches!(
            paid.fulfill(Some(vec![(sku.clone(), 3)]), none.clone(), Utc::now()),
            Err(TransitionError::TooMany { left: 2, .. })
        ));
        let half = paid.fulfill(Some(vec![(sku.clone(), 1)]), none.clone(), Utc::now()).expect("one of two");
        assert_eq!((half.status, half.fulfillment_status), (OrderStatus::Paid, FulfillmentStatus::Partial));
        let rest = half.fulfill(None, none.clone(), Utc::now()).expect("the rest");
        assert_eq!((rest.status, rest.fulfillment_status), (OrderStatus::Fulfilled, FulfillmentStatus::Fulfilled));
        assert_eq!(rest.fulfillments[1].lines, vec![(sku.clone(), 1)]);

        assert!(matches!(
            paid.refund("r".into(), Some(1001), None, vec![], Utc::now()),
            Err(TransitionError::InvalidAmount { .. })
        ));
        assert!(matches!(
            paid.refund("r".into(), Some(0), None, vec![], Utc::now()),
            Err(TransitionError::InvalidAmount { .. })
        ));
        let (pending, amount) =
            paid.refund("r1".into(), Some(600), None, vec![(sku.clone(), 1)], Utc::now()).expect("partial");
        assert_eq!((amount, pending.payment_status), (eur(600), PaymentStatus::PartiallyRefunded));
        assert_eq!(
            pending.refund("r2".into(), Some(100), None, vec![], Utc::now()),
            Err(TransitionError::RefundInProgress)
        );
        let (settled, restock) = pending.settle_refund("r1", "re_1".into(), Utc::now()).expect("pending refund");
        assert_eq!(restock, vec![(sku.clone(), 1)]);
        assert!(
            matches!(settled.refund("r2".into(), Some(401), None, vec![], Utc::now()), Err(TransitionError::InvalidAmount { left }) if left == eur(400))
        );
        assert!(matches!(
            settled.refund("r2".into(), Some(400), None, vec![(sku.clone(), 2)], Utc::now()),
            Err(TransitionError::TooMany { left: 1, .. })
        ));
        let dropped = pending.drop_refund("r1", Utc::now()).expect("pending refund");
        assert_eq!((dropped.totals.refunded, dropped.payment_status), (eur(0), PaymentStatus::Succeeded));
    }
}
