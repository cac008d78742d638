//! The catalog's items in the catalog table, and every read and write the handlers make of them.
//!
//! The layout of every item is in `nanoshop_schema::catalog`, shared with the functions that
//! read the catalog table.
//!
//! Claims make slugs and SKUs unique across the store: a product write puts its new claims on
//! condition that they do not exist, in the same transaction as the product. The SKU claim is the
//! variant item, which also carries what pricing needs, so every product write rewrites it. Stock is created
//! lazily (a missing stock item is zero on hand), so a product write stays within one transaction.
//! The stock item's `available` is what checkout decrements on condition `available >= qty`.
//!
//! Search's index items (one per search word of the product) are written in the product's own
//! transaction too: a create puts them all, a change puts the words it adds and deletes the ones
//! it drops (all of them re-put when the status moves them to another listing), so the index
//! never names a word the product lost. The product item carries `search_indexed` once its words
//! are in the index; a product stored before the index existed has none, and its next save (any
//! change, or `PATCH` with `{}`, or [`CatalogRepository::reindex_all`]) puts all of its words.
//!
//! The category index (one entry per category the product names) is kept the same way, with its
//! own mark, `categories_indexed`, on the product item.

use std::collections::BTreeSet;
use std::sync::Arc;

use nanoshop_domain::catalog::{Category, Product, ProductStatus, Sku, Slug, StockLevel, VariantSnapshot};
use nanoshop_domain::discount::Discount;
use nanoshop_domain::ids::{DiscountId, ProductId};
use nanoshop_domain::settings::StoreSettings;
use nanoshop_store::port::{GSI1_PK, GSI1_SK, VERSION};
use nanoshop_store::{Condition, Index, Item, Key, PageKey, Query, Store, StoreError, Table, Update, Value, Write};

