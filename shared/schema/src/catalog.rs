//! The catalog table.
//!
//! | item          | pk                  | sk          | attributes                                                  |
//! |---------------|---------------------|-------------|-------------------------------------------------------------|
//! | product       | `PRODUCT#{id}`      | `PRODUCT`   | `doc`: `Product`; `gsi1pk = PRODUCTS#{status}`, `gsi1sk = {id}` |
//! | slug claim    | `SLUG#{slug}`       | `SLUG`      | `product_id`                                                |
//! | variant       | `SKU#{sku}`         | `SKU`       | `product_id`; `doc`: [`VariantDoc`]                         |
//! | stock         | `STOCK#{sku}`       | `STOCK`     | `on_hand`, `reserved`, `available`, `version`               |
//! | category      | `CATEGORIES`        | `{slug}`    | `doc`: `Category`                                           |
//! | settings      | `SETTINGS`          | `SETTINGS`  | `doc`: `StoreSettings`                                      |
//! | discount      | `DISCOUNT#{CODE}`   | `DISCOUNT`  | `doc`: `Discount`; `times_used`; `gsi1pk = DISCOUNTS`, `gsi1sk = {id}` |
//! | discount use  | `DISCOUNT#{CODE}`   | `USE#{sub}` | (written by checkout: the customer has used the code)       |
//! | discount id   | `DISCOUNTID#{id}`   | `DISCOUNTID`| `code`                                                      |
//!
//! The variant item is both the SKU's uniqueness claim and a denormalised copy of what pricing
//! needs (product status, titles, prices), rewritten in the same transaction as its product, so a
//! cart is priced from one batch read of variants, stock, settings and discount.

use nanoshop_domain::Money;
use nanoshop_domain::catalog::{Product, ProductStatus, Sku, Slug};
use nanoshop_domain::ids::{DiscountId, ProductId};
use nanoshop_store::Key;
use serde::{Deserialize, Serialize};

pub const PRODUCT_ID: &str = "product_id";
pub const ON_HAND: &str = "on_hand";
pub const RESERVED: &str = "reserved";
pub const AVAILABLE: &str = "available";
pub const CODE: &str = "code";
/// How often a discount was used in orders: a counter checkout increments on its own, outside the
/// document, so an admin's edit of the discount never overwrites it.
pub const TIMES_USED: &str = "times_used";
pub const CATEGORIES: &str = "CATEGORIES";
pub const DISCOUNTS: &str = "DISCOUNTS";

pub fn product_key(id: &ProductId) -> Key {
    Key::new(format!("PRODUCT#{id}"), "PRODUCT")
}

/// The index partition that lists products of one status, newest first.
pub fn products_by_status(status: ProductStatus) -> String {
    format!("PRODUCTS#{}", status.as_str())
}

pub fn slug_key(slug: &Slug) -> Key {
    Key::new(format!("SLUG#{slug}"), "SLUG")
}

pub fn variant_key(sku: &Sku) -> Key {
    Key::new(format!("SKU#{sku}"), "SKU")
}

pub fn stock_key(sku: &Sku) -> Key {
    Key::new(format!("STOCK#{sku}"), "STOCK")
}

pub fn category_key(slug: &Slug) -> Key {
    Key::new(CATEGORIES, slug.as_str())
}

pub fn settings_key() -> Key {
    Key::new("SETTINGS", "SETTINGS")
}

/// A discount by its (upper-case) code: what a cart looks up.
pub fn discount_key(code: &str) -> Key {
    Key::new(format!("DISCOUNT#{code}"), "DISCOUNT")
}

/// The record that `customer` has used the discount `code` in an order, for once-per-customer
/// codes; written by checkout.
pub fn discount_use_key(code: &str, customer: &str) -> Key {
    Key::new(format!("DISCOUNT#{code}"), format!("USE#{customer}"))
}

/// A discount's id, pointing at its code: what the admin API looks up.
pub fn discount_id_key(id: &DiscountId) -> Key {
    Key::new(format!("DISCOUNTID#{id}"), "DISCOUNTID")
}

/// What the cart and checkout need of a variant, kept beside the SKU's claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantDoc {
    pub product_id: ProductId,
    pub product_slug: Slug,
    pub product_title: String,
    pub status: ProductStatus,
    pub variant_title: String,
    pub prices: Vec<Money>,
    /// The product's first image, as a storage key.
    pub image_key: Option<String>,
    pub weight_grams: Option<u32>,
}

impl VariantDoc {
    /// The documents of every variant of `product`, by SKU.
    pub fn of(product: &Product) -> Vec<(Sku, VariantDoc)> {
        product
            .variants
            .iter()
            .map(|v| {
                let doc = VariantDoc {
                    product_id: product.id.clone(),
                    product_slug: product.slug.clone(),
                    product_title: product.title.clone(),
                    status: product.status,
                    variant_title: v.title.clone(),
                    prices: v.prices.clone(),
                    image_key: product.images.first().map(|i| i.key.clone()),
                    weight_grams: v.weight_grams,
                };
                (v.sku.clone(), doc)
            })
            .collect()
    }

    pub fn price_in(&self, currency: nanoshop_domain::Currency) -> Option<Money> {
        self.prices.iter().copied().find(|p| p.currency == currency)
    }
}

/// A discount as stored: its document, with the use counter that lives beside it.
///
/// # Errors
/// The item is not a discount.
pub fn decode_discount(item: &nanoshop_store::Item) -> Result<nanoshop_domain::discount::Discount, crate::CorruptItem> {
    let mut discount: nanoshop_domain::discount::Discount = crate::decode(item)?;
    discount.times_used = item.n(TIMES_USED).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    Ok(discount)
}
