//! A catalog as the transfer moves it: the category tree, and each product's editable fields as
//! the API takes them in `POST /products` and answers them in `GET /products/{slug}`, plus the
//! stock on hand of each SKU.

use std::collections::BTreeMap;

use nanoshop_domain::catalog::{Product, ProductOption, ProductStatus};
use serde::{Deserialize, Serialize};

/// The editable fields of a product, in the API's JSON shape. Read from an API answer it ignores
/// what is not editable (id, images, version, availability), so a product read back compares
/// equal to the one that was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDoc {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub status: ProductStatus,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub options: Vec<ProductOption>,
    pub variants: Vec<VariantDoc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantDoc {
    pub sku: String,
    pub title: String,
    pub options: BTreeMap<String, String>,
    pub prices: Vec<MoneyDoc>,
    pub weight_grams: Option<u32>,
}

/// `{"amount": 4990, "currency": "EUR"}`: minor units, as the API writes money.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MoneyDoc {
    pub amount: i64,
    pub currency: String,
}

impl ProductDoc {
    /// The product's editable fields as the domain normalised them, so that what an import
    /// wants compares equal to what the store answers for the same product.
    pub fn of(product: &Product) -> Self {
        let u = product.to_unchecked();
        Self {
            slug: u.slug,
            title: u.title,
            description: u.description,
            status: u.status,
            categories: u.categories,
            tags: u.tags,
            options: u.options,
            variants: u
                .variants
                .into_iter()
                .map(|v| VariantDoc {
                    sku: v.sku,
                    title: v.title,
                    options: v.options,
                    prices: v.prices.into_iter().map(|(amount, currency)| MoneyDoc { amount, currency }).collect(),
                    weight_grams: v.weight_grams,
                })
                .collect(),
        }
    }

    /// Whether `self` and `other` describe the same product: prices are compared as sets (a
    /// file has one column per currency, so it cannot say in which order they were entered).
    pub fn same_as(&self, other: &Self) -> bool {
        let sorted = |doc: &Self| {
            let mut doc = doc.clone();
            for v in &mut doc.variants {
                v.prices.sort();
            }
            doc
        };
        sorted(self) == sorted(other)
    }
}

/// One product to import or exported: its fields, and the stock on hand of each SKU that the file
/// gives (in variant order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Where the product starts in the file (0 for an exported product).
    pub line: usize,
    pub product: ProductDoc,
    pub stock: Vec<(String, Option<i64>)>,
}

/// A category as `PUT /categories/{slug}` takes it and `GET /categories` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryDoc {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
}

/// One category of a file, and the line (or item) it is on (0 for an exported one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryEntry {
    pub line: usize,
    pub category: CategoryDoc,
}

/// A whole catalog file: the category tree, parents before their children, and the products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// What a place in the file is called in messages: `line` (CSV) or `item` (JSON).
    pub unit: &'static str,
    pub categories: Vec<CategoryEntry>,
    pub products: Vec<CatalogEntry>,
}
