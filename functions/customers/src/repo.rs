//! Every read and write of the customers function: the customer's item collection in the carts
//! table (profile, saved addresses, cart pointer; `nanoshop_schema::customers`), the profiles the
//! e-mail index finds, and the customer's orders in the orders table (their listing, and the
//! anonymising writes of an erasure).
//!
//! Concurrency: the profile item carries two guards. `version` changes exactly when the profile
//! document does (it is the `ETag`), and `address_count` changes with every address added or
//! removed. Every write that depends on a read is conditional on the guards it read, so two
//! writers never both succeed on the same state: the loser gets [`RepoError::Conflict`] and the
//! handler reads again.

use std::sync::Arc;

use nanoshop_domain::cart::Cart;
use nanoshop_domain::customer::{Profile, SavedAddress};
use nanoshop_domain::ids::{AddressId, CartId, OrderId};
use nanoshop_domain::order::Order;
use nanoshop_schema::carts::{CART_ID, cart_key, customer_cart_key};
use nanoshop_schema::customers::{
    ADDRESS_COUNT, ADDRESS_PREFIX, address_key, customer_pk, email_index_pk, profile_key,
};
use nanoshop_schema::orders::{ORDER_ID, customer_listing, email_listing, order_key, order_writes};
use nanoshop_schema::{CorruptItem, DOC, decode, encode};
use nanoshop_store::port::{GSI1_PK, GSI1_SK, MAX_QUERY_LIMIT, MAX_TRANSACTION_OPS, VERSION};
use nanoshop_store::{Condition, Index, Item, Key, Query, Store, StoreError, Table, Update, Value, Write};

use crate::erase::anonymised;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The profile, the address book or an order changed since it was read.
    #[error("the account changed since it was read")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
}

pub type Result<T, E = RepoError> = std::result::Result<T, E>;

/// The profile as read, with the guards a write that depends on it is conditional on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredProfile {
    pub profile: Profile,
    /// 0 when no profile is stored: the `ETag` of the empty profile a new customer sees.
    pub version: u64,
    pub address_count: i64,
    pub exists: bool,
}

impl StoredProfile {
    fn of(item: &Item) -> Result<Self> {
        Ok(Self {
            profile: decode(item)?,
            version: item.n(VERSION).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
            address_count: item.n(ADDRESS_COUNT).unwrap_or(0),
            exists: true,
        })
    }
}

/// Everything the customer's item collection holds.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub profile: StoredProfile,
    /// Oldest first (address ids sort by creation).
    pub addresses: Vec<SavedAddress>,
    /// The customer's cart, as the cart function's pointer names it.
    pub cart_id: Option<CartId>,
    /// Every key of the collection, for an erasure.
    keys: Vec<Key>,
}

impl Account {
    /// Whether nothing at all is stored for the customer.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What changes on the profile item with an address-book write.
#[derive(Debug, Clone, Copy)]
pub struct BookChange<'a> {
    /// The profile's new document, when its defaults change (or it is created).
    pub profile: Option<&'a Profile>,
    /// Addresses added (1), removed (-1) or neither (0).
    pub count: i64,
}

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The update of the profile item for `change`, on condition that it is as `read`: created only
/// where none exists; otherwise at the version read, and at the count read when the count moves
/// or an address is removed. The e-mail index attributes follow the document.
fn profile_update(
    sub: &str,
    read: &StoredProfile,
    doc: Option<&Profile>,
    count: i64,
    guard_count: bool,
) -> Result<Update> {
    let mut update = Update::new(profile_key(sub));
    // A profile is created with its document, even one that is still empty.
    let doc = doc.or((!read.exists).then_some(&read.profile));
    if let Some(profile) = doc {
        update = update.set(DOC, encode(profile)?);
        update = match &profile.email {
            Some(email) => update.set(GSI1_PK, email_index_pk(email.as_str())).set(GSI1_SK, sub),
            None => update.remove(GSI1_PK).remove(GSI1_SK),
        };
    }
    if read.exists {
        if doc.is_some() {
            update = update.add(VERSION, 1);
        }
        if count != 0 {
            update = update.add(ADDRESS_COUNT, count);
        }
        let at_version = Condition::VersionIs(version(read.version));
        Ok(update.when(if guard_count || count != 0 {
            Condition::And(vec![at_version, Condition::Equals(ADDRESS_COUNT.into(), Value::N(read.address_count))])
        } else {
            at_version
        }))
    } else {
        Ok(update.set(VERSION, 1).set(ADDRESS_COUNT, count.max(0)).when(Condition::NotExists))
    }
}

fn conflict_on_condition(e: StoreError) -> RepoError {
    if e.is_condition_failed() || e.failed_condition().is_some() { RepoError::Conflict } else { RepoError::Store(e) }
}

/// The customers function's storage.
#[derive(Debug, Clone)]
pub struct CustomerRepository {
    store: Arc<dyn Store>,
}

impl CustomerRepository {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The customer's profile (an empty one, at version 0, when none is stored): one get.
    pub async fn profile(&self, sub: &str) -> Result<StoredProfile> {
        match self.store.get(Table::Carts, &profile_key(sub)).await? {
            Some(item) => StoredProfile::of(&item),
            None => Ok(StoredProfile::default()),
        }
    }

