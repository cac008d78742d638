//! What pricing reads of a variant, copied from its product whenever the product is written.

use serde::{Deserialize, Serialize};

use super::{Product, ProductStatus, Sku, Slug};
use crate::ids::ProductId;
use crate::money::{Currency, Money};

/// What a cart and checkout need to know of a variant: its product's state and titles and its
/// prices, copied from the product whenever it is written, so pricing reads one item per SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantSnapshot {
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

impl VariantSnapshot {
    /// The snapshots of every variant of `product`, by SKU.
    pub fn of(product: &Product) -> Vec<(Sku, VariantSnapshot)> {
        product
            .variants
            .iter()
            .map(|v| {
                let snapshot = VariantSnapshot {
                    product_id: product.id.clone(),
                    product_slug: product.slug.clone(),
                    product_title: product.title.clone(),
                    status: product.status,
                    variant_title: v.title.clone(),
                    prices: v.prices.clone(),
                    image_key: product.images.first().map(|i| i.key.clone()),
                    weight_grams: v.weight_grams,
                };
                (v.sku.clone(), snapshot)
            })
            .collect()
    }

    pub fn price_in(&self, currency: Currency) -> Option<Money> {
        self.prices.iter().copied().find(|p| p.currency == currency)
    }
}
