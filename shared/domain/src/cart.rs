//! A cart's lines and the limits on them: 1–99 units a line, one line per SKU, at most 50
//! lines, and how a guest cart merges into a customer's when they sign in.
//!
//! Lines hold SKUs and quantities only. Prices never live in a cart: it is priced from the
//! catalog on every read by [`crate::pricing::price`], so a price change reaches every cart.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::catalog::Sku;
use crate::ids::CartId;
use crate::money::Currency;

/// The most units of one SKU a line holds.
pub const MAX_QUANTITY: u32 = 99;
/// The most lines (distinct SKUs) a cart holds.
pub const MAX_LINES: usize = 50;
/// A guest cart expires this long after its last change.
pub const GUEST_CART_LIFETIME: TimeDelta = TimeDelta::days(7);
/// A customer's cart expires this long after its last change.
pub const CUSTOMER_CART_LIFETIME: TimeDelta = TimeDelta::days(30);

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

/// One SKU in a cart and how many units of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// Why a change to a cart's lines was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("a line holds at most {max} units")]
    QuantityTooLarge { max: u32 },
    #[error("a cart holds at most {max} different items")]
    TooManyLines { max: usize },
    #[error("the cart has no line for SKU `{sku}`")]
    NotInCart { sku: Sku },
}

/// The lines of a cart, in the order they were first added: one per SKU, at most
/// [`MAX_LINES`], each within 1–[`MAX_QUANTITY`] units.
///
/// Every change returns a new value and leaves `self` untouched, so a refused change needs no
/// undo. Deserialising re-adds each stored line, so a stored cart that breaks a limit is refused
/// rather than loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "Vec<CartLine>", into = "Vec<CartLine>")]
pub struct CartLines(Vec<CartLine>);

impl CartLines {
    pub fn as_slice(&self) -> &[CartLine] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The quantity of `sku` in the cart, if it has a line.
    pub fn quantity_of(&self, sku: &Sku) -> Option<Quantity> {
        self.position(sku).map(|i| self.0[i].quantity)
    }

    fn position(&self, sku: &Sku) -> Option<usize> {
        self.0.iter().position(|l| l.sku == *sku)
    }

    /// These lines with `quantity` more units of `sku`: added to its line if there is one,
    /// otherwise as a new last line.
    ///
    /// # Errors
    /// [`CartError::QuantityTooLarge`] when the line would exceed [`MAX_QUANTITY`] (the sum is
    /// refused, not capped, so the shopper learns their click did not count in full);
    /// [`CartError::TooManyLines`] when a new line would exceed [`MAX_LINES`].
    pub fn add(&self, sku: Sku, quantity: Quantity) -> Result<Self, CartError> {
        let mut lines = self.0.clone();
        match self.position(&sku) {
            Some(i) => {
                let sum = lines[i].quantity.0 + quantity.0;
                if sum > MAX_QUANTITY {
                    return Err(CartError::QuantityTooLarge { max: MAX_QUANTITY });
                }
                lines[i].quantity = Quantity(sum);
            }
            None if lines.len() >= MAX_LINES => {
                return Err(CartError::TooManyLines { max: MAX_LINES });
            }
            None => lines.push(CartLine { sku, quantity }),
        }
        Ok(Self(lines))
    }

    /// These lines with `sku` at exactly `quantity` units; 0 removes the line. The line keeps
    /// its place.
    ///
    /// # Errors
    /// [`CartError::QuantityTooLarge`] above [`MAX_QUANTITY`]; [`CartError::NotInCart`] when
    /// `sku` has no line (a new SKU is added with [`CartLines::add`]).
    pub fn set_quantity(&self, sku: &Sku, quantity: u32) -> Result<Self, CartError> {
        if quantity == 0 {
            return self.remove(sku);
        }
        if quantity > MAX_QUANTITY {
            return Err(CartError::QuantityTooLarge { max: MAX_QUANTITY });
        }
        let i = self.position(sku).ok_or_else(|| CartError::NotInCart { sku: sku.clone() })?;
        let mut lines = self.0.clone();
        lines[i].quantity = Quantity(quantity);
        Ok(Self(lines))
    }

    /// These lines without `sku`'s line.
    ///
    /// # Errors
    /// [`CartError::NotInCart`] when `sku` has no line, so a client can tell a stale view.
    pub fn remove(&self, sku: &Sku) -> Result<Self, CartError> {
        let i = self.position(sku).ok_or_else(|| CartError::NotInCart { sku: sku.clone() })?;
        let mut lines = self.0.clone();
        lines.remove(i);
        Ok(Self(lines))
    }

