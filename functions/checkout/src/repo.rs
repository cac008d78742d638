//! The checkout's reads and writes: the idempotency record, cart and saved addresses in one batch,
//! the catalog snapshot in another, and the three transactions: reserve-and-create (which also
//! claims the idempotency key and the order number), give-it-all-back, and the intent recorded
//! with the answer.

use std::sync::Arc;

use nanoshop_domain::cart::{Cart, CartStatus};
use nanoshop_domain::catalog::Sku;
use nanoshop_domain::customer::SavedAddress;
use nanoshop_domain::ids::{AddressId, CartId, OrderId};
use nanoshop_domain::order::Order;
use nanoshop_domain::quote::CatalogSnapshot;
use nanoshop_schema::carts::{CART_ID, cart_key, customer_cart_key};
use nanoshop_schema::catalog::{StockMove, TIMES_USED, discount_key, discount_use_key, read_snapshot};
use nanoshop_schema::customers::address_key;
use nanoshop_schema::orders::{
    ORDER_ID, ORDER_NUMBER_CLAIM_SECS, intent_key, order_key, order_number_key, order_writes,
};
use nanoshop_schema::{CorruptItem, DOC, ReadError, decode, encode};
use nanoshop_store::port::{EXPIRES_AT, VERSION, now_unix};
use nanoshop_store::{Condition, Item, Key, Store, StoreError, Table, Update, Value, Write};

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
}

impl From<ReadError> for RepoError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Store(e) => Self::Store(e),
            ReadError::Corrupt(e) => Self::Corrupt(e),
        }
    }
}

pub type Result<T, E = RepoError> = std::result::Result<T, E>;

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn cart_write(cart: &Cart, previous_version: u64) -> Result<Write> {
    let item = Item::new(&cart_key(&cart.id))
        .with(VERSION, version(cart.version))
        .with(EXPIRES_AT, cart.expires_at().timestamp())
        .with(DOC, encode(cart)?);
    Ok(Write::Put { table: Table::Carts, item, condition: Some(Condition::VersionIs(version(previous_version))) })
}

/// Which write of the reservation transaction failed, by meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveFailure {
    /// Not enough available units of this SKU.
    OutOfStock(Sku),
    /// The cart changed or was checked out meanwhile.
    CartChanged,
    /// The discount's use count changed (a limited code), or this customer used it meanwhile.
    DiscountChanged,
    /// The idempotency key was claimed by another request under it, or its lease lost to a retry.
    LeaseLost,
    /// Another order took this order's number (the same second and the same 20 bits of chance).
    NumberTaken,
}

/// The write that makes an order's number its own: the number names the second the order was
/// placed, so no later order can draw it again and the claim need only outlive clock skew.
fn number_claim(order: &Order) -> Write {
    let item = Item::new(&order_number_key(&order.number))
        .with(ORDER_ID, order.id.as_str())
        .with(EXPIRES_AT, now_unix() + ORDER_NUMBER_CLAIM_SECS);
    Write::Put { table: Table::Orders, item, condition: Some(Condition::NotExists) }
}

/// What the reservation transaction writes besides stock, order and cart.
#[derive(Debug)]
pub struct Extras {
    /// The idempotency record update naming the order.
    pub attach: Write,
    /// The discount code used and, for limited codes, the use count read.
    pub discount: Option<(String, Option<u32>)>,
    /// For once-per-customer codes: who used it (customer id or e-mail).
    pub discount_user: Option<String>,
}

/// What checkout reads first, in one round trip.
#[derive(Debug, Default)]
pub struct FirstRead {
    /// The idempotency record, when asked for and present.
    pub record: Option<Item>,
    pub cart: Option<Cart>,
    /// The saved addresses found of those asked for.
    pub saved: Vec<SavedAddress>,
}

#[derive(Debug, Clone)]
pub struct CheckoutRepository {
    store: Arc<dyn Store>,
}

impl CheckoutRepository {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The idempotency record at `record` (when given), the cart, and the saved addresses among
    /// `ids` that are in `customer`'s address book: one batch read across the idempotency and
    /// carts tables (the address book lives beside the carts, `nanoshop_schema::customers`). An
    /// id of another customer's address is looked up under `customer` and so never found.
    pub async fn first_read(
        &self,
        record: Option<&Key>,
        id: &CartId,
        customer: Option<&str>,
        ids: &[AddressId],
    ) -> Result<FirstRead> {
        let cart = cart_key(id);
        let mut keys: Vec<(Table, Key)> = record.map(|k| (Table::Idempotency, k.clone())).into_iter().collect();
        keys.push((Table::Carts, cart.clone()));
        if let Some(customer) = customer {
            keys.extend(ids.iter().map(|a| (Table::Carts, address_key(customer, a))));
        }
        let mut read = FirstRead::default();
        for (table, item) in self.store.batch_get_across(&keys).await? {
            match table {
                Table::Idempotency => read.record = Some(item),
                _ if item.key().as_ref() == Some(&cart) => read.cart = Some(decode(&item)?),
                _ => read.saved.push(decode::<SavedAddress>(&item)?),
            }
        }
        Ok(read)
    }

    pub async fn order(&self, id: &OrderId) -> Result<Option<Order>> {
        Ok(self.store.get(Table::Orders, &order_key(id)).await?.as_ref().map(decode).transpose()?)
    }

