//! A cart as stored: who may use it, its lines, the shopper's choices and how long it lives.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::CartLines;
use crate::address::Address;
use crate::catalog::Sku;
use crate::discount::CodeAttempts;
use crate::ids::CartId;
use crate::money::Currency;

/// A guest cart expires this long after its last change.
pub const GUEST_CART_LIFETIME: TimeDelta = TimeDelta::days(7);
/// A customer's cart expires this long after its last change.
pub const CUSTOMER_CART_LIFETIME: TimeDelta = TimeDelta::days(30);

/// Where a cart is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Open for changes.
    Active,
    /// Turned into an order; read-only.
    CheckedOut,
    /// A guest cart merged into a customer's cart by a claim; unusable, answers 404.
    Merged,
}

/// A cart as stored: its identity, who may use it, its lines and the shopper's choices. Prices are
/// never stored; every read prices the cart from the catalog again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cart {
    pub id: CartId,
    pub currency: Currency,
    pub customer_id: Option<String>,
    /// SHA-256 of the guest token, hex; every cart has one, customers' too.
    pub token_hash: String,
    pub lines: CartLines,
    /// The applied discount code, upper case.
    pub discount_code: Option<String>,
    pub shipping_address: Option<Address>,
    pub shipping_method: Option<String>,
    pub status: CartStatus,
    /// For a merged guest cart: the customer cart it went into, so a repeated claim answers the same.
    pub merged_into: Option<CartId>,
    /// Discount codes tried on this cart that were unknown or did not apply, in the current
    /// window; absent from carts stored before it existed.
    #[serde(default, skip_serializing_if = "CodeAttempts::is_none")]
    pub code_attempts: CodeAttempts,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Cart {
    pub fn new(currency: Currency, customer_id: Option<String>, token_hash: String, now: DateTime<Utc>) -> Self {
        Self {
            id: CartId::generate(),
            currency,
            customer_id,
            token_hash,
            lines: CartLines::default(),
            discount_code: None,
            shipping_address: None,
            shipping_method: None,
            status: CartStatus::Active,
            merged_into: None,
            code_attempts: CodeAttempts::default(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// Guest carts live 7 days, customer carts 30, from the last change.
    pub fn expires_at(&self) -> DateTime<Utc> {
        let lifetime = if self.customer_id.is_some() { CUSTOMER_CART_LIFETIME } else { GUEST_CART_LIFETIME };
        self.updated_at + lifetime
    }

    /// This cart after a change made at `now`: the next version, its lifetime restarted.
    #[must_use]
    pub fn touched(mut self, now: DateTime<Utc>) -> Self {
        self.version += 1;
        self.updated_at = now;
        self
    }

    /// This cart with one more failed discount-code attempt at `now`: the next version, so the
    /// count is written on condition of the version read like any change, but its lifetime is not
    /// restarted (guessing codes does not keep a cart alive).
    #[must_use]
    pub fn with_failed_code_attempt(mut self, now: DateTime<Utc>) -> Self {
        self.code_attempts = self.code_attempts.failed_at(now);
        self.version += 1;
        self
    }

    pub fn skus(&self) -> impl Iterator<Item = &Sku> {
        self.lines.as_slice().iter().map(|l| &l.sku)
    }
}
