//! Orders and the rules that move them: created `pending_payment` with their stock reserved,
//! then paid, expired or cancelled as payment events and time decide.
//!
//! Every transition is a function that returns the order's next state and the stock movement it
//! implies, or says why not. Payment events are applied by state, not by arrival order: a late
//! `processing` after `succeeded` changes nothing, a `succeeded` after `payment_failed` pays.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::catalog::Sku;
use crate::ids::OrderId;
use crate::money::{Currency, Money, MoneyError};

/// How long an unpaid order holds its stock.
pub const DEFAULT_PAYMENT_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Fulfilled,
    Expired,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::Fulfilled => "fulfilled",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Processing,
    Succeeded,
    Failed,
    PartiallyRefunded,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    Unfulfilled,
    Partial,
    Fulfilled,
}

/// Where the order's units are, as far as stock is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockState {
    /// Held for the order: counted in `reserved`, not in `available`.
    Reserved,
    /// Sold: taken out of `on_hand` and `reserved`.
    Committed,
    /// Given back to `available`.
    Released,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderLine {
    pub sku: Sku,
    /// Product and variant title at the time of purchase.
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
    pub discount: Money,
    pub tax: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderTotals {
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
    pub refunded: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChosenShipping {
    pub id: String,
    pub name: String,
    pub price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Payment {
    pub provider: String,
    pub payment_intent_id: Option<String>,
    /// What a browser confirms the payment with, kept only while the order waits for payment so
    /// the shopper can resume paying from the order page (another tab, another device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The provider's publishable key the secret goes with (public; kept beside the secret, so a
    /// storefront resuming the payment needs nothing from its own configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishable_key: Option<String>,
}

/// A shipment of some or all of an order's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fulfillment {
    pub id: String,
    pub lines: Vec<(Sku, u32)>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Where a refund is: reserved on the order before the provider is asked, so two refunds at once
/// can never add up to more than was paid, then settled once the provider has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    Pending,
    Succeeded,
}

/// Money given back, and the units restocked with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefundRecord {
    pub id: String,
    pub amount: Money,
    pub reason: Option<String>,
    pub restock: Vec<(Sku, u32)>,
    pub state: RefundState,
    pub provider_refund_id: Option<String>,
    /// A cancel's refund: the order becomes `cancelled` when it settles, not before, so a refund
    /// the provider refuses leaves a paid order paid (and no event claims otherwise).
    #[serde(default)]
    pub cancels_order: bool,
    pub created_at: DateTime<Utc>,
}

/// Something about an order a merchant must look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderFlag {
    /// A payment succeeded after the order had expired or been cancelled; it is refunded.
    PaidAfterClose,
    /// A payment's amount or currency differed from the order's; it was not accepted.
    PaymentMismatch,
    /// The customer disputed the charge.
    Disputed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Order {
    pub id: OrderId,
    /// A short, sequential number for people ("1042"); the id is what systems use.
    pub number: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    /// `null` to a guest whose order token is older than the personal-data window.
    #[schemars(with = "Option<String>")]
    pub email: String,
    pub customer_id: Option<String>,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    pub totals: OrderTotals,
    /// `null` to a guest whose order token is older than the personal-data window.
    #[schemars(with = "Option<Address>")]
    pub shipping_address: Address,
    pub shipping_method: ChosenShipping,
    pub discount_code: Option<String>,
    pub payment: Payment,
    pub fulfillments: Vec<Fulfillment>,
    pub refunds: Vec<RefundRecord>,
    pub stock: StockState,
    pub flags: Vec<OrderFlag>,
    /// The last payment failure the processor reported, for the shopper.
    pub payment_error: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
    /// The generation of the order's guest tokens (`X-Order-Token`): a token of another
    /// generation no longer opens the order. [`Order::with_new_token`] moves it on when the owner or
    /// an admin asks for a fresh token. Orders stored before tokens had generations read as 0.
    #[serde(default)]
    pub token_version: u32,
}

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
    fn next(&self, now: DateTime<Utc>) -> Order {
        Order { version: self.version + 1, updated_at: now, ..self.clone() }
    }

    /// This order with the payment's client secret dropped unless it still waits for payment:
    /// once paid, expired or cancelled there is nothing left to confirm.
    #[must_use]
    pub fn without_stale_secret(mut self) -> Order {
        if self.status != OrderStatus::PendingPayment {
            self.payment.client_secret = None;
            self.payment.publishable_key = None;
        }
        self
    }

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

    /// The order with its guest tokens revoked: the next token generation, for a fresh token.
    /// Nothing else changes, and no event is emitted (the order's state is the same).
    #[must_use]
    pub fn with_new_token(&self, now: DateTime<Utc>) -> Order {
        Order { token_version: self.token_version.saturating_add(1), ..self.next(now) }
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

/// What happened to an order, as integrators subscribe to it (`docs/events.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum OrderEventType {
    #[serde(rename = "order.placed")]
    Placed,
    #[serde(rename = "order.paid")]
    Paid,
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
    pub id: crate::ids::OrderEventId,
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
            id: crate::ids::OrderEventId::generate(),
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
    use super::*;
    use crate::address::UncheckedAddress;

    fn eur(n: i64) -> Money {
        Money::new(n, Currency::EUR)
    }

    fn order(status: OrderStatus, payment_status: PaymentStatus) -> Order {
        let now = Utc::now();
        Order {
            id: OrderId::generate(),
            number: "1".into(),
            status,
            payment_status,
            fulfillment_status: FulfillmentStatus::Unfulfilled,
            email: "a@b.example".into(),
            customer_id: None,
            currency: Currency::EUR,
            lines: Vec::new(),
            totals: OrderTotals {
                subtotal: eur(1000),
                discount: eur(0),
                shipping: eur(0),
                tax: eur(0),
                total: eur(1000),
                refunded: eur(0),
            },
            shipping_address: Address::new(UncheckedAddress {
                name: "A".into(),
                line1: "B".into(),
                city: "C".into(),
                postal_code: "1".into(),
                country: "DE".into(),
                ..Default::default()
            })
            .expect("address"),
            shipping_method: ChosenShipping { id: "standard".into(), name: "Standard".into(), price: eur(0) },
            discount_code: None,
            payment: Payment {
                provider: "stripe".into(),
                payment_intent_id: Some("pi_1".into()),
                client_secret: Some("pi_1_secret".into()),
                publishable_key: Some("pk_test_1".into()),
            },
            fulfillments: Vec::new(),
            refunds: Vec::new(),
            stock: StockState::Reserved,
            flags: Vec::new(),
            payment_error: None,
            expires_at: now,
            created_at: now,
            updated_at: now,
            version: 1,
            token_version: 0,
        }
    }

    #[test]
    fn a_new_token_moves_only_the_token_generation_and_emits_no_event() {
        let o = order(OrderStatus::Paid, PaymentStatus::Succeeded);
        let fresh = o.with_new_token(Utc::now());
        assert_eq!((fresh.token_version, fresh.version), (1, 2));
        assert_eq!(Order { token_version: 0, version: 1, updated_at: o.updated_at, ..fresh.clone() }, o);
        assert!(events(Some(&o), &fresh).is_empty());
        let stored: Order =
            serde_json::from_str(&serde_json::to_string(&o).expect("serialises").replace(",\"token_version\":0", ""))
                .expect("an order stored before token generations");
        assert_eq!(stored.token_version, 0);
    }

    fn after(o: &Order, e: PaymentEvent) -> PaymentOutcome {
        o.on_payment(&e, Utc::now()).expect("no overflow")
    }

    fn state(outcome: &PaymentOutcome) -> Option<(OrderStatus, PaymentStatus, Option<StockMove>)> {
        match outcome {
            PaymentOutcome::Next { order, stock } => Some((order.status, order.payment_status, *stock)),
            _ => None,
        }
    }

    fn with_line(mut o: Order) -> Order {
        o.lines = vec![OrderLine {
            sku: "LS-S".parse().expect("sku"),
            title: "Linen shirt — S".into(),
            quantity: 2,
            unit_price: eur(500),
            line_total: eur(1000),
            discount: eur(0),
            tax: eur(0),
        }];
        o
    }

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