    /// A guest cart merged into a customer's cart when the guest signs in. Never fails: where
    /// [`CartLines::add`] refuses, merging trims, since the shopper asked for neither cart's
    /// limits to be crossed.
    ///
    /// - The customer's lines come first, in their order, then the guest's new SKUs in theirs.
    /// - A SKU in both carts gets the sum of its quantities.
    /// - Every merged line is capped at [`MAX_QUANTITY`] and at `available_of(sku)` units, but
    ///   kept at 1 unit at least: a sold-out line stays visible (priced as unavailable) rather
    ///   than vanishing from the cart.
    /// - Guest lines that would make more than [`MAX_LINES`] lines are dropped; the customer's
    ///   own lines never are.
    ///
    /// The result depends only on the two carts and the stock, so a retried claim gives the same
    /// cart.
    pub fn merge_capped(guest: &Self, customer: &Self, available_of: impl Fn(&Sku) -> i64) -> Self {
        let mut merged: Vec<CartLine> = Vec::with_capacity(MAX_LINES);
        for line in customer.0.iter().chain(&guest.0) {
            if let Some(existing) = merged.iter_mut().find(|l| l.sku == line.sku) {
                // Two lines of at most 99 each: the u32 sum cannot overflow.
                existing.quantity = Quantity(existing.quantity.0 + line.quantity.0);
            } else if merged.len() < MAX_LINES {
                merged.push(line.clone());
            }
        }
        for line in &mut merged {
            // Stock beyond u32 caps nothing; stock of 0 or less still leaves one unit.
            let by_stock = u32::try_from(available_of(&line.sku).max(1)).unwrap_or(u32::MAX);
            line.quantity = Quantity(line.quantity.0.min(MAX_QUANTITY).min(by_stock));
        }
        Self(merged)
    }
}

impl TryFrom<Vec<CartLine>> for CartLines {
    type Error = CartError;

    /// Adds each line in turn, so lines of the same SKU merge and every limit is checked.
    fn try_from(lines: Vec<CartLine>) -> Result<Self, Self::Error> {
        lines.into_iter().try_fold(Self::default(), |acc, l| acc.add(l.sku, l.quantity))
    }
}

