//! The cart as stored: its identity, who may use it, its lines and the customer's choices. Prices
//! are never stored here; every read prices the cart from the catalog again.

use chrono::{DateTime, Utc};
use nanoshop_domain::Currency;
use nanoshop_domain::address::Address;
use nanoshop_domain::cart::{CUSTOMER_CART_LIFETIME, CartLines, GUEST_CART_LIFETIME};
use nanoshop_domain::catalog::Sku;
use nanoshop_domain::ids::CartId;
use serde::{Deserialize, Serialize};

/// Where a cart is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Open for changes.
    Active,
    /// Turned into an order; read-only.
    CheckedOut,
    /// A guest cart merged into a customer's cart by a claim; unusable, answers 404.
    Merged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCart {
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
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StoredCart {
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

    pub fn skus(&self) -> impl Iterator<Item = &Sku> {
        self.lines.as_slice().iter().map(|l| &l.sku)
    }
}
