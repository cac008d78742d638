//! Every read and write of the cart function: its carts and customer pointers in the carts table,
//! and the catalog items pricing needs, read in one batch.

use std::sync::Arc;

use nanoshop_domain::cart::Cart;
use nanoshop_domain::catalog::Sku;
use nanoshop_domain::ids::CartId;
use nanoshop_domain::quote::CatalogSnapshot;
use nanoshop_schema::carts::{CART_ID, cart_key, customer_cart_key};
use nanoshop_schema::catalog::read_snapshot;
use nanoshop_schema::{CorruptItem, DOC, ReadError, decode, encode};
use nanoshop_store::port::{EXPIRES_AT, VERSION};
use nanoshop_store::{Condition, Item, Store, StoreError, Table, Write};

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

fn cart_item(cart: &Cart) -> Result<Item> {
    Ok(Item::new(&cart_key(&cart.id))
        .with(VERSION, version(cart.version))
        .with(EXPIRES_AT, cart.expires_at().timestamp())
        .with(DOC, encode(cart)?))
}

/// The writes that point `customer` at `cart`: where no pointer exists, or where it still names
/// `previous` and that cart is gone (expired), so one customer never ends up with two active carts
/// even when two sessions race.
fn point_customer(customer: &str, cart: &CartId, previous: Option<&CartId>) -> Vec<Write> {
    let pointer = Item::new(&customer_cart_key(customer)).with(CART_ID, cart.as_str());
    match previous {
        None => vec![Write::Put { table: Table::Carts, item: pointer, condition: Some(Condition::NotExists) }],
        Some(old) => vec![
            Write::Put {
                table: Table::Carts,
                item: pointer,
                condition: Some(Condition::Equals(CART_ID.into(), old.as_str().into())),
            },
            Write::Check { table: Table::Carts, key: cart_key(old), condition: Condition::NotExists },
        ],
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
    pub async fn cart(&self, id: &CartId) -> Result<Option<Cart>> {
        let item = self.store.get(Table::Carts, &cart_key(id)).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }

    /// Stores a new guest cart.
    pub async fn create(&self, cart: &Cart) -> Result<()> {
        match self.store.put(Table::Carts, cart_item(cart)?, Some(Condition::NotExists)).await {
            Err(StoreError::ConditionFailed { .. }) => Err(RepoError::Conflict),
            other => Ok(other?),
        }
    }

    /// Stores a new customer cart and points the customer at it, replacing a pointer only if it
    /// still names `previous` and that cart is gone (expired): one active cart per customer,
    /// even when two sessions create one at once.
    pub async fn create_for_customer(&self, cart: &Cart, customer: &str, previous: Option<&CartId>) -> Result<()> {
        let mut writes =
            vec![Write::Put { table: Table::Carts, item: cart_item(cart)?, condition: Some(Condition::NotExists) }];
        writes.extend(point_customer(customer, &cart.id, previous));
        self.transact(writes).await
    }

    /// Replaces the cart by `next` if it is still at `previous_version`.
    pub async fn save(&self, next: &Cart, previous_version: u64) -> Result<()> {
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
    pub async fn save_both(&self, a: (&Cart, u64), b: (&Cart, u64)) -> Result<()> {
        let write = |(cart, previous): (&Cart, u64)| -> Result<Write> {
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
        cart: &Cart,
        previous_version: u64,
        customer: &str,
        previous: Option<&CartId>,
    ) -> Result<()> {
        let mut writes = vec![Write::Put {
            table: Table::Carts,
            item: cart_item(cart)?,
            condition: Some(Condition::VersionIs(version(previous_version))),
        }];
        writes.extend(point_customer(customer, &cart.id, previous));
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

    /// Everything pricing needs from the catalog, in one batch read.
    pub async fn catalog(&self, skus: &[&Sku], code: Option<&str>, customer: Option<&str>) -> Result<CatalogSnapshot> {
        read_snapshot(self.store.as_ref(), skus, code, customer).await.map_err(|e| match e {
            ReadError::Store(e) => RepoError::Store(e),
            ReadError::Corrupt(e) => RepoError::Corrupt(e),
        })
    }
}
