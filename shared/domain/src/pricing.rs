//! Pricing a cart: line totals, discount, shipping, tax and the total, in one pure function.
//!
//! Every amount is integer minor units. A product of an amount and a rate is rounded once per
//! part, half away from zero, and every total is a sum of rounded parts, so the lines of an order
//! always add up to the amount Stripe charges. [`price`] is the only place these rules live: the
//! cart, checkout and orders all call it, so what a shopper sees is what they pay.

use std::cmp::Reverse;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cart::Quantity;
use crate::catalog::Sku;
use crate::discount::DiscountKind;
use crate::money::{Currency, Money, MoneyError};
use crate::settings::ShippingMethod;

/// Everything a price depends on. The caller gathers it from the catalog, the store settings and
/// the cart; pricing reads nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingInput {
    /// The cart's currency; every amount given and returned is in it.
    pub currency: Currency,
    pub lines: Vec<LineInput>,
    /// A discount the caller has already checked applies
    /// ([`Discount::check`](crate::discount::Discount::check)).
    pub discount: Option<DiscountKind>,
    /// The chosen shipping method; `None` until one is chosen.
    pub shipping: Option<ShippingCharge>,
    pub tax: TaxRule,
}

/// One cart line with what the catalog says about it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    pub sku: Sku,
    pub quantity: Quantity,
    /// The variant's price in the cart's currency; `None` when it has none.
    pub unit_price: Option<Money>,
    /// Why the line cannot be bought now; `None` when it can.
    pub unavailable: Option<Unavailable>,
}

/// Why a line is shown but left out of every total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Unavailable {
    /// The product is no longer for sale.
    Archived,
    /// The variant has no price in the cart's currency.
    NoPriceInCurrency,
    /// Fewer units are available than the line asks for.
    InsufficientStock { available: i64 },
    /// No variant has this SKU any more.
    UnknownSku,
}

/// A shipping method's charge in the cart's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippingCharge {
    pub price: Money,
    /// Shipping is free when the discounted subtotal is at least this.
    pub free_over: Option<Money>,
}

impl ShippingCharge {
    /// `method`'s charge in `currency`; `None` when the method has no price in it, so it cannot
    /// be offered for a cart in that currency.
    pub fn for_method(method: &ShippingMethod, currency: Currency) -> Option<Self> {
        let in_currency = |list: &[Money]| list.iter().copied().find(|m| m.currency == currency);
        Some(Self { price: in_currency(&method.prices)?, free_over: in_currency(&method.free_over) })
    }
}

/// How tax applies to a cart: the destination's rate, and whether prices already contain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxRule {
    /// `0.19` for 19 %.
    pub rate: Decimal,
    /// When true, tax is part of every price and only reported; otherwise it is added on top.
    pub prices_include_tax: bool,
}

/// One line as priced, in the order of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PricedLine {
    pub sku: Sku,
    pub quantity: Quantity,
    pub unit_price: Option<Money>,
    /// Unit price × quantity, shown even when the line is unavailable; `None` without a price.
    pub line_total: Option<Money>,
    /// This line's share of the cart's discount; zero when unavailable.
    pub discount: Money,
    /// The tax on (or, for tax-inclusive prices, contained in) the discounted line total.
    pub tax: Money,
    /// Set when the line counts in no total.
    pub unavailable: Option<Unavailable>,
}

/// A priced cart. The parts add up exactly:
/// `subtotal = Σ line_total` and `discount = Σ line.discount` over available lines,
/// `tax = Σ line.tax + shipping_tax`, and `total = subtotal − discount + shipping`, plus `tax`
/// when prices do not include it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PricedCart {
    pub lines: Vec<PricedLine>,
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    /// The part of `tax` owed on shipping, which belongs to no line.
    pub shipping_tax: Money,
    pub tax: Money,
    pub total: Money,
}

/// A line that counts in the totals.
struct Counted<'a> {
    index: usize,
    sku: &'a Sku,
    quantity: Quantity,
    total: Money,
}

