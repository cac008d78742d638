//! An order as stored and served, and the parts it is made of: its three statuses, lines and
//! totals, the chosen shipping, the payment, fulfilments and refunds, stock state and flags.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::catalog::Sku;
use crate::ids::OrderId;
use crate::money::{Currency, Money};

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
    /// The shopper's e-mail address refused the store's mail for good (it does not exist, or the
    /// provider suppresses it): they did not get their order e-mails.
    EmailRefused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Order {
    pub id: OrderId,
    /// A short number for people (`1T4BG4KZ6F`: the second the order was placed, then four
    /// characters of its id; older orders have counted ones, "1042"); the id is what systems use.
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
    /// Where the invoice goes: the billing address given at checkout, or a copy of the shipping
    /// address when none was. Orders stored before billing addresses existed read as `null`:
    /// billed to the shipping address. `null` to a guest whose order token is older than the
    /// personal-data window.
    #[serde(default)]
    pub billing_address: Option<Address>,
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

impl Order {
    /// The order's next version at `now`: every transition starts from it.
    pub(super) fn next(&self, now: DateTime<Utc>) -> Order {
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

    /// The order with `flag` raised for the merchant, or `None` when it already is. Nothing else
    /// changes, and no event is emitted (the order's state is the same).
    #[must_use]
    pub fn with_flag(&self, flag: OrderFlag, now: DateTime<Utc>) -> Option<Order> {
        if self.flags.contains(&flag) {
            return None;
        }
        let mut next = self.next(now);
        next.flags.push(flag);
        Some(next)
    }

    /// The order with its guest tokens revoked: the next token generation, for a fresh token.
    /// Nothing else changes, and no event is emitted (the order's state is the same).
    #[must_use]
    pub fn with_new_token(&self, now: DateTime<Utc>) -> Order {
        Order { token_version: self.token_version.saturating_add(1), ..self.next(now) }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::order::events;
    use crate::order::fixtures::order;

    #[test]
    fn a_flag_is_raised_once_and_emits_no_event() {
        let o = order(OrderStatus::Paid, PaymentStatus::Succeeded);
        let flagged = o.with_flag(OrderFlag::EmailRefused, Utc::now()).expect("new flag");
        assert_eq!((flagged.flags.as_slice(), flagged.version), ([OrderFlag::EmailRefused].as_slice(), 2));
        assert!(events(Some(&o), &flagged).is_empty());
        assert_eq!(flagged.with_flag(OrderFlag::EmailRefused, Utc::now()), None, "already raised");
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
}