    /// The profile and one saved address: one batch read.
    pub async fn profile_and_address(
        &self,
        sub: &str,
        id: &AddressId,
    ) -> Result<(StoredProfile, Option<SavedAddress>)> {
        let (profile_key, address_key) = (profile_key(sub), address_key(sub, id));
        let items = self.store.batch_get(Table::Carts, &[profile_key.clone(), address_key]).await?;
        let mut stored = StoredProfile::default();
        let mut address = None;
        for item in &items {
            if item.key().as_ref() == Some(&profile_key) {
                stored = StoredProfile::of(item)?;
            } else {
                address = Some(decode(item)?);
            }
        }
        Ok((stored, address))
    }

    /// The whole item collection: profile, addresses and cart pointer, in one query (it holds at
    /// most the 20 addresses and two items more, well within a page).
    pub async fn account(&self, sub: &str) -> Result<Account> {
        let mut account = Account::default();
        let (profile_sk, pointer_sk) = (profile_key(sub).sk, customer_cart_key(sub).sk);
        let mut query = Query::new(Table::Carts, customer_pk(sub));
        query.limit = MAX_QUERY_LIMIT;
        loop {
            let page = self.store.query(&query).await?;
            for item in &page.items {
                let Some(key) = item.key() else { continue };
                if key.sk == profile_sk {
                    account.profile = StoredProfile::of(item)?;
                } else if key.sk.starts_with(ADDRESS_PREFIX) {
                    account.addresses.push(decode(item)?);
                } else if key.sk == pointer_sk {
                    account.cart_id = item.s(CART_ID).and_then(|id| id.parse().ok());
                }
                account.keys.push(key);
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(account),
            }
        }
    }

    /// Writes the profile document `next` over `read`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the profile changed since `read`.
    pub async fn save_profile(&self, sub: &str, read: &StoredProfile, next: &Profile) -> Result<()> {
        let update = profile_update(sub, read, Some(next), 0, false)?;
        self.store.update(Table::Carts, update).await.map(drop).map_err(conflict_on_condition)
    }

    /// Adds `saved` to the address book and applies `change` to the profile, in one transaction.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the profile or the count changed since `read`.
    pub async fn add_address(
        &self,
        sub: &str,
        read: &StoredProfile,
        saved: &SavedAddress,
        change: BookChange<'_>,
    ) -> Result<()> {
        let item = Item::new(&address_key(sub, &saved.id)).with(DOC, encode(saved)?);
        let writes = vec![
            Write::Put { table: Table::Carts, item, condition: Some(Condition::NotExists) },
            Write::Update {
                table: Table::Carts,
                update: profile_update(sub, read, change.profile, change.count, true)?,
            },
        ];
        self.store.transact(writes).await.map_err(conflict_on_condition)
    }

    /// Replaces the saved address (which must still exist) and, when its defaults changed, the
    /// profile: one write, or one transaction of two.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the address is gone or the profile changed since `read`.
    pub async fn change_address(
        &self,
        sub: &str,
        read: &StoredProfile,
        saved: &SavedAddress,
        profile: Option<&Profile>,
    ) -> Result<()> {
        let item = Item::new(&address_key(sub, &saved.id)).with(DOC, encode(saved)?);
        match profile {
            None => self.store.put(Table::Carts, item, Some(Condition::Exists)).await.map_err(conflict_on_condition),
            Some(next) => {
                let writes = vec![
                    Write::Put { table: Table::Carts, item, condition: Some(Condition::Exists) },
                    Write::Update { table: Table::Carts, update: profile_update(sub, read, Some(next), 0, false)? },
                ];
                self.store.transact(writes).await.map_err(conflict_on_condition)
            }
        }
    }

    /// Deletes the saved address and applies `change` to the profile, in one transaction, on
    /// condition of the version read as well: a concurrent change that made this address a
    /// default must be seen before the address goes.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the address is gone or the profile changed since `read`.
    pub async fn remove_address(
        &self,
        sub: &str,
        read: &StoredProfile,
        id: &AddressId,
        change: BookChange<'_>,
    ) -> Result<()> {
        let writes = vec![
            Write::Delete { table: Table::Carts, key: address_key(sub, id), condition: Some(Condition::Exists) },
            Write::Update {
                table: Table::Carts,
                update: profile_update(sub, read, change.profile, change.count, true)?,
            },
        ];
        self.store.transact(writes).await.map_err(conflict_on_condition)
    }

    /// The profiles whose e-mail is `email` (normalised), with their subjects: one query of the
    /// e-mail index (eventually consistent, as every index is).
    pub async fn by_email(&self, email: &str) -> Result<Vec<(String, Profile)>> {
        let mut query = Query::new(Table::Carts, email_index_pk(email));
        query.index = Some(Index::Gsi1);
        let page = self.store.query(&query).await?;
        page.items
            .iter()
            .filter_map(|item| Some((item.s(GSI1_SK)?.to_owned(), item)))
            .map(|(sub, item)| Ok((sub, decode(item)?)))
            .collect()
    }

