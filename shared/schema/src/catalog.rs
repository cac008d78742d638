//! The catalog table.
//!
//! | item          | pk                  | sk          | attributes                                                  |
//! |---------------|---------------------|-------------|-------------------------------------------------------------|
//! | product       | `PRODUCT#{id}`      | `PRODUCT`   | `doc`: `Product`; `gsi1pk = PRODUCTS#{status}`, `gsi1sk = {id}` |
//! | slug claim    | `SLUG#{slug}`       | `SLUG`      | `product_id`                                                |
//! | variant       | `SKU#{sku}`         | `SKU`       | `product_id`; `doc`: `VariantSnapshot`                      |
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

use nanoshop_domain::catalog::{ProductStatus, Sku, Slug};
use nanoshop_domain::ids::{DiscountId, ProductId};
use nanoshop_store::Key;

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

/// A discount as stored: its document, with the use counter that lives beside it.
///
/// # Errors
/// The item is not a discount.
pub fn decode_discount(item: &nanoshop_store::Item) -> Result<nanoshop_domain::discount::Discount, crate::CorruptItem> {
    let mut discount: nanoshop_domain::discount::Discount = crate::decode(item)?;
    discount.times_used = item.n(TIMES_USED).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    Ok(discount)
}

/// Settings, the variants and stock of `skus`, and the discount `code` (with whether `customer`
/// has used it): everything pricing needs, in one batch read of the catalog table.
///
/// # Errors
/// The store failed, or an item is corrupt.
pub async fn read_snapshot(
    store: &dyn nanoshop_store::Store,
    skus: &[&Sku],
    code: Option<&str>,
    customer: Option<&str>,
) -> Result<nanoshop_domain::quote::CatalogSnapshot, crate::ReadError> {
    use nanoshop_domain::catalog::StockLevel;
    use nanoshop_domain::quote::CatalogSnapshot;

    let skus: std::collections::BTreeSet<&Sku> = skus.iter().copied().collect();
    let mut keys = vec![settings_key()];
    for sku in &skus {
        keys.push(variant_key(sku));
        keys.push(stock_key(sku));
    }
    if let Some(code) = code {
        keys.push(discount_key(code));
        if let Some(customer) = customer {
            keys.push(discount_use_key(code, customer));
        }
    }
    let items = store.batch_get(nanoshop_store::Table::Catalog, &keys).await?;
    let find = |key: &Key| items.iter().find(|i| i.key().as_ref() == Some(key));
    let mut snapshot = CatalogSnapshot {
        settings: find(&settings_key()).map(crate::decode).transpose()?.unwrap_or_default(),
        ..CatalogSnapshot::default()
    };
    for sku in skus {
        if let Some(item) = find(&variant_key(sku)) {
            snapshot.variants.push((sku.clone(), crate::decode(item)?));
        }
        let level = find(&stock_key(sku)).map_or(StockLevel { on_hand: 0, reserved: 0 }, |i| StockLevel {
            on_hand: i.n(ON_HAND).unwrap_or(0),
            reserved: i.n(RESERVED).unwrap_or(0),
        });
        snapshot.stock.push((sku.clone(), level));
    }
    if let Some(code) = code {
        snapshot.discount = find(&discount_key(code)).map(decode_discount).transpose()?;
        snapshot.discount_used = customer.is_some_and(|c| find(&discount_use_key(code, c)).is_some());
    }
    Ok(snapshot)
}
