//! Products: their options, variants, prices and images, valid by construction. The
//! constructors check syntax, lengths and cross-field rules (variants agree with the product's
//! options, one price per currency) and return every problem at once.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    MAX_CATEGORIES_PER_PRODUCT, MAX_DESCRIPTION_LEN, MAX_OPTION_VALUES, MAX_OPTIONS, MAX_PRICE_AMOUNT,
    MAX_SEARCH_WORDS, MAX_TAG_LEN, MAX_TAGS, MAX_TITLE_LEN, MAX_VARIANTS, Sku, Slug,
};
use crate::ids::{ImageId, ProductId};
use crate::money::{Currency, Money};
use crate::validation::{ValidationErrors, text};

/// Where a product is in its life. Only `active` products are listed and purchasable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    #[default]
    Draft,
    Active,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }
}

impl FromStr for ProductStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(Self::Draft),
            "active" => Ok(Self::Active),
            "archived" => Ok(Self::Archived),
            _ => Err(()),
        }
    }
}

/// A product option such as `Size` with its values `S`, `M`, `L`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

/// One purchasable variant of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Variant {
    pub sku: Sku,
    pub title: String,
    /// Option name → value; exactly the product's options.
    pub options: BTreeMap<String, String>,
    /// At most one price per currency.
    pub prices: Vec<Money>,
    pub weight_grams: Option<u32>,
}

impl Variant {
    /// The price in `currency`, if the variant has one.
    pub fn price_in(&self, currency: Currency) -> Option<Money> {
        self.prices.iter().copied().find(|p| p.currency == currency)
    }
}

/// An image stored in the image bucket under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Image {
    pub id: ImageId,
    pub key: String,
    pub alt: Option<String>,
}

/// The editable part of a product, before validation: what a client sends.
#[derive(Debug, Clone, Default)]
pub struct UncheckedProduct {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub status: ProductStatus,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub options: Vec<ProductOption>,
    pub variants: Vec<UncheckedVariant>,
}

#[derive(Debug, Clone, Default)]
pub struct UncheckedVariant {
    pub sku: String,
    pub title: String,
    pub options: BTreeMap<String, String>,
    /// `(amount, currency code)` pairs as received.
    pub prices: Vec<(i64, String)>,
    pub weight_grams: Option<u32>,
}

/// A product as stored and served. Construct with [`Product::create`] or [`Product::revise`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Product {
    pub id: ProductId,
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub status: ProductStatus,
    pub categories: Vec<Slug>,
    pub tags: Vec<String>,
    pub images: Vec<Image>,
    pub options: Vec<ProductOption>,
    pub variants: Vec<Variant>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The checked editable fields, produced only by [`check_product`].
struct CheckedProduct {
    slug: Slug,
    title: String,
    description: String,
    status: ProductStatus,
    categories: Vec<Slug>,
    tags: Vec<String>,
    options: Vec<ProductOption>,
    variants: Vec<Variant>,
}