    /// The customer's cart, if its pointer names a live one: one get.
    pub async fn cart(&self, id: &CartId) -> Result<Option<Cart>> {
        let item = self.store.get(Table::Carts, &cart_key(id)).await?;
        Ok(item.as_ref().map(decode).transpose()?)
    }

    /// Every order the customer placed, newest first: per 100 orders, one query of their listing
    /// and one batch read.
    pub async fn orders(&self, sub: &str) -> Result<Vec<Order>> {
        let mut orders = Vec::new();
        let mut query = Query::new(Table::Orders, customer_listing(sub));
        query.descending = true;
        loop {
            let page = self.store.query(&query).await?;
            let keys: Vec<Key> = page.items.iter().filter_map(listed_order).map(|id| order_key(&id)).collect();
            if !keys.is_empty() {
                for item in self.store.batch_get(Table::Orders, &keys).await? {
                    orders.push(decode(&item)?);
                }
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(orders),
            }
        }
    }

    /// Anonymises every order the customer placed ([`anonymised`]) and takes them out of the
    /// customer's and the e-mail's listings, so a second erasure finds nothing to do. Per 100
    /// orders: one query, one batch read, and one transaction per 33 orders (each order is its
    /// write on condition of its version, and the two listing deletes).
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when an order changed while it was being anonymised; what was done
    /// stays done, and calling again continues.
    pub async fn anonymise_orders(&self, sub: &str, now: chrono::DateTime<chrono::Utc>) -> Result<usize> {
        let mut done = 0;
        loop {
            // Always the first page: the entries of the page before are gone.
            let mut query = Query::new(Table::Orders, customer_listing(sub));
            query.limit = 100;
            let page = self.store.query(&query).await?;
            if page.items.is_empty() {
                return Ok(done);
            }
            let ids: Vec<OrderId> = page.items.iter().filter_map(listed_order).collect();
            let keys: Vec<Key> = ids.iter().map(order_key).collect();
            let found: Vec<Order> =
                self.store.batch_get(Table::Orders, &keys).await?.iter().map(decode).collect::<Result<_, _>>()?;
            let mut groups = Vec::with_capacity(ids.len());
            for id in &ids {
                // The listing entry goes either way; an order that is gone has nothing to anonymise.
                let mut writes = vec![Write::Delete {
                    table: Table::Orders,
                    key: Key::new(customer_listing(sub), id.as_str()),
                    condition: None,
                }];
                if let Some(order) = found.iter().find(|o| &o.id == id && o.customer_id.as_deref() == Some(sub)) {
                    if !order.email.is_empty() {
                        writes.push(Write::Delete {
                            table: Table::Orders,
                            key: Key::new(email_listing(&order.email), id.as_str()),
                            condition: None,
                        });
                    }
                    writes.extend(order_writes(Some(order), &anonymised(order, now))?);
                    done += 1;
                }
                groups.push(writes);
            }
            for transaction in packed(groups) {
                self.store.transact(transaction).await.map_err(conflict_on_condition)?;
            }
            if page.next.is_none() {
                return Ok(done);
            }
        }
    }

    /// Deletes everything in the customer's item collection, and the cart its pointer names: one
    /// transaction (at most 20 addresses, the profile, the pointer and the cart), none when there
    /// is nothing. The profile goes on condition that it is as `account` read it, so an address
    /// saved meanwhile (which moves the profile's count) is not left behind.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the account changed since it was read.
    pub async fn erase(&self, sub: &str, account: &Account) -> Result<()> {
        let read = &account.profile;
        let guard = Condition::And(vec![
            Condition::VersionIs(version(read.version)),
            Condition::Equals(ADDRESS_COUNT.into(), Value::N(read.address_count)),
        ]);
        let profile = profile_key(sub);
        let mut writes: Vec<Write> = account
            .keys
            .iter()
            .map(|key| {
                let condition = (*key == profile).then(|| guard.clone());
                Write::Delete { table: Table::Carts, key: key.clone(), condition }
            })
            .collect();
        if let Some(cart) = &account.cart_id {
            writes.push(Write::Delete { table: Table::Carts, key: cart_key(cart), condition: None });
        }
        // Never more than one transaction: 20 addresses, the profile, the pointer and the cart.
        if !writes.is_empty() {
            self.store.transact(writes).await.map_err(conflict_on_condition)?;
        }
        Ok(())
    }
}

/// The order a listing entry names.
fn listed_order(item: &Item) -> Option<OrderId> {
    item.s(ORDER_ID).and_then(|id| id.parse().ok())
}

/// Groups of writes packed into transactions of at most [`MAX_TRANSACTION_OPS`], a group never
/// split (an order is anonymised with its listing entries, or not at all); none for none.
fn packed(groups: Vec<Vec<Write>>) -> Vec<Vec<Write>> {
    let mut out: Vec<Vec<Write>> = Vec::new();
    for group in groups {
        match out.last_mut() {
            Some(last) if last.len() + group.len() <= MAX_TRANSACTION_OPS => last.extend(group),
            _ => out.push(group),
        }
    }
    out
}