use nanoshop_schema::catalog::{
    AVAILABLE, CATEGORIES, CODE, DISCOUNTS, ON_HAND, PRODUCT_ID, RESERVED, SEARCH_WORD_PREFIX, SKUS, TIMES_USED,
    category_entry_key, category_key, category_partition, decode_discount, discount_id_key, discount_key, product_key,
    products_by_status, search_partition, search_sort, search_word_key, settings_key, slug_key, stock_key, variant_key,
};
use nanoshop_schema::{CorruptItem, DOC, decode, encode};

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
    #[error("the discount code `{0}` is taken")]
    CodeTaken(String),
    /// The change would rewrite more items than one transaction may (DynamoDB's 100): only a
    /// change swapping most SKUs and most search words at once gets here.
    #[error("the change rewrites {writes} items, more than one transaction's {max}")]
    TooManyWrites { writes: usize, max: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// On the product item once its search words are in the index (see the module docs).
const SEARCH_INDEXED: &str = "search_indexed";
/// On the product item once its categories are in the category index.
const CATEGORIES_INDEXED: &str = "categories_indexed";

fn product_item(p: &Product) -> Result<Item> {
    Ok(Item::new(&product_key(&p.id))
        .with(GSI1_PK, products_by_status(p.status))
        .with(GSI1_SK, p.id.as_str())
        .with(VERSION, version(p.version))
        .with(SEARCH_INDEXED, true)
        .with(CATEGORIES_INDEXED, true)
        .with(DOC, encode(p)?))
}

/// The entry that lists product `id` of `status` in `category`.
fn category_entry(id: &ProductId, status: ProductStatus, category: &Slug) -> Item {
    Item::new(&category_entry_key(id, category))
        .with(PRODUCT_ID, id.as_str())
        .with(GSI1_PK, category_partition(status, category))
        .with(GSI1_SK, id.as_str())
}

/// The category-index writes that take `old`'s entries (as indexed, or none) to `new`'s: its
/// added categories put (all of them when the status moves them to another listing), its dropped
/// ones deleted.
fn category_writes(old: Option<&Product>, new: &Product) -> Vec<Write> {
    let before: &[Slug] = old.map_or(&[], |o| &o.categories);
    let moved = old.is_some_and(|o| o.status != new.status);
    let mut writes: Vec<Write> = new
        .categories
        .iter()
        .filter(|c| moved || !before.contains(c))
        .map(|c| Write::Put { table: Table::Catalog, item: category_entry(&new.id, new.status, c), condition: None })
        .collect();
    writes.extend(before.iter().filter(|c| !new.categories.contains(c)).map(|c| Write::Delete {
        table: Table::Catalog,
        key: category_entry_key(&new.id, c),
        condition: None,
    }));
    writes
}

/// The index item of one of `p`'s search words.
fn search_word(p: &Product, word: &str) -> Write {
    let item = Item::new(&search_word_key(&p.id, word))
        .with(PRODUCT_ID, p.id.as_str())
        .with(GSI1_PK, search_partition(p.status, word))
        .with(GSI1_SK, search_sort(word, &p.id));
    Write::Put { table: Table::Catalog, item, condition: None }
}

/// The index writes that take `old`'s words (as indexed, or none) to `new`'s: its added words
/// put (all of them when the status moves them to another listing), its dropped ones deleted.
fn search_writes(old: Option<&Product>, new: &Product) -> Vec<Write> {
    let before: Vec<String> = old.map(Product::search_words).unwrap_or_default();
    let after = new.search_words();
    let moved = old.is_some_and(|o| o.status != new.status);
    let mut writes: Vec<Write> =
        after.iter().filter(|w| moved || !before.contains(w)).map(|w| search_word(new, w)).collect();
    writes.extend(before.iter().filter(|w| !after.contains(w)).map(|w| Write::Delete {
        table: Table::Catalog,
        key: search_word_key(&new.id, w),
        condition: None,
    }));
    writes
}

/// The product a claim, search word or category entry names (its `product_id`).
fn product_id_of(item: &Item) -> Result<ProductId, CorruptItem> {
    item.s(PRODUCT_ID).and_then(|s| s.parse().ok()).ok_or_else(|| CorruptItem {
        key: item.key().map(|k| k.to_string()).unwrap_or_default(),
        reason: "no product id".into(),
    })
}

/// The claim of `p`'s slug, listing its SKUs for the read by slug: put where none is (`new`), or
/// over `p`'s own.
fn slug_claim(p: &Product, new: bool) -> Write {
    let skus = p.skus().map(Sku::as_str).collect::<Vec<_>>().join(" ");
    let item = Item::new(&slug_key(&p.slug)).with(PRODUCT_ID, p.id.as_str()).with(SKUS, skus);
    let condition = if new { Condition::NotExists } else { Condition::Equals(PRODUCT_ID.into(), p.id.as_str().into()) };
    Write::Put { table: Table::Catalog, item, condition: Some(condition) }
}

/// The variant item: the SKU's claim for `doc.product_id`, with the document pricing reads.
/// A `new` SKU must be unclaimed; a kept one must still be this product's.
fn variant(sku: &Sku, doc: &VariantSnapshot, new: bool) -> Result<Write> {
    let item = Item::new(&variant_key(sku)).with(PRODUCT_ID, doc.product_id.as_str()).with(DOC, encode(doc)?);
    let condition =
        if new { Condition::NotExists } else { Condition::Equals(PRODUCT_ID.into(), doc.product_id.as_str().into()) };
    Ok(Write::Put { table: Table::Catalog, item, condition: Some(condition) })
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

/// A product as stored, read to be changed: whether its search words are in the index decides
/// what its next save writes.
#[derive(Debug, Clone)]
pub struct StoredProduct {
    pub product: Product,
    indexed: bool,
    categories_indexed: bool,
}

/// A product found by one of its search words, and where a search resumes after it.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub product_id: ProductId,
    /// The indexed word that starts with the needle.
    pub word: String,
    pub resume: PageKey,
}

/// One page of a word's index items and where the next starts.
#[derive(Debug)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next: Option<PageKey>,
}

