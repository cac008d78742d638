//! A cart's lines: one per SKU, each within its limits, changed only into new values, and how a
//! guest cart's lines merge into a customer's.

use serde::{Deserialize, Serialize};

use super::{MAX_LINES, MaxUnitsPerSku, Quantity};
use crate::catalog::Sku;

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
/// [`MAX_LINES`], each within 1–[`MAX_QUANTITY`](super::MAX_QUANTITY) units.
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
    /// [`CartError::QuantityTooLarge`] when the line would exceed [`MAX_QUANTITY`](super::MAX_QUANTITY), else
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
    /// [`CartError::QuantityTooLarge`] above [`MAX_QUANTITY`](super::MAX_QUANTITY); [`CartError::OverUnitLimit`] above
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::cart::MAX_QUANTITY;

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