/// Prices a cart by the rules of DESIGN.md § Money.
///
/// - A line counts when it has a unit price and no [`Unavailable`] reason; a line without a
///   price is reported as [`Unavailable::NoPriceInCurrency`] even if the caller gave no reason.
/// - A percentage discount takes `round(line_total × p)` from each line, `p` clamped to 0–1. A
///   fixed discount takes `min(amount, subtotal)`, split across lines in proportion to their
///   totals: each share rounded down, the spare minor units one each to the lines with the
///   largest remainders, ties to the smaller SKU. No share exceeds its line, the shares sum to
///   the discount, and line order changes nothing. A fixed discount with no amount in the
///   cart's currency takes nothing off ([`Discount::check`](crate::discount::Discount::check)
///   refuses such a code first).
/// - Shipping is free when `free_over` is set and the discounted subtotal reaches it.
/// - Tax is rounded once per line and once for shipping: `round(part × rate)` on top of
///   tax-exclusive prices, `round(part × rate / (1 + rate))` contained in tax-inclusive ones.
///
/// The total is never negative for valid input (prices ≥ 0, rate ≥ 0).
///
/// # Errors
/// [`MoneyError::Overflow`] when any amount leaves `i64` (or a rate makes a product leave
/// `Decimal`); [`MoneyError::CurrencyMismatch`] for a price, shipping amount or fixed
/// discount amount in another currency; [`MoneyError::Negative`] for a negative one. Never
/// panics.
pub fn price(input: &PricingInput) -> Result<PricedCart, MoneyError> {
    let currency = input.currency;
    let zero = Money::zero(currency);

    let totals = input
        .lines
        .iter()
        .map(|l| l.unit_price.map(|unit| own(unit, currency)?.checked_mul(l.quantity.get())).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let reasons: Vec<Option<Unavailable>> = input
        .lines
        .iter()
        .map(|l| match (l.unavailable, l.unit_price) {
            (None, None) => Some(Unavailable::NoPriceInCurrency),
            (reason, _) => reason,
        })
        .collect();
    let counted: Vec<Counted> = input
        .lines
        .iter()
        .zip(&totals)
        .zip(&reasons)
        .enumerate()
        .filter_map(|(index, ((l, total), reason))| match (total, reason) {
            (Some(total), None) => Some(Counted { index, sku: &l.sku, quantity: l.quantity, total: *total }),
            _ => None,
        })
        .collect();

    let subtotal = Money::sum(currency, counted.iter().map(|l| l.total))?;
    let discounts = discount_parts(input.discount.as_ref(), &counted, subtotal)?;
    let discount = Money::sum(currency, discounts.iter().copied())?;
    let discounted = subtotal.checked_sub(discount)?;
    let shipping = shipping_price(input.shipping, discounted)?;

    let line_taxes = counted
        .iter()
        .zip(&discounts)
        .map(|(l, d)| tax_on(l.total.checked_sub(*d)?, input.tax))
        .collect::<Result<Vec<_>, _>>()?;
    let shipping_tax = tax_on(shipping, input.tax)?;
    let tax = Money::sum(currency, line_taxes.iter().copied().chain([shipping_tax]))?;
    let mut total = discounted.checked_add(shipping)?;
    if !input.tax.prices_include_tax {
        total = total.checked_add(tax)?;
    }

    let mut lines: Vec<PricedLine> = input
        .lines
        .iter()
        .zip(totals)
        .zip(reasons)
        .map(|((l, line_total), unavailable)| PricedLine {
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            line_total,
            discount: zero,
            tax: zero,
            unavailable,
        })
        .collect();
    for ((l, discount), tax) in counted.iter().zip(discounts).zip(line_taxes) {
        lines[l.index].discount = discount;
        lines[l.index].tax = tax;
    }

    Ok(PricedCart { lines, subtotal, discount, shipping, shipping_tax, tax, total })
}

/// `m` as an amount this cart may use: in its currency and not negative.
fn own(m: Money, currency: Currency) -> Result<Money, MoneyError> {
    if m.currency != currency {
        return Err(MoneyError::CurrencyMismatch { left: currency, right: m.currency });
    }
    if m.amount < 0 {
        return Err(MoneyError::Negative);
    }
    Ok(m)
}

/// Each counted line's part of the discount, in the order of `lines`.
fn discount_parts(kind: Option<&DiscountKind>, lines: &[Counted], subtotal: Money) -> Result<Vec<Money>, MoneyError> {
    let currency = subtotal.currency;
    match kind {
        None => Ok(vec![Money::zero(currency); lines.len()]),
        Some(DiscountKind::Percentage(p)) => {
            // Within 0–1 every rounded part stays between zero and its line total.
            let p = (*p).clamp(Decimal::ZERO, Decimal::ONE);
            lines.iter().map(|l| l.total.times_rate(p)).collect()
        }
        Some(fixed @ DiscountKind::Fixed(_)) => {
            let amount = match fixed.amount_in(currency) {
                Some(amount) => own(amount, currency)?.amount,
                None => 0,
            };
            allocate(amount.min(subtotal.amount), lines, subtotal)
        }
    }
}

/// Splits `discount` (at most `subtotal`, the sum of the line totals) across `lines` in
/// proportion to their totals, largest remainders first, so the parts sum to it exactly.
fn allocate(discount: i64, lines: &[Counted], subtotal: Money) -> Result<Vec<Money>, MoneyError> {
    let currency = subtotal.currency;
    if subtotal.amount == 0 {
        return Ok(vec![Money::zero(currency); lines.len()]);
    }
    let (d, s) = (i128::from(discount), i128::from(subtotal.amount));
    // Both factors are non-negative i64 values, so each product is below 2^126: no overflow.
    let exact: Vec<i128> = lines.iter().map(|l| d * i128::from(l.total.amount)).collect();
    let mut parts: Vec<i128> = exact.iter().map(|e| e / s).collect();
    // Σ remainders = spare × s with each remainder below s, so more than `spare` lines have a
    // remainder: each of those is below its line total before the extra unit, never above after.
    let spare = d - parts.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..lines.len()).collect();
    // SKU breaks ties, never position. The last keys only matter if a SKU appears on two lines;
    // lines equal in every key are interchangeable, so the result still ignores order.
    order.sort_by_key(|&i| (Reverse(exact[i] % s), lines[i].sku, lines[i].total.amount, lines[i].quantity));
    let spare = usize::try_from(spare).map_err(|_| MoneyError::Overflow)?;
    for &i in order.iter().take(spare) {
        parts[i] += 1;
    }
    parts
        .into_iter()
        .map(|p| i64::try_from(p).map(|amount| Money::new(amount, currency)).map_err(|_| MoneyError::Overflow))
        .collect()
}

