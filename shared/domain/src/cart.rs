//! A cart's lines and the limits on them: 1–99 units a line, at most the store's
//! [`MaxUnitsPerSku`] (10 by default) of one SKU, one line per SKU, at most 50 lines, and how a
//! guest cart merges into a customer's when they sign in.
//!
//! Lines hold SKUs and quantities only. Prices never live in a cart: it is priced from the
//! catalog on every read by [`crate::pricing::price`], so a price change reaches every cart.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::catalog::Sku;
use crate::discount::CodeAttempts;
use crate::ids::CartId;
use crate::money::Currency;

/// The most units of one SKU a line holds.
pub const MAX_QUANTITY: u32 = 99;
/// The default of [`MaxUnitsPerSku`]. A household rarely buys more than ten of one thing at once,
/// and shops that sell scarce stock commonly cap a SKU at a handful per order; ten keeps one
/// anonymous cart from holding a whole SKU's stock through the payment window while every
/// ordinary basket fits. A store selling in bulk raises it, up to [`MAX_QUANTITY`].
pub const DEFAULT_MAX_UNITS_PER_SKU: u32 = 10;
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
    #[error("the store sells at most {max} units of `{sku}` per order")]
    OverUnitLimit { sku: Sku, max: u32 },
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
/// rather than loaded; the store's [`MaxUnitsPerSku`] is not one of those limits, since it may be
/// lowered after a cart was filled.
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
    /// [`CartError::QuantityTooLarge`] when the line would exceed [`MAX_QUANTITY`], else
    /// [`CartError::OverUnitLimit`] when it would exceed `limit` (the sum is refused, not capped,
    /// so the shopper learns their click did not count in full); [`CartError::TooManyLines`] when
    /// a new line would exceed [`MAX_LINES`].
    pub fn add(&self, sku: Sku, quantity: Quantity, limit: MaxUnitsPerSku) -> Result<Self, CartError> {
        let mut lines = self.0.clone();
        match self.position(&sku) {
            Some(i) => {
                // Two quantities of at most 99 each: the u32 sum cannot overflow.
                let sum = lines[i].quantity.0 + quantity.0;
                limit.check(&sku, sum)?;
                lines[i].quantity = Quantity(sum);
            }
            None if lines.len() >= MAX_LINES => {
                return Err(CartError::TooManyLines { max: MAX_LINES });
            }
            None => {
                limit.check(&sku, quantity.0)?;
                lines.push(CartLine { sku, quantity });
            }
        }
        Ok(Self(lines))
    }

    /// These lines with `sku` at exactly `quantity` units; 0 removes the line. The line keeps
    /// its place.
    ///
    /// # Errors
    /// [`CartError::QuantityTooLarge`] above [`MAX_QUANTITY`]; [`CartError::OverUnitLimit`] above
    /// `limit` (also when the line is above it already, from before the limit was lowered: only
    /// a quantity within it is accepted); [`CartError::NotInCart`] when `sku` has no line (a new
    /// SKU is added with [`CartLines::add`]).
    pub fn set_quantity(&self, sku: &Sku, quantity: u32, limit: MaxUnitsPerSku) -> Result<Self, CartError> {
        if quantity == 0 {
            return self.remove(sku);
        }
        limit.check(sku, quantity)?;
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
    /// - Every merged line is capped at `limit` and at `available_of(sku)` units, but kept at 1
    ///   unit at least: a sold-out line stays visible (priced as unavailable) rather than
    ///   vanishing from the cart.
    /// - Guest lines that would make more than [`MAX_LINES`] lines are dropped; the customer's
    ///   own lines never are.
    ///
    /// The result depends only on the two carts and the stock, so a retried claim gives the same
    /// cart.
    pub fn merge_capped(
        guest: &Self,
        customer: &Self,
        available_of: impl Fn(&Sku) -> i64,
        limit: MaxUnitsPerSku,
    ) -> Self {
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
            line.quantity = Quantity(line.quantity.0.min(limit.0).min(by_stock));
        }
        Self(merged)
    }
}

impl TryFrom<Vec<CartLine>> for CartLines {
    type Error = CartError;