/// What [`CatalogRepository::reindex_all`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reindexed {
    pub products: usize,
    /// Of those, the ones whose words or categories were not in their index yet.
    pub indexed: usize,
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
        let variants = VariantSnapshot::of(p);
        let mut writes = vec![
            Write::Put { table: Table::Catalog, item: product_item(p)?, condition: Some(Condition::NotExists) },
            slug_claim(p, true),
        ];
        for (sku, doc) in &variants {
            writes.push(variant(sku, doc, true)?);
        }
        // Unconditional, after the claims: a failed condition still names a claim by position.
        writes.extend(search_writes(None, p));
        writes.extend(category_writes(None, p));
        self.store.transact(writes).await.map_err(|e| match e.failed_condition() {
            Some(0) => CatalogError::VersionConflict,
            Some(1) => CatalogError::SlugTaken(p.slug.clone()),
            Some(i) => {
                variants.get(i - 2).map_or(CatalogError::VersionConflict, |(s, _)| CatalogError::SkuTaken(s.clone()))
            }
            None => CatalogError::Store(e),
        })
    }

    /// Creates many products in as few transactions as hold them whole (each product's writes
    /// in one, at most 100 writes a transaction): how a large catalog is seeded quickly through
    /// the store port. All or nothing per transaction.
    ///
    /// # Errors
    /// [`CatalogError::VersionConflict`] when a transaction met a taken id, slug or SKU (which
    /// is not said), or the store's error.
    pub async fn create_products(&self, products: &[Product]) -> Result<()> {
        let mut batch: Vec<Write> = Vec::new();
        for p in products {
            let mut writes = vec![
                Write::Put { table: Table::Catalog, item: product_item(p)?, condition: Some(Condition::NotExists) },
                slug_claim(p, true),
            ];
            for (sku, doc) in &VariantSnapshot::of(p) {
                writes.push(variant(sku, doc, true)?);
            }
            writes.extend(search_writes(None, p));
            writes.extend(category_writes(None, p));
            if batch.len() + writes.len() > nanoshop_store::port::MAX_TRANSACTION_OPS {
                self.transact_batch(std::mem::take(&mut batch)).await?;
            }
            batch.extend(writes);
        }
        if !batch.is_empty() {
            self.transact_batch(batch).await?;
        }
        Ok(())
    }

    async fn transact_batch(&self, writes: Vec<Write>) -> Result<()> {
        self.store.transact(writes).await.map_err(|e| {
            if e.failed_condition().is_some() { CatalogError::VersionConflict } else { CatalogError::Store(e) }
        })
    }

    /// Replaces `old` by `new` (its next version), moving the slug claim, claiming new SKUs,
    /// rewriting kept variants, releasing removed ones and bringing the search index to `new`'s
    /// words, all or nothing.
    ///
    /// # Errors
    /// [`CatalogError::VersionConflict`] if the product changed since `old` was read;
    /// [`CatalogError::SlugTaken`] / [`CatalogError::SkuTaken`] for claims held by others;
    /// [`CatalogError::TooManyWrites`] when all that exceeds one transaction.
    pub async fn replace_product(&self, stored: &StoredProduct, new: &Product) -> Result<()> {
        let old = &stored.product;
        let mut writes = vec![Write::Put {
            table: Table::Catalog,
            item: product_item(new)?,
            condition: Some(Condition::VersionIs(version(old.version))),
        }];
        // What each write's failed condition means, by position; `None` is a lost race.
        let mut meaning: Vec<Option<CatalogError>> = vec![None];
        if old.slug == new.slug {
            // Put again, so it lists the SKUs as they are now.
            writes.push(slug_claim(new, false));
            meaning.push(None);
        } else {
            writes.push(slug_claim(new, true));
            meaning.push(Some(CatalogError::SlugTaken(new.slug.clone())));
            writes.push(release(slug_key(&old.slug), &old.id));
            meaning.push(None);
        }
        let before: BTreeSet<&Sku> = old.skus().collect();
        for (sku, doc) in VariantSnapshot::of(new) {
            let is_new = !before.contains(&sku);
            writes.push(variant(&sku, &doc, is_new)?);
            meaning.push(is_new.then(|| CatalogError::SkuTaken(sku.clone())));
        }
        let after: BTreeSet<&Sku> = new.skus().collect();
        for sku in before.difference(&after) {
            writes.push(release(variant_key(sku), &old.id));
            meaning.push(None);
        }
        writes.extend(search_writes(stored.indexed.then_some(old), new));
        writes.extend(category_writes(stored.categories_indexed.then_some(old), new));
        if writes.len() > nanoshop_store::port::MAX_TRANSACTION_OPS {
            return Err(CatalogError::TooManyWrites {
                writes: writes.len(),
                max: nanoshop_store::port::MAX_TRANSACTION_OPS,
            });
        }
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match e.failed_condition() {
                Some(i) => Err(meaning.get_mut(i).and_then(Option::take).unwrap_or(CatalogError::VersionConflict)),
                None => Err(CatalogError::Store(e)),
            },
        }
    }

    pub async fn product(&self, id: &ProductId) -> Result<Option<Product>> {
        Ok(self.stored_product(id).await?.map(|s| s.product))
    }

    /// The product as stored, to be changed by [`CatalogRepository::replace_product`].
    pub async fn stored_product(&self, id: &ProductId) -> Result<Option<StoredProduct>> {
        let Some(item) = self.store.get(Table::Catalog, &product_key(id)).await? else { return Ok(None) };
        Ok(Some(StoredProduct {
            product: decode(&item)?,
            indexed: item.bool(SEARCH_INDEXED) == Some(true),
            categories_indexed: item.bool(CATEGORIES_INDEXED) == Some(true),
        }))
    }

    /// The products with these ids that exist, in one batch read (duplicates read once).
    pub async fn products(&self, ids: &[&ProductId]) -> Result<Vec<Product>> {
        let unique: BTreeSet<&ProductId> = ids.iter().copied().collect();
        let keys: Vec<Key> = unique.into_iter().map(product_key).collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let items = self.store.batch_get(Table::Catalog, &keys).await?;
        items.iter().map(|i| decode(i).map_err(Into::into)).collect()
    }

    /// Up to `limit` index items of products of `status` with a search word starting with
    /// `needle` (a lower-case word), by word and then newest first, after `after`: one query,
    /// reading only matching items whatever the catalog's size.
    pub async fn search(
        &self,
        status: ProductStatus,
        needle: &str,
        limit: u32,
        after: Option<PageKey>,
    ) -> Result<SearchPage> {
        let mut query = Query::new(Table::Catalog, search_partition(status, needle));
        query.index = Some(Index::Gsi1);
        query.sort_prefix = Some(needle.to_owned());
        query.limit = limit;
        query.after = after;
        let page = self.store.query(&query).await?;
        let hits = page
            .items
            .iter()
            .map(|item| {
                let product_id = product_id_of(item)?;
                let word = item
                    .s(nanoshop_store::port::SK)
                    .and_then(|sk| sk.strip_prefix(SEARCH_WORD_PREFIX))
                    .ok_or_else(|| CorruptItem {
                        key: item.key().map(|k| k.to_string()).unwrap_or_default(),
                        reason: "not a search word".into(),
                    })?
                    .to_owned();
                Ok(SearchHit { product_id, word, resume: PageKey::after(item, Some(Index::Gsi1)) })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchPage { hits, next: page.next })
    }

    /// Up to `limit` ids of products of `status` that name `category`, newest first, older than
    /// `before` (a product id, which need not be in this category): one query of the category's
    /// index partition, reading only its entries however large the catalog. Says whether more
    /// follow the last id returned.
    pub async fn category_entries(
        &self,
        status: ProductStatus,
        category: &Slug,
        limit: u32,
        before: Option<&ProductId>,
    ) -> Result<(Vec<ProductId>, bool)> {
        let mut query = Query::new(Table::Catalog, category_partition(status, category));
        query.index = Some(Index::Gsi1);
        query.descending = true;
        query.limit = limit;
        // Where the entry of `before` in this category is, or would be.
        query.after = before.map(|id| PageKey::after(&category_entry(id, status, category), Some(Index::Gsi1)));
        let page = self.store.query(&query).await?;
        let ids = page.items.iter().map(product_id_of).collect::<Result<Vec<ProductId>, _>>()?;
        Ok((ids, page.next.is_some()))
    }

    /// Puts the search words and category entries of every product whose words or categories
    /// are not in their index yet (stored before that index existed), each in a transaction on
    /// condition that the product is still the version read; a product changed meanwhile was
    /// indexed by that change. Safe to run again, and while the shop serves.
    ///
    /// # Errors
    /// The store failed, or an item is corrupt.
    pub async fn reindex_all(&self) -> Result<Reindexed> {
        let mut done = Reindexed::default();
        for status in [ProductStatus::Draft, ProductStatus::Active, ProductStatus::Archived] {
            let mut after = None;
            loop {
                let mut query = Query::new(Table::Catalog, products_by_status(status));
                query.index = Some(Index::Gsi1);
                query.limit = nanoshop_store::port::MAX_QUERY_LIMIT;
                query.after = after.take();
                let page = self.store.query(&query).await?;
                for item in &page.items {
                    done.products += 1;
                    let words = item.bool(SEARCH_INDEXED) == Some(true);
                    let categories = item.bool(CATEGORIES_INDEXED) == Some(true);
                    if words && categories {
                        continue;
                    }
                    let product: Product = decode(item)?;
                    let mut writes = vec![Write::Update {
                        table: Table::Catalog,
                        update: Update::new(product_key(&product.id))
                            .set(SEARCH_INDEXED, true)
                            .set(CATEGORIES_INDEXED, true)
                            .when(Condition::VersionIs(version(product.version))),
                    }];
                    if !words {
                        writes.extend(search_writes(None, &product));
                    }
                    if !categories {
                        writes.extend(category_writes(None, &product));
                    }
                    match self.store.transact(writes).await {
                        Ok(()) => done.indexed += 1,
                        Err(e) if e.failed_condition().is_some() => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok(done)
    }

    /// The product that holds `slug`, if any, with the stock levels of its SKUs. Two reads: the
    /// claim, then one batch of the product and the stock of the SKUs the claim lists. A third,
    /// [`CatalogRepository::stock_levels`], only when the product has a SKU the claim does not
    /// list (a claim written before claims listed SKUs, or the SKUs changed between the reads).
    pub async fn product_by_slug(&self, slug: &Slug) -> Result<Option<(Product, Vec<(Sku, StockLevel)>)>> {
        let Some(claim) = self.store.get(Table::Catalog, &slug_key(slug)).await? else {
            return Ok(None);
        };
        let id = product_id_of(&claim)?;
        let listed: BTreeSet<Sku> =
            claim.s(SKUS).map(|skus| skus.split(' ').filter_map(|s| s.parse().ok()).collect()).unwrap_or_default();
        let mut keys = vec![product_key(&id)];
        keys.extend(listed.iter().map(stock_key));
        let items = self.store.batch_get(Table::Catalog, &keys).await?;
        let Some(item) = items.iter().find(|i| i.key() == Some(product_key(&id))) else {
            return Ok(None);
        };
        let product: Product = decode(item)?;
        let skus: Vec<&Sku> = product.skus().collect();
        let stock = if skus.iter().all(|sku| listed.contains(*sku)) {
            levels_in(&items, &skus)
        } else {
            self.stock_levels(&skus).await?
        };
        Ok(Some((product, stock)))
    }

    /// Up to `limit` products of one status, newest first, after `after`.
    pub async fn products_by_status(
        &self,
        status: ProductStatus,
        limit: u32,
        after: Option<PageKey>,
    ) -> Result<ProductPage> {
        let mut query = Query::new(Table::Catalog, products_by_status(status));
        query.index = Some(Index::Gsi1);
        query.descending = true;
        query.limit = limit;
        query.after = after;
        let page = self.store.query(&query).await?;
        let products = page.items.iter().map(decode).collect::<Result<Vec<Product>, _>>()?;
        Ok(ProductPage { products, next: page.next })
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
        Ok(levels_in(&items, skus))
    }

    /// Whether some product claims `sku`, and its stored stock, in one batch read.
    pub async fn stock(&self, sku: &Sku) -> Result<Option<StoredStock>> {
        let items = self.store.batch_get(Table::Catalog, &[variant_key(sku), stock_key(sku)]).await?;
        let claimed = items.iter().any(|i| i.key() == Some(variant_key(sku)));
        if !claimed {
            return Ok(None);
        }
        Ok(Some(match items.iter().find(|i| i.key() == Some(stock_key(sku))) {
            Some(item) => StoredStock { level: level_of(item), version: item.n(VERSION).unwrap_or(0), exists: true },
            None => StoredStock { level: StockLevel { on_hand: 0, reserved: 0 }, version: 0, exists: false },
        }))
    }

    /// Sets the units on hand, keeping `available = on_hand - reserved`. Conditional on the
    /// reserved count read, so a reservation made in between is never overwritten.
    ///
    /// # Errors
    /// [`CatalogError::StockChanged`] when the stock item changed since `current` was read.
    pub async fn set_on_hand(&self, sku: &Sku, current: StoredStock, new: StockLevel) -> Result<StoredStock> {
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
            Ok(item) => Ok(StoredStock { level: level_of(&item), version: item.n(VERSION).unwrap_or(0), exists: true }),
            Err(StoreError::ConditionFailed { .. }) => Err(CatalogError::StockChanged { sku: sku.clone() }),
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
        let key = category_key;
        let item =
            Item::new(&key(&category.slug)).with(VERSION, version(category.version)).with(DOC, encode(category)?);
        let condition = previous.map_or(Condition::NotExists, |p| Condition::VersionIs(version(p.version)));
        let mut writes = vec![Write::Put { table: Table::Catalog, item, condition: Some(condition) }];
        writes.extend(ancestors.iter().map(|a| Write::Check {
            table: Table::Catalog,
            key: key(&a.slug),
            condition: Condition::VersionIs(version(a.version)),
        }));
        self.store
            .transact(writes)
            .await
            .map_err(|e| if e.failed_condition().is_some() { CatalogError::CategoryConflict } else { e.into() })
    }

    pub async fn settings(&self) -> Result<StoreSettings> {
        Ok(match self.store.get(Table::Catalog, &settings_key()).await? {
            Some(item) => decode(&item)?,
            None => StoreSettings::default(),
        })
    }

    /// Replaces the settings document if it is still at `previous_version` (0: never written).
    ///
    /// # Errors
    /// [`CatalogError::VersionConflict`] when it changed in between.
    pub async fn put_settings(&self, settings: &StoreSettings, previous_version: u64) -> Result<()> {
        let item = Item::new(&settings_key()).with(VERSION, version(settings.version)).with(DOC, encode(settings)?);
        let condition =
            if previous_version == 0 { Condition::NotExists } else { Condition::VersionIs(version(previous_version)) };
        match self.store.put(Table::Catalog, item, Some(condition)).await {
            Err(StoreError::ConditionFailed { .. }) => Err(CatalogError::VersionConflict),
            other => Ok(other?),
        }
    }
}

/// The stock level of each of `skus` (each once) among `items`; a SKU without its stock item
/// has none on hand.
fn levels_in(items: &[Item], skus: &[&Sku]) -> Vec<(Sku, StockLevel)> {
    let unique: BTreeSet<&Sku> = skus.iter().copied().collect();
    unique
        .into_iter()
        .map(|sku| {
            let key = stock_key(sku);
            let level = items
                .iter()
                .find(|i| i.key().as_ref() == Some(&key))
                .map_or(StockLevel { on_hand: 0, reserved: 0 }, level_of);
            (sku.clone(), level)
        })
        .collect()
}

fn level_of(item: &Item) -> StockLevel {
    StockLevel { on_hand: item.n(ON_HAND).unwrap_or(0), reserved: item.n(RESERVED).unwrap_or(0) }
}

/// The discounts' part of the catalog repository.
impl CatalogRepository {
    fn discount_item(d: &Discount) -> Result<Item> {
        Ok(Item::new(&discount_key(d.code.as_str()))
            .with(GSI1_PK, DISCOUNTS)
            .with(GSI1_SK, d.id.as_str())
            .with(VERSION, version(d.version))
            .with(DOC, encode(d)?))
    }

    /// Creates a discount; its code and id are claimed together.
    ///
    /// # Errors
    /// [`CatalogError::CodeTaken`] when another discount has the code.
    pub async fn create_discount(&self, d: &Discount) -> Result<()> {
        let writes = vec![
            Write::Put {
                table: Table::Catalog,
                item: Self::discount_item(d)?.with(TIMES_USED, 0),
                condition: Some(Condition::NotExists),
            },
            Write::Put {
                table: Table::Catalog,
                item: Item::new(&discount_id_key(&d.id)).with(CODE, d.code.as_str()),
                condition: Some(Condition::NotExists),
            },
        ];
        self.store.transact(writes).await.map_err(|e| match e.failed_condition() {
            Some(0) => CatalogError::CodeTaken(d.code.to_string()),
            Some(_) => CatalogError::VersionConflict,
            None => e.into(),
        })
    }

    /// The discount with this id: its code, then the discount (two reads; admin only).
    pub async fn discount(&self, id: &DiscountId) -> Result<Option<Discount>> {
        let Some(pointer) = self.store.get(Table::Catalog, &discount_id_key(id)).await? else { return Ok(None) };
        let code = pointer.s(CODE).unwrap_or_default().to_owned();
        self.store
            .get(Table::Catalog, &discount_key(&code))
            .await?
            .as_ref()
            .map(decode_discount)
            .transpose()
            .map_err(Into::into)
    }

    /// Discounts newest first.
    pub async fn discounts(&self, limit: u32, after: Option<PageKey>) -> Result<(Vec<Discount>, Option<PageKey>)> {
        let mut query = Query::new(Table::Catalog, DISCOUNTS);
        query.index = Some(Index::Gsi1);
        query.descending = true;
        query.limit = limit;
        query.after = after;
        let page = self.store.query(&query).await?;
        let discounts = page.items.iter().map(decode_discount).collect::<Result<Vec<_>, _>>()?;
        Ok((discounts, page.next))
    }

    /// Replaces the discount's document if it is still at `previous_version`. The use counter is
    /// not touched: checkout increments it concurrently.
    ///
    /// # Errors
    /// [`CatalogError::VersionConflict`] when it changed in between.
    pub async fn replace_discount(&self, d: &Discount, previous_version: u64) -> Result<()> {
        let update = Update::new(discount_key(d.code.as_str()))
            .set(VERSION, version(d.version))
            .set(DOC, encode(d)?)
            .when(Condition::VersionIs(version(previous_version)));
        match self.store.update(Table::Catalog, update).await {
            Err(StoreError::ConditionFailed { .. }) => Err(CatalogError::VersionConflict),
            other => other.map(drop).map_err(Into::into),
        }
    }

    pub fn discount_page_key(d: &Discount) -> Result<PageKey> {
        Ok(PageKey::after(&Self::discount_item(d)?, Some(Index::Gsi1)))
    }
}
