//! Every read and write of the cart function: its carts and customer pointers in the carts table,
//! and the catalog items pricing needs, read in one batch.

use std::collections::BTreeSet;
use std::sync::Arc;

use nanoshop_domain::catalog::{Sku, StockLevel};
use nanoshop_domain::discount::Discount;
use nanoshop_domain::ids::CartId;
use nanoshop_domain::settings::StoreSettings;
use nanoshop_schema::carts::{CART_ID, cart_key, customer_cart_key};
use nanoshop_schema::catalog::{
    ON_HAND, RESERVED, VariantDoc, decode_discount, discount_key, discount_use_key, settings_key, stock_key,
    variant_key,
};
use nanoshop_schema::{CorruptItem, DOC, decode, encode};
use nanoshop_store::port::{EXPIRES_AT, VERSION};
use nanoshop_store::{Condition, Item, Key, Store, StoreError, Table, Write};

use crate::model::StoredCart;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The cart changed since it was read (or, for a new cart, its id or pointer was taken).
    #[error("the cart changed since it was read")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
}

pub type Result<T, E = RepoError> = std::result::Result<T, E>;

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn cart_item(cart: &StoredCart) -> Result<Item> {
    Ok(Item::new(&cart_key(&cart.id))
        .with(VERSION, version(cart.version))
        .with(EXPIRES_AT, cart.expires_at().timestamp())
        .with(DOC, encode(cart)?))
}

/// What pricing needs from the catalog, read in one batch.
#[derive(Debug, Clone, Default)]
pub struct CatalogSnapshot {
    pub settings: StoreSettings,
    pub variants: Vec<(Sku, VariantDoc)>,
    pub stock: Vec<(Sku, StockLevel)>,
    pub discount: Option<Discount>,
    /// Whether the cart's customer has already used the discount (for once-per-customer codes).
    pub discount_used: bool,
}

impl CatalogSnapshot {
    pub fn variant(&self, sku: &Sku) -> Option<&VariantDoc> {
        self.variants.iter().find(|(s, _)| s == sku).map(|(_, v)| v)
    }

    /// Units of `sku` that may still be sold; a SKU without a stock item has none.
    pub fn available(&self, sku: &Sku) -> i64 {
        self.stock.iter().find(|(s, _)| s == sku).map_or(0, |(_, l)| l.available())
    }
}

/// The cart function's storage.
#[derive(Debug, Clone)]
pub struct CartRepository {
    store: Arc<dyn Store>,
}

impl CartRepository {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The live cart with this id (expired carts are gone).
    pub async fn cart(&self, id: &CartId) -> Result<Option<StoredCart>> {
        let item = self.store.get(Table::Carts, &cart_key(id)).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }

    /// Stores a new guest cart.
    pub async fn create(&self, cart: &StoredCart) -> Result<()> {
        match self.store.put(Table::Carts, cart_item(cart)?, Some(Condition::NotExists)).await {
            Err(StoreError::ConditionFailed { .. }) => Err(RepoError::Conflict),
            other => Ok(other?),
        }
    }

    /// Stores a new customer cart and points the customer at it, replacing a pointer only if it
    /// still names `previous` and that cart is gone (expired): one active cart per customer,
    /// even when two sessions create one at once.
    pub async fn create_for_customer(
        &self,
        cart: &StoredCart,
        customer: &str,
        previous: Option<&CartId>,
    ) -> Result<()> {
        let pointer = Item::new(&customer_cart_key(customer)).with(CART_ID, cart.id.as_str());
        let mut writes =
            vec![Write::Put { table: Table::Carts, item: cart_item(cart)?, condition: Some(Condition::NotExists) }];
        match previous {
            None => {
                writes.push(Write::Put { table: Table::Carts, item: pointer, condition: Some(Condition::NotExists) })
            }
            Some(old) => {
                writes.push(Write::Put {
                    table: Table::Carts,
                    item: pointer,
                    condition: Some(Condition::Equals(CART_ID.into(), old.as_str().into())),
                });
                writes.push(Write::Check { table: Table::Carts, key: cart_key(old), condition: Condition::NotExists });
            }
        }
        self.transact(writes).await
    }

    /// Replaces the cart by `next` if it is still at `previous_version`.
    pub async fn save(&self, next: &StoredCart, previous_version: u64) -> Result<()> {
        match self
            .store
            .put(Table::Carts, cart_item(next)?, Some(Condition::VersionIs(version(previous_version))))
            .await
        {
            Err(StoreError::ConditionFailed { .. }) => Err(RepoError::Conflict),
            other => Ok(other?),
        }
    }

    /// Saves two carts at once (a claim: the guest cart merged into the customer's), each on
    /// condition of the version it was read at.
    pub async fn save_both(&self, a: (&StoredCart, u64), b: (&StoredCart, u64)) -> Result<()> {
        let write = |(cart, previous): (&StoredCart, u64)| -> Result<Write> {
            Ok(Write::Put {
                table: Table::Carts,
                item: cart_item(cart)?,
                condition: Some(Condition::VersionIs(version(previous))),
            })
        };
        self.transact(vec![write(a)?, write(b)?]).await
    }

    /// Saves a guest cart that now belongs to `customer` and points the customer at it.
    pub async fn adopt(
        &self,
        cart: &StoredCart,
        previous_version: u64,
        customer: &str,
        previous: Option<&CartId>,
    ) -> Result<()> {
        let pointer = Item::new(&customer_cart_key(customer)).with(CART_ID, cart.id.as_str());
        let mut writes = vec![Write::Put {
            table: Table::Carts,
            item: cart_item(cart)?,
            condition: Some(Condition::VersionIs(version(previous_version))),
        }];
        match previous {
            None => {
                writes.push(Write::Put { table: Table::Carts, item: pointer, condition: Some(Condition::NotExists) })
            }
            Some(old) => {
                writes.push(Write::Put {
                    table: Table::Carts,
                    item: pointer,
                    condition: Some(Condition::Equals(CART_ID.into(), old.as_str().into())),
                });
                writes.push(Write::Check { table: Table::Carts, key: cart_key(old), condition: Condition::NotExists });
            }
        }
        self.transact(writes).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<()> {
        match self.store.transact(writes).await {
            Err(e) if e.failed_condition().is_some() => Err(RepoError::Conflict),
            other => Ok(other?),
        }
    }

    /// The id the customer's pointer names, if any (its cart may have expired since).
    pub async fn customer_cart_id(&self, customer: &str) -> Result<Option<CartId>> {
        let item = self.store.get(Table::Carts, &customer_cart_key(customer)).await?;
        Ok(item.and_then(|i| i.s(CART_ID).and_then(|s| s.parse().ok())))
    }

    /// Settings, the variants and stock of `skus`, and the discount `code` (with whether
    /// `customer` has used it), in one batch read of the catalog table.
    pub async fn catalog(&self, skus: &[&Sku], code: Option<&str>, customer: Option<&str>) -> Result<CatalogSnapshot> {
        let skus: BTreeSet<&Sku> = skus.iter().copied().collect();
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
        let items = self.store.batch_get(Table::Catalog, &keys).await?;
        let find = |key: &Key| items.iter().find(|i| i.key().as_ref() == Some(key));
        let mut snapshot = CatalogSnapshot {
            settings: find(&settings_key()).map(decode).transpose()?.unwrap_or_default(),
            ..CatalogSnapshot::default()
        };
        for sku in skus {
            if let Some(item) = find(&variant_key(sku)) {
                snapshot.variants.push((sku.clone(), decode(item)?));
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
}
