//! The catalog's items in the catalog table, and every read and write the handlers make of them.
//!
//! | item            | pk                 | sk           | also                                            |
//! |-----------------|--------------------|--------------|-------------------------------------------------|
//! | product         | `PRODUCT#{id}`     | `PRODUCT`    | `gsi1pk = PRODUCTS#{status}`, `gsi1sk = {id}`, `doc` |
//! | slug claim      | `SLUG#{slug}`      | `SLUG`       | `product_id`                                    |
//! | SKU claim       | `SKU#{sku}`        | `SKU`        | `product_id`                                    |
//! | stock           | `STOCK#{sku}`      | `STOCK`      | `on_hand`, `reserved`, `available`, `version`   |
//! | category        | `CATEGORIES`       | `{slug}`     | `doc`                                           |
//! | settings        | `SETTINGS`         | `SETTINGS`   | `doc`                                           |
//!
//! Claims make slugs and SKUs unique across the store: a product write puts its new claims on
//! condition that they do not exist, in the same transaction as the product. Stock is created
//! lazily (a missing stock item is zero on hand), so a product write stays within one transaction.
//! The stock item's `available` is what checkout decrements on condition `available >= qty`.

use std::collections::BTreeSet;
use std::sync::Arc;

use nanoshop_domain::catalog::{Category, Product, ProductStatus, Sku, Slug, StockLevel};
use nanoshop_domain::ids::ProductId;
use nanoshop_domain::settings::StoreSettings;
use nanoshop_store::port::{GSI1_PK, GSI1_SK, VERSION};
use nanoshop_store::{
    Condition, Index, Item, Key, PageKey, Query, Store, StoreError, Table, Update, Value, Write,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

const DOC: &str = "doc";
const PRODUCT_ID: &str = "product_id";
pub const ON_HAND: &str = "on_hand";
pub const RESERVED: &str = "reserved";
pub const AVAILABLE: &str = "available";

pub fn product_key(id: &ProductId) -> Key {
    Key::new(format!("PRODUCT#{id}"), "PRODUCT")
}
fn slug_key(slug: &Slug) -> Key {
    Key::new(format!("SLUG#{slug}"), "SLUG")
}
fn sku_key(sku: &Sku) -> Key {
    Key::new(format!("SKU#{sku}"), "SKU")
}
/// The stock item of a SKU; the cart and checkout functions address stock by this same key.
pub fn stock_key(sku: &Sku) -> Key {
    Key::new(format!("STOCK#{sku}"), "STOCK")
}
fn status_partition(status: ProductStatus) -> String {
    format!("PRODUCTS#{}", status.as_str())
}
const CATEGORIES: &str = "CATEGORIES";
fn settings_key() -> Key {
    Key::new("SETTINGS", "SETTINGS")
}

/// What can go wrong in the catalog's storage, by business meaning.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the product changed since it was read")]
    VersionConflict,
    #[error("the slug `{0}` belongs to another product")]
    SlugTaken(Slug),
    #[error("the SKU `{0}` belongs to another product")]
    SkuTaken(Sku),
    #[error("stock of `{sku}` changed while it was being set")]
    StockChanged { sku: Sku },
    #[error("a category changed while it was being written")]
    CategoryConflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored item is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| CatalogError::Corrupt(e.to_string()))
}

fn decode<T: DeserializeOwned>(item: &Item) -> Result<T> {
    let doc = item
        .s(DOC)
        .ok_or_else(|| CatalogError::Corrupt(format!("{:?} has no doc", item.key())))?;
    serde_json::from_str(doc).map_err(|e| CatalogError::Corrupt(format!("{:?}: {e}", item.key())))
}

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn product_item(p: &Product) -> Result<Item> {
    Ok(Item::new(&product_key(&p.id))
        .with(GSI1_PK, status_partition(p.status))
        .with(GSI1_SK, p.id.as_str())
        .with(VERSION, version(p.version))
        .with(DOC, encode(p)?))
}

fn claim(key: Key, id: &ProductId) -> Write {
    Write::Put {
        table: Table::Catalog,
        item: Item::new(&key).with(PRODUCT_ID, id.as_str()),
        condition: Some(Condition::NotExists),
    }
}

fn release(key: Key, id: &ProductId) -> Write {
    Write::Delete {
        table: Table::Catalog,
        key,
        condition: Some(Condition::Equals(PRODUCT_ID.into(), id.as_str().into())),
    }
}

/// One page of products and where the next starts.
#[derive(Debug)]
pub struct ProductPage {
    pub products: Vec<Product>,
    pub next: Option<PageKey>,
}

/// The stock of a SKU as stored, with the item's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredStock {
    pub level: StockLevel,
    pub version: i64,
    pub exists: bool,
}

/// The catalog's storage, over any [`Store`].
#[derive(Debug, Clone)]
pub struct CatalogRepository {
    store: Arc<dyn Store>,
}

