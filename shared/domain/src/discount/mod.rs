//! Discount codes: what they take off, when and how often they may be used, why a code is
//! refused for a cart, and how many refused codes a cart may try ([`CodeAttempts`]).
//!
//! A [`Discount`] is valid by construction ([`Discount::create`], [`Discount::revise`]);
//! [`Discount::check`] decides whether it applies to one cart at one moment, and
//! [`crate::pricing::price`] computes what it takes off.
//!
//! The [`Discount`] and its rules live here; `code.rs` holds the [`DiscountCode`] a shopper types
//! and `attempts.rs` the [`CodeAttempts`] that limit guessing.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::MAX_PRICE_AMOUNT;
use crate::ids::DiscountId;
use crate::money::{Currency, Money};
use crate::validation::ValidationErrors;

mod attempts;
mod code;

pub use attempts::{CODE_ATTEMPT_WINDOW, CodeAttempts, MAX_FAILED_CODE_ATTEMPTS};
pub use code::{DiscountCode, InvalidDiscountCode, MAX_CODE_LEN, MIN_CODE_LEN};

/// What a discount takes off the subtotal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    /// A share of every line: `0.15` is 15 %. More than 0, at most 1.
    Percentage(
        #[serde(with = "rust_decimal::serde::str")]
        #[schemars(with = "String")]
        Decimal,
    ),
    /// An amount off the subtotal, one per currency the code works in; each more than 0.
    Fixed(Vec<Money>),
}

impl DiscountKind {
    /// The fixed amount in `currency`; `None` for a percentage, or when the code has no amount
    /// in that currency.
    pub fn amount_in(&self, currency: Currency) -> Option<Money> {
        match self {
            Self::Percentage(_) => None,
            Self::Fixed(amounts) => amounts.iter().copied().find(|a| a.currency == currency),
        }
    }
}

/// The editable part of a discount, before validation: what an admin sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncheckedDiscount {
    pub code: String,
    pub kind: DiscountKind,
    pub min_subtotal: Vec<Money>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<u32>,
    pub once_per_customer: bool,
    pub active: bool,
}

/// A discount code as stored. Construct with [`Discount::create`] or [`Discount::revise`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Discount {
    pub id: DiscountId,
    pub code: DiscountCode,
    pub kind: DiscountKind,
    /// The smallest subtotal, per currency, the code applies to; no entry means no minimum.
    pub min_subtotal: Vec<Money>,
    /// Usable from this moment on (inclusive).
    pub starts_at: Option<DateTime<Utc>>,
    /// Usable until this moment (exclusive).
    pub ends_at: Option<DateTime<Utc>>,
    /// How many orders may use the code in all; `None` for no limit.
    pub usage_limit: Option<u32>,
    pub once_per_customer: bool,
    /// Orders paid with the code so far.
    pub times_used: u32,
    /// Off switch for the admin, whatever the dates say.
    pub active: bool,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why a code does not apply to a cart. `Display` is the reason shown to the shopper.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscountRejection {
    #[error("this code is not active")]
    Inactive,
    #[error("this code is not valid yet")]
    NotStarted,
    #[error("this code has expired")]
    Expired,
    #[error("this code has been used up")]
    Exhausted,
    #[error("this code needs a subtotal of at least {minimum}")]
    BelowMinimum { minimum: Money },
    #[error("this code cannot be used for a cart in {0}")]
    NotInCurrency(Currency),
    #[error("you have already used this code")]
    AlreadyUsed,
}

/// The checked editable fields, produced only by [`check_discount`].
struct CheckedDiscount {
    code: DiscountCode,
    kind: DiscountKind,
    min_subtotal: Vec<Money>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    usage_limit: Option<u32>,
    once_per_customer: bool,
    active: bool,
}

