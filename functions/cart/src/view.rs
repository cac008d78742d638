//! The cart as the API shows it, from its quote (`nanoshop_domain::quote`), with shipping options for its
//! address, tax by its destination, and every unavailable line explained.

use chrono::{DateTime, Utc};
use nanoshop_api::bodies::MoneyHttpBody;
use nanoshop_domain::Money;
use nanoshop_domain::cart::{Cart, CartStatus};
use nanoshop_domain::pricing::Unavailable;
use nanoshop_domain::quote::{CatalogSnapshot, Quote};
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CartLineHttpResponse {
    pub sku: String,
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub variant_title: Option<String>,
    pub image_url: Option<String>,
    pub quantity: u32,
    pub unit_price: Option<MoneyHttpBody>,
    pub line_total: Option<MoneyHttpBody>,
    pub available: bool,
    /// Why the line is left out of the totals: `archived`, `unknown_sku`, `no_price_in_currency`
    /// or `insufficient_stock`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<&'static str>,
    /// Units that can still be bought, when stock is the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_quantity: Option<i64>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "CartDiscountHttpResponse")]
pub struct DiscountHttpResponse {
    pub code: String,
    pub amount: MoneyHttpBody,
    /// False when the code no longer applies (expired, exhausted, below the minimum); it then
    /// takes nothing off and `reason` says why.
    pub applicable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ShippingOptionHttpResponse {
    pub id: String,
    pub name: String,
    pub price: MoneyHttpBody,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TotalsHttpResponse {
    pub subtotal: MoneyHttpBody,
    pub discount: MoneyHttpBody,
    pub shipping: MoneyHttpBody,
    pub tax: MoneyHttpBody,
    pub total: MoneyHttpBody,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CartHttpResponse {
    pub id: String,
    pub currency: String,
    pub customer_id: Option<String>,
    pub status: CartStatus,
    pub items: Vec<CartLineHttpResponse>,
    pub discount: Option<DiscountHttpResponse>,
    pub shipping_address: Option<nanoshop_domain::address::Address>,
    pub shipping_method: Option<ShippingOptionHttpResponse>,
    pub shipping_options: Vec<ShippingOptionHttpResponse>,
    pub totals: TotalsHttpResponse,
    pub prices_include_tax: bool,
    /// Only in the response that created the cart: the guest capability, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

fn reason(u: &Unavailable) -> (&'static str, Option<i64>) {
    match u {
        Unavailable::Archived => ("archived", None),
        Unavailable::UnknownSku => ("unknown_sku", None),
        Unavailable::NoPriceInCurrency => ("no_price_in_currency", None),
        Unavailable::InsufficientStock { available } => ("insufficient_stock", Some(*available)),
    }
}

/// The response body for a priced cart. `image_base` prefixes image keys (`…/images`).
pub fn render(
    cart: &Cart,
    catalog: &CatalogSnapshot,
    quote: &Quote,
    image_base: &str,
    token: Option<String>,
) -> CartHttpResponse {
    let p = &quote.priced;
    let items = p
        .lines
        .iter()
        .map(|line| {
            let variant = catalog.variant(&line.sku);
            let (unavailable_reason, available_quantity) =
                line.unavailable.as_ref().map(reason).map_or((None, None), |(r, q)| (Some(r), q));
            CartLineHttpResponse {
                sku: line.sku.to_string(),
                product_id: variant.map(|v| v.product_id.to_string()),
                title: variant.map(|v| v.product_title.clone()),
                variant_title: variant.map(|v| v.variant_title.clone()),
                image_url: variant.and_then(|v| v.image_key.as_ref()).map(|k| format!("{image_base}/{k}")),
                quantity: line.quantity.get(),
                unit_price: line.unit_price.map(Into::into),
                line_total: line.line_total.map(Into::into),
                available: line.unavailable.is_none(),
                unavailable_reason,
                available_quantity,
            }
        })
        .collect();
    let discount = cart.discount_code.as_ref().map(|code| DiscountHttpResponse {
        code: code.clone(),
        amount: p.discount.into(),
        applicable: quote.rejection.is_none(),
        reason: quote.rejection.as_ref().map(ToString::to_string),
    });
    // Each option at what it would cost this cart: free where its threshold is met, as the
    // chosen method's price is computed by pricing.
    let discounted = p.subtotal.amount - p.discount.amount;
    let shipping_options: Vec<ShippingOptionHttpResponse> = quote
        .options
        .iter()
        .map(|(charge, m)| {
            let free = charge.free_over.is_some_and(|f| discounted >= f.amount);
            let price = if free { Money::zero(charge.price.currency) } else { charge.price };
            ShippingOptionHttpResponse { id: m.id.clone(), name: m.name.clone(), price: price.into() }
        })
        .collect();
    let shipping_method =
        cart.shipping_method.as_ref().and_then(|id| quote.options.iter().find(|(_, m)| &m.id == id)).map(|(_, m)| {
            ShippingOptionHttpResponse { id: m.id.clone(), name: m.name.clone(), price: p.shipping.into() }
        });
    CartHttpResponse {
        id: cart.id.to_string(),
        currency: cart.currency.to_string(),
        customer_id: cart.customer_id.clone(),
        status: cart.status,
        items,
        discount,
        shipping_address: cart.shipping_address.clone(),
        shipping_method,
        shipping_options,
        totals: TotalsHttpResponse {
            subtotal: p.subtotal.into(),
            discount: p.discount.into(),
            shipping: p.shipping.into(),
            tax: p.tax.into(),
            total: p.total.into(),
        },
        prices_include_tax: catalog.settings.prices_include_tax,
        token,
        expires_at: cart.expires_at(),
        version: cart.version,
        updated_at: cart.updated_at,
    }
}