    /// Adds each line in turn, so lines of the same SKU merge and every limit but the store's
    /// (see [`CartLines`]) is checked.
    fn try_from(lines: Vec<CartLine>) -> Result<Self, Self::Error> {
        lines.into_iter().try_fold(Self::default(), |acc, l| acc.add(l.sku, l.quantity, MaxUnitsPerSku::NONE))
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NONE: MaxUnitsPerSku = MaxUnitsPerSku::NONE;

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
        let lines = cart(&[("A", 1), ("B", 2)]).add(sku("A"), qty(3), NONE).expect("fits");
        assert_eq!(contents(&lines), [("A".into(), 4), ("B".into(), 2)]);
        let lines = lines.add(sku("C"), qty(1), NONE).expect("fits");
        assert_eq!(lines.quantity_of(&sku("C")), Some(qty(1)));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn adding_past_ninety_nine_units_is_refused_not_capped() {
        let lines = cart(&[("A", 98)]);
        assert_eq!(lines.add(sku("A"), qty(1), NONE).map(|l| l.len()), Ok(1));
        assert_eq!(lines.add(sku("A"), qty(2), NONE), Err(CartError::QuantityTooLarge { max: 99 }));
    }

    #[test]
    fn a_fifty_first_line_is_refused_but_existing_lines_still_grow() {
        let full = (0..MAX_LINES)
            .fold(CartLines::default(), |acc, i| acc.add(sku(&format!("S{i}")), qty(1), NONE).expect("fits"));
        assert_eq!(full.add(sku("NEW"), qty(1), NONE), Err(CartError::TooManyLines { max: 50 }));
        assert!(full.add(sku("S0"), qty(1), NONE).is_ok());
    }

    #[test]
    fn setting_a_quantity_replaces_it_in_place_and_zero_removes_the_line() {
        let lines = cart(&[("A", 1), ("B", 2), ("C", 3)]);
        assert_eq!(
            contents(&lines.set_quantity(&sku("B"), 7, NONE).expect("set")),
            [("A".into(), 1), ("B".into(), 7), ("C".into(), 3)]
        );
        assert_eq!(
            contents(&lines.set_quantity(&sku("B"), 0, NONE).expect("removed")),
            [("A".into(), 1), ("C".into(), 3)]
        );
        assert_eq!(lines.set_quantity(&sku("B"), 100, NONE), Err(CartError::QuantityTooLarge { max: 99 }));
        assert_eq!(lines.set_quantity(&sku("Z"), 1, NONE), Err(CartError::NotInCart { sku: sku("Z") }));
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
        let merged = CartLines::merge_capped(&guest, &customer, stock, NONE);
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
    fn the_stores_limit_per_sku_is_one_to_ninety_nine_and_ten_by_default() {
        assert_eq!(MaxUnitsPerSku::default().get(), 10);
        for (text, ok) in [("1", Some(1)), (" 10 ", Some(10)), ("99", Some(99))] {
            assert_eq!(text.parse::<MaxUnitsPerSku>().map(MaxUnitsPerSku::get).ok(), ok, "{text}");
        }
        for bad in ["0", "100", "-1", "", "ten", "1.5", "4294967296"] {
            assert_eq!(bad.parse::<MaxUnitsPerSku>(), Err(InvalidMaxUnitsPerSku(bad.into())), "{bad}");
        }
    }

    #[test]
    fn no_change_takes_a_line_above_the_stores_limit() {
        let ten = MaxUnitsPerSku(10);
        let over = |s: &str| Err(CartError::OverUnitLimit { sku: sku(s), max: 10 });
        let lines = cart(&[("A", 6)]);
        assert_eq!(lines.add(sku("A"), qty(4), ten).map(|l| contents(&l)), Ok(vec![("A".into(), 10)]));
        assert_eq!(lines.add(sku("A"), qty(5), ten), over("A"), "the sum is refused, not capped");
        assert_eq!(lines.add(sku("B"), qty(11), ten), over("B"));
        assert_eq!(lines.set_quantity(&sku("A"), 11, ten), over("A"));
        assert_eq!(lines.set_quantity(&sku("A"), 100, ten), Err(CartError::QuantityTooLarge { max: 99 }));
        assert_eq!(
            CartError::OverUnitLimit { sku: sku("A"), max: 10 }.to_string(),
            "the store sells at most 10 units of `A` per order"
        );
    }

    #[test]
    fn a_line_filled_before_the_limit_was_lowered_still_loads_and_can_only_come_down() {
        let stored: CartLines =
            serde_json::from_value(serde_json::json!([{"sku": "A", "quantity": 30}, {"sku": "B", "quantity": 2}]))
                .expect("a stored cart loads whatever the store's limit is now");
        let ten = MaxUnitsPerSku(10);
        assert_eq!(ten.exceeded_by(&stored).map(|l| l.sku.to_string()).collect::<Vec<_>>(), ["A"]);
        assert_eq!(stored.set_quantity(&sku("A"), 12, ten), Err(CartError::OverUnitLimit { sku: sku("A"), max: 10 }));
        assert_eq!(stored.add(sku("A"), qty(1), ten), Err(CartError::OverUnitLimit { sku: sku("A"), max: 10 }));
        let lowered = stored.set_quantity(&sku("A"), 10, ten).expect("down to the limit");
        assert_eq!(ten.exceeded_by(&lowered).count(), 0);
        assert!(stored.add(sku("B"), qty(1), ten).is_ok(), "other lines still change");
    }

    #[test]
    fn claiming_caps_merged_lines_at_the_stores_limit() {
        let guest = cart(&[("A", 8), ("B", 2)]);
        let customer = cart(&[("A", 8), ("C", 30)]);
        let merged = CartLines::merge_capped(&guest, &customer, |_| 1000, MaxUnitsPerSku(10));
        assert_eq!(contents(&merged), [("A".into(), 10), ("C".into(), 10), ("B".into(), 2)]);
    }

    #[test]
    fn claiming_drops_the_guest_lines_beyond_fifty_never_the_customers() {
        let customer =
            (0..48).fold(CartLines::default(), |acc, i| acc.add(sku(&format!("C{i}")), qty(1), NONE).expect("fits"));
        let guest = cart(&[("G1", 1), ("C0", 1), ("G2", 1), ("G3", 1)]);
        let merged = CartLines::merge_capped(&guest, &customer, |_| 100, NONE);
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
                .fold(CartLines::default(), |acc, (s, n)| acc.add(sku(&format!("S{s}")), qty(n), NONE).unwrap_or(acc))
        })
    }

    proptest! {
        #[test]
        fn a_claimed_cart_stays_within_every_limit(
            guest in any_cart(),
            customer in any_cart(),
            stock in proptest::collection::vec(-5i64..150, 80),
            limit in 1u32..=MAX_QUANTITY,
        ) {
            let available = |s: &Sku| stock[s.as_str()[1..].parse::<usize>().unwrap_or(0)];
            let limit = MaxUnitsPerSku(limit);
            let merged = CartLines::merge_capped(&guest, &customer, available, limit);
            prop_assert_eq!(limit.exceeded_by(&merged).count(), 0, "no merged line above the store's limit");
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
                let expected = wanted.min(i64::from(limit.get())).min(available(&line.sku).max(1));
                prop_assert_eq!(i64::from(line.quantity.get()), expected);
            }
        }
    }
}