impl Discount {
    /// A new, unused discount at version 1.
    ///
    /// # Errors
    /// Every field that breaks a rule, by name: the code's syntax; a percentage outside
    /// (0, 1]; a fixed amount that is not positive, above [`MAX_PRICE_AMOUNT`] or a second one
    /// in a currency; likewise for minimums (which may be 0); an end not after the start; a
    /// usage limit of 0.
    pub fn create(id: DiscountId, input: UncheckedDiscount, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let c = check_discount(input)?;
        Ok(Self {
            id,
            code: c.code,
            kind: c.kind,
            min_subtotal: c.min_subtotal,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            usage_limit: c.usage_limit,
            once_per_customer: c.once_per_customer,
            times_used: 0,
            active: c.active,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// This discount with new editable fields, the next version. The id, the usage count and
    /// the creation time stay; a limit lowered below the usage count leaves the code exhausted.
    ///
    /// # Errors
    /// As [`Discount::create`].
    pub fn revise(&self, input: UncheckedDiscount, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let fresh = Self::create(self.id.clone(), input, now)?;
        Ok(Self { times_used: self.times_used, version: self.version + 1, created_at: self.created_at, ..fresh })
    }

    /// The editable fields, as an admin would send them back; what a partial update starts from.
    pub fn to_unchecked(&self) -> UncheckedDiscount {
        UncheckedDiscount {
            code: self.code.to_string(),
            kind: self.kind.clone(),
            min_subtotal: self.min_subtotal.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            usage_limit: self.usage_limit,
            once_per_customer: self.once_per_customer,
            active: self.active,
        }
    }

    /// Whether the code applies to a cart with `subtotal` (before any discount, in the cart's
    /// currency) at `now`. `customer_has_used` says whether the signed-in customer has an order
    /// with this code; it only matters for once-per-customer codes, and a guest has not.
    ///
    /// # Errors
    /// The first reason that applies, in this order: the code itself (inactive, not started,
    /// expired, used up), then the shopper (already used), then the cart (no amount in its
    /// currency, below the minimum).
    pub fn check(&self, subtotal: Money, now: DateTime<Utc>, customer_has_used: bool) -> Result<(), DiscountRejection> {
        if !self.active {
            return Err(DiscountRejection::Inactive);
        }
        if self.starts_at.is_some_and(|start| now < start) {
            return Err(DiscountRejection::NotStarted);
        }
        if self.ends_at.is_some_and(|end| now >= end) {
            return Err(DiscountRejection::Expired);
        }
        if self.usage_limit.is_some_and(|limit| self.times_used >= limit) {
            return Err(DiscountRejection::Exhausted);
        }
        if self.once_per_customer && customer_has_used {
            return Err(DiscountRejection::AlreadyUsed);
        }
        let currency = subtotal.currency;
        if matches!(self.kind, DiscountKind::Fixed(_)) && self.kind.amount_in(currency).is_none() {
            return Err(DiscountRejection::NotInCurrency(currency));
        }
        match self.min_subtotal.iter().find(|m| m.currency == currency) {
            Some(minimum) if subtotal.amount < minimum.amount => {
                Err(DiscountRejection::BelowMinimum { minimum: *minimum })
            }
            _ => Ok(()),
        }
    }
}

fn check_discount(input: UncheckedDiscount) -> Result<CheckedDiscount, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let code = input.code.parse::<DiscountCode>();
    if let Err(e) = &code {
        errors.add("code", e.to_string());
    }
    match &input.kind {
        DiscountKind::Percentage(p) => {
            if *p <= Decimal::ZERO || *p > Decimal::ONE {
                errors.add("kind.percentage", "must be more than 0 and at most 1 (0.15 is 15 %)");
            }
        }
        DiscountKind::Fixed(amounts) => {
            if amounts.is_empty() {
                errors.add("kind.fixed", "needs an amount in at least one currency");
            }
            check_amounts(&mut errors, "kind.fixed", amounts, 1);
        }
    }
    check_amounts(&mut errors, "min_subtotal", &input.min_subtotal, 0);
    if let (Some(start), Some(end)) = (input.starts_at, input.ends_at)
        && end <= start
    {
        errors.add("ends_at", "must be after starts_at");
    }
    if input.usage_limit == Some(0) {
        errors.add("usage_limit", "must be at least 1 (leave it out for no limit)");
    }
    match code {
        Ok(code) if errors.is_empty() => Ok(CheckedDiscount {
            code,
            kind: input.kind,
            min_subtotal: input.min_subtotal,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            usage_limit: input.usage_limit,
            once_per_customer: input.once_per_customer,
            active: input.active,
        }),
        // A bad code was added to `errors` above, so they are never empty here.
        _ => Err(errors),
    }
}

/// Per-currency amounts: each within `min..=MAX_PRICE_AMOUNT`, one per currency.
fn check_amounts(errors: &mut ValidationErrors, field: &str, amounts: &[Money], min: i64) {
    let mut seen = BTreeSet::new();
    for (i, m) in amounts.iter().enumerate() {
        if !(min..=MAX_PRICE_AMOUNT).contains(&m.amount) {
            errors.add(
                format!("{field}[{i}].amount"),
                format!("must be between {min} and {MAX_PRICE_AMOUNT} minor units"),
            );
        }
        if !seen.insert(m.currency) {
            errors.add(format!("{field}[{i}].currency"), "one amount per currency");
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, day, 12, 0, 0).single().expect("valid date")
    }

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR)
    }

