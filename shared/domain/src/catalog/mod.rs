//! The catalog's types: products with options and variants, per-currency prices, categories and
//! stock levels. Every type here is valid by construction: the constructors check syntax, lengths
//! and cross-field rules (variants agree with the product's options, one price per currency) and
//! return every problem at once.
//!
//! - `product.rs`: a [`Product`], its options, variants and images, and the rules they keep.
//! - `snapshot.rs`: the [`VariantSnapshot`] of each variant that carts and checkout price from.
//! - `category.rs`: a [`Category`] tree without cycles.
//! - `stock.rs`: a SKU's [`StockLevel`].
//!
//! The limits and the two names every part uses ([`Slug`], [`Sku`]) live here.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod category;
mod product;
mod snapshot;
mod stock;

pub use category::Category;
pub use product::{
    Image, Product, ProductOption, ProductStatus, UncheckedProduct, UncheckedVariant, Variant, words_of,
};
pub use snapshot::VariantSnapshot;
pub use stock::{StockError, StockLevel};

pub const MAX_SLUG_LEN: usize = 96;
pub const MAX_SKU_LEN: usize = 64;
pub const MAX_TITLE_LEN: usize = 200;
pub const MAX_DESCRIPTION_LEN: usize = 10_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_LEN: usize = 40;
pub const MAX_CATEGORIES_PER_PRODUCT: usize = 10;
pub const MAX_OPTIONS: usize = 3;
pub const MAX_OPTION_VALUES: usize = 50;
/// 48 so that any product write fits one 100-write transaction even when every SKU changes:
/// the product, two slug claims, 48 new SKU claims and 48 released ones.
pub const MAX_VARIANTS: usize = 48;
pub const MAX_IMAGES: usize = 20;
/// The words of a product search finds: its first 32 distinct words, title before tags. Each is
/// one index item written in the product's own transaction, so the bound keeps a product write
/// within 100 writes: a create is at most 1 + 1 + 48 + 32 + 10 = 92 (product, slug claim, SKU
/// claims, words, category entries), an archive as much (it puts the slug claim again, with the
/// SKUs it lists, and every index item in its new status). Only a change that swaps most SKUs
/// *and* most words or categories at once can exceed it, and is refused.
pub const MAX_SEARCH_WORDS: usize = 32;
/// Ten billion minor units (100 million EUR): a price above this is a typo, not a product.
pub const MAX_PRICE_AMOUNT: i64 = 10_000_000_000;
/// The most units of one SKU a store can hold; keeps every stock sum far from overflow.
pub const MAX_STOCK: i64 = 1_000_000_000;

/// A URL-safe name: lower-case ASCII letters and digits in groups joined by single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1–{MAX_SLUG_LEN} lower-case letters, digits and single hyphens, like `linen-shirt`")]
pub struct InvalidSlug;

impl FromStr for Slug {
    type Err = InvalidSlug;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= MAX_SLUG_LEN
            && s.split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidSlug) }
    }
}

/// A stock-keeping unit: starts with a letter or digit, then letters, digits, `.`, `_`, `-`.
/// Case-sensitive and unique across the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1–{MAX_SKU_LEN} characters: letters, digits, `.`, `_` or `-`, starting with a letter or digit")]
pub struct InvalidSku;

impl FromStr for Sku {
    type Err = InvalidSku;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_SKU_LEN
            && bytes[0].is_ascii_alphanumeric()
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidSku) }
    }
}

crate::newtype::string_newtype!(Slug, InvalidSlug);
crate::newtype::string_newtype!(Sku, InvalidSku);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_skus_follow_their_syntax() {
        for ok in ["a", "linen-shirt", "x1-2y"] {
            assert!(ok.parse::<Slug>().is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "Linen", "a b", "ä", &"a".repeat(97)] {
            assert!(bad.parse::<Slug>().is_err(), "{bad}");
        }
        for ok in ["LS-S", "a.b_c-9", "1"] {
            assert!(ok.parse::<Sku>().is_ok(), "{ok}");
        }
        for bad in ["", "-A", "A B", "A/B", &"A".repeat(65)] {
            assert!(bad.parse::<Sku>().is_err(), "{bad}");
        }
    }
}