impl Product {
    /// A new product at version 1.
    ///
    /// # Errors
    /// Every field that breaks a rule, by name.
    pub fn create(id: ProductId, input: UncheckedProduct, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let c = check_product(input)?;
        Ok(Self {
            id,
            slug: c.slug,
            title: c.title,
            description: c.description,
            status: c.status,
            categories: c.categories,
            tags: c.tags,
            images: Vec::new(),
            options: c.options,
            variants: c.variants,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// This product with new editable fields, the next version. Images, id and creation time stay.
    ///
    /// # Errors
    /// Every field that breaks a rule, by name.
    pub fn revise(&self, input: UncheckedProduct, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let fresh = Self::create(self.id.clone(), input, now)?;
        Ok(Self { images: self.images.clone(), version: self.version + 1, created_at: self.created_at, ..fresh })
    }

    /// The editable fields, as a client would send them back.
    pub fn to_unchecked(&self) -> UncheckedProduct {
        UncheckedProduct {
            slug: self.slug.to_string(),
            title: self.title.clone(),
            description: self.description.clone(),
            status: self.status,
            categories: self.categories.iter().map(ToString::to_string).collect(),
            tags: self.tags.clone(),
            options: self.options.clone(),
            variants: self
                .variants
                .iter()
                .map(|v| UncheckedVariant {
                    sku: v.sku.to_string(),
                    title: v.title.clone(),
                    options: v.options.clone(),
                    prices: v.prices.iter().map(|p| (p.amount, p.currency.to_string())).collect(),
                    weight_grams: v.weight_grams,
                })
                .collect(),
        }
    }

    pub fn skus(&self) -> impl Iterator<Item = &Sku> {
        self.variants.iter().map(|v| &v.sku)
    }

    pub fn is_purchasable(&self) -> bool {
        self.status == ProductStatus::Active
    }

    /// The words search finds this product by: lower-case runs of letters and digits of the
    /// title, then of the tags, each once, the first [`MAX_SEARCH_WORDS`] of them. These, and
    /// only these, are the product's index items, so what the index finds and what
    /// [`Product::matches_query`] accepts are the same words.
    pub fn search_words(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for word in std::iter::once(self.title.as_str()).chain(self.tags.iter().map(String::as_str)).flat_map(words_of)
        {
            if words.len() == MAX_SEARCH_WORDS {
                break;
            }
            if !words.contains(&word) {
                words.push(word);
            }
        }
        words
    }

    /// Whether every word of `query` (case-insensitive) starts one of [`Product::search_words`].
    pub fn matches_query(&self, query: &str) -> bool {
        let haystack = self.search_words();
        words_of(query).all(|needle| haystack.iter().any(|w| w.starts_with(&needle)))
    }
}

/// The words of `text` as search sees them: lower-case runs of letters and digits.
pub fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

fn check_product(input: UncheckedProduct) -> Result<CheckedProduct, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let slug = input.slug.parse::<Slug>().map_err(|e| errors.add("slug", e.to_string())).ok();
    text(&mut errors, "title", &input.title, 1, MAX_TITLE_LEN);
    text(&mut errors, "description", &input.description, 0, MAX_DESCRIPTION_LEN);

    if input.categories.len() > MAX_CATEGORIES_PER_PRODUCT {
        errors.add("categories", format!("at most {MAX_CATEGORIES_PER_PRODUCT} categories"));
    }
    let mut categories = Vec::new();
    for (i, c) in input.categories.iter().enumerate() {
        match c.parse::<Slug>() {
            Ok(s) if categories.contains(&s) => errors.add(format!("categories[{i}]"), "listed twice"),
            Ok(s) => categories.push(s),
            Err(e) => errors.add(format!("categories[{i}]"), e.to_string()),
        }
    }

    if input.tags.len() > MAX_TAGS {
        errors.add("tags", format!("at most {MAX_TAGS} tags"));
    }
    for (i, t) in input.tags.iter().enumerate() {
        text(&mut errors, &format!("tags[{i}]"), t, 1, MAX_TAG_LEN);
    }

    check_options(&mut errors, &input.options);
    let variants = check_variants(&mut errors, &input.options, input.variants);

    errors.into_result(()).map(|()| CheckedProduct {
        slug: slug.unwrap_or_else(|| Slug(String::new())),
        title: input.title.trim().to_owned(),
        description: input.description,
        status: input.status,
        categories,
        tags: input.tags.iter().map(|t| t.trim().to_owned()).collect(),
        options: input.options,
        variants,
    })
}

fn check_options(errors: &mut ValidationErrors, options: &[ProductOption]) {
    if options.len() > MAX_OPTIONS {
        errors.add("options", format!("at most {MAX_OPTIONS} options"));
    }
    let mut names = BTreeSet::new();
    for (i, o) in options.iter().enumerate() {
        text(errors, &format!("options[{i}].name"), &o.name, 1, 50);
        if !names.insert(o.name.as_str()) {
            errors.add(format!("options[{i}].name"), "option names must be unique");
        }
        if o.values.is_empty() || o.values.len() > MAX_OPTION_VALUES {
            errors.add(format!("options[{i}].values"), format!("must have 1–{MAX_OPTION_VALUES} values"));
        }
        let mut values = BTreeSet::new();
        for (j, v) in o.values.iter().enumerate() {
            text(errors, &format!("options[{i}].values[{j}]"), v, 1, 50);
            if !values.insert(v.as_str()) {
                errors.add(format!("options[{i}].values[{j}]"), "values must be unique");
            }
        }
    }
}

fn check_variants(
    errors: &mut ValidationErrors,
    options: &[ProductOption],
    input: Vec<UncheckedVariant>,
) -> Vec<Variant> {
    if input.is_empty() || input.len() > MAX_VARIANTS {
        errors.add("variants", format!("a product has 1–{MAX_VARIANTS} variants"));
    }
    if options.is_empty() && input.len() > 1 {
        errors.add("variants", "a product without options has exactly one variant");
    }
    let mut skus = BTreeSet::new();
    let mut combinations = BTreeSet::new();
    let mut variants = Vec::with_capacity(input.len());
    for (i, v) in input.into_iter().enumerate() {
        let at = |field: &str| format!("variants[{i}].{field}");
        let sku = match v.sku.parse::<Sku>() {
            Ok(sku) if !skus.insert(sku.clone()) => {
                errors.add(at("sku"), format!("SKU `{sku}` is used by another variant of this product"));
                None
            }
            Ok(sku) => Some(sku),
            Err(e) => {
                errors.add(at("sku"), e.to_string());
                None
            }
        };
        text(errors, &at("title"), &v.title, 0, MAX_TITLE_LEN);

        let names: BTreeSet<&str> = options.iter().map(|o| o.name.as_str()).collect();
        let given: BTreeSet<&str> = v.options.keys().map(String::as_str).collect();
        if names != given {
            errors.add(
                at("options"),
                format!(
                    "must give exactly the product's options: {}",
                    names.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        } else {
            for o in options {
                let value = &v.options[&o.name];
                if !o.values.contains(value) {
                    errors.add(
                        at(&format!("options.{}", o.name)),
                        format!("`{value}` is not one of the option's values"),
                    );
                }
            }
            if !combinations.insert(v.options.clone()) {
                errors.add(at("options"), "another variant has the same options");
            }
        }

        let mut prices: Vec<Money> = Vec::with_capacity(v.prices.len());
        for (j, (amount, code)) in v.prices.iter().enumerate() {
            let at = |field: &str| format!("variants[{i}].prices[{j}].{field}");
            let currency = match code.parse::<Currency>() {
                Ok(c) => c,
                Err(e) => {
                    errors.add(at("currency"), e.to_string());
                    continue;
                }
            };
            if !(0..=MAX_PRICE_AMOUNT).contains(amount) {
                errors.add(at("amount"), format!("must be between 0 and {MAX_PRICE_AMOUNT} minor units"));
            } else if prices.iter().any(|p| p.currency == currency) {
                errors.add(at("currency"), format!("the variant already has a {currency} price"));
            } else {
                prices.push(Money::new(*amount, currency));
            }
        }
        if v.prices.is_empty() {
            errors.add(format!("variants[{i}].prices"), "a variant needs at least one price");
        }
        let title = if v.title.trim().is_empty() {
            v.options.values().cloned().collect::<Vec<_>>().join(" / ")
        } else {
            v.title.trim().to_owned()
        };
        if let Some(sku) = sku {
            variants.push(Variant { sku, title, options: v.options, prices, weight_grams: v.weight_grams });
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shirt() -> UncheckedProduct {
        UncheckedProduct {
            slug: "linen-shirt".into(),
            title: "Linen shirt".into(),
            options: vec![ProductOption { name: "Size".into(), values: vec!["S".into(), "M".into()] }],
            variants: vec![
                UncheckedVariant {
                    sku: "LS-S".into(),
                    options: [("Size".into(), "S".into())].into(),
                    prices: vec![(4900, "EUR".into())],
                    ..Default::default()
                },
                UncheckedVariant {
                    sku: "LS-M".into(),
                    options: [("Size".into(), "M".into())].into(),
                    prices: vec![(4900, "EUR".into()), (5400, "USD".into())],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn fields(input: UncheckedProduct) -> Vec<String> {
        match Product::create(ProductId::generate(), input, Utc::now()) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn a_valid_product_is_created_at_version_one_with_titles_from_options() {
        let p = Product::create(ProductId::generate(), shirt(), Utc::now()).expect("valid");
        assert_eq!(p.version, 1);
        assert_eq!(p.variants[0].title, "S");
        assert_eq!(p.variants[1].price_in(Currency::USD), Some(Money::new(5400, Currency::USD)));
    }

    #[test]
    fn revising_keeps_identity_images_and_creation_and_bumps_the_version() {
        let created = Utc::now();
        let mut p = Product::create(ProductId::generate(), shirt(), created).expect("valid");
        p.images.push(Image { id: ImageId::generate(), key: "products/a.jpg".into(), alt: None });
        let mut input = p.to_unchecked();
        input.title = "Linen shirt, washed".into();
        let later = created + chrono::TimeDelta::minutes(5);
        let revised = p.revise(input, later).expect("valid");
        assert_eq!((&revised.id, &revised.images, revised.version), (&p.id, &p.images, 2));
        assert_eq!((revised.created_at, revised.updated_at), (created, later));
        assert_eq!(revised.title, "Linen shirt, washed");
        let broken = UncheckedProduct { slug: "Bad Slug".into(), ..p.to_unchecked() };
        assert!(p.revise(broken, later).is_err());
    }

    #[test]
    fn every_broken_rule_is_reported_by_field() {
        let mut p = shirt();
        p.slug = "Bad Slug".into();
        p.title = " ".into();
        p.variants[1].sku = "LS-S".into();
        p.variants[0].prices = vec![(-1, "EUR".into()), (5, "eur".into())];
        p.variants[1].options = [("Colour".into(), "red".into())].into();
        assert_eq!(
            fields(p),
            [
                "slug",
                "title",
                "variants[0].prices[0].amount",
                "variants[0].prices[1].currency",
                "variants[1].sku",
                "variants[1].options"
            ]
        );
    }

    #[test]
    fn one_price_per_currency_and_none_absurd() {
        let mut p = shirt();
        p.variants[0].prices = vec![(100, "EUR".into()), (200, "EUR".into())];
        p.variants[1].prices = vec![(MAX_PRICE_AMOUNT + 1, "EUR".into())];
        assert_eq!(fields(p), ["variants[0].prices[1].currency", "variants[1].prices[0].amount"]);
    }

    #[test]
    fn variants_must_match_the_options() {
        let mut p = shirt();
        p.variants[1].options = [("Size".into(), "S".into())].into();
        assert_eq!(fields(p), ["variants[1].options"]);
        let mut p = shirt();
        p.variants[1].options = [("Size".into(), "XL".into())].into();
        assert_eq!(fields(p), ["variants[1].options.Size"]);
        let mut p = shirt();
        p.options.clear();
        assert_eq!(fields(p), ["variants", "variants[0].options", "variants[1].options"]);
    }

    #[test]
    fn query_matches_word_prefixes_of_title_and_tags() {
        let mut input = shirt();
        input.tags = vec!["summer".into()];
        let p = Product::create(ProductId::generate(), input, Utc::now()).expect("valid");
        assert!(p.matches_query("linen"));
        assert!(p.matches_query("SHI sum"));
        assert!(!p.matches_query("wool"));
        assert!(!p.matches_query("inen"));
        assert!(p.matches_query("  "));
    }

    #[test]
    fn search_words_are_distinct_lower_case_title_words_then_tags_and_bounded() {
        let mut input = shirt();
        input.title = "Linen shirt, LINEN-blend".into();
        input.tags = vec!["Summer sale".into(), "shirt".into()];
        let p = Product::create(ProductId::generate(), input, Utc::now()).expect("valid");
        assert_eq!(p.search_words(), ["linen", "shirt", "blend", "summer", "sale"]);

        let mut input = shirt();
        input.title = (0..40).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        input.tags = vec!["late".into()];
        let p = Product::create(ProductId::generate(), input, Utc::now()).expect("valid");
        let words = p.search_words();
        assert_eq!(words.len(), MAX_SEARCH_WORDS);
        assert_eq!(words.last().map(String::as_str), Some("w31"));
        assert!(p.matches_query("w31") && !p.matches_query("w32") && !p.matches_query("late"), "past the bound");
    }
}