/// The shipping price for a cart whose subtotal after discount is `discounted`.
fn shipping_price(charge: Option<ShippingCharge>, discounted: Money) -> Result<Money, MoneyError> {
    let currency = discounted.currency;
    let Some(charge) = charge else {
        return Ok(Money::zero(currency));
    };
    let price = own(charge.price, currency)?;
    match charge.free_over.map(|f| own(f, currency)).transpose()? {
        Some(threshold) if discounted.amount >= threshold.amount => Ok(Money::zero(currency)),
        _ => Ok(price),
    }
}

/// The tax on `part`, or contained in it when prices include tax, rounded once.
fn tax_on(part: Money, rule: TaxRule) -> Result<Money, MoneyError> {
    if !rule.prices_include_tax {
        return part.times_rate(rule.rate);
    }
    // Multiply before dividing: a contained tax that ends in exactly half a unit is then computed
    // exactly, where rounding `rate / (1 + rate)` to 28 digits first could tip it below the half.
    let contained = Decimal::from(part.amount)
        .checked_mul(rule.rate)
        .zip(Decimal::ONE.checked_add(rule.rate))
        .and_then(|(tax, gross)| tax.checked_div(gross))
        .ok_or(MoneyError::Overflow)?;
    // `times_rate` holds the crate's one rounding rule; on a single minor unit it rounds
    // `contained` itself.
    Money::new(1, part.currency).times_rate(contained)
}

#[cfg(test)]
mod tests;