    fn spring() -> UncheckedDiscount {
        UncheckedDiscount {
            code: "spring10".into(),
            kind: DiscountKind::Percentage(Decimal::new(10, 2)),
            min_subtotal: vec![eur(2000)],
            starts_at: Some(at(1)),
            ends_at: Some(at(31)),
            usage_limit: Some(100),
            once_per_customer: true,
            active: true,
        }
    }

    fn fields(input: UncheckedDiscount) -> Vec<String> {
        match Discount::create(DiscountId::generate(), input, at(1)) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.into_iter().map(|f| f.field).collect(),
        }
    }

    fn discount(input: UncheckedDiscount) -> Discount {
        Discount::create(DiscountId::generate(), input, at(1)).expect("valid")
    }

    #[test]
    fn a_valid_discount_is_created_unused_at_version_one() {
        let d = discount(spring());
        assert_eq!(d.code.as_str(), "SPRING10");
        assert_eq!((d.version, d.times_used), (1, 0));
    }

    #[test]
    fn every_broken_rule_is_reported_by_field() {
        let mut input = spring();
        input.code = "x".into();
        input.kind = DiscountKind::Percentage(Decimal::new(101, 2));
        input.min_subtotal = vec![eur(-1), eur(5)];
        input.ends_at = input.starts_at;
        input.usage_limit = Some(0);
        assert_eq!(
            fields(input),
            ["code", "kind.percentage", "min_subtotal[0].amount", "min_subtotal[1].currency", "ends_at", "usage_limit"]
        );
    }

    #[test]
    fn percentages_must_be_above_zero_and_at_most_one() {
        let check = |p: Decimal, ok: bool| {
            let mut input = spring();
            input.kind = DiscountKind::Percentage(p);
            assert_eq!(fields(input).is_empty(), ok, "{p}");
        };
        check(Decimal::ONE, true);
        check(Decimal::new(1, 4), true);
        check(Decimal::ZERO, false);
        check(Decimal::new(-5, 2), false);
        check(Decimal::new(10001, 4), false);
    }

    #[test]
    fn fixed_amounts_are_positive_and_one_per_currency() {
        let mut input = spring();
        input.kind = DiscountKind::Fixed(vec![]);
        assert_eq!(fields(input.clone()), ["kind.fixed"]);
        input.kind = DiscountKind::Fixed(vec![
            eur(0),
            Money::new(500, Currency::USD),
            eur(500),
            Money::new(MAX_PRICE_AMOUNT + 1, Currency::JPY),
        ]);
        assert_eq!(fields(input), ["kind.fixed[0].amount", "kind.fixed[2].currency", "kind.fixed[3].amount"]);
    }

    #[test]
    fn revising_keeps_identity_and_usage_and_bumps_the_version() {
        let mut d = discount(spring());
        d.times_used = 7;
        let mut input = d.to_unchecked();
        input.code = "summer".into();
        input.usage_limit = Some(5);
        let revised = d.revise(input, at(2)).expect("valid");
        assert_eq!(revised.id, d.id);
        assert_eq!(revised.code.as_str(), "SUMMER");
        assert_eq!((revised.times_used, revised.version), (7, 2));
        assert_eq!((revised.created_at, revised.updated_at), (at(1), at(2)));
        assert_eq!(revised.check(eur(5000), at(3), false), Err(DiscountRejection::Exhausted));
        let broken = UncheckedDiscount { kind: DiscountKind::Fixed(vec![]), ..d.to_unchecked() };
        assert!(d.revise(broken, at(2)).is_err());
    }

    #[test]
    fn an_applicable_code_passes_its_check() {
        let d = discount(spring());
        assert_eq!(d.check(eur(2000), at(1), false), Ok(()));
        assert_eq!(d.check(eur(9999), at(30), false), Ok(()));
    }

    #[test]
    fn each_reason_to_refuse_a_code_is_named() {
        let check = |change: fn(&mut Discount), subtotal: Money, now, used, expected| {
            let mut d = discount(spring());
            change(&mut d);
            assert_eq!(d.check(subtotal, now, used), Err(expected));
        };
        check(|d| d.active = false, eur(5000), at(2), false, DiscountRejection::Inactive);
        check(|_| {}, eur(5000), at(1) - chrono::TimeDelta::seconds(1), false, DiscountRejection::NotStarted);
        check(|_| {}, eur(5000), at(31), false, DiscountRejection::Expired);
        check(|d| d.times_used = 100, eur(5000), at(2), false, DiscountRejection::Exhausted);
        check(|_| {}, eur(5000), at(2), true, DiscountRejection::AlreadyUsed);
        check(|_| {}, eur(1999), at(2), false, DiscountRejection::BelowMinimum { minimum: eur(2000) });
        check(
            |d| d.kind = DiscountKind::Fixed(vec![eur(500)]),
            Money::new(5000, Currency::USD),
            at(2),
            false,
            DiscountRejection::NotInCurrency(Currency::USD),
        );
    }

    #[test]
    fn a_code_without_dates_limit_or_minimum_always_applies_while_active() {
        let mut input = spring();
        (input.starts_at, input.ends_at, input.usage_limit) = (None, None, None);
        input.min_subtotal.clear();
        input.once_per_customer = false;
        let mut d = discount(input);
        d.times_used = u32::MAX;
        assert_eq!(d.check(Money::new(1, Currency::JPY), at(28), true), Ok(()));
    }

    #[test]
    fn rejections_read_as_reasons_a_shopper_understands() {
        assert_eq!(
            DiscountRejection::BelowMinimum { minimum: eur(2000) }.to_string(),
            "this code needs a subtotal of at least 20.00 EUR"
        );
        assert_eq!(
            DiscountRejection::NotInCurrency(Currency::USD).to_string(),
            "this code cannot be used for a cart in USD"
        );
    }

    #[test]
    fn a_discount_round_trips_through_its_stored_form() {
        let mut input = spring();
        input.kind = DiscountKind::Fixed(vec![eur(1000)]);
        for d in [discount(spring()), discount(input)] {
            let json = serde_json::to_value(&d).expect("serialises");
            assert_eq!(serde_json::from_value::<Discount>(json).ok(), Some(d));
        }
        assert_eq!(
            serde_json::to_value(DiscountKind::Percentage(Decimal::new(15, 2))).expect("serialises"),
            serde_json::json!({"percentage": "0.15"})
        );
    }
}
