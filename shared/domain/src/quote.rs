//! A cart priced against the catalog as it is now: the one computation behind the cart's totals
//! and the checkout's order, so the amount a shopper sees is the amount an order charges.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::cart::Cart;
use crate::catalog::{ProductStatus, Sku, StockLevel, VariantSnapshot};
use crate::discount::{Discount, DiscountRejection};
use crate::money::MoneyError;
use crate::pricing::{self, LineInput, PricedCart, PricingInput, ShippingCharge, TaxRule, Unavailable};
use crate::settings::{ShippingMethod, StoreSettings};

/// What pricing needs from the catalog, as read in one batch.
#[derive(Debug, Clone, Default)]
pub struct CatalogSnapshot {
    pub settings: StoreSettings,
    pub variants: Vec<(Sku, VariantSnapshot)>,
    pub stock: Vec<(Sku, StockLevel)>,
    pub discount: Option<Discount>,
    /// Whether the cart's customer has already used the discount (for once-per-customer codes).
    pub discount_used: bool,
}

impl CatalogSnapshot {
    pub fn variant(&self, sku: &Sku) -> Option<&VariantSnapshot> {
        self.variants.iter().find(|(s, _)| s == sku).map(|(_, v)| v)
    }

    /// Units of `sku` that may still be sold; a SKU without a stock item has none.
    pub fn available(&self, sku: &Sku) -> i64 {
        self.stock.iter().find(|(s, _)| s == sku).map_or(0, |(_, l)| l.available())
    }
}

/// A cart priced: the totals, why its discount does not apply (if it does not), and the shipping
/// options for its address.
#[derive(Debug, Clone)]
pub struct Quote {
    pub priced: PricedCart,
    pub rejection: Option<DiscountRejection>,
    pub options: Vec<(ShippingCharge, ShippingMethod)>,
}

impl Quote {
    /// Whether the method `id` is offered for the cart's address and currency.
    pub fn offers(&self, id: &str) -> bool {
        self.options.iter().any(|(_, m)| m.id == id)
    }

    /// The chosen shipping method, if the cart has one that is offered.
    pub fn method<'a>(&'a self, cart: &Cart) -> Option<&'a (ShippingCharge, ShippingMethod)> {
        cart.shipping_method.as_ref().and_then(|id| self.options.iter().find(|(_, m)| &m.id == id))
    }
}

/// Prices `cart` against `catalog`: each line from its variant and stock (unavailable lines are
/// explained and left out of the totals), the discount if it applies now, shipping for the
/// address, tax by its country and region.
///
/// # Errors
/// Only overflow, which the line and quantity limits make impossible for real prices.
pub fn quote(cart: &Cart, catalog: &CatalogSnapshot, now: DateTime<Utc>) -> Result<Quote, MoneyError> {
    let lines: Vec<LineInput> = cart
        .lines
        .as_slice()
        .iter()
        .map(|line| {
            let variant = catalog.variant(&line.sku);
            let unit_price = variant.and_then(|v| v.price_in(cart.currency));
            let available = catalog.available(&line.sku);
            let unavailable = match variant {
                None => Some(Unavailable::UnknownSku),
                Some(v) if v.status != ProductStatus::Active => Some(Unavailable::Archived),
                Some(_) if unit_price.is_none() => Some(Unavailable::NoPriceInCurrency),
                Some(_) if i64::from(line.quantity.get()) > available => {
                    Some(Unavailable::InsufficientStock { available: available.max(0) })
                }
                Some(_) => None,
            };
            LineInput { sku: line.sku.clone(), quantity: line.quantity, unit_price, unavailable }
        })
        .collect();

    let settings = &catalog.settings;
    let zone = cart.shipping_address.as_ref().and_then(|a| settings.zone_for(&a.country));
    let options: Vec<(ShippingCharge, ShippingMethod)> = zone
        .map(|z| {
            z.methods.iter().filter_map(|m| Some((ShippingCharge::for_method(m, cart.currency)?, m.clone()))).collect()
        })
        .unwrap_or_default();
    let shipping =
        cart.shipping_method.as_ref().and_then(|id| options.iter().find(|(_, m)| &m.id == id)).map(|(c, _)| *c);
    let rate = cart
        .shipping_address
        .as_ref()
        .map_or(Decimal::ZERO, |a| settings.tax_rate_for(&a.country, a.region.as_deref()));
    let tax = TaxRule { rate, prices_include_tax: settings.prices_include_tax };

    let without_discount = PricingInput { currency: cart.currency, lines, discount: None, shipping, tax };
    let undiscounted = pricing::price(&without_discount)?;
    let (discount, rejection) = match (&cart.discount_code, &catalog.discount) {
        (None, _) => (None, None),
        (Some(_), None) => (None, Some(DiscountRejection::Inactive)),
        (Some(_), Some(d)) => match d.check(undiscounted.subtotal, now, catalog.discount_used) {
            Ok(()) => (Some(d.kind.clone()), None),
            Err(why) => (None, Some(why)),
        },
    };
    let priced =
        if discount.is_some() { pricing::price(&PricingInput { discount, ..without_discount })? } else { undiscounted };
    Ok(Quote { priced, rejection, options })
}