impl From<CartLines> for Vec<CartLine> {
    fn from(lines: CartLines) -> Self {
        lines.0
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sku(s: &str) -> Sku {
        s.parse().expect("sku")
    }

    fn qty(n: i64) -> Quantity {
        Quantity::try_from(n).expect("quantity")
    }

    fn cart(lines: &[(&str, i64)]) -> CartLines {
        lines
            .iter()
            .map(|(s, n)| CartLine { sku: sku(s), quantity: qty(*n) })
            .collect::<Vec<_>>()
            .try_into()
            .expect("valid cart")
    }

    fn contents(lines: &CartLines) -> Vec<(String, u32)> {
        lines.as_slice().iter().map(|l| (l.sku.to_string(), l.quantity.get())).collect()
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
    fn adding_a_sku_already_in_the_cart_merges_into_its_line() {
        let lines = cart(&[("A", 1), ("B", 2)]).add(sku("A"), qty(3)).expect("fits");
        assert_eq!(contents(&lines), [("A".into(), 4), ("B".into(), 2)]);
        let lines = lines.add(sku("C"), qty(1)).expect("fits");
        assert_eq!(lines.quantity_of(&sku("C")), Some(qty(1)));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn adding_past_ninety_nine_units_is_refused_not_capped() {
        let lines = cart(&[("A", 98)]);
        assert_eq!(lines.add(sku("A"), qty(1)).map(|l| l.len()), Ok(1));
        assert_eq!(lines.add(sku("A"), qty(2)), Err(CartError::QuantityTooLarge { max: 99 }));
    }

    #[test]
    fn a_fifty_first_line_is_refused_but_existing_lines_still_grow() {
        let full =
            (0..MAX_LINES).fold(CartLines::default(), |acc, i| acc.add(sku(&format!("S{i}")), qty(1)).expect("fits"));
        assert_eq!(full.add(sku("NEW"), qty(1)), Err(CartError::TooManyLines { max: 50 }));
        assert!(full.add(sku("S0"), qty(1)).is_ok());
    }

    #[test]
    fn setting_a_quantity_replaces_it_in_place_and_zero_removes_the_line() {
        let lines = cart(&[("A", 1), ("B", 2), ("C", 3)]);
        assert_eq!(
            contents(&lines.set_quantity(&sku("B"), 7).expect("set")),
            [("A".into(), 1), ("B".into(), 7), ("C".into(), 3)]
        );
        assert_eq!(contents(&lines.set_quantity(&sku("B"), 0).expect("removed")), [("A".into(), 1), ("C".into(), 3)]);
        assert_eq!(lines.set_quantity(&sku("B"), 100), Err(CartError::QuantityTooLarge { max: 99 }));
        assert_eq!(lines.set_quantity(&sku("Z"), 1), Err(CartError::NotInCart { sku: sku("Z") }));
    }

    #[test]
    fn removing_a_sku_not_in_the_cart_is_reported() {
        let lines = cart(&[("A", 1)]);
        assert!(lines.remove(&sku("A")).expect("removed").is_empty());
        assert_eq!(lines.remove(&sku("B")), Err(CartError::NotInCart { sku: sku("B") }));
    }

    #[test]
    fn stored_lines_are_checked_when_loaded() {
        let loaded: CartLines = serde_json::from_value(serde_json::json!([
            {"sku": "A", "quantity": 2}, {"sku": "A", "quantity": 3}
        ]))
        .expect("loads");
        assert_eq!(contents(&loaded), [("A".into(), 5)]);
        let too_many: Vec<_> =
            (0..=MAX_LINES).map(|i| serde_json::json!({"sku": format!("S{i}"), "quantity": 1})).collect();
        assert!(serde_json::from_value::<CartLines>(too_many.into()).is_err());
        assert_eq!(
            serde_json::to_value(&loaded).expect("serialises"),
            serde_json::json!([{"sku": "A", "quantity": 5}])
        );
    }

    #[test]
    fn claiming_sums_quantities_and_caps_them_by_the_limit_and_by_stock() {
        let guest = cart(&[("A", 60), ("B", 5), ("C", 2), ("D", 1)]);
        let customer = cart(&[("C", 1), ("A", 60)]);
        let stock = |s: &Sku| match s.as_str() {
            "B" => 3,
            "D" => 0,
            _ => 1000,
        };
        let merged = CartLines::merge_capped(&guest, &customer, stock);
        assert_eq!(
            contents(&merged),
            [
                ("C".into(), 3),
                ("A".into(), 99),
                ("B".into(), 3),
                // Sold out, but kept so the shopper sees it went.
                ("D".into(), 1),
            ]
        );
    }

    #[test]
    fn claiming_drops_the_guest_lines_beyond_fifty_never_the_customers() {
        let customer =
            (0..48).fold(CartLines::default(), |acc, i| acc.add(sku(&format!("C{i}")), qty(1)).expect("fits"));
        let guest = cart(&[("G1", 1), ("C0", 1), ("G2", 1), ("G3", 1)]);
        let merged = CartLines::merge_capped(&guest, &customer, |_| 100);
        assert_eq!(merged.len(), MAX_LINES);
        assert_eq!(merged.quantity_of(&sku("C0")), Some(qty(2)));
        assert_eq!(merged.quantity_of(&sku("G2")), Some(qty(1)));
        assert_eq!(merged.quantity_of(&sku("G3")), None);
        assert!((0..48).all(|i| merged.quantity_of(&sku(&format!("C{i}"))).is_some()), "every customer line survives");
    }

    fn any_cart() -> impl Strategy<Value = CartLines> {
        proptest::collection::vec((0u8..80, 1i64..=99), 0..=MAX_LINES).prop_map(|lines| {
            lines
                .into_iter()
                .fold(CartLines::default(), |acc, (s, n)| acc.add(sku(&format!("S{s}")), qty(n)).unwrap_or(acc))
        })
    }

    proptest! {
        #[test]
        fn a_claimed_cart_stays_within_every_limit(
            guest in any_cart(),
            customer in any_cart(),
            stock in proptest::collection::vec(-5i64..150, 80),
        ) {
            let available = |s: &Sku| stock[s.as_str()[1..].parse::<usize>().unwrap_or(0)];
            let merged = CartLines::merge_capped(&guest, &customer, available);
            prop_assert!(merged.len() <= MAX_LINES);
            let reloaded = CartLines::try_from(Vec::from(merged.clone()));
            prop_assert_eq!(reloaded.as_ref(), Ok(&merged), "one line per SKU, each in range");
            for line in customer.as_slice() {
                prop_assert!(merged.quantity_of(&line.sku).is_some());
            }
            for line in merged.as_slice() {
                let wanted = [&guest, &customer].iter()
                    .filter_map(|c| c.quantity_of(&line.sku))
                    .map(|q| i64::from(q.get()))
                    .sum::<i64>();
                let expected = wanted.min(99).min(available(&line.sku).max(1));
                prop_assert_eq!(i64::from(line.quantity.get()), expected);
            }
        }
    }
}
