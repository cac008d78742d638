//! A cart's lines and the limits on them: 1–99 units a line, at most the store's
//! [`MaxUnitsPerSku`] (10 by default) of one SKU, one line per SKU, at most 50 lines, and how a
//! guest cart merges into a customer's when they sign in.
//!
//! Lines hold SKUs and quantities only. Prices never live in a cart: it is priced from the
//! catalog on every read by [`crate::pricing::price`], so a price change reaches every cart.
//!
//! Here: the limits, [`Quantity`] and the store's [`MaxUnitsPerSku`]. `lines.rs` holds the
//! [`CartLines`] that keep them and merge carts; `model.rs` the [`Cart`] as stored.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::Sku;

mod lines;
mod model;

pub use lines::{CartError, CartLine, CartLines};
pub use model::{CUSTOMER_CART_LIFETIME, Cart, CartStatus, GUEST_CART_LIFETIME};

/// The most units of one SKU a line holds.
pub const MAX_QUANTITY: u32 = 99;
/// The default of [`MaxUnitsPerSku`]. A household rarely buys more than ten of one thing at once,
/// and shops that sell scarce stock commonly cap a SKU at a handful per order; ten keeps one
/// anonymous cart from holding a whole SKU's stock through the payment window while every
/// ordinary basket fits. A store selling in bulk raises it, up to [`MAX_QUANTITY`].
pub const DEFAULT_MAX_UNITS_PER_SKU: u32 = 10;
/// The most lines (distinct SKUs) a cart holds.
pub const MAX_LINES: usize = 50;

/// How many units of a SKU a line holds: 1 to [`MAX_QUANTITY`]. Serialised as a plain number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a quantity is a whole number of units from 1 to {MAX_QUANTITY}, not {0}")]
pub struct InvalidQuantity(pub i64);

impl Quantity {
    pub const MAX: Self = Self(MAX_QUANTITY);

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = InvalidQuantity;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        u32::try_from(n).ok().filter(|q| (1..=MAX_QUANTITY).contains(q)).map(Self).ok_or(InvalidQuantity(n))
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> Self {
        q.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How many units of one SKU a cart may hold, and so an order may reserve: the store's limit, 1 to
/// [`MAX_QUANTITY`], [`DEFAULT_MAX_UNITS_PER_SKU`] unless the deployment says otherwise.
///
/// Unlike [`MAX_QUANTITY`], which is what a line can be at all, this is a policy a store may lower
/// while carts exist: a stored line above it still loads (and checkout then refuses it), but no
/// change may take a line above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxUnitsPerSku(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the most units of one SKU per order is a whole number from 1 to {MAX_QUANTITY}, not `{0}`")]
pub struct InvalidMaxUnitsPerSku(pub String);

impl MaxUnitsPerSku {
    pub const DEFAULT: Self = Self(DEFAULT_MAX_UNITS_PER_SKU);
    /// No limit beyond what a line can hold at all.
    pub const NONE: Self = Self(MAX_QUANTITY);

    pub fn get(self) -> u32 {
        self.0
    }

    /// The lines of `lines` above this limit, in cart order.
    pub fn exceeded_by<'a>(self, lines: &'a CartLines) -> impl Iterator<Item = &'a CartLine> + 'a {
        lines.as_slice().iter().filter(move |l| l.quantity.0 > self.0)
    }

    fn check(self, sku: &Sku, quantity: u32) -> Result<(), CartError> {
        if quantity > MAX_QUANTITY {
            Err(CartError::QuantityTooLarge { max: MAX_QUANTITY })
        } else if quantity > self.0 {
            Err(CartError::OverUnitLimit { sku: sku.clone(), max: self.0 })
        } else {
            Ok(())
        }
    }
}

impl Default for MaxUnitsPerSku {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl std::str::FromStr for MaxUnitsPerSku {
    type Err = InvalidMaxUnitsPerSku;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_QUANTITY).contains(n))
            .map(Self)
            .ok_or_else(|| InvalidMaxUnitsPerSku(s.chars().take(20).collect()))
    }
}

impl fmt::Display for MaxUnitsPerSku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qty(n: i64) -> Quantity {
        Quantity::try_from(n).expect("quantity")
    }

    #[test]
    fn quantities_are_one_to_ninety_nine() {
        for ok in [1u32, 2, 99] {
            assert_eq!(Quantity::try_from(i64::from(ok)).map(u32::from), Ok(ok));
        }
        for bad in [0, -1, 100, i64::MAX, i64::MIN] {
            assert_eq!(Quantity::try_from(bad), Err(InvalidQuantity(bad)));
        }
        assert_eq!(InvalidQuantity(0).to_string(), "a quantity is a whole number of units from 1 to 99, not 0");
    }

    #[test]
    fn quantities_serialise_as_plain_numbers_and_are_checked_on_the_way_in() {
        assert_eq!(serde_json::to_value(qty(3)).expect("serialises"), serde_json::json!(3));
        assert_eq!(serde_json::from_str::<Quantity>("99").ok(), Some(qty(99)));
        for bad in ["0", "100", "-1", "1.5", "\"2\""] {
            assert!(serde_json::from_str::<Quantity>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_stores_limit_per_sku_is_one_to_ninety_nine_and_ten_by_default() {
        assert_eq!(MaxUnitsPerSku::default().get(), 10);
        for (text, ok) in [("1", Some(1)), (" 10 ", Some(10)), ("99", Some(99))] {
            assert_eq!(text.parse::<MaxUnitsPerSku>().map(MaxUnitsPerSku::get).ok(), ok, "{text}");
        }
        for bad in ["0", "100", "-1", "", "ten", "1.5", "4294967296"] {
            assert_eq!(bad.parse::<MaxUnitsPerSku>(), Err(InvalidMaxUnitsPerSku(bad.into())), "{bad}");
        }
    }
}