    pub async fn catalog(&self, cart: &Cart) -> Result<CatalogSnapshot> {
        let skus: Vec<&Sku> = cart.skus().collect();
        let customer = cart.customer_id.as_deref();
        Ok(read_snapshot(self.store.as_ref(), &skus, cart.discount_code.as_deref(), customer).await?)
    }

    /// The one transaction of a checkout: the idempotency record naming the order (first, so a
    /// request that lost the key to another under it is told so whatever else changed), every
    /// line's stock reserved on condition it is available, the order created with its number
    /// claimed, the cart marked checked out on condition of the version priced, the discount's
    /// use counted, the customer's cart pointer cleared. All of it, or none.
    ///
    /// # Errors
    /// `Ok(Err(failure))` names the first condition that failed.
    pub async fn reserve(
        &self,
        order: &Order,
        cart: &Cart,
        checked_out: &Cart,
        extras: &Extras,
    ) -> Result<Result<(), ReserveFailure>> {
        let mut writes = Vec::with_capacity(order.lines.len() + 7);
        let mut meaning = Vec::with_capacity(writes.capacity());
        writes.push(extras.attach.clone());
        meaning.push(ReserveFailure::LeaseLost);
        for line in &order.lines {
            writes.push(StockMove::Reserve.write(&line.sku, line.quantity));
            meaning.push(ReserveFailure::OutOfStock(line.sku.clone()));
        }
        // The order and its listing entries; only the order has a condition.
        for write in order_writes(None, order)? {
            writes.push(write);
            meaning.push(ReserveFailure::LeaseLost);
        }
        writes.push(number_claim(order));
        meaning.push(ReserveFailure::NumberTaken);
        writes.push(cart_write(checked_out, cart.version)?);
        meaning.push(ReserveFailure::CartChanged);
        if let Some((code, times_used)) = &extras.discount {
            let mut count = Update::new(discount_key(code)).add(TIMES_USED, 1);
            // Only limited codes need the count they were checked against; others just count.
            count = count.when(match times_used {
                Some(n) => Condition::Equals(TIMES_USED.into(), Value::N(i64::from(*n))),
                None => Condition::Exists,
            });
            writes.push(Write::Update { table: Table::Catalog, update: count });
            meaning.push(ReserveFailure::DiscountChanged);
            if let Some(user) = &extras.discount_user {
                writes.push(Write::Put {
                    table: Table::Catalog,
                    item: Item::new(&discount_use_key(code, user)).with(ORDER_ID, order.id.as_str()),
                    condition: Some(Condition::NotExists),
                });
                meaning.push(ReserveFailure::DiscountChanged);
            }
        }
        if let Some(customer) = &cart.customer_id {
            writes.push(Write::Delete {
                table: Table::Carts,
                key: customer_cart_key(customer),
                condition: Some(Condition::Equals(CART_ID.into(), cart.id.as_str().into())),
            });
            meaning.push(ReserveFailure::CartChanged);
        }
        match self.store.transact(writes).await {
            Ok(()) => Ok(Ok(())),
            Err(e) => match e.failed_condition() {
                Some(i) => Ok(Err(meaning.swap_remove(i))),
                None => Err(e.into()),
            },
        }
    }

    /// Undoes a reservation whose payment could not be set up: the order cancelled, its stock
    /// released, the cart open again, the discount use given back. Conditional on the order
    /// being the one reserved, so it happens once.
    pub async fn release(
        &self,
        reserved: &Order,
        abandoned: &Order,
        checked_out: &Cart,
        extras: &Extras,
        key: Option<Write>,
    ) -> Result<()> {
        let mut writes = StockMove::Release.of_order(reserved);
        // The idempotency key given back in the same breath, so a retry starts afresh.
        writes.extend(key);
        writes.extend(order_writes(Some(reserved), abandoned)?);
        let reopened = Cart { status: CartStatus::Active, ..checked_out.clone() }.touched(chrono::Utc::now());
        writes.push(cart_write(&reopened, checked_out.version)?);
        if let Some((code, _)) = &extras.discount {
            writes.push(Write::Update {
                table: Table::Catalog,
                update: Update::new(discount_key(code)).add(TIMES_USED, -1),
            });
            if let Some(user) = &extras.discount_user {
                writes.push(Write::Delete {
                    table: Table::Catalog,
                    key: discount_use_key(code, user),
                    condition: None,
                });
            }
        }
        if let Some(customer) = &checked_out.customer_id {
            // Point the customer at the reopened cart again. Unconditional, because this release
            // must not fail; a cart the customer started in the second since checkout began would
            // lose its pointer, which is the smaller harm.
            let pointer = Item::new(&customer_cart_key(customer)).with(CART_ID, checked_out.id.as_str());
            writes.push(Write::Put { table: Table::Carts, item: pointer, condition: None });
        }
        self.store.transact(writes).await?;
        Ok(())
    }

    /// Records the PaymentIntent on the order, points the intent at the order, and finishes the
    /// idempotent request, in one transaction.
    pub async fn attach_intent(&self, previous: &Order, order: &Order, intent_id: &str, finish: Write) -> Result<()> {
        let mut writes = order_writes(Some(previous), order)?;
        writes.extend([
            Write::Put {
                table: Table::Orders,
                item: Item::new(&intent_key(intent_id)).with(ORDER_ID, order.id.as_str()),
                condition: None,
            },
            finish,
        ]);
        self.store.transact(writes).await?;
        Ok(())
    }
}