impl CatalogRepository {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Creates a product and claims its slug and SKUs, all or nothing.
    ///
    /// # Errors
    /// [`CatalogError::SlugTaken`] or [`CatalogError::SkuTaken`] naming the first taken claim.
    pub async fn create_product(&self, p: &Product) -> Result<()> {
        let skus: Vec<&Sku> = p.skus().collect();
        let mut writes = vec![
            Write::Put {
                table: Table::Catalog,
                item: product_item(p)?,
                condition: Some(Condition::NotExists),
            },
            claim(slug_key(&p.slug), &p.id),
        ];
        writes.extend(skus.iter().map(|s| claim(sku_key(s), &p.id)));
        self.store
            .transact(writes)
            .await
            .map_err(|e| match e.failed_condition() {
                Some(0) => CatalogError::VersionConflict,
                Some(1) => CatalogError::SlugTaken(p.slug.clone()),
                Some(i) => skus.get(i - 2).map_or(CatalogError::VersionConflict, |s| {
                    CatalogError::SkuTaken((*s).clone())
                }),
                None => CatalogError::Store(e),
            })
    }

    /// Replaces `old` by `new` (its next version), moving slug and SKU claims, all or nothing.
    ///
    /// # Errors
    /// [`CatalogError::VersionConflict`] if the product changed since `old` was read;
    /// [`CatalogError::SlugTaken`] / [`CatalogError::SkuTaken`] for claims held by others.
    pub async fn replace_product(&self, old: &Product, new: &Product) -> Result<()> {
        let mut writes = vec![Write::Put {
            table: Table::Catalog,
            item: product_item(new)?,
            condition: Some(Condition::VersionIs(version(old.version))),
        }];
        let mut claims: Vec<Option<CatalogError>> = vec![None];
        if old.slug != new.slug {
            writes.push(claim(slug_key(&new.slug), &new.id));
            claims.push(Some(CatalogError::SlugTaken(new.slug.clone())));
            writes.push(release(slug_key(&old.slug), &old.id));
            claims.push(None);
        }
        let before: BTreeSet<&Sku> = old.skus().collect();
        let after: BTreeSet<&Sku> = new.skus().collect();
        for sku in after.difference(&before) {
            writes.push(claim(sku_key(sku), &new.id));
            claims.push(Some(CatalogError::SkuTaken((*sku).clone())));
        }
        for sku in before.difference(&after) {
            writes.push(release(sku_key(sku), &old.id));
            claims.push(None);
        }
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match e.failed_condition() {
                Some(i) => Err(claims
                    .get_mut(i)
                    .and_then(Option::take)
                    .unwrap_or(CatalogError::VersionConflict)),
                None => Err(CatalogError::Store(e)),
            },
        }
    }

    pub async fn product(&self, id: &ProductId) -> Result<Option<Product>> {
        self.store
            .get(Table::Catalog, &product_key(id))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    /// The product that holds `slug`, if any: two reads, the claim and then the product.
    pub async fn product_by_slug(&self, slug: &Slug) -> Result<Option<Product>> {
        let Some(claim) = self.store.get(Table::Catalog, &slug_key(slug)).await? else {
            return Ok(None);
        };
        let id = claim
            .s(PRODUCT_ID)
            .and_then(|s| s.parse::<ProductId>().ok())
            .ok_or_else(|| CatalogError::Corrupt(format!("slug claim {slug}")))?;
        self.product(&id).await
    }

    /// Up to `limit` products of one status, newest first, after `after`.
    pub async fn products_by_status(
        &self,
        status: ProductStatus,
        limit: u32,
        after: Option<PageKey>,
    ) -> Result<ProductPage> {
        let mut query = Query::new(Table::Catalog, status_partition(status));
        query.index = Some(Index::Gsi1);
        query.descending = true;
        query.limit = limit;
        query.after = after;
        let page = self.store.query(&query).await?;
        let products = page
            .items
            .iter()
            .map(decode)
            .collect::<Result<Vec<Product>>>()?;
        Ok(ProductPage {
            products,
            next: page.next,
        })
    }

    /// The resume key right after `product` in its status listing.
    pub fn page_key_after(product: &Product) -> Result<PageKey> {
        Ok(PageKey::after(&product_item(product)?, Some(Index::Gsi1)))
    }

    /// Stock levels of `skus` in one batch read; SKUs without a stock item have none on hand.
    pub async fn stock_levels(&self, skus: &[&Sku]) -> Result<Vec<(Sku, StockLevel)>> {
        let unique: BTreeSet<&Sku> = skus.iter().copied().collect();
        let keys: Vec<Key> = unique.iter().map(|s| stock_key(s)).collect();
        let items = self.store.batch_get(Table::Catalog, &keys).await?;
        Ok(unique
            .into_iter()
            .map(|sku| {
                let key = stock_key(sku);
                let level = items
                    .iter()
                    .find(|i| i.key().as_ref() == Some(&key))
                    .map_or(
                        StockLevel {
                            on_hand: 0,
                            reserved: 0,
                        },
                        level_of,
                    );
                (sku.clone(), level)
            })
            .collect())
    }

    /// Whether some product claims `sku`, and its stored stock, in one batch read.
    pub async fn stock(&self, sku: &Sku) -> Result<Option<StoredStock>> {
        let items = self
            .store
            .batch_get(Table::Catalog, &[sku_key(sku), stock_key(sku)])
            .await?;
        let claimed = items.iter().any(|i| i.key() == Some(sku_key(sku)));
        if !claimed {
            return Ok(None);
        }
        Ok(Some(
            match items.iter().find(|i| i.key() == Some(stock_key(sku))) {
                Some(item) => StoredStock {
                    level: level_of(item),
                    version: item.n(VERSION).unwrap_or(0),
                    exists: true,
                },
                None => StoredStock {
                    level: StockLevel {
                        on_hand: 0,
                        reserved: 0,
                    },
                    version: 0,
                    exists: false,
                },
            },
        ))
    }

    /// Sets the units on hand, keeping `available = on_hand - reserved`. Conditional on the
    /// reserved count read, so a reservation made in between is never overwritten.
    ///
    /// # Errors
    /// [`CatalogError::StockChanged`] when the stock item changed since `current` was read.
    pub async fn set_on_hand(
        &self,
        sku: &Sku,
        current: StoredStock,
        new: StockLevel,
    ) -> Result<StoredStock> {
        let condition = if current.exists {
            Condition::And(vec![
                Condition::VersionIs(current.version),
                Condition::Equals(RESERVED.into(), Value::N(current.level.reserved)),
            ])
        } else {
            Condition::NotExists
        };
        let update = Update::new(stock_key(sku))
            .set("sku", sku.as_str())
            .set(ON_HAND, new.on_hand)
            .set(RESERVED, new.reserved)
            .set(AVAILABLE, new.available())
            .set(VERSION, current.version + 1)
            .when(condition);
        match self.store.update(Table::Catalog, update).await {
            Ok(item) => Ok(StoredStock {
                level: level_of(&item),
                version: item.n(VERSION).unwrap_or(0),
                exists: true,
            }),
            Err(StoreError::ConditionFailed { .. }) => {
                Err(CatalogError::StockChanged { sku: sku.clone() })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn categories(&self) -> Result<Vec<Category>> {
        let mut query = Query::new(Table::Catalog, CATEGORIES);
        query.limit = nanoshop_store::port::MAX_QUERY_LIMIT;
        let mut all = Vec::new();
        loop {
            let page = self.store.query(&query).await?;
            for item in &page.items {
                all.push(decode(item)?);
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Writes a category, on condition that it and each of its ancestors are as they were read,
    /// so two concurrent re-parentings cannot close a cycle between them.
    ///
    /// # Errors
    /// [`CatalogError::CategoryConflict`] when any of them changed.
    pub async fn put_category(
        &self,
        category: &Category,
        previous: Option<&Category>,
        ancestors: &[&Category],
    ) -> Result<()> {
        let key = |slug: &Slug| Key::new(CATEGORIES, slug.as_str());
        let item = Item::new(&key(&category.slug))
            .with(VERSION, version(category.version))
            .with(DOC, encode(category)?);
        let condition = previous.map_or(Condition::NotExists, |p| {
            Condition::VersionIs(version(p.version))
        });
        let mut writes = vec![Write::Put {
            table: Table::Catalog,
            item,
            condition: Some(condition),
        }];
        writes.extend(ancestors.iter().map(|a| Write::Check {
            table: Table::Catalog,
            key: key(&a.slug),
            condition: Condition::VersionIs(version(a.version)),
        }));
        self.store.transact(writes).await.map_err(|e| {
            if e.failed_condition().is_some() {
                CatalogError::CategoryConflict
            } else {
                e.into()
            }
        })
    }

    pub async fn settings(&self) -> Result<StoreSettings> {
        Ok(
            match self.store.get(Table::Catalog, &settings_key()).await? {
                Some(item) => decode(&item)?,
                None => StoreSettings::default(),
            },
        )
    }

    /// Replaces the settings document if it is still at `previous_version` (0: never written).
    ///
    /// # Errors
    /// [`CatalogError::VersionConflict`] when it changed in between.
    pub async fn put_settings(
        &self,
        settings: &StoreSettings,
        previous_version: u64,
    ) -> Result<()> {
        let item = Item::new(&settings_key())
            .with(VERSION, version(settings.version))
            .with(DOC, encode(settings)?);
        let condition = if previous_version == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(version(previous_version))
        };
        match self.store.put(Table::Catalog, item, Some(condition)).await {
            Err(StoreError::ConditionFailed { .. }) => Err(CatalogError::VersionConflict),
            other => Ok(other?),
        }
    }
}

fn level_of(item: &Item) -> StockLevel {
    StockLevel {
        on_hand: item.n(ON_HAND).unwrap_or(0),
        reserved: item.n(RESERVED).unwrap_or(0),
    }
}
